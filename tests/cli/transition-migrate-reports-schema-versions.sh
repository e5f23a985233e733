#!/usr/bin/env bash
# gostly-transition --migrate (for operators): on a fresh PostgreSQL store it creates the schema and
# reports 0 -> current for the library and drift schemas, text and --json; run again it reports
# "up to date" and changes nothing; on SQLite the same, and an older SQLite library is brought up
# to the current version with its rows kept.
source "$(dirname "$0")/common.sh"
require_postgres
command -v sqlite3 >/dev/null || skip "sqlite3 not installed"
library=3 drift=2 # the current schema versions (lib/store/library_db.cpp, lib/drift/events.cpp)
port=${PG_TEST_URI##*:}
port=${port%%/*}
name="postgresql://gostly@127.0.0.1:$port/$PG_TEST_DB"

# PostgreSQL, text: 0 -> current, on stderr, the store named without its password.
expect_eq "$(pg_test_sql "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" 0 "tables before --migrate"
gostly-transition --data "$GOSTLY_DATA" --store "$PG_TEST_URI" --migrate >"$T/m1.out" 2>"$T/m1.err"
expect_eq "$(cat "$T/m1.out")" "" "stdout of --migrate (text)"
expect_eq "$(cat "$T/m1.err")" "gostly-transition: $name: library schema version 0 -> $library, drift schema version 0 -> $drift" "--migrate on a fresh store"
expect_eq "$(pg_test_sql "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'
  AND tablename IN ('services', 'recordings', 'mocks', 'drift_events', 'drift_acknowledgements')")" \
  "drift_acknowledgements,drift_events,mocks,recordings,services" "tables after --migrate"
[ ! -e "$GOSTLY_DATA/library.db" ] || fail "--migrate of a PostgreSQL store wrote library.db"

# Again, --json: up to date, nothing changed.
GOSTLY_STORE=$PG_TEST_URI gostly-transition --data "$GOSTLY_DATA" --migrate --json >"$T/m2.json" 2>"$T/m2.err"
expect_eq "$(jq -c . "$T/m2.json")" \
  "{\"type\":\"migrate_summary\",\"store\":\"$name\",\"library_schema\":{\"from\":$library,\"to\":$library},\"drift_schema\":{\"from\":$drift,\"to\":$drift}}" \
  "--migrate --json on an up-to-date store"
GOSTLY_STORE=$PG_TEST_URI gostly-transition --data "$GOSTLY_DATA" --migrate 2>"$T/m3.err"
expect_eq "$(cat "$T/m3.err")" "gostly-transition: $name: library schema version $library (up to date), drift schema version $drift (up to date)" "--migrate twice"
status=0
gostly-transition --data "$GOSTLY_DATA" --store "$PG_TEST_URI" --migrate "$T/none.jsonl" 2>"$T/usage.err" || status=$?
expect_eq "$status" 2 "--migrate with an input file"
expect_contains "$(cat "$T/usage.err")" "--migrate takes no inputs" "the usage error"

# SQLite: a fresh data dir, then again.
gostly-transition --data "$T/sq" --migrate --json >"$T/s1.json"
expect_eq "$(jq -c '[.store, .library_schema, .drift_schema]' "$T/s1.json")" \
  "[\"$T/sq/library.db\",{\"from\":0,\"to\":$library},{\"from\":0,\"to\":$drift}]" "--migrate --json on a fresh SQLite"
expect_eq "$(sqlite3 "$T/sq/library.db" 'PRAGMA user_version')" "$library" "SQLite user_version"
gostly-transition --data "$T/sq" --migrate 2>"$T/s2.err"
expect_eq "$(cat "$T/s2.err")" "gostly-transition: $T/sq/library.db: library schema version $library (up to date), drift schema version $drift (up to date)" "--migrate twice on SQLite"

# An older SQLite library (version 1: no per-service redact_headers/chaos columns) with a row in it.
printf '{"type":"interaction","id":"old1","service_id":"svc","request":{"method":"GET","uri":"/old"},"response":{"status":200,"body":"kept"}}\n' |
  gostly-transition -q --data "$T/old" -
sqlite3 "$T/old/library.db" 'ALTER TABLE services DROP COLUMN chaos; ALTER TABLE services DROP COLUMN redact_headers; PRAGMA user_version = 1'
gostly-transition --data "$T/old" --migrate --json >"$T/old.json"
expect_eq "$(jq -c .library_schema "$T/old.json")" "{\"from\":1,\"to\":$library}" "--migrate of a version-1 library"
expect_eq "$(sqlite3 "$T/old/library.db" "SELECT id, redact_headers IS NULL, chaos IS NULL FROM services")" "svc|1|1" "the service row with the new columns"
expect_eq "$(sqlite3 "$T/old/library.db" "SELECT interaction_id FROM recordings")" "old1" "the recording kept"
echo "$TEST_NAME: ok"
