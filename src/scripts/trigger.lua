-- Runs one occurrence of a task now (manual trigger), unless it is paused.
-- Every occurrence has its own identity (task id + scheduled ms): a trigger
-- takes Redis's time, moved on by a millisecond at a time past the task's last
-- manual or dispatched occurrence and its pending due time, so two triggers in
-- one millisecond, or a trigger at the instant of a scheduled fire, never
-- share an occurrence id, run id or Idempotency-Key.
-- KEYS: 1 task hash, 2 ready, 3 events, 4 due
-- ARGV: 1 id, 2 now_ms (for the event), 3 events maxlen
-- Returns the occurrence's scheduled ms, or an error reply ENOTFOUND / ECONFLICT.
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return redis.error_reply('ENOTFOUND no such task') end
if state == 'paused' then return redis.error_reply('ECONFLICT the task is paused; resume it first') end
-- include: fresh_sched.lua
local sched = fresh_sched(KEYS[1], KEYS[4], ARGV[1])
redis.call('XADD', KEYS[2], '*', 'task', ARGV[1], 'sched', sched, 'attempt', 1, 'kind', 'manual')
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'type', 'task.triggered', 'task', ARGV[1],
  'at', ARGV[2])
return sched
