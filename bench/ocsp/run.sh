#!/usr/bin/env bash
# OCSP responder benchmark: cached OCSP responses per second and p99 latency of `cartorio serve`
# under `wrk` (keep-alive, 64 connections), in the same run as three reference servers
# answering the same request:
#   nginx            the same response bytes as a static file (the ceiling: no OCSP work at all)
#   openssl ocsp     `openssl ocsp -port -multi 2` over an index.txt with the same certificate
#                    (signs every response: the "no cache" reference)
#   cfssl ocspserve  the same pre-signed response, loaded from a file (Debian golang-cfssl)
# Results and how to read them: docs/benchmarks.md ("OCSP responder"). Dependencies:
# scripts/install-bench-deps.sh (wrk, nginx, golang-cfssl, openssl, curl, python3; linux-perf
# for --perf).
#
# Builds nothing: it runs an existing binary (--bin, $CARTORIO_BIN, default build/bin/cartorio).
# Every server is started here, as the current user, on free ports of 127.0.0.1, from a
# temporary directory, and stopped at the end (trap); a system nginx, if any, is not touched.
# Every wrk run is bounded (-d, --timeout) and sends traffic to 127.0.0.1 only.
#
# Usage: bench/ocsp/run.sh [options]
#   --bin PATH            cartorio binary                        (default $CARTORIO_BIN or build/bin/cartorio)
#   --threads N           `serve --threads N`                    (default: the server's, one per core)
#   --duration D          wrk -d of each measured run            (default 15s)
#   --warmup D            wrk -d of each warm-up run (not counted) (default 3s)
#   --connections N       wrk -c                                  (default 64)
#   --wrk-threads N       wrk -t                                  (default 2)
#   --nginx-workers N     nginx worker_processes                  (default 2 = nproc here: `auto`)
#   --openssl-multi N     openssl ocsp -multi                     (default 2)
#   --only LIST           comma-separated subset of: ours,ours-post,nginx,openssl,cfssl (default all)
#   --perf                after the measured runs, one extra 8 s wrk run against our server (GET)
#                           with `perf record --call-graph dwarf` attached; writes perf-report.txt into --out
#                           (the perf run is not counted: perf perturbs it)
#   --out DIR             keep the raw outputs (wrk, server logs, perf) in DIR
#   --keep                keep the temporary directory (its path is printed)
#
# Output: the machine, the correctness checks, one RUN line per server, then a summary table
# and one RESULT line:
#   RESULT ours_rps=... ours_p99_ms=... nginx_rps=... ours/nginx=...% target=50% PASS|MISS ...
# Exit status: 0 when every run completed with only 200 answers and no socket errors (whether
# or not the target is met: this measures, it does not gate), 1 on a failed run or check,
# 2 on bad usage.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

bin="${CARTORIO_BIN:-$repo/build/bin/cartorio}"
threads=""
duration="15s"
warmup="3s"
connections=64
wrk_threads=2
nginx_workers=2
openssl_multi=2
only="ours,ours-post,nginx,openssl,cfssl"
want_perf=0
out_dir=""
keep=0

usage() { sed -n '/^# Usage:/,/^# Exit status/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --wrk-threads) wrk_threads="$2"; shift 2 ;;
    --nginx-workers) nginx_workers="$2"; shift 2 ;;
    --openssl-multi) openssl_multi="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --perf) want_perf=1; shift ;;
    --out) out_dir="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) usage ;;
    *) echo "unknown option: $1" >&2; usage ;;
  esac
done
for n in "$connections" "$wrk_threads" "$nginx_workers" "$openssl_multi"; do [[ "$n" =~ ^[1-9][0-9]*$ ]] || usage; done
[[ -z "$threads" || "$threads" =~ ^[0-9]+$ ]] || usage
# A bounded run: the wrk durations must be plain numbers of seconds or minutes.
for d in "$duration" "$warmup"; do [[ "$d" =~ ^[0-9]+[sm]?$ ]] || { echo "bad duration: $d" >&2; exit 2; }; done
IFS=, read -r -a servers <<<"$only"
for s in "${servers[@]}"; do
  case "$s" in ours|ours-post|nginx|openssl|cfssl) ;; *) echo "unknown server in --only: $s" >&2; exit 2 ;; esac
done
wants() { [[ ",$only," == *",$1,"* ]]; }

for tool in wrk openssl curl python3; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: bash scripts/install-bench-deps.sh" >&2; exit 1; }
done
! wants nginx || command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ||
  { echo "nginx is missing: bash scripts/install-bench-deps.sh" >&2; exit 1; }
! wants cfssl || command -v cfssl >/dev/null || { echo "cfssl is missing (golang-cfssl)" >&2; exit 1; }
[ "$want_perf" = 0 ] || command -v perf >/dev/null || { echo "perf is missing (linux-perf)" >&2; exit 1; }
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
# The server may be relinked by a build running elsewhere: wait a little for it to reappear.
for _ in $(seq 30); do [ -x "$bin" ] && break; sleep 2; done
[ -x "$bin" ] || { echo "no cartorio binary at $bin (bash scripts/build.sh release cartorio)" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/cartorio-ocsp-bench.XXXXXX")"
data="$work/data"
ours_pid=""
ref_pid=""      # the reference server running now (nginx master, openssl parent, cfssl)
perf_pid=""

# Stops a process and its direct children (openssl -multi's parent waits for its children and
# does not stop them on SIGTERM while they are busy; nginx's master stops its workers itself).
stop_tree() {
  local pid="$1" kids
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kids="$(ps -o pid= --ppid "$pid" 2>/dev/null | tr '\n' ' ' || true)"
  kill -TERM "$pid" 2>/dev/null || true
  [ -z "$kids" ] || kill -TERM $kids 2>/dev/null || true
  for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  [ -z "$kids" ] || kill -KILL $kids 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  [ -z "$perf_pid" ] || kill -INT "$perf_pid" 2>/dev/null || true
  stop_tree "$ref_pid"
  stop_tree "$ours_pid"
  if [ -n "$out_dir" ]; then
    mkdir -p "$out_dir"
    cp "$work"/*.txt "$work"/*.log "$out_dir"/ 2>/dev/null || true
  fi
  if [ "$keep" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM
# A copy, so that a relink elsewhere cannot change the binary in the middle of the run.
cp "$bin" "$work/cartorio"
bin_info="$bin ($(stat -c '%y' "$bin" | cut -d. -f1), sha256 $(sha256sum "$bin" | cut -c1-12))"
bin="$work/cartorio"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# "monotonic_seconds tree_cpu_ticks machine_busy_ticks nproc" for a process and its descendants
# (utime+stime of each, plus the children it has already reaped: cutime+cstime of the root).
cpu_snapshot() {
  python3 - "${1:-0}" <<'EOF'
import os, sys, time
root = int(sys.argv[1])
def stat(pid):
    try:
        s = open(f"/proc/{pid}/stat").read()
    except OSError:
        return None
    return s[s.rindex(")") + 2:].split()
kids = {}
for p in os.listdir("/proc"):
    if p.isdigit():
        f = stat(p)
        if f: kids.setdefault(int(f[1]), []).append(int(p))
total, todo, first = 0, [root], True
while todo and root:
    pid = todo.pop()
    f = stat(pid)
    if f:
        total += int(f[11]) + int(f[12])                     # utime + stime
        if first: total += int(f[13]) + int(f[14])           # + reaped children
    first = False
    todo += kids.get(pid, [])
cpu = [int(x) for x in open("/proc/stat").readline().split()[1:]]
busy = sum(cpu[:8]) - cpu[3] - cpu[4]                        # less idle and iowait
print(time.monotonic(), total, busy, os.cpu_count())
EOF
}

wait_http() {  # $1 URL, $2 pid: waits until the URL answers (any status)
  for _ in $(seq 150); do
    curl -s -o /dev/null --max-time 1 "$1" && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# --- machine ---------------------------------------------------------------------------------
cpu_model="$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "machine: nproc=$(nproc) cpu=\"$cpu_model\" load=\"$(loadavg)\" kernel=$(uname -r)"
echo "tools: $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2); $(openssl version); $("$nginx_bin" -v 2>&1);" \
  "cfssl $(cfssl version 2>/dev/null | head -1 | sed 's/^Version: //' || echo '?')"
echo "binary: $bin_info"

# --- installation, certificate, request ---------------------------------------------------------
export CARTORIO_DATA_DIR="$data"
CARTORIO_ROOT_PASSPHRASE="bench-root-passphrase-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export CARTORIO_ROOT_PASSPHRASE
export CARTORIO_LOG_LEVEL=warn
export CARTORIO_LIMITS_PER_IP_BURST=1000000 CARTORIO_LIMITS_PER_IP_PER_SECOND=1000000
export CARTORIO_LIMITS_PER_CLIENT_BURST=1000000 CARTORIO_LIMITS_PER_CLIENT_PER_SECOND=1000000
"$bin" init >"$work/init.log" 2>&1 || { cat "$work/init.log" >&2; exit 1; }
root_pem="$data/ca/root.pem"
"$bin" ca chain --ca tls 2>>"$work/init.log" >"$work/tls-chain.pem"
awk '/-----BEGIN CERTIFICATE-----/{n++} n==1{print} /-----END CERTIFICATE-----/{if(n==1) exit}' \
  "$work/tls-chain.pem" >"$work/tls-ca.pem"

# The leaf whose status is asked (EC P-256, tls-server), and a delegated OCSP responder
# certificate (profile ocsp, issued by the TLS CA, EC P-256 like ours) for `openssl ocsp -port`.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/leaf.key" \
  -subj "/CN=ocsp-bench.cartorio.test" -addext "subjectAltName=DNS:ocsp-bench.cartorio.test" \
  -out "$work/leaf.csr" 2>/dev/null
"$bin" cert issue --profile tls-server --csr "$work/leaf.csr" --out "$work/leaf.pem" >>"$work/init.log" 2>&1
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/responder.key" \
  -subj "/CN=openssl ocsp bench responder" -out "$work/responder.csr" 2>/dev/null
"$bin" cert issue --profile ocsp --ca tls --csr "$work/responder.csr" --out "$work/responder.pem" >>"$work/init.log" 2>&1

# The request: one SHA-1 CertID, no nonce (cacheable, and every answer can be the same bytes).
openssl ocsp -issuer "$work/tls-ca.pem" -cert "$work/leaf.pem" -no_nonce -reqout "$work/req.der" >/dev/null
req_b64_url="$(base64 -w0 "$work/req.der" | python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.stdin.read().strip(), safe=""))')"
export BENCH_OCSP_REQUEST="$work/req.der"

# openssl ca's index.txt: V <notAfter YYMMDDHHMMSSZ> <no revocation date> <SERIAL> unknown <subject>
serial="$(openssl x509 -in "$work/leaf.pem" -noout -serial | cut -d= -f2)"
not_after="$(date -u -d "$(openssl x509 -in "$work/leaf.pem" -noout -enddate | cut -d= -f2)" +%y%m%d%H%M%SZ)"
subject="$(openssl x509 -in "$work/leaf.pem" -noout -subject -nameopt compat | sed 's/^subject=//')"
printf 'V\t%s\t\t%s\tunknown\t%s\n' "$not_after" "$serial" "$subject" >"$work/index.txt"
echo "unique_subject = no" >"$work/index.txt.attr"
echo "certificate: serial $serial, notAfter $not_after, request $(stat -c %s "$work/req.der") bytes (SHA-1 CertID, no nonce)"

# check_response NAME FILE: the bytes parse as an OCSP response, verify up to our root and say good.
status=0
check_response() {
  local out
  out="$(openssl ocsp -respin "$2" -issuer "$work/tls-ca.pem" -cert "$work/leaf.pem" -CAfile "$root_pem" \
    -no_nonce 2>&1 || true)"
  if grep -q 'Response verify OK' <<<"$out" && grep -q "leaf.pem: good" <<<"$out"; then
    echo "check[$1]: $(stat -c %s "$2")-byte response, verify OK, good"
  else
    echo "check[$1]: FAILED" >&2; sed 's/^/  /' <<<"$out" >&2; status=1; return 1
  fi
}

# --- our server --------------------------------------------------------------------------------
https_port="$(free_port)"
http_port="$(free_port)"
while [ "$http_port" = "$https_port" ]; do http_port="$(free_port)"; done
serve_args=(serve --listen "127.0.0.1:$https_port" --listen-http "127.0.0.1:$http_port")
[ -z "$threads" ] || serve_args+=(--threads "$threads")
"$bin" "${serve_args[@]}" >"$work/serve.log" 2>&1 &
ours_pid=$!
wait_http "http://127.0.0.1:$http_port/healthz" "$ours_pid" || { echo "our server did not come up:" >&2; cat "$work/serve.log" >&2; exit 1; }
ours_url="http://127.0.0.1:$http_port/ocsp/tls/$req_b64_url"
echo "server[ours]: pid=$ours_pid http://127.0.0.1:$http_port threads=${threads:-default} cache=in-process (ocsp.cache_ttl_seconds default)"

# openssl's own client, POST: signs (first request: a cache miss) and verifies.
out="$(openssl ocsp -reqin "$work/req.der" -url "http://127.0.0.1:$http_port/ocsp/tls" -CAfile "$root_pem" \
  -issuer "$work/tls-ca.pem" -no_nonce -respout "$work/ours-post.der" 2>&1 || true)"
grep -q 'Response verify OK' <<<"$out" || { echo "openssl ocsp against our server: $out" >&2; exit 1; }
check_response "ours POST via openssl ocsp -url" "$work/ours-post.der" || exit 1
# The GET wrk will send, twice: a cache hit, byte-identical both times and to the POST answer.
curl -sf --max-time 5 -o "$work/resp.der" "$ours_url"
curl -sf --max-time 5 -o "$work/resp2.der" "$ours_url"
check_response "ours GET" "$work/resp.der" || exit 1
cmp -s "$work/resp.der" "$work/resp2.der" && cmp -s "$work/resp.der" "$work/ours-post.der" ||
  { echo "our answers differ between requests: not served from the cache?" >&2; exit 1; }
echo "check[ours]: GET, GET and POST gave the same $(stat -c %s "$work/resp.der") bytes (cached)"
resp_bytes="$(stat -c %s "$work/resp.der")"

# --- reference servers --------------------------------------------------------------------------
# nginx: the same bytes as a static file, same path shape, own config, prefix and pid file.
start_nginx() {
  local port="$1" ng="$work/nginx"
  mkdir -p "$ng/www" "$ng/logs" "$ng/tmp"
  cp "$work/resp.der" "$ng/www/resp.der"
  {
    # As root, nginx would run its workers as `nobody`, who cannot read the temp dir (0700).
    [ "$(id -u)" != 0 ] || echo "user $(id -un) $(id -gn);"
    cat <<EOF
worker_processes $nginx_workers;
daemon off;
pid $ng/nginx.pid;
error_log $ng/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $ng/tmp/body;
  proxy_temp_path $ng/tmp/proxy;
  fastcgi_temp_path $ng/tmp/fastcgi;
  uwsgi_temp_path $ng/tmp/uwsgi;
  scgi_temp_path $ng/tmp/scgi;
  keepalive_timeout 75s;
  keepalive_requests 1000000;   # like our server: one connection for the whole run
  server {
    listen 127.0.0.1:$port;
    root $ng/www;
    location /ocsp/tls/ {
      types { }
      default_type application/ocsp-response;
      try_files /resp.der =404;
    }
  }
}
EOF
  } >"$ng/nginx.conf"
  "$nginx_bin" -e "$ng/logs/error.log" -p "$ng" -c "$ng/nginx.conf" >"$work/nginx.log" 2>&1 &
  ref_pid=$!
}

start_openssl() {
  # -port takes only a number: OpenSSL 3.0 listens on every address ("ACCEPT [::]:PORT"),
  # traffic is still sent to 127.0.0.1 only.
  (cd "$work" && exec openssl ocsp -port "$1" -index index.txt -CA tls-ca.pem -rsigner responder.pem \
    -rkey responder.key -multi "$openssl_multi" -nmin 60) >>"$work/openssl-ocsp.log" 2>&1 &
  ref_pid=$!
}

start_cfssl() {
  base64 -w0 "$work/resp.der" >"$work/cfssl-responses.txt"; echo >>"$work/cfssl-responses.txt"
  cfssl ocspserve -address 127.0.0.1 -port "$1" -responses "$work/cfssl-responses.txt" -loglevel 3 \
    >"$work/cfssl.log" 2>&1 &
  ref_pid=$!
}

# --- load ------------------------------------------------------------------------------------------
declare -A R_RPS R_P50 R_P99 R_CORES R_CPU_US R_BUSY R_WRK_CORES R_NOTE R_METHOD R_BYTES

# measure NAME PID_FN URL MODE(get|post|close): a warm-up and a measured run of wrk.
measure() {
  local name="$1" pid="$2" url="$3" mode="$4" args=()
  args=(-t"$wrk_threads" -c"$connections" --timeout 5s --latency)
  case "$mode" in
    post) args+=(-s "$here/post.lua") ;;
    close) args+=(-H "Connection: close") ;;
  esac
  local before after
  before="$(cpu_snapshot "$pid")"
  # `times` in the subshell: the CPU wrk itself used (user, system).
  ( wrk -d"$duration" "${args[@]}" "$url"; times ) >"$work/wrk-$name.txt" 2>&1 || status=1
  after="$(cpu_snapshot "$pid")"
  sed "s/^/wrk[$name]: /" "$work/wrk-$name.txt" | grep -v '^wrk\[[^]]*\]: [0-9]*m[0-9.]*s [0-9]*m[0-9.]*s$'
  local line
  line="$(python3 - "$work/wrk-$name.txt" "$before" "$after" "$(getconf CLK_TCK)" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
def dur_ms(v, unit):
    return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]
def pct(p):
    m = re.search(r"^\s*%d%%\s+([0-9.]+)(us|ms|s|m)\s*$" % p, t, re.M)
    return dur_ms(*m.groups()) if m else 0.0
rps = float(re.search(r"Requests/sec:\s*([0-9.]+)", t).group(1)) if "Requests/sec" in t else 0.0
m = re.search(r"(\d+) requests in ([0-9.]+)(us|ms|s|m), ([0-9.]+)([KMG]?B) read", t)
n = int(m.group(1)) if m else 0
read = float(m.group(4)) * {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}[m.group(5)] if m else 0
non2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", t)
sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
times = re.findall(r"^(\d+)m([0-9.]+)s (\d+)m([0-9.]+)s$", t, re.M)
wrk_cpu = sum(int(a) * 60 + float(b) + int(c) * 60 + float(d) for a, b, c, d in times[-1:])
b = [float(x) for x in sys.argv[2].split()]; a = [float(x) for x in sys.argv[3].split()]
hz = float(sys.argv[4]); wall = a[0] - b[0]
cores = (a[1] - b[1]) / hz / wall
busy = (a[2] - b[2]) / hz / wall
cpu_us = 1e6 * (a[1] - b[1]) / hz / n if n else 0.0
bad = (int(non2xx.group(1)) if non2xx else 0)
errs = sum(int(x) for x in sock.groups()) if sock else 0
note = "ok" if n and not bad and not errs else f"INVALID(non2xx={bad},socket_errors={errs})"
print(f"{rps:.0f} {pct(50):.3f} {pct(99):.3f} {cores:.2f} {cpu_us:.1f} {busy:.2f} {wrk_cpu / wall:.2f} "
      f"{read / n if n else 0:.0f} {note}")
EOF
)"
  read -r R_RPS[$name] R_P50[$name] R_P99[$name] R_CORES[$name] R_CPU_US[$name] R_BUSY[$name] R_WRK_CORES[$name] \
    R_BYTES[$name] R_NOTE[$name] <<<"$line"
  R_METHOD[$name]="$mode"
  [ "${R_NOTE[$name]}" = ok ] || status=1
  echo "RUN server=$name method=$mode rps=${R_RPS[$name]} p50_ms=${R_P50[$name]} p99_ms=${R_P99[$name]}" \
    "server_cores=${R_CORES[$name]} server_cpu_us_per_req=${R_CPU_US[$name]} wrk_cores=${R_WRK_CORES[$name]}" \
    "machine_busy_cores=${R_BUSY[$name]} bytes_per_answer=${R_BYTES[$name]} load=\"$(loadavg)\" ${R_NOTE[$name]}"
}

warm() {  # URL MODE
  local args=(-t"$wrk_threads" -c"$connections" --timeout 5s)
  case "$2" in post) args+=(-s "$here/post.lua") ;; close) args+=(-H "Connection: close") ;; esac
  wrk -d"$warmup" "${args[@]}" "$1" >/dev/null 2>&1 || true
}

fetch_get() { curl -sf --max-time 5 -o "$2" "$1"; }
fetch_post() {
  curl -sf --max-time 5 -o "$2" -H 'Content-Type: application/ocsp-request' --data-binary @"$work/req.der" "$1"
}

if wants ours; then
  warm "$ours_url" get
  measure ours "$ours_pid" "$ours_url" get
fi
if wants ours-post; then
  fetch_post "http://127.0.0.1:$http_port/ocsp/tls" "$work/ours-post2.der"
  cmp -s "$work/ours-post2.der" "$work/resp.der" || { echo "our POST answer differs from the GET one" >&2; exit 1; }
  warm "http://127.0.0.1:$http_port/ocsp/tls" post
  measure ours-post "$ours_pid" "http://127.0.0.1:$http_port/ocsp/tls" post
fi

if wants nginx; then
  port="$(free_port)"; start_nginx "$port"
  url="http://127.0.0.1:$port/ocsp/tls/$req_b64_url"
  wait_http "http://127.0.0.1:$port/" "$ref_pid" || { echo "nginx did not come up:" >&2; cat "$work/nginx.log" "$work/nginx/logs/error.log" >&2; exit 1; }
  echo "server[nginx]: pid=$ref_pid $url workers=$nginx_workers"
  fetch_get "$url" "$work/nginx.der" && check_response nginx "$work/nginx.der" &&
    cmp -s "$work/nginx.der" "$work/resp.der" || { echo "nginx: wrong answer" >&2; exit 1; }
  curl -s -o /dev/null -D - --max-time 5 "$url" | grep -i '^content-type: application/ocsp-response' >/dev/null ||
    { echo "nginx: wrong Content-Type" >&2; exit 1; }
  warm "$url" get
  measure nginx "$ref_pid" "$url" get
  stop_tree "$ref_pid"; ref_pid=""
fi

if wants openssl; then
  # A busy OpenSSL 3.0 responder child never leaves a connection the client closed (it loops
  # on EOF: openssl/openssl#31129), and -timeout does not end that loop. So: wrk sends
  # "Connection: close" (one request per connection; openssl answers HTTP/1.0 and closes),
  # and every wrk run gets a freshly started responder.
  port="$(free_port)"; start_openssl "$port"
  url="http://127.0.0.1:$port/$req_b64_url"
  wait_http "http://127.0.0.1:$port/$req_b64_url" "$ref_pid" || { echo "openssl ocsp did not come up:" >&2; cat "$work/openssl-ocsp.log" >&2; exit 1; }
  echo "server[openssl]: pid=$ref_pid $url -multi $openssl_multi (Connection: close, signs every answer)"
  fetch_get "$url" "$work/openssl.der" && check_response "openssl ocsp -port" "$work/openssl.der" || exit 1
  warm "$url" close
  stop_tree "$ref_pid"; ref_pid=""
  port="$(free_port)"; start_openssl "$port"; url="http://127.0.0.1:$port/$req_b64_url"
  wait_http "$url" "$ref_pid" || { echo "openssl ocsp did not come up" >&2; exit 1; }
  measure openssl "$ref_pid" "$url" close
  stop_tree "$ref_pid"; ref_pid=""
fi

if wants cfssl; then
  # The Debian build (1.2.0+git20160825) mounts the responder at "/" without StripPrefix: the
  # leading "/" reaches the base64 decoder and every GET gets 400. POST of the same DER works.
  port="$(free_port)"; start_cfssl "$port"
  url="http://127.0.0.1:$port/"
  wait_http "$url" "$ref_pid" || { echo "cfssl ocspserve did not come up:" >&2; cat "$work/cfssl.log" >&2; exit 1; }
  echo "server[cfssl]: pid=$ref_pid $url (POST; GET $(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url$req_b64_url"))"
  fetch_post "$url" "$work/cfssl.der" && check_response "cfssl ocspserve" "$work/cfssl.der" &&
    cmp -s "$work/cfssl.der" "$work/resp.der" || { echo "cfssl: wrong answer" >&2; exit 1; }
  warm "$url" post
  measure cfssl "$ref_pid" "$url" post
  stop_tree "$ref_pid"; ref_pid=""
fi

# --- optional profile of our server (not counted) -----------------------------------------------
if [ "$want_perf" = 1 ]; then
  perf record -F 199 --call-graph dwarf,32768 -p "$ours_pid" -o "$work/perf.data" >"$work/perf-record.log" 2>&1 &
  perf_pid=$!
  wrk -t"$wrk_threads" -c"$connections" -d8s "$ours_url" >"$work/wrk-perf.txt" 2>&1 || true
  kill -INT "$perf_pid" 2>/dev/null || true; wait "$perf_pid" 2>/dev/null || true; perf_pid=""
  # Three views: by DSO, by symbol (self) and by symbol (inclusive: where the time goes in the
  # request path). Unwinding the DWARF call graphs takes a minute or two per view.
  { echo "== by DSO (self)"
    perf report -i "$work/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep -v '^$' | grep -v '^#' | head -15
    echo "== by symbol (self)"
    perf report -i "$work/perf.data" --no-children --sort dso,sym --stdio -g none 2>/dev/null | grep -v '^$' | grep -v '^#' | cut -c1-150 | head -60
    echo "== by symbol (inclusive)"
    perf report -i "$work/perf.data" --children --sort sym --stdio -g none 2>/dev/null | grep -v '^$' | grep -v '^#' | cut -c1-150 | head -200
  } >"$work/perf-report.txt" || true
  echo "perf: $(grep -m1 Requests/sec "$work/wrk-perf.txt") under perf; report in perf-report.txt (--out to keep it)"
fi

# --- summary -----------------------------------------------------------------------------------------
echo
echo "load average at the end: $(loadavg); answer: $resp_bytes bytes of DER"
printf '%-10s %-6s %10s %9s %9s %8s %11s %8s %6s  %s\n' server method req/s p50_ms p99_ms srv_cores srv_cpu_us/req wrk_cores busy note
for s in ours ours-post nginx openssl cfssl; do
  [ -n "${R_RPS[$s]:-}" ] || continue
  printf '%-10s %-6s %10s %9s %9s %8s %11s %8s %6s  %s\n' "$s" "${R_METHOD[$s]}" "${R_RPS[$s]}" "${R_P50[$s]}" \
    "${R_P99[$s]}" "${R_CORES[$s]}" "${R_CPU_US[$s]}" "${R_WRK_CORES[$s]}" "${R_BUSY[$s]}" "${R_NOTE[$s]}"
done
python3 - "${R_RPS[ours]:-0}" "${R_P99[ours]:-0}" "${R_RPS[nginx]:-0}" "${R_RPS[openssl]:-0}" "${R_RPS[cfssl]:-0}" \
  "${R_RPS[ours-post]:-0}" "${R_CPU_US[ours]:-0}" "${R_CPU_US[nginx]:-0}" <<'EOF'
import sys
ours, p99, nginx, ossl, cfssl, ours_post, cpu_ours, cpu_nginx = map(float, sys.argv[1:])
def ratio(a, b): return a / b if a and b else 0.0
r_n, r_o, r_c = ratio(ours, nginx), ratio(ours, ossl), ratio(ours, cfssl)
print(f"ours/nginx   = {100 * r_n:.1f}%   (target >= 50%: {'PASS' if r_n >= 0.5 else 'MISS'})")
if nginx:
    print(f"the target in this run: 0.5 x nginx = {nginx / 2:.0f} req/s"
          + (f" = {nginx / 2 / ossl:.1f}x openssl" if ossl else "") + (f" = {nginx / 2 / cfssl:.1f}x cfssl" if cfssl else ""))
if cpu_ours and cpu_nginx:
    print(f"per CPU second: ours {1e6 / cpu_ours:.0f} req, nginx {1e6 / cpu_nginx:.0f} req"
          f" -> {100 * cpu_nginx / cpu_ours:.1f}% (less sensitive to what else runs on the machine)")
if r_o: print(f"ours/openssl = {r_o:.1f}x   (the issue's estimate of the target: about 11x)")
if r_c: print(f"ours/cfssl   = {r_c:.1f}x   (the issue's estimate of the target: about 4x; cfssl is measured with POST,"
              f" ours-post/cfssl = {ratio(ours_post, cfssl):.1f}x)")
print(f"RESULT ours_rps={ours:.0f} ours_p99_ms={p99:.2f} nginx_rps={nginx:.0f} openssl_rps={ossl:.0f} cfssl_rps={cfssl:.0f} "
      f"ours/nginx={100 * r_n:.1f}% target=50% {'PASS' if r_n >= 0.5 else 'MISS'} ours/openssl={r_o:.1f}x "
      f"ours/cfssl={r_c:.1f}x server_cpu_us_per_req ours={cpu_ours:.0f} nginx={cpu_nginx:.0f}")
EOF
exit "$status"
