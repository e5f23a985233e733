#!/usr/bin/env bash
# `producer | gostly-transition`, as DESIGN.md and the README write it (no `-`), imports the pipe;
# so does a file redirected to standard input. An empty standard input (cron and ssh give their
# jobs an empty pipe; </dev/null) means what no input means: the data dir's recordings. A pipe
# with data wins over the recordings, which are left for a later run, and -v says so. A producer
# slow to write its first record is waited for.
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

# A data dir with recordings of its own (LEARN's traffic/).
mkdir -p "$T/d/traffic"
line t1 /traffic-one one >"$T/d/traffic/default.jsonl"
line t2 /traffic-two two >>"$T/d/traffic/default.jsonl"

# Piped data wins; the recordings stay for a later run, and -v says they were not read.
line p1 /piped piped | gostly-transition -v --data "$T/d" 2>"$T/wins.log"
expect_eq "$(count "$T/d")" 1 "only the piped record"
expect_eq "$(sqlite3 "$T/d/library.db" "SELECT uri FROM recordings")" /piped "the piped record is the one imported"
expect_contains "$(cat "$T/wins.log")" "are not read" "-v names the recordings left unread"

# An empty pipe (cron, ssh) and /dev/null: the recordings, as with no standard input at all.
true | gostly-transition --data "$T/d" 2>"$T/empty.log"
expect_eq "$(count "$T/d")" 3 "an empty pipe imports the recordings"
rm -rf "$T/d/library.db"*
gostly-transition --data "$T/d" </dev/null 2>"$T/devnull.log"
expect_eq "$(count "$T/d")" 2 "/dev/null imports the recordings"
! grep -q warning "$T/empty.log" "$T/devnull.log" || fail "a warning with recordings to read: $(cat "$T/empty.log" "$T/devnull.log")"

# Nothing anywhere: a warning, exit 0, nothing imported.
true | gostly-transition --data "$T/nothing" 2>"$T/nothing.log"
expect_contains "$(cat "$T/nothing.log")" "nothing on standard input and no recordings" "the warning"

# A producer that takes its time (a test suite under gostly-record) is waited for.
{ sleep 1; line s1 /slow slow; } | timeout 20 gostly-transition --data "$T/slow" 2>"$T/slow.log"
expect_eq "$(count "$T/slow")" 1 "the slow producer's record"
echo "$TEST_NAME: ok"
