#!/usr/bin/env bash
# Static analysis of the project's own code; exits non-zero on any finding.
#   cppcheck   src/ tests/ fuzz/ bench/ (project headers only: system headers are not parsed)
#   clang-tidy src/ through build-asan/compile_commands.json, checks in .clang-tidy
# Usage: scripts/static-analysis.sh [cppcheck|clang-tidy]...   (default: both)
# A finding that is wrong is silenced where it is, with the reason:
#   // cppcheck-suppress <id>   or   // NOLINT(<check>): <why>
set -euo pipefail
cd "$(dirname "$0")/.."
tools=("$@")
[ ${#tools[@]} -gt 0 ] || tools=(cppcheck clang-tidy)
jobs=${CARTORIO_JOBS:-2}
failed=0

run_cppcheck() {
  local start=$(date +%s) out
  out=$(mktemp)
  # --library: the std and POSIX models; unknown macros of our headers are resolved through -I.
  cppcheck -q -j"$jobs" --std=c++20 --language=c++ --library=posix --library=googletest --library=.cppcheck/googletest-extra.cfg -I src -I tests \
    --enable=warning,performance,portability --inline-suppr --error-exitcode=1 \
    --suppress=missingIncludeSystem --suppress=missingInclude --suppress=unmatchedSuppression --suppressions-list=.cppcheck/suppressions.txt \
    src tests fuzz bench 2>"$out" || true
  if [ -s "$out" ]; then
    cat "$out"
    echo "cppcheck: findings above" >&2
    failed=1
  fi
  rm -f "$out"
  echo "cppcheck: $(( $(date +%s) - start )) s"
}

run_clang_tidy() {
  local start=$(date +%s) out
  [ -f build-asan/compile_commands.json ] || bash scripts/build.sh asan cartorio >/dev/null
  out=$(mktemp)
  # GCC-only warning flags in the database are not clang-tidy's business.
  # run-clang-tidy always colours its output: the escapes are taken out before matching.
  run-clang-tidy-14 -p build-asan -j"$jobs" -quiet -extra-arg=-Wno-unknown-warning-option \
    "$PWD/src/" 2>&1 | sed -E 's/\x1b\[[0-9;]*m//g' >"$out" || true
  # Findings are "file:line:col: warning|error: ... [check]"; the tool's own chatter is not.
  if grep -E '^/.*:[0-9]+:[0-9]+: (warning|error):' "$out" >/dev/null; then
    grep -E -A3 '^/.*:[0-9]+:[0-9]+: (warning|error):' "$out"
    echo "clang-tidy: findings above" >&2
    failed=1
  fi
  rm -f "$out"
  echo "clang-tidy: $(( $(date +%s) - start )) s"
}

for tool in "${tools[@]}"; do
  case "$tool" in
    cppcheck) run_cppcheck ;;
    clang-tidy) run_clang_tidy ;;
    *) echo "usage: $0 [cppcheck|clang-tidy]..." >&2; exit 2 ;;
  esac
done
exit "$failed"
