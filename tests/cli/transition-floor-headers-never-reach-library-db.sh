#!/usr/bin/env bash
# The 16 credential headers (and --redact-header extras) never reach library.db: neither the file
# bytes (WAL checkpointed) nor a dump contain their values.
source "$(dirname "$0")/common.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 not installed"

floor="authorization proxy-authorization cookie set-cookie x-api-key x-auth-token x-session-id
x-access-token x-user-token x-csrf-token x-amz-security-token x-amz-session-token x-goog-api-key
grpc-metadata-authorization api-key token"
headers=""
for h in $floor; do headers="$headers[\"$h\",\"SECRET-$h-VALUE\"],"; done
headers="$headers[\"X-Extra\",\"SECRET-extra-VALUE\"],[\"Accept\",\"application/json\"]"
printf '{"type":"interaction","id":"a","request":{"method":"GET","uri":"/","headers":[%s]},"response":{"status":200,"headers":[%s]}}\n' \
  "$headers" "$headers" | gostly-transition --redact-header X-Extra - 2>"$T/err.log"

db="$GOSTLY_DATA/library.db"
sqlite3 "$db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
not grep -q "SECRET-" "$db" || fail "a credential value is in the library.db file"
dump=$(sqlite3 "$db" .dump)
case "$dump" in *SECRET-*) fail "a credential value is in the dump" ;; esac
expect_contains "$dump" 'application/json' "non-credential header kept"
expect_contains "$dump" '"x-extra"' "redacted list names the extra header"
