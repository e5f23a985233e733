#!/usr/bin/env bash
# gostly-drift show ID prints one event with its acknowledgements: a re-ack appends a second
# audit row (who and why) and the event keeps the first acknowledgement's time; an unknown or
# malformed id is exit 2.
source "$(dirname "$0")/common.sh"
[ -x "$BIN/gostly-transition" ] || skip "gostly-transition is not built yet"

for s in s1 s2; do
  jq -nc --arg s "$s" '{type:"interaction",v:1,id:"\($s)-1",service_id:"payments",session_id:$s,source:"learn",
    recorded_at:"2026-06-15T10:00:00.000Z",request:{method:"GET",uri:"/users/1"},
    response:{status:200,body:(if $s == "s1" then {id:1,name:"a"} else {id:1} end | tojson)}}' >"$T/$s.jsonl"
done
gostly-transition -q --data "$GOSTLY_DATA" "$T/s1.jsonl" "$T/s2.jsonl"
id=$(gostly-drift -q check --service payments --baseline s1 --current s2 --fail-on major | jq .id) || true
[ -n "$id" ] || fail "no event stored"

expect_eq "$(gostly-drift show "$id" | jq -c '[.route, .change_type, .acknowledged_at, (.acknowledgements | length)]')" \
  '["/users/{id}","field_removed",null,0]' "an open event"
gostly-drift ack "$id" --user jane --reason "expected v3 migration" >/dev/null
first=$(gostly-drift show "$id" | jq -r .acknowledged_at)
gostly-drift ack "$id" --user joe --reason "still expected" >/dev/null
shown=$(gostly-drift show "$id")
expect_eq "$(jq -r .acknowledged_at <<<"$shown")" "$first" "acknowledged_at after a re-ack"
expect_eq "$(jq -c '[.acknowledgements[] | [.user_id, .reason_text]]' <<<"$shown")" \
  '[["jane","expected v3 migration"],["joe","still expected"]]' "audit rows"
expect_eq "$(jq -r '.acknowledgements[0].acknowledged_at' <<<"$shown")" "$first" "first audit row's time"

status=0
gostly-drift show 999 >/dev/null 2>"$T/err" || status=$?
expect_eq "$status" 2 "exit status for an unknown event"
expect_contains "$(cat "$T/err")" "no drift event with id 999" "unknown event message"
status=0
gostly-drift show abc >/dev/null 2>&1 || status=$?
expect_eq "$status" 2 "exit status for a malformed id"
