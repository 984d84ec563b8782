-- Starts runs (DESIGN.md, "Execution"), a batch of entries of one shard in one
-- call: for each, checks that this executor still owns the stream entry at
-- the delivery count it received it with, then records the run as running.
-- An earlier attempt of the same occurrence still marked running belonged to
-- an executor that died: it is closed as failed. An entry delivered too many
-- times is dead-lettered instead of run, a deleted task's entry is dropped,
-- and a paused task's entry is held (moved to the task's held hash, resumed
-- later): nothing of a paused task starts.
-- The overlap policy is applied here, where it can be made atomic: the task
-- hash's inflight fields name the entry running now (forbid and replace only),
-- refreshed by every heartbeat; a marker older than the recovery timeout
-- belonged to a dead executor and is ignored, so no task stays busy forever.
-- Every time compared or stored, labels too, is Redis's (TIME): hosts' clocks
-- disagree. The ids are made by the caller (src/occurrence.c), never here.
-- KEYS: 1 ready, 2 dead, 3 events, then per entry i (0-based) at 4 + 4i:
--       task, runs hash, run index, held hash
-- ARGV: 1 group, 2 consumer, 3 max deliveries, 4 events maxlen, 5 stale_ms
--       (the recovery timeout), 6 and 7 the lowest and the highest entry id
--       of the batch (one XPENDING reads every fence, lib/fences.lua), then
--       per entry a block: entry id, task id,
--       sched_ms, delivery count expected, attempt, kind, occurrence id, run
--       id, held token, the running record after its opening brace without
--       started_ms and lateness_ms (encoded by src/run_record.c), '1' if the
--       caller holds a slot of the task's concurrency key ('' otherwise), K,
--       then K run ids of earlier attempts to close if still running
-- Returns, per entry, {verdict, attempt, spec or false, deliveries[, now,
-- slo, late]} (now: the start's time, when a run record was written; slo: the
-- task's slo_ms the run was judged against, 0 if not judged, which retries
-- are not, their lateness including their backoff; late: 1 if it started
-- later than that); verdict is run, stale, gone, dead, skipped, held or
-- gated. gated (nothing changed: the task has a concurrency key and the caller
-- holds no slot of it, which it takes in the key's own hash slot, conc.lua)
-- adds two elements, the key and its limit: {gated, attempt, false,
-- deliveries, 0, 0, 0, key, limit}.
-- A chained run's record names the run that chained it (source_run, kept on
-- the task by occurrence: 'chained:<sched>').
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
-- include: int.lua
local now_s = int(now)
local group, consumer = ARGV[1], ARGV[2]
local max_deliveries, stale_ms = tonumber(ARGV[3]), tonumber(ARGV[5])
-- include: fences.lua
local owned = fences(KEYS[1], group, consumer, ARGV[6], ARGV[7], (#KEYS - 3) / 4 + 256)

-- Closes run RUN_ID of the task (keys K) if it is still marked running: it
-- ended as failed, WHY.
local function close_run(k, run_id, why)
  local raw = redis.call('HGET', k.runs, run_id)
  if not raw then return end
  local r = cjson.decode(raw)
  if r.status ~= 'running' then return end
  r.status = 'failed'
  r.error = why
  r.finished_ms = now
  redis.call('HSET', k.runs, run_id, cjson.encode(r))
  redis.call('HINCRBY', k.task, 'runs_failed', 1)
end

local function drop_entry(id)
  redis.call('XACK', KEYS[1], group, id)
  redis.call('XDEL', KEYS[1], id)
end

-- A one-time task whose occurrence ended without a run has nothing left.
local function complete_if_done(k)
  local s = redis.call('HMGET', k.task, 'state', 'next')
  if s[1] == 'active' and s[2] == '' then
    redis.call('HSET', k.task, 'state', 'completed', 'completed_at', now_s)
  end
end

-- Applies the overlap policy to entry A; returns the verdict.
local function overlap(k, a, policy)
  if policy ~= 'forbid' and policy ~= 'replace' then return 'run' end
  local cur = redis.call('HMGET', k.task, 'inflight', 'inflight_at', 'inflight_run')
  local busy = cur[1] and cur[1] ~= '' and cur[1] ~= a.id and tonumber(cur[2]) > now - stale_ms
  if busy and policy == 'forbid' then
    drop_entry(a.id)
    redis.call('HINCRBY', k.task, 'overlap_skipped', 1)
    complete_if_done(k)
    return 'skipped'
  elseif busy then
    -- replace: take the running entry away; its executor's next heartbeat finds
    -- it gone, kills the action, and its late result is dropped.
    redis.call('XACK', KEYS[1], group, cur[1])
    redis.call('XDEL', KEYS[1], cur[1])
    close_run(k, cur[3], 'replaced by a newer occurrence (overlap: replace)')
  end
  redis.call('HSET', k.task, 'inflight', a.id, 'inflight_at', now_s, 'inflight_run', a.run_id)
  return 'run'
end

-- Starts entry A (keys K); returns its reply.
local function start_one(k, a)
  local deliveries = owned(a.id)
  if deliveries ~= a.deliveries then return {'stale', 0, false, 0} end
  local chained = a.kind == 'chained' or a.kind == 'retry'
  local task = redis.call('HMGET', k.task, 'spec', 'state', 'overlap', 'slo_ms', 'conc_key',
    'conc_limit', chained and 'chained:' .. a.sched or 'state')
  local spec = task[1]
  if not spec then
    drop_entry(a.id)
    return {'gone', a.attempt, false, deliveries}
  end
  -- Earlier attempts still marked running lost their executor.
  for _, id in ipairs(a.earlier) do
    close_run(k, id, 'the executor running this attempt was lost')
  end
  if task[2] == 'paused' then
    drop_entry(a.id)
    redis.call('HSET', k.held, a.held_token, a.sched)
    return {'held', a.attempt, false, deliveries}
  end
  if deliveries > max_deliveries then
    -- This delivery does not run, so it gets no run record (a re-drive runs as
    -- this attempt) and the dead letter counts only the attempts that ran.
    drop_entry(a.id)
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', 10000, '*', 'task', a.task, 'occurrence', a.occ,
      'sched', a.sched, 'kind', a.kind, 'attempts', a.attempt - 1,
      'error', 'delivered ' .. deliveries .. ' times without completing; dead-lettered', 'at', now_s)
    complete_if_done(k)
    return {'dead', a.attempt, false, deliveries}
  end
  if (task[5] or '') ~= '' and a.slot ~= '1' then -- concurrency (issue 16)
    return {'gated', a.attempt, false, deliveries, 0, 0, 0, task[5], tonumber(task[6]) or 1}
  end
  local lateness = now - tonumber(a.sched)
  local verdict = overlap(k, a, task[3])
  local extra, slo, late = '', tonumber(task[4] or '') or 0, 0
  if verdict == 'run' and slo > 0 and a.kind ~= 'retry' then -- slo (issue 16)
    late = lateness > slo and 1 or 0
    extra = '"slo_ms":' .. slo .. ',"late":' .. (late == 1 and 'true' or 'false') .. ','
    if late == 1 then redis.call('HINCRBY', k.task, 'runs_late', 1) end
  else
    slo = 0
  end
  if chained and task[7] then -- chain (issue 16): the run that chained this one
    extra = extra .. '"source_run":' .. cjson.encode(task[7]) .. ','
  end
  local record = '{"started_ms":' .. now_s .. ',"lateness_ms":' .. int(lateness) .. ',' .. extra .. a.record
  if verdict == 'skipped' then
    local run = cjson.decode(record)
    run.status = 'skipped'
    run.finished_ms = now
    run.error = 'a run of this task was still in flight (overlap: forbid)'
    record = cjson.encode(run)
  end
  redis.call('HSET', k.runs, a.run_id, record)
  redis.call('ZADD', k.runidx, now_s, a.run_id)
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 'type', 'run.started', 'task', a.task,
    'run', a.run_id, 'at', now_s)
  if verdict ~= 'run' then spec = false end
  return {verdict, a.attempt, spec, deliveries, now, slo, late}
end

local out = {}
local i, n = 8, 0
while i <= #ARGV do
  local b = 4 + 4 * n
  local k = {task = KEYS[b], runs = KEYS[b + 1], runidx = KEYS[b + 2], held = KEYS[b + 3]}
  local a = {id = ARGV[i], task = ARGV[i + 1], sched = ARGV[i + 2], deliveries = tonumber(ARGV[i + 3]),
    attempt = tonumber(ARGV[i + 4]), kind = ARGV[i + 5], occ = ARGV[i + 6], run_id = ARGV[i + 7],
    held_token = ARGV[i + 8], record = ARGV[i + 9], slot = ARGV[i + 10], earlier = {}}
  local count = tonumber(ARGV[i + 11])
  for j = 1, count do a.earlier[j] = ARGV[i + 11 + j] end
  i = i + 12 + count
  n = n + 1
  out[n] = start_one(k, a)
end
return out
