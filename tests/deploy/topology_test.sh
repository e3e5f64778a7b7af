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
DEPLOY=$(cd "$HERE/../../deploy" && pwd)
# shellcheck source=../../deploy/topology-lib.sh
. "$DEPLOY/topology-lib.sh"
# Absolute: topology-up.sh runs it from the topology's directory.
CARTORIO_BIN=$(realpath "$1")
export CARTORIO_BIN
T=$(mktemp -d /tmp/cartorio-topology-test.XXXXXX)
chmod 711 "$T"  # the postgres user and nginx workers reach the topology in it
TOPO=$T/topology
WORK=$T/work
mkdir -p "$WORK"

cleanup() {
  "$DEPLOY/topology-down.sh" "$TOPO" >/dev/null 2>&1 || true
  [ -n "${CARTORIO_KEEP_TEST_DIRS:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $1" >&2
  for log in "$TOPO"/logs/serve*.log "$TOPO"/logs/worker.log "$TOPO"/nginx/error.log; do
    [ -s "$log" ] || continue
    echo "--- $log (last 20 lines)" >&2
    tail -n 20 "$log" >&2
  done
  exit 1
}

t0=$SECONDS
"$DEPLOY/topology-up.sh" "$TOPO" || fail "topology-up"
UP_SECONDS=$((SECONDS - t0))
# shellcheck source=/dev/null
. "$TOPO/topology.env"
field() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]], end="")' "$1" "$2"; }
# shellcheck source=/dev/null
cli() { (set -a && . "$CARTORIO_ENV_FILE" && set +a && exec "$CARTORIO_BIN" "$@"); }
LB_HTTPS=https://127.0.0.1:$LB_HTTPS_PORT
LB_HTTP=http://127.0.0.1:$LB_HTTP_PORT

# An API key for a service, made by the operator's CLI (as tests/cli/cli_restart_test.cpp).
cli apikey create --name deploy-test --role service --json >"$WORK/apikey.json" 2>"$WORK/apikey.err" ||
  fail "apikey create: $(cat "$WORK/apikey.err")"
KEY=$(field "$WORK/apikey.json" key)

# issue NAME: POST /api/v1/certificates through nginx; the answer in WORK/NAME.json, the status
# printed.
issue() {
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/$1.key" \
    -subj "/CN=$1.deploy.test" -addext "subjectAltName=DNS:$1.deploy.test" 2>/dev/null |
    python3 -c 'import json, sys; print(json.dumps({"profile": "tls-server", "csr": sys.stdin.read()}))' >"$WORK/$1.req"
  curl -s --max-time 20 --cacert "$ROOT_CERT" -H "X-API-Key: $KEY" -H 'Content-Type: application/json' \
    --data-binary "@$WORK/$1.req" -o "$WORK/$1.json" -w '%{http_code}' "$LB_HTTPS/api/v1/certificates" || true
}
# ocsp NAME: `openssl ocsp` for WORK/NAME.json's certificate at the OCSP URL written into it.
ocsp() {
  field "$WORK/$1.json" pem >"$WORK/$1.pem"
  field "$WORK/$1.json" chain_pem | sed '/-----END CERTIFICATE-----/q' >"$WORK/$1-issuer.pem"
  local url
  url=$(openssl x509 -noout -ocsp_uri -in "$WORK/$1.pem")
  case "$url" in
    "$LB_HTTP"/*) ;;
    *) echo "the certificate's OCSP URL '$url' is not nginx's $LB_HTTP" >&2; return 1 ;;
  esac
  openssl ocsp -issuer "$WORK/$1-issuer.pem" -cert "$WORK/$1.pem" -url "$url" -CAfile "$ROOT_CERT" -no_nonce 2>&1
}

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
