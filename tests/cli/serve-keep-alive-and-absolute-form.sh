#!/usr/bin/env bash
# Keep-alive: one client connection carries several requests. Absolute-form (HTTP_PROXY style)
# requests are served like origin-form ones.
source "$(dirname "$0")/common.sh"
start_api_upstream
start_serve --upstream "$UPSTREAM"
out=$(curl -sS -v -o /dev/null -o /dev/null -o /dev/null "http://$PROXY/users/1" "http://$PROXY/users/2" "http://$PROXY/posts/1" 2>&1)
expect_contains "$out" "Re-using existing connection" "client connection reused"
expect_eq "$(grep -c 'Connected to' <<<"$out")" 1 "one TCP connection for three requests"
body=$(curl -sS -x "http://$PROXY" "http://api.example.test/users/4")
expect_contains "$body" '"id":4' "absolute-form request forwarded"
expect_contains "$(grep api.example.test "$GOSTLY_DATA/traffic/default.jsonl")" '"host":"api.example.test"' "recorded host"
