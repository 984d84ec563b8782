-- Runs one occurrence of a task now (manual trigger), whatever its state.
-- KEYS: 1 task hash, 2 ready, 3 events
-- ARGV: 1 id, 2 now_ms, 3 events maxlen
if redis.call('EXISTS', KEYS[1]) == 0 then return redis.error_reply('ENOTFOUND no such task') end
local entry = redis.call('XADD', KEYS[2], '*', 'task', ARGV[1], 'sched', ARGV[2], 'attempt', 1,
  'kind', 'manual')
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'type', 'task.triggered', 'task', ARGV[1],
  'at', ARGV[2])
return entry
