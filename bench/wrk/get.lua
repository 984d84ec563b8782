-- wrk script: GET /api/v1/tasks/{id}, cycling over the ids in the file named
-- by the first script argument (one id a line), so reads hit many hashes.
local ids = {}
local i = 0

function init(args)
  for line in io.lines(args[1]) do
    ids[#ids + 1] = line
  end
end

function request()
  i = i % #ids + 1
  return wrk.format("GET", "/api/v1/tasks/" .. ids[i])
end
