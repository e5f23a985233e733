#!/usr/bin/env bash
# A malformed line anywhere: the message names file, line and field, exit 2, the library unchanged
# (every table gostly-serve loads from, on either engine: also run as cli-postgres).
source "$(dirname "$0")/common.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 not installed"

rec() { printf '{"type":"interaction","id":"%s","session_id":"s1","recorded_at":"2026-01-01T00:00:0%sZ","request":{"method":"GET","uri":"/%s"},"response":{"status":200,"body":"ok"}}\n' "$1" "$2" "$1"; }
rec a 1 >"$T/good.jsonl"
gostly-transition "$T/good.jsonl" 2>"$T/first.log"
library_rows() {
  library_sql 'select interaction_id, session_id, record from recordings order by 1'
  library_sql 'select service_id, match_key, ordinal, recording_id from mocks order by 1, 2, 3'
  library_sql 'select id, mode, updated_at from services order by 1'
  library_sql 'select count(*) from sessions'
}
before=$(library_rows)

{ rec b 2; rec c 3; echo '{"type":"interaction","request":{"method":"GET","uri":"/d"},"response":{"status":"200"}}'; rec e 4; } >"$T/bad.jsonl"
status=0
gostly-transition "$T/good.jsonl" "$T/bad.jsonl" 2>"$T/err.log" || status=$?
expect_eq "$status" 2 "exit status"
expect_contains "$(cat "$T/err.log")" "gostly-transition: error: $T/bad.jsonl:3: response.status:" "error message"

[ "$before" = "$(library_rows)" ] || fail "the library changed after a failed transition"
expect_eq "$(library_sql 'select count(*) from recordings')" 1 "recordings"
