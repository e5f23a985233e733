#!/usr/bin/env bash
# A client that hangs up in the middle of a stream (an SSE reader with a 0.5 s timeout): the
# proxy closes its upstream connection (the upstream sees the hang-up at its next event), stays
# up, and LEARN records what the client had been sent, marked "body_truncated":true and
# "truncated_by":"client".
source "$(dirname "$0")/common.sh"
python3 -u "$FIXTURES/stream-upstream.py" >"$T/upstream.log" 2>&1 &
PIDS+=($!)
UP=$(bound_address "$T/upstream.log")
start_serve --upstream "http://$UP" --mode LEARN --threads 1
curl -sSN --max-time 0.5 "http://$PROXY/events?n=10&ms=200" >"$T/short.txt" 2>/dev/null || true
expect_contains "$(cat "$T/short.txt")" "data: event 2" "events before the hang-up"
wait_for_log "$T/upstream.log" "client gone /events" 5 >/dev/null
kill -0 "$SERVE_PID" || fail "gostly-serve died"
expect_eq "$(curl -sS "http://$PROXY/download?chunks=2&size=10&ms=1" | wc -c | tr -d ' ')" 20 "the proxy still answers"
deadline=$((SECONDS + 5))
until grep -q '"/events' "$GOSTLY_DATA/traffic/default.jsonl" 2>/dev/null; do
  [ $SECONDS -lt $deadline ] || fail "the cut stream was not recorded"
  sleep 0.1
done
python3 - "$GOSTLY_DATA/traffic/default.jsonl" <<'PY' || fail "the partial record"
import json, sys
records = [json.loads(l) for l in open(sys.argv[1])]
events = [r for r in records if r["request"]["uri"].startswith("/events")]
assert len(events) == 1, len(events)
response = events[0]["response"]
assert response["body"].startswith("id: 1\ndata: event 1\n\nid: 2\ndata: event 2\n\n"), response["body"]
assert "event 10" not in response["body"], response["body"]
assert response["body_truncated"] is True and response["truncated_by"] == "client", response
PY
