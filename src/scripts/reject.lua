-- Dead-letters a malformed ready entry (no task field, or fields that cannot
-- be read) that this executor was delivered: it could never run, so it must
-- not be claimed forever. XACK + XDEL and a dead record with the error.
-- KEYS: 1 ready, 2 dead   ARGV: 1 entry id, 2 group, 3 consumer, 4 error
-- Returns 1 if dead-lettered, 0 if the entry was no longer ours.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local p = redis.call('XPENDING', KEYS[1], ARGV[2], ARGV[1], ARGV[1], 1)
if #p == 0 or p[1][2] ~= ARGV[3] then return 0 end
redis.call('XACK', KEYS[1], ARGV[2], ARGV[1])
redis.call('XDEL', KEYS[1], ARGV[1])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', 10000, '*', 'task', '', 'occurrence', '', 'attempts', 0,
  'error', ARGV[4] .. ' (ready entry ' .. ARGV[1] .. ')', 'at', now)
return 1
