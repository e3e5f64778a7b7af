#!/usr/bin/env bash
# Installs what is needed, builds the sanitizer tree (ASan + UBSan) and runs the whole test
# suite with CTest. The tests start their own PostgreSQL, Redis, S3 server and SoftHSM2 token
# in temp dirs. Extra arguments go to ctest (e.g. -L store, -R Csr).
# Then a bounded fuzzing run (fuzz/run.sh: builds build-fuzz/ with clang, 20-60 s per target;
# CARTORIO_FUZZ_SECONDS changes the time, 0 skips it), and static analysis
# (scripts/static-analysis.sh: cppcheck, clang-tidy on the changed files; any finding fails).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
start=$(date +%s)
# Only the sanitizer tree: every test drives its binaries (scripts/run.sh builds the release one).
bash scripts/build.sh asan
echo "build: $(( $(date +%s) - start )) s"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd build-asan
ctest -j2 --output-on-failure --timeout 600 "$@"
cd ..
bash fuzz/run.sh
# cppcheck over everything; clang-tidy over what changed since its last clean full run
# (.clang-tidy-base; the full run takes 15-30 min: docs/static-analysis.md).
bash scripts/static-analysis.sh cppcheck clang-tidy-changed
