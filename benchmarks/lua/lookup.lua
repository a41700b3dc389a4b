-- POST /api/v1/tips/lookup with a wrong access code: the flood. BENCH_REFERENCES="JA-2026-000001,…".
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local report = require("report")

local references = {}
for ref in string.gmatch(os.getenv("BENCH_REFERENCES") or "JA-2026-000001", "[^,]+") do
  table.insert(references, ref)
end
local counter = 0

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  local body = string.format('{"reference": "%s", "access_code": "%016d"}',
                             references[counter % #references + 1], (counter * 7919) % 10000000000000000)
  return wrk.format(nil, "/api/v1/tips/lookup", nil, body)
end

done = report.done
