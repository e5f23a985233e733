#!/usr/bin/env bash
# kill -9 of a recording proxy mid-stream leaves a JSONL file that gostly-transition reads whole.
source "$(dirname "$0")/common.sh"
command -v gostly-transition >/dev/null || skip "gostly-transition not built"
start_api_upstream
gostly-record --upstream "$UPSTREAM" --listen 127.0.0.1:0 -o "$T/s1.jsonl" 2>"$T/record.log" &
RECORD_PID=$!
PIDS+=($RECORD_PID)
addr=$(bound_address "$T/record.log")
for i in $(seq 1 20); do curl -sS -o /dev/null "http://$addr/users/$i"; done
# A request still in flight when the kill lands: /slow keeps the upstream busy.
curl -sS -o /dev/null --max-time 5 "http://$addr/slow?ms=2000" &
sleep 0.3
kill -9 "$RECORD_PID"
wait "$RECORD_PID" 2>/dev/null || true
expect_eq "$(wc -l <"$T/s1.jsonl" | tr -d ' ')" 20 "lines on disk"
[ "$(tail -c1 "$T/s1.jsonl" | od -An -c | tr -d ' ')" = '\n' ] || fail "last line is torn"
summary=$(gostly-transition --data "$GOSTLY_DATA" --json "$T/s1.jsonl")
expect_contains "$summary" '"added":20' "every line imported"
