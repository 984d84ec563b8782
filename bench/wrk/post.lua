-- wrk script: POST /api/v1/tasks with a generated body: a unique name per
-- request and a one-time schedule a day out (the first script argument, so the
-- run does not execute what it creates), with a typical shell action.
-- With a second argument N: POST /api/v1/tasks:batch with {"tasks": [...]} of
-- N no-op specs a request instead (the batch-create row).
local n = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  thread_id = tid or 0
  at = args[1]
  per = tonumber(args[2] or "0")
end

local function batch()
  local specs = {}
  for i = 1, per do
    specs[i] = string.format('{"name":"b-%d-%d-%d","schedule":{"at":"%s"},"action":{"type":"noop"}}',
      thread_id, n, i, at)
  end
  local body = '{"tasks":[' .. table.concat(specs, ",") .. ']}'
  return wrk.format("POST", "/api/v1/tasks:batch", {["Content-Type"] = "application/json"}, body)
end

function request()
  n = n + 1
  if per > 0 then
    return batch()
  end
  local body = string.format(
    '{"name":"wrk-%d-%d","labels":{"team":"bench"},"schedule":{"at":"%s"},' ..
    '"action":{"type":"shell","command":["/usr/local/bin/report","--daily"]},"timeout_s":600}',
    thread_id, n, at)
  return wrk.format("POST", "/api/v1/tasks", {["Content-Type"] = "application/json"}, body)
end

-- A batch answered 207 stored only some of its items: count those answers.
partial = 0

function response(status, headers, body)
  if status == 207 then
    partial = partial + 1
  end
end

function done(summary, latency, requests)
  local codes = summary.errors.status
  io.write(string.format("non2xx %d\n", codes))
  local p = 0
  for _, t in ipairs(threads) do
    p = p + (t:get("partial") or 0)
  end
  io.write(string.format("partial %d\n", p))
end
