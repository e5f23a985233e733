#!/usr/bin/env bash
# A request head with a 40 KiB cookie (big JWTs and cookies are real) is forwarded; one over
# the 64 KiB head limit gets 431 and the connection closes, as does one with more than 1000
# header fields; a connection after them is served as usual.
source "$(dirname "$0")/common.sh"
start_api_upstream
start_serve --upstream "$UPSTREAM" --mode PASSTHROUGH
cookie() { printf 'Cookie: c=%s' "$(head -c "$1" /dev/zero | tr '\0' a)"; }
expect_eq "$(curl -sS -o /dev/null -w '%{http_code}' -H "$(cookie 40000)" "http://$PROXY/users/1")" 200 "40 KB cookie"
expect_eq "$(curl -sS -o "$T/big" -w '%{http_code}' -H "$(cookie 70000)" "http://$PROXY/users/1")" 431 "70 KB cookie"
expect_contains "$(cat "$T/big")" "65536 bytes" "names the limit"
args=()
for i in $(seq 1 1100); do args+=(-H "x-h$i: v"); done
expect_eq "$(curl -sS -o "$T/many" -w '%{http_code}' "${args[@]}" "http://$PROXY/users/1")" 431 "1100 header fields"
expect_contains "$(cat "$T/many")" "1000 header fields" "names the field limit"
expect_eq "$(curl -sS -o /dev/null -w "%{http_code}" "${args[@]:0:180}" "http://$PROXY/users/1")" 200 "90 header fields (Python's http.server refuses 100)"
expect_eq "$(curl -sS -o /dev/null -w '%{http_code}' "http://$PROXY/users/2")" 200 "still serving"
