#!/usr/bin/env bash
# gostly-drift's --data and --store are given per subcommand; one given on the command line wins
# over GOSTLY_DATA / GOSTLY_STORE for the subcommand that runs (the environment once overwrote it
# through the options of the other subcommands, which share the variable).
source "$(dirname "$0")/common.sh"
for s in s1 s2; do
  jq -nc --arg s "$s" '{type:"interaction",id:"\($s)-1",service_id:"payments",session_id:$s,
    recorded_at:"2026-06-15T10:00:00.000Z",request:{method:"GET",uri:"/users/1"},
    response:{status:200,body:(if $s == "s1" then {id:1,name:"a"} else {id:1} end | tojson)}}'
done >"$T/in.jsonl"
gostly-transition -q --data "$T/lib" "$T/in.jsonl"
export GOSTLY_DATA=$T/elsewhere
status=0
gostly-drift -q check --data "$T/lib" --service payments --baseline s1 --current s2 >"$T/check.json" 2>"$T/check.log" || status=$?
[ "$status" -le 1 ] || fail "check with --data under GOSTLY_DATA exited $status: $(cat "$T/check.log")"
id=$(jq .id "$T/check.json")
expect_eq "$(gostly-drift events --data "$T/lib" | jq -s -c '[.[].id]')" "[$id]" "events --data"
gostly-drift ack "$id" --data "$T/lib" --user ana --reason why >/dev/null
expect_eq "$(gostly-drift show "$id" --data "$T/lib" | jq -r '.acknowledgements[0].user_id')" ana "show --data"
expect_contains "$(gostly-drift sessions --data "$T/lib" --service payments --json)" '"s2"' "sessions --data"
[ ! -e "$T/elsewhere/library.db" ] || fail "a subcommand used GOSTLY_DATA over --data"
# --store over GOSTLY_STORE, the same way.
GOSTLY_STORE="sqlite:$T/nowhere.db" gostly-drift events --data "$T/x" --store "sqlite:$T/lib/library.db" >"$T/events.json" ||
  fail "events with --store under GOSTLY_STORE failed"
expect_eq "$(jq -s -c '[.[].id]' "$T/events.json")" "[$id]" "events --store"
[ ! -e "$T/nowhere.db" ] || fail "GOSTLY_STORE won over --store"
echo "$TEST_NAME: ok"
