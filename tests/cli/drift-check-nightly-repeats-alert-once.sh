#!/usr/bin/env bash
# Issue 10 item 9: a cron job re-recording every night against the same baseline must alert once
# per drift. Night 1 finds the planted change (exit 1); nights 2-4 find the same drift again:
# stored as repeats (repeat_of = night 1's event), exit 0, the open count, the score and
# gostly_drift_events_total do not move. Acknowledging night 1's event silences the repeats.
# Checking a current session against another baseline gives that baseline's events, not the
# first baseline's.
source "$(dirname "$0")/common.sh"
for tool in gostly-transition gostly-score; do
  [ -x "$BIN/$tool" ] || skip "$tool is not built yet"
done

session() { # session ID VARIANT > jsonl
  python3 - "$1" "$2" <<'PY'
import json, sys
sid, variant = sys.argv[1], sys.argv[2]
for i in range(12):
    body = {"id": i, "name": "user %d" % i, "email": "u%d@example.com" % i}
    if variant == "v2": del body["email"]
    if variant == "v3": body["tier"] = "gold"
    print(json.dumps({"type": "interaction", "v": 1, "id": "%s-%d" % (sid, i), "service_id": "payments",
        "session_id": sid, "source": "learn", "recorded_at": "2026-06-15T10:00:00.000Z",
        "request": {"method": "GET", "uri": "/users/%d" % i},
        "response": {"status": 200, "body": json.dumps(body)}}))
PY
}
session sess-base v1 >"$T/base.jsonl"
session sess-base2 v3 >"$T/base2.jsonl"
for n in 1 2 3 4; do session "sess-night$n" v2 >"$T/night$n.jsonl"; done
gostly-transition -q --data "$GOSTLY_DATA" "$T"/base.jsonl "$T"/base2.jsonl "$T"/night*.jsonl >/dev/null

check() { # check BASELINE CURRENT -> sets STATUS, output in $T/out.jsonl
  STATUS=0
  timeout 30 gostly-drift check --service payments --baseline "$1" --current "$2" >"$T/out.jsonl" 2>"$T/check.log" || STATUS=$?
}
open_count() { gostly-score --service payments --json | jq .open_drift_event_count; }
score() { gostly-score --service payments --json | jq .freshness_score; }

check sess-base sess-night1
expect_eq "$STATUS" 1 "night 1 exit status"
first=$(jq -r .id "$T/out.jsonl")
expect_eq "$(jq -r '"\(.change_type) \(.severity) \(.repeat_of)"' "$T/out.jsonl")" "field_removed major null" "night 1 event"
score1=$(score)
for n in 2 3 4; do
  check sess-base "sess-night$n"
  expect_eq "$STATUS" 0 "night $n exit status (a repeat is not new)"
  expect_eq "$(jq -r .repeat_of "$T/out.jsonl")" "$first" "night $n repeat_of"
  expect_eq "$(open_count)" 1 "open count after night $n"
  expect_eq "$(score)" "$score1" "score after night $n"
done
expect_eq "$(gostly-drift events --service payments | wc -l)" 4 "stored events (one per night)"
expect_eq "$(gostly-drift events --service payments --open | jq -r 'select(.repeat_of == null) | .id')" "$first" "open first event"

# Another baseline: its own events, with its own diff.
check sess-base2 sess-night1
expect_eq "$STATUS" 1 "exit status against another baseline"
expect_eq "$(jq -r '.baseline_session_id' "$T/out.jsonl")" "sess-base2" "baseline of the events"
expect_eq "$(jq -r '[.diff[] | "\(.signal) \(.field)"] | sort | join(",")' "$T/out.jsonl")" \
  "field_removed email,field_removed tier" "diff against another baseline"

gostly-drift ack "$first" --user cron --reason "tracked in JIRA-1" >/dev/null
expect_eq "$(gostly-drift events --service payments --open | jq -r .baseline_session_id | sort -u)" "sess-base2" \
  "open events after acknowledging the first (its repeats follow)"
