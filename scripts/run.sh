#!/usr/bin/env bash
# Installs what is needed, builds, initialises an installation on the embedded defaults
# (SQLite, filesystem, software keys) if there is none, and serves it.
#   DATA dir: $CARTORIO_DATA_DIR or ./cartorio-data
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh release cartorio
export CARTORIO_DATA_DIR=${CARTORIO_DATA_DIR:-$PWD/cartorio-data}
./build/bin/cartorio init --if-needed
exec ./build/bin/cartorio serve "$@"
