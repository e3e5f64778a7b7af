#!/usr/bin/env bash
# Failure drill: the machine is lost; restore from the latest backup on an empty directory and
# a new, empty PostgreSQL, against the reference's RTO of 1 hour (issue 11).
#
# Before: certificates issued (one revoked), a document signed, the worker's backup made
# (`cartorio backup`, uploaded to the bucket). One more certificate after the backup: hourly
# backups alone lose it (the RPO comes from WAL archiving, deploy.postgres.wal_pitr).
# The disaster: every process of the machine stopped, the data dir and both PostgreSQL
# clusters deleted. What survives is what lives elsewhere in production: the versioned
# bucket (documents, backups), the HSM token (the online keys), and the off-site copies of the
# master key and the backup key.
# The recovery, timed from the disaster to the first /readyz 200 of the restored instance:
# the newest backup found and fetched from the bucket with plain S3 calls (tests/deploy/
# s3_fetch.py; no installation to ask), a new PostgreSQL cluster, `cartorio restore`, `cartorio serve`.
# Then checked on the restored instance: the old API key works, the certificates before the
# backup are all there (the revoked one revoked, also through OCSP), the document's old
# download link serves the same bytes and `pdf verify` passes, `audit verify` passes, a new
# certificate can be issued (the HSM keys sign).
#   drill_restore.sh CARTORIO_BINARY
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 CARTORIO_BINARY" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
FIXTURES=$(cd "$HERE/../fixtures" && pwd)
# shellcheck source=drill-lib.sh
. "$HERE/drill-lib.sh"

RTO_TARGET_S=3600

drill_up "$1" restore
drill_notary
NEW=""
restore_cleanup() {
  [ -z "$NEW" ] || stop_pidfile restored "$T/restored.pid" "serve --data-dir $NEW" TERM 30 >/dev/null
  [ ! -f "$T/newpg/datadir" ] || "$FIXTURES/pg-stop" "$T/newpg" >/dev/null 2>&1 || true
  drill_cleanup
}
trap restore_cleanup EXIT

# --- Before the backup: three certificates (the second revoked) and a signed document.
for i in 1 2 3; do
  status=$(issue "c$i")
  [ "$status" = 201 ] || fail "issuance c$i answered $status: $(cat "$WORK/c$i.json" 2>/dev/null)"
done
REVOKED=$(field "$WORK/c2.json" serial)
status=$(curl -s --cacert "$ROOT_CERT" -H "X-API-Key: $NOTARY" -H 'Content-Type: application/json' \
  --data '{"reason":"keyCompromise"}' -o "$WORK/revoke.json" -w '%{http_code}' \
  "$LB_HTTPS/api/v1/certificates/$REVOKED/revoke" || true)
[ "$status" = 200 ] || fail "revoking c2 answered $status: $(cat "$WORK/revoke.json")"
[ "$(sign doc)" = 201 ] || fail "signing answered: $(cat "$WORK/doc.json")"
DOC_ID=$(field "$WORK/doc.json" id)
DOC_URL=$(field "$WORK/doc.json" download_url)
curl -sf --cacert "$ROOT_CERT" -o "$WORK/signed-before.pdf" "$LB_HTTPS$DOC_URL" || fail "downloading the signed document"
certs_backed_up=$(psql_at "$PG_PRIMARY_PORT" "SELECT count(*) FROM certificates")

# --- The backup (what the worker's hourly `backup` job does), uploaded to the bucket.
t=$(now_ms)
cli backup --json >"$WORK/backup.json" 2>"$WORK/backup.err" || fail "backup: $(cat "$WORK/backup.err")"
metric backup_ms $(($(now_ms) - t))
metric backup_bytes "$(field "$WORK/backup.json" bytes)"

# After the backup: lost by the restore (the WAL archive would keep it).
[ "$(issue after)" = 201 ] || fail "issuance after the backup: $(cat "$WORK/after.json")"
AFTER=$(field "$WORK/after.json" serial)

# --- Off the machine, as docs/operations.md asks: the master key and the backup key.
OFFSITE=$T/offsite
mkdir -m 700 "$OFFSITE"
cp "$TOPO/data/master.key" "$TOPO/secrets/backup.key" "$OFFSITE/"
# Clients keep the root certificate they trust.
cp "$ROOT_CERT" "$WORK/root.pem"
ROOT_CERT=$WORK/root.pem
set -a
# shellcheck source=/dev/null
. "$CARTORIO_ENV_FILE"
set +a

# --- The disaster: the machine's processes gone at once, its data dir and databases deleted.
# The bucket (Swift) and the token (SoftHSM2's files) live elsewhere in production: they stay.
# nginx with SIGQUIT: a SIGKILLed master would leave its workers behind on this one machine.
stop_pidfile nginx "$TOPO/nginx/nginx.pid" "$TOPO/nginx/nginx.conf" QUIT 15 >/dev/null
for name in serve1 serve2 worker; do
  stop_pidfile "$name" "$TOPO/run/$name.pid" "--data-dir $TOPO/data" KILL 5 >/dev/null
done
for pg in "$PG_PRIMARY_DATA" "$PG_STANDBY_DATA"; do
  as_pg "$PGBIN/pg_ctl" -D "$pg" -m immediate -w stop >>"$WORK/pg-stop.log" 2>&1 || fail "pg_ctl stop: $(cat "$WORK/pg-stop.log")"
done
for r in redis-replica redis-primary; do "$FIXTURES/redis-stop" "$TOPO/$r" >/dev/null; done
rm -rf "${TOPO:?}/data" "$PG_PRIMARY_DATA" "$PG_STANDBY_DATA" "$TOPO/redis-primary" "$TOPO/redis-replica"
echo "the machine is lost: data dir and PostgreSQL deleted; the bucket and the token remain"

# --- Recovery, timed.
t0=$(now_ms)
# The newest backup in the bucket, with plain S3 calls (s3_fetch.py: SigV4, standard library).
latest=$(python3 "$HERE/s3_fetch.py" "$WORK/latest.cbk" 2>"$WORK/fetch.err") || fail "fetching the newest backup: $(cat "$WORK/fetch.err")"
[ "$latest" = "backups/$(field "$WORK/backup.json" name)" ] ||
  fail "the newest backup in the bucket is $latest, not the one just made ($(field "$WORK/backup.json" name))"
fetched_ms=$(now_ms)

# A new, empty PostgreSQL (a new cluster on a new port).
"$FIXTURES/pg-start" "$T/newpg" >"$WORK/newpg.log" 2>&1 || fail "pg-start: $(cat "$WORK/newpg.log")"
NEW_PG=$(cat "$T/newpg/conninfo")
pg_ms=$(now_ms)

NEW=$T/new-machine/data
mkdir -p "$(dirname "$NEW")"
# The master key comes back from its off-site copy; the cache starts empty in memory (Redis
# held nothing that is not rebuilt).
export CARTORIO_DATA_DIR=$NEW CARTORIO_STORE_POSTGRES_URL=$NEW_PG CARTORIO_BACKUP_KEY_FILE=$OFFSITE/backup.key \
  CARTORIO_KEYS_MASTER_KEY_FILE=$OFFSITE/master.key CARTORIO_CACHE_BACKEND=memory
"$CARTORIO_BIN" restore "$WORK/latest.cbk" --data-dir "$NEW" --master-key-file "$OFFSITE/master.key" --json \
  >"$WORK/restore.json" 2>"$WORK/restore.err" || fail "restore: $(cat "$WORK/restore.err")"
restored_ms=$(now_ms)

read -r HTTPS_PORT HTTP_PORT < <(python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
(setsid "$CARTORIO_BIN" serve --data-dir "$NEW" --listen "127.0.0.1:$HTTPS_PORT" --listen-http "127.0.0.1:$HTTP_PORT") >"$WORK/restored.log" 2>&1 </dev/null &
echo $! >"$T/restored.pid"
NEW_HTTPS=https://127.0.0.1:$HTTPS_PORT
NEW_HTTP=http://127.0.0.1:$HTTP_PORT
ready=""
for _ in $(seq 1 600); do
  running "$(cat "$T/restored.pid")" || fail "the restored serve exited: $(tail -n 20 "$WORK/restored.log")"
  if [ "$(readyz "$NEW_HTTP" | cut -d' ' -f1)" = 200 ]; then ready=1; break; fi
  sleep 0.1
done
[ -n "$ready" ] || fail "the restored serve is not ready after 60 s: $(tail -n 20 "$WORK/restored.log")"
ready_ms=$(now_ms)
rto_ms=$((ready_ms - t0))
metric fetch_ms $((fetched_ms - t0))
metric postgres_ms $((pg_ms - fetched_ms))
metric restore_ms $((restored_ms - pg_ms))
metric serve_ready_ms $((ready_ms - restored_ms))
metric rto_ms "$rto_ms"
metric rto_target_s "$RTO_TARGET_S"
[ $((rto_ms / 1000)) -lt "$RTO_TARGET_S" ] || fail "recovery took $((rto_ms / 1000)) s, over the ${RTO_TARGET_S} s RTO"

# --- What the restored installation holds.
api() {  # api KEY PATH [curl args]: GET on the restored instance with an API key from before
  local key=$1 path=$2
  shift 2
  curl -s --cacert "$ROOT_CERT" -H "X-API-Key: $key" "$@" "$NEW_HTTPS$path"
}
api "$KEY" "/api/v1/certificates?limit=1000" -o "$WORK/list.json"
python3 - "$WORK/list.json" "$certs_backed_up" "$REVOKED" "$AFTER" "$(field "$WORK/c1.json" serial)" \
  "$(field "$WORK/c3.json" serial)" <<'PY' || fail "the restored certificates differ from the backed-up ones"
import json, sys
doc = json.load(open(sys.argv[1]))
items = doc["items"]
by_serial = {c["serial"]: c for c in items}
want, revoked, after, good = int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5:]
assert len(items) >= want, f"{len(items)} certificates listed, {want} were backed up"
assert by_serial[revoked]["status"] == "revoked", by_serial[revoked]
for s in good:
    assert by_serial[s]["status"] == "good", by_serial[s]
assert after not in by_serial, "the certificate issued after the backup is there"
PY
metric certificates_restored "$certs_backed_up"
metric writes_after_backup_lost 1

# OCSP on the restored instance (the certificates name nginx's address, which is gone).
ocsp_url=$(openssl x509 -noout -ocsp_uri -in <(field "$WORK/c2.json" pem))
field "$WORK/c2.json" chain_pem | sed '/-----END CERTIFICATE-----/q' >"$WORK/c2-issuer.pem"
openssl ocsp -issuer "$WORK/c2-issuer.pem" -cert <(field "$WORK/c2.json" pem) -CAfile "$ROOT_CERT" -no_nonce \
  -url "$NEW_HTTP${ocsp_url#"$LB_HTTP"}" >"$WORK/ocsp.txt" 2>&1 || fail "OCSP on the restored instance: $(cat "$WORK/ocsp.txt")"
grep -q ': revoked' "$WORK/ocsp.txt" || fail "OCSP does not say revoked: $(cat "$WORK/ocsp.txt")"
grep -q 'Response verify OK' "$WORK/ocsp.txt" || fail "the OCSP response does not verify: $(cat "$WORK/ocsp.txt")"

# The document: the link handed out before the disaster, the same bytes, still a valid signature.
curl -sf --cacert "$ROOT_CERT" -o "$WORK/signed-after.pdf" "$NEW_HTTPS$DOC_URL" ||
  fail "the document's old download link does not answer on the restored instance"
cmp -s "$WORK/signed-before.pdf" "$WORK/signed-after.pdf" || fail "the restored document's bytes differ"
"$CARTORIO_BIN" --data-dir "$NEW" pdf verify "$WORK/signed-after.pdf" --json >"$WORK/verify.json" 2>&1 ||
  fail "pdf verify of the restored document: $(cat "$WORK/verify.json")"
api "$NOTARY" "/api/v1/documents/$DOC_ID" -o "$WORK/doc-after.json"
[ "$(field "$WORK/doc-after.json" signed_sha256)" = "$(field "$WORK/doc.json" signed_sha256)" ] ||
  fail "the document record differs after the restore"

"$CARTORIO_BIN" --data-dir "$NEW" audit verify >"$WORK/audit.txt" 2>&1 || fail "audit verify: $(cat "$WORK/audit.txt")"

# The HSM keys still sign: a new certificate on the restored installation.
status=$(curl -s --cacert "$ROOT_CERT" -H "X-API-Key: $KEY" -H 'Content-Type: application/json' \
  --data-binary "@$WORK/c1.req" -o "$WORK/new.json" -w '%{http_code}' "$NEW_HTTPS/api/v1/certificates" || true)
[ "$status" = 201 ] || fail "issuance on the restored installation answered $status: $(cat "$WORK/new.json")"

echo "PASS: restored from the newest backup in the bucket onto an empty directory and a new PostgreSQL" \
  "in $((rto_ms / 1000)).$(printf '%03d' $((rto_ms % 1000))) s (RTO target ${RTO_TARGET_S} s): $certs_backed_up certificates," \
  "the revocation (OCSP), the signed document and its link, the audit chain; the write after the backup lost"
