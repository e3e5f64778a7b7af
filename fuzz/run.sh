#!/usr/bin/env bash
# Builds the fuzz tree (scripts/build.sh fuzz -> build-fuzz/) and runs each fuzz target for a
# bounded time on a copy of its seed corpus; exits non-zero on any crash, sanitizer report,
# leak, per-input timeout or out-of-memory. docs/fuzzing.md.
# Usage: fuzz/run.sh [target...]          targets: ocsp_request, pdf_verify, tsa_request, acme_jws, csr,
#                                         access_token, http_body (default: all)
# Environment:
#   CARTORIO_FUZZ_SECONDS     fuzzing time per target (default 60 for ocsp_request, 20 for the others; 0 skips the run)
#   CARTORIO_FUZZ_TIMEOUT     seconds one input may take before it counts as a hang (default 10)
#   CARTORIO_FUZZ_RSS_MB      memory limit of the fuzzer process (default 2048)
#   CARTORIO_FUZZ_ARTIFACTS   where crash/leak/timeout reproducers are kept (default build-fuzz/artifacts)
#   CARTORIO_FUZZ_KEEP_CORPUS directory to copy the grown corpus into (default: discarded)
#   CARTORIO_FUZZ_NO_BUILD=1  use the existing build-fuzz/ binaries
# The committed corpus (fuzz/corpus/) is never written: the run uses a copy in a temp dir.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${CARTORIO_FUZZ_SECONDS:-60}
timeout=${CARTORIO_FUZZ_TIMEOUT:-10}
rss_mb=${CARTORIO_FUZZ_RSS_MB:-2048}
artifacts=${CARTORIO_FUZZ_ARTIFACTS:-$root/build-fuzz/artifacts}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(ocsp_request pdf_verify tsa_request acme_jws csr access_token http_body)

# Per-target time (unless CARTORIO_FUZZ_SECONDS says otherwise) and libFuzzer flags.
# pdf_verify: inputs capped at 64 KiB (qpdf allocates a lot reconstructing damaged files, and
# every revision is parsed again), 20 s so CI stays bounded.
target_seconds() {
  case "$1" in
    # tsa_request: a small parser in front of one signature; 20 s reach its states.
    # acme_jws, access_token: a JSON parser and a few key checks, no store; likewise.
    # csr: one parser and validator in front of the certificate builder.
    # http_body: small pure parsers, a few thousand inputs per second.
    pdf_verify | tsa_request | acme_jws | csr | access_token | http_body) echo "${CARTORIO_FUZZ_SECONDS:-20}" ;;
    *) echo "$seconds" ;;
  esac
}
target_flags() {
  case "$1" in
    pdf_verify) echo "-max_len=65536" ;;
  esac
}

if [ "$seconds" = 0 ]; then
  echo "fuzz: skipped (CARTORIO_FUZZ_SECONDS=0)"
  exit 0
fi

if [ "${CARTORIO_FUZZ_NO_BUILD:-0}" != 1 ]; then
  start=$(date +%s)
  bash scripts/build.sh fuzz "${targets[@]/%/_fuzzer}"
  echo "fuzz build: $(( $(date +%s) - start )) s"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/cartorio-fuzz-run.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$artifacts"

# Sanitizer settings of our own, whatever the caller exported for the unit tests.
export ASAN_OPTIONS="detect_leaks=1:strict_string_checks=1:check_initialization_order=1:detect_odr_violation=2"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

failed=0
for target in "${targets[@]}"; do
  binary=$root/build-fuzz/fuzz/${target}_fuzzer
  [ -x "$binary" ] || { echo "fuzz: no $binary (build it: scripts/build.sh fuzz)" >&2; exit 2; }
  corpus=$work/corpus-$target
  mkdir -p "$corpus" "$work/tmp-$target"
  cp -R "fuzz/corpus/$target/." "$corpus/"
  target_time=$(target_seconds "$target")
  # shellcheck disable=SC2207
  extra=($(target_flags "$target"))
  args=("$corpus" -max_total_time="$target_time" -detect_leaks=1 -rss_limit_mb="$rss_mb" -timeout="$timeout"
        -close_fd_mask=1 -print_final_stats=1 -artifact_prefix="$artifacts/$target-")
  args+=("${extra[@]}")
  [ -f "fuzz/$target.dict" ] && args+=(-dict="fuzz/$target.dict")
  log=$work/$target.log
  echo "fuzz: $target for ${target_time} s (log: $log while it runs)"
  status=0
  # TMPDIR: the harness's temp files live (and die) with this run, even after a crash.
  TMPDIR=$work/tmp-$target "$binary" "${args[@]}" >"$log" 2>&1 || status=$?
  grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)' "$log" || true
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" || true
  if [ "$status" != 0 ]; then
    failed=1
    echo "fuzz: $target FAILED (exit $status); the end of its log:" >&2
    tail -n 80 "$log" >&2
    echo "fuzz: reproducers in $artifacts (replay: $binary FILE)" >&2
    cp "$log" "$artifacts/$target.log"
  fi
  if [ -n "${CARTORIO_FUZZ_KEEP_CORPUS:-}" ]; then
    mkdir -p "$CARTORIO_FUZZ_KEEP_CORPUS/$target"
    cp -R "$corpus/." "$CARTORIO_FUZZ_KEEP_CORPUS/$target/"
  fi
done
exit "$failed"
