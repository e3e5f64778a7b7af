#!/usr/bin/env bash
# Secret rotation under load (issue 6): `wrk` reads certificates through the HTTPS API with a
# Bearer JWT while the JWT signing key and the PostgreSQL password are rotated through the
# API, three times each. Shows that no request fails. Results: docs/benchmarks.md; how the
# rotations avoid failures: docs/secrets.md. Dependencies: scripts/install-bench-deps.sh (wrk,
# curl, python3) and PostgreSQL 15 (tests/fixtures/pg-start; psql).
#
# Builds nothing: it runs an existing binary (--bin, $CARTORIO_BIN, default build/bin/cartorio).
# Every run is bounded in time and sends traffic to 127.0.0.1 only. It
#   1. starts a throw-away PostgreSQL (tests/fixtures/pg-start) and creates a login role of the
#      installation's own, with CREATE on schema public;
#   2. creates a throw-away installation on it (`cartorio init`, store.backend=postgres,
#      secrets.rotate_postgres_password=true, rate limits raised, log.level=warn) and an admin
#      API key; starts `cartorio serve` on free loopback ports; waits until the secret-rotation
#      job has taken the role's password over (`cartorio secrets versions postgres-password`);
#   3. fetches a Bearer token (client_credentials) and runs `wrk --latency` against
#      GET /api/v1/certificates?limit=5 (every request needs the token and the database);
#      at 1/4, 2/4 and 3/4 of the run it POSTs /api/v1/secrets/jwt-signing-key/rotate and
#      /api/v1/secrets/postgres-password/rotate as admin (X-API-Key), expecting 201;
#   4. checks afterwards: the role's original password is refused and the one
#      `cartorio secrets get postgres-password` prints is accepted; the JWKS lists >= 2 keys;
#      a fresh token's kid is `cartorio secrets get jwt-signing-key`; the token wrk used
#      (signed by the first key) is still accepted;
#   5. stops the server and PostgreSQL and deletes everything.
#
# Usage: bench/secret_rotation.sh [options]
#   --bin PATH            cartorio binary                        (default $CARTORIO_BIN or build/bin/cartorio)
#   --threads N           `serve --threads N` (worker threads)   (default: the server's, one per core)
#   --connections N       wrk -c                                  (default 16)
#   --wrk-threads N       wrk -t                                  (default 2)
#   --duration D          wrk -d, seconds or minutes (40s, 2m)    (default 40s)
#   --data-root DIR       where the temporary installation goes   (default ${TMPDIR:-/tmp})
#   --out DIR             keep the raw outputs (wrk, rotations, server log) in DIR
#   --keep                keep the temporary installation (PostgreSQL is stopped all the same)
#
# Output: machine facts, the wrk output, one line per rotation, the checks, then
#   RESULT requests=N rps=... p99_ms=... non2xx=0 socket_errors=0 jwt_rotations=3 pg_rotations=3 PASS|FAIL
# (non2xx counts every answer other than 200, as the wrk script sees them).
# Exit status: 0 when no request failed (no non-200 answer, no socket error), every rotation
# answered 201 and every check after the run passed; 1 otherwise; 2 on bad usage.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"

bin="${CARTORIO_BIN:-$repo/build/bin/cartorio}"
threads=""
connections=16
wrk_threads=2
duration="40s"
data_root="${TMPDIR:-/tmp}"
out_dir=""
keep=0

usage() { sed -n '/^# Usage:/,/^# Exit status/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --wrk-threads) wrk_threads="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --data-root) data_root="$2"; shift 2 ;;
    --out) out_dir="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) usage ;;
    *) echo "unknown option: $1" >&2; usage ;;
  esac
done
[[ -z "$threads" || "$threads" =~ ^[0-9]+$ ]] || usage
[[ "$connections" =~ ^[0-9]+$ && "$wrk_threads" =~ ^[0-9]+$ ]] || usage
[[ "$duration" =~ ^([0-9]+)([sm]?)$ ]] || { echo "bad duration: $duration" >&2; exit 2; }
duration_s="${BASH_REMATCH[1]}"
[ "${BASH_REMATCH[2]}" = m ] && duration_s=$((duration_s * 60))
[ "$duration_s" -ge 8 ] || { echo "the duration must be at least 8s (three rotations inside it)" >&2; exit 2; }

for tool in wrk curl python3 psql; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: bash scripts/install-bench-deps.sh (psql: postgresql-client)" >&2; exit 1; }
done
[ -x "$bin" ] || { echo "no cartorio binary at $bin (bash scripts/build.sh release cartorio)" >&2; exit 1; }
grep -qE '^ +secrets +' <<<"$("$bin" --help 2>&1)" || { echo "$bin has no \`secrets\` subcommand" >&2; exit 1; }

work="$(mktemp -d "$data_root/cartorio-rotation.XXXXXX")"
data="$work/data"
pg_dir="$work/pg"
pg_started=0
server_pid=""
wrk_pid=""
cleanup() {
  [ -z "$wrk_pid" ] || kill -TERM "$wrk_pid" 2>/dev/null || true
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  [ "$pg_started" = 0 ] || "$repo/tests/fixtures/pg-stop" "$pg_dir" >/dev/null 2>&1 || true
  if [ -n "$out_dir" ]; then
    mkdir -p "$out_dir"
    cp "$work"/*.txt "$work"/*.log "$out_dir"/ 2>/dev/null || true
  fi
  if [ "$keep" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
random_hex() { python3 -c 'import secrets; print(secrets.token_hex(16))'; }
# Wall-clock time in microseconds, without a process (the rotations must not slip under load).
now_us() { local t="${EPOCHREALTIME/./}"; echo "$((10#$t))"; }

# --- machine ---------------------------------------------------------------------------------
cpu_model="$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "machine: nproc=$(nproc) cpu=\"$cpu_model\" load=\"$(cut -d' ' -f1-3 /proc/loadavg)\" kernel=$(uname -r)"
echo "tools: $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2); $(psql --version); binary=$bin"

# --- PostgreSQL and the installation's own role -------------------------------------------------
pg_started=1
"$repo/tests/fixtures/pg-start" "$pg_dir" >"$work/pg-start.log" 2>&1 || { cat "$work/pg-start.log" >&2; exit 1; }
fixture_conninfo="$(cat "$pg_dir/conninfo")"
pg_port="$(cat "$pg_dir/port")"
role="cartorio_bench_rot"
role_password="$(random_hex)"
psql "$fixture_conninfo" -v ON_ERROR_STOP=1 -q \
  -c "CREATE ROLE $role LOGIN PASSWORD '$role_password'" \
  -c "GRANT ALL ON SCHEMA public TO $role" >"$work/pg-role.log" 2>&1 || { cat "$work/pg-role.log" >&2; exit 1; }
role_conninfo_base="host=127.0.0.1 port=$pg_port dbname=cartorio_test user=$role"
echo "postgres: 127.0.0.1:$pg_port role=$role (its own login role, CREATE on schema public)"

# --- installation ------------------------------------------------------------------------------
export CARTORIO_DATA_DIR="$data"
CARTORIO_ROOT_PASSPHRASE="bench-root-passphrase-$(random_hex)"
export CARTORIO_ROOT_PASSPHRASE
export CARTORIO_STORE_BACKEND=postgres
export CARTORIO_STORE_POSTGRES_URL="$role_conninfo_base password=$role_password"
export CARTORIO_SECRETS_ROTATE_POSTGRES_PASSWORD=true
export CARTORIO_LOG_LEVEL="${CARTORIO_LOG_LEVEL:-warn}"
export CARTORIO_LIMITS_PER_IP_BURST=1000000 CARTORIO_LIMITS_PER_IP_PER_SECOND=1000000
export CARTORIO_LIMITS_PER_CLIENT_BURST=1000000 CARTORIO_LIMITS_PER_CLIENT_PER_SECOND=1000000
"$bin" init >"$work/init.log" 2>&1 || { cat "$work/init.log" >&2; exit 1; }
key_json="$("$bin" apikey create --name bench --role admin --json 2>>"$work/init.log" | tail -1)" || true
read -r prefix api_key < <(python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print(j["prefix"], j["key"])' "$key_json") ||
  { echo "apikey create printed no key: $key_json" >&2; cat "$work/init.log" >&2; exit 1; }

# --- server --------------------------------------------------------------------------------
https_port="$(free_port)"
http_port="$(free_port)"
while [ "$http_port" = "$https_port" ]; do http_port="$(free_port)"; done
serve_args=(serve --listen "127.0.0.1:$https_port" --listen-http "127.0.0.1:$http_port")
[ -z "$threads" ] || serve_args+=(--threads "$threads")
"$bin" "${serve_args[@]}" >"$work/serve.log" 2>&1 &
server_pid=$!
base="https://127.0.0.1:$https_port"
ca=(--cacert "$data/ca/root.pem")
for _ in $(seq 150); do
  curl -s -o /dev/null --max-time 1 "${ca[@]}" "$base/healthz" && break
  kill -0 "$server_pid" 2>/dev/null || { echo "the server exited:" >&2; cat "$work/serve.log" >&2; exit 1; }
  sleep 0.2
done
curl -sf -o /dev/null "${ca[@]}" "$base/healthz" || { echo "the server did not come up" >&2; exit 1; }
echo "server: pid=$server_pid $base threads=${threads:-default} log.level=$CARTORIO_LOG_LEVEL"

# The secret-rotation job runs at server start: it records jwt-signing-key and takes the
# role's password over (postgres-password version 1).
taken=0
for _ in $(seq 120); do
  if "$bin" secrets versions postgres-password >"$work/pg-versions-before.txt" 2>&1; then taken=1; break; fi
  sleep 0.5
done
[ "$taken" = 1 ] || { echo "the rotation job did not take the password over:" >&2; cat "$work/pg-versions-before.txt" "$work/serve.log" >&2; exit 1; }
versions_of() { "$bin" secrets versions "$1" 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
echo "takeover: postgres-password versions=$(versions_of postgres-password), jwt-signing-key versions=$(versions_of jwt-signing-key)"

bearer_token() {
  curl -sf --max-time 10 "${ca[@]}" -d grant_type=client_credentials \
    --data-urlencode "client_id=ck_$prefix" --data-urlencode "client_secret=$api_key" "$base/oauth/token" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
token_kid() { python3 -c '
import base64, json, sys
h = sys.argv[1].split(".")[0]
print(json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))["kid"])' "$1"; }

token="$(bearer_token)" || true
[ -n "$token" ] || { echo "the client_credentials grant gave no token" >&2; exit 1; }
target="$base/api/v1/certificates?limit=5"
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "${ca[@]}" -H "Authorization: Bearer $token" "$target")"
[ "$code" = 200 ] || { echo "GET $target with the token answered $code" >&2; exit 1; }
first_kid="$(token_kid "$token")"
echo "check: GET /api/v1/certificates?limit=5 with the Bearer token -> 200 (kid $first_kid)"

# --- load, with rotations at 1/4, 2/4, 3/4 -------------------------------------------------------
# Counts answers by status per wrk thread; keeps the first non-200 answers with their time.
cat >"$work/count.lua" <<'EOF'
local threads = {}
setup = function(thread) table.insert(threads, thread) end
init = function(args) ok = 0; other = 0; first = "" end
response = function(status, headers, body)
  if status == 200 then ok = ok + 1 else
    other = other + 1
    if other <= 5 then first = first .. string.format(" %d@%d", status, os.time()) end
  end
end
done = function(summary, latency, requests)
  local o, k, f = 0, 0, ""
  for _, t in ipairs(threads) do k = k + t:get("ok"); o = o + t:get("other"); f = f .. t:get("first") end
  io.write(string.format("bench.statuses ok=%d other=%d%s\n", k, o, o > 0 and (" first(status@unix_s):" .. f) or ""))
end
EOF

wrk -t"$wrk_threads" -c"$connections" -d"$duration" --timeout 10s --latency -s "$work/count.lua" \
  -H "Authorization: Bearer $token" "$target" >"$work/wrk.txt" 2>&1 &
wrk_pid=$!
t0="$(now_us)"
echo "wrk: started at $(date -u +%H:%M:%S) (unix $(date +%s)): -t$wrk_threads -c$connections -d$duration GET /api/v1/certificates?limit=5"

: >"$work/rotations.txt"
rotate() {  # $1 secret name, $2 round; appends "name round at_s status call_s" to rotations.txt
  local at_us at out
  at_us="$(now_us)"
  at="$(( (at_us - t0) / 1000000 )).$(printf %02d $(( (at_us - t0) / 10000 % 100 )))"
  [ "$1" != postgres-password ] || last_pg_rotation_us="$at_us"
  out="$(curl -s -o "$work/rotate-$1-$2.json" -w '%{http_code} %{time_total}' --max-time 30 "${ca[@]}" \
    -X POST -H "X-API-Key: $api_key" "$base/api/v1/secrets/$1/rotate")" || true
  read -r code secs <<<"${out:-000 0}"
  echo "$1 $2 $at $code $secs" >>"$work/rotations.txt"
  echo "rotation: $1 #$2 at t=${at}s (unix $((at_us / 1000000))) -> HTTP $code in ${secs}s $(head -c 300 "$work/rotate-$1-$2.json" 2>/dev/null | tr -d '\n')"
}
last_pg_rotation_us=0
for round in 1 2 3; do
  wait_us=$(( t0 + duration_s * 1000000 * round / 4 - $(now_us) ))
  [ "$wait_us" -le 0 ] || sleep "$((wait_us / 1000000)).$(printf %06d $((wait_us % 1000000)))"
  rotate jwt-signing-key "$round"
  rotate postgres-password "$round"
done
wrk_status=0
wait "$wrk_pid" || wrk_status=$?
wrk_pid=""
sed 's/^/wrk: /' "$work/wrk.txt"
[ "$wrk_status" = 0 ] || echo "wrk exited with status $wrk_status" >&2

# --- checks after the run ------------------------------------------------------------------------
checks_ok=1
check() {  # $1 description, $2 "ok" or what went wrong
  if [ "$2" = ok ]; then echo "check: $1: ok"; else echo "check: $1: FAILED ($2)"; checks_ok=0; fi
}
# The pool retires the sessions opened before a rotation: after the run, every session of the
# role must have been opened (logged in) after the last password rotation began.
read -r n_sessions n_old < <(psql "$fixture_conninfo" -tA -F' ' -c \
  "select count(*), count(*) filter (where backend_start < to_timestamp($last_pg_rotation_us / 1000000.0))
   from pg_stat_activity where usename = '$role'" 2>>"$work/pg-role.log") || { n_sessions=?; n_old=?; }
[ "$n_old" = 0 ] && r=ok || r="$n_old of them opened before it"
check "the role's $n_sessions open sessions were all opened after the last password rotation" "$r"
pg_login() { PGCONNECT_TIMEOUT=10 psql "$role_conninfo_base password=$1" -tAc 'select current_user' 2>&1; }
out="$(pg_login "$role_password")" && r="accepted: $out" || r=ok
check "the role's original password is refused" "$r"
[ "$r" = ok ] && echo "  psql: $(tail -1 <<<"$out")"
current_pw="$("$bin" secrets get postgres-password 2>"$work/secrets-get.log")" || current_pw=""
out="$(pg_login "$current_pw")" && [ "$out" = "$role" ] && r=ok || r="refused: $(tail -1 <<<"$out")"
check "the password \`cartorio secrets get postgres-password\` prints is accepted" "$r"
pg_versions="$(versions_of postgres-password)"
jwt_versions="$(versions_of jwt-signing-key)"
echo "secrets: postgres-password versions=$pg_versions, jwt-signing-key versions=$jwt_versions"

jwks_keys="$(curl -sf --max-time 10 "${ca[@]}" "$base/.well-known/jwks.json" |
  python3 -c 'import json,sys; print(" ".join(k.get("kid","?") for k in json.load(sys.stdin)["keys"]))')" || jwks_keys=""
n_keys="$(wc -w <<<"$jwks_keys")"
[ "$n_keys" -ge 2 ] && r=ok || r="$n_keys keys"
check "the JWKS lists >= 2 keys ($n_keys: $jwks_keys)" "$r"
[[ " $jwks_keys " == *" $first_kid "* ]] && r=ok || r="missing"
check "the first key ($first_kid), which signed wrk's token, is still in the JWKS" "$r"
fresh="$(bearer_token)" || fresh=""
fresh_kid="$([ -n "$fresh" ] && token_kid "$fresh" || echo none)"
current_kid="$("$bin" secrets get jwt-signing-key 2>>"$work/secrets-get.log")" || current_kid=""
[ -n "$current_kid" ] && [ "$fresh_kid" = "$current_kid" ] && r=ok || r="token kid $fresh_kid, secret $current_kid"
check "a fresh token's kid is \`cartorio secrets get jwt-signing-key\` ($current_kid)" "$r"
[ "$fresh_kid" != "$first_kid" ] && r=ok || r="the key did not change"
check "it differs from the first key" "$r"
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "${ca[@]}" -H "Authorization: Bearer $token" "$target")"
[ "$code" = 200 ] && r=ok || r="HTTP $code"
check "wrk's token (first key) is still accepted" "$r"

# The server's warnings and errors during the run (log.level=warn: nothing per request).
n_log="$(grep -c . "$work/serve.log" || true)"
echo "server log: $n_log lines (level $CARTORIO_LOG_LEVEL)$([ "$n_log" = 0 ] || echo ", last 20:")"
[ "$n_log" = 0 ] || tail -20 "$work/serve.log" | cut -c1-400 | sed 's/^/serve: /'

# --- summary -------------------------------------------------------------------------------------
python3 - "$work/wrk.txt" "$work/rotations.txt" "$checks_ok" "$wrk_status" <<'EOF'
import re, sys
wrk, rot, checks_ok, wrk_status = open(sys.argv[1]).read(), open(sys.argv[2]).read().split("\n"), sys.argv[3], sys.argv[4]
def num(pattern, default="0"):
    m = re.search(pattern, wrk)
    return m.group(1) if m else default
requests = int(num(r"(\d+) requests in"))
rps = float(num(r"Requests/sec:\s*([0-9.]+)"))
m = re.search(r"^\s*99%\s+([0-9.]+)(us|ms|s)\s*$", wrk, re.M)
p99_ms = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)] if m else -1.0
non2xx_wrk = int(num(r"Non-2xx or 3xx responses:\s*(\d+)"))
st = re.search(r"bench\.statuses ok=(\d+) other=(\d+)", wrk)
other = int(st.group(2)) if st else -1
non2xx = max(non2xx_wrk, other)
se = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", wrk)
socket_errors = sum(int(x) for x in se.groups()) if se else 0
rows = [r.split() for r in rot if r.strip()]
jwt = sum(1 for r in rows if r[0] == "jwt-signing-key" and r[3] == "201")
pg = sum(1 for r in rows if r[0] == "postgres-password" and r[3] == "201")
ok = (requests > 0 and st is not None and non2xx == 0 and socket_errors == 0 and jwt == 3 and pg == 3
      and checks_ok == "1" and wrk_status == "0")
print(f"RESULT requests={requests} rps={rps:.1f} p99_ms={p99_ms:.2f} non2xx={non2xx} socket_errors={socket_errors} "
      f"jwt_rotations={jwt} pg_rotations={pg} {'PASS' if ok else 'FAIL'}")
sys.exit(0 if ok else 1)
EOF
