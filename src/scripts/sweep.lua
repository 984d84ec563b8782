-- One bounded step of a shard's sweep (see src/sweeper.c): for each task of
-- the batch, deletes a completed task whose retention has passed (with its
-- history, held occurrences, backfill set and index entries), or trims its run history by
-- count and age (never a run still running), and moves the shard's cursor on.
-- A completed task without completed_at (completed before this field) starts
-- its retention now. Times are Redis's (TIME).
-- KEYS: 1 tasks index, 2 due, 3 sweep state hash, 4 events, then per task
--       i (from 0) 5+5i task hash, 6+5i runs hash, 7+5i run index, 8+5i held,
--       9+5i backfill set
-- ARGV: 1 runs kept, 2 history max age ms, 3 completed retention ms,
--       4 events maxlen, 5 the cursor after this batch ('' = wrap), 6.. ids
-- Returns {runs trimmed, tasks deleted}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local kept, cutoff = tonumber(ARGV[1]), now - tonumber(ARGV[2])
local MAX = 200 -- records removed per task and step: bounded work
local trimmed, deleted = 0, 0

local function trim(runs, idx)
  local old = {}
  local excess = redis.call('ZCARD', idx) - kept
  if excess > 0 then old = redis.call('ZRANGE', idx, 0, math.min(excess, MAX) - 1) end
  local aged = redis.call('ZRANGEBYSCORE', idx, '-inf', cutoff, 'LIMIT', 0, MAX)
  if #aged > #old then old = aged end
  for _, id in ipairs(old) do
    local rec = redis.call('HGET', runs, id)
    if not rec or cjson.decode(rec).status ~= 'running' then
      redis.call('HDEL', runs, id)
      redis.call('ZREM', idx, id)
      trimmed = trimmed + 1
    end
  end
end

for i = 0, #ARGV - 6 do
  local id = ARGV[6 + i]
  local task, runs, idx, held = KEYS[5 + 5 * i], KEYS[6 + 5 * i], KEYS[7 + 5 * i], KEYS[8 + 5 * i]
  local backfill = KEYS[9 + 5 * i]
  local s = redis.call('HMGET', task, 'state', 'completed_at')
  if not s[1] then
    redis.call('ZREM', KEYS[1], id) -- an index entry without its task
  elseif s[1] == 'completed' and not s[2] then
    redis.call('HSET', task, 'completed_at', now)
    trim(runs, idx)
  elseif s[1] == 'completed' and tonumber(s[2]) < now - tonumber(ARGV[3]) then
    redis.call('DEL', task, runs, idx, held, backfill)
    redis.call('ZREM', KEYS[1], id)
    redis.call('ZREM', KEYS[2], id)
    redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[4], '*', 'type', 'task.deleted', 'task', id,
      'reason', 'retention', 'at', now)
    deleted = deleted + 1
  else
    trim(runs, idx)
  end
end
redis.call('HSET', KEYS[3], 'cursor', ARGV[5])
return {trimmed, deleted}
