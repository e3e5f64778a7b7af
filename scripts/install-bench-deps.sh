#!/usr/bin/env bash
# Installs the Debian packages the load benchmarks in bench/ need (docs/benchmarks.md):
# bench/api_issue.sh needs wrk, openssl, curl, python3 and procps (linux-perf only for --perf);
# bench/sustained/run.sh also gnuplot (and the topology's engines from scripts/install-deps.sh).
# Not part of CI. Idempotent; safe to re-run. Needs root (or sudo).
# The build and test dependencies come from scripts/install-deps.sh.
set -euo pipefail
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

PACKAGES=(
  # load generator (HTTP/1.1 keep-alive, Lua scripts for POST bodies)
  wrk
  # reference servers: static file, cfssl's pre-signed OCSP responder (`cfssl ocspserve`)
  nginx golang-cfssl
  # requests, certificates, openssl ocsp -port as the signing reference
  openssl curl
  # machine facts (uptime, nproc, lscpu) and ports
  procps util-linux coreutils python3
  # CPU profile of the server under load (bench/api_issue.sh --perf)
  linux-perf
  # the plots of bench/sustained/run.sh (pngcairo terminal)
  gnuplot-nox
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
# The Debian nginx package may start a system-wide nginx on port 80; the benchmark starts its
# own (bench/ocsp/run.sh, on a free loopback port, as the current user) and does not need it.
