#!/usr/bin/env bash
# --export then --import into a fresh data dir gives the same mock library, PII scrubbed, and
# each service's mode and extra redacted headers.
source "$(dirname "$0")/common.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 not installed"

for i in 1 2 3; do
  printf '{"type":"interaction","id":"r%s","service_id":"svc%s","session_id":"s1","recorded_at":"2026-01-01T00:00:0%sZ","request":{"method":"GET","uri":"/users/%s"},"response":{"status":200,"body":"{\\"id\\":%s,\\"email\\":\\"person%s@corp.example.com\\"}"}}\n' \
    $i $((i % 2)) $i $i $i $i
done | gostly-transition - 2>/dev/null

# Per-service settings (as PUT /services/{id} stores them) travel with the bundle.
sqlite3 "$GOSTLY_DATA/library.db" "update services set mode = 'MOCK', redact_headers = '[\"x-tenant\"]' where id = 'svc1'"
gostly-transition --export "$T/lib.tar.gz" 2>"$T/export.log"
tar tzf "$T/lib.tar.gz" >"$T/entries"
expect_eq "$(head -n 1 "$T/entries")" "manifest.json" "first entry"
expect_contains "$(cat "$T/entries")" "services/svc0.jsonl" "service entry"
status=0
gostly-transition --export "$T/lib.tar.gz" 2>"$T/again.log" || status=$?
expect_eq "$status" 2 "export over an existing file without --force"
gostly-transition --export "$T/lib.tar.gz" --force 2>/dev/null

gostly-transition --data "$T/fresh" --import "$T/lib.tar.gz" --json >"$T/import.json" 2>/dev/null
expect_contains "$(cat "$T/import.json")" '"added":3' "imported"
q='select service_id, match_key, ordinal from mocks order by 1, 2, 3'
expect_eq "$(sqlite3 "$T/fresh/library.db" "$q")" "$(sqlite3 "$GOSTLY_DATA/library.db" "$q")" "mock index"
bodies=$(sqlite3 "$T/fresh/library.db" 'select record from recordings')
expect_contains "$bodies" 'user@example.invalid' "scrubbed email"
case "$bodies" in *corp.example.com*) fail "PII survived the export" ;; esac
expect_eq "$(sqlite3 "$T/fresh/library.db" "select id, mode, redact_headers from services order by id")" \
  'svc0||
svc1|MOCK|["x-tenant"]' "per-service settings after --import"
