#!/usr/bin/env bash
# `GET http://user:SECRET@host/path` through the forward proxy: the request is served, and
# the recorded host is the host alone; the userinfo reaches neither the traffic log nor the
# library. (curl -x moves URL userinfo into an Authorization header, so the raw target is
# sent with --request-target.)
source "$(dirname "$0")/common.sh"
start_api_upstream
# A host route sends the named host to the test upstream (unrouted, it would be the upstream itself).
start_serve --route "api.example.test=$UPSTREAM" --mode LEARN
body=$(curl -sS -x "http://$PROXY" --request-target 'http://user:SECRET@api.example.test/users/4' 'http://api.example.test/')
expect_contains "$body" '"id":4' "forwarded"
line=$(grep "/users/4" "$GOSTLY_DATA"/traffic/*.jsonl)
expect_contains "$line" '"host":"api.example.test"' "recorded host"
not grep -q SECRET "$GOSTLY_DATA"/traffic/*.jsonl || fail "userinfo recorded in the traffic log"
