#!/usr/bin/env bash
# A JSONL "line" that never ends (issue 7 item 2) is cut at GOSTLY_MAX_LINE_BYTES: exit 2 naming
# the limit, in bounded time and memory (the reader never holds more than the limit), nothing written.
source "$(dirname "$0")/common.sh"

status=0
# 200 MB of one endless line; the limit is 1 MiB and the address space 400 MB, so a reader that
# buffers the line whole fails here (killed or out of memory) instead of naming the limit.
(ulimit -v 400000; head -c 200000000 /dev/zero | tr '\0' x |
  GOSTLY_MAX_LINE_BYTES=1048576 timeout 20 gostly-transition -) 2>"$T/err.log" || status=$?
expect_eq "$status" 2 "exit status"
expect_contains "$(cat "$T/err.log")" "<stdin>:1: line longer than 1048576 bytes (limit GOSTLY_MAX_LINE_BYTES)" "message"
[ ! -e "$GOSTLY_DATA/library.db" ] || [ "$(sqlite3 "$GOSTLY_DATA/library.db" 'select count(*) from recordings' 2>/dev/null || echo 0)" = 0 ] ||
  fail "something was written to library.db"

# A bad value for the limit is a usage error naming the variable.
status=0
echo '{}' | GOSTLY_MAX_LINE_BYTES=lots gostly-transition - 2>"$T/bad.log" || status=$?
expect_eq "$status" 2 "bad limit exit status"
expect_contains "$(cat "$T/bad.log")" "GOSTLY_MAX_LINE_BYTES" "bad limit message"
