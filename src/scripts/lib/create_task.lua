-- Shared by create.lua and create_batch.lua (cmake/embed.cmake pastes it in).
-- create_task stores one new task atomically: its hash, its place in the
-- listing index, and either its first due time or, for "run now", its
-- occurrence in the ready stream, with a task.created event. It checks before
-- it writes, so a refused task leaves nothing behind.
-- k: {task = hash, tasks = index, due = due set, ready = stream, events = stream}
-- a: {id, now (ms), due (ms, '-1': never), immediate ('1': XADD now), maxlen
--     (events), max_ready (a run-now task is refused while the ready stream
--     holds this many; '0': no limit)}
-- The spec's fields are ARGV[first..last] as name, value pairs.
-- Returns nil, or an error text: 'EEXIST ...' or 'EFULL ...'.
local function create_task(k, a, first, last)
  if redis.call('EXISTS', k.task) == 1 then
    return 'EEXIST task exists'
  end
  local max_ready = tonumber(a.max_ready) or 0
  if a.immediate == '1' and max_ready > 0 and redis.call('XLEN', k.ready) >= max_ready then
    return 'EFULL too many occurrences are waiting to run'
  end
  local next = a.due
  if a.immediate == '1' or next == '-1' then next = '' end
  -- Only what a reader cannot take as a default is stored: counters start
  -- absent (HINCRBY makes them), as do last_run and updated (readers take
  -- created for it), since every byte here is paid per pending task.
  redis.call('HSET', k.task, 'id', a.id, 'state', 'active', 'version', 1, 'created', a.now,
    'next', next, unpack(ARGV, first, last))
  redis.call('ZADD', k.tasks, 0, a.id)
  if a.immediate == '1' then
    redis.call('HSET', k.task, 'manual_last', a.now) -- later triggers take later instants
    redis.call('XADD', k.ready, '*', 'task', a.id, 'sched', a.now, 'attempt', 1, 'kind', 'now')
  elseif next ~= '' then
    redis.call('ZADD', k.due, next, a.id)
  end
  redis.call('XADD', k.events, 'MAXLEN', '~', a.maxlen, '*', 'type', 'task.created', 'task', a.id,
    'at', a.now)
  return nil
end
