-- Stores a new task atomically: its hash, its place in the listing index, and
-- either its first due time or, for "run now", its occurrence in the ready stream.
-- KEYS: 1 task hash, 2 tasks index, 3 due, 4 ready, 5 events
-- ARGV: 1 id, 2 now_ms, 3 due_ms (-1: never), 4 immediate (1: XADD now), 5 events maxlen,
--       6.. the spec's fields as name, value pairs (spec, name, kind, cron, tz, policies)
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.error_reply('EEXIST task exists')
end
local next = ARGV[3]
if ARGV[4] == '1' or next == '-1' then next = '' end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'state', 'active', 'version', 1, 'created', ARGV[2],
  'updated', ARGV[2], 'next', next, 'last_run', '', 'runs_succeeded', 0, 'runs_failed', 0,
  'dispatched', 0, 'misfires_skipped', 0, 'misfires_coalesced', 0, 'overlap_skipped', 0)
redis.call('HSET', KEYS[1], unpack(ARGV, 6))
redis.call('ZADD', KEYS[2], 0, ARGV[1])
if ARGV[4] == '1' then
  redis.call('HSET', KEYS[1], 'manual_last', ARGV[2]) -- later triggers take later instants
  redis.call('XADD', KEYS[4], '*', 'task', ARGV[1], 'sched', ARGV[2], 'attempt', 1, 'kind', 'now')
elseif next ~= '' then
  redis.call('ZADD', KEYS[3], next, ARGV[1])
end
redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[5], '*', 'type', 'task.created', 'task', ARGV[1],
  'at', ARGV[2])
return 1
