#!/usr/bin/env bash
# A forward-proxy (absolute-form) request for a host no route names goes to that host, not to
# --upstream (BACKEND_URL), and is recorded as that host: what is on disk is what happened.
source "$(dirname "$0")/common.sh"
start_api_upstream # the --upstream: answers /users/1 with X-Upstream: example
BACKEND=$UPSTREAM
BACKEND_PID=$UPSTREAM_PID
mkdir -p "$T/www"
echo "served by the named host" >"$T/www/users-1"
start_upstream "$T/www" # the host the client names (Python http.server)
OTHER=${UPSTREAM#http://}
start_serve --upstream "$BACKEND"

body=$(curl -sS --max-time 10 -D "$T/head.txt" -x "http://$PROXY" "http://$OTHER/users-1")
expect_eq "$body" "served by the named host" "the body comes from the named host"
not grep -qi '^X-Upstream: example' "$T/head.txt" || fail "the request reached --upstream"
line=$(grep '"/users-1"' "$GOSTLY_DATA/traffic/"*.jsonl) || fail "not recorded: $(ls "$GOSTLY_DATA/traffic")"
expect_contains "$line" "\"host\":\"$OTHER\"" "recorded under the named host"
expect_contains "$line" '"status":200' "recorded with the named host's status"
expect_contains "$line" 'served by the named host' "recorded with the named host's body"
# The --upstream still serves origin-form requests.
kill -0 "$BACKEND_PID" || fail "backend gone"
expect_contains "$(curl -sS -D - -o /dev/null "http://$PROXY/users/1")" "X-Upstream: example" "origin-form goes to --upstream"
