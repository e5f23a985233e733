#!/usr/bin/env bash
# An upstream nobody listens on gets a quick 502 naming it; a slow one gets 504 after
# --upstream-timeout. Neither hangs.
source "$(dirname "$0")/common.sh"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start_serve --upstream "http://127.0.0.1:$port" --upstream-timeout 1
body=$(curl -sS --max-time 10 -w ' %{http_code}' "http://$PROXY/users/1")
expect_contains "$body" " 502" "status"
expect_contains "$body" "127.0.0.1:$port" "names the upstream"
expect_contains "$body" "refused" "says what failed"
kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null || true
start_api_upstream
# 2 s, not 1: on a loaded CI machine an ordinary answer must not time out too.
start_serve --upstream "$UPSTREAM" --upstream-timeout 2
body=$(curl -sS --max-time 10 -w ' %{http_code}' "http://$PROXY/slow?ms=6000")
expect_contains "$body" " 504" "slow upstream"
expect_contains "$body" "timed out" "says it timed out"
expect_contains "$(curl -sS -w ' %{http_code}' "http://$PROXY/users/2")" " 200" "the next request works"
