-- Completes runs, a batch of one shard in one call; each only if this
-- executor still owns its entry with the delivery count it started with (a
-- stale executor's late result is dropped): XACK and XDEL the entry, store the
-- run's final record (encoded by the caller, src/run_record.c; this script
-- adds only Redis's finish time), clear the task's overlap marker, schedule
-- the next attempt (a retry token in the due set, dispatched by a scheduler:
-- never a sleep in the executor; in the held hash while the task is paused) or
-- record the occurrence as dead, update the task's last run and counters,
-- complete a one-time task, trim the run history when it is over the kept
-- count (by count, and by age while at it; the scheduler's sweeper trims by
-- age too; looked at once the task has counted half that many runs), and
-- emit an event. A run record that is missing (trimmed or lost)
-- is indexed again, so the retry and the completion still happen. Times,
-- labels too, are Redis's (TIME).
-- A final attempt of a task with chained tasks ("then", issue 16) adds one
-- entry per chained task to the shard's outbox in this same step, so a crash
-- after it loses none; a scheduler drains the outbox (src/chain.c). A chained
-- run's record keeps the run that chained it (source_run, from the task's
-- 'chained:<sched>' field, deleted with the last attempt).
-- KEYS: 1 ready, 2 events, 3 due, 4 dead, 5 outbox, then per run i (0-based)
--       at 6 + 4i: task, runs hash, run index, held hash
-- ARGV: 1 group, 2 consumer, 3 runs kept, 4 events maxlen, 5 history max age
--       ms, 6 and 7 the lowest and the highest entry id of the batch (one
--       XPENDING reads every fence, lib/fences.lua), then per run a block of 16: entry id, delivery count at start, run
--       id, status, exit code ('' = none), the record after its opening brace
--       without finished_ms, the task's last_run likewise, error ('' = none),
--       retry delay ms ('' = no retry), retry token, dead (1: attempts used
--       up), task id, occurrence id, sched ms, attempt, kind
-- Returns, per run, 1 if recorded, 0 if the entry was no longer ours.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
-- include: int.lua
local now_s = int(now)
local group, consumer = ARGV[1], ARGV[2]
local kept, max_age = tonumber(ARGV[3]), tonumber(ARGV[5])
local stamp = '{"finished_ms":' .. now_s .. ','
-- include: fences.lua
local owned = fences(KEYS[1], group, consumer, ARGV[6], ARGV[7], (#ARGV - 7) / 16 + 256)

-- Trims the run history of keys K when it is over the kept count.
local function trim(k)
  local excess = redis.call('ZCARD', k.runidx) - kept
  if excess <= 0 then return end
  local old = redis.call('ZRANGE', k.runidx, 0, excess - 1)
  local aged = redis.call('ZRANGE', k.runidx, '-inf', now - max_age, 'BYSCORE')
  if #aged > #old then old = aged end
  for _, id in ipairs(old) do
    local rec = redis.call('HGET', k.runs, id)
    -- A record still running is kept (cjson writes it compact; a string value
    -- can never hold this text unescaped).
    if not rec or not string.find(rec, '"status":"running"', 1, true) then
      redis.call('HDEL', k.runs, id)
      redis.call('ZREM', k.runidx, id)
    end
  end
end

-- Completes run A (keys K); returns 1 or 0.
local function complete_one(k, a)
  if owned(a.id) ~= a.deliveries then return 0 end
  redis.call('XACK', KEYS[1], group, a.id)
  redis.call('XDEL', KEYS[1], a.id)
  -- One read of the task: its state, next due, overlap marker, chained tasks,
  -- and (a chained run or its retry) the run that chained it.
  local chained = a.kind == 'chained' or a.kind == 'retry'
  local task = redis.call('HMGET', k.task, 'state', 'next', 'inflight', 'then',
    chained and 'chained:' .. a.sched or 'state', 'runs_succeeded', 'runs_failed', 'overlap_skipped')
  if not task[1] then return 1 end -- the task was deleted meanwhile
  if task[3] == a.id then
    redis.call('HDEL', k.task, 'inflight', 'inflight_at', 'inflight_run')
  end
  local retrying = a.retry_ms ~= ''
  if retrying then
    local due = now + tonumber(a.retry_ms)
    if task[1] == 'paused' then
      redis.call('HSET', k.held, a.token, due)
    else
      redis.call('ZADD', KEYS[3], due, a.token)
    end
  end
  if a.dead == '1' then
    local why = a.error ~= '' and a.error or ('exit code ' .. a.exit_code)
    redis.call('XADD', KEYS[4], 'MAXLEN', '~', 10000, '*', 'task', a.task, 'occurrence', a.occ,
      'sched', a.sched, 'attempts', a.attempt, 'error', why, 'at', now_s)
  end
  local record, source = a.record, chained and task[5]
  if source then record = '"source_run":' .. cjson.encode(source) .. ',' .. record end
  if redis.call('HSET', k.runs, a.run_id, stamp .. record) == 1 then
    redis.call('ZADD', k.runidx, now_s, a.run_id) -- its record was gone
  end
  -- The counter is read above and written with the last run in one HSET (the
  -- script is atomic, so this is the HINCRBY it replaces).
  local succeeded, failed = tonumber(task[6]) or 0, tonumber(task[7]) or 0
  local counter, count = 'runs_failed', failed + 1
  if a.status == 'succeeded' then counter, count, succeeded = 'runs_succeeded', succeeded + 1, succeeded + 1
  else failed = count end
  if task[2] == '' and task[1] == 'active' and not retrying then
    redis.call('HSET', k.task, 'last_run', stamp .. a.last, counter, int(count), 'state', 'completed', 'completed_at', now_s)
  else
    redis.call('HSET', k.task, 'last_run', stamp .. a.last, counter, int(count))
  end
  if not retrying then -- chain (issue 16): the run is final; queue its chained tasks
    if source then redis.call('HDEL', k.task, 'chained:' .. a.sched) end
    local targets = task[4]
    for _, c in ipairs(targets and targets ~= '' and cjson.decode(targets) or {}) do
      if c.on == 'always' or (c.on == 'success') == (a.status == 'succeeded') then
        redis.call('XADD', KEYS[5], '*', 'task', c.task, 'source', a.run_id, 'source_task', a.task)
      end
    end
  end
  -- The history holds the records of the runs counted (finished or skipped)
  -- and of those still running. While the counted ones are under half the
  -- kept count it cannot need trimming unless one task has that many runs at
  -- once (then a later completion trims it), so the common task with a few
  -- runs costs no ZCARD here.
  if 2 * (succeeded + failed + (tonumber(task[8]) or 0)) >= kept then trim(k) end
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'type', 'run.finished', 'task', a.task,
    'run', a.run_id, 'status', a.status, 'at', now_s)
  return 1
end

local out = {}
for n = 0, (#ARGV - 7) / 16 - 1 do
  local b, i = 6 + 4 * n, 8 + 16 * n
  local k = {task = KEYS[b], runs = KEYS[b + 1], runidx = KEYS[b + 2], held = KEYS[b + 3]}
  local a = {id = ARGV[i], deliveries = tonumber(ARGV[i + 1]), run_id = ARGV[i + 2], status = ARGV[i + 3],
    exit_code = ARGV[i + 4], record = ARGV[i + 5], last = ARGV[i + 6], error = ARGV[i + 7],
    retry_ms = ARGV[i + 8], token = ARGV[i + 9], dead = ARGV[i + 10], task = ARGV[i + 11],
    occ = ARGV[i + 12], sched = ARGV[i + 13], attempt = ARGV[i + 14], kind = ARGV[i + 15]}
  out[n + 1] = complete_one(k, a)
end
return out
