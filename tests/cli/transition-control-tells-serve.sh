#!/usr/bin/env bash
# --control: begin before writing, end after the commit (the server goes to --then-mode and
# serves the new library); a failed transition sends abort and leaves the server usable.
source "$(dirname "$0")/common.sh"
command -v gostly-serve >/dev/null || skip "gostly-serve not built"

start_api_upstream
start_serve --upstream "$UPSTREAM" --mode LEARN
printf '{"type":"interaction","id":"c1","request":{"method":"GET","uri":"/from-transition"},"response":{"status":200,"body":"from the library"}}\n' >"$T/in.jsonl"

gostly-transition --control "$CONTROL" --then-mode MOCK "$T/in.jsonl" 2>"$T/transition.log"
expect_contains "$(api GET /v1/mode)" "MOCK" "mode after end"
expect_eq "$(curl -s "http://$PROXY/from-transition")" "from the library" "served from the reloaded library"

printf '{"type":"interaction","request":{"method":7}}\n' >"$T/bad.jsonl"
status=0
gostly-transition --control "$CONTROL" "$T/bad.jsonl" 2>"$T/bad.log" || status=$?
expect_eq "$status" 2 "a bad input still exits 2"
expect_contains "$(api GET /v1/mode)" "MOCK" "mode after abort"

status=0
GHOST_API_KEY=wrong gostly-transition --control "$CONTROL" "$T/in.jsonl" 2>"$T/key.log" || status=$?
expect_eq "$status" 2 "wrong key"
expect_contains "$(cat "$T/key.log")" "HTTP 401" "names the refusal"
