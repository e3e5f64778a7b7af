#!/usr/bin/env bash
# deploy/postgres/wal-archive and wal-restore on a real PostgreSQL 15 (file:// archive):
# rows are written before a base backup, before a chosen instant and after it; the server
# is then killed, and a new cluster recovered from the base backup plus the archived WAL up
# to that instant has exactly the rows written before it.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DEPLOY=$(cd "$HERE/../../deploy/postgres" && pwd)
PGBIN=${CARTORIO_PG_BIN:-/usr/lib/postgresql/15/bin}
ROOT=$(mktemp -d /tmp/cartorio-pitr.XXXXXX)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  for d in "$ROOT/primary" "$ROOT/recovered"; do
    [ -f "$d/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$d" -m immediate stop >/dev/null 2>&1 || true
  done
  rm -rf "$ROOT"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $1" >&2
  for log in "$ROOT"/*.log; do echo "--- $log" >&2; tail -n 20 "$log" >&2 || true; done
  exit 1
}
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
[ "$(id -u)" = 0 ] && chown postgres: "$ROOT"
chmod 755 "$ROOT"
# The scripts run as the server's user: a copy it can read and run.
as_pg mkdir -p "$ROOT/bin" "$ROOT/archive"
cp "$DEPLOY/wal-archive" "$DEPLOY/wal-restore" "$ROOT/bin/"
chmod 755 "$ROOT/bin"/*
echo "CARTORIO_WAL_ARCHIVE=file://$ROOT/archive" > "$ROOT/wal.env"
chmod 644 "$ROOT/wal.env"

as_pg "$PGBIN/initdb" -D "$ROOT/primary" -U postgres --auth=trust --no-sync >"$ROOT/initdb.log" 2>&1 || fail initdb
PORT=$(free_port)
cat >> "$ROOT/primary/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$ROOT'
port = $PORT
wal_level = replica
archive_mode = on
archive_command = 'CARTORIO_WAL_ENV=$ROOT/wal.env $ROOT/bin/wal-archive %p %f'
archive_timeout = 60s
CONF
as_pg "$PGBIN/pg_ctl" -D "$ROOT/primary" -l "$ROOT/primary.log" -w start >/dev/null || fail "primary start"
sql() { as_pg "$PGBIN/psql" -h "$ROOT" -p "$1" -U postgres -d postgres -X -v ON_ERROR_STOP=1 -Atqc "$2"; }

sql "$PORT" "CREATE TABLE t (what text); INSERT INTO t VALUES ('before-base')"
as_pg "$PGBIN/pg_basebackup" -h "$ROOT" -p "$PORT" -U postgres -D "$ROOT/base" -X none >"$ROOT/basebackup.log" 2>&1 ||
  fail pg_basebackup
sql "$PORT" "INSERT INTO t VALUES ('after-base')"
TARGET=$(sql "$PORT" "SELECT now()")
sleep 1.2
sql "$PORT" "INSERT INTO t VALUES ('after-target')"
SEGMENT=$(sql "$PORT" "SELECT pg_walfile_name(pg_switch_wal())")
for _ in $(seq 1 100); do
  [ -f "$ROOT/archive/wal/$SEGMENT" ] && break
  sleep 0.2
done
[ -f "$ROOT/archive/wal/$SEGMENT" ] || fail "segment $SEGMENT was not archived"
# Archiving the same segment again is success; other bytes under its name are refused.
CARTORIO_WAL_ENV=$ROOT/wal.env "$ROOT/bin/wal-archive" "$ROOT/archive/wal/$SEGMENT" "$SEGMENT" ||
  fail "re-archiving an identical segment failed"
echo junk > "$ROOT/junk"
if CARTORIO_WAL_ENV=$ROOT/wal.env "$ROOT/bin/wal-archive" "$ROOT/junk" "$SEGMENT" 2>/dev/null; then
  fail "a different segment under an archived name was accepted"
fi
as_pg "$PGBIN/pg_ctl" -D "$ROOT/primary" -m immediate stop >/dev/null  # the machine is lost

as_pg cp -a "$ROOT/base" "$ROOT/recovered"
PORT2=$(free_port)
cat >> "$ROOT/recovered/postgresql.conf" <<CONF
port = $PORT2
archive_mode = off
restore_command = 'CARTORIO_WAL_ENV=$ROOT/wal.env $ROOT/bin/wal-restore %f %p'
recovery_target_time = '$TARGET'
recovery_target_action = 'promote'
CONF
as_pg touch "$ROOT/recovered/recovery.signal"
as_pg "$PGBIN/pg_ctl" -D "$ROOT/recovered" -l "$ROOT/recovered.log" -w -t 60 start >/dev/null || fail "recovery start"
for _ in $(seq 1 150); do
  [ "$(sql "$PORT2" "SELECT pg_is_in_recovery()" 2>/dev/null || echo t)" = f ] && break
  sleep 0.2
done
ROWS=$(sql "$PORT2" "SELECT string_agg(what, ',' ORDER BY what) FROM t")
[ "$ROWS" = "after-base,before-base" ] || fail "recovered rows: '$ROWS' (expected after-base,before-base)"
echo "PITR ok: recovered to $TARGET with rows $ROWS"
