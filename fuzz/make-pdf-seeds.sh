#!/usr/bin/env bash
# Regenerates the seeds of pdf_verify_fuzzer (fuzz/corpus/pdf_verify/): small PDFs made by
# ghostscript, qpdf and pdftocairo, and PDFs signed once and twice by pdfsig with a
# throwaway key, shrunk by fuzz/shrink-signed-pdf.py (pdfsig embeds a large font; the
# shrunk files keep their structure and ByteRanges, not valid signatures). With
# CARTORIO_BIN=path/to/cartorio, also the project's own PAdES B-T and B-LTA (signature
# timestamp, DSS, document timestamp) from a throwaway installation. docs/fuzzing.md.
set -euo pipefail
cd "$(dirname "$0")/.."
out=fuzz/corpus/pdf_verify
work=$(mktemp -d "${TMPDIR:-/tmp}/cartorio-pdf-seeds.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

cat >"$work/doc.ps" <<'PS'
%!PS
/Helvetica findfont 24 scalefont setfont
72 720 moveto (Cartorio fuzz seed) show
showpage
PS
gs -q -dNOPAUSE -dBATCH -dSAFER -sDEVICE=pdfwrite -sOutputFile="$work/base.pdf" "$work/doc.ps"
qpdf --object-streams=generate "$work/base.pdf" "$work/base-objstm.pdf"
pdftocairo -pdf "$work/base.pdf" "$work/base-cairo.pdf"
qpdf --encrypt '' owner 256 -- "$work/base.pdf" "$work/encrypted.pdf"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/root.key" \
  -out "$work/root.pem" -days 3650 -subj '/CN=Fuzz Seed Root' \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
# RSA: pdfsig sometimes fails with EC keys ("unable update signature": ECDSA sizes vary).
openssl req -newkey rsa:2048 -nodes -keyout "$work/signer.key" \
  -out "$work/signer.csr" -subj '/CN=Fuzz Seed Signer' 2>/dev/null
printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n' >"$work/signer.ext"
openssl x509 -req -in "$work/signer.csr" -CA "$work/root.pem" -CAkey "$work/root.key" -CAcreateserial \
  -out "$work/signer.pem" -days 3650 -extfile "$work/signer.ext" 2>/dev/null
openssl pkcs12 -export -inkey "$work/signer.key" -in "$work/signer.pem" -certfile "$work/root.pem" \
  -name signer -out "$work/signer.p12" -passout pass:
mkdir "$work/nss"
certutil -N -d "sql:$work/nss" --empty-password
pk12util -i "$work/signer.p12" -d "sql:$work/nss" -W '' >/dev/null
pdfsig -add-signature -nssdir "sql:$work/nss" -nick signer -new-signature-field-name One \
  "$work/base.pdf" "$work/signed.pdf"
pdfsig -add-signature -nssdir "sql:$work/nss" -nick signer -new-signature-field-name Two \
  "$work/signed.pdf" "$work/signed-twice.pdf" 2>/dev/null

cp "$work/base.pdf" "$out/base.pdf"
cp "$work/base-objstm.pdf" "$out/base-objstm.pdf"
cp "$work/base-cairo.pdf" "$out/base-cairo.pdf"
cp "$work/encrypted.pdf" "$out/encrypted.pdf"
python3 fuzz/shrink-signed-pdf.py "$work/signed.pdf" "$out/signed.pdf"
python3 fuzz/shrink-signed-pdf.py "$work/signed-twice.pdf" "$out/signed-twice.pdf"

if [ -n "${CARTORIO_BIN:-}" ]; then
  export CARTORIO_DATA_DIR="$work/installation" CARTORIO_PKI_PUBLIC_BASE_URL=http://pki.fuzz.example
  echo "fuzz seed passphrase, thrown away" >"$work/passphrase"
  "$CARTORIO_BIN" init --root-passphrase-file "$work/passphrase" >/dev/null 2>&1
  for level in B-T B-LTA; do
    "$CARTORIO_BIN" pdf sign "$work/base.pdf" -o "$work/pades-$level.pdf" --level "$level" >/dev/null 2>&1
    python3 fuzz/shrink-signed-pdf.py "$work/pades-$level.pdf" "$out/pades-$(echo "$level" | tr 'A-Z' 'a-z').pdf"
  done
fi
ls -l "$out"
