-- Shared by the scripts that include it (cmake/embed.cmake pastes it in).
-- The scheduled ms of a new occurrence "now" of task ID (a trigger, or an
-- edit that makes the task run now): Redis's time, moved on a millisecond at
-- a time past the task's last manual or dispatched occurrence and its pending
-- due score, so no two occurrences share an id, run id or Idempotency-Key.
local function fresh_sched(task, due, id)
  local time = redis.call('TIME')
  local sched = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  local f = redis.call('HMGET', task, 'last_sched', 'manual_last')
  local floor = math.max(tonumber(f[1]) or 0, tonumber(f[2]) or 0)
  if sched <= floor then sched = floor + 1 end
  if tonumber(redis.call('ZSCORE', due, id) or -1) == sched then sched = sched + 1 end
  redis.call('HSET', task, 'manual_last', sched)
  return sched
end
