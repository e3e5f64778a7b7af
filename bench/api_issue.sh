#!/usr/bin/env bash
# Load benchmark of authenticated certificate issuance through the HTTPS API
# (POST /api/v1/certificates), next to `openssl speed rsa2048`'s sign rate measured in the
# same run. Results and how to read them: docs/benchmarks.md. Dependencies:
# scripts/install-bench-deps.sh (wrk, openssl, curl, python3; linux-perf for --perf).
#
# Builds nothing: it runs an existing binary (--bin, $CARTORIO_BIN, default build/bin/cartorio;
# `bash scripts/build.sh release cartorio` makes it). Every run is bounded in time and sends
# traffic to 127.0.0.1 only. It creates a throw-away installation in a temporary directory
# (`cartorio init`, a service-role API key), starts `cartorio serve` on free loopback ports
# with the rate limits raised and log.level=warn (no per-request access log), warms up,
# runs `openssl speed -seconds N rsa2048`, then `wrk` (keep-alive) with bench/post.lua,
# stops the server and deletes the directory.
#
# Usage: bench/api_issue.sh [options]
#   --bin PATH            cartorio binary                        (default $CARTORIO_BIN or build/bin/cartorio)
#   --threads N           `serve --threads N` (worker threads)   (default: the server's, one per core)
#   --auth KIND           apikey | bearer | both                 (default apikey)
#                           apikey: X-API-Key: ck_<prefix>_<secret> on every request
#                           bearer: Authorization: Bearer <JWT> from the client_credentials grant
#                                   (fetched before the run; it lives 10 minutes by default)
#   --connections N       wrk -c                                  (default 64)
#   --wrk-threads N       wrk -t                                  (default 2)
#   --duration D          wrk -d of the measured run              (default 20s)
#   --warmup D            wrk -d of the warm-up run (not counted) (default 3s)
#   --openssl-seconds N   openssl speed -seconds                  (default 10)
#   --data-root DIR       where the temporary installation goes   (default ${TMPDIR:-/tmp});
#                           e.g. /dev/shm to take the disk's fsync latency out (diagnostic only)
#   --perf                record the server with `perf record -g` during the measured run and
#                           write perf-report.txt (needs linux-perf) into --out
#   --out DIR             keep the raw outputs (wrk, openssl, server log, perf) in DIR
#   --keep                keep the temporary installation (its path is printed)
#
# Output: the raw wrk and openssl lines, then one summary line per auth kind:
#   RESULT auth=apikey threads=default issue_rps=... p99_ms=... openssl_rsa2048_sign_s=... ratio=...% target=50% PASS|MISS
# Exit status: 0 when every run completed with only 201 answers (whether or not the target is
# met: this measures, it does not gate), 1 on a failed run, 2 on bad usage.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"

bin="${CARTORIO_BIN:-$repo/build/bin/cartorio}"
threads=""
auth="apikey"
connections=64
wrk_threads=2
duration="20s"
warmup="3s"
openssl_seconds=10
data_root="${TMPDIR:-/tmp}"
want_perf=0
out_dir=""
keep=0

usage() { sed -n '/^# Usage:/,/^# Exit status/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --auth) auth="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --wrk-threads) wrk_threads="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --openssl-seconds) openssl_seconds="$2"; shift 2 ;;
    --data-root) data_root="$2"; shift 2 ;;
    --perf) want_perf=1; shift ;;
    --out) out_dir="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) usage ;;
    *) echo "unknown option: $1" >&2; usage ;;
  esac
done
case "$auth" in apikey) kinds=(apikey) ;; bearer) kinds=(bearer) ;; both) kinds=(apikey bearer) ;; *) usage ;; esac
[[ -z "$threads" || "$threads" =~ ^[0-9]+$ ]] || usage
# A bounded run: the wrk durations must be plain numbers of seconds or minutes.
for d in "$duration" "$warmup"; do [[ "$d" =~ ^[0-9]+[sm]?$ ]] || { echo "bad duration: $d" >&2; exit 2; }; done

for tool in wrk openssl curl python3; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: bash scripts/install-bench-deps.sh" >&2; exit 1; }
done
[ "$want_perf" = 0 ] || command -v perf >/dev/null || { echo "perf is missing (linux-perf)" >&2; exit 1; }
[ -x "$bin" ] || { echo "no cartorio binary at $bin (bash scripts/build.sh release cartorio)" >&2; exit 1; }

work="$(mktemp -d "$data_root/cartorio-bench.XXXXXX")"
data="$work/data"
server_pid=""
perf_pid=""
cleanup() {
  [ -z "$perf_pid" ] || kill -INT "$perf_pid" 2>/dev/null || true
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  if [ -n "$out_dir" ]; then
    mkdir -p "$out_dir"
    cp "$work"/*.txt "$work"/*.log "$out_dir"/ 2>/dev/null || true
  fi
  if [ "$keep" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# "wall_seconds server_cpu_ticks machine_busy_ticks nproc": for the CPU accounting of a run.
cpu_snapshot() {
  python3 - "$server_pid" <<'EOF'
import os, sys, time
pid = sys.argv[1]
stat = open(f"/proc/{pid}/stat").read()
fields = stat[stat.rindex(")") + 2:].split()
server = int(fields[11]) + int(fields[12])        # utime + stime (fields 14 and 15)
cpu = [int(x) for x in open("/proc/stat").readline().split()[1:]]
busy = sum(cpu[:8]) - cpu[3] - cpu[4]             # user..steal, less idle and iowait (guest is in user)
print(time.monotonic(), server, busy, os.cpu_count())
EOF
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# --- machine ---------------------------------------------------------------------------------
cpu_model="$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "machine: nproc=$(nproc) cpu=\"$cpu_model\" load=\"$(cut -d' ' -f1-3 /proc/loadavg)\" kernel=$(uname -r)"
echo "tools: $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2); $(openssl version); binary=$bin"

# --- installation ------------------------------------------------------------------------------
export CARTORIO_DATA_DIR="$data"
CARTORIO_ROOT_PASSPHRASE="bench-root-passphrase-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export CARTORIO_ROOT_PASSPHRASE
export CARTORIO_LOG_LEVEL=warn
export CARTORIO_LIMITS_PER_IP_BURST=1000000 CARTORIO_LIMITS_PER_IP_PER_SECOND=1000000
export CARTORIO_LIMITS_PER_CLIENT_BURST=1000000 CARTORIO_LIMITS_PER_CLIENT_PER_SECOND=1000000
"$bin" init >"$work/init.log" 2>&1 || { cat "$work/init.log" >&2; exit 1; }
api_key="$("$bin" apikey create --name bench --role service 2>>"$work/init.log" | grep -E '^ck_' | tail -1)"
[ -n "$api_key" ] || { echo "apikey create printed no key" >&2; cat "$work/init.log" >&2; exit 1; }
prefix="$(cut -d_ -f2 <<<"$api_key")"

# One CSR (EC P-256), issued over and over: the server gives every issuance a fresh serial.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/bench.key" \
  -subj "/CN=bench.cartorio.test" -addext "subjectAltName=DNS:bench.cartorio.test" -out "$work/bench.csr" 2>/dev/null
python3 -c 'import json,sys; print(json.dumps({"profile": "tls-server", "csr": open(sys.argv[1]).read()}))' \
  "$work/bench.csr" >"$work/body.json"

# --- server --------------------------------------------------------------------------------
https_port="$(free_port)"
http_port="$(free_port)"
while [ "$http_port" = "$https_port" ]; do http_port="$(free_port)"; done
serve_args=(serve --listen "127.0.0.1:$https_port" --listen-http "127.0.0.1:$http_port")
[ -z "$threads" ] || serve_args+=(--threads "$threads")
"$bin" "${serve_args[@]}" >"$work/serve.log" 2>&1 &
server_pid=$!
base="https://127.0.0.1:$https_port"
for _ in $(seq 150); do
  curl -s -o /dev/null --max-time 1 --cacert "$data/ca/root.pem" "$base/healthz" && break
  kill -0 "$server_pid" 2>/dev/null || { echo "the server exited:" >&2; cat "$work/serve.log" >&2; exit 1; }
  sleep 0.2
done
curl -sf -o /dev/null --cacert "$data/ca/root.pem" "$base/healthz" || { echo "the server did not come up" >&2; exit 1; }
echo "server: pid=$server_pid $base threads=${threads:-default}"

issue_once() {  # $1 header name, $2 value; prints the serial of a fresh certificate
  curl -sf --max-time 10 --cacert "$data/ca/root.pem" -H "$1: $2" -H 'Content-Type: application/json' \
    --data-binary @"$work/body.json" "$base/api/v1/certificates" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["serial"])'
}

bearer_token() {
  curl -sf --max-time 10 --cacert "$data/ca/root.pem" -d grant_type=client_credentials \
    --data-urlencode "client_id=ck_$prefix" --data-urlencode "client_secret=$api_key" "$base/oauth/token" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

# Sanity: the same CSR twice gives two certificates with distinct serials.
s1="$(issue_once X-API-Key "$api_key")"; s2="$(issue_once X-API-Key "$api_key")"
[ -n "$s1" ] && [ -n "$s2" ] && [ "$s1" != "$s2" ] || { echo "issuance check failed: '$s1' '$s2'" >&2; exit 1; }
echo "check: the same CSR issued twice -> serials $s1 and $s2"

# --- reference: raw RSA-2048 sign rate (one process, as `openssl speed` runs by default) ---------
openssl speed -seconds "$openssl_seconds" rsa2048 >"$work/openssl-speed.txt" 2>&1
grep -E '^ *(sign|rsa)' "$work/openssl-speed.txt" | sed 's/^/openssl: /'
# openssl's sign/s is per second of its CPU time (user time), not of wall time: on a busy
# machine the two differ, so the wall-clock rate (signs done / -seconds) is kept too.
read -r rsa_sign_s rsa_wall_sign_s < <(python3 - "$work/openssl-speed.txt" "$openssl_seconds" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
lines = text.splitlines()
header = next(l.split() for l in lines if "sign/s" in l.split())
row = next(l.split() for l in lines if l.split()[:3] == ["rsa", "2048", "bits"])
done = re.search(r"Doing 2048 bits? private rsa'?s for \d+s: (\d+) 2048 bits? private RSA'?s", text)
wall = int(done.group(1)) / float(sys.argv[2]) if done else 0.0
print(row[3 + header.index("sign/s")], f"{wall:.1f}")
EOF
)
echo "openssl: rsa2048 sign/s per CPU second $rsa_sign_s, per wall second $rsa_wall_sign_s"

# --- load ----------------------------------------------------------------------------------------
status=0
for kind in "${kinds[@]}"; do
  if [ "$kind" = apikey ]; then
    export BENCH_AUTH_HEADER="X-API-Key" BENCH_AUTH_VALUE="$api_key"
  else
    token="$(bearer_token)"
    [ -n "$token" ] || { echo "the client_credentials grant gave no token" >&2; exit 1; }
    export BENCH_AUTH_HEADER="Authorization" BENCH_AUTH_VALUE="Bearer $token"
  fi
  export BENCH_BODY_FILE="$work/body.json"
  wrk_args=(-t"$wrk_threads" -c"$connections" --timeout 10s --latency -s "$here/post.lua" "$base/api/v1/certificates")
  wrk -d"$warmup" "${wrk_args[@]}" >"$work/wrk-warmup-$kind.txt" 2>&1 || true
  if [ "$want_perf" = 1 ]; then
    perf record -F 499 -p "$server_pid" -o "$work/perf-$kind.data" >"$work/perf-record-$kind.log" 2>&1 &
    perf_pid=$!
  fi
  cpu_before="$(cpu_snapshot)"
  wrk -d"$duration" "${wrk_args[@]}" >"$work/wrk-$kind.txt" 2>&1 || status=1
  cpu_after="$(cpu_snapshot)"
  if [ -n "$perf_pid" ]; then
    kill -INT "$perf_pid" 2>/dev/null || true; wait "$perf_pid" 2>/dev/null || true; perf_pid=""
    # Flat profiles (the system libraries have no frame pointers, so no call graphs).
    { perf report -i "$work/perf-$kind.data" --sort dso --stdio 2>/dev/null | grep -v '^$' | head -30
      perf report -i "$work/perf-$kind.data" --sort dso,sym --stdio 2>/dev/null | grep -v '^$' | cut -c1-160 | head -70
    } >"$work/perf-report-$kind.txt" || true
  fi
  sed "s/^/wrk[$kind]: /" "$work/wrk-$kind.txt"
  read -r rps p99_us created other < <(python3 - "$work/wrk-$kind.txt" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
rps = re.search(r"Requests/sec:\s*([0-9.]+)", t)
p99 = re.search(r"bench\.latency_us .*p99=(\d+)", t)
st = re.search(r"bench\.statuses ok=(\d+) other=(\d+)", t)
print(rps.group(1) if rps else "0", p99.group(1) if p99 else "0",
      st.group(1) if st else "0", st.group(2) if st else "-1")
EOF
  )
  if [ "$other" != 0 ] || [ "$created" = 0 ] || grep -q 'Socket errors' "$work/wrk-$kind.txt"; then
    echo "run $kind: $created created, $other other answers (or socket errors): not a valid measurement" >&2
    status=1
  fi
  python3 - "$kind" "${threads:-default}" "$rps" "$p99_us" "$rsa_sign_s" "$created" "$connections" "$duration" \
    "$cpu_before" "$cpu_after" "$(getconf CLK_TCK)" "$rsa_wall_sign_s" <<'EOF'
import sys
kind, threads, rps, p99_us, sign, created, conns, dur, before, after, hz, wall_sign = sys.argv[1:]
rps, p99_ms, sign, hz, wall_sign = float(rps), int(p99_us) / 1000.0, float(sign), float(hz), float(wall_sign)
b, a = [float(x) for x in before.split()], [float(x) for x in after.split()]
wall = a[0] - b[0]
server_cores = (a[1] - b[1]) / hz / wall          # the server's user+system CPU, in cores
busy_cores = (a[2] - b[2]) / hz / wall            # the whole machine's non-idle CPU, in cores
cpu_ms = 1000.0 * (a[1] - b[1]) / hz / int(created) if int(created) else 0.0
print(f"cpu[{kind}]: server used {server_cores:.2f} cores ({cpu_ms:.2f} ms CPU per issuance), "
      f"the machine {busy_cores:.2f} of {int(a[3])} cores busy (wrk and anything else running included)")
ratio = 100.0 * rps / sign if sign else 0.0
# Contention-free view: issuances per second of server CPU against signs per second of CPU.
cpu_ratio = 100.0 * (1000.0 / cpu_ms) / sign if sign and cpu_ms else 0.0
print(f"RESULT auth={kind} threads={threads} connections={conns} duration={dur} issued={created} "
      f"issue_rps={rps:.1f} p99_ms={p99_ms:.1f} openssl_rsa2048_sign_s={sign:.1f} "
      f"ratio={ratio:.1f}% target=50% {'PASS' if ratio >= 50 else 'MISS'} "
      f"server_cpu_ms_per_issue={cpu_ms:.2f} cpu_ratio={cpu_ratio:.1f}% openssl_wall_sign_s={wall_sign:.1f} "
      f"server_cores={server_cores:.2f} machine_busy_cores={busy_cores:.2f}")
EOF
done

# Server-side counters: what one issuance wrote (audit events per action).
if command -v sqlite3 >/dev/null && [ -f "$data/cartorio.db" ]; then
  sqlite3 -readonly "$data/cartorio.db" \
    "select 'db: certificates=' || (select count(*) from certificates) || ' audit_events=' || (select count(*) from audit_events)" \
    2>/dev/null || true
fi
exit "$status"
