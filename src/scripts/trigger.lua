-- Runs one occurrence of a task now (manual trigger), unless it is paused.
-- Every occurrence has its own identity (task id + scheduled ms): a trigger
-- takes Redis's time, moved on by a millisecond at a time past the task's last
-- manual or dispatched occurrence and its pending due time, so two triggers in
-- one millisecond, or a trigger at the instant of a scheduled fire, never
-- share an occurrence id, run id or Idempotency-Key.
-- KEYS: 1 task hash, 2 ready, 3 events, 4 due
-- ARGV: 1 id, 2 now_ms (for the event), 3 events maxlen
-- Returns the occurrence's scheduled ms, or an error reply ENOTFOUND / ECONFLICT.
local t = redis.call('HMGET', KEYS[1], 'state', 'last_sched', 'manual_last')
if not t[1] then return redis.error_reply('ENOTFOUND no such task') end
if t[1] == 'paused' then return redis.error_reply('ECONFLICT the task is paused; resume it first') end
local time = redis.call('TIME')
local sched = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local floor = math.max(tonumber(t[2]) or 0, tonumber(t[3]) or 0)
if sched <= floor then sched = floor + 1 end
if tonumber(redis.call('ZSCORE', KEYS[4], ARGV[1]) or -1) == sched then sched = sched + 1 end
redis.call('HSET', KEYS[1], 'manual_last', sched)
redis.call('XADD', KEYS[2], '*', 'task', ARGV[1], 'sched', sched, 'attempt', 1, 'kind', 'manual')
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'type', 'task.triggered', 'task', ARGV[1],
  'at', ARGV[2])
return sched
