#!/usr/bin/env bash
# Editing data/mode.txt switches a running gostly-serve from LEARN to MOCK without a restart.
source "$(dirname "$0")/common.sh"
start_api_upstream
start_serve --upstream "$UPSTREAM"
# Without mode.txt the default LEARN is written to it on start, so the file always says the mode.
expect_eq "$(cat "$GOSTLY_DATA/mode.txt" 2>/dev/null || echo none)" LEARN "the default written to mode.txt"
first=$(curl -sS -D - -o /dev/null "http://$PROXY/users/1")
expect_contains "$first" "X-Upstream: example" "LEARN forwards"
echo MOCK >"$GOSTLY_DATA/mode.txt.tmp" && mv "$GOSTLY_DATA/mode.txt.tmp" "$GOSTLY_DATA/mode.txt"
deadline=$((SECONDS + 10))
until api GET /v1/mode | grep -q '"mode":"MOCK"'; do
  [ $SECONDS -lt $deadline ] || fail "mode.txt edit not applied: $(api GET /v1/mode)"
  sleep 0.1
done
kill "$UPSTREAM_PID"
second=$(curl -sS -D - -o /dev/null "http://$PROXY/users/1")
expect_contains "$second" "X-Ghost-Mock: session-verbatim" "MOCK answers from the session"
echo PASSTHROUGH >"$GOSTLY_DATA/mode.txt"
deadline=$((SECONDS + 10))
until api GET /v1/mode | grep -q '"mode":"PASSTHROUGH"'; do
  [ $SECONDS -lt $deadline ] || fail "in-place edit not applied"
  sleep 0.1
done
