#!/usr/bin/env bash
# Regenerates the seed corpus of ocsp_request_fuzzer with `openssl ocsp -reqout`:
#   fuzz/seed-ca/{root,tls,document}.pem   seed CA certificates (made once, kept: the harness
#                                          maps their name/key hashes onto the live CAs')
#   fuzz/corpus/ocsp_request/*.der         DER OCSPRequests (the POST body)
#   fuzz/corpus/ocsp_request/*.b64         the same as GET URL text (base64, after percent-decoding)
# The serials are those the harness records (kSeedRecords in ocsp_request_fuzzer.cpp):
# tls 1001 good, 1002 keyCompromise, 1003 unspecified, 1004 superseded, 40a1..8f good;
# document 2001 good, 2002 privilegeWithdrawn; root 3001 good, 3002 cACompromise; 1fff unknown.
# Usage: fuzz/make-seeds.sh   (rewrites the corpus; the seed CAs stay unless deleted)
set -euo pipefail
cd "$(dirname "$0")"
ca=seed-ca
out=corpus/ocsp_request
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$ca" "$out"

# Same subjects as the live hierarchy (src/pki/ceremony.cpp); throwaway keys: only the
# certificates are needed to build CertIDs.
for name in root tls document; do
  case $name in
    root) cn="Cartorio Digital Root CA" ;;
    tls) cn="Cartorio Digital TLS CA" ;;
    document) cn="Cartorio Digital Document Signing CA" ;;
  esac
  [ -f "$ca/$name.pem" ] && continue
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/$name.key" \
    -out "$ca/$name.pem" -subj "/C=BR/O=Cartorio Digital/CN=$cn" -days 36500 2>/dev/null
done
# A requestor identity for signed requests (optionalSignature, RFC 6960 4.1.2).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/client.key" \
  -out "$tmp/client.pem" -subj "/CN=ocsp fuzz client" -days 36500 2>/dev/null

rm -f "$out"/*.der "$out"/*.b64
req() {
  local file=$1
  shift
  openssl ocsp "$@" -reqout "$out/$file"
}
tls=(-issuer "$ca/tls.pem")
doc=(-issuer "$ca/document.pem")
root=(-issuer "$ca/root.pem")

req tls-sha1-good.der "${tls[@]}" -serial 0x1001 -no_nonce
req tls-sha1-revoked-nonce.der "${tls[@]}" -serial 0x1002
req tls-sha256-long-serial.der -sha256 "${tls[@]}" -serial 0x40a1b2c3d4e5f60718293a4b5c6d7e8f -no_nonce
req tls-sha256-multi-nonce.der -sha256 "${tls[@]}" -serial 0x1001 -serial 0x1002 -serial 0x1003 -serial 0x1004 \
  -serial 0x1fff -serial 0x2001
req tls-sha1-multi.der "${tls[@]}" -serial 0x1003 -serial 0x1004 -serial 0x1fff -no_nonce
req tls-mixed-hashes.der "${tls[@]}" -sha1 -serial 0x1001 -sha256 -serial 0x1002 -no_nonce
req tls-sha384.der -sha384 "${tls[@]}" -serial 0x1001 -no_nonce
req tls-sha512-nonce.der -sha512 "${tls[@]}" -serial 0x1002
req tls-signed.der "${tls[@]}" -serial 0x1001 -signer "$tmp/client.pem" -signkey "$tmp/client.key" -no_nonce
req tls-md5.der -md5 "${tls[@]}" -serial 0x1001 -no_nonce
req tls-sha3-256.der -sha3-256 "${tls[@]}" -serial 0x1002 -no_nonce
req tls-shake128.der -shake128 "${tls[@]}" -serial 0x1001 -no_nonce
req tls-20-octet-serial.der "${tls[@]}" -serial 0x7fffffffffffffffffffffffffffffffffffffff -no_nonce
# 17 CertIDs: one over the responder's cap (malformedRequest).
serials=()
for i in $(seq 1 17); do serials+=(-serial "$(printf '0x1%03x' "$i")"); done
req tls-17-certids.der "${tls[@]}" "${serials[@]}" -no_nonce
req document-sha1-nonce.der "${doc[@]}" -serial 0x2001 -serial 0x2002
req document-sha256.der -sha256 "${doc[@]}" -serial 0x2002 -no_nonce
req root-sha1.der "${root[@]}" -serial 0x3001 -no_nonce
req root-sha256-revoked.der -sha256 "${root[@]}" -serial 0x3002 -no_nonce
req root-sha1-nonce.der "${root[@]}" -serial 0x3001
req root-two-certids.der "${root[@]}" -serial 0x3001 -serial 0x3002 -no_nonce
# A 200-octet serial (RFC 5280 allows 20): over the file name limit of the pre-signed lookup.
req root-200-octet-serial.der "${root[@]}" -serial "0x$(printf '7f%.0s' $(seq 1 200))" -no_nonce
req mixed-issuers.der "${tls[@]}" -serial 0x1001 "${doc[@]}" -serial 0x2001 -no_nonce

# GET forms: the text the route decodes (the router has percent-decoded it already).
base64 -w0 "$out/tls-sha1-good.der" >"$out/get-tls-sha1-good.b64"
base64 -w0 "$out/tls-sha256-multi-nonce.der" >"$out/get-tls-sha256-multi-nonce.b64"
base64 -w0 "$out/root-sha256-revoked.der" | tr -d '=' >"$out/get-root-sha256-unpadded.b64"
base64 -w0 "$out/document-sha1-nonce.der" | tr '+' ' ' >"$out/get-document-plus-as-space.b64"
base64 -w 40 "$out/tls-sha1-multi.der" >"$out/get-tls-sha1-multi-wrapped.b64"

ls -l "$out"
