#!/usr/bin/env bash
# A per-service mode and per-service redact_headers set with PUT /services/{id} on a fresh data
# dir (no library.db yet) are stored (library.db is created for them) and come back after a
# restart: the service is still MOCK, and the extra header still never reaches traffic/.
source "$(dirname "$0")/common.sh"
start_api_upstream
start_serve --upstream "$UPSTREAM" --route "/posts=$UPSTREAM"
[ ! -e "$GOSTLY_DATA/library.db" ] || fail "library.db exists before the test"
expect_contains "$(api PUT /services/posts -d '{"mode":"MOCK"}')" '"mode_override":"MOCK"' "override set"
expect_contains "$(api PUT /services/default -d '{"redact_headers":["X-Secret-Token"]}')" '"x-secret-token"' "header set"
curl -sS -o /dev/null -H 'X-Secret-Token: first-run-s3cr3t' "http://$PROXY/users/1"
not grep -q first-run-s3cr3t "$GOSTLY_DATA/traffic/default.jsonl" || fail "the header reached disk before the restart"

kill "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null || true
start_serve --upstream "$UPSTREAM" --route "/posts=$UPSTREAM"
expect_contains "$(api GET /services/posts)" '"mode_override":"MOCK"' "the override after a restart"
expect_contains "$(api GET /services/default)" '"x-secret-token"' "redact_headers after a restart"
curl -sS -o /dev/null -H 'X-Secret-Token: second-run-s3cr3t' "http://$PROXY/users/2"
grep -q '"/users/2"' "$GOSTLY_DATA/traffic/default.jsonl" || fail "/users/2 not recorded"
if grep -q second-run-s3cr3t "$GOSTLY_DATA/traffic/default.jsonl"; then
  fail "X-Secret-Token reached traffic/default.jsonl after a restart"
fi
expect_contains "$(grep '"/users/2"' "$GOSTLY_DATA/traffic/default.jsonl")" "x-secret-token" "the redaction is listed"
# Clearing them is stored too.
api PUT /services/default -d '{"redact_headers":[]}' -o /dev/null
api PUT /services/posts -d '{"mode":null}' -o /dev/null
kill "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null || true
start_serve --upstream "$UPSTREAM" --route "/posts=$UPSTREAM"
expect_contains "$(api GET /services/posts)" '"mode_override":null' "a cleared override after a restart"
expect_contains "$(api GET /services/default)" '"redact_headers":[]' "cleared redact_headers after a restart"
