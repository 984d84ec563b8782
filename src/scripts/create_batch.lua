-- Stores up to a batch of new tasks of one shard in one call, each atomically
-- and exactly as create.lua stores one (lib/create_task.lua): an item that is
-- refused leaves nothing behind and does not stop the others.
-- KEYS: 1 tasks index, 2 due, 3 ready, 4 events, 5.. one task hash per item, in item order
-- ARGV: 1 now_ms, 2 events maxlen, 3 max_ready (0: no limit), 4 item count N, then per
--       item: id, due_ms (-1: never), immediate (1: XADD now), F (the count of the spec's
--       field values that follow), then the F values (name, value pairs)
-- Returns an array of N results in item order: 1 (stored) or an error text
-- ('EEXIST ...', 'EFULL ...').
-- include: create_task.lua
local out = {}
local k = {tasks = KEYS[1], due = KEYS[2], ready = KEYS[3], events = KEYS[4]}
local at = 5
for i = 1, tonumber(ARGV[4]) do
  local f = tonumber(ARGV[at + 3])
  k.task = KEYS[4 + i]
  local err = create_task(k, {id = ARGV[at], now = ARGV[1], due = ARGV[at + 1],
    immediate = ARGV[at + 2], maxlen = ARGV[2], max_ready = ARGV[3]}, at + 4, at + 3 + f)
  out[i] = err or 1
  at = at + 4 + f
end
return out
