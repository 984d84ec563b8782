-- The in-flight heartbeat: resets the idle time of entries this executor still
-- owns (XCLAIM to itself, JUSTID, which leaves the delivery count alone),
-- refreshes the task's overlap marker when it names the entry, and reports the
-- entries it no longer owns, whose actions the executor must kill.
-- KEYS: 1 ready, 1+i the task hash of entry i
-- ARGV: 1 group, 2 consumer, 3 now_ms, 3+i entry id i
-- Returns the lost ids.
local lost = {}
for i = 1, #ARGV - 3 do
  local id = ARGV[3 + i]
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)
  if #p == 1 and p[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id, 'JUSTID')
    if redis.call('HGET', KEYS[1 + i], 'inflight') == id then
      redis.call('HSET', KEYS[1 + i], 'inflight_at', ARGV[3])
    end
  else
    lost[#lost + 1] = id
  end
end
return lost
