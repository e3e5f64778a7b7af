#!/usr/bin/env bash
# Documents per second at PAdES B-T for a ~100 KB and a ~5 MB PDF: flow 1 in process
# (bench/pdf/pdf_sign_bench.cpp), next to `pdfsig -add-signature` (poppler + NSS; adbe.pkcs7.detached: -etsi is not supported with -add-signature in 22.12)
# signing the same files in the same run: one document at a time, then two at once on both
# sides (2 threads in one process for ours, 2 pdfsig processes).
#   bash scripts/build.sh bench            # build-bench/: cartorio + pdf_sign_bench
#   bash bench/pdf/run.sh [--seconds N] [--level B-T] [--out DIR]
# pdfsig 22.12 cannot time-stamp: it is measured at B-B (a signature only), ours at the
# asked level (B-T by default: one more signature, the TSA's). Ours also issues and records
# a certificate per document, writes the object and the record; pdfsig reuses one key.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=10
level=B-T
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --level) level=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n 2,10p "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
bin=build-bench/bin/cartorio
bench=build-bench/bench/pdf_sign_bench
[ -x "$bin" ] && [ -x "$bench" ] || { echo "build first: bash scripts/build.sh bench" >&2; exit 1; }
for tool in gs pdfsig certutil pk12util openssl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (scripts/install-deps.sh)" >&2; exit 1; }
done
work=$(mktemp -d /tmp/cartorio-pdf-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
[ -n "$out" ] && mkdir -p "$out"
export CARTORIO_DATA_DIR=$work/data
printf 'bench passphrase for the root key\n' >"$work/pp"
"$bin" init --root-passphrase-file "$work/pp" >/dev/null 2>&1

# Inputs: text pages (~100 KB) and a page with a 1300x1300 random RGB image kept lossless
# (~5 MB), both written by ghostscript.
python3 - "$work" <<'PY'
import os, sys
work = sys.argv[1]
with open(f"{work}/text.ps", "w") as f:
    f.write("%!PS\n/Helvetica findfont 9 scalefont setfont\n")
    for page in range(60):
        for line in range(70):
            f.write(f"40 {770 - line * 10} moveto (Pagina {page + 1} linha {line + 1}: "
                    f"{os.urandom(24).hex()}) show\n")
        f.write("showpage\n")
side = 1300
with open(f"{work}/image.ps", "w") as f:
    f.write(f"%!PS\n72 72 translate 450 450 scale\n{side} {side} 8 [{side} 0 0 -{side} 0 {side}]\n"
            "currentfile /ASCIIHexDecode filter false 3 colorimage\n")
    data = os.urandom(side * side * 3).hex()
    for i in range(0, len(data), 128):
        f.write(data[i:i + 128] + "\n")
    f.write(">\nshowpage\n")
PY
gs -q -dNOPAUSE -dBATCH -dSAFER -sDEVICE=pdfwrite -sOutputFile="$work/100k.pdf" "$work/text.ps"
gs -q -dNOPAUSE -dBATCH -dSAFER -sDEVICE=pdfwrite -dAutoFilterColorImages=false -dColorImageFilter=/FlateEncode \
  -dDownsampleColorImages=false -sOutputFile="$work/5m.pdf" "$work/image.ps"

# pdfsig's signer: a document-signing certificate of this installation, in an NSS database
# that trusts the root. RSA-2048: pdfsig 22.12 fails with EC keys ("unable update signature").
openssl genrsa -out "$work/nss.key" 2048 2>/dev/null
openssl req -new -key "$work/nss.key" -subj "/CN=pdfsig bench" -addext "subjectAltName=email:bench@cartorio.test" \
  -out "$work/nss.csr" 2>/dev/null
"$bin" cert issue --profile document-signing --csr "$work/nss.csr" --out "$work/nss.crt" 2>/dev/null
"$bin" ca chain --ca document >"$work/chain.pem" 2>/dev/null
"$bin" ca chain --ca root >"$work/root.pem" 2>/dev/null
openssl pkcs12 -export -inkey "$work/nss.key" -in "$work/nss.crt" -certfile "$work/chain.pem" -name signer \
  -passout pass: -out "$work/signer.p12"
mkdir -p "$work/nss"
certutil -N -d "sql:$work/nss" --empty-password
certutil -A -d "sql:$work/nss" -n root -t CT,C,C -i "$work/root.pem"
pk12util -i "$work/signer.p12" -d "sql:$work/nss" -W '' >/dev/null

pdfsig_rate() {  # docs/s of pdfsig signing $1 for $seconds seconds with $2 processes at a time
  local in=$1 jobs=$2 n=0 start now
  start=${EPOCHREALTIME/./}  # microseconds
  now=$start
  while [ $((now - start)) -lt $((seconds * 1000000)) ]; do
    for j in $(seq 1 "$jobs"); do
      pdfsig -add-signature -nssdir "sql:$work/nss" -nick signer -digest SHA256 "$in" "$work/pdfsig-out-$j.pdf" \
        >"$work/pdfsig-$j.log" 2>&1 &
    done
    wait
    n=$((n + jobs))
    now=${EPOCHREALTIME/./}
  done
  python3 -c "print(f'{$n / (($now - $start) / 1e6):.2f}')"
}

printf '%-6s %-6s %-10s %12s %14s %8s\n' input level concurrency "ours docs/s" "pdfsig docs/s" ratio
for size in 100k 5m; do
  in=$work/$size.pdf
  json=$work/bench-$size.json
  "$bench" --input="$in" --level="$level" --benchmark_min_time="$seconds" --benchmark_format=json >"$json" 2>/dev/null
  for threads in 1 2; do
    ours=$(python3 -c "
import json
for b in json.load(open('$json'))['benchmarks']:
    if b['name'].endswith('threads:$threads'): print(f\"{b['items_per_second']:.2f}\")")
    theirs=$(pdfsig_rate "$in" "$threads")
    # pdfsig's own output is valid for pdfsig itself (a sanity check of the comparison).
    pdfsig -nssdir "sql:$work/nss" -no-ocsp "$work/pdfsig-out-1.pdf" | grep -q "Signature is Valid" ||
      echo "pdfsig output invalid: $(cat "$work/pdfsig-1.log")" >&2
    ratio=$(python3 -c "print(f'{$ours / $theirs:.1f}x')")
    printf '%-6s %-6s %-10s %12s %14s %8s   (%s bytes)\n' "$size" "$level" "$threads" "$ours" "$theirs" "$ratio" \
      "$(stat -c %s "$in")"
  done
  [ -n "$out" ] && cp "$json" "$out/"
done
