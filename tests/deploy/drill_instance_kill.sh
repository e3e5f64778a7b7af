#!/usr/bin/env bash
# Failure drill: one `serve` instance kill -9'ed under load (issue 11).
# wrk drives certificate issuances (HTTPS, TLS passed through nginx) and OCSP GETs (HTTP,
# proxied by nginx) for DURATION seconds; a third into the run serve1 gets SIGKILL. Requests
# keep succeeding through serve2: only requests in flight on serve1 (at most one per wrk
# connection) may fail. The topology has no supervisor of its own: this script restarts serve1
# as systemd's Restart=on-failure (RestartSec=2, deploy/systemd/) would, and /readyz on it
# answers 200 again.
#   drill_instance_kill.sh CARTORIO_BINARY
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 CARTORIO_BINARY" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=drill-lib.sh
. "$HERE/drill-lib.sh"
command -v wrk >/dev/null || { echo "wrk not found (scripts/install-deps.sh)" >&2; exit 1; }
DURATION=${DRILL_DURATION:-18}
ISSUE_CONNECTIONS=4
OCSP_CONNECTIONS=4

drill_up "$1" instance-kill

# One certificate to ask OCSP about, and the GET form of its request (RFC 6960 A.1).
[ "$(issue probe)" = 201 ] || fail "the first issuance through nginx failed: $(cat "$WORK/probe.json")"
ocsp probe >/dev/null || fail "openssl ocsp before the drill"
OCSP_URL=$(openssl x509 -noout -ocsp_uri -in "$WORK/probe.pem")
openssl ocsp -issuer "$WORK/probe-issuer.pem" -cert "$WORK/probe.pem" -no_nonce -reqout "$WORK/ocsp.der" >/dev/null 2>&1
OCSP_PATH=${OCSP_URL#"$LB_HTTP"}/$(python3 -c 'import base64, sys, urllib.parse
print(urllib.parse.quote(base64.b64encode(open(sys.argv[1], "rb").read()).decode(), safe=""))' "$WORK/ocsp.der")

# wrk scripts: count answers by status in every thread, print the totals as drill lines.
counting_lua() {  # counting_lua PREFIX
  cat <<LUA
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) counts = {} end
function response(status, headers, body) counts[status] = (counts[status] or 0) + 1 end
function done(summary, latency, requests)
  local ok, other = 0, 0
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("counts")) do
      if status >= 200 and status < 300 then ok = ok + n else other = other + n end
    end
  end
  local e = summary.errors
  print("drill: $1_ok=" .. ok)
  print("drill: $1_bad_status=" .. other)
  print("drill: $1_socket_errors=" .. (e.connect + e.read + e.write + e.timeout))
  print(string.format("drill: $1_rps=%.1f", summary.requests / (summary.duration / 1e6)))
  print(string.format("drill: $1_p99_ms=%.1f", latency:percentile(99) / 1000))
end
LUA
}
{
  echo 'wrk.method = "POST"'
  echo "wrk.headers[\"X-API-Key\"] = \"$KEY\""
  echo 'wrk.headers["Content-Type"] = "application/json"'
  # Every request the same CSR: issuance does not refuse a key it has certified before.
  printf 'wrk.body = [==[%s]==]\n' "$(cat "$WORK/probe.req")"
  counting_lua issue
} >"$WORK/issue.lua"
counting_lua ocsp >"$WORK/ocsp.lua"

wrk -t 2 -c "$ISSUE_CONNECTIONS" -d "${DURATION}s" --timeout 10s -s "$WORK/issue.lua" "$LB_HTTPS/api/v1/certificates" \
  >"$WORK/wrk-issue.out" 2>&1 &
wrk_issue=$!
wrk -t 1 -c "$OCSP_CONNECTIONS" -d "${DURATION}s" --timeout 10s -s "$WORK/ocsp.lua" "$LB_HTTP$OCSP_PATH" \
  >"$WORK/wrk-ocsp.out" 2>&1 &
wrk_ocsp=$!

sleep $((DURATION / 3))
SERVE1_PID=$(cat "$TOPO/run/serve1.pid")
kill -KILL "$SERVE1_PID"
killed_ms=$(now_ms)
echo "killed serve1 (pid $SERVE1_PID) with SIGKILL"

# While wrk still runs: issuance and OCSP through nginx succeed (served by serve2).
sleep 1
for i in 1 2 3; do
  status=$(issue "during$i")
  [ "$status" = 201 ] || fail "issuance $i through nginx after the kill answered $status"
  out=$(ocsp "during$i") || fail "openssl ocsp after the kill: $out"
  grep -q ": good" <<<"$out" || fail "OCSP after the kill did not say good: $out"
done
echo "serve1 dead: 3 issuances and 3 OCSP answers through nginx succeeded during the load"

# The restart systemd would do (Restart=on-failure, RestartSec=2): the same command line, so
# topology-down stops it as before.
while running "$SERVE1_PID"; do sleep 0.1; done
sleep 2
restarted_ms=$(now_ms)
(
  set -a
  # shellcheck source=/dev/null
  . "$CARTORIO_ENV_FILE"
  set +a
  cd "$TOPO"
  exec setsid "$CARTORIO_BIN" serve --data-dir "$TOPO/data" --listen "127.0.0.1:$API1_HTTPS_PORT" \
    --listen-http "127.0.0.1:$API1_HTTP_PORT"
) >>"$TOPO/logs/serve1.log" 2>&1 </dev/null &
echo $! >"$TOPO/run/serve1.pid"
ready=""
for _ in $(seq 1 300); do
  ready=$(readyz "http://127.0.0.1:$API1_HTTP_PORT")
  [ "${ready%% *}" = 200 ] && break
  running "$(cat "$TOPO/run/serve1.pid")" || fail "the restarted serve1 exited"
  sleep 0.2
done
[ "${ready%% *}" = 200 ] || fail "the restarted serve1's /readyz: $ready"
metric serve1_start_ms $(($(now_ms) - restarted_ms))
metric serve1_back_ms $(($(now_ms) - killed_ms))
echo "serve1 restarted (as systemd's Restart=on-failure would) and ready: $ready"

wait "$wrk_issue" || fail "wrk (issuance) failed: $(cat "$WORK/wrk-issue.out")"
wait "$wrk_ocsp" || fail "wrk (OCSP) failed: $(cat "$WORK/wrk-ocsp.out")"
grep '^drill: ' "$WORK/wrk-issue.out" "$WORK/wrk-ocsp.out" | sed 's/^[^:]*://'
value() { sed -n "s/^drill: $2=//p" "$1"; }
issue_failed=$(($(value "$WORK/wrk-issue.out" issue_bad_status) + $(value "$WORK/wrk-issue.out" issue_socket_errors)))
ocsp_failed=$(($(value "$WORK/wrk-ocsp.out" ocsp_bad_status) + $(value "$WORK/wrk-ocsp.out" ocsp_socket_errors)))
metric issue_failed "$issue_failed"
metric ocsp_failed "$ocsp_failed"
[ "$(value "$WORK/wrk-issue.out" issue_ok)" -gt 0 ] || fail "no issuance succeeded under wrk"
[ "$(value "$WORK/wrk-ocsp.out" ocsp_ok)" -gt 0 ] || fail "no OCSP request succeeded under wrk"
# Bounded: at most the requests in flight on serve1, one per connection.
[ "$issue_failed" -le "$ISSUE_CONNECTIONS" ] ||
  fail "$issue_failed issuances failed, more than the $ISSUE_CONNECTIONS connections in flight: $(cat "$WORK/wrk-issue.out")"
[ "$ocsp_failed" -le "$OCSP_CONNECTIONS" ] ||
  fail "$ocsp_failed OCSP requests failed, more than the $OCSP_CONNECTIONS in flight: $(cat "$WORK/wrk-ocsp.out")"

# The restarted instance serves again: /readyz through nginx is 200 and serve1's HTTP port
# answers OCSP itself.
[ "$(readyz "$LB_HTTP" | cut -d' ' -f1)" = 200 ] || fail "/readyz through nginx after the restart"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$API1_HTTP_PORT$OCSP_PATH" || true)
[ "$code" = 200 ] || fail "OCSP on the restarted serve1 answered $code"
echo "PASS: serve1 killed under load; failures bounded (issuance $issue_failed <= $ISSUE_CONNECTIONS, OCSP $ocsp_failed <= $OCSP_CONNECTIONS); restarted and ready"
