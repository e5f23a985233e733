#!/usr/bin/env bash
# A HAR is streamed, but a failed run sends nothing downstream: a torn file or a bad entry under
# --strict exits 2 with an empty stdout, so `gostly-seed har … | gostly-transition` imports
# nothing. The same file whole still goes to stdout.
source "$(dirname "$0")/common.sh"
# Torn two thirds in, after its first entry was converted.
head -c 44000 "$FIXTURES/har/chrome.har" >"$T/torn.har"
status=0
gostly-seed har "$T/torn.har" >"$T/torn.jsonl" 2>"$T/err.log" || status=$?
expect_eq "$status" 2 "exit status for a torn HAR"
expect_eq "$(wc -c <"$T/torn.jsonl")" 0 "bytes on stdout from a torn HAR"
status=0
gostly-seed har --strict - <"$SRC/tests/seed/data/bad-entry.har" >"$T/strict.jsonl" 2>"$T/err.log" || status=$?
expect_eq "$status" 2 "exit status under --strict"
expect_eq "$(wc -c <"$T/strict.jsonl")" 0 "bytes on stdout under --strict (entry 0 was good)"

# Downstream: the pipe into gostly-transition leaves the library as it was.
if command -v gostly-transition >/dev/null; then
  { gostly-seed har --service default "$T/torn.har" 2>/dev/null || true; } |
    gostly-transition --data "$GOSTLY_DATA" - 2>"$T/transition.log" || true
  if [ -f "$GOSTLY_DATA/library.db" ] && command -v sqlite3 >/dev/null; then
    expect_eq "$(sqlite3 "$GOSTLY_DATA/library.db" 'select count(*) from recordings')" 0 "recordings from a failed seed"
  fi
fi

gostly-seed har "$FIXTURES/har/chrome.har" >"$T/whole.jsonl"
expect_eq "$(wc -l <"$T/whole.jsonl")" 2 "records from the whole file"
