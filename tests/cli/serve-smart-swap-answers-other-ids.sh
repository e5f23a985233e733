#!/usr/bin/env bash
# A recording of /users/42 answers /users/99 through the smart_swap tier, with the id swapped.
source "$(dirname "$0")/common.sh"
command -v gostly-transition >/dev/null || skip "gostly-transition not built"
start_api_upstream
gostly-record --upstream "$UPSTREAM" --listen 127.0.0.1:0 -o "$T/s1.jsonl" -- \
  sh -c 'curl -sS -o /dev/null "$GOSTLY_PROXY_URL/users/42"' 2>"$T/record.log"
gostly-transition --data "$GOSTLY_DATA" "$T/s1.jsonl" 2>"$T/transition.log"
start_serve --mode MOCK
headers=$(curl -sS -D - -o "$T/body" "http://$PROXY/users/99")
expect_contains "$headers" "200 OK" "status"
expect_contains "$headers" "X-Ghost-Mock: smart_swap" "tier"
expect_contains "$(cat "$T/body")" '"id":99' "swapped id in body"
