#!/usr/bin/env bash
# The issue's end-to-end check, file-based: the same client calls the real example upstream as v1,
# as v2 (planted: users lose name for full_name, age becomes a string, users gain tier,
# GET /posts/{id} is gone, /health 200 -> 500) and as v1 again (only values change: new
# request_id uuids). The events must be exactly the planted ones with the right severities, and
# the v1 re-recording must yield none. Interactions are written by a small curl-based recorder.
source "$(dirname "$0")/common.sh"

# record_session BASE SESSION: one interaction JSONL line per call of examples/drift-client.sh.
record_session() {
  local base=$1 session=$2 n=0
  "$SRC/examples/drift-client.sh" --list | while read -r method path; do
    n=$((n + 1))
    status=$(curl -sS -o "$T/body" -w '%{http_code}' -X "$method" "$base$path")
    jq -cn --arg m "$method" --arg p "$path" --arg s "$session" --argjson st "$status" \
      --rawfile body "$T/body" --arg id "$session-$n" \
      '{type:"interaction",v:1,id:$id,service_id:"api",session_id:$s,source:"learn",
        recorded_at:"2026-06-15T10:00:00.000Z",request:{method:$m,uri:$p},
        response:{status:$st,body:$body}}'
  done
}

start_api_upstream
record_session "$UPSTREAM" sess-v1 >"$T/v1.jsonl"
record_session "$UPSTREAM" sess-v1-again >"$T/v1-again.jsonl"
kill "$UPSTREAM_PID"
python3 -u "$SRC/examples/upstream.py" --port 0 --variant v2 >"$T/upstream-v2.log" 2>&1 &
PIDS+=($!)
addr=$(bound_address "$T/upstream-v2.log")
wait_for_port "$addr"
record_session "http://$addr" sess-v2 >"$T/v2.jsonl"
expect_eq "$(wc -l <"$T/v2.jsonl")" 37 "recorded calls"

status=0
gostly-drift diff "$T/v1.jsonl" "$T/v2.jsonl" >"$T/events.jsonl" 2>"$T/diff.log" || status=$?
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
expect_eq "$(jq -r 'select(.route == "/health") | .diff[0] | "\(.baseline)->\(.current)"' "$T/events.jsonl")" "200->500" "health status"
expect_eq "$(jq -r '.baseline_session_id + " " + .current_session_id' "$T/events.jsonl" | sort -u)" "sess-v1 sess-v2" "sessions"
expect_eq "$(jq -r .service_id "$T/events.jsonl" | sort -u)" "api" "service"
# GET /users answers a top-level array: no field signal, said once on stderr.
expect_eq "$(grep -c 'GET /users: .* not JSON objects' "$T/diff.log")" 1 "non-object log line"

# Only values changed (request_id uuids): no drift, exit 0, nothing on stdout.
gostly-drift -q diff "$T/v1.jsonl" "$T/v1-again.jsonl" >"$T/none.jsonl"
expect_eq "$(wc -c <"$T/none.jsonl")" 0 "events between two v1 recordings"
# --fail-on major still fails here; the planted set has major drift.
not gostly-drift -q diff --fail-on major "$T/v1.jsonl" "$T/v2.jsonl" >/dev/null
