-- Queues a backfill of a cron task (POST /tasks/{id}/backfill): each given
-- past occurrence runs once, as kind 'backfill', with the occurrence id of its
-- scheduled time. The task's backfill set (a sorted set of scheduled ms, in
-- the task's shard, removed with the task) remembers what was queued, so a
-- repeated range queues nothing twice; an occurrence that already has a run
-- (its first attempt's record) or is the task's pending due (the scheduler
-- will run it) is not queued either: one occurrence, one identity. A request
-- is queued in calls of a few hundred occurrences (store_backfill.c), each
-- atomic, so no call holds Redis for long; a request cut short between calls
-- is completed by its repeat, which queues only what is missing.
-- KEYS: 1 task hash, 2 ready, 3 backfill set, 4 runs hash, 5 events
-- ARGV: 1 id, 2 now_ms, 3 events maxlen, 4 expected version, 5 set cap,
--       6 and 7 a first attempt's run id around its scheduled ms (made in C,
--       occurrence.c: head .. sched .. tail), then the scheduled ms of each
--       occurrence, in time order
-- Returns {queued, already}, or an error reply ENOTFOUND, ECONFLICT (paused),
-- ESTALE (the task changed since the caller read it).
local t = redis.call('HMGET', KEYS[1], 'state', 'version', 'next')
if not t[1] then return redis.error_reply('ENOTFOUND no such task') end
if t[1] == 'paused' then return redis.error_reply('ECONFLICT the task is paused; resume it first') end
if t[2] ~= ARGV[4] then return redis.error_reply('ESTALE the task changed meanwhile') end
local pending = tonumber(t[3] or '')
local queued, already = 0, 0
for i = 8, #ARGV do
  local sched = ARGV[i]
  if (pending and tonumber(sched) >= pending)
      or redis.call('HEXISTS', KEYS[4], ARGV[6] .. sched .. ARGV[7]) == 1
      or redis.call('ZADD', KEYS[3], 'NX', sched, sched) == 0 then
    already = already + 1
  else
    redis.call('XADD', KEYS[2], '*', 'task', ARGV[1], 'sched', sched, 'attempt', 1, 'kind', 'backfill')
    queued = queued + 1
  end
end
-- Bounded: the oldest scheduled times go first past the cap.
redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -tonumber(ARGV[5]) - 1)
if queued > 0 then
  redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[3], '*', 'type', 'task.backfilled', 'task', ARGV[1],
    'at', ARGV[2])
end
return {queued, already}
