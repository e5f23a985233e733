#!/usr/bin/env bash
# gostly-record -- CMD exits with CMD's status (128+N when killed), 127 when CMD is not found,
# 126 when it cannot be run; CMD finds the proxy in GOSTLY_PROXY_URL (and HTTP_PROXY, which a client
# pointed at GOSTLY_PROXY_URL may apply to it: still one record, not a request through itself).
source "$(dirname "$0")/common.sh"
start_api_upstream
rec() { gostly-record --upstream "$UPSTREAM" --listen 127.0.0.1:0 -o "$T/out.jsonl" --force "$@" 2>>"$T/record.log"; }
status=0; rec -- sh -c 'curl -sS -o /dev/null "$GOSTLY_PROXY_URL/users/1" && exit 7' || status=$?
expect_eq "$status" 7 "command status"
expect_eq "$(wc -l <"$T/out.jsonl" | tr -d ' ')" 1 "the command's request was recorded"
status=0; rec -- sh -c 'kill -TERM $$' || status=$?
expect_eq "$status" 143 "killed by SIGTERM"
status=0; rec -- gostly-no-such-command-here || status=$?
expect_eq "$status" 127 "command not found"
printf 'not a program\n' >"$T/not-exec"; chmod -x "$T/not-exec"
status=0; rec -- "$T/not-exec" || status=$?
expect_eq "$status" 126 "command cannot be run"
status=0; gostly-record --upstream "not a url" -- true 2>/dev/null || status=$?
expect_eq "$status" 125 "own failure"
# The proxy variables are always set now; --set-proxy-env is accepted, warned about, and changes nothing.
rec -- sh -c 'test "$HTTP_PROXY" = "$GOSTLY_PROXY_URL"' || fail "HTTP_PROXY not set for the command"
: >"$T/record.log"
rec --set-proxy-env -- sh -c 'test "$HTTP_PROXY" = "$GOSTLY_PROXY_URL"' || fail "--set-proxy-env broke HTTP_PROXY"
grep -q "set-proxy-env is deprecated" "$T/record.log" || fail "no deprecation warning for --set-proxy-env: $(cat "$T/record.log")"
