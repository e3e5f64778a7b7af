#!/usr/bin/env bash
# Regenerates the seed corpus of http_body_fuzzer (fuzz/corpus/http_body/). Deterministic
# (python3's standard library only). The first byte of each seed chooses the parser, as the
# harness reads it:
#   t-*  "METHOD target": the API's list queries (limit, offset, expiring_within_days, as the
#        routes read them), absolute form, an OCSP GET path with escapes, an encoded NUL and
#        slash, a bad escape, another method;
#   f-*  the OAuth token endpoint's form bodies (password, client_credentials, refresh_token),
#        empty pairs, a bad escape;
#   m-*  "Content-Type\nbody": a document upload (file part and fields), a quoted boundary and
#        escaped names, a preamble and transport padding, a part without a name, no close
#        delimiter, 33 parts (one over the limit), a non-multipart type;
#   j-*  JSON bodies of the API (certificate issue and revoke, user creation), escapes and
#        surrogates, numbers at the edges, duplicate keys, an array, trailing bytes;
#   p-*  percent-encoded text: escapes, '+', a truncated and a non-hex escape, UTF-8;
#   h-*  header lines (the first eight bytes also make the http_date time).
# Usage: fuzz/make-http-body-seeds.sh   (rewrites the corpus)
set -euo pipefail
cd "$(dirname "$0")"
out=corpus/http_body
mkdir -p "$out"
rm -f "$out"/*.txt

OUT=$out python3 - <<'EOF'
import json, os

out = os.environ["OUT"]

def write(name, mode, data):
    with open(f"{out}/{mode}-{name}.txt", "wb") as f:
        f.write(mode.encode() + (data.encode() if isinstance(data, str) else data))

# t: request targets
for name, line in [
    ("certificates-page", "GET /api/v1/certificates?limit=50&offset=100&expiring_within_days=30&profile=tls-server"),
    ("limit-out-of-range", "GET /api/v1/jobs?limit=1001&limit=5&before_id=-1"),
    ("limit-escaped", "GET /api/v1/documents?limit=%31%30&offset=007&status=signed+ok"),
    ("absolute-form", "POST http://cartorio.example:8443/ocsp/tls"),
    ("absolute-query-only", "GET HTTPS://cartorio.example?version=2"),
    ("ocsp-get", "GET /ocsp/tls/MEMwQTA%2FMD0wOzAJBgUrDgMCGgUABBR3%2BbV2nQ%3D%3D"),
    ("encoded-nul", "GET /crl/tls%00.crl"),
    ("bad-escape", "GET /crl/%zz.crl?x=%4"),
    ("upload-query", "POST /api/v1/documents?title=Contrato+de+compra&level=B-LTA&signer_name=Jos%C3%A9&visible"),
    ("propfind", "PROPFIND /webdav/"),
    ("asterisk", "OPTIONS *"),
]:
    write(name, "t", line)

# f: form bodies
for name, body in [
    ("password-grant", "grant_type=password&username=alice&password=s3cr%26t%3D&otp=123456&scope=clerk+notary"),
    ("client-credentials", "grant_type=client_credentials&client_id=svc-billing&client_secret=a%2Bb+c%25d"),
    ("refresh", "grant_type=refresh_token&refresh_token=rt_AbCdEf0123456789-_"),
    ("empty-pairs", "&&a&=b&c=&&d==e&"),
    ("bad-escape", "grant_type=password&username=%E"),
]:
    write(name, "f", body)

# m: multipart bodies
B = "----cartorio-boundary-7MA4YWxkTrZu0gW"
pdf = "%PDF-1.7\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
def part(headers, data):
    return f"--{B}\r\n" + "".join(h + "\r\n" for h in headers) + "\r\n" + data + "\r\n"
upload = (part(['Content-Disposition: form-data; name="file"; filename="contrato.pdf"', "Content-Type: application/pdf"], pdf)
          + part(['Content-Disposition: form-data; name="title"'], "Contrato de compra")
          + part(['Content-Disposition: form-data; name="level"'], "B-LTA")
          + f"--{B}--\r\n")
write("document-upload", "m", f"multipart/form-data; boundary={B}\n" + upload)
write("quoted-boundary", "m", 'Multipart/Form-Data; charset=utf-8; boundary="a;b c"\n'
      + '--a;b c\r\ncontent-disposition: FORM-DATA; name="we\\"ird\\\\name"; filename="a\\"b.pdf"\r\n'
      + "content-type: Application/PDF; q=1\r\n\r\n" + pdf + "\r\n--a;b c--")
write("preamble-padding", "m", f"multipart/form-data; boundary={B}\n"
      + "This is the preamble.\r\n" + f"--{B} \t\r\n" + 'Content-Disposition: form-data; name="file"\r\n\r\n'
      + pdf + f"\r\n--{B}--\r\nepilogue")
write("no-name", "m", f"multipart/form-data; boundary={B}\n"
      + part(['Content-Disposition: form-data; filename="x.pdf"'], pdf) + f"--{B}--\r\n")
write("no-close", "m", f"multipart/form-data; boundary={B}\n"
      + part(['Content-Disposition: form-data; name="file"'], pdf)[:-2])
write("33-parts", "m", "multipart/form-data; boundary=x\n"
      + "".join(f'--x\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\n{i}\r\n' for i in range(33)) + "--x--\r\n")
write("not-multipart", "m", "application/pdf\n" + pdf)

# j: JSON bodies
for name, body in [
    ("issue-certificate", json.dumps({"profile": "tls-server", "issuer": "tls", "validity_days": 90,
                                      "csr": "-----BEGIN CERTIFICATE REQUEST-----\nMIIB...\n-----END CERTIFICATE REQUEST-----\n"})),
    ("revoke", json.dumps({"reason": "keyCompromise", "serial": "4f2a9c"})),
    ("create-user", json.dumps({"username": "alice", "password": "correct horse", "roles": ["clerk", "notary"],
                                "mfa": False, "display_name": "Alice \u00c1lvares"}, ensure_ascii=False)),
    ("escapes", r'{"a":"\u00e9\ud83d\ude00\n\t\"\\\/","b\u0000c":"nul key","d":"\ud800"}'),
    ("numbers", '{"big":18446744073709551616,"neg":-9223372036854775809,"zero":-0,"exp":1e308,"tiny":5e-324,"over":1e400}'),
    ("duplicate-keys", '{"profile":"tls-server","profile":"tsa","nested":{"a":[1,{"b":null}]}}'),
    ("array", '[{"profile":"tls-server"}]'),
    ("trailing", '{"profile":"tls-server"} {"x":1}'),
]:
    write(name, "j", body)

# p: percent-decoding
for name, text in [
    ("mixed", "caf%C3%A9+cr%C3%A8me%2Bbr%FBl%C3%A9e/%2F%3F%25"),
    ("truncated", "abc%4"),
    ("non-hex", "%G1%zz%%"),
]:
    write(name, "p", text)

# h: header fields
write("request", "h", "Content-Type: application/json\nauthorization: Bearer eyJ.x.y\nCONTENT-TYPE: text/plain\n"
      "X-Request-Id: 7f3a\nHost:cartorio.example\nno-colon\n: empty name\nAccept-Encoding: gzip, br")
write("dates", "h", b"\xff\xff\xff\xff\xff\xff\xff\x7fDate: x\nExpires: y")
EOF
ls -l "$out"
