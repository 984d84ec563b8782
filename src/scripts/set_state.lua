-- Pauses or resumes a task, if its version is still the one the caller read.
-- Pausing takes its pending occurrence off the due index and keeps its score
-- in the task ('held_due'); retry tokens and waiting entries of a paused task
-- are moved to its held hash by the dispatch and start scripts. Resuming puts
-- all of them back at their own due times, so an occurrence that fell due while
-- the task was paused is then planned by the scheduler like any late one: the
-- task's misfire policy decides. A task with no pending occurrence (legacy
-- data) resumes at DUE, computed by the caller from the spec.
-- KEYS: 1 task hash, 2 due, 3 events, 4 held hash
-- ARGV: 1 id, 2 expected version, 3 new state, 4 due_ms (-1: never), 5 now_ms, 6 events maxlen
-- Returns the new version, or an error reply ENOTFOUND / ESTALE / ECONFLICT.
local version = redis.call('HGET', KEYS[1], 'version')
if not version then return redis.error_reply('ENOTFOUND no such task') end
if ARGV[2] ~= version then return redis.error_reply('ESTALE version is ' .. version) end
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'completed' then return redis.error_reply('ECONFLICT the task has completed') end
if state == ARGV[3] then return tonumber(version) end
local next = ''
if ARGV[3] == 'paused' then
  local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
  if score then redis.call('HSET', KEYS[1], 'held_due', score) end
else
  local held_due = redis.call('HGET', KEYS[1], 'held_due')
  if held_due then
    next = held_due
  elseif ARGV[4] ~= '-1' then
    next = ARGV[4]
  end
  if next ~= '' then redis.call('ZADD', KEYS[2], next, ARGV[1]) end
  redis.call('HDEL', KEYS[1], 'held_due')
  local held = redis.call('HGETALL', KEYS[4])
  for i = 1, #held, 2 do redis.call('ZADD', KEYS[2], held[i + 1], held[i]) end
  redis.call('DEL', KEYS[4])
end
redis.call('HSET', KEYS[1], 'state', ARGV[3], 'next', next, 'updated', ARGV[5])
local v = redis.call('HINCRBY', KEYS[1], 'version', 1)
local kind = 'task.resumed'
if ARGV[3] == 'paused' then kind = 'task.paused' end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[6], '*', 'type', kind, 'task', ARGV[1], 'at', ARGV[5])
return v
