-- POST /api/v1/tips/lookup with a wrong access code: the flood. BENCH_REFERENCES="JA-2026-000001,…".
-- BENCH_CLIENTS="203.0" sends X-Forwarded-For from 300 addresses in turn (many clients behind a trusted proxy).
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local report = require("report")

local references = {}
for ref in string.gmatch(os.getenv("BENCH_REFERENCES") or "JA-2026-000001", "[^,]+") do
  table.insert(references, ref)
end
local counter = 0
local clients = os.getenv("BENCH_CLIENTS")
local threads_started = 0

function setup(thread)
  threads_started = threads_started + 1
  thread:set("tid", threads_started)
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  local body = string.format('{"reference": "%s", "access_code": "%016d"}',
                             references[counter % #references + 1], (counter * 7919) % 10000000000000000)
  if clients then
    wrk.headers["X-Forwarded-For"] = string.format("%s.%d.%d", clients, tid, counter % 150 + 1)
  end
  return wrk.format(nil, "/api/v1/tips/lookup", nil, body)
end

done = report.done
