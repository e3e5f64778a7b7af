#!/usr/bin/env bash
# Failure drill: the PostgreSQL primary lost (issue 11).
# N issuances acknowledged through nginx (201, serials recorded); the primary stopped with
# `pg_ctl stop -m immediate` (a crash: no shutdown checkpoint, no goodbye to the standby); the
# hot standby promoted. Measures the time from the stop until an issuance through nginx
# succeeds again (RTO; the instances reconnect by themselves: their URL names both hosts with
# target_session_attrs=read-write) and the acknowledged serials missing on the promoted server
# (data lost: 0 with synchronous replication).
#   drill_postgres_failover.sh CARTORIO_BINARY
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 CARTORIO_BINARY" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=drill-lib.sh
. "$HERE/drill-lib.sh"
N=${DRILL_ISSUANCES:-20}

drill_up "$1" postgres-failover

# N acknowledged writes. The CSRs are made first, so that the last 201 comes right before the
# stop.
for i in $(seq 1 "$N"); do csr "acked$i"; done
: >"$WORK/serials"
for i in $(seq 1 "$N"); do
  status=$(issue "acked$i")
  [ "$status" = 201 ] || fail "issuance $i answered $status: $(cat "$WORK/acked$i.json" 2>/dev/null)"
  field "$WORK/acked$i.json" serial >>"$WORK/serials"
  echo >>"$WORK/serials"
done
echo "$N issuances acknowledged through nginx"

# The crash, then the failover an operator (or Patroni) would do.
stop_ms=$(now_ms)
as_pg "$PGBIN/pg_ctl" -D "$PG_PRIMARY_DATA" -m immediate -w stop >"$WORK/pg-stop.log" 2>&1 ||
  fail "pg_ctl stop -m immediate: $(cat "$WORK/pg-stop.log")"
as_pg "$PGBIN/pg_ctl" -D "$PG_STANDBY_DATA" -w -t 60 promote >"$WORK/pg-promote.log" 2>&1 ||
  fail "pg_ctl promote: $(cat "$WORK/pg-promote.log")"
promoted_ms=$(now_ms)
[ "$(psql_at "$PG_STANDBY_PORT" 'SELECT pg_is_in_recovery()')" = f ] || fail "the standby is still in recovery"
echo "primary stopped (immediate), standby promoted in $((promoted_ms - stop_ms)) ms"

# Issuance through nginx until it succeeds (each try at most 10 s; 120 s in all).
# shellcheck disable=SC2034  # read by issue (drill-lib.sh)
ISSUE_TIMEOUT=10
tries=0
status=""
while [ $(($(now_ms) - stop_ms)) -lt 120000 ]; do
  tries=$((tries + 1))
  rm -f "$WORK/after.req"
  status=$(issue after)
  [ "$status" = 201 ] && break
  sleep 0.2
done
recovered_ms=$(now_ms)
[ "$status" = 201 ] || fail "no issuance succeeded within 120 s of the stop (last status $status, $tries tries)"
[ "$(psql_at "$PG_STANDBY_PORT" "SELECT count(*) FROM certificates WHERE serial = '$(field "$WORK/after.json" serial)'")" = 1 ] ||
  fail "the issuance after the failover is not on the promoted server"
# The other instance too: every instance must have reconnected, not only the one that answered.
for port in "$API1_HTTP_PORT" "$API2_HTTP_PORT"; do
  r=""
  for _ in $(seq 1 50); do
    r=$(readyz "http://127.0.0.1:$port")
    [ "${r%% *}" = 200 ] && break
    sleep 0.2
  done
  [ "${r%% *}" = 200 ] || fail "/readyz of the instance on port $port after the failover: $r"
done

# Every acknowledged serial is on the promoted server.
list=$(sed "s/.*/'&'/" "$WORK/serials" | paste -sd, -)
found=$(psql_at "$PG_STANDBY_PORT" "SELECT count(*) FROM certificates WHERE serial IN ($list)")
lost=$((N - found))

metric acknowledged "$N"
metric promote_ms $((promoted_ms - stop_ms))
metric rto_ms $((recovered_ms - stop_ms))
metric issuance_tries "$tries"
metric data_lost "$lost"
[ "$lost" = 0 ] || fail "$lost of $N acknowledged issuances are missing on the promoted server"
echo "PASS: RTO $((recovered_ms - stop_ms)) ms (first issuance through nginx after the primary's stop), data lost 0 of $N"
