#!/usr/bin/env bash
# Sustained mixed load against the production topology (issue 11; docs/benchmarks.md
# "Sustained mixed load"). Brings deploy/topology-up.sh's shape up in a temporary directory
# (nginx, two `serve`, a worker, PostgreSQL + synchronous standby, Redis + replica, Swift S3,
# SoftHSM2; the drills' harness, tests/deploy/drill-lib.sh) and drives it through nginx with
# four `wrk` runs at once, closed loop, keep-alive:
#   issue   POST /api/v1/certificates (service API key, EC P-256 CSR, tls-server)   201
#   sign    POST /api/v1/documents?level=B-T (notary API key, a one-page PDF)      201
#   verify  POST /api/v1/verify (a signed PDF, public)                             200
#   ocsp    POST /ocsp/<ca> on nginx's HTTP port (a DER request for an issued cert) 200
# in segments of --segment seconds for --minutes minutes; every segment gives each kind's
# throughput and p50/p99. Every 5 s the resident memory (VmRSS) of both instances and the
# worker is sampled. Writes segments.csv, rss.csv, the raw wrk outputs and sustained.png
# (gnuplot) into --out, and prints a summary. Dependencies: scripts/install-deps.sh (the
# topology's engines) and scripts/install-bench-deps.sh (wrk, gnuplot).
#
# Usage: bench/sustained/run.sh [--bin PATH] [--minutes N] [--segment S] [--out DIR]
#          [--connections "ISSUE SIGN VERIFY OCSP"]
#   --bin          cartorio binary (default $CARTORIO_BIN or build/bin/cartorio, a release build)
#   --minutes      length of the load (default 10)
#   --segment      seconds per measured segment (default 60)
#   --out          where the results go (default: a new directory under /tmp, printed)
#   --connections  wrk -c per kind (default "4 2 2 4")
# Exit status: 0 when the run completed with only expected answers, 1 otherwise, 2 on bad usage.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=${CARTORIO_BIN:-$repo/build/bin/cartorio}
minutes=10
segment=60
out=""
connections="4 2 2 4"
usage() { sed -n '/^# Usage:/,/^# Exit status/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin=$2; shift 2 ;;
    --minutes) minutes=$2; shift 2 ;;
    --segment) segment=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    *) usage ;;
  esac
done
[[ "$minutes" =~ ^[0-9]+$ && "$segment" =~ ^[0-9]+$ && "$segment" -gt 0 ]] || usage
read -r c_issue c_sign c_verify c_ocsp <<<"$connections"
[ -n "${c_ocsp:-}" ] || usage
for tool in wrk gnuplot openssl curl python3; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: bash scripts/install-bench-deps.sh" >&2; exit 1; }
done
[ -x "$bin" ] || { echo "no binary at $bin: bash scripts/build.sh release cartorio" >&2; exit 1; }
[ -n "$out" ] || out=$(mktemp -d /tmp/cartorio-sustained.XXXXXX)
mkdir -p "$out"
out=$(cd "$out" && pwd)

# shellcheck source=../../tests/deploy/drill-lib.sh
. "$repo/tests/deploy/drill-lib.sh"
drill_up "$bin" sustained
drill_notary
echo "topology up in $TOPO; results in $out"

# The bodies: a CSR request, the sample PDF, that PDF signed, an OCSP request for an issued
# certificate (and the OCSP path its AIA names).
csr load
[ "$(issue load)" = 201 ] || fail "issuance answered: $(cat "$WORK/load.json")"
[ "$(sign warm)" = 201 ] || fail "signing answered: $(cat "$WORK/warm.json")"
curl -sf --cacert "$ROOT_CERT" -o "$WORK/signed.pdf" "$LB_HTTPS$(field "$WORK/warm.json" download_url)" ||
  fail "downloading the signed PDF"
field "$WORK/load.json" pem >"$WORK/load.pem"
field "$WORK/load.json" chain_pem | sed '/-----END CERTIFICATE-----/q' >"$WORK/load-issuer.pem"
openssl ocsp -issuer "$WORK/load-issuer.pem" -cert "$WORK/load.pem" -no_nonce -reqout "$WORK/ocsp.der" >/dev/null 2>&1 ||
  fail "building the OCSP request"
ocsp_url=$(openssl x509 -noout -ocsp_uri -in "$WORK/load.pem")

# run_kind NAME CONNECTIONS DURATION URL TYPE EXPECT [AUTH_HEADER AUTH_VALUE] < BODY_FILE in env
run_kind() {
  local name=$1 conns=$2 duration=$3 url=$4 type=$5 expect=$6 body=$7 header=${8:-} value=${9:-}
  BENCH_BODY_FILE=$body BENCH_CONTENT_TYPE=$type BENCH_EXPECT=$expect BENCH_AUTH_HEADER=$header \
    BENCH_AUTH_VALUE=$value wrk -t1 -c"$conns" -d"${duration}s" --timeout 30s -s "$repo/bench/post.lua" "$url"
}
# one_segment DURATION TAG: the four kinds at once; their outputs in out/wrk/TAG-KIND.txt.
one_segment() {
  local d=$1 tag=$2 runs=()
  mkdir -p "$out/wrk"
  run_kind issue "$c_issue" "$d" "$LB_HTTPS/api/v1/certificates" application/json 201 "$WORK/load.req" \
    X-API-Key "$KEY" >"$out/wrk/$tag-issue.txt" 2>&1 &
  runs+=($!)
  run_kind sign "$c_sign" "$d" "$LB_HTTPS/api/v1/documents?level=B-T&title=load&signer=Load" application/pdf 201 \
    "$WORK/doc.pdf" X-API-Key "$NOTARY" >"$out/wrk/$tag-sign.txt" 2>&1 &
  runs+=($!)
  run_kind verify "$c_verify" "$d" "$LB_HTTPS/api/v1/verify" application/pdf 200 "$WORK/signed.pdf" \
    >"$out/wrk/$tag-verify.txt" 2>&1 &
  runs+=($!)
  run_kind ocsp "$c_ocsp" "$d" "$ocsp_url" application/ocsp-request 200 "$WORK/ocsp.der" \
    >"$out/wrk/$tag-ocsp.txt" 2>&1 &
  runs+=($!)
  wait "${runs[@]}"  # not the memory sampler
}

# Resident memory every 5 s: seconds since the start, then VmRSS (KiB) of serve1 serve2 worker.
pids=("$(cat "$TOPO/run/serve1.pid")" "$(cat "$TOPO/run/serve2.pid")" "$(cat "$TOPO/run/worker.pid")")
rss_of() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
sampler() {
  local start=$1
  echo "seconds,serve1_kib,serve2_kib,worker_kib" >"$out/rss.csv"
  while :; do
    echo "$(($(date +%s) - start)),$(rss_of "${pids[0]}"),$(rss_of "${pids[1]}"),$(rss_of "${pids[2]}")" >>"$out/rss.csv"
    sleep 5
  done
}

echo "warm-up: 20 s"
one_segment 20 warmup
start=$(date +%s)
sampler "$start" &
sampler_pid=$!
trap 'kill "$sampler_pid" 2>/dev/null || true; drill_cleanup' EXIT
segments=$((minutes * 60 / segment))
for i in $(seq 1 "$segments"); do
  one_segment "$segment" "$(printf 'seg%02d' "$i")"
  echo "segment $i/$segments done at $(($(date +%s) - start)) s"
done
sleep 1
kill "$sampler_pid" 2>/dev/null || true
wait "$sampler_pid" 2>/dev/null || true
total_seconds=$(($(date +%s) - start))

# The counts the store holds after the run (issued certificates, signed documents).
certs=$(psql_at "$PG_PRIMARY_PORT" "SELECT count(*) FROM certificates WHERE profile = 'tls-server'")
docs=$(psql_at "$PG_PRIMARY_PORT" "SELECT count(*) FROM documents")

status=0
python3 - "$out" "$segment" "$total_seconds" "$certs" "$docs" <<'PY' || status=$?
import csv, glob, os, re, statistics, sys
out, segment, total, certs, docs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
kinds = ["issue", "sign", "verify", "ocsp"]
rows, bad = [], []
for path in sorted(glob.glob(os.path.join(out, "wrk", "seg*-*.txt"))):
    tag, kind = os.path.basename(path)[:-4].split("-")
    t = open(path).read()
    st = re.search(r"bench\.statuses ok=(\d+) other=(\d+)(.*)", t)
    lat = re.search(r"bench\.latency_us p50=(\d+) p90=(\d+) p99=(\d+) max=(\d+)", t)
    sm = re.search(r"bench\.summary requests=(\d+) duration_us=(\d+) errors_connect=(\d+) errors_read=(\d+) "
                   r"errors_write=(\d+) errors_timeout=(\d+)", t)
    if not (st and lat and sm):
        bad.append(f"{path}: no wrk summary")
        continue
    ok, other = int(st.group(1)), int(st.group(2))
    errors = sum(int(x) for x in sm.groups()[2:])
    if other or errors:
        bad.append(f"{tag} {kind}: {other} unexpected statuses{st.group(3)}, {errors} socket errors")
    rows.append({"segment": int(tag[3:]), "kind": kind, "ok": ok, "other": other, "socket_errors": errors,
                 "rps": ok / (int(sm.group(2)) / 1e6), "p50_ms": int(lat.group(1)) / 1000,
                 "p99_ms": int(lat.group(3)) / 1000, "max_ms": int(lat.group(4)) / 1000})
with open(os.path.join(out, "segments.csv"), "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
    w.writeheader()
    w.writerows(rows)
# One file per kind for gnuplot: minute (segment end) and req/s, p50, p99.
for k in kinds:
    with open(os.path.join(out, f"{k}.dat"), "w") as f:
        for r in (r for r in rows if r["kind"] == k):
            f.write(f"{r['segment'] * segment / 60:.2f} {r['rps']:.2f} {r['p50_ms']:.2f} {r['p99_ms']:.2f}\n")
rss = list(csv.DictReader(open(os.path.join(out, "rss.csv"))))
with open(os.path.join(out, "rss.dat"), "w") as f:
    for r in rss:
        f.write(f"{int(r['seconds']) / 60:.3f} {int(r['serve1_kib']) / 1024:.1f} {int(r['serve2_kib']) / 1024:.1f} "
                f"{int(r['worker_kib']) / 1024:.1f}\n")
print(f"RESULT minutes={total / 60:.1f} segments={max(r['segment'] for r in rows)} certificates={certs} documents={docs}")
for k in kinds:
    ks = [r for r in rows if r["kind"] == k]
    rps = [r["rps"] for r in ks]
    print(f"RESULT kind={k} ok={sum(r['ok'] for r in ks)} other={sum(r['other'] for r in ks)} "
          f"rps_mean={statistics.mean(rps):.1f} rps_min={min(rps):.1f} rps_max={max(rps):.1f} "
          f"p50_ms_median={statistics.median(r['p50_ms'] for r in ks):.1f} "
          f"p99_ms_median={statistics.median(r['p99_ms'] for r in ks):.1f} p99_ms_max={max(r['p99_ms'] for r in ks):.1f}")
# Memory: after the first two minutes (caches and pools filled), first vs last and the fitted
# slope per process.
for col in ("serve1_kib", "serve2_kib", "worker_kib"):
    pts = [(int(r["seconds"]) / 60, int(r[col]) / 1024) for r in rss if int(r["seconds"]) >= 120 and int(r[col]) > 0]
    if len(pts) < 2:
        continue
    xs, ys = zip(*pts)
    mx, my = statistics.mean(xs), statistics.mean(ys)
    slope = sum((x - mx) * (y - my) for x, y in pts) / sum((x - mx) ** 2 for x in xs)
    print(f"RESULT rss={col[:-4]} at2min_mib={ys[0]:.1f} end_mib={ys[-1]:.1f} max_mib={max(ys):.1f} "
          f"slope_mib_per_min={slope:.2f}")
for b in bad:
    print("BAD", b)
sys.exit(1 if bad else 0)
PY

gnuplot <<GP || echo "gnuplot failed: no plot" >&2
set terminal pngcairo size 1000,900 font ",10"
set output "$out/sustained.png"
set multiplot layout 3,1 title "Cartório sustained mixed load through nginx (2 serve, PostgreSQL+standby, Redis, S3, SoftHSM2; 2 cores)"
set grid
set key outside right
set xlabel "minutes"
set xrange [0:$minutes]
set ylabel "requests/s"
set logscale y
set title "throughput per kind (per ${segment} s segment; log scale: OCSP is 2 orders above the rest)"
plot for [k in "issue sign verify ocsp"] "$out/".k.".dat" using 1:2 with linespoints title k
set ylabel "ms"
set title "latency p50 (dashed) and p99 (solid)"
plot for [k in "issue sign verify ocsp"] "$out/".k.".dat" using 1:4 with linespoints title k." p99", \
     for [k in "issue sign verify ocsp"] "$out/".k.".dat" using 1:3 with lines dashtype 2 title k." p50"
unset logscale y
set ylabel "MiB"
set yrange [0:*]
set title "resident memory (VmRSS, every 5 s)"
plot "$out/rss.dat" using 1:2 with lines title "serve1", "" using 1:3 with lines title "serve2", \
     "" using 1:4 with lines title "worker"
unset multiplot
GP
echo "results: $out (segments.csv, rss.csv, sustained.png, wrk/)"
exit "$status"
