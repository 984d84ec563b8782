-- Replaces a task's spec (PUT), if its version is still the one the client saw.
-- The state is kept (a paused task stays paused; a completed one becomes active
-- again, since it has a new schedule). The due time is recomputed by the caller.
-- KEYS: 1 task hash, 2 due, 3 ready, 4 events
-- ARGV: 1 id, 2 expected version ('' = any), 3 now_ms, 4 due_ms (-1: never), 5 immediate,
--       6 events maxlen, 7.. the spec's fields as name, value pairs
-- Returns the new version, or an error reply ENOTFOUND / ESTALE.
local version = redis.call('HGET', KEYS[1], 'version')
if not version then return redis.error_reply('ENOTFOUND no such task') end
if ARGV[2] ~= '' and ARGV[2] ~= version then return redis.error_reply('ESTALE version is ' .. version) end
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'completed' then state = 'active' end
local next = ARGV[4]
if ARGV[5] == '1' or next == '-1' or state == 'paused' then next = '' end
redis.call('HSET', KEYS[1], unpack(ARGV, 7))
redis.call('HSET', KEYS[1], 'state', state, 'updated', ARGV[3], 'next', next)
local v = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('ZREM', KEYS[2], ARGV[1])
if next ~= '' then redis.call('ZADD', KEYS[2], next, ARGV[1]) end
if ARGV[5] == '1' and state == 'active' then
  redis.call('XADD', KEYS[3], '*', 'task', ARGV[1], 'sched', ARGV[3], 'attempt', 1, 'kind', 'now')
end
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[6], '*', 'type', 'task.updated', 'task', ARGV[1],
  'at', ARGV[3])
return v
