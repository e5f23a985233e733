#!/usr/bin/env bash
# examples/export-recording.sh: records the example client tests into the library and exports a
# HAR with an entry per recording and a Postman collection that newman runs green against the
# live upstream; a failing command fails the example and exports nothing.
source "$(dirname "$0")/common.sh"
for tool in gostly-record gostly-transition; do command -v $tool >/dev/null || skip "$tool not built"; done
start_api_upstream
timeout 60 "$SRC/examples/export-recording.sh" "$UPSTREAM" "$T/out" -- "$SRC/examples/client-tests.sh" \
  >"$T/example.log" 2>&1 || fail "the example failed: $(tail -20 "$T/example.log")"
expect_contains "$(cat "$T/example.log")" "client tests: all passed" "live run through the recorder"
recordings=$(sqlite3 "$GOSTLY_DATA/library.db" 'select count(*) from recordings')
/usr/bin/python3 - "$T/out/recording.har" "$T/out/recording.postman.json" "$recordings" <<'PY'
import json, sys
har, col, n = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), int(sys.argv[3])
assert len(har["log"]["entries"]) == n, (len(har["log"]["entries"]), n)
assert sum(len(r["response"]) for f in col["item"] for r in f["item"]) == n
PY
if [ -x "$SRC/scripts/node/node_modules/.bin/newman" ] && command -v node >/dev/null; then
  timeout 60 "$SRC/scripts/node/node_modules/.bin/newman" run "$T/out/recording.postman.json" \
    --env-var "baseUrl=$UPSTREAM" >"$T/newman.log" 2>&1 || fail "newman failed: $(tail -30 "$T/newman.log")"
fi
# A failing command fails the example (pipefail) before anything is exported.
not "$SRC/examples/export-recording.sh" "$UPSTREAM" "$T/out2" -- false >"$T/fail.log" 2>&1 ||
  fail "a failing command did not fail the example"
[ ! -e "$T/out2/recording.har" ] || fail "a failed run exported a HAR"
