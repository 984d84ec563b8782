-- A concurrency key's slots (issue 16, "concurrency"), in the key's own hash
-- slot ({c:KEY}): never part of a task shard's script. Members are
-- occurrence ids, so a redelivery of the same occurrence (its executor died)
-- takes back the same slot instead of a second one. Holders and waiters are
-- stamped with Redis's time by every heartbeat; a stamp older than the
-- recovery timeout belonged to a dead executor and is dropped, which frees
-- its slot. Waiters start in due order: only the first (limit - running) of
-- them by scheduled time may take a free slot, and a slot freed by a release
-- or an eviction is granted to the earliest waiters at once (moved to
-- running, stamped now), so no later waiter can take it first; the waiter's
-- executor finds it held on its next acquire, and a grant whose executor died
-- goes stale like any slot.
-- A held slot names its holder, the delivery that took it (meta's
-- 'holder:<occurrence>'): a delivery of the same occurrence that acquires it
-- later (the entry claimed away from a stalled executor) takes it over, and
-- then the stalled executor's touch and release, for its own delivery, leave
-- the slot alone; before, that release freed the slot under the run that
-- had taken it over, and a waiter started beside it, over the limit.
-- KEYS: 1 running (zset: occurrence -> last heartbeat), 2 waiting (zset:
--       occurrence -> scheduled ms), 3 seen (zset: waiting occurrence -> last
--       heartbeat), 4 meta (hash: limit, holder:<occurrence>)
-- ARGV: 1 mode (acquire, touch, release or show), 2 occurrence id, 3 sched ms,
--       4 limit, 5 stale_ms (the recovery timeout; 0: evict nothing, for show),
--       6 holder (the entry id and its delivery count; '' for show)
-- Returns acquire: 1 (the slot is held) or 0 (waiting); touch, release: 1;
-- show: {limit, running, waiting, running members, waiting members}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local mode, occ, holder = ARGV[1], ARGV[2], ARGV[6]
-- Only executors evict (ARGV[5] > 0): they know the recovery timeout.
local stale = now - tonumber(ARGV[5])
if tonumber(ARGV[5]) > 0 then
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. stale)) do
    redis.call('ZREM', KEYS[1], m)
    redis.call('HDEL', KEYS[4], 'holder:' .. m)
  end
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. stale)) do
    redis.call('ZREM', KEYS[2], m)
    redis.call('ZREM', KEYS[3], m)
  end
end
-- Grants the free slots (limit in KEYS[4]) to the earliest waiters.
local function grant()
  local limit = tonumber(redis.call('HGET', KEYS[4], 'limit') or 0)
  local free = limit - redis.call('ZCARD', KEYS[1])
  if free <= 0 then return end
  for _, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, free - 1)) do
    redis.call('ZREM', KEYS[2], m)
    redis.call('ZREM', KEYS[3], m)
    redis.call('ZADD', KEYS[1], now, m)
  end
end
if tonumber(ARGV[5]) > 0 then grant() end
if mode == 'show' then
  return {tonumber(redis.call('HGET', KEYS[4], 'limit') or 0), redis.call('ZCARD', KEYS[1]),
    redis.call('ZCARD', KEYS[2]), redis.call('ZRANGE', KEYS[1], 0, 99),
    redis.call('ZRANGE', KEYS[2], 0, 99)}
end
-- 1 if the slot of OCC is held by another delivery than this one.
local function taken_over()
  local h = redis.call('HGET', KEYS[4], 'holder:' .. occ)
  return h and h ~= holder
end
if mode == 'release' then
  if taken_over() then return 1 end
  redis.call('HDEL', KEYS[4], 'holder:' .. occ)
  redis.call('ZREM', KEYS[1], occ)
  redis.call('ZREM', KEYS[2], occ)
  redis.call('ZREM', KEYS[3], occ)
  grant()
  return 1
end
if mode == 'touch' then
  if not taken_over() then redis.call('ZADD', KEYS[1], 'XX', now, occ) end
  return 1
end
local limit = tonumber(ARGV[4])
redis.call('HSET', KEYS[4], 'limit', limit)
if redis.call('ZSCORE', KEYS[1], occ) then -- held for this occurrence: this delivery holds it now
  redis.call('ZADD', KEYS[1], now, occ)
  redis.call('HSET', KEYS[4], 'holder:' .. occ, holder)
  return 1
end
redis.call('ZADD', KEYS[2], 'NX', ARGV[3], occ)
local free = limit - redis.call('ZCARD', KEYS[1])
if free > 0 and redis.call('ZRANK', KEYS[2], occ) < free then
  redis.call('ZREM', KEYS[2], occ)
  redis.call('ZREM', KEYS[3], occ)
  redis.call('ZADD', KEYS[1], now, occ)
  redis.call('HSET', KEYS[4], 'holder:' .. occ, holder)
  return 1
end
redis.call('ZADD', KEYS[3], now, occ)
return 0
