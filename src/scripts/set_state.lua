-- Pauses or resumes a task, if its version is still the one the caller read.
-- Pausing takes it off the due index; resuming puts it back at DUE (computed by
-- the caller from the spec and the current time).
-- KEYS: 1 task hash, 2 due, 3 events
-- ARGV: 1 id, 2 expected version, 3 new state, 4 due_ms (-1: never), 5 now_ms, 6 events maxlen
-- Returns the new version, or an error reply ENOTFOUND / ESTALE / ECONFLICT.
local version = redis.call('HGET', KEYS[1], 'version')
if not version then return redis.error_reply('ENOTFOUND no such task') end
if ARGV[2] ~= version then return redis.error_reply('ESTALE version is ' .. version) end
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'completed' then return redis.error_reply('ECONFLICT the task has completed') end
if state == ARGV[3] then return tonumber(version) end
local next = ''
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[3] == 'active' and ARGV[4] ~= '-1' then
  next = ARGV[4]
  redis.call('ZADD', KEYS[2], next, ARGV[1])
end
redis.call('HSET', KEYS[1], 'state', ARGV[3], 'next', next, 'updated', ARGV[5])
local v = redis.call('HINCRBY', KEYS[1], 'version', 1)
local kind = 'task.resumed'
if ARGV[3] == 'paused' then kind = 'task.paused' end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[6], '*', 'type', kind, 'task', ARGV[1], 'at', ARGV[5])
return v
