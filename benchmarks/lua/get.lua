-- GET the path given on the command line with BENCH_AUTH (bearer token) or BENCH_COOKIE (staff session).
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local report = require("report")

function init(args)
  local auth = os.getenv("BENCH_AUTH")
  local cookie = os.getenv("BENCH_COOKIE")
  if auth and auth ~= "" then wrk.headers["Authorization"] = "Bearer " .. auth end
  if cookie and cookie ~= "" then wrk.headers["Cookie"] = cookie end
end

done = report.done
