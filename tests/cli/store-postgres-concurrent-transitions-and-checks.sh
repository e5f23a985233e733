#!/usr/bin/env bash
# Concurrency on one PostgreSQL store: three gostly-transition runs at once with overlapping and
# distinct interaction ids lose and duplicate nothing (exact row counts, and the same mock index as
# the same inputs give in SQLite); four `gostly-drift check` of the same sessions at once (cron on
# four hosts) store each drift event once and none of them fails.
source "$(dirname "$0")/common.sh"
require_postgres
command -v sqlite3 >/dev/null || skip "sqlite3 not installed"

# in0: a0..a1499 (svc-a), in1: b0..b1499 (svc-b), in2: d0..d1499 (svc-d), and all three share
# c0..c799 (svc-c, the same content). /shared/N is recorded by every file in its own session at its own time, so the mock
# index (the latest session per key) does not depend on which run commits first.
python3 - "$T" <<'PY'
import json, sys
def line(i, svc, sess, uri, at, body):
    return json.dumps({"type": "interaction", "id": i, "service_id": svc, "session_id": sess,
                       "recorded_at": at, "request": {"method": "GET", "uri": uri},
                       "response": {"status": 200, "body": body}}) + "\n"
for f, own in enumerate("abd"):
    with open(f"{sys.argv[1]}/in{f}.jsonl", "w") as out:
        for i in range(1500):
            out.write(line(f"{own}{i}", f"svc-{own}", "s1", f"/{own}/{i}", "2026-01-01T00:00:00.000Z", "x" * 50))
            if i < 800:
                out.write(line(f"c{i}", "svc-c", "s1", f"/c/{i}", "2026-01-01T00:00:00.000Z", f"c{i}"))
            if i < 30:
                out.write(line(f"shared{f}-{i}", "svc-c", f"s{f + 2}", f"/shared/{i}", f"2026-01-0{f + 2}T00:00:00.000Z",
                               f"from file {f}"))
PY
expected_recordings=$((3 * 1500 + 800 + 3 * 30))

# SQLite, one after the other: the reference.
for f in 0 1 2; do gostly-transition -q --data "$T/ref" "$T/in$f.jsonl"; done
mocks_q='SELECT m.service_id, m.match_key, m.ordinal, r.interaction_id FROM mocks m JOIN recordings r ON r.id = m.recording_id'
sqlite3 -separator '|' "$T/ref/library.db" "$mocks_q" | sort >"$T/ref.mocks"
expect_eq "$(sqlite3 "$T/ref/library.db" 'SELECT count(*) FROM recordings')" "$expected_recordings" "SQLite reference recordings"

# PostgreSQL, three at once (and a fourth rerun of in0 that must add nothing).
export GOSTLY_STORE=$PG_TEST_URI
pids=()
for f in 0 1 2 0; do
  timeout 60 gostly-transition --data "$GOSTLY_DATA" --json "$T/in$f.jsonl" >"$T/run${#pids[@]}.out" 2>"$T/run${#pids[@]}.log" &
  pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=$((failed + 1)); done
[ "$failed" -eq 0 ] || { cat "$T"/run*.log >&2; fail "$failed of 4 concurrent transitions failed"; }
added=$(cat "$T"/run*.out | jq -s 'map(.added) | add')
expect_eq "$added" "$expected_recordings" "sum of 'added' over the concurrent runs"
expect_eq "$(pg_test_sql 'SELECT count(*), count(DISTINCT interaction_id) FROM recordings')" \
  "$expected_recordings|$expected_recordings" "recordings in PostgreSQL (all, distinct ids)"
expect_eq "$(pg_test_sql "SELECT service_id, count(*) FROM recordings GROUP BY 1 ORDER BY 1")" \
  "svc-a|1500
svc-b|1500
svc-c|890
svc-d|1500" "recordings per service"
pg_test_sql "$mocks_q" | sort >"$T/pg.mocks"
expect_eq "$(wc -l <"$T/pg.mocks")" "$(wc -l <"$T/ref.mocks")" "mock rows, PostgreSQL vs SQLite"
cmp -s "$T/ref.mocks" "$T/pg.mocks" || { diff "$T/ref.mocks" "$T/pg.mocks" | head >&2; fail "mock index differs from SQLite's"; }

# Drift from four hosts at once on the same sessions: each event stored once.
for s in base cur; do
  for u in 1 2 3; do
    jq -nc --arg s "$s" --arg u "$u" '{type:"interaction",id:"\($s)-\($u)",service_id:"payments",session_id:$s,
      recorded_at:"2026-06-15T10:00:00.000Z",request:{method:"GET",uri:(["/orders/1/items","/customers/2","/invoices/3"][($u|tonumber) - 1])},
      response:{status:200,body:(if $s == "base" then {id:($u|tonumber),total:1,currency:"EUR"} else {id:($u|tonumber),total:"1"} end | tojson)}}'
  done
done >"$T/drift.jsonl"
gostly-transition -q --data "$GOSTLY_DATA" "$T/drift.jsonl"
env -u GOSTLY_STORE gostly-transition -q --data "$T/ref" "$T/drift.jsonl"
env -u GOSTLY_STORE gostly-drift -q check --data "$T/ref" --service payments --baseline base --current cur >/dev/null || true
expected_events=$(sqlite3 "$T/ref/library.db" 'SELECT count(*) FROM drift_events')
[ "$expected_events" -ge 3 ] || fail "the reference check found $expected_events events"
pids=()
for h in 1 2 3 4; do
  timeout 30 gostly-drift -q check --data "$T/host$h" --service payments --baseline base --current cur >"$T/check$h.out" 2>"$T/check$h.log" &
  pids+=($!)
done
for h in 1 2 3 4; do
  status=0
  wait "${pids[$((h - 1))]}" || status=$?
  [ "$status" -le 1 ] || { cat "$T/check$h.log" >&2; fail "drift check on host $h exited $status"; }
done
expect_eq "$(pg_test_sql 'SELECT count(*) FROM drift_events')" "$expected_events" "drift events after four concurrent checks"
expect_eq "$(pg_test_sql 'SELECT count(*) FROM (SELECT DISTINCT service_id, route, method, change_type FROM drift_events) d')" \
  "$expected_events" "distinct drift events"
ref_events=$(sqlite3 "$T/ref/library.db" 'SELECT route, method, change_type, severity FROM drift_events' | sort)
expect_eq "$(pg_test_sql 'SELECT route, method, change_type, severity FROM drift_events' | sort)" "$ref_events" "events vs SQLite's"
echo "$TEST_NAME: ok"
