#!/usr/bin/env bash
# Broken JSON is fatal in every mode: exit 2, the message names the line, the pointer, the column
# and the byte offset.
source "$(dirname "$0")/common.sh"
status=0
gostly-seed har - <"$SRC/tests/seed/data/malformed.har" >"$T/out.jsonl" 2>"$T/err.log" || status=$?
expect_eq "$status" 2 "exit status"
expect_contains "$(cat "$T/err.log")" "gostly-seed: error: <stdin>:2: /log/entries/0/response/status: column 91 (byte 131): " \
  "error names stdin, line, pointer, column, byte"
expect_contains "$(cat "$T/err.log")" "invalid JSON" "reason"
status=0
echo '{"not": "a har"}' | gostly-seed har >/dev/null 2>"$T/err2.log" || status=$?
expect_eq "$status" 2 "exit status for a non-HAR document"
expect_contains "$(cat "$T/err2.log")" "/log/entries: missing: not a HAR file" "non-HAR message"
