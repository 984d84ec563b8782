-- The in-flight heartbeat: resets the idle time of entries this executor still
-- owns with the delivery count it started them with (XCLAIM to itself, JUSTID,
-- which leaves the delivery count alone), refreshes the task's overlap marker
-- (Redis's TIME) when it names the entry, and reports the entries it no longer
-- owns, whose actions the executor must kill. An entry re-delivered since
-- (claimed away and back) is lost too: its old run is stale.
-- KEYS: 1 ready, 1+i the task hash of entry i
-- ARGV: 1 group, 2 consumer, then per entry: id, delivery count at start (0:
--       not started yet, any count will do)
-- Returns the lost ids.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lost = {}
for i = 1, (#ARGV - 2) / 2 do
  local id, count = ARGV[1 + 2 * i], tonumber(ARGV[2 + 2 * i])
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)
  if #p == 1 and p[1][2] == ARGV[2] and (count == 0 or p[1][4] == count) then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id, 'JUSTID')
    if redis.call('HGET', KEYS[1 + i], 'inflight') == id then
      redis.call('HSET', KEYS[1 + i], 'inflight_at', now)
    end
  else
    lost[#lost + 1] = id
  end
end
return lost
