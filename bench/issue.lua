-- wrk script: POST /api/v1/certificates (authenticated certificate issuance).
-- Used by bench/api_issue.sh; see docs/benchmarks.md.
--
-- Environment (read once per wrk thread):
--   BENCH_BODY_FILE     file with the JSON body ({"profile":"tls-server","csr":"-----BEGIN ..."})
--   BENCH_AUTH_HEADER   header name, e.g. "X-API-Key" or "Authorization"
--   BENCH_AUTH_VALUE    its value,   e.g. "ck_<prefix>_<secret>" or "Bearer <jwt>"
-- Every connection is kept alive (HTTP/1.1, wrk's default); every request is the same
-- CSR, and the server gives each issuance a fresh random serial.

local function read_all(path)
  local f = assert(io.open(path, "rb"), "cannot open BENCH_BODY_FILE " .. tostring(path))
  local s = f:read("*a")
  f:close()
  return s
end

local body = read_all(assert(os.getenv("BENCH_BODY_FILE"), "BENCH_BODY_FILE is not set"))
local auth_name = assert(os.getenv("BENCH_AUTH_HEADER"), "BENCH_AUTH_HEADER is not set")
local auth_value = assert(os.getenv("BENCH_AUTH_VALUE"), "BENCH_AUTH_VALUE is not set")

-- wrk.format() adds Host only to its default header table; with our own table it must be
-- set here (the server answers 400 to an HTTP/1.1 request without exactly one Host).
local request_text = wrk.format("POST", "/api/v1/certificates", {
  ["Host"] = wrk.host .. ":" .. wrk.port,
  ["Content-Type"] = "application/json",
  ["Accept"] = "application/json",
  [auth_name] = auth_value,
}, body)

request = function()
  return request_text
end

-- Count the answers by status, per wrk thread, and print them at the end: a run is only
-- a valid measurement when every answer was 201 Created.
local threads = {}

setup = function(thread)
  table.insert(threads, thread)
end

init = function(args)
  created = 0
  other = 0
  other_status = ""
end

response = function(status, headers, resp_body)
  if status == 201 then
    created = created + 1
  else
    other = other + 1
    if other <= 3 then other_status = other_status .. " " .. status end
  end
end

done = function(summary, latency, requests)
  local c, o, statuses = 0, 0, ""
  for _, t in ipairs(threads) do
    c = c + t:get("created")
    o = o + t:get("other")
    statuses = statuses .. t:get("other_status")
  end
  io.write(string.format("bench.statuses created=%d other=%d%s\n", c, o,
                         o > 0 and (" first_other:" .. statuses) or ""))
  io.write(string.format("bench.latency_us p50=%d p90=%d p99=%d max=%d\n",
                         latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
