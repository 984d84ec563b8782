-- Stores a new task atomically (the body is lib/create_task.lua, shared with
-- create_batch.lua, so one task and a batch item are stored alike).
-- KEYS: 1 task hash, 2 tasks index, 3 due, 4 ready, 5 events
-- ARGV: 1 id, 2 now_ms, 3 due_ms (-1: never), 4 immediate (1: XADD now), 5 events maxlen,
--       6 max_ready (0: no limit), 7.. the spec's fields as name, value pairs (spec, name,
--       stype, cron, tz, policies; those at their defaults are left out)
-- Returns 1, or an error reply EEXIST / EFULL (the ready stream is at max_ready).
-- include: create_task.lua
local err = create_task({task = KEYS[1], tasks = KEYS[2], due = KEYS[3], ready = KEYS[4], events = KEYS[5]},
  {id = ARGV[1], now = ARGV[2], due = ARGV[3], immediate = ARGV[4], maxlen = ARGV[5],
   max_ready = ARGV[6]}, 7, #ARGV)
if err then return redis.error_reply(err) end
return 1
