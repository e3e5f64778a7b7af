# shellcheck shell=bash
# Shared by the failure drills (tests/deploy/drill_*.sh), sourced: brings a topology up in a
# temporary directory (down again on exit) and drives it through nginx as topology_test.sh
# does. Each drill prints its measurements as "drill: key=value" lines.
#   drill_up CARTORIO_BINARY NAME   then TOPO, WORK, KEY, LB_HTTPS, LB_HTTP and topology.env's
#                                   variables are set
set -euo pipefail
DRILL_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DEPLOY=$(cd "$DRILL_HERE/../../deploy" && pwd)
# shellcheck source=../../deploy/topology-lib.sh
. "$DEPLOY/topology-lib.sh"

drill_cleanup() {
  [ -z "${TOPO:-}" ] || "$DEPLOY/topology-down.sh" "$TOPO" >/dev/null 2>&1 || true
  [ -n "${CARTORIO_KEEP_TEST_DIRS:-}" ] || rm -rf "${T:?}"
}

fail() {
  echo "FAIL: $1" >&2
  for log in "$TOPO"/logs/serve*.log "$TOPO"/logs/worker.log "$TOPO"/nginx/error.log; do
    [ -s "$log" ] || continue
    echo "--- $log (last 20 lines)" >&2
    tail -n 20 "$log" >&2
  done
  exit 1
}

metric() { echo "drill: $1=$2"; }

# now_ms: milliseconds since the epoch (the RTO is measured in them).
now_ms() { date +%s%3N; }

drill_up() {
  # Absolute: topology-up.sh runs it from the topology's directory.
  CARTORIO_BIN=$(realpath "$1")
  export CARTORIO_BIN
  T=$(mktemp -d "/tmp/cartorio-drill-$2.XXXXXX")
  chmod 711 "$T"  # the postgres user and nginx workers reach the topology in it
  TOPO=$T/topology
  WORK=$T/work
  mkdir -p "$WORK"
  trap drill_cleanup EXIT
  # Through the TLS pass-through every client is nginx's one address, and all the load comes
  # from one API key: the default limits (100/s per IP, 50/s per client) would answer 429 to
  # the load, which is not what a drill measures.
  cat >"$T/extra.env" <<'ENV'
CARTORIO_LIMITS_PER_IP_BURST='100000'
CARTORIO_LIMITS_PER_IP_PER_SECOND='100000'
CARTORIO_LIMITS_PER_CLIENT_BURST='100000'
CARTORIO_LIMITS_PER_CLIENT_PER_SECOND='100000'
ENV
  local t0=$SECONDS
  CARTORIO_TOPOLOGY_EXTRA_ENV=$T/extra.env "$DEPLOY/topology-up.sh" "$TOPO" >"$T/up.log" 2>&1 ||
    { cat "$T/up.log" >&2; fail "topology-up"; }
  metric topology_up_seconds $((SECONDS - t0))
  # shellcheck source=/dev/null
  . "$TOPO/topology.env"
  LB_HTTPS=https://127.0.0.1:$LB_HTTPS_PORT
  LB_HTTP=http://127.0.0.1:$LB_HTTP_PORT
  cli apikey create --name drill --role service --json >"$WORK/apikey.json" 2>"$WORK/apikey.err" ||
    fail "apikey create: $(cat "$WORK/apikey.err")"
  KEY=$(field "$WORK/apikey.json" key)
}

field() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]], end="")' "$1" "$2"; }
# shellcheck source=/dev/null
cli() { (set -a && . "$CARTORIO_ENV_FILE" && set +a && exec "$CARTORIO_BIN" "$@"); }

# csr NAME: WORK/NAME.req, the JSON body of an issuance request for a fresh key.
csr() {
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/$1.key" \
    -subj "/CN=$1.drill.test" -addext "subjectAltName=DNS:$1.drill.test" 2>/dev/null |
    python3 -c 'import json, sys; print(json.dumps({"profile": "tls-server", "csr": sys.stdin.read()}))' >"$WORK/$1.req"
}
# issue NAME: POST /api/v1/certificates through nginx; the answer in WORK/NAME.json, the status
# printed (000 when no answer came).
issue() {
  [ -f "$WORK/$1.req" ] || csr "$1"
  curl -s --max-time "${ISSUE_TIMEOUT:-20}" --cacert "$ROOT_CERT" -H "X-API-Key: $KEY" \
    -H 'Content-Type: application/json' --data-binary "@$WORK/$1.req" -o "$WORK/$1.json" -w '%{http_code}' \
    "$LB_HTTPS/api/v1/certificates" || true
}
# ocsp NAME: `openssl ocsp` for WORK/NAME.json's certificate at the OCSP URL written into it
# (nginx's HTTP port); prints openssl's output.
ocsp() {
  field "$WORK/$1.json" pem >"$WORK/$1.pem"
  field "$WORK/$1.json" chain_pem | sed '/-----END CERTIFICATE-----/q' >"$WORK/$1-issuer.pem"
  local url
  url=$(openssl x509 -noout -ocsp_uri -in "$WORK/$1.pem")
  case "$url" in
    "$LB_HTTP"/*) ;;
    *) echo "the certificate's OCSP URL '$url' is not nginx's $LB_HTTP" >&2; return 1 ;;
  esac
  openssl ocsp -issuer "$WORK/$1-issuer.pem" -cert "$WORK/$1.pem" -url "$url" -CAfile "$ROOT_CERT" -no_nonce 2>&1
}
# readyz URL: "CODE BODY" of GET URL/readyz.
readyz() {
  local body code
  body=$(curl -s --max-time 5 -w '\n%{http_code}' "$1/readyz" || true)
  code=${body##*$'\n'}
  echo "$code ${body%$'\n'*}"
}
# psql_at PORT SQL: as the application's role, over TCP.
psql_at() {
  PGPASSWORD=$(cat "$TOPO/secrets/pg-cartorio.password") "$PGBIN/psql" \
    "host=127.0.0.1 port=$1 dbname=cartorio user=cartorio connect_timeout=5" -X -Atq -c "$2" </dev/null
}
# sample_pdf FILE: a one-page PDF (qpdf rewrites it with a proper cross-reference table).
sample_pdf() {
  python3 - "$1.raw" <<'PY'
import sys
stream = b"BT /F1 18 Tf 72 720 Td (Drill) Tj ET"
objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
out = b"%PDF-1.7\n"
for i, o in enumerate(objs, 1):
    out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
out += b"trailer\n<< /Root 1 0 R /Size 6 >>\n%%EOF\n"
open(sys.argv[1], "wb").write(out)
PY
  qpdf "$1.raw" "$1" 2>/dev/null || [ $? = 3 ] || fail "qpdf could not write the sample PDF"
  rm -f "$1.raw"
}
# drill_notary: a notary-role API key in NOTARY (document signing, revocation) and the sample
# PDF WORK/doc.pdf that sign() posts.
drill_notary() {
  cli apikey create --name drill-notary --role notary --json >"$WORK/notary.json" 2>"$WORK/notary.err" ||
    fail "apikey create (notary): $(cat "$WORK/notary.err")"
  NOTARY=$(field "$WORK/notary.json" key)
  sample_pdf "$WORK/doc.pdf"
}
# sign NAME [BASE_URL]: POST WORK/doc.pdf for a B-T signature (through nginx by default); the
# answer in WORK/NAME.json, the status printed.
sign() {
  curl -s --max-time 60 --cacert "$ROOT_CERT" -H "X-API-Key: $NOTARY" -H 'Content-Type: application/pdf' \
    --data-binary "@$WORK/doc.pdf" -o "$WORK/$1.json" -w '%{http_code}' \
    "${2:-$LB_HTTPS}/api/v1/documents?level=B-T&title=drill-$1&signer=Drill" || true
}
