#!/usr/bin/env bash
# Brings up the production shape on one machine, on loopback: deploy/topology-up.sh DIR
#
#   nginx (TLS pass-through for the API, HTTP proxy for OCSP/CRL/TSA)
#     -> two `cartorio serve` instances            -> PostgreSQL primary + synchronous hot standby
#     one `cartorio worker` (the scheduled jobs)   -> Redis primary + replica
#                                                  -> S3 (Swift, tests/fixtures/s3-start)
#                                                  -> SoftHSM2 token with the online keys
#
# Every piece keeps its state in DIR and listens on free ports chosen now, written to
# DIR/topology.env (non-secret; secrets are in DIR/cartorio.env and DIR/secrets/, mode 600).
# Returns once nginx answers /readyz from both instances, and prints the endpoints.
# Run again on a running topology: prints its endpoints. On a stopped or broken one: stops
# what is left and starts afresh (the old state is removed). On failure: prints the failing
# piece's log tail, stops what it started and exits 1 (logs stay in DIR).
# Stop it with deploy/topology-down.sh DIR. docs/deploy.md explains each piece.
#
# Environment: CARTORIO_BIN (default build/bin/cartorio), CARTORIO_PG_BIN, CARTORIO_NGINX,
# CARTORIO_PKCS11_MODULE, CARTORIO_TOPOLOGY_EXTRA_ENV (a file of more CARTORIO_*='...' lines
# for every cartorio process; the failure drills raise the rate limits with it). Needs the
# Debian packages of scripts/install-deps.sh.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
FIXTURES=$REPO/tests/fixtures
# shellcheck source=topology-lib.sh
. "$HERE/topology-lib.sh"
CARTORIO=${CARTORIO_BIN:-$REPO/build/bin/cartorio}
PKCS11_MODULE=${CARTORIO_PKCS11_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
started_at=$SECONDS

mkdir -p "$1"
DIR=$(cd "$1" && pwd)
[ "$DIR" != / ] || { echo "topology-up: refusing DIR /" >&2; exit 2; }
MARKER=$DIR/.cartorio-topology

for tool in "$CARTORIO" "$PGBIN/initdb" "$PGBIN/pg_ctl" "$PGBIN/pg_basebackup" "$PGBIN/psql" "$NGINX" \
            "$PKCS11_MODULE"; do
  [ -e "$tool" ] || { echo "topology-up: $tool not found (scripts/install-deps.sh; build with scripts/build.sh release cartorio)" >&2; exit 1; }
done
for tool in redis-server redis-cli softhsm2-util curl openssl python3; do
  command -v "$tool" >/dev/null || { echo "topology-up: $tool not found (scripts/install-deps.sh)" >&2; exit 1; }
done

# Loads topology.env when there is one (the ports of a topology that may be running).
if [ -f "$DIR/topology.env" ]; then
  # shellcheck source=/dev/null
  . "$DIR/topology.env"
fi

lb_ready() {  # both of nginx's ports answer /readyz with 200
  [ -n "${LB_HTTP_PORT:-}" ] && [ -f "${ROOT_CERT:-/nonexistent}" ] || return 1
  [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$LB_HTTP_PORT/readyz")" = 200 ] &&
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$ROOT_CERT" \
          "https://127.0.0.1:$LB_HTTPS_PORT/readyz")" = 200 ]
}

print_endpoints() {
  cat <<EOF
Cartório topology in $DIR:
  API (HTTPS through nginx, TLS pass-through)  https://127.0.0.1:$LB_HTTPS_PORT   (trust $ROOT_CERT)
  OCSP, CRL, caIssuers, TSA (HTTP, nginx)      http://127.0.0.1:$LB_HTTP_PORT     (pki.public_base_url)
  serve1  https://127.0.0.1:$API1_HTTPS_PORT  http://127.0.0.1:$API1_HTTP_PORT  pid $(cat "$DIR/run/serve1.pid")
  serve2  https://127.0.0.1:$API2_HTTPS_PORT  http://127.0.0.1:$API2_HTTP_PORT  pid $(cat "$DIR/run/serve2.pid")
  worker  pid $(cat "$DIR/run/worker.pid")
  PostgreSQL  primary 127.0.0.1:$PG_PRIMARY_PORT, hot standby 127.0.0.1:$PG_STANDBY_PORT (synchronous, slot standby1)
  Redis       primary 127.0.0.1:$REDIS_PRIMARY_PORT, replica 127.0.0.1:$REDIS_REPLICA_PORT
  S3 (Swift)  http://$S3_ENDPOINT, bucket cartorio
  PKCS#11     SoftHSM2 token "cartorio" in $DIR/softhsm (SOFTHSM2_CONF=$DIR/softhsm/softhsm2.conf)
  CLI         set -a; . $DIR/cartorio.env; set +a; $CARTORIO cert list
  logs        $DIR/logs, $DIR/pg/*.log, $DIR/redis-*/redis.log, $DIR/s3/log, $DIR/nginx
  stop        $HERE/topology-down.sh $DIR
EOF
}

if [ -f "$MARKER" ]; then
  alive=1
  for pidfile in run/serve1.pid run/serve2.pid run/worker.pid nginx/nginx.pid; do
    running "$(cat "$DIR/$pidfile" 2>/dev/null || echo 0)" || alive=0
  done
  if [ "$alive" = 1 ] && lb_ready; then
    echo "topology-up: already running"
    print_endpoints
    exit 0
  fi
  echo "topology-up: $DIR holds a topology that is not (fully) running: stopping what is left, starting afresh"
  "$HERE/topology-down.sh" "$DIR" || true
  rm -rf "${DIR:?}"/{pg,redis-primary,redis-replica,s3,softhsm,data,secrets,nginx,run,logs}
  rm -f "$DIR/topology.env" "$DIR/cartorio.env"
elif [ -n "$(ls -A "$DIR")" ]; then
  echo "topology-up: $DIR is not empty and holds no topology: give a new or empty directory" >&2
  exit 2
fi
: >"$MARKER"
unset LB_HTTP_PORT ROOT_CERT

# The postgres user (as root) and nginx's workers (nobody) must reach their files in DIR.
chmod 711 "$DIR"
mkdir -p "$DIR/logs" "$DIR/run" "$DIR/secrets" "$DIR/pg" "$DIR/nginx"
chmod 700 "$DIR/secrets"
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$DIR/pg"
  if ! runuser -u postgres -- test -x "$DIR/pg"; then
    echo "topology-up: the postgres user cannot reach $DIR: a parent directory is closed to it (chmod o+x it)" >&2
    exit 1
  fi
fi
chmod 700 "$DIR/pg"
# Every component starts from DIR: topology-down finds strays by their working directory.
cd "$DIR"

fail() {  # fail COMPONENT MESSAGE [LOG...]: the log tails, then everything stopped
  local component=$1 message=$2 log
  shift 2
  echo "topology-up: $component: $message" >&2
  # Swift may still be starting: let it finish, so that it is stopped below.
  [ -z "${s3_starter:-}" ] || wait "$s3_starter" 2>/dev/null || true
  for log in "$@"; do
    [ -s "$log" ] || continue
    echo "--- $log (last 30 lines)" >&2
    tail -n 30 "$log" >&2 || true
  done
  echo "topology-up: stopping what was started (logs stay in $DIR)" >&2
  "$HERE/topology-down.sh" "$DIR" >&2 || true
  exit 1
}
trap 'fail interrupted "a signal arrived"' INT TERM

secret() { python3 -c 'import secrets; print(secrets.token_hex(16))'; }
write_secret() {  # write_secret FILE VALUE (mode 600)
  (umask 077 && printf '%s\n' "$2" >"$1")
}

# Free loopback ports, all probed at once so they differ. One can be taken between the probe
# and the bind: that component then fails loudly and a new run picks others.
read -r PG_PRIMARY_PORT PG_STANDBY_PORT REDIS_REPLICA_PORT API1_HTTPS_PORT API1_HTTP_PORT \
        API2_HTTPS_PORT API2_HTTP_PORT LB_HTTPS_PORT LB_HTTP_PORT < <(python3 -c 'import socket
s = [socket.socket() for _ in range(9)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')

# --- S3: Swift's four servers take 7-20 s to start; they come up while PostgreSQL does.
"$FIXTURES/s3-start" "$DIR/s3" >"$DIR/logs/s3-start.log" 2>&1 </dev/null &
s3_starter=$!

# --- PostgreSQL primary: durable (fsync, full pages), WAL for a streaming standby.
PG_RUN=$DIR/pg/run
as_pg mkdir -p "$PG_RUN"
as_pg "$PGBIN/initdb" -D "$DIR/pg/primary" -U postgres -E UTF8 --locale=C.UTF-8 \
  --auth-local=trust --auth-host=scram-sha-256 >"$DIR/logs/pg-initdb.log" 2>&1 </dev/null ||
  fail postgres "initdb failed" "$DIR/logs/pg-initdb.log"
# Local (socket) logins are trusted: the socket lives in a directory only postgres and root
# reach. TCP logins need a password (scram-sha-256).
as_pg tee -a "$DIR/pg/primary/postgresql.conf" >/dev/null <<CONF
# --- Cartório topology (deploy/topology-up.sh)
listen_addresses = '127.0.0.1'
port = $PG_PRIMARY_PORT
unix_socket_directories = '$PG_RUN'
max_connections = 200
wal_level = replica
max_wal_senders = 4
max_replication_slots = 4
# pg_rewind can turn a failed primary into a standby of the promoted one.
wal_log_hints = on
hot_standby = on
hot_standby_feedback = on
synchronous_commit = on
CONF
as_pg "$PGBIN/pg_ctl" -D "$DIR/pg/primary" -l "$DIR/pg/primary.log" -w -t 60 start \
  >"$DIR/logs/pg-ctl.log" 2>&1 </dev/null || fail postgres "the primary did not start" "$DIR/logs/pg-ctl.log" "$DIR/pg/primary.log"

psql_admin() {  # psql_admin PORT SQL...: as the superuser, over the socket
  local port=$1
  shift
  as_pg "$PGBIN/psql" -h "$PG_RUN" -p "$port" -U postgres -d postgres -X -v ON_ERROR_STOP=1 -Atq "$@" </dev/null
}
PG_APP_PASSWORD=$(secret)
PG_REPL_PASSWORD=$(secret)
write_secret "$DIR/secrets/pg-cartorio.password" "$PG_APP_PASSWORD"
write_secret "$DIR/secrets/pg-replicator.password" "$PG_REPL_PASSWORD"
psql_admin "$PG_PRIMARY_PORT" \
  -c "CREATE ROLE replicator REPLICATION LOGIN PASSWORD '$PG_REPL_PASSWORD'" \
  -c "CREATE ROLE cartorio LOGIN PASSWORD '$PG_APP_PASSWORD'" \
  -c "CREATE DATABASE cartorio OWNER cartorio" \
  -c "SELECT pg_create_physical_replication_slot('standby1')" >"$DIR/logs/pg-setup.log" 2>&1 ||
  fail postgres "creating the roles, database and slot failed" "$DIR/logs/pg-setup.log"

# --- PostgreSQL hot standby: a base backup of the primary that keeps streaming from it
# (-R writes primary_conninfo and standby.signal; the slot keeps the WAL it has not received).
as_pg env PGPASSWORD="$PG_REPL_PASSWORD" "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$PG_PRIMARY_PORT" -U replicator \
  -D "$DIR/pg/standby" -R -S standby1 -X stream -c fast >"$DIR/logs/pg-basebackup.log" 2>&1 </dev/null ||
  fail postgres "pg_basebackup failed" "$DIR/logs/pg-basebackup.log" "$DIR/pg/primary.log"
# cluster_name is the application_name the standby reports: synchronous_standby_names names it.
as_pg tee -a "$DIR/pg/standby/postgresql.conf" >/dev/null <<CONF
# --- the standby
port = $PG_STANDBY_PORT
cluster_name = 'standby1'
CONF
as_pg "$PGBIN/pg_ctl" -D "$DIR/pg/standby" -l "$DIR/pg/standby.log" -w -t 60 start \
  >>"$DIR/logs/pg-ctl.log" 2>&1 </dev/null || fail postgres "the standby did not start" "$DIR/logs/pg-ctl.log" "$DIR/pg/standby.log"
streaming=""
for _ in $(seq 1 100); do
  streaming=$(psql_admin "$PG_PRIMARY_PORT" -c \
    "SELECT state FROM pg_stat_replication WHERE application_name = 'standby1'" 2>/dev/null || true)
  [ "$streaming" = streaming ] && break
  sleep 0.2
done
[ "$streaming" = streaming ] || fail postgres "the standby does not stream (state '$streaming')" "$DIR/pg/standby.log" "$DIR/pg/primary.log"
# Only now synchronous: a commit returns once the standby has it on disk too (no acknowledged
# write lost with the primary). Set earlier, the setup above would wait for a standby not there.
psql_admin "$PG_PRIMARY_PORT" -c "ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 (standby1)'" \
  -c "SELECT pg_reload_conf()" >>"$DIR/logs/pg-setup.log" 2>&1 ||
  fail postgres "turning synchronous replication on failed" "$DIR/logs/pg-setup.log"
sync_state=""
for _ in $(seq 1 50); do
  sync_state=$(psql_admin "$PG_PRIMARY_PORT" -c \
    "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'" 2>/dev/null || true)
  [ "$sync_state" = sync ] && break
  sleep 0.1
done
[ "$sync_state" = sync ] || fail postgres "the standby is not synchronous (sync_state '$sync_state')" "$DIR/pg/primary.log"
# Both hosts; libpq takes the one that accepts writes, so a promoted standby is found without
# a configuration change.
PG_URL="postgresql://cartorio:$PG_APP_PASSWORD@127.0.0.1:$PG_PRIMARY_PORT,127.0.0.1:$PG_STANDBY_PORT/cartorio?target_session_attrs=read-write"

# --- Redis primary (tests/fixtures/redis-start: loopback, password, no persistence: a cache)
# and a replica of it.
"$FIXTURES/redis-start" "$DIR/redis-primary" >"$DIR/logs/redis-start.log" 2>&1 </dev/null ||
  fail redis "the primary did not start" "$DIR/logs/redis-start.log" "$DIR/redis-primary/redis.log"
REDIS_PRIMARY_PORT=$(cut -d: -f2 "$DIR/redis-primary/endpoint")
REDIS_PASSWORD=$(cat "$DIR/redis-primary/password")
RR=$DIR/redis-replica
mkdir -p "$RR"
chmod 700 "$RR"
cp "$DIR/redis-primary/password" "$RR/password"
{
  sed -e "s|^port .*|port $REDIS_REPLICA_PORT|" -e "s|^dir .*|dir $RR|" \
      -e "s|^pidfile .*|pidfile $RR/redis.pid|" -e "s|^logfile .*|logfile $RR/redis.log|" \
      "$DIR/redis-primary/redis.conf"
  echo "replicaof 127.0.0.1 $REDIS_PRIMARY_PORT"
  echo "masterauth $REDIS_PASSWORD"
  echo "replica-read-only yes"
} >"$RR/redis.conf"
chmod 600 "$RR/redis.conf"
redis-server "$RR/redis.conf" >"$RR/redis-start.out" 2>&1 </dev/null ||
  fail redis "the replica did not start" "$RR/redis-start.out" "$RR/redis.log"
echo "127.0.0.1:$REDIS_REPLICA_PORT" >"$RR/endpoint"
link=""
for _ in $(seq 1 100); do
  link=$(REDISCLI_AUTH=$REDIS_PASSWORD redis-cli -p "$REDIS_REPLICA_PORT" --no-auth-warning info replication \
           2>/dev/null </dev/null | tr -d '\r' | sed -n 's/^master_link_status://p')
  [ "$link" = up ] && break
  sleep 0.1
done
[ "$link" = up ] || fail redis "the replica's link to the primary is '$link', not up" "$RR/redis.log" "$DIR/redis-primary/redis.log"

# --- SoftHSM2: a token of our own holds the online CA, OCSP, TSA, JWT and audit keys.
mkdir -p "$DIR/softhsm/tokens"
chmod 700 "$DIR/softhsm"
cat >"$DIR/softhsm/softhsm2.conf" <<CONF
directories.tokendir = $DIR/softhsm/tokens
objectstore.backend = file
log.level = ERROR
CONF
PKCS11_PIN=$(secret)
write_secret "$DIR/secrets/pkcs11.pin" "$PKCS11_PIN"
write_secret "$DIR/secrets/pkcs11.so-pin" "$(secret)"
SOFTHSM2_CONF=$DIR/softhsm/softhsm2.conf softhsm2-util --init-token --free --label cartorio \
  --so-pin "$(cat "$DIR/secrets/pkcs11.so-pin")" --pin "$PKCS11_PIN" >"$DIR/logs/softhsm.log" 2>&1 </dev/null ||
  fail softhsm "the token was not created" "$DIR/logs/softhsm.log"

# --- S3 (started above).
if ! wait "$s3_starter"; then
  fail s3 "the Swift servers did not start" "$DIR/logs/s3-start.log"
fi
S3_ENDPOINT=$(cat "$DIR/s3/endpoint")

# --- The installation's configuration: one environment file for every cartorio process
# (the same file, as EnvironmentFile=, for the systemd units in deploy/systemd/).
write_secret "$DIR/secrets/root-passphrase" "$(secret)"
(umask 077 && openssl rand -hex 32 >"$DIR/secrets/backup.key")
ROOT_CERT=$DIR/data/ca/root.pem
(
  umask 077
  cat >"$DIR/cartorio.env" <<ENV
CARTORIO_DATA_DIR='$DIR/data'
CARTORIO_PKI_PUBLIC_BASE_URL='http://127.0.0.1:$LB_HTTP_PORT'
CARTORIO_STORE_BACKEND='postgres'
CARTORIO_STORE_POSTGRES_URL='$PG_URL'
CARTORIO_KEYS_BACKEND='pkcs11'
CARTORIO_KEYS_PKCS11_MODULE='$PKCS11_MODULE'
CARTORIO_KEYS_PKCS11_TOKEN='cartorio'
CARTORIO_KEYS_PKCS11_PIN_FILE='$DIR/secrets/pkcs11.pin'
SOFTHSM2_CONF='$DIR/softhsm/softhsm2.conf'
CARTORIO_CACHE_BACKEND='redis'
CARTORIO_CACHE_REDIS_URL='redis://:$REDIS_PASSWORD@127.0.0.1:$REDIS_PRIMARY_PORT'
CARTORIO_OBJECTS_BACKEND='s3'
CARTORIO_OBJECTS_S3_ENDPOINT='http://$S3_ENDPOINT'
CARTORIO_OBJECTS_S3_REGION='$(cat "$DIR/s3/region")'
CARTORIO_OBJECTS_S3_BUCKET='cartorio'
CARTORIO_OBJECTS_S3_ACCESS_KEY='$(cat "$DIR/s3/access_key")'
CARTORIO_OBJECTS_S3_SECRET_KEY='$(cat "$DIR/s3/secret_key")'
CARTORIO_JOBS_IN_SERVER='false'
CARTORIO_BACKUP_KEY_FILE='$DIR/secrets/backup.key'
ENV
  if [ -n "${CARTORIO_TOPOLOGY_EXTRA_ENV:-}" ]; then cat "$CARTORIO_TOPOLOGY_EXTRA_ENV" >>"$DIR/cartorio.env"; fi
)
cat >"$DIR/topology.env" <<ENV
# deploy/topology-up.sh $DIR: non-secret endpoints (secrets: cartorio.env, secrets/)
TOPOLOGY_DIR='$DIR'
CARTORIO_BIN='$CARTORIO'
CARTORIO_ENV_FILE='$DIR/cartorio.env'
ROOT_CERT='$ROOT_CERT'
LB_HTTPS_PORT=$LB_HTTPS_PORT
LB_HTTP_PORT=$LB_HTTP_PORT
API1_HTTPS_PORT=$API1_HTTPS_PORT
API1_HTTP_PORT=$API1_HTTP_PORT
API2_HTTPS_PORT=$API2_HTTPS_PORT
API2_HTTP_PORT=$API2_HTTP_PORT
PG_PRIMARY_PORT=$PG_PRIMARY_PORT
PG_STANDBY_PORT=$PG_STANDBY_PORT
PG_PRIMARY_DATA='$DIR/pg/primary'
PG_STANDBY_DATA='$DIR/pg/standby'
REDIS_PRIMARY_PORT=$REDIS_PRIMARY_PORT
REDIS_REPLICA_PORT=$REDIS_REPLICA_PORT
S3_ENDPOINT='$S3_ENDPOINT'
ENV

# cartorio_env COMMAND...: COMMAND with the installation's environment. Run in the
# background it is one process, whose pid is $! (setsid then needs no fork: the script has no
# job control, so the process does not lead a group).
cartorio_env() {
  set -a
  # shellcheck source=/dev/null
  . "$DIR/cartorio.env"
  set +a
  exec "$@"
}

# --- The installation, once: CA hierarchy (keys generated in the token), first CRLs.
(cartorio_env "$CARTORIO" --data-dir "$DIR/data" init --root-passphrase-file "$DIR/secrets/root-passphrase" --json) \
  >"$DIR/logs/init.json" 2>"$DIR/logs/init.log" </dev/null || fail init "cartorio init failed" "$DIR/logs/init.log"

start_serve() {  # start_serve NAME HTTPS_PORT HTTP_PORT
  local name=$1 https=$2 http=$3 log=$DIR/logs/$1.log pid code=""
  (cartorio_env setsid "$CARTORIO" serve --data-dir "$DIR/data" --listen "127.0.0.1:$https" \
    --listen-http "127.0.0.1:$http") >"$log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$DIR/run/$name.pid"
  for _ in $(seq 1 300); do
    running "$pid" || fail "$name" "cartorio serve exited" "$log"
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$http/readyz" || true)
    [ "$code" = 200 ] && return 0
    sleep 0.2
  done
  fail "$name" "not ready within 60 s (/readyz: $code)" "$log"
}
# One after the other: the first start issues the shared server-tls certificate and creates
# the JWT and audit keys; the second finds them.
start_serve serve1 "$API1_HTTPS_PORT" "$API1_HTTP_PORT"
start_serve serve2 "$API2_HTTPS_PORT" "$API2_HTTP_PORT"

(cartorio_env setsid "$CARTORIO" worker --data-dir "$DIR/data") >"$DIR/logs/worker.log" 2>&1 </dev/null &
echo $! >"$DIR/run/worker.pid"
for _ in $(seq 1 100); do
  grep -q '"worker.started"' "$DIR/logs/worker.log" 2>/dev/null && break
  running "$(cat "$DIR/run/worker.pid")" || fail worker "cartorio worker exited" "$DIR/logs/worker.log"
  sleep 0.2
done
grep -q '"worker.started"' "$DIR/logs/worker.log" || fail worker "not started within 20 s" "$DIR/logs/worker.log"

# --- nginx in front.
mkdir -p "$DIR/nginx/tmp"
sed -e "s|@STATE_DIR@|$DIR/nginx|g" \
    -e "s|@LB_HTTPS_LISTEN@|127.0.0.1:$LB_HTTPS_PORT|g" -e "s|@LB_HTTP_LISTEN@|127.0.0.1:$LB_HTTP_PORT|g" \
    -e "s|@API1_HTTPS@|127.0.0.1:$API1_HTTPS_PORT|g" -e "s|@API2_HTTPS@|127.0.0.1:$API2_HTTPS_PORT|g" \
    -e "s|@API1_HTTP@|127.0.0.1:$API1_HTTP_PORT|g" -e "s|@API2_HTTP@|127.0.0.1:$API2_HTTP_PORT|g" \
    "$HERE/nginx/cartorio.conf.template" >"$DIR/nginx/nginx.conf"
"$NGINX" -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" -e "$DIR/nginx/error.log" -t >"$DIR/logs/nginx-start.log" 2>&1 </dev/null ||
  fail nginx "the configuration is refused" "$DIR/logs/nginx-start.log"
"$NGINX" -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" -e "$DIR/nginx/error.log" >>"$DIR/logs/nginx-start.log" 2>&1 </dev/null ||
  fail nginx "did not start" "$DIR/logs/nginx-start.log" "$DIR/nginx/error.log"

# nginx has no active health checks: wait here until /readyz through it came from both
# instances, on both listeners (its access logs name the instance that answered).
both_answered() {  # both_answered LOG PORT1 PORT2: a 200 from each instance is in LOG
  grep -qE " 200 .*upstream=127\.0\.0\.1:$2[ ,]" "$1" 2>/dev/null &&
    grep -qE " 200 .*upstream=127\.0\.0\.1:$3[ ,]" "$1" 2>/dev/null
}
ready=0
for _ in $(seq 1 150); do
  curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$LB_HTTP_PORT/readyz" || true
  curl -s -o /dev/null --max-time 5 --cacert "$ROOT_CERT" "https://127.0.0.1:$LB_HTTPS_PORT/readyz" || true
  if both_answered "$DIR/nginx/http-access.log" "$API1_HTTP_PORT" "$API2_HTTP_PORT" &&
     both_answered "$DIR/nginx/https-access.log" "$API1_HTTPS_PORT" "$API2_HTTPS_PORT" && lb_ready; then
    ready=1
    break
  fi
  sleep 0.2
done
[ "$ready" = 1 ] || fail nginx "/readyz through nginx did not reach both instances within 30 s" \
  "$DIR/nginx/error.log" "$DIR/nginx/http-access.log" "$DIR/nginx/https-access.log"

trap - INT TERM
echo "topology-up: up in $((SECONDS - started_at)) s"
print_endpoints
