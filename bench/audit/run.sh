#!/usr/bin/env bash
# Certificate issuance with auditing on and off (bench/audit/issue_audit_bench.cpp), in
# process on the embedded defaults (SQLite, software keys): one throw-away installation,
# the two modes interleaved at random, 1 and 2 threads, repeated; medians are what
# docs/benchmarks.md reports. Usage: bench/audit/run.sh [--seconds N] [--repetitions N] [--heads-ms N]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=4 reps=5 heads_ms=1000
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --repetitions) reps=$2; shift 2 ;;
    --heads-ms) heads_ms=$2; shift 2 ;;
    -h|--help) sed -n 2,6p "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
bin=build-bench/bin/cartorio
bench=build-bench/bench/issue_audit_bench
[ -x "$bin" ] && [ -x "$bench" ] || { echo "build first: bash scripts/build.sh bench" >&2; exit 1; }
work=$(mktemp -d /tmp/cartorio-audit-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
export CARTORIO_DATA_DIR=$work/data
printf 'bench passphrase for the root key\n' >"$work/pp"
"$bin" init --root-passphrase-file "$work/pp" >/dev/null 2>&1
"$bench" --heads_ms="$heads_ms" --benchmark_filter='threads:(1|2)$' --benchmark_min_time="$seconds" \
  --benchmark_repetitions="$reps" --benchmark_enable_random_interleaving=true \
  --benchmark_report_aggregates_only=true 2>/dev/null | grep -E 'median|Benchmark|---'
