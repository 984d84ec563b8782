-- The in-flight heartbeat: resets the idle time of entries this executor still
-- owns (XCLAIM to itself, JUSTID, which leaves the delivery count alone), and
-- reports those it no longer owns, whose actions the executor must kill.
-- KEYS: 1 ready   ARGV: 1 group, 2 consumer, 3.. entry ids   Returns the lost ids.
local lost = {}
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if #p == 1 and p[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
  else
    lost[#lost + 1] = ARGV[i]
  end
end
return lost
