#!/usr/bin/env bash
# Regenerates the seed corpus of acme_jws_fuzzer (fuzz/corpus/acme_jws/): flattened JWS
# requests as ACME clients send them, signed with fresh keys made by `openssl genpkey` and
# signed by `openssl dgst` (python3's standard library only does the JSON and base64url):
#   new-account-rs256-jwk     RS256, jwk, nonce (newAccount)
#   new-account-es256-eab     ES256, jwk, with an externalAccountBinding inner JWS in the payload
#   new-order-es256-kid       ES256, kid (newOrder)
#   post-as-get-es384-kid     ES384, kid, empty payload
#   key-change-inner-es384    the key-change inner JWS: jwk, no nonce
#   eab-inner-hs256           the EAB inner JWS alone: HS256, kid, no nonce
#   header-*                  decoded protected headers (the harness's second form)
# Every signature and MAC verifies: the RSA/EC ones with the jwk they carry (the kid ones have
# no key to verify with), the HS256 ones with the harness's kSeedEabKey.
# Usage: fuzz/make-acme-jws-seeds.sh   (rewrites the corpus)
set -euo pipefail
cd "$(dirname "$0")"
out=corpus/acme_jws
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
rm -f "$out"/*.json
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/rsa.pem" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/p256.pem"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$tmp/p384.pem"

OUT=$out TMP=$tmp python3 - <<'EOF'
import base64, hashlib, hmac, json, os, re, subprocess

out, tmp = os.environ["OUT"], os.environ["TMP"]
EAB_KEY = b"cartorio-acme-jws-fuzz-eab-key!!"  # kSeedEabKey in acme_jws_fuzzer.cpp
BASE = "https://acme.example/acme"
NONCE = "Zm9vYmFyYmF6cXV4MTIzNA"

def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

def hex_block(text, label):
    # The colon-separated hex lines under `label:` in `openssl pkey -text` output.
    m = re.search(label + r":\n((?:\s+[0-9a-f:]+\n)+)", text)
    return bytes.fromhex(re.sub(r"[\s:]", "", m.group(1)))

def public_jwk(name):
    text = subprocess.run(["openssl", "pkey", "-in", f"{tmp}/{name}.pem", "-noout", "-text_pub"],
                          check=True, capture_output=True, text=True).stdout
    if name == "rsa":
        n = hex_block(text, "Modulus").lstrip(b"\0")
        e = int(re.search(r"Exponent: (\d+)", text).group(1))
        return {"kty": "RSA", "n": b64u(n), "e": b64u(e.to_bytes((e.bit_length() + 7) // 8, "big"))}
    point = hex_block(text, "pub")
    size = (len(point) - 1) // 2
    return {"kty": "EC", "crv": "P-256" if size == 32 else "P-384", "x": b64u(point[1:1 + size]),
            "y": b64u(point[1 + size:])}

def der_ecdsa_to_raw(der, size):
    # SEQUENCE { INTEGER r, INTEGER s } -> r || s, each left-padded to the field size.
    assert der[0] == 0x30
    i = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7f)
    parts = []
    for _ in range(2):
        assert der[i] == 0x02
        length = der[i + 1]
        parts.append(der[i + 2:i + 2 + length].lstrip(b"\0").rjust(size, b"\0"))
        i += 2 + length
    return b"".join(parts)

def sign(name, alg, header, payload):
    header = dict(header, alg=alg)
    signing_input = (b64u(json.dumps(header, separators=(",", ":")).encode()) + "." +
                     b64u(payload.encode())).encode()
    if alg == "HS256":
        sig = hmac.new(EAB_KEY, signing_input, hashlib.sha256).digest()
    else:
        digest = "-sha384" if alg == "ES384" else "-sha256"
        with open(f"{tmp}/input", "wb") as f:
            f.write(signing_input)
        sig = subprocess.run(["openssl", "dgst", digest, "-sign", f"{tmp}/{name}.pem", f"{tmp}/input"],
                             check=True, capture_output=True).stdout
        if alg.startswith("ES"):
            sig = der_ecdsa_to_raw(sig, 32 if alg == "ES256" else 48)
    protected, payload_b64 = signing_input.decode().split(".")
    return {"protected": protected, "payload": payload_b64, "signature": b64u(sig)}, header

def write(file, obj):
    with open(f"{out}/{file}", "w") as f:
        f.write(obj if isinstance(obj, str) else json.dumps(obj, separators=(",", ":")))

jwks = {name: public_jwk(name) for name in ("rsa", "p256", "p384")}
acct = BASE + "/acct/17"

jws, header = sign("rsa", "RS256", {"nonce": NONCE, "url": BASE + "/new-account", "jwk": jwks["rsa"]},
                   json.dumps({"termsOfServiceAgreed": True, "contact": ["mailto:admin@example.org"]}))
write("new-account-rs256-jwk.json", jws)
write("header-rs256-jwk.json", header)

eab, eab_header = sign(None, "HS256", {"kid": "eab-key-1", "url": BASE + "/new-account"}, json.dumps(jwks["p256"]))
write("eab-inner-hs256.json", eab)
write("header-hs256-kid.json", eab_header)
jws, header = sign("p256", "ES256", {"nonce": NONCE, "url": BASE + "/new-account", "jwk": jwks["p256"]},
                   json.dumps({"termsOfServiceAgreed": True, "externalAccountBinding": eab}))
write("new-account-es256-eab.json", jws)

jws, header = sign("p256", "ES256", {"nonce": NONCE, "url": BASE + "/new-order", "kid": acct},
                   json.dumps({"identifiers": [{"type": "dns", "value": "www.example.org"}]}))
write("new-order-es256-kid.json", jws)
write("header-es256-kid.json", header)

jws, header = sign("p384", "ES384", {"nonce": NONCE, "url": BASE + "/authz/3", "kid": acct}, "")
write("post-as-get-es384-kid.json", jws)

jws, header = sign("p384", "ES384", {"url": BASE + "/key-change", "jwk": jwks["p384"]},
                   json.dumps({"account": acct, "oldKey": jwks["p256"]}))
write("key-change-inner-es384.json", jws)
write("header-es384-jwk-no-nonce.json", header)
EOF
ls -l "$out"
