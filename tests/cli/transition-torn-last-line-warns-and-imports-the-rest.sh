#!/usr/bin/env bash
# A torn last line (a crash mid-write) is skipped with a warning; every whole line is imported.
source "$(dirname "$0")/common.sh"

mkdir -p "$GOSTLY_DATA/traffic"
for i in 1 2 3; do
  printf '{"type":"interaction","id":"r%s","session_id":"s1","recorded_at":"2026-01-01T00:00:0%sZ","request":{"method":"GET","uri":"/r/%s"},"response":{"status":200}}\n' $i $i $i
done >"$GOSTLY_DATA/traffic/default.jsonl"
printf '{"type":"interaction","id":"r4","request":{"meth' >>"$GOSTLY_DATA/traffic/default.jsonl"

gostly-transition --json >"$T/out.json" 2>"$T/err.log"
expect_contains "$(cat "$T/err.log")" "default.jsonl:4: skipping a torn last line" "warning"
out=$(cat "$T/out.json")
expect_contains "$out" '"records_read":3' "records read"
expect_contains "$out" '"added":3' "added"
expect_contains "$out" '"torn_lines_skipped":1' "torn count"
