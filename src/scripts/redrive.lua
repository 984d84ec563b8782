-- Re-drives a dead occurrence: puts it back in the ready stream as its next
-- attempt and removes the dead letter, atomically (a double retry click runs
-- it once).
-- KEYS: 1 dead, 2 ready, 3 task hash, 4 events
-- ARGV: 1 dead entry id, 2 now_ms, 3 events maxlen
-- Returns the new ready entry id, or an error reply ENOTFOUND or ECONFLICT (a
-- dead letter without an occurrence: a malformed entry, or from an old version).
local e = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #e == 0 then return redis.error_reply('ENOTFOUND no such dead occurrence') end
if redis.call('EXISTS', KEYS[3]) == 0 then return redis.error_reply('ENOTFOUND the task is gone') end
local f = {}
for i = 1, #e[1][2], 2 do f[e[1][2][i]] = e[1][2][i + 1] end
if not f.sched or f.sched == '' then
  return redis.error_reply('ECONFLICT this dead letter names no occurrence to re-drive')
end
local id = redis.call('XADD', KEYS[2], '*', 'task', f.task, 'sched', f.sched, 'attempt',
  tonumber(f.attempts) + 1, 'kind', 'redrive')
redis.call('XDEL', KEYS[1], ARGV[1])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[3], '*', 'type', 'dead.retried', 'task', f.task,
  'at', ARGV[2])
return id
