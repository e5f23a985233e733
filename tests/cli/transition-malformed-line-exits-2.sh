#!/usr/bin/env bash
# A malformed line anywhere: the message names file, line and field, exit 2, library.db unchanged.
source "$(dirname "$0")/common.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 not installed"

rec() { printf '{"type":"interaction","id":"%s","session_id":"s1","recorded_at":"2026-01-01T00:00:0%sZ","request":{"method":"GET","uri":"/%s"},"response":{"status":200,"body":"ok"}}\n' "$1" "$2" "$1"; }
rec a 1 >"$T/good.jsonl"
gostly-transition "$T/good.jsonl" 2>"$T/first.log"
before=$(sqlite3 "$GOSTLY_DATA/library.db" .dump)

{ rec b 2; rec c 3; echo '{"type":"interaction","request":{"method":"GET","uri":"/d"},"response":{"status":"200"}}'; rec e 4; } >"$T/bad.jsonl"
status=0
gostly-transition "$T/good.jsonl" "$T/bad.jsonl" 2>"$T/err.log" || status=$?
expect_eq "$status" 2 "exit status"
expect_contains "$(cat "$T/err.log")" "gostly-transition: error: $T/bad.jsonl:3: response.status:" "error message"

after=$(sqlite3 "$GOSTLY_DATA/library.db" .dump)
[ "$before" = "$after" ] || fail "library.db changed after a failed transition"
expect_eq "$(sqlite3 "$GOSTLY_DATA/library.db" 'select count(*) from recordings')" 1 "recordings"
