#!/usr/bin/env bash
# The production shape on loopback (deploy/topology-up.sh), driven through nginx only:
# a certificate issued through the HTTPS API (TLS passed through to an instance, API key of
# the service role), `openssl ocsp` says good at the URL written into it, the row is on the
# hot standby (in recovery) and the Redis replica's link is up; one instance stopped, the
# API and OCSP still answer through nginx; topology-down leaves no process.
#   topology_test.sh CARTORIO_BINARY
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 CARTORIO_BINARY" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
# The drills' helpers: drill_up (topology in a temp dir, down on exit, a service API key),
# issue, ocsp, field, cli, fail.
# shellcheck source=drill-lib.sh
. "$HERE/drill-lib.sh"
t0=$SECONDS
drill_up "$1" topology-test
UP_SECONDS=$((SECONDS - t0))

# 1. Issue through nginx; OCSP through nginx says good.
status=$(issue first)
[ "$status" = 201 ] || fail "issuance through nginx answered $status: $(cat "$WORK/first.json" 2>/dev/null)"
SERIAL=$(field "$WORK/first.json" serial)
out=$(ocsp first) || fail "openssl ocsp: $out"
grep -q "$WORK/first.pem: good" <<<"$out" || fail "OCSP did not say good: $out"
echo "issued $SERIAL through nginx; OCSP: good"

# 2. The row is on the hot standby (synchronous replication: on its disk at commit; visible
# once replayed, a moment later).
PG_PASSWORD=$(cat "$TOPO/secrets/pg-cartorio.password")
standby() {
  PGPASSWORD=$PG_PASSWORD psql "host=127.0.0.1 port=$PG_STANDBY_PORT dbname=cartorio user=cartorio" -X -Atq \
    -c "$1" </dev/null
}
row=""
for _ in $(seq 1 50); do
  row=$(standby "SELECT pg_is_in_recovery(), count(*) FROM certificates WHERE serial = '$SERIAL'" 2>&1 || true)
  [ "$row" = "t|1" ] && break
  sleep 0.1
done
[ "$row" = "t|1" ] || fail "the standby answered '$row' (want t|1: in recovery, the row there)"
echo "standby: in recovery, certificate $SERIAL present"

# 3. The Redis replica follows the primary.
link=$(REDISCLI_AUTH=$(cat "$TOPO/redis-primary/password") redis-cli -p "$REDIS_REPLICA_PORT" --no-auth-warning \
         info replication </dev/null | tr -d '\r' | sed -n 's/^master_link_status://p')
[ "$link" = up ] || fail "Redis replica master_link_status: '$link'"
echo "redis replica: master_link_status:up"

# 4. One instance stopped: nginx skips it.
SERVE1_PID=$(cat "$TOPO/run/serve1.pid")
kill -TERM "$SERVE1_PID"
for _ in $(seq 1 300); do
  running "$SERVE1_PID" || break
  sleep 0.1
done
! running "$SERVE1_PID" || fail "serve1 (pid $SERVE1_PID) did not stop within 30 s"
lines_before=$(wc -l <"$TOPO/nginx/https-access.log")
for i in 1 2 3 4 5 6; do
  status=$(issue "after$i")
  [ "$status" = 201 ] || fail "issuance $i through nginx with serve1 down answered $status"
  out=$(ocsp "after$i") || fail "openssl ocsp with serve1 down: $out"
  grep -q ": good" <<<"$out" || fail "OCSP with serve1 down did not say good: $out"
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$LB_HTTP/readyz" || true)
  [ "$code" = 200 ] || fail "/readyz through nginx with serve1 down: $code"
done
# Every connection after the stop was served by serve2 (a refused try at serve1 may precede).
tail -n "+$((lines_before + 1))" "$TOPO/nginx/https-access.log" | grep -q "upstream=127.0.0.1:$API2_HTTPS_PORT" ||
  fail "nginx's log shows no connection to serve2"
if tail -n "+$((lines_before + 1))" "$TOPO/nginx/https-access.log" | grep -E " 200 " |
     grep -qE "upstream=127\.0\.0\.1:$API1_HTTPS_PORT( |$)"; then
  fail "a connection was served by the stopped serve1"
fi
echo "serve1 stopped: 6 issuances, 6 OCSP answers and 6 /readyz through nginx succeeded"

# 5. Down: nothing of the topology is left running.
t0=$SECONDS
"$DEPLOY/topology-down.sh" "$TOPO" || fail "topology-down"
DOWN_SECONDS=$((SECONDS - t0))
left=$(topology_processes "$TOPO")
[ -z "$left" ] || fail "processes left after topology-down: $left"
for port in $LB_HTTPS_PORT $LB_HTTP_PORT $API1_HTTPS_PORT $API1_HTTP_PORT $API2_HTTPS_PORT $API2_HTTP_PORT \
            $PG_PRIMARY_PORT $PG_STANDBY_PORT $REDIS_PRIMARY_PORT $REDIS_REPLICA_PORT "${S3_ENDPOINT#*:}"; do
  if ss -Htln "sport = :$port" | grep -q .; then fail "port $port still listens after topology-down"; fi
done
echo "PASS: up ${UP_SECONDS}s, down ${DOWN_SECONDS}s, no process or listener left"
