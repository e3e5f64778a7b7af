#!/usr/bin/env bash
# Configures and builds one tree. Usage: scripts/build.sh [release|bench|asan|fuzz] [targets...]
#   release -> build/       (RelWithDebInfo, what `scripts/run.sh` runs)
#   bench   -> build-bench/ (RelWithDebInfo + the Google Benchmark targets of bench/)
#   asan    -> build-asan/  (Debug + AddressSanitizer + UndefinedBehaviorSanitizer, what the tests run)
#   fuzz    -> build-fuzz/  (clang, libFuzzer + ASan + UBSan; default target `fuzzers`: the fuzz
#                            executables and only the libraries they link; docs/fuzzing.md)
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-release}; shift || true
case "$kind" in
  release) dir=build; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  bench) dir=build-bench; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCARTORIO_BUILD_BENCH=ON -DCARTORIO_BUILD_TESTS=OFF)
    [ $# -gt 0 ] || set -- cartorio pdf_sign_bench issue_audit_bench ;;
  asan) dir=build-asan; flags=(-DCMAKE_BUILD_TYPE=Debug -DCARTORIO_SANITIZE=ON) ;;
  fuzz) dir=build-fuzz
    flags=(-DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
           -DCARTORIO_FUZZ=ON -DCARTORIO_BUILD_TESTS=OFF)
    [ $# -gt 0 ] || set -- fuzzers ;;
  *) echo "usage: $0 [release|bench|asan|fuzz] [targets...]" >&2; exit 2 ;;
esac
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/cartorio-ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
# Hits across checkouts in different directories (CI clones anew each time).
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-true}
if [ ! -f "$dir/build.ninja" ]; then
  cmake -S . -B "$dir" -G Ninja "${flags[@]}" >/dev/null
fi
ninja -C "$dir" -j"${CARTORIO_JOBS:-2}" "$@"
