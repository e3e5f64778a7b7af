#!/usr/bin/env bash
# Configures and builds one tree. Usage: scripts/build.sh [release|asan] [targets...]
#   release -> build/       (RelWithDebInfo, what `scripts/run.sh` runs)
#   asan    -> build-asan/  (Debug + AddressSanitizer + UndefinedBehaviorSanitizer, what the tests run)
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-release}; shift || true
case "$kind" in
  release) dir=build; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  asan) dir=build-asan; flags=(-DCMAKE_BUILD_TYPE=Debug -DCARTORIO_SANITIZE=ON) ;;
  *) echo "usage: $0 [release|asan] [targets...]" >&2; exit 2 ;;
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
