#!/usr/bin/env bash
# A chunked request body is de-chunked, forwarded and recorded; a body over --max-body gets 413,
# whether announced by Content-Length or arriving chunked.
source "$(dirname "$0")/common.sh"
start_api_upstream
start_serve --upstream "$UPSTREAM" --max-body 2K
body=$(curl -sS -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/json' --data-binary '{"name":"chunky"}' "http://$PROXY/users")
expect_contains "$body" '"name":"chunky"' "upstream got the de-chunked body"
expect_contains "$(cat "$GOSTLY_DATA/traffic/default.jsonl")" '"body":"{\"name\":\"chunky\"}"' "recorded request body"
head -c 5000 /dev/zero | tr '\0' a >"$T/big"
expect_eq "$(curl -sS -o /dev/null -w '%{http_code}' --data-binary @"$T/big" "http://$PROXY/users")" 413 "Content-Length over the limit"
expect_eq "$(curl -sS -o /dev/null -w '%{http_code}' -H 'Transfer-Encoding: chunked' --data-binary @"$T/big" "http://$PROXY/users")" 413 "chunked over the limit"
expect_contains "$(curl -sS -w ' %{http_code}' "http://$PROXY/users/1")" " 200" "still serving"
