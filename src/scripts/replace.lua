-- Replaces a task's spec (PUT), if its version is still the one the client saw.
-- The state is kept (a paused task stays paused; a completed one becomes active
-- again, since it has a new schedule). The due time is recomputed by the caller.
-- KEYS: 1 task hash, 2 due, 3 ready, 4 events
-- ARGV: 1 id, 2 expected version ('' = any), 3 spec, 4 name, 5 kind, 6 cron, 7 tz, 8 now_ms,
--       9 due_ms (-1: never), 10 immediate, 11 events maxlen
-- Returns the new version, or an error reply ENOTFOUND / ESTALE.
local version = redis.call('HGET', KEYS[1], 'version')
if not version then return redis.error_reply('ENOTFOUND no such task') end
if ARGV[2] ~= '' and ARGV[2] ~= version then return redis.error_reply('ESTALE version is ' .. version) end
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'completed' then state = 'active' end
local next = ARGV[9]
if ARGV[10] == '1' or next == '-1' or state == 'paused' then next = '' end
redis.call('HSET', KEYS[1], 'spec', ARGV[3], 'name', ARGV[4], 'kind', ARGV[5], 'cron', ARGV[6],
  'tz', ARGV[7], 'state', state, 'updated', ARGV[8], 'next', next)
local v = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('ZREM', KEYS[2], ARGV[1])
if next ~= '' then redis.call('ZADD', KEYS[2], next, ARGV[1]) end
if ARGV[10] == '1' and state == 'active' then
  redis.call('XADD', KEYS[3], '*', 'task', ARGV[1], 'sched', ARGV[8], 'attempt', 1, 'kind', 'now')
end
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[11], '*', 'type', 'task.updated', 'task', ARGV[1],
  'at', ARGV[8])
return v
