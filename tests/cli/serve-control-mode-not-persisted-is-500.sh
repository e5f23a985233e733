#!/usr/bin/env bash
# POST /v1/mode persists mode.txt before it answers: when the file cannot be written, the
# caller gets a 500 naming mode.txt and the mode does not change (it would be lost at restart).
# mode.txt is made a directory, which no write can replace, even as root.
source "$(dirname "$0")/common.sh"
start_serve --mode LEARN
rm -f "$GOSTLY_DATA/mode.txt"
mkdir "$GOSTLY_DATA/mode.txt"
code=$(api POST /v1/mode -o "$T/out.json" -w '%{http_code}' -d '{"mode":"MOCK"}')
expect_eq "$code" 500 "status when mode.txt cannot be written"
expect_contains "$(jq -r .error "$T/out.json")" "mode.txt" "the error names the file"
expect_contains "$(api GET /v1/mode)" '"mode":"LEARN"' "the mode after a failed POST"
kill -0 "$SERVE_PID" || fail "gostly-serve died"
# Once the file can be written again, the change is made and persisted.
rmdir "$GOSTLY_DATA/mode.txt"
expect_eq "$(api POST /v1/mode -o /dev/null -w '%{http_code}' -d '{"mode":"MOCK"}')" 200 "status once writable"
expect_eq "$(cat "$GOSTLY_DATA/mode.txt")" MOCK "mode.txt once writable"
expect_contains "$(api GET /v1/mode)" '"mode":"MOCK"' "the mode once writable"
