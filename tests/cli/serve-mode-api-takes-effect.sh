#!/usr/bin/env bash
# POST /v1/mode switches the mode at once and writes mode.txt; bad input is a 400 with a message.
source "$(dirname "$0")/common.sh"
start_api_upstream
start_serve --upstream "$UPSTREAM" --mode LEARN
curl -sS -o /dev/null "http://$PROXY/users/5"
expect_contains "$(api POST /v1/mode -d '{"mode":"MOCK"}')" '"mode":"MOCK"' "POST /v1/mode"
expect_eq "$(cat "$GOSTLY_DATA/mode.txt")" MOCK "mode.txt"
expect_contains "$(curl -sS -D - -o /dev/null "http://$PROXY/users/5")" "X-Ghost-Mock:" "answered by the mock"
expect_eq "$(api POST /v1/mode -d '{"mode":"SIDEWAYS"}' -o /dev/null -w '%{http_code}')" 400 "unknown mode"
expect_eq "$(api POST /v1/mode -d '{nope' -o /dev/null -w '%{http_code}')" 400 "bad JSON"
expect_eq "$(api GET /v1/nothing -o /dev/null -w '%{http_code}')" 404 "unknown route"
expect_contains "$(api GET /v1/mode)" '"mode":"MOCK"' "GET /v1/mode"
