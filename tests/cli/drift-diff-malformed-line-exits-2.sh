#!/usr/bin/env bash
# A malformed input line is an input error naming file and line (exit 2), and so is a file with
# no interactions to compare; a third positional argument is a usage error.
source "$(dirname "$0")/common.sh"
good='{"type":"interaction","v":1,"request":{"method":"GET","uri":"/a"},"response":{"status":200,"body":"{}"}}'
printf '%s\n%s\n' "$good" '{"type":"interaction","v":1,"request":{"method":7}}' >"$T/bad.jsonl"
printf '%s\n' "$good" >"$T/good.jsonl"
: >"$T/empty.jsonl"

status=0
gostly-drift diff "$T/good.jsonl" "$T/bad.jsonl" >"$T/out" 2>"$T/err" || status=$?
expect_eq "$status" 2 "exit status for a malformed line"
expect_contains "$(cat "$T/err")" "gostly-drift: error: $T/bad.jsonl:2: request" "error message"

status=0
gostly-drift diff "$T/good.jsonl" "$T/empty.jsonl" >"$T/out" 2>"$T/err" || status=$?
expect_eq "$status" 2 "exit status for an empty file"
expect_contains "$(cat "$T/err")" "no LEARN interactions" "empty file message"

status=0
gostly-drift diff "$T/good.jsonl" "$T/good.jsonl" "$T/good.jsonl" >"$T/out" 2>"$T/err" || status=$?
expect_eq "$status" 2 "exit status for three files"
