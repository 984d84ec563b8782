-- Gives an entry this executor fetched but never started back to the stream
-- (on shutdown), as a fresh entry with the same occurrence, so another executor
-- runs it at once instead of after the recovery timeout.
-- KEYS: 1 ready   ARGV: 1 entry id, 2 group, 3 consumer, 4 task, 5 sched, 6 attempt, 7 kind
-- Returns 1 if requeued, 0 if the entry was no longer ours.
local p = redis.call('XPENDING', KEYS[1], ARGV[2], ARGV[1], ARGV[1], 1)
if #p == 0 or p[1][2] ~= ARGV[3] then return 0 end
redis.call('XACK', KEYS[1], ARGV[2], ARGV[1])
redis.call('XDEL', KEYS[1], ARGV[1])
redis.call('XADD', KEYS[1], '*', 'task', ARGV[4], 'sched', ARGV[5], 'attempt', ARGV[6], 'kind', ARGV[7])
return 1
