#!/usr/bin/env python3
"""The newest backup from an S3 bucket with nothing but the bucket's credentials (what an
operator does with any S3 client on a new machine): lists backups/, takes the newest
<UTC timestamp>.cbk and concatenates it with its parts (.2, .3, ...) into OUT.

  s3_fetch.py OUT     (CARTORIO_OBJECTS_S3_{ENDPOINT,REGION,BUCKET,ACCESS_KEY,SECRET_KEY})

Prints the backup's key. AWS Signature V4, path-style, standard library only."""
import datetime, hashlib, hmac, os, re, sys, urllib.parse, urllib.request
import xml.etree.ElementTree as ET

env = os.environ
endpoint = env["CARTORIO_OBJECTS_S3_ENDPOINT"].rstrip("/")
region, bucket = env["CARTORIO_OBJECTS_S3_REGION"], env["CARTORIO_OBJECTS_S3_BUCKET"]
access, secret = env["CARTORIO_OBJECTS_S3_ACCESS_KEY"], env["CARTORIO_OBJECTS_S3_SECRET_KEY"]
EMPTY = hashlib.sha256(b"").hexdigest()


def get(key, query=None):
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    host = urllib.parse.urlsplit(endpoint).netloc
    path = "/" + urllib.parse.quote(bucket + ("/" + key if key else ""), safe="/-_.~")
    qs = "&".join(f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}"
                  for k, v in sorted((query or {}).items()))
    headers = {"host": host, "x-amz-content-sha256": EMPTY, "x-amz-date": amz_date}
    signed = ";".join(sorted(headers))
    canonical = "\n".join(["GET", path, qs, *(f"{k}:{headers[k]}" for k in sorted(headers)), "", signed, EMPTY])
    scope = f"{day}/{region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    k = ("AWS4" + secret).encode()
    for part in (day, region, "s3", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    req = urllib.request.Request(endpoint + path + ("?" + qs if qs else ""), headers={
        "x-amz-content-sha256": EMPTY, "x-amz-date": amz_date,
        "Authorization": f"AWS4-HMAC-SHA256 Credential={access}/{scope}, SignedHeaders={signed}, Signature={signature}"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.read()


keys, token = [], None
while True:
    q = {"list-type": "2", "prefix": "backups/"}
    if token:
        q["continuation-token"] = token
    root = ET.fromstring(get("", q))
    ns = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    keys += [e.text for e in root.iter(ns + "Key")]
    token = root.findtext(ns + "NextContinuationToken")
    if not token:
        break
backups = sorted(k for k in keys if k.endswith(".cbk"))
if not backups:
    sys.exit("no backup under backups/ in the bucket")
latest = backups[-1]
parts = sorted((k for k in keys if re.fullmatch(re.escape(latest) + r"\.\d+", k)), key=lambda k: int(k.rsplit(".", 1)[1]))
with open(sys.argv[1], "wb") as out:
    for k in [latest, *parts]:
        out.write(get(k))
print(latest)
