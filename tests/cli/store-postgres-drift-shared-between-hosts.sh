#!/usr/bin/env bash
# Drift checked from several cron hosts on one PostgreSQL store: two data directories (two hosts,
# each with its own mode.txt and traffic/) share the events and their acknowledgements. An event
# found from host A is listed with the same id on host B, an ack given on B is seen on A, and the
# database itself refuses to edit or delete an acknowledgement (append-only by trigger).
source "$(dirname "$0")/common.sh"
require_postgres
export GOSTLY_STORE=$PG_TEST_URI
A=$T/host-a B=$T/host-b

for s in s1 s2; do
  for u in 1 2; do
    jq -nc --arg s "$s" --arg u "$u" '{type:"interaction",v:1,id:"\($s)-\($u)",service_id:"payments",session_id:$s,
      source:"learn",recorded_at:"2026-06-15T10:00:00.000Z",request:{method:"GET",uri:"/users/\($u)"},
      response:{status:200,body:(if $s == "s1" then {id:($u|tonumber),name:"a",email:"x"} else {id:($u|tonumber)} end | tojson)}}'
  done >"$T/$s.jsonl"
done
gostly-transition -q --data "$A" "$T/s1.jsonl" "$T/s2.jsonl"

# Host A checks; host B lists the same events by id.
status=0
gostly-drift -q check --data "$A" --service payments --baseline s1 --current s2 --fail-on major >"$T/check-a.json" || status=$?
expect_eq "$status" 1 "drift check exit status on host A (major drift found)"
ids_a=$(jq -s -c '[.[].id] | sort' "$T/check-a.json")
[ "$ids_a" != "[]" ] || fail "host A stored no event"
expect_eq "$(pg_test_sql "SELECT count(*) FROM drift_events")" "$(jq -s length "$T/check-a.json")" "events in PostgreSQL"
gostly-drift events --data "$B" --service payments | jq -s . >"$T/events-b.json"
expect_eq "$(jq -c '[.[].id] | sort' "$T/events-b.json")" "$ids_a" "event ids seen from host B"
for dir in "$A" "$B"; do
  [ ! -e "$dir/library.db" ] || fail "$dir/library.db was written next to a PostgreSQL store"
done

# Host B checks the same sessions again: the same drift is not stored twice.
gostly-drift -q check --data "$B" --service payments --baseline s1 --current s2 >/dev/null || true
expect_eq "$(pg_test_sql "SELECT count(*) FROM drift_events")" "$(jq -s length "$T/check-a.json")" "events after host B's check"

# An ack from A is seen from B, with who and why.
id=$(jq -r '.[0].id' "$T/events-b.json")
gostly-drift ack "$id" --data "$A" --user ana --reason JIRA-1234 >/dev/null
shown=$(gostly-drift show "$id" --data "$B")
expect_eq "$(jq -c '[.acknowledgements[] | [.user_id, .reason_text]]' <<<"$shown")" '[["ana","JIRA-1234"]]' "audit rows on host B"
[ "$(jq -r .acknowledged_at <<<"$shown")" != null ] || fail "host B sees the event as open"
open_b=$(gostly-drift events --data "$B" --service payments --open | jq -s -c '[.[].id]')
case ",$(jq -r 'join(",")' <<<"$open_b")," in *",$id,"*) fail "host B lists acknowledged event $id as open: $open_b" ;; esac

# Append-only, enforced by the database: neither an UPDATE nor a DELETE (nor TRUNCATE) gets through.
for sql in "UPDATE drift_acknowledgements SET user_id = 'mallory'" "DELETE FROM drift_acknowledgements" \
  "TRUNCATE drift_acknowledgements CASCADE"; do
  not pg_test_sql "$sql" >/dev/null 2>"$T/refused.log" || fail "the database accepted: $sql"
  expect_contains "$(cat "$T/refused.log")" "append-only" "refusal of: $sql"
done
expect_eq "$(pg_test_sql "SELECT user_id, reason FROM drift_acknowledgements")" "ana|JIRA-1234" "acknowledgements after the refused edits"
echo "$TEST_NAME: ok"
