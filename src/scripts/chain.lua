-- Runs one chained occurrence of task ID (issue 16, "then"), at most once per
-- source run: the outbox of the source run's shard may hand the same entry
-- over again (a drainer died between this script and its XDEL), so the
-- shard's seen set remembers (task, source run) for a day, far longer than an
-- outbox entry waits. The occurrence takes a fresh instant, as a trigger
-- does (no two occurrences share an id); a paused task holds it until resume.
-- Times are Redis's (TIME).
-- KEYS: 1 task hash, 2 ready, 3 events, 4 due, 5 seen (sorted set), 6 held hash
-- ARGV: 1 id, 2 source run id, 3 source task id, 4 events maxlen, 5 and 6 the
--       held token around its scheduled ms (made in C, occurrence.c)
-- Returns {verdict, sched}: verdict is queued, held, duplicate or gone.
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'gone', 0} end
local member = ARGV[1] .. '|' .. ARGV[2]
if redis.call('ZSCORE', KEYS[5], member) then return {'duplicate', 0} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now - 86400000)
redis.call('ZADD', KEYS[5], now, member)
-- include: fresh_sched.lua
local sched = fresh_sched(KEYS[1], KEYS[4], ARGV[1])
-- The source, for the run record: on the task, by occurrence, so it survives a
-- requeue, a hand-back or a pause (complete.lua deletes it with the last attempt).
redis.call('HSET', KEYS[1], 'chained:' .. sched, ARGV[2])
local verdict = 'queued'
if state == 'paused' then
  verdict = 'held'
  redis.call('HSET', KEYS[6], ARGV[5] .. sched .. ARGV[6], sched)
else
  redis.call('XADD', KEYS[2], '*', 'task', ARGV[1], 'sched', sched, 'attempt', 1, 'kind', 'chained')
end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 'type', 'task.triggered', 'task', ARGV[1],
  'source', ARGV[2], 'at', now)
return {verdict, sched}
