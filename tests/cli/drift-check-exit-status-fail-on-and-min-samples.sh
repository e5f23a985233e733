#!/usr/bin/env bash
# gostly-drift check's exit status is what cron and CI act on: 1 only for *new* drift (a re-check
# and a repeat of the same drift in a later session are 0), --fail-on major ignores new minor drift, and the status-family signal waits for
# GOSTLY_DRIFT_MIN_BEHAVIORAL_SAMPLES answers on each side (default 10).
source "$(dirname "$0")/common.sh"
[ -x "$BIN/gostly-transition" ] || skip "gostly-transition is not built yet"

session() { # session ID HEALTH_STATUS USER_EXTRA: 5 /health answers and 5 /users/N answers
  local n
  for n in 1 2 3 4 5; do
    jq -nc --arg s "$1" --argjson n "$n" --argjson st "$2" \
      '{type:"interaction",v:1,id:"\($s)-h\($n)",service_id:"payments",session_id:$s,source:"learn",
        recorded_at:"2026-06-15T10:00:00.000Z",request:{method:"GET",uri:"/health"},
        response:{status:$st,body:"{\"status\":\"ok\"}"}}'
    jq -nc --arg s "$1" --argjson n "$n" --argjson extra "$3" \
      '{type:"interaction",v:1,id:"\($s)-u\($n)",service_id:"payments",session_id:$s,source:"learn",
        recorded_at:"2026-06-15T10:00:00.000Z",request:{method:"GET",uri:"/users/\($n)"},
        response:{status:200,body:({id:$n} + $extra | tojson)}}'
  done >"$T/$1.jsonl"
  gostly-transition -q --data "$GOSTLY_DATA" "$T/$1.jsonl"
}
session base 200 '{}'
session tier 200 '{"tier":"gold"}'
session tier-again 200 '{"tier":"gold"}'
session tier-nick 200 '{"tier":"gold","nick":"x"}'
session down 500 '{}'

check() { # check CURRENT [ARGS...]: prints the exit status
  local current=$1 status=0
  shift
  gostly-drift -q check --service payments --baseline base --current "$current" "$@" >"$T/out" || status=$?
  echo "$status"
}
expect_eq "$(check tier --fail-on major)" 0 "new minor drift with --fail-on major"
expect_eq "$(jq -r '"\(.change_type) \(.severity)"' "$T/out")" "field_added minor" "the minor event"
expect_eq "$(check tier)" 0 "re-check of stored minor drift"
expect_eq "$(check tier-again)" 0 "the same drift in a later session (a repeat)"
expect_eq "$(jq -r '.repeat_of != null' "$T/out")" true "the repeat names the first event"
expect_eq "$(check tier-nick)" 1 "new minor drift"

expect_eq "$(check down)" 0 "a 200 -> 500 move on 5 answers per side (below the default 10)"
expect_eq "$(wc -c <"$T/out")" 0 "events below the minimum sample"
export GOSTLY_DRIFT_MIN_BEHAVIORAL_SAMPLES=5
expect_eq "$(check down --fail-on major)" 1 "new major drift with a minimum of 5"
expect_eq "$(jq -r '"\(.change_type) \(.severity)"' "$T/out")" "status_changed major" "the status event"
expect_eq "$(check down --fail-on major)" 0 "re-check of stored major drift"
GOSTLY_DRIFT_MIN_BEHAVIORAL_SAMPLES=0 gostly-drift check --service payments --baseline base --current down \
  >/dev/null 2>"$T/err" && fail "a minimum of 0 was accepted"
expect_contains "$(cat "$T/err")" "GOSTLY_DRIFT_MIN_BEHAVIORAL_SAMPLES" "bad minimum message"
