#!/usr/bin/env bash
# The issue's end-to-end test through the real pipeline: gostly-record runs the same client
# against the example upstream as v1, as v2 (planted changes) and as v1 again, each recording
# goes into one data dir through gostly-transition, and gostly-drift check compares the
# sessions: exactly the planted events, stored once (a re-check is exit 0 with the same ids),
# none between the two v1 sessions; then ack, --open and the score react.
source "$(dirname "$0")/common.sh"
for tool in gostly-record gostly-transition; do
  [ -x "$BIN/$tool" ] || skip "$tool is not built yet"
done

record() { # record UPSTREAM_URL NAME
  gostly-record --upstream "$1" --listen 127.0.0.1:0 -o "$T/$2.jsonl" -- "$SRC/examples/drift-client.sh" 2>"$T/record-$2.log"
  gostly-transition --data "$GOSTLY_DATA" "$T/$2.jsonl" 2>"$T/transition-$2.log"
}

start_api_upstream
record "$UPSTREAM" v1
record "$UPSTREAM" v1-again
kill "$UPSTREAM_PID"
python3 -u "$SRC/examples/upstream.py" --port 0 --variant v2 >"$T/upstream-v2.log" 2>&1 &
PIDS+=($!)
addr=$(bound_address "$T/upstream-v2.log")
wait_for_port "$addr"
record "http://$addr" v2

session_of() { jq -r .session_id "$T/$1.jsonl" | sort -u; }
v1=$(session_of v1) v1b=$(session_of v1-again) v2=$(session_of v2)
expect_eq "$(gostly-drift sessions --json | jq -s length)" 3 "sessions in the store"

status=0
gostly-drift check --baseline "$v1" --current "$v2" >"$T/events.jsonl" 2>"$T/check.log" || status=$?
expect_eq "$status" 1 "exit status with new drift"
summary=$(jq -r '"\(.method) \(.route) \(.change_type) \(.severity)"' "$T/events.jsonl" | sort)
expect_eq "$summary" "GET /health status_changed major
GET /posts/{id} route_removed major
GET /users/{id} mixed major" "drifted routes"
signals=$(jq -r 'select(.route == "/users/{id}") | .diff[] | "\(.signal) \(.field) \(.severity)"' "$T/events.jsonl" | sort)
expect_eq "$signals" "field_added full_name minor
field_added tier minor
field_removed name major
type_changed age major" "signals on /users/{id}"

gostly-drift -q check --baseline "$v1" --current "$v2" >"$T/again.jsonl"
expect_eq "$(jq -r .id "$T/again.jsonl" | sort)" "$(jq -r .id "$T/events.jsonl" | sort)" "event ids on re-check"
expect_eq "$(gostly-drift events | wc -l)" 3 "stored events"

gostly-drift -q check --baseline "$v1" --current "$v1b" >"$T/none.jsonl"
expect_eq "$(wc -c <"$T/none.jsonl")" 0 "events between two v1 sessions"

id=$(jq -r 'select(.route == "/health") | .id' "$T/events.jsonl")
gostly-drift ack "$id" --user jane --reason "expected outage" >/dev/null
expect_eq "$(gostly-drift events --open | wc -l)" 2 "open events after ack"
expect_eq "$(gostly-score --service default --json | jq .open_drift_event_count)" 2 "score's open count"

status=0
gostly-drift check --baseline "$v1" --current sess-nope >/dev/null 2>"$T/err" || status=$?
expect_eq "$status" 2 "exit status for an unknown session"
expect_contains "$(cat "$T/err")" "unknown current session 'sess-nope'" "unknown session message"
