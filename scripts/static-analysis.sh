#!/usr/bin/env bash
# Static analysis of the project's own code; exits non-zero on any finding.
#   cppcheck   src/ tests/ fuzz/ bench/ (project headers only: system headers are not parsed)
#   clang-tidy src/ through build-asan/compile_commands.json, checks in .clang-tidy
#   clang-tidy-changed  clang-tidy over what changed since the commit in .clang-tidy-base (the
#              last full clean run): the src/ .cpp files changed, and those that include a
#              changed src/ header; everything when .clang-tidy changed. What CI runs: the full
#              run takes 15-30 minutes on two cores.
# Usage: scripts/static-analysis.sh [cppcheck|clang-tidy|clang-tidy-changed]...   (default: cppcheck clang-tidy)
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

# run_clang_tidy [FILE...]: every TU of src/, or the given ones.
run_clang_tidy() {
  local start=$(date +%s) out
  [ -f build-asan/compile_commands.json ] || bash scripts/build.sh asan cartorio >/dev/null
  out=$(mktemp)
  local targets=("$@")
  [ ${#targets[@]} -gt 0 ] || targets=("$PWD/src/")
  # GCC-only warning flags in the database are not clang-tidy's business.
  # run-clang-tidy always colours its output: the escapes are taken out before matching.
  # Its arguments are regular expressions over the database's file names.
  run-clang-tidy-14 -p build-asan -j"$jobs" -quiet -extra-arg=-Wno-unknown-warning-option \
    "${targets[@]}" 2>&1 | sed -E 's/\x1b\[[0-9;]*m//g' >"$out" || true
  # Findings are "file:line:col: warning|error: ... [check]"; the tool's own chatter is not.
  if grep -E '^/.*:[0-9]+:[0-9]+: (warning|error):' "$out" >/dev/null; then
    grep -E -A3 '^/.*:[0-9]+:[0-9]+: (warning|error):' "$out"
    echo "clang-tidy: findings above" >&2
    failed=1
  fi
  rm -f "$out"
  echo "clang-tidy: $(( $(date +%s) - start )) s"
}

run_clang_tidy_changed() {
  local base changed files=() h
  base=$(tr -d '[:space:]' <.clang-tidy-base)
  if ! git rev-parse -q --verify "$base^{commit}" >/dev/null 2>&1; then
    echo "clang-tidy: the base $base is not in this checkout (shallow clone?): nothing checked;" \
      "run 'scripts/static-analysis.sh clang-tidy' in full" >&2
    return 0
  fi
  changed=$(git diff --name-only "$base" -- .clang-tidy src)
  if grep -qx .clang-tidy <<<"$changed"; then
    run_clang_tidy
    return
  fi
  while read -r f; do
    [ -f "$f" ] || continue
    case "$f" in
      *.cpp) files+=("$PWD/$f") ;;
      *.h)  # the TUs that include it ("x/y.h" is how src/ includes src/x/y.h)
        h=${f#src/}
        while read -r tu; do files+=("$PWD/$tu"); done < <(grep -rlF --include='*.cpp' "#include \"$h\"" src || true) ;;
    esac
  done <<<"$changed"
  if [ ${#files[@]} -eq 0 ]; then
    echo "clang-tidy: no src/ change since $base"
    return 0
  fi
  mapfile -t files < <(printf '%s\n' "${files[@]}" | sort -u)
  echo "clang-tidy: ${#files[@]} translation units changed since $base"
  run_clang_tidy "${files[@]/%/\$}"
}

for tool in "${tools[@]}"; do
  case "$tool" in
    cppcheck) run_cppcheck ;;
    clang-tidy) run_clang_tidy ;;
    clang-tidy-changed) run_clang_tidy_changed ;;
    *) echo "usage: $0 [cppcheck|clang-tidy|clang-tidy-changed]..." >&2; exit 2 ;;
  esac
done
exit "$failed"
