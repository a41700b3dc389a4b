-- POST /api/v1/tips, channel web, every request a distinct tip. BENCH_REPORTER=anonymous|named|mixed.
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local report = require("report")

local threads_started = 0
local mode = os.getenv("BENCH_REPORTER") or "mixed"
local salt = os.getenv("BENCH_SALT") or "0"
local clients = os.getenv("BENCH_CLIENTS")  -- e.g. "198.18": send X-Forwarded-For (a trusted proxy's view)

local sectors = {"gas", "hazchem", "construction", "fire", "mining", "transport", "industry", "commerce"}
local categories = {"hazard", "hazard", "violation", "major_hazard", "concealed_accident"}
local townships = {"lingjing", "kaifaqu", "xuyou", "wunvdian", "zhangpan", "suqiao", "chencao", "yulin"}

function setup(thread)
  threads_started = threads_started + 1
  thread:set("tid", threads_started)
end

local counter = 0

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  local n = counter
  local named = (mode == "named") or (mode == "mixed" and n % 2 == 0)
  local reporter = "null"
  if named then
    reporter = string.format('{"name": "张伟%d", "phone": "139%08d", "contact_preference": "phone"}',
                             n % 97, (tid * 1000003 + n) % 100000000)
  end
  local body = string.format(
    '{"category": "%s", "sector": "%s", "township": "%s", ' ..
    '"subject_name": "某某安全生产有限公司%s-%d-%d", "address": "建安区许南路%d号", ' ..
    '"description": "压测举报%s-%d-%d：车间东侧的消防通道被成品堆放堵塞，灭火器过期未检，夜班工人说已经两个月没有人处理。", ' ..
    '"insider": %s, "reporter": %s}',
    categories[n % #categories + 1], sectors[n % #sectors + 1], townships[n % #townships + 1],
    salt, tid, n, n % 300 + 1, salt, tid, n, (n % 5 == 0) and "true" or "false", reporter)
  if clients then  -- behind the trusted proxy: every submit from an address of its own, as citizens are
    wrk.headers["X-Forwarded-For"] = string.format("%s.%d.%d", clients, (tid * 97 + math.floor(n / 250)) % 250 + 1,
                                                   n % 250 + 1)
  end
  return wrk.format(nil, "/api/v1/tips", nil, body)
end

done = report.done
