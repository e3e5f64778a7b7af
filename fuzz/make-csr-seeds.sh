#!/usr/bin/env bash
# Regenerates the seed corpus of csr_fuzzer (fuzz/corpus/csr/): PKCS#10 requests made by
# `openssl req` with fresh keys, DER unless named *.pem. The harness validates each under every
# profile, so one request reaches the accepting path of some profiles and a refusal of others:
#   ec-p256-tls-server      CN + DNS (one wildcard) + IP SANs   (tls-server)
#   ec-p384-tls-client      DNS + email + URI SANs              (tls-client)
#   rsa2048-document        email + URI SANs, O/OU/L/ST/C/serialNumber (document-signing)
#   rsa2048-subject-only    CN/O/C, no SAN                      (ocsp, tsa)
#   ec-p256-empty-subject   no subject, one DNS SAN (issued with a critical SAN extension)
#   ec-p256-ipv6            IPv4 and IPv6 SANs
#   ec-p256-extra-attrs     emailAddress, DC, title in the subject (filtered out)
#   ec-p256-tls-server.pem  the first one as PEM
# and requests each refused for one reason:
#   rsa1024, rsa2048-e3 (weak_key), ec-secp256k1, ed25519, rsa-pss (unsupported_key_type),
#   bad-signature (csr_bad_signature), trailing-byte, truncated (malformed_csr),
#   dns-uppercase, dns-numeric-tld, uri-no-scheme, email-two-at, othername, 101-sans
#   (invalid_san), country-lowercase (profile_violation).
# Keys are new on every run, so the bytes differ between runs; the shapes do not.
# Usage: fuzz/make-csr-seeds.sh   (rewrites the corpus)
set -euo pipefail
cd "$(dirname "$0")"
out=corpus/csr
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
rm -f "$out"/*.der "$out"/*.pem

key() {  # key NAME genpkey-args...
  local name=$1
  shift
  openssl genpkey "$@" -out "$tmp/$name.pem" 2>/dev/null
}
key p256 -algorithm EC -pkeyopt ec_paramgen_curve:P-256
key p384 -algorithm EC -pkeyopt ec_paramgen_curve:P-384
key rsa2048 -algorithm RSA -pkeyopt rsa_keygen_bits:2048
key rsa1024 -algorithm RSA -pkeyopt rsa_keygen_bits:1024
key rsa2048-e3 -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -pkeyopt rsa_keygen_pubexp:3
key secp256k1 -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1
key ed25519 -algorithm ED25519
key rsa-pss -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048

csr() {  # csr FILE KEY SUBJECT [req args...]: a DER request (PEM when FILE ends in .pem)
  local file=$1 keyname=$2 subject=$3
  shift 3
  local form=DER
  [[ $file == *.pem ]] && form=PEM
  openssl req -new -key "$tmp/$keyname.pem" -subj "$subject" -outform "$form" -out "$out/$file" "$@"
}

csr ec-p256-tls-server.der p256 "/CN=www.example.org" \
  -addext "subjectAltName=DNS:www.example.org,DNS:*.api.example.org,IP:192.0.2.10"
csr ec-p256-tls-server.pem p256 "/CN=www.example.org" \
  -addext "subjectAltName=DNS:www.example.org,DNS:*.api.example.org,IP:192.0.2.10"
csr ec-p384-tls-client.der p384 "/CN=worker-7/O=Cartorio Digital" \
  -addext "subjectAltName=DNS:worker-7.internal.example,email:ops@example.org,URI:spiffe://example.org/worker/7"
csr rsa2048-document.der rsa2048 \
  "/C=BR/ST=Sao Paulo/L=Sao Paulo/O=Cartorio Digital/OU=Tabelionato/CN=Maria da Silva/serialNumber=12345678909" \
  -utf8 -addext "subjectAltName=email:maria@example.org,URI:urn:oid:2.16.76.1.3.1"
csr rsa2048-subject-only.der rsa2048 "/C=BR/O=Cartorio Digital/CN=OCSP Responder 1"
csr ec-p256-empty-subject.der p256 "/" -addext "subjectAltName=DNS:bare.example.org"
csr ec-p256-ipv6.der p256 "/CN=dual-stack" -addext "subjectAltName=IP:10.0.0.1,IP:2001:db8::1,IP:::ffff:192.0.2.1"
csr ec-p256-extra-attrs.der p256 "/DC=org/DC=example/CN=svc/emailAddress=svc@example.org/title=Service" \
  -addext "subjectAltName=DNS:svc.example.org"

csr rsa1024.der rsa1024 "/CN=weak.example.org" -addext "subjectAltName=DNS:weak.example.org"
csr rsa2048-e3.der rsa2048-e3 "/CN=e3.example.org" -addext "subjectAltName=DNS:e3.example.org"
csr ec-secp256k1.der secp256k1 "/CN=k1.example.org" -addext "subjectAltName=DNS:k1.example.org"
csr ed25519.der ed25519 "/CN=ed.example.org" -addext "subjectAltName=DNS:ed.example.org"
csr rsa-pss.der rsa-pss "/CN=pss.example.org" -addext "subjectAltName=DNS:pss.example.org"
csr dns-uppercase.der p256 "/CN=Upper" -addext "subjectAltName=DNS:WWW.Example.ORG"
csr dns-numeric-tld.der p256 "/CN=numeric" -addext "subjectAltName=DNS:host.123"
csr uri-no-scheme.der p256 "/CN=uri" -addext "subjectAltName=URI:example.org/path"
csr email-two-at.der p256 "/CN=mail" -addext "subjectAltName=email:a@b@example.org"
csr othername.der p256 "/CN=upn" -addext "subjectAltName=otherName:1.3.6.1.4.1.311.20.2.3;UTF8:user@example.org"
csr country-lowercase.der p256 "/C=br/CN=country" -addext "subjectAltName=DNS:country.example.org"
sans=DNS:h0.example.org
for i in $(seq 1 100); do sans+=",DNS:h$i.example.org"; done
csr 101-sans.der p256 "/CN=many" -addext "subjectAltName=$sans"

# Damaged copies of a valid request.
python3 - "$out" <<'EOF'
import sys
out = sys.argv[1]
good = open(f"{out}/ec-p256-tls-server.der", "rb").read()
bad = bytearray(good)
bad[-5] ^= 0x01  # inside the ECDSA signature's s
open(f"{out}/bad-signature.der", "wb").write(bytes(bad))
open(f"{out}/trailing-byte.der", "wb").write(good + b"\0")
open(f"{out}/truncated.der", "wb").write(good[: len(good) // 2])
EOF
ls -l "$out"
