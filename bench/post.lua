-- wrk script: one POST with a body from a file, sent on every request to the URL wrk was given.
-- Used by bench/api_issue.sh (POST /api/v1/certificates) and bench/sustained/run.sh (issuance,
-- signing, verification, OCSP); see docs/benchmarks.md.
--
-- Environment (read once per wrk thread):
--   BENCH_BODY_FILE     file with the body (a JSON issuance request, a PDF, a DER OCSP request)
--   BENCH_CONTENT_TYPE  its media type                          (default application/json)
--   BENCH_AUTH_HEADER   header name, e.g. "X-API-Key" or "Authorization" (optional)
--   BENCH_AUTH_VALUE    its value,   e.g. "ck_<prefix>_<secret>" or "Bearer <jwt>"
--   BENCH_EXPECT        the status of a successful answer       (default 201)
-- Every connection is kept alive (HTTP/1.1, wrk's default); every request is the same bytes
-- (for issuance the same CSR: the server gives each issuance a fresh random serial).

local function read_all(path)
  local f = assert(io.open(path, "rb"), "cannot open BENCH_BODY_FILE " .. tostring(path))
  local s = f:read("*a")
  f:close()
  return s
end

local body = read_all(assert(os.getenv("BENCH_BODY_FILE"), "BENCH_BODY_FILE is not set"))
local expect = tonumber(os.getenv("BENCH_EXPECT") or "201")
-- wrk.format() adds Host only to its default header table; with our own table it must be
-- set here (the server answers 400 to an HTTP/1.1 request without exactly one Host).
local headers = {
  ["Host"] = wrk.host .. ":" .. wrk.port,
  ["Content-Type"] = os.getenv("BENCH_CONTENT_TYPE") or "application/json",
  ["Accept"] = "application/json",
}
local auth_name = os.getenv("BENCH_AUTH_HEADER")
if auth_name and auth_name ~= "" then
  headers[auth_name] = assert(os.getenv("BENCH_AUTH_VALUE"), "BENCH_AUTH_VALUE is not set")
end
local request_text = wrk.format("POST", nil, headers, body)

request = function()
  return request_text
end

-- Count the answers by status, per wrk thread, and print them at the end: a run is only
-- a valid measurement when every answer had the expected status.
local threads = {}

setup = function(thread)
  table.insert(threads, thread)
end

init = function(args)
  ok = 0
  other = 0
  other_status = ""
end

response = function(status, headers, resp_body)
  if status == expect then
    ok = ok + 1
  else
    other = other + 1
    if other <= 3 then other_status = other_status .. " " .. status end
  end
end

done = function(summary, latency, requests)
  local c, o, statuses = 0, 0, ""
  for _, t in ipairs(threads) do
    c = c + t:get("ok")
    o = o + t:get("other")
    statuses = statuses .. t:get("other_status")
  end
  io.write(string.format("bench.statuses ok=%d other=%d%s\n", c, o,
                         o > 0 and (" first_other:" .. statuses) or ""))
  io.write(string.format("bench.latency_us p50=%d p90=%d p99=%d max=%d\n",
                         latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
  io.write(string.format("bench.summary requests=%d duration_us=%d errors_connect=%d errors_read=%d errors_write=%d errors_timeout=%d\n",
                         summary.requests, summary.duration, summary.errors.connect, summary.errors.read,
                         summary.errors.write, summary.errors.timeout))
end
