#!/usr/bin/env bash
# Failure drill: Redis lost (issue 11). The Redis primary and its replica stopped: OCSP through
# nginx still answers `good` (openssl ocsp), the API still issues, and /readyz answers 200 with
# status "degraded" (cache "degraded": the in-process fallback serves; load balancers keep the
# instance). Redis started again (same configuration): /readyz says "ready" again.
#   drill_redis_down.sh CARTORIO_BINARY
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 CARTORIO_BINARY" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=drill-lib.sh
. "$HERE/drill-lib.sh"

drill_up "$1" redis-down

[ "$(issue before)" = 201 ] || fail "issuance before the drill: $(cat "$WORK/before.json")"
out=$(ocsp before) || fail "openssl ocsp before the drill: $out"
grep -q ": good" <<<"$out" || fail "OCSP before the drill did not say good: $out"

# Both down (SIGTERM by pid; redis-stop would remove the password the restart needs).
# Redis removes its pid file on the way out.
for r in redis-replica redis-primary; do
  stop_pid "$r" "$(cat "$TOPO/$r/redis.pid")" redis-server TERM 10 >/dev/null
done
down_ms=$(now_ms)
echo "Redis primary and replica stopped"

# OCSP through nginx for the certificate issued before (its answer may be cached in Redis:
# now it is not) and for ones issued while Redis is down.
out=$(ocsp before) || fail "openssl ocsp with Redis down: $out"
grep -q ": good" <<<"$out" || fail "OCSP with Redis down did not say good: $out"
for i in 1 2 3; do
  status=$(issue "down$i")
  [ "$status" = 201 ] || fail "issuance $i with Redis down answered $status: $(cat "$WORK/down$i.json" 2>/dev/null)"
  out=$(ocsp "down$i") || fail "openssl ocsp with Redis down: $out"
  grep -q ": good" <<<"$out" || fail "OCSP with Redis down did not say good: $out"
done
metric redis_down_issued 3
echo "Redis down: 3 issuances and 4 OCSP answers (good) through nginx"

# /readyz, from each instance and through nginx: 200, status degraded.
degraded_answer=""
for url in "http://127.0.0.1:$API1_HTTP_PORT" "http://127.0.0.1:$API2_HTTP_PORT" "$LB_HTTP"; do
  r=""
  for _ in $(seq 1 50); do
    r=$(readyz "$url")
    [[ "$r" == 200*'"status":"degraded"'* ]] && break
    sleep 0.2
  done
  [[ "$r" == 200*'"status":"degraded"'* ]] || fail "/readyz at $url with Redis down: $r (want 200, degraded)"
  degraded_answer=${r#200 }
done
echo "/readyz with Redis down: 200 $degraded_answer"
metric readyz_redis_down "200:degraded"

# Back: the same configurations (ports, password, replicaof).
up_ms=$(now_ms)
for r in redis-primary redis-replica; do
  (cd "$TOPO/$r" && redis-server "$TOPO/$r/redis.conf" >"$TOPO/$r/redis-restart.out" 2>&1 </dev/null) ||
    fail "$r did not restart: $(cat "$TOPO/$r/redis-restart.out")"
done
ready_again=0
for _ in $(seq 1 300); do
  r1=$(readyz "http://127.0.0.1:$API1_HTTP_PORT")
  r2=$(readyz "http://127.0.0.1:$API2_HTTP_PORT")
  if [[ "$r1" == 200*'"status":"ready"'* && "$r2" == 200*'"status":"ready"'* ]]; then
    ready_again=1
    break
  fi
  sleep 0.2
done
[ "$ready_again" = 1 ] || fail "/readyz 60 s after Redis came back: $r1 / $r2"
metric redis_down_ms $((up_ms - down_ms))
metric ready_again_ms $(($(now_ms) - up_ms))
[ "$(issue after)" = 201 ] || fail "issuance after Redis came back"
out=$(ocsp after) || fail "openssl ocsp after Redis came back: $out"
grep -q ": good" <<<"$out" || fail "OCSP after Redis came back did not say good: $out"
echo "PASS: Redis down: OCSP good and issuance through nginx, /readyz 200 degraded; back: ready in $(($(now_ms) - up_ms)) ms"
