#!/usr/bin/env bash
# Failure drill: the object store unreachable during document signing (issue 11).
# Swift's S3 proxy stopped; POST /api/v1/documents through nginx fails with a clear error and
# a stable problem code, and nothing is recorded as done: no document row, and the
# per-document certificate issued before the failed write is revoked as cessationOfOperation
# (docs/documents.md). The proxy started again (same configuration and port): signing works.
#   drill_objects_down.sh CARTORIO_BINARY
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 CARTORIO_BINARY" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=drill-lib.sh
. "$HERE/drill-lib.sh"

drill_up "$1" objects-down
drill_notary

PG_PORT=$PG_PRIMARY_PORT
count() { psql_at "$PG_PORT" "$1"; }

[ "$(sign before)" = 201 ] || fail "signing before the drill: $(cat "$WORK/before.json")"
docs_before=$(count "SELECT count(*) FROM documents")
certs_before=$(count "SELECT count(*) FROM certificates WHERE profile = 'document-signing'")

# The S3 endpoint down: its proxy stopped by pid (the command line kept for the restart).
S3=$TOPO/s3
PROXY_PID=$(cat "$S3/proxy.pid")
mapfile -d '' PROXY_ARGV <"/proc/$PROXY_PID/cmdline"
stop_pid "S3 proxy" "$PROXY_PID" swift-proxy-server TERM 10 >/dev/null
curl -s -o /dev/null --max-time 3 "http://$S3_ENDPOINT/" && fail "the S3 endpoint still answers"
echo "S3 proxy stopped (pid $PROXY_PID)"

t0=$(now_ms)
status=$(sign down)
metric sign_objects_down_ms $(($(now_ms) - t0))
problem=$(python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(d.get("code") or d.get("type"), end="")' \
            "$WORK/down.json" 2>/dev/null || true)
metric sign_objects_down_status "$status"
metric sign_objects_down_code "$problem"
echo "signing with S3 down: $status $(cat "$WORK/down.json" 2>/dev/null)"
[ "$status" = 503 ] || fail "signing with the object store down answered $status (want 503)"
[ "$problem" = store.unavailable ] || fail "problem code '$problem' (want store.unavailable)"

# Nothing recorded as done: no new document; the one new document-signing certificate is
# revoked as cessationOfOperation (5).
[ "$(count "SELECT count(*) FROM documents")" = "$docs_before" ] || fail "a document row was written"
new_certs=$(count "SELECT serial || ' ' || status || ' ' || revocation_reason FROM certificates
                   WHERE profile = 'document-signing' ORDER BY created_at OFFSET $certs_before")
echo "document-signing certificates issued by the failed signing: ${new_certs:-none}"
while read -r serial st reason; do
  [ -n "$serial" ] || continue
  [ "$st $reason" = "revoked 5" ] || fail "certificate $serial of the failed signing is '$st' reason $reason (want revoked 5)"
done <<<"$new_certs"
metric revoked_certificates "$(grep -c . <<<"$new_certs" || true)"
metric good_orphan_certificates 0
metric documents_recorded $(($(count "SELECT count(*) FROM documents") - docs_before))

# Back: the same proxy command, from the topology's directory (topology-down finds it there).
(cd "$TOPO" && exec "${PROXY_ARGV[@]}") >>"$S3/log/proxy.log" 2>&1 </dev/null &
echo $! >"$S3/proxy.pid"
back=0
for _ in $(seq 1 150); do
  if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$S3_ENDPOINT/" || true)" != 000 ]; then
    back=1
    break
  fi
  sleep 0.2
done
[ "$back" = 1 ] || fail "the S3 proxy did not come back"
status=$(sign after)
[ "$status" = 201 ] || fail "signing after S3 came back answered $status: $(cat "$WORK/after.json")"
[ "$(count "SELECT count(*) FROM documents")" = $((docs_before + 1)) ] || fail "the document after S3 came back is not recorded"
echo "PASS: S3 down: signing refused with 503 store.unavailable, no document recorded, its certificate revoked (cessationOfOperation); S3 back: signed"
