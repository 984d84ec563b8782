-- wrk script: POST /api/v1/tasks:batch with N specs a request (args: AT, N),
-- each like post.lua's (a one-time schedule a day out, a typical shell
-- action). The body is built once per thread: the server, not wrk's Lua, is
-- what is measured.
local body

function init(args)
  local at, n = args[1], tonumber(args[2] or "1000")
  local specs = {}
  for i = 1, n do
    specs[i] = string.format(
      '{"name":"batch-%d","labels":{"team":"bench"},"schedule":{"at":"%s"},' ..
      '"action":{"type":"shell","command":["/usr/local/bin/report","--daily"]},"timeout_s":600}', i, at)
  end
  body = '{"tasks":[' .. table.concat(specs, ",") .. ']}'
end

function request()
  return wrk.format("POST", "/api/v1/tasks:batch", {["Content-Type"] = "application/json"}, body)
end

function done(summary, latency, requests)
  io.write(string.format("non2xx %d\n", summary.errors.status))
end
