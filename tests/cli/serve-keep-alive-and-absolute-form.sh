#!/usr/bin/env bash
# Keep-alive: one client connection carries several requests. Absolute-form (HTTP_PROXY style)
# requests go to the host they name (here the test upstream itself) and are recorded with it.
source "$(dirname "$0")/common.sh"
start_api_upstream
start_serve --upstream "$UPSTREAM"
out=$(curl -sS -v -o /dev/null -o /dev/null -o /dev/null "http://$PROXY/users/1" "http://$PROXY/users/2" "http://$PROXY/posts/1" 2>&1)
expect_contains "$out" "Re-using existing connection" "client connection reused"
expect_eq "$(grep -c 'Connected to' <<<"$out")" 1 "one TCP connection for three requests"
NAMED=${UPSTREAM#http://}
body=$(curl -sS -x "http://$PROXY" "http://$NAMED/users/4")
expect_contains "$body" '"id":4' "absolute-form request forwarded"
expect_contains "$(grep /users/4 "$GOSTLY_DATA/traffic/default.jsonl")" "\"host\":\"$NAMED\"" "recorded host"
# A host the proxy cannot reach is that host's failure, not the default upstream's answer.
status=$(curl -sS -o /dev/null -w '%{http_code}' -x "http://$PROXY" "http://unreachable.invalid/users/4")
expect_eq "$status" 502 "unresolvable named host"
