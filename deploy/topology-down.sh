#!/usr/bin/env bash
# Stops the topology deploy/topology-up.sh started in DIR: deploy/topology-down.sh DIR
#
# Front to back, each by the pid it recorded (checked against its command line): nginx, the
# two instances and the worker (SIGTERM: requests and job runs in flight finish), Redis, the
# S3 servers, PostgreSQL (standby, then primary; fast shutdown). Keeps DIR's files (data,
# logs) for a look afterwards; topology-up.sh DIR starts afresh from it.
# Succeeds when nothing runs. Then looks for any process still belonging to DIR (working
# directory in it, or DIR on its command line): lists them and exits 1 when there are some.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
FIXTURES=$(dirname "$HERE")/tests/fixtures
# shellcheck source=topology-lib.sh
. "$HERE/topology-lib.sh"
started_at=$SECONDS

if [ ! -d "$1" ] || [ ! -f "$1/.cartorio-topology" ]; then
  echo "topology-down: no topology in $1: nothing to stop"
  exit 0
fi
DIR=$(cd "$1" && pwd)

# nginx first: clients stop reaching the instances. SIGQUIT lets its workers finish the
# requests they carry.
stop_pidfile nginx "$DIR/nginx/nginx.pid" "$DIR/nginx/nginx.conf" QUIT 15
# The instances close their listeners, finish what is in flight (10 s per listener at most)
# and exit; the worker lets job runs in flight finish.
for name in serve1 serve2; do
  stop_pidfile "$name" "$DIR/run/$name.pid" "serve --data-dir $DIR/data" TERM 30 &
done
stop_pidfile worker "$DIR/run/worker.pid" "worker --data-dir $DIR/data" TERM 60 &
wait

for r in redis-replica redis-primary; do
  if [ -d "$DIR/$r" ]; then "$FIXTURES/redis-stop" "$DIR/$r"; fi
done
if [ -d "$DIR/s3" ]; then "$FIXTURES/s3-stop" "$DIR/s3"; fi
for pg in standby primary; do
  data=$DIR/pg/$pg
  [ -f "$data/postmaster.pid" ] || continue
  if as_pg "$PGBIN/pg_ctl" -D "$data" -m fast -w -t 60 stop >"$DIR/pg/$pg-stop.log" 2>&1 </dev/null; then
    echo "topology: stopped PostgreSQL $pg"
  else
    echo "topology-down: PostgreSQL $pg did not stop with -m fast, stopping it with -m immediate:" >&2
    cat "$DIR/pg/$pg-stop.log" >&2 || true
    as_pg "$PGBIN/pg_ctl" -D "$data" -m immediate -w -t 30 stop >>"$DIR/pg/$pg-stop.log" 2>&1 </dev/null || true
  fi
done

left=$(topology_processes "$DIR")
if [ -n "$left" ]; then
  echo "topology-down: processes of $DIR still run:" >&2
  echo "$left" >&2
  exit 1
fi
echo "topology-down: stopped in $((SECONDS - started_at)) s; no process of $DIR left"
