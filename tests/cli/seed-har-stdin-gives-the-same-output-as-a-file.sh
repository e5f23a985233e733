#!/usr/bin/env bash
# `-` (stdin) and a file name yield byte-identical JSONL: ids and the session come from the
# content, not from the name.
source "$(dirname "$0")/common.sh"
gostly-seed har "$FIXTURES/har/chrome.har" >"$T/file.jsonl"
gostly-seed har - <"$FIXTURES/har/chrome.har" >"$T/stdin.jsonl"
gostly-seed har <"$FIXTURES/har/chrome.har" >"$T/default.jsonl"
expect_eq "$(wc -l <"$T/file.jsonl")" 2 "records from chrome.har"
cmp "$T/file.jsonl" "$T/stdin.jsonl" || fail "stdin output differs from file output"
cmp "$T/file.jsonl" "$T/default.jsonl" || fail "no FILE should mean stdin"
expect_contains "$(head -n 1 "$T/file.jsonl")" '"source":"har"' "source field"
