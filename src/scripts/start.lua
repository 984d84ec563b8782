-- Starts a run (DESIGN.md, "Execution"): checks that this executor still owns
-- the stream entry, then records the run as running. An earlier attempt of the
-- same occurrence still marked running belonged to an executor that died: it
-- is closed as failed. An entry delivered too many times is dead-lettered
-- instead of run, a deleted task's entry is dropped, and a paused task's entry
-- is held (moved to the task's held hash, resumed later): nothing of a paused
-- task starts.
-- The overlap policy is applied here, where it can be made atomic: the task
-- hash's inflight fields name the entry running now (forbid and replace only),
-- refreshed by every heartbeat; a marker older than the recovery timeout
-- belonged to a dead executor and is ignored, so no task stays busy forever.
-- Every time compared or stored, labels too, is Redis's (TIME): hosts' clocks
-- disagree.
-- KEYS: 1 ready, 2 task, 3 runs hash, 4 run index, 5 dead, 6 events, 7 held hash
-- ARGV: 1 entry id, 2 group, 3 consumer, 4 task id, 5 sched_ms, 6 base attempt,
--       7 scheduled_at (RFC 3339), 8 reserved (''), 9 held token prefix
--       ("retry:TASK:SCHED:"), 10 max deliveries, 11 events maxlen, 12 kind,
--       13 stale_ms (the recovery timeout)
-- Returns {verdict, attempt, spec or nil, deliveries}; verdict is run, stale,
-- gone, dead, skipped or held.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
-- include: rfc3339.lua
local now_text = rfc3339(now)

-- Closes run RUN_ID if it is still marked running: it ended as failed, WHY.
local function close_run(run_id, why)
  local raw = redis.call('HGET', KEYS[3], run_id)
  if not raw then return end
  local r = cjson.decode(raw)
  if r.status ~= 'running' then return end
  r.status = 'failed'
  r.error = why
  r.finished_at = now_text
  redis.call('HSET', KEYS[3], run_id, cjson.encode(r))
  redis.call('HINCRBY', KEYS[2], 'runs_failed', 1)
end

local function drop_entry()
  redis.call('XACK', KEYS[1], ARGV[2], ARGV[1])
  redis.call('XDEL', KEYS[1], ARGV[1])
end

-- A one-time task whose occurrence ended without a run has nothing left.
local function complete_if_done()
  local s = redis.call('HMGET', KEYS[2], 'state', 'next')
  if s[1] == 'active' and s[2] == '' then
    redis.call('HSET', KEYS[2], 'state', 'completed', 'completed_at', now)
  end
end

local p = redis.call('XPENDING', KEYS[1], ARGV[2], ARGV[1], ARGV[1], 1)
if #p == 0 or p[1][2] ~= ARGV[3] then return {'stale', 0} end
local deliveries = p[1][4]
local attempt = tonumber(ARGV[6]) + deliveries - 1
local occ = ARGV[4] .. ':' .. ARGV[5]
local run_id = occ .. ':' .. attempt
local task = redis.call('HMGET', KEYS[2], 'spec', 'state', 'overlap')
local spec = task[1]
if not spec then
  drop_entry()
  return {'gone', attempt, false, deliveries}
end
-- Earlier attempts still marked running lost their executor. Attempt numbers
-- can be skipped (a delivery that never started), so close every one.
for a = attempt - 1, math.max(1, attempt - tonumber(ARGV[10]) - 1), -1 do
  close_run(occ .. ':' .. a, 'the executor running this attempt was lost')
end
if task[2] == 'paused' then
  drop_entry()
  redis.call('HSET', KEYS[7], ARGV[9] .. attempt .. ':' .. ARGV[12], ARGV[5])
  return {'held', attempt, false, deliveries}
end
if deliveries > tonumber(ARGV[10]) then
  -- This delivery does not run, so it gets no run record (a re-drive runs as
  -- this attempt) and the dead letter counts only the attempts that ran.
  drop_entry()
  redis.call('XADD', KEYS[5], 'MAXLEN', '~', 10000, '*', 'task', ARGV[4], 'occurrence', occ,
    'sched', ARGV[5], 'kind', ARGV[12], 'attempts', attempt - 1,
    'error', 'delivered ' .. deliveries .. ' times without completing; dead-lettered', 'at', now)
  complete_if_done()
  return {'dead', attempt, false, deliveries}
end
local run = {id = run_id, task_id = ARGV[4], occurrence_id = occ, scheduled_at = ARGV[7],
  started_at = now_text, finished_at = cjson.null, status = 'running', attempt = attempt,
  exit_code = cjson.null, output = '', executor = ARGV[3], kind = ARGV[12],
  lateness_ms = now - tonumber(ARGV[5])}
local verdict = 'run'
local overlap = task[3]
if verdict == 'run' and (overlap == 'forbid' or overlap == 'replace') then
  local cur = redis.call('HMGET', KEYS[2], 'inflight', 'inflight_at', 'inflight_run')
  local busy = cur[1] and cur[1] ~= '' and cur[1] ~= ARGV[1] and
    tonumber(cur[2]) > now - tonumber(ARGV[13])
  if busy and overlap == 'forbid' then
    verdict = 'skipped'
    run.status = 'skipped'
    run.finished_at = now_text
    run.error = 'a run of this task was still in flight (overlap: forbid)'
    drop_entry()
    redis.call('HINCRBY', KEYS[2], 'overlap_skipped', 1)
    complete_if_done()
  elseif busy then
    -- replace: take the running entry away; its executor's next heartbeat finds
    -- it gone, kills the action, and its late result is dropped.
    redis.call('XACK', KEYS[1], ARGV[2], cur[1])
    redis.call('XDEL', KEYS[1], cur[1])
    close_run(cur[3], 'replaced by a newer occurrence (overlap: replace)')
  end
  if verdict == 'run' then
    redis.call('HSET', KEYS[2], 'inflight', ARGV[1], 'inflight_at', now, 'inflight_run', run_id)
  end
end
redis.call('HSET', KEYS[3], run_id, cjson.encode(run))
redis.call('ZADD', KEYS[4], now, run_id)
redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[11], '*', 'type', 'run.started', 'task', ARGV[4],
  'run', run_id, 'at', now)
if verdict ~= 'run' then spec = false end
return {verdict, attempt, spec, deliveries}
