-- Reads a shard's due members and dispatches the plain one-time ones on the
-- spot (DESIGN.md, "Dispatch"). The read and the write happen in this one
-- script, so nothing can change in between: no compare-and-set is needed for
-- what it dispatches itself. A plain one-time member is a task id (not a retry
-- token) whose task is active, of schedule type 'at' (any other type, one
-- added later included, is planned in C), and not a misfire its policy skips. Its occurrence is XADDed exactly as dispatch.lua would (task = the
-- id, sched = the due score, attempt 1, kind schedule) and its member
-- removed. Every other member (cron tasks, retry tokens and held
-- occurrences, paused or skipped ones, and those whose task hash is not
-- here) is left in place and returned, with its task's fields, for the
-- scheduler to plan in C and apply through the compare-and-set of
-- dispatch.lua, which drops a member whose task is gone.
-- "Now" is Redis's clock read here (TIME), the one every process agrees on,
-- and is returned for the scheduler to plan the rest with.
-- KEYS: 1 due, 2 ready
-- ARGV: 1 batch (members read at most), 2 the shard's task key prefix
--       ("P:{N}:task:"), 3 the scheduler's misfire threshold in ms, 4 the retry
--       token prefix ("retry:")
-- Returns {dispatched, read, earliest due score left ('' if none), the
-- dispatched ones' lateness in ms (now - due, comma-separated), now in ms,
-- then per member left to plan: member, score, version, stype, cron, tz,
-- created, misfire, misfire_ms, end_at, max_runs, dispatched, jitter_ms, exclude, exclude_cron ('' for a
-- missing field, and all of them for a token)}.
local t = redis.call('TIME')
local now_ms = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000)) -- exact, as text
local now = tonumber(now_ms)
local prefix, tokens = ARGV[2], ARGV[4]
-- include: int.lua
local due = redis.call('ZRANGE', KEYS[1], '-inf', now_ms, 'BYSCORE', 'LIMIT', 0, ARGV[1], 'WITHSCORES')
local out, done, lates = {0, #due / 2, '', '', now_ms}, {}, {}
-- What decides whether a member is plain (the fewer fields read, the
-- cheaper: a listpack hash is scanned once per field), and what the scheduler
-- plans the others from.
-- The schedule type was stored as "kind" before it was "stype": a task
-- written by an older version still schedules (the last field of each list).
local quick = {'stype', 'state', 'misfire', 'misfire_ms', 'dispatched', 'kind'}
local fields = {'version', 'stype', 'cron', 'tz', 'created', 'misfire', 'misfire_ms', 'end_at', 'max_runs',
  'dispatched', 'jitter_ms', 'exclude', 'exclude_cron', 'kind'}

-- Whether an occurrence due at SCORE is late past the task's threshold (its
-- own misfire_ms when set, else the scheduler's).
local function late(score, misfire_ms)
  local threshold = tonumber(misfire_ms)
  if threshold == nil or threshold < 0 then threshold = tonumber(ARGV[3]) end
  return now - tonumber(score) > threshold
end

for i = 1, #due, 2 do
  local member, score = due[i], due[i + 1]
  local left = true
  local f = {}
  if string.sub(member, 1, #tokens) ~= tokens then
    local task = prefix .. member
    local q = redis.call('HMGET', task, unpack(quick))
    q[1] = q[1] or q[6]
    -- A task hash not seen here is left to the compare-and-set, whose keys
    -- are declared: on a cluster whose slot is migrating, the hash may sit on
    -- the other node already, and Redis answers a declared key's absence
    -- with ASK/TRYAGAIN instead of letting a script think the task is gone.
    if not q[1] then
      -- f stays {}: every field ''
    elseif q[1] == 'at' and q[2] == 'active' and not (q[3] == 'skip' and late(score, q[4])) then
      redis.call('XADD', KEYS[2], '*', 'task', member, 'sched', score, 'attempt', '1', 'kind', 'schedule')
      -- last_sched: triggers read it never to share an occurrence's identity.
      -- The count is read above, so one HSET does what HINCRBY + HSET did.
      redis.call('HSET', task, 'next', '', 'last_sched', score, 'dispatched', int((tonumber(q[5]) or 0) + 1))
      done[#done + 1] = member
      lates[#lates + 1] = int(now - tonumber(score))
      left = false
    else
      f = redis.call('HMGET', task, unpack(fields))
      f[2] = f[2] or f[14]
    end
  end
  if left then
    out[#out + 1], out[#out + 2] = member, score
    for j = 1, #fields - 1 do out[#out + 1] = f[j] or '' end
  end
end
-- The members read are ranks 0..#due/2-1 and nothing moved since: when all
-- are done, removing by rank spares a lookup per member.
if #done == #due / 2 and #done > 0 then
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, #done - 1)
elseif #done > 0 then
  redis.call('ZREM', KEYS[1], unpack(done))
end
out[1], out[4] = #lates, table.concat(lates, ',')
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if first[2] then out[3] = first[2] end
return out
