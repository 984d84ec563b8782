-- Shared by start.lua and complete.lua (cmake/embed.cmake pastes it in).
-- fences reads the delivery counts of this consumer's pending entries in the
-- stream id range [LO, HI] of a batch with one XPENDING, not one per entry;
-- owned(id) then answers an entry's delivery count, or nil if it is not
-- pending for this consumer. The range also holds the consumer's other
-- pending entries (runs still going), at most COUNT in all: past that (the
-- reply was full) an entry not found is asked for alone, so a missing answer
-- is never mistaken for "not ours".
local function fences(ready, group, consumer, lo, hi, count)
  local got = {}
  local reply = redis.call('XPENDING', ready, group, lo, hi, count, consumer)
  for _, p in ipairs(reply) do got[p[1]] = p[4] end
  local full = #reply >= count
  return function(id)
    local d = got[id]
    if d == nil and full then
      local p = redis.call('XPENDING', ready, group, id, id, 1, consumer)
      d = p[1] and p[1][4]
    end
    return d
  end
end
