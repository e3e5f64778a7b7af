#!/usr/bin/env bash
# Regenerates the seed corpus of access_token_fuzzer (fuzz/corpus/access_token/), in the two
# forms the harness reads (python3's standard library for JSON and base64url, `openssl dgst`
# for the ES256 signatures):
#   token-*   compact JWS as a client sends them (no NUL): ES256 over IdentityService-shaped
#             claims by a throwaway P-256 key (so never accepted), with the kid SEED-KID and a
#             foreign one, alg "none" with an empty signature, HS256, RS256-shaped, a padded
#             and a non-canonical base64url part, four parts;
#   signed-*  "header JSON \0 claims JSON", which the harness signs with its live key after
#             putting its kid in place of SEED-KID: an access token as sign_access_token writes
#             it (accepted), an mfa_enroll one, one bound to a certificate (cnf), aud as an
#             array, typ application/at+jwt, and ones refused for alg none, a foreign kid, no
#             kid, crit, expired, not yet valid, issued in the future, exp beyond int64, an
#             unknown role, a missing jti, a wrong iss;
#   header-*, claims-*  a header or claims alone (no NUL): the harness signs each over the
#             fixed claims and under the fixed header.
# The claims' times are around the harness's fixed clock (kNow = 1750000000). The throwaway key
# is new on every run, so the token-* signatures differ between runs.
# Usage: fuzz/make-access-token-seeds.sh   (rewrites the corpus)
set -euo pipefail
cd "$(dirname "$0")"
out=corpus/access_token
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
rm -f "$out"/*.jwt "$out"/*.bin "$out"/*.json
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/p256.pem"

OUT=$out TMP=$tmp python3 - <<'EOF'
import base64, json, os, subprocess

out, tmp = os.environ["OUT"], os.environ["TMP"]
NOW = 1750000000  # kNow in access_token_fuzzer.cpp
SEED_KID = "SEED-KID"  # kSeedKid: the harness puts its live kid here

def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

def dumps(obj):
    return json.dumps(obj, separators=(",", ":"))

def der_ecdsa_to_raw(der):
    # SEQUENCE { INTEGER r, INTEGER s } -> r || s, 32 bytes each.
    i, parts = 2, []
    for _ in range(2):
        length = der[i + 1]
        parts.append(der[i + 2:i + 2 + length].lstrip(b"\0").rjust(32, b"\0"))
        i += 2 + length
    return b"".join(parts)

def es256(signing_input):
    with open(f"{tmp}/input", "wb") as f:
        f.write(signing_input.encode())
    der = subprocess.run(["openssl", "dgst", "-sha256", "-sign", f"{tmp}/p256.pem", f"{tmp}/input"],
                         check=True, capture_output=True).stdout
    return der_ecdsa_to_raw(der)

def write(name, data):
    with open(f"{out}/{name}", "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)

header = {"alg": "ES256", "typ": "at+jwt", "kid": SEED_KID}
# As IdentityService::sign_access_token writes them.
claims = {"iss": "cartorio", "sub": "user:alice", "aud": "cartorio-api", "iat": NOW, "nbf": NOW,
          "exp": NOW + 600, "jti": "AbCdEfGh0123", "client_id": "cartorio", "roles": ["clerk", "notary"],
          "scope": "clerk notary", "sid": "fam-1", "amr": ["pwd", "otp"]}

def token(h, c, sign=True):
    signing_input = b64u(dumps(h).encode()) + "." + b64u(dumps(c).encode())
    return signing_input + "." + (b64u(es256(signing_input)) if sign else "")

t = token(header, claims)
write("token-es256-seed-kid.jwt", t)
write("token-es256-foreign-kid.jwt", token(dict(header, kid="p8wZ3yQ0oQmK1bqg6z8M2kq3x7v9T4rJfH5nLd2sAcE"), claims))
write("token-alg-none.jwt", token({"alg": "none", "typ": "at+jwt"}, claims, sign=False))
h_hs = b64u(dumps({"alg": "HS256", "typ": "JWT", "kid": SEED_KID}).encode()) + "." + b64u(dumps(claims).encode())
write("token-hs256.jwt", h_hs + "." + b64u(bytes(range(32))))
h_rs = b64u(dumps({"alg": "RS256", "typ": "at+jwt", "kid": SEED_KID}).encode()) + "." + b64u(dumps(claims).encode())
write("token-rs256-shaped.jwt", h_rs + "." + b64u(bytes(256)))
head, payload, sig = t.split(".")
write("token-padded.jwt", head + "=." + payload + "." + sig)
# The last character of a 64-byte signature carries 4 unused bits: set one.
alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
write("token-noncanonical-tail.jwt", head + "." + payload + "." + sig[:-1] + alphabet[alphabet.index(sig[-1]) | 1])
write("token-four-parts.jwt", t + "." + sig)

def signed(name, h, c):
    write(f"signed-{name}.bin", (h if isinstance(h, str) else dumps(h)) + "\0" + (c if isinstance(c, str) else dumps(c)))

signed("access-token", header, claims)
signed("mfa-enroll", header, dict(claims, scope="mfa_enroll", roles=[], amr=["pwd"]))
service = {k: v for k, v in claims.items() if k not in ("sid", "amr")}
signed("cnf-bound", header, dict(service, sub="service:billing", roles=["service"], scope="service",
                                   cnf={"x5t#S256": b64u(bytes(range(32)))}))
signed("aud-array", header, dict(claims, aud=["other-api", "cartorio-api"]))
signed("typ-application", dict(header, typ="application/at+jwt"), claims)
signed("alg-none", dict(header, alg="none"), claims)
signed("foreign-kid", dict(header, kid="not-the-live-kid"), claims)
signed("no-kid", {"alg": "ES256", "typ": "at+jwt"}, claims)
signed("crit", dict(header, crit=["exp"]), claims)
signed("expired", header, dict(claims, iat=NOW - 3600, nbf=NOW - 3600, exp=NOW - 31))
signed("not-yet-valid", header, dict(claims, nbf=NOW + 31))
signed("issued-in-future", header, dict(claims, iat=NOW + 3600, exp=NOW + 4200))
signed("exp-beyond-int64", header, dumps(claims).replace(str(NOW + 600), "18446744073709551615"))
signed("unknown-role", header, dict(claims, roles=["clerk", "root"]))
signed("no-jti", header, {k: v for k, v in claims.items() if k != "jti"})
signed("wrong-iss", header, dict(claims, iss="https://evil.example"))

write("header-es256.json", dumps(header))
write("claims-access-token.json", dumps(claims))
EOF
ls -l "$out"
