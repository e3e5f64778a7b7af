#!/usr/bin/env bash
# Installs every Debian package the build, the tests and the servers the tests start need.
# Idempotent; safe to re-run. Needs root (or sudo).
set -euo pipefail
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git
  # libraries
  libssl-dev openssl libsqlite3-dev sqlite3 libpq-dev
  libspdlog-dev libfmt-dev nlohmann-json3-dev libcli11-dev libtomlplusplus-dev
  libp11-kit-dev libboost-dev libhiredis-dev libargon2-dev libqrencode-dev libqpdf-dev libcurl4-openssl-dev libpugixml-dev libarchive-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  # fuzzing (fuzz/run.sh): clang, the libFuzzer + sanitizer runtimes, llvm-symbolizer for traces
  clang libclang-rt-14-dev llvm
  # real engines started by the test fixtures
  postgresql postgresql-client softhsm2 opensc redis-server
  # S3-compatible object store (tests/fixtures/s3-start): OpenStack Swift + s3api, memcached
  swift swift-proxy swift-object swift-container swift-account python3-swift memcached
  # independent clients the tests use
  curl python3 procps oathtool
  # TLS configuration scan of `cartorio serve` (tests/cli/cli_tls_scan_test.cpp)
  testssl.sh
  # ACME clients the ACME tests drive against the server (tests/cli/cli_acme_test.cpp)
  certbot lego
  # PDF signing tests: pdfsig + certutil (NSS trust store), PDFs written by other producers
  poppler-utils libnss3-tools ghostscript qpdf
  # the web portal's end-to-end tests: Playwright (npm, below) drives Debian's Chromium
  chromium
  # production topology (deploy/): nginx as the load balancer, its stream (TLS pass-through) module;
  # wrk drives the load of the failure drills (tests/deploy/drill_*.sh)
  nginx libnginx-mod-stream wrk
)

export DEBIAN_FRONTEND=noninteractive
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
fi

# The S3 test server (Swift) stores an object's old versions under its name plus an 18-byte
# suffix, so with versioning on it refuses names over 1006 bytes: allow S3's full 1024.
# Swift reads this file only, whatever its swift_dir says (docs/objectstore.md).
if [ -f /etc/swift/swift.conf ] && ! grep -q '^max_object_name_length' /etc/swift/swift.conf; then
  $SUDO sed -i 's/^\[swift-constraints\]$/[swift-constraints]\nmax_object_name_length = 1100/' /etc/swift/swift.conf
fi

# playwright-core for the portal's end-to-end tests (tests/web), exactly as package-lock.json
# pins it; it drives /usr/bin/chromium and never downloads a browser of its own.
# Node.js and npm come from Debian when the machine has no Node of its own.
if ! command -v npm >/dev/null; then
  $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends nodejs npm
fi
(cd "$(dirname "$0")/../tests/web" && npm ci --no-audit --no-fund --loglevel=error)

