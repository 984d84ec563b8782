-- The dispatch compare-and-set (DESIGN.md, "Dispatch"). For each item, only if
-- the member is still due exactly as the scheduler read it (same score) and
-- its task has the version it read, XADD the occurrence to the ready stream
-- and move the due score to the next fire time, or remove the member. Anything
-- changed meanwhile (edited, paused, deleted, dispatched by another scheduler)
-- is skipped, so an occurrence can never be dispatched twice. Members whose
-- task is gone are dropped. A member is a task id or a retry token; a retry
-- token (or held occurrence) of a paused task moves to the task's held hash,
-- whence resuming puts it back: nothing of a paused task starts.
-- KEYS: 1 due, 2 ready, then per item i (from 0): 3+2i its task hash, 4+2i its
--       held hash
-- ARGV: 1 now_ms, then per item 12 values: member, task id, expected due (as
--       ZSCORE prints it), expected version ('' for retries), next due (-1:
--       none), dispatch (0: misfire skip or excluded), skipped, coalesced,
--       excluded, sched_ms, attempt, kind (schedule, retry, or a held
--       occurrence's kind)
-- Returns the number of occurrences dispatched.
local F = 12
local n = 0
for i = 0, (#ARGV - 1) / F - 1 do
  local member, id, due, ver, nxt, disp, skipped, coalesced, excluded, sched, attempt, kind =
    unpack(ARGV, 2 + i * F, 1 + (i + 1) * F)
  local task, held = KEYS[3 + 2 * i], KEYS[4 + 2 * i]
  if redis.call('ZSCORE', KEYS[1], member) == due then
    local t = redis.call('HMGET', task, 'version', 'state', 'dispatched')
    local version = t[1]
    if not version then
      redis.call('ZREM', KEYS[1], member)
    elseif ver == '' and t[2] == 'paused' then
      redis.call('ZREM', KEYS[1], member)
      redis.call('HSET', held, member, due)
    elseif ver == '' or version == ver then
      if disp == '1' then
        redis.call('XADD', KEYS[2], '*', 'task', id, 'sched', sched, 'attempt', attempt, 'kind', kind)
        n = n + 1
      end
      -- The task's next due time, last_sched, which triggers read to never
      -- share an occurrence's identity, and the dispatched count (read
      -- above), in one HSET. A retry's task keeps its fields.
      local fields = {'next', nxt == '-1' and '' or nxt}
      if disp == '1' then
        fields[3], fields[4], fields[5], fields[6] = 'last_sched', sched, 'dispatched', (tonumber(t[3]) or 0) + 1
      end
      if ver == '' then
        redis.call('ZREM', KEYS[1], member)
      elseif nxt == '-1' then
        redis.call('ZREM', KEYS[1], member)
        redis.call('HSET', task, unpack(fields))
        -- Nothing left to run: a skipped last occurrence completes the task now.
        if disp == '0' then redis.call('HSET', task, 'state', 'completed') end
      else
        redis.call('ZADD', KEYS[1], nxt, member)
        redis.call('HSET', task, unpack(fields))
      end
      if skipped ~= '0' then redis.call('HINCRBY', task, 'misfires_skipped', skipped) end
      if coalesced ~= '0' then redis.call('HINCRBY', task, 'misfires_coalesced', coalesced) end
      if excluded ~= '0' then redis.call('HINCRBY', task, 'excluded', excluded) end
    end
  end
end
return n
