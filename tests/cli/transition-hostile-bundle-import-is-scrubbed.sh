#!/usr/bin/env bash
# `gostly-transition --import` (issue 7 items 6, 7) goes through the same redaction as every other
# input: credential headers, --redact-header extras and URL userinfo in a stranger's bundle never
# reach library.db; a record that would split a response is exit 2 and writes nothing.
source "$(dirname "$0")/common.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 not installed"

mkdir -p "$T/b/services"
cat >"$T/b/manifest.json" <<'JSON'
{"format":"gostly-bundle","bundle_version":1,"services":[{"id":"api","file":"services/api.jsonl","mocks":1}]}
JSON
cat >"$T/b/services/api.jsonl" <<'JSON'
{"type":"interaction","id":"c1","service_id":"api","session_id":"s","recorded_at":"2026-01-01T00:00:00Z","request":{"method":"GET","uri":"http://user:SECRET-uri@api.test/p","host":"user:SECRET-host@api.test","headers":[["Authorization","Bearer SECRET-auth"],["Cookie","sid=SECRET-cookie"],["x-api-key","SECRET-key"],["X-Tenant","SECRET-tenant"],["Accept","application/json"]]},"response":{"status":200,"headers":[["Set-Cookie","sid=SECRET-set-cookie"],["Content-Type","text/plain"]],"body":"fine"}}
JSON
tar -C "$T/b" -czf "$T/creds.tar.gz" manifest.json services/api.jsonl

timeout 20 gostly-transition --import "$T/creds.tar.gz" --redact-header X-Tenant 2>"$T/import.log"
db="$GOSTLY_DATA/library.db"
sqlite3 "$db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
dump=$(sqlite3 "$db" .dump)
case "$dump" in *SECRET*) fail "a credential reached library.db: $(grep -o '[^"]*SECRET[^"]*' <<<"$dump" | head -3)" ;; esac
not grep -q SECRET "$db" || fail "a credential is in the library.db file"
expect_contains "$dump" '"host":"api.test"' "host kept without userinfo"
expect_contains "$dump" 'application/json' "other headers kept"
expect_contains "$dump" '"userinfo"' "redacted names userinfo"
expect_contains "$dump" '"x-tenant"' "redacted names the extra header"

# CR/LF in a bundled header value: exit 2 naming entry, line and field; the library is unchanged.
before=$(sqlite3 "$db" 'select interaction_id, record from recordings order by 1')
sed 's/"text\/plain"/"text\/plain\\r\\nSet-Cookie: evil=1"/; s/"c1"/"c2"/' "$T/b/services/api.jsonl" >"$T/split.jsonl"
mv "$T/split.jsonl" "$T/b/services/api.jsonl"
tar -C "$T/b" -czf "$T/split.tar.gz" manifest.json services/api.jsonl
status=0
timeout 20 gostly-transition --import "$T/split.tar.gz" 2>"$T/split.log" || status=$?
expect_eq "$status" 2 "exit status"
expect_contains "$(cat "$T/split.log")" "split.tar.gz:services/api.jsonl:1: response.headers[1][1]: header value contains CR, LF or NUL" "message"
expect_eq "$(sqlite3 "$db" 'select interaction_id, record from recordings order by 1')" "$before" "library.db"
