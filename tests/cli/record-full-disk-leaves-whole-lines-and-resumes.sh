#!/usr/bin/env bash
# gostly-record -o on a full disk: a record that does not fit is dropped whole (warned and
# counted), the file never holds a partial line, and recording resumes with whole lines once
# space returns. The full disk is RLIMIT_FSIZE (ulimit -f, SIGXFSZ ignored so write() returns a
# short count and then EFBIG), raised again from outside with prlimit.
source "$(dirname "$0")/common.sh"
command -v gostly-transition >/dev/null || skip "gostly-transition not built"
command -v prlimit >/dev/null || skip "prlimit not installed"
start_api_upstream
# 16 KiB of output room (ulimit -f counts 1024-byte blocks in bash); stderr goes to a pipe so
# the limit applies to the JSONL file only.
(
  trap '' XFSZ
  ulimit -S -f 16
  exec gostly-record --upstream "$UPSTREAM" --listen 127.0.0.1:0 -o "$T/s1.jsonl"
) 2> >(cat >"$T/record.log") &
RECORD_PID=$!
PIDS+=($RECORD_PID)
addr=$(bound_address "$T/record.log")
for i in $(seq 1 60); do curl -sS -o /dev/null "http://$addr/users/$i?pad=$(printf 'p%.0s' $(seq 1 $((i % 7 * 13))))"; done
size=$(stat -c %s "$T/s1.jsonl")
[ "$size" -le 16384 ] || fail "the file grew past the limit ($size bytes)"
wait_for_log "$T/record.log" "recording GET .* failed" >/dev/null
# Space returns.
prlimit --pid "$RECORD_PID" --fsize=unlimited:
for i in $(seq 61 70); do curl -sS -o /dev/null "http://$addr/users/$i"; done
kill -TERM "$RECORD_PID"
wait "$RECORD_PID" 2>/dev/null || true
sleep 0.2
[ "$(tail -c1 "$T/s1.jsonl" | od -An -c | tr -d ' ')" = '\n' ] || fail "last line is torn"
python3 - "$T/s1.jsonl" <<'PY' || fail "a line of the output is not a whole JSON record"
import json, sys
for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    json.loads(line)
PY
lines=$(wc -l <"$T/s1.jsonl" | tr -d ' ')
[ "$lines" -lt 70 ] || fail "nothing was lost, so the disk was never full ($lines lines)"
grep -q '"uri":"/users/70"' "$T/s1.jsonl" || fail "recording did not resume after space returned"
expect_contains "$(cat "$T/record.log")" "could not be written to $T/s1.jsonl" "the loss is counted at exit"
lost=$(grep -Eo '[0-9]+ interaction\(s\) could not be written' "$T/record.log" | grep -Eo '^[0-9]+')
expect_eq "$((lines + lost))" 70 "written + reported lost"
summary=$(gostly-transition --data "$GOSTLY_DATA" --json "$T/s1.jsonl")
expect_contains "$summary" "\"added\":$lines" "gostly-transition takes every line"
