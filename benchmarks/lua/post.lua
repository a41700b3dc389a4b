-- A fixed POST body for the baselines (hello, kdf): the same size as a submit.
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local report = require("report")

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = string.rep("x", 600)
end

done = report.done
