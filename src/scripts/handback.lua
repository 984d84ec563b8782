-- Hands a started run back on shutdown (DESIGN.md, "Execution"): a shutdown is
-- not the action's failure. Only if this executor still owns the entry with
-- the delivery count it started with: the run record becomes "interrupted"
-- (not counted as failed), the task's overlap marker is cleared if it names
-- the entry, the entry is acknowledged and deleted, and a fresh entry of the
-- same occurrence is added with the next attempt number, so another executor
-- runs it at once.
-- KEYS: 1 ready, 2 task, 3 runs hash, 4 events
-- ARGV: 1 entry id, 2 group, 3 consumer, 4 delivery count at start, 5 run id,
--       6 task id, 7 sched ms, 8 next attempt, 9 kind, 10 error, 11 events
--       maxlen, 12 output
-- Returns 1 if handed back, 0 if the entry was no longer ours.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local p = redis.call('XPENDING', KEYS[1], ARGV[2], ARGV[1], ARGV[1], 1)
if #p == 0 or p[1][2] ~= ARGV[3] or p[1][4] ~= tonumber(ARGV[4]) then return 0 end
redis.call('XACK', KEYS[1], ARGV[2], ARGV[1])
redis.call('XDEL', KEYS[1], ARGV[1])
if redis.call('HGET', KEYS[2], 'inflight') == ARGV[1] then
  redis.call('HDEL', KEYS[2], 'inflight', 'inflight_at', 'inflight_run')
end
local raw = redis.call('HGET', KEYS[3], ARGV[5])
if raw then
  local run = cjson.decode(raw)
  run.status = 'interrupted'
  run.error = ARGV[10]
  run.finished_ms = now
  run.output = ARGV[12]
  redis.call('HSET', KEYS[3], ARGV[5], cjson.encode(run))
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('XADD', KEYS[1], '*', 'task', ARGV[6], 'sched', ARGV[7], 'attempt', ARGV[8], 'kind', ARGV[9])
end
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[11], '*', 'type', 'run.finished', 'task', ARGV[6],
  'run', ARGV[5], 'status', 'interrupted', 'at', now)
return 1
