#!/usr/bin/env bash
# A stand-in for an application's own test suite: talks to the API at $GOSTLY_PROXY_URL (set by
# `gostly-record -- CMD`) or $API_BASE_URL, and checks what it gets back. It passes against the
# live example upstream, through gostly-record, and against gostly-serve in MOCK with the
# upstream gone — which is the point.
set -euo pipefail
BASE=${GOSTLY_PROXY_URL:-${API_BASE_URL:?set API_BASE_URL or run under gostly-record}}
failures=0

check() { # check WHAT EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then printf '  ok    %s\n' "$1"; else printf '  FAIL  %s: expected %s, got %s\n' "$1" "$2" "$3"; failures=$((failures + 1)); fi
}
status_of() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

check "GET /health is 200" 200 "$(status_of "$BASE/health")"
check "GET /users/42 has the user's name" user-42 "$(curl -sf "$BASE/users/42" | json_field name)"
check "POST /users creates a user" 201 "$(status_of -X POST "$BASE/users" -H 'Content-Type: application/json' \
  -H 'Authorization: Bearer do-not-store-me' -d '{"name":"ada"}')"
check "GET /posts/7 starts as a draft" draft "$(curl -sf "$BASE/posts/7" | json_field status)"
check "PATCH /posts/7 publishes it" published "$(curl -sf -X PATCH "$BASE/posts/7" -H 'Content-Type: application/json' \
  -d '{"status":"published"}' | json_field status)"
check "GET /posts/7 is now published" published "$(curl -sf "$BASE/posts/7" | json_field status)"
check "GET /binary is gzip, byte for byte" '{"compressed":true}' "$(curl -sf "$BASE/binary" | gzip -dc)"

[ $failures -eq 0 ] && echo "client tests: all passed" || echo "client tests: $failures failed"
exit $((failures > 0))
