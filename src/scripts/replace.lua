-- Replaces a task's spec (PUT), if its version is still the one the client saw
-- and its pending occurrence is still the one the caller planned from.
-- An edit that keeps the schedule keeps everything the schedule decided: the
-- due time, the state (a completed one-time task stays completed), the grid.
-- An edit that changes it first settles what the old schedule owed: its
-- overdue occurrences, as the caller planned them with the task's misfire
-- policy, run now (or are counted), then the new schedule takes over; a
-- completed task becomes active again. A paused task runs nothing: the new
-- schedule's first due time waits in 'held_due' for the resume.
-- KEYS: 1 task hash, 2 due, 3 ready, 4 events, 5 held hash
-- ARGV: 1 id, 2 expected version ('' = any), 3 now_ms, 4 mode (keep or
--       reschedule), 5 expected pending due ('' = none), 6 due_ms (-1: never),
--       7 immediate, 8 events maxlen, 9 skipped, 10 coalesced, 11 and 12 the
--       held token of a run-now occurrence around its scheduled ms (made in C,
--       occurrence.c: head .. sched .. tail), 13 N, then N scheduled ms of old
--       occurrences to run now, then the spec's fields as name, value pairs
-- Returns the new version, or an error reply ENOTFOUND / ESTALE / ERETRY.
local version = redis.call('HGET', KEYS[1], 'version')
if not version then return redis.error_reply('ENOTFOUND no such task') end
if ARGV[2] ~= '' and ARGV[2] ~= version then return redis.error_reply('ESTALE version is ' .. version) end
local f = redis.call('HMGET', KEYS[1], 'state', 'next', 'held_due')
-- include: fresh_sched.lua
local state = f[1]
local pending = f[2] or ''
if state == 'paused' then pending = f[3] or '' end
if ARGV[4] == 'reschedule' and pending ~= ARGV[5] then
  return redis.error_reply('ERETRY the task was dispatched meanwhile')
end
local nsettle = tonumber(ARGV[13])
redis.call('HSET', KEYS[1], unpack(ARGV, 14 + nsettle))
if ARGV[4] == 'reschedule' then
  local id = ARGV[1]
  for i = 1, nsettle do
    local sched = ARGV[13 + i]
    redis.call('XADD', KEYS[3], '*', 'task', id, 'sched', sched, 'attempt', 1, 'kind', 'schedule')
    redis.call('HINCRBY', KEYS[1], 'dispatched', 1)
    redis.call('HSET', KEYS[1], 'last_sched', sched)
  end
  if ARGV[9] ~= '0' then redis.call('HINCRBY', KEYS[1], 'misfires_skipped', ARGV[9]) end
  if ARGV[10] ~= '0' then redis.call('HINCRBY', KEYS[1], 'misfires_coalesced', ARGV[10]) end
  if state == 'completed' then state = 'active' end
  local next = ARGV[6]
  if ARGV[7] == '1' or next == '-1' then next = '' end
  redis.call('ZREM', KEYS[2], id)
  if ARGV[7] == '1' then
    local sched = fresh_sched(KEYS[1], KEYS[2], id) -- its own identity, as a trigger's
    if state == 'paused' then
      redis.call('HSET', KEYS[5], ARGV[11] .. sched .. ARGV[12], sched)
    else
      redis.call('XADD', KEYS[3], '*', 'task', id, 'sched', sched, 'attempt', 1, 'kind', 'now')
    end
  end
  if state == 'paused' then
    if next ~= '' then redis.call('HSET', KEYS[1], 'held_due', next) else redis.call('HDEL', KEYS[1], 'held_due') end
    next = ''
  elseif next ~= '' then
    redis.call('ZADD', KEYS[2], next, id)
  end
  redis.call('HSET', KEYS[1], 'state', state, 'next', next)
end
redis.call('HSET', KEYS[1], 'updated', ARGV[3])
local v = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[8], '*', 'type', 'task.updated', 'task', ARGV[1],
  'at', ARGV[3])
return v
