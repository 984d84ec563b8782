-- The dispatch compare-and-set (DESIGN.md, "Dispatch"). For each item, only if
-- the task is still due exactly as the scheduler read it (same score, same
-- version), XADD the occurrence to the ready stream and move the due score to
-- the next fire time, or remove it. Anything changed meanwhile (edited, paused,
-- deleted, dispatched by another scheduler) is skipped, so an occurrence can
-- never be dispatched twice.
-- KEYS: 1 due, 2 ready, 2+i the task hash of item i
-- ARGV: 1 now_ms, then per item: id, expected due (as ZSCORE prints it),
--       expected version, next due (-1: none)
-- Returns the number of occurrences dispatched.
local n = 0
for i = 0, (#ARGV - 1) / 4 - 1 do
  local id, due, ver, nxt = ARGV[2 + i * 4], ARGV[3 + i * 4], ARGV[4 + i * 4], ARGV[5 + i * 4]
  local task = KEYS[3 + i]
  if redis.call('ZSCORE', KEYS[1], id) == due and redis.call('HGET', task, 'version') == ver then
    redis.call('XADD', KEYS[2], '*', 'task', id, 'sched', due, 'attempt', 1, 'kind', 'schedule')
    if nxt == '-1' then
      redis.call('ZREM', KEYS[1], id)
      redis.call('HSET', task, 'next', '')
    else
      redis.call('ZADD', KEYS[1], nxt, id)
      redis.call('HSET', task, 'next', nxt)
    end
    n = n + 1
  end
end
return n
