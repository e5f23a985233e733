#!/usr/bin/env bash
# examples/team-store-postgres.sh: the client tests recorded once into a PostgreSQL store pass
# against two gostly-serve runners in MOCK (separate data dirs, no upstream) answering from it;
# the store is named without its password; a failing command fails the example and adds nothing.
source "$(dirname "$0")/common.sh"
require_postgres
start_api_upstream
GOSTLY_STORE=$PG_TEST_URI timeout 60 "$SRC/examples/team-store-postgres.sh" "$UPSTREAM" -- "$SRC/examples/client-tests.sh" \
  >"$T/example.log" 2>&1 || fail "the example failed: $(tail -20 "$T/example.log")"
expect_eq "$(grep -c 'client tests: all passed' "$T/example.log")" 3 "client test runs that passed (live, runner 1, runner 2)"
expect_contains "$(cat "$T/example.log")" "runner 2 (http://127.0.0.1:" "second runner"
expect_contains "$(cat "$T/example.log")" "store postgresql://gostly@127.0.0.1:" "the store, named"
! grep -qF -- "$PG_TEST_PASSWORD" "$T/example.log" || fail "the example's output shows the password"
recordings=$(pg_test_sql 'SELECT count(*) FROM recordings')
[ "$recordings" -ge 4 ] || fail "only $recordings recordings in the store"
[ ! -e "$GOSTLY_DATA/library.db" ] || fail "a library.db was written"

status=0
GOSTLY_STORE=$PG_TEST_URI timeout 60 "$SRC/examples/team-store-postgres.sh" "$UPSTREAM" -- false >"$T/fail.log" 2>&1 || status=$?
[ "$status" -ne 0 ] || fail "a failing command did not fail the example"
expect_eq "$(pg_test_sql 'SELECT count(*) FROM recordings')" "$recordings" "recordings after a failed run"
status=0
env -u GOSTLY_STORE "$SRC/examples/team-store-postgres.sh" "$UPSTREAM" -- true >"$T/nostore.log" 2>&1 || status=$?
[ "$status" -ne 0 ] || fail "the example ran without GOSTLY_STORE"
expect_contains "$(cat "$T/nostore.log")" "GOSTLY_STORE" "what is missing"
