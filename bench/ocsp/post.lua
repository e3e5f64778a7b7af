-- wrk script: POST one DER OCSPRequest (Content-Type: application/ocsp-request).
-- Used by bench/ocsp/run.sh for `cfssl ocspserve` (whose GET form does not work in the
-- Debian 12 build, see docs/benchmarks.md) and for the POST row of our server.
--
-- Environment: BENCH_OCSP_REQUEST = path of the DER request.
-- The request is built once here, at load time, through wrk.method/wrk.body/wrk.headers:
-- wrk then sends the same pre-formatted bytes on every request without calling into Lua per
-- request (no request/response callbacks), so the client costs what a plain GET costs.

local path = assert(os.getenv("BENCH_OCSP_REQUEST"), "BENCH_OCSP_REQUEST is not set")
local f = assert(io.open(path, "rb"), "cannot open " .. path)
local der = f:read("*a")
f:close()

wrk.method = "POST"
wrk.body = der
wrk.headers["Content-Type"] = "application/ocsp-request"
