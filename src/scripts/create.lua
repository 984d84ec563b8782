-- Stores a new task atomically: its hash, its place in the listing index, and
-- either its first due time or, for "run now", its occurrence in the ready stream.
-- KEYS: 1 task hash, 2 tasks index, 3 due, 4 ready, 5 events
-- ARGV: 1 id, 2 spec json, 3 name, 4 kind, 5 cron, 6 tz, 7 now_ms, 8 due_ms (-1: never),
--       9 immediate (1: XADD now), 10 events maxlen
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.error_reply('EEXIST task exists')
end
local next = ARGV[8]
if ARGV[9] == '1' or next == '-1' then next = '' end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'spec', ARGV[2], 'name', ARGV[3], 'kind', ARGV[4],
  'cron', ARGV[5], 'tz', ARGV[6], 'state', 'active', 'version', 1, 'created', ARGV[7],
  'updated', ARGV[7], 'next', next, 'last_run', '', 'runs_succeeded', 0, 'runs_failed', 0)
redis.call('ZADD', KEYS[2], 0, ARGV[1])
if ARGV[9] == '1' then
  redis.call('XADD', KEYS[4], '*', 'task', ARGV[1], 'sched', ARGV[7], 'attempt', 1, 'kind', 'now')
elseif next ~= '' then
  redis.call('ZADD', KEYS[3], next, ARGV[1])
end
redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[10], '*', 'type', 'task.created', 'task', ARGV[1],
  'at', ARGV[7])
return 1
