-- Completes a run, in one step, only if this executor still owns the entry
-- with the delivery count it started with (a stale executor's late result is
-- dropped): XACK and XDEL the entry, record the run's outcome, clear the task's
-- overlap marker, schedule the next attempt (a retry token in the due set,
-- dispatched by a scheduler: never a sleep in the executor; in the held hash
-- while the task is paused) or record the occurrence as dead, update the
-- task's last run and counters, complete a one-time task, trim the run history
-- by count and age, and emit an event. A run record that is missing (trimmed
-- or lost) is rebuilt from the arguments, so the retry and the completion
-- still happen. Times, labels too, are Redis's (TIME).
-- KEYS: 1 ready, 2 task, 3 runs hash, 4 run index, 5 events, 6 due, 7 dead, 8 held
-- ARGV: 1 entry id, 2 group, 3 consumer, 4 delivery count at start, 5 run id,
--       6 status, 7 exit code ('' = none), 8 output, 9 reserved (''), 10 error
--       ('' = none), 11 runs kept, 12 events maxlen, 13 retry delay ms ('' = no
--       retry), 14 retry token, 15 dead (1: attempts used up), 16 history max
--       age ms, 17 http status ('' = none), 18 task id, 19 occurrence id,
--       20 sched ms, 21 attempt, 22 scheduled_at (RFC 3339)
-- Returns 1 if recorded, 0 if the entry was no longer ours.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
-- include: rfc3339.lua
local now_text = rfc3339(now)
local p = redis.call('XPENDING', KEYS[1], ARGV[2], ARGV[1], ARGV[1], 1)
if #p == 0 or p[1][2] ~= ARGV[3] or p[1][4] ~= tonumber(ARGV[4]) then return 0 end
redis.call('XACK', KEYS[1], ARGV[2], ARGV[1])
redis.call('XDEL', KEYS[1], ARGV[1])
local task = redis.call('HMGET', KEYS[2], 'state', 'next', 'inflight')
if not task[1] then return 1 end -- the task was deleted meanwhile
if task[3] == ARGV[1] then
  redis.call('HDEL', KEYS[2], 'inflight', 'inflight_at', 'inflight_run')
end
local raw = redis.call('HGET', KEYS[3], ARGV[5])
local run
if raw then
  run = cjson.decode(raw)
else
  run = {id = ARGV[5], task_id = ARGV[18], occurrence_id = ARGV[19], attempt = tonumber(ARGV[21]),
    scheduled_at = ARGV[22], started_at = cjson.null, executor = ARGV[3]}
  redis.call('ZADD', KEYS[4], now, ARGV[5])
end
run.status = ARGV[6]
run.finished_at = now_text
run.output = ARGV[8]
if ARGV[7] ~= '' then run.exit_code = tonumber(ARGV[7]) end
if ARGV[10] ~= '' then run.error = ARGV[10] end
if ARGV[17] ~= '' then run.http_status = tonumber(ARGV[17]) end
local retrying = ARGV[13] ~= ''
if retrying then
  local due = now + tonumber(ARGV[13])
  if task[1] == 'paused' then
    redis.call('HSET', KEYS[8], ARGV[14], due)
  else
    redis.call('ZADD', KEYS[6], due, ARGV[14])
  end
  run.next_attempt_in_ms = tonumber(ARGV[13])
end
if ARGV[15] == '1' then
  redis.call('XADD', KEYS[7], 'MAXLEN', '~', 10000, '*', 'task', ARGV[18], 'occurrence',
    ARGV[19], 'sched', ARGV[20], 'attempts', ARGV[21],
    'error', run.error or ('exit code ' .. tostring(ARGV[7])), 'at', now)
  run.dead = true
end
redis.call('HSET', KEYS[3], ARGV[5], cjson.encode(run))
if ARGV[6] == 'succeeded' then
  redis.call('HINCRBY', KEYS[2], 'runs_succeeded', 1)
else
  redis.call('HINCRBY', KEYS[2], 'runs_failed', 1)
end
redis.call('HSET', KEYS[2], 'last_run', cjson.encode({id = ARGV[5], status = ARGV[6],
  scheduled_at = run.scheduled_at, finished_at = now_text, attempt = run.attempt}))
if task[2] == '' and task[1] == 'active' and not retrying then
  redis.call('HSET', KEYS[2], 'state', 'completed', 'completed_at', now)
end
local excess = redis.call('ZCARD', KEYS[4]) - tonumber(ARGV[11])
local cutoff = now - tonumber(ARGV[16])
local oldest = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
local old = {}
if excess > 0 then
  old = redis.call('ZRANGE', KEYS[4], 0, excess - 1)
end
if oldest[2] and tonumber(oldest[2]) < cutoff then
  local aged = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', cutoff)
  if #aged > #old then old = aged end
end
for _, id in ipairs(old) do
  local rec = redis.call('HGET', KEYS[3], id)
  if not rec or cjson.decode(rec).status ~= 'running' then
    redis.call('HDEL', KEYS[3], id)
    redis.call('ZREM', KEYS[4], id)
  end
end
redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[12], '*', 'type', 'run.finished', 'task',
  ARGV[18], 'run', ARGV[5], 'status', ARGV[6], 'at', now)
return 1
