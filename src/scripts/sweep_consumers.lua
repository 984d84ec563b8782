-- Removes the consumers of dead executors from a shard's consumer group, so
-- executor restarts do not grow Redis. Only a consumer with nothing pending
-- (XGROUP DELCONSUMER would drop its pending entries: they would never run),
-- silent for longer than the dead timeout, and not a live executor. Atomic, so
-- no entry can be delivered to a consumer between the look and the removal.
-- KEYS: 1 ready   ARGV: 1 group, 2 min idle ms, 3.. live executor ids
-- Returns how many consumers were removed.
local live = {}
for i = 3, #ARGV do live[ARGV[i]] = true end
local removed = 0
for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local f = {}
  for i = 1, #c, 2 do f[c[i]] = c[i + 1] end
  if f.pending == 0 and f.idle > tonumber(ARGV[2]) and not live[f.name] then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], f.name)
    removed = removed + 1
  end
end
return removed
