-- wrk script: POST /api/v1/tasks with a generated body: a unique name per
-- request and a one-time schedule a day out (so the run does not execute
-- what it creates), with a typical shell action.
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
end

function request()
  n = n + 1
  local body = string.format(
    '{"name":"wrk-%d-%d","labels":{"team":"bench"},"schedule":{"at":"%s"},' ..
    '"action":{"type":"shell","command":["/usr/local/bin/report","--daily"]},"timeout_s":600}',
    thread_id, n, at)
  return wrk.format("POST", "/api/v1/tasks", {["Content-Type"] = "application/json"}, body)
end

function done(summary, latency, requests)
  local codes = summary.errors.status
  io.write(string.format("non2xx %d\n", codes))
end
