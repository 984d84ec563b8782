-- Completes a run, in one step, only if this executor still owns the entry (a
-- stale executor's late result is dropped): XACK and XDEL the entry, record the
-- run's outcome, clear the task's overlap marker, schedule the next attempt
-- (a retry token in the due set, dispatched by a scheduler: never a sleep in
-- the executor) or record the occurrence as dead, update the task's last run
-- and counters, complete a one-time task, trim the run history by count and
-- age, and emit an event.
-- KEYS: 1 ready, 2 task, 3 runs hash, 4 run index, 5 events, 6 due, 7 dead
-- ARGV: 1 entry id, 2 group, 3 consumer, 4 run id, 5 status, 6 exit code ('' = none),
--       7 output, 8 finished_at, 9 error ('' = none), 10 runs kept, 11 now_ms,
--       12 events maxlen, 13 retry at ms ('' = no retry), 14 retry token,
--       15 dead (1: attempts used up), 16 history max age ms, 17 http status ('' = none)
-- Returns 1 if recorded, 0 if the entry was no longer ours.
local p = redis.call('XPENDING', KEYS[1], ARGV[2], ARGV[1], ARGV[1], 1)
if #p == 0 or p[1][2] ~= ARGV[3] then return 0 end
redis.call('XACK', KEYS[1], ARGV[2], ARGV[1])
redis.call('XDEL', KEYS[1], ARGV[1])
local t = redis.call('HMGET', KEYS[2], 'state', 'next', 'inflight')
if not t[1] then return 1 end -- the task was deleted meanwhile
if t[3] == ARGV[1] then
  redis.call('HDEL', KEYS[2], 'inflight', 'inflight_at', 'inflight_run')
end
local raw = redis.call('HGET', KEYS[3], ARGV[4])
if not raw then return 1 end -- the record went with its task (deleted and re-created)
local run = cjson.decode(raw)
run.status = ARGV[5]
run.finished_at = ARGV[8]
run.output = ARGV[7]
if ARGV[6] ~= '' then run.exit_code = tonumber(ARGV[6]) end
if ARGV[9] ~= '' then run.error = ARGV[9] end
if ARGV[17] ~= '' then run.http_status = tonumber(ARGV[17]) end
local retrying = ARGV[13] ~= ''
if retrying then
  redis.call('ZADD', KEYS[6], ARGV[13], ARGV[14])
  run.next_attempt_in_ms = tonumber(ARGV[13]) - tonumber(ARGV[11])
end
if ARGV[15] == '1' then
  redis.call('XADD', KEYS[7], 'MAXLEN', '~', 10000, '*', 'task', run.task_id, 'occurrence',
    run.occurrence_id, 'sched', string.match(run.occurrence_id, ':(%d+)$'), 'attempts', run.attempt,
    'error', run.error or ('exit code ' .. tostring(ARGV[6])), 'at', ARGV[11])
  run.dead = true
end
redis.call('HSET', KEYS[3], ARGV[4], cjson.encode(run))
if ARGV[5] == 'succeeded' then
  redis.call('HINCRBY', KEYS[2], 'runs_succeeded', 1)
else
  redis.call('HINCRBY', KEYS[2], 'runs_failed', 1)
end
redis.call('HSET', KEYS[2], 'last_run', cjson.encode({id = ARGV[4], status = ARGV[5],
  scheduled_at = run.scheduled_at, finished_at = ARGV[8], attempt = run.attempt}))
if t[2] == '' and t[1] == 'active' and not retrying then
  redis.call('HSET', KEYS[2], 'state', 'completed')
end
-- Trim the history to the newest N runs and to the max age, oldest first, but
-- never a run still running: its completion must find its record. Most
-- completions have nothing to trim: two O(1) looks decide that.
local excess = redis.call('ZCARD', KEYS[4]) - tonumber(ARGV[10])
local cutoff = tonumber(ARGV[11]) - tonumber(ARGV[16])
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
  run.task_id or '', 'run', ARGV[4], 'status', ARGV[5], 'at', ARGV[11])
return 1
