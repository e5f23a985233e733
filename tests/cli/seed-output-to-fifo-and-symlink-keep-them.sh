#!/usr/bin/env bash
# -o onto something that is not a regular file writes through it in place: a FIFO stays a FIFO
# (its reader gets the records), a symlink stays a symlink (its target gets the file, published
# by temp + rename next to the target), a symlink to a FIFO writes into the FIFO.
# Never run against the real /dev/null: everything here lives in $T.
source "$(dirname "$0")/common.sh"
SPEC="$FIXTURES/openapi/v2.0_yaml_petstore-expanded.yaml"
gostly-seed openapi --service pets "$SPEC" -o "$T/expected.jsonl"
[ -s "$T/expected.jsonl" ] || fail "no reference output"

# A FIFO with a reader.
mkfifo "$T/fifo"
timeout 10 cat "$T/fifo" >"$T/from-fifo.jsonl" &
CAT_PID=$!
PIDS+=($CAT_PID)
timeout 10 gostly-seed openapi --service pets "$SPEC" -o "$T/fifo" 2>"$T/seed-fifo.log" || fail "seed into a FIFO failed"
wait "$CAT_PID" || fail "the FIFO reader never saw end of file"
[ -p "$T/fifo" ] || fail "the FIFO was replaced by a regular file"
cmp "$T/expected.jsonl" "$T/from-fifo.jsonl" || fail "the FIFO reader got different bytes"

# A symlink to a regular file (relative link): the link survives, the target is rewritten.
mkdir "$T/real"
echo stale >"$T/real/out.jsonl"
ln -s real/out.jsonl "$T/link.jsonl"
gostly-seed openapi --service pets "$SPEC" -o "$T/link.jsonl"
[ -L "$T/link.jsonl" ] || fail "the symlink was replaced by a regular file"
cmp "$T/expected.jsonl" "$T/real/out.jsonl" || fail "the symlink's target does not hold the output"
expect_eq "$(ls -A "$T/real")" "out.jsonl" "files next to the target (no temporary left)"

# A dangling symlink: the target is created, the link kept.
ln -s real/new.jsonl "$T/dangling.jsonl"
gostly-seed openapi --service pets "$SPEC" -o "$T/dangling.jsonl"
[ -L "$T/dangling.jsonl" ] || fail "the dangling symlink was replaced"
cmp "$T/expected.jsonl" "$T/real/new.jsonl" || fail "the dangling symlink's target was not created"

# A symlink to a FIFO.
ln -s fifo "$T/fifo-link"
timeout 10 cat "$T/fifo" >"$T/from-fifo-link.jsonl" &
CAT_PID=$!
PIDS+=($CAT_PID)
timeout 10 gostly-seed openapi --service pets "$SPEC" -o "$T/fifo-link" 2>"$T/seed-fifo-link.log" || fail "seed into a symlinked FIFO failed"
wait "$CAT_PID" || fail "the FIFO reader never saw end of file (through the link)"
[ -L "$T/fifo-link" ] && [ -p "$T/fifo" ] || fail "the link or the FIFO behind it was replaced"
cmp "$T/expected.jsonl" "$T/from-fifo-link.jsonl" || fail "the FIFO reader got different bytes (through the link)"

# A character device of our own (a private copy of /dev/full, made with mknod in $T; skipped
# where mknod or nodev forbids it): written in place, so the write fails with the device's
# reason and the node is still a character device afterwards.
probe=$( (mknod "$T/full" c 1 7 && echo x >"$T/full") 2>&1 || true)
if [ -c "$T/full" ] && [[ "$probe" == *"No space"* ]]; then
  status=0
  gostly-seed openapi --service pets "$SPEC" -o "$T/full" 2>"$T/full.log" || status=$?
  [ "$status" -ne 0 ] || fail "writing to a full device succeeded"
  expect_contains "$(cat "$T/full.log")" "No space left on device" "the reason is reported"
  [ -c "$T/full" ] || fail "the character device was replaced by a regular file"
fi
