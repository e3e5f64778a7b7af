#!/usr/bin/env bash
# The web portal end to end (issue 10, docs/portal.md): a fresh installation served by
# `cartorio serve` on loopback, driven by Playwright in Debian's headless Chromium
# (portal.e2e.mjs). Screenshots of every page land in ARTIFACT_DIR.
# Usage: tests/web/run-portal-e2e.sh CARTORIO_BIN ARTIFACT_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(realpath "$1")
artifacts=$(realpath -m "$2")
[ -d "$here/node_modules/playwright-core" ] || { echo "playwright-core missing: run scripts/install-deps.sh" >&2; exit 1; }
[ -x /usr/bin/chromium ] || { echo "/usr/bin/chromium missing: run scripts/install-deps.sh" >&2; exit 1; }

work=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
rm -rf "$artifacts" && mkdir -p "$artifacts"

export CARTORIO_DATA_DIR="$work/data" CARTORIO_ROOT_PASSPHRASE='portal e2e root passphrase 2026'
# Every call of the test comes from 127.0.0.1: no per-address throttling in the way.
export CARTORIO_LIMITS_PER_IP_BURST=5000 CARTORIO_LIMITS_PER_CLIENT_BURST=5000
# The plain-HTTP listener on a known port: certificates name it for OCSP, so pdfsig asks
# the installation's own responder, and stamps' QR codes point at its /verify page.
http_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" init --json --public-base-url "http://127.0.0.1:$http_port" > "$work/init.json"
root=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["root_certificate"])' "$work/init.json")

# People of the office: a notary (tabeliã), a clerk (escrevente) and an administrator.
export E2E_NOTARY_PASSWORD='senha da tabeliã 2026' E2E_CLERK_PASSWORD='senha do escrevente 2026' \
       E2E_ADMIN_PASSWORD='senha do administrador 2026'
printf '%s\n' "$E2E_NOTARY_PASSWORD" | "$bin" user add ana.souza --role notary --display-name 'Ana Souza' --password-file - >/dev/null
printf '%s\n' "$E2E_CLERK_PASSWORD" | "$bin" user add bruno --role clerk --display-name 'Bruno Lima' --password-file - >/dev/null
printf '%s\n' "$E2E_ADMIN_PASSWORD" | "$bin" user add carla --role admin --role auditor --display-name 'Carla Dias' --password-file - >/dev/null

# A two-page PDF from another producer (ghostscript).
cat > "$work/contrato.ps" <<'PS'
%!PS
/Helvetica findfont 18 scalefont setfont
72 720 moveto (Contrato de compra e venda - pagina 1) show showpage
72 720 moveto (Contrato de compra e venda - pagina 2) show showpage
PS
gs -q -dNOPAUSE -dBATCH -dSAFER -sDEVICE=pdfwrite -sOutputFile="$work/contrato.pdf" "$work/contrato.ps"

# pdfsig trusts exactly our root.
mkdir -p "$work/nss"
certutil -N --empty-password -d "sql:$work/nss"
certutil -A -n cartorio-root -t "CT,C,C" -i "$root" -d "sql:$work/nss"

"$bin" serve --listen-http "127.0.0.1:$http_port" --listen 127.0.0.1:0 --threads 2 > "$work/serve.log" 2>&1 &
pid=$!
https_port=""
for _ in $(seq 1 400); do
  https_port=$(grep -o '"msg":"server.started".*"https_port":[0-9]*' "$work/serve.log" | grep -o '[0-9]*$' || true)
  [ -n "$https_port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
  sleep 0.05
done
[ -n "$https_port" ] || { echo "the server did not start" >&2; cat "$work/serve.log" >&2; exit 1; }

export E2E_BASE_URL="https://localhost:$https_port" E2E_ARTIFACTS="$artifacts" E2E_PDF="$work/contrato.pdf" \
       E2E_NSS_DIR="sql:$work/nss"
status=0
node "$here/portal.e2e.mjs" || status=$?
cp "$work/serve.log" "$artifacts/serve.log"
exit $status
