#!/usr/bin/env bash
# `producer | gostly-transition`, as DESIGN.md and the README write it (no `-`), imports the pipe
# when the data dir has no recordings; so does a file redirected to standard input, and a producer
# slow to write its first record is waited for. With recordings in traffic/, they are read, as
# before: standard input is left alone (a warning when it holds data), never waited on.
source "$(dirname "$0")/common.sh"
count() { sqlite3 "$1/library.db" "SELECT count(*) FROM recordings"; }
line() { printf '{"type":"interaction","id":"%s","request":{"method":"GET","uri":"%s"},"response":{"status":200,"body":"%s"}}\n' "$1" "$2" "$3"; }

# The README's seed example, verbatim but for --data.
gostly-seed har "$FIXTURES/har/chrome.har" --service web >"$T/seeded.jsonl"
seeded=$(grep -c '"type":"interaction"' "$T/seeded.jsonl")
[ "$seeded" -gt 0 ] || fail "the fixture seeded nothing"
gostly-seed har "$FIXTURES/har/chrome.har" --service web | gostly-transition --data "$T/piped" 2>"$T/piped.log"
expect_eq "$(count "$T/piped")" "$seeded" "records imported from the pipe"

gostly-transition --data "$T/redirected" <"$T/seeded.jsonl" 2>"$T/redirected.log"
expect_eq "$(count "$T/redirected")" "$seeded" "records imported from a redirected file"

# A data dir with recordings of its own (LEARN's traffic/): they come first, as always, so a job
# whose standard input is an open pipe (a CI shell reading its script from it) neither blocks nor
# eats it. Piped data is then left alone, with a warning that says how to read it.
mkdir -p "$T/d/traffic"
line t1 /traffic-one one >"$T/d/traffic/default.jsonl"
line t2 /traffic-two two >>"$T/d/traffic/default.jsonl"
line p1 /piped piped >"$T/piped.jsonl"
gostly-transition --data "$T/d" <"$T/piped.jsonl" 2>"$T/both.log"
expect_eq "$(sqlite3 "$T/d/library.db" "SELECT group_concat(uri, ' ') FROM (SELECT uri FROM recordings ORDER BY uri)")" \
  "/traffic-one /traffic-two" "the recordings, not standard input"
expect_contains "$(cat "$T/both.log")" "standard input is not read (give - to read it)" "the warning"
gostly-transition --data "$T/d" - <"$T/piped.jsonl" 2>/dev/null
expect_eq "$(count "$T/d")" 3 "with -, standard input"
rm -rf "$T/d/library.db"*
# An open pipe that never writes: the recordings, at once (timeout: not blocked on the pipe).
mkfifo "$T/open"
sleep 60 >"$T/open" &
PIDS+=($!)
timeout 10 gostly-transition --data "$T/d" <"$T/open" 2>"$T/open.log" || fail "blocked on an open, silent pipe"
expect_eq "$(count "$T/d")" 2 "an open pipe: the recordings"
rm -rf "$T/d/library.db"*

# An empty pipe (cron, ssh) and /dev/null: the recordings, and no warning.
true | gostly-transition --data "$T/d" 2>"$T/empty.log"
expect_eq "$(count "$T/d")" 2 "an empty pipe imports the recordings"
rm -rf "$T/d/library.db"*
gostly-transition --data "$T/d" </dev/null 2>"$T/devnull.log"
expect_eq "$(count "$T/d")" 2 "/dev/null imports the recordings"
! grep -q warning "$T/empty.log" "$T/devnull.log" "$T/open.log" ||
  fail "a warning with recordings to read: $(cat "$T/empty.log" "$T/devnull.log" "$T/open.log")"

# Nothing anywhere: a warning, exit 0, nothing imported.
true | gostly-transition --data "$T/nothing" 2>"$T/nothing.log"
expect_contains "$(cat "$T/nothing.log")" "no recordings in $T/nothing/traffic and nothing on standard input" "the warning"

# A producer that takes its time (a test suite under gostly-record) is waited for.
{ sleep 1; line s1 /slow slow; } | timeout 20 gostly-transition --data "$T/slow" 2>"$T/slow.log"
expect_eq "$(count "$T/slow")" 1 "the slow producer's record"
echo "$TEST_NAME: ok"
