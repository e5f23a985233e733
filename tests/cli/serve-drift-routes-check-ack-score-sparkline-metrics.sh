#!/usr/bin/env bash
# The /v1/drift/* routes of a running gostly-serve over a store with two recordings of the example
# upstream (v1, then v2 with planted changes), as in drift-check-record-twice-finds-planted-changes:
# check finds the planted routes, a re-check returns the same events and /metrics counts nothing
# new; events, one event, ack (open list shrinks, the audit row is kept), freshness score,
# sparkline and the drift counters all answer; an unknown session is a 422, a bad event id 400,
# an unknown one 404, no key 401.
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
kill "$UPSTREAM_PID"
python3 -u "$SRC/examples/upstream.py" --port 0 --variant v2 >"$T/upstream-v2.log" 2>&1 &
PIDS+=($!)
addr=$(bound_address "$T/upstream-v2.log")
wait_for_port "$addr"
record "http://$addr" v2
v1=$(jq -r .session_id "$T/v1.jsonl" | sort -u)
v2=$(jq -r .session_id "$T/v2.jsonl" | sort -u)

start_serve --mode MOCK
drift_total() { # drift_total SEVERITY: the value /metrics reports
  api GET /metrics | sed -n "s/^gostly_drift_events_total{severity=\"$1\"} //p"
}
expect_eq "$(drift_total major)" 0 "major drift before any check"

check_body=$(jq -nc --arg b "$v1" --arg c "$v2" '{service_id:"default",baseline_session_id:$b,current_session_id:$c}')
code=$(api POST /v1/drift/check -o "$T/check.json" -w '%{http_code}' -H 'Content-Type: application/json' -d "$check_body")
expect_eq "$code" 200 "status of a check"
expect_eq "$(jq -r '.events[] | "\(.method) \(.route) \(.severity)"' "$T/check.json" | sort)" "GET /health major
GET /posts/{id} major
GET /users/{id} major" "drifted routes"
expect_eq "$(jq .count "$T/check.json")" 3 "count"
expect_eq "$(jq -c .new "$T/check.json")" '{"major":3,"minor":0}' "new events by severity"
expect_eq "$(drift_total major)" 3 "major drift in /metrics after the check"
expect_eq "$(drift_total minor)" 0 "minor drift in /metrics after the check"

# The CLI's short names (baseline/current) are accepted too; a re-check adds nothing.
code=$(api POST /v1/drift/check -o "$T/again.json" -w '%{http_code}' \
  -d "$(jq -nc --arg b "$v1" --arg c "$v2" '{baseline:$b,current:$c}')")
expect_eq "$code" 200 "status of a re-check"
expect_eq "$(jq -c '[.events[].id] | sort' "$T/again.json")" "$(jq -c '[.events[].id] | sort' "$T/check.json")" "event ids on re-check"
expect_eq "$(jq -c .new "$T/again.json")" '{"major":0,"minor":0}' "new events on re-check"
expect_eq "$(drift_total major)" 3 "major drift in /metrics after a re-check"
expect_eq "$(api GET /v1/drift/metrics | jq -c '.counters | to_entries | map(.value)')" '[3,0]' "/v1/drift/metrics"

code=$(api POST /v1/drift/check -o "$T/err.json" -w '%{http_code}' \
  -d "$(jq -nc --arg b "$v1" '{baseline_session_id:$b,current_session_id:"sess-nope"}')")
expect_eq "$code" 422 "status for an unknown session"
expect_contains "$(jq -r .error "$T/err.json")" "sess-nope" "unknown session message"
expect_eq "$(api POST /v1/drift/check -o /dev/null -w '%{http_code}' -d '{"baseline_session_id":1}')" 400 "status for a mistyped field"

expect_eq "$(api GET '/v1/drift/events?service_id=default' | jq .count)" 3 "stored events"
id=$(jq -r '.events[] | select(.route == "/health") | .id' "$T/check.json")
expect_eq "$(api GET "/v1/drift/events/$id" | jq -r .route)" /health "one event by id"
code=$(api POST "/v1/drift/events/$id/acknowledge" -o "$T/ack.json" -w '%{http_code}' \
  -d '{"user_id":"jane","reason_text":"expected outage"}')
expect_eq "$code" 200 "status of an ack"
expect_eq "$(jq -r '.acknowledgements[0].user_id' "$T/ack.json")" jane "the audit row's user"
expect_eq "$(api GET '/v1/drift/events?open=true' | jq .count)" 2 "open events after ack"
expect_eq "$(api GET '/v1/drift/events?service_id=default&unacknowledged_only=true' | jq .count)" 2 "unacknowledged_only"
expect_eq "$(api GET "/v1/drift/events/$id" | jq '.acknowledgements | length')" 1 "acknowledgements of the event"

score=$(api GET '/v1/drift/freshness-score?service_id=default')
expect_eq "$(jq .open_drift_event_count <<<"$score")" 2 "score's open count"
expect_eq "$(jq -r .service_id <<<"$score")" default "score's service"
[ "$(jq .freshness_score <<<"$score")" -gt 0 ] || fail "a service recorded just now scores 0: $score"
expect_eq "$(api GET '/v1/drift/freshness-score?service_id=never-recorded' | jq -c '[.freshness_score, .last_recorded_at]')" \
  '[0,null]' "score of a service never recorded"
expect_eq "$(api GET '/v1/drift/sparkline?service_id=default' | jq -c '[.days[] | .major] | add')" 3 "sparkline majors"

expect_eq "$(api GET /v1/drift/events/abc -o /dev/null -w '%{http_code}')" 400 "status for a bad event id"
expect_eq "$(api GET /v1/drift/events/99999 -o /dev/null -w '%{http_code}')" 404 "status for an unknown event"
expect_eq "$(api GET '/v1/drift/events?service_id=../x' -o /dev/null -w '%{http_code}')" 400 "status for an unsafe service id"
expect_eq "$(api DELETE /v1/drift/events -o /dev/null -w '%{http_code}')" 405 "status for a wrong method"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://$CONTROL/v1/drift/events")" 401 "status without a key"
