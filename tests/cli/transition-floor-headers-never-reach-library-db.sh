#!/usr/bin/env bash
# The 16 credential headers (and --redact-header extras) never reach the library: on SQLite neither
# the library.db bytes (WAL checkpointed) nor a dump contain their values; on PostgreSQL (the
# cli-postgres rerun) neither the library's rows nor the server's data directory and WAL after a
# CHECKPOINT do.
source "$(dirname "$0")/common.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 not installed"

mark="SECRET-$RANDOM$RANDOM" # unique per run: the PostgreSQL server is shared with other tests
floor="authorization proxy-authorization cookie set-cookie x-api-key x-auth-token x-session-id
x-access-token x-user-token x-csrf-token x-amz-security-token x-amz-session-token x-goog-api-key
grpc-metadata-authorization api-key token"
headers=""
for h in $floor; do headers="$headers[\"$h\",\"$mark-$h-VALUE\"],"; done
headers="$headers[\"X-Extra\",\"$mark-extra-VALUE\"],[\"Accept\",\"application/json\"]"
printf '{"type":"interaction","id":"a","request":{"method":"GET","uri":"/","headers":[%s]},"response":{"status":200,"headers":[%s]}}\n' \
  "$headers" "$headers" | gostly-transition --redact-header X-Extra - 2>"$T/err.log"

if [ "${GOSTLY_TEST_ENGINE:-sqlite}" = postgres ]; then
  dump=$(library_sql 'select record from recordings'; library_sql 'select id, redact_headers from services')
  pg_test_sql 'CHECKPOINT' >/dev/null
  data="$(cat "$GOSTLY_TEST_POSTGRES_DIR/rundir")/data"
  [ -d "$data/base" ] || fail "no PostgreSQL data directory at $data"
  not grep -r -q -a -- "$mark" "$data" || fail "a credential value is in PostgreSQL's files: $(grep -r -l -a -- "$mark" "$data" | head -n 3)"
else
  db="$GOSTLY_DATA/library.db"
  sqlite3 "$db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
  not grep -q -- "$mark" "$db" || fail "a credential value is in the library.db file"
  dump=$(sqlite3 "$db" .dump)
fi
case "$dump" in *"$mark"*) fail "a credential value is in the library" ;; esac
expect_contains "$dump" 'application/json' "non-credential header kept"
expect_contains "$dump" '"x-extra"' "redacted list names the extra header"
