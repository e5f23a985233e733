#!/usr/bin/env bash
# --strict stops at the first bad entry with exit 2, names the JSON pointer, and -o FILE is
# never published (an existing file is left as it was).
source "$(dirname "$0")/common.sh"
echo "previous content" >"$T/out.jsonl"
status=0
gostly-seed har --strict -o "$T/out.jsonl" "$SRC/tests/seed/data/bad-entry.har" 2>"$T/err.log" || status=$?
expect_eq "$status" 2 "exit status"
expect_contains "$(cat "$T/err.log")" \
  "gostly-seed: error: $SRC/tests/seed/data/bad-entry.har: /log/entries/1/response/status: expected an integer, got string" \
  "error message"
expect_eq "$(cat "$T/out.jsonl")" "previous content" "the old file is untouched"
[ -z "$(ls "$T" | grep '\.tmp\.')" ] || fail "a temporary file was left behind"
