#!/usr/bin/env bash
# examples/record-and-transition.sh: `gostly-record -- CMD | gostly-transition -` builds a library
# that then answers the same client tests with the upstream gone; CMD's failure fails the pipeline.
source "$(dirname "$0")/common.sh"
start_api_upstream
"$SRC/examples/record-and-transition.sh" "$UPSTREAM" -- "$SRC/examples/client-tests.sh" >"$T/record.log" 2>&1 ||
  fail "the recording pipeline failed"
expect_contains "$(cat "$T/record.log")" "client tests: all passed" "live run through the recorder"

kill "$UPSTREAM_PID"
wait "$UPSTREAM_PID" 2>/dev/null || true
start_serve --mode MOCK
API_BASE_URL="http://$PROXY" "$SRC/examples/client-tests.sh" >"$T/mock.log" 2>&1 || fail "client tests failed against MOCK"

# A failing command fails the whole pipeline (pipefail), and nothing is lost from the library.
before=$(sqlite3 "$GOSTLY_DATA/library.db" 'select count(*) from recordings')
not "$SRC/examples/record-and-transition.sh" "http://127.0.0.1:1" -- false >"$T/fail.log" 2>&1 ||
  fail "a failing command did not fail the pipeline"
expect_eq "$(sqlite3 "$GOSTLY_DATA/library.db" 'select count(*) from recordings')" "$before" "library after a failed run"
