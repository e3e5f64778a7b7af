#!/usr/bin/env bash
# Regenerates the seed corpus of tsa_request_fuzzer (fuzz/corpus/tsa_request/*.der):
# TimeStampReqs made by `openssl ts -query` (SHA-256/384/512 with and without nonce and
# certReq, the TSA's own policy and a foreign one, SHA-1, MD5, SHA3-256), and a few shaped
# by `openssl asn1parse -genconf` that the CLI cannot make (version 2, a digest of the wrong
# length, hash parameters that are not NULL, a request extension, trailing bytes).
# No CA is involved: the seeds replay the same way in every fuzzer process.
# Usage: fuzz/make-tsa-seeds.sh   (rewrites the corpus)
set -euo pipefail
cd "$(dirname "$0")"
out=corpus/tsa_request
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
rm -f "$out"/*.der
printf 'seed document\n' >"$tmp/data"
# The default tsa.policy_oid (src/core/config.h).
policy=2.25.250359327722146467862993546787340417251

q() {
  local file=$1
  shift
  openssl ts -query -data "$tmp/data" "$@" -out "$out/$file"
}
q sha256-cert-nonce.der -sha256 -cert
q sha256-no-nonce.der -sha256 -no_nonce
q sha384-nonce.der -sha384
q sha512-cert-no-nonce.der -sha512 -cert -no_nonce
q sha256-own-policy.der -sha256 -cert -tspolicy "$policy"
q sha256-foreign-policy.der -sha256 -tspolicy 1.2.3.4.5
q sha1-cert-nonce.der -sha1 -cert
q md5.der -md5
q sha3-256.der -sha3-256 -cert

# Requests `openssl ts -query` refuses to make, from ASN.1 templates.
gen() {
  local file=$1
  cat >"$tmp/conf"
  openssl asn1parse -genconf "$tmp/conf" -noout -out "$out/$file"
}
digest=$(openssl dgst -sha256 -r "$tmp/data" | cut -d' ' -f1)
gen version-2.der <<CONF
asn1=SEQUENCE:req
[req]
version=INTEGER:2
imprint=SEQUENCE:imprint
nonce=INTEGER:0x1234567890abcdef
certReq=BOOLEAN:true
[imprint]
alg=SEQUENCE:sha256
digest=FORMAT:HEX,OCTETSTRING:$digest
[sha256]
oid=OID:sha256
CONF
gen sha256-short-digest.der <<CONF
asn1=SEQUENCE:req
[req]
version=INTEGER:1
imprint=SEQUENCE:imprint
[imprint]
alg=SEQUENCE:sha256
digest=FORMAT:HEX,OCTETSTRING:${digest:0:40}
[sha256]
oid=OID:sha256
params=NULL
CONF
gen sha256-integer-params.der <<CONF
asn1=SEQUENCE:req
[req]
version=INTEGER:1
imprint=SEQUENCE:imprint
[imprint]
alg=SEQUENCE:sha256
digest=FORMAT:HEX,OCTETSTRING:$digest
[sha256]
oid=OID:sha256
params=INTEGER:7
CONF
gen sha256-extension.der <<CONF
asn1=SEQUENCE:req
[req]
version=INTEGER:1
imprint=SEQUENCE:imprint
nonce=INTEGER:42
extensions=IMPLICIT:0,SEQUENCE:exts
[imprint]
alg=SEQUENCE:sha256
digest=FORMAT:HEX,OCTETSTRING:$digest
[sha256]
oid=OID:sha256
[exts]
ext=SEQUENCE:ext
[ext]
oid=OID:1.3.6.1.5.5.7.48.1.2
value=FORMAT:HEX,OCTETSTRING:0500
CONF
# A good request with one byte after it.
cat "$out/sha256-cert-nonce.der" >"$out/sha256-trailing-byte.der"
printf '\0' >>"$out/sha256-trailing-byte.der"
ls -l "$out"
