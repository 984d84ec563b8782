-- Deletes a task and everything of it: hash, index entries, run history. An
-- occurrence already in the ready stream finds the task gone and is dropped.
-- KEYS: 1 task hash, 2 tasks index, 3 due, 4 runs hash, 5 run index, 6 events, 7 held hash,
--       8 backfill set
-- ARGV: 1 id, 2 now_ms, 3 events maxlen
if redis.call('DEL', KEYS[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('DEL', KEYS[4], KEYS[5], KEYS[7], KEYS[8])
redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[3], '*', 'type', 'task.deleted', 'task', ARGV[1],
  'at', ARGV[2])
return 1
