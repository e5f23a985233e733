#!/usr/bin/env bash
# Connection strings follow libpq: a URI with the password, a URI without one plus PGPASSWORD or a
# .pgpass file (PGPASSFILE), key=value pairs; sslmode=require against this non-TLS server fails
# with libpq's reason; a wrong password is exit 2 naming the store without the password. The
# password never shows: not on any tool's stderr (-v), gostly-serve's log, /services, /healthz,
# /metrics, nor in `ps` of the transition worker gostly-serve starts. A --store that is no store
# is a usage error naming the accepted forms.
source "$(dirname "$0")/common.sh"
require_postgres
port=${PG_TEST_URI##*:}
port=${port%%/*}
bare=$(pg_uri_without_password)
pw=$PG_TEST_PASSWORD
[ "${#pw}" -ge 8 ] || fail "the test password '$pw' is too short to search for"
# never_shown FILE WHAT: the password is nowhere in FILE.
never_shown() { ! grep -qF -- "$pw" "$1" || fail "$2 shows the password: $(grep -F -- "$pw" "$1" | head -n 3)"; }

n=0
# import_with WHAT ENV... -- STORE: one record into the store through this connection string.
import_with() {
  local what=$1
  shift
  local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  n=$((n + 1))
  printf '{"type":"interaction","id":"r%s","service_id":"svc","session_id":"s1","recorded_at":"2026-01-01T00:00:00.000Z","request":{"method":"GET","uri":"/r/%s"},"response":{"status":200,"body":"%s"}}\n' \
    "$n" "$n" "$what" >"$T/in$n.jsonl"
  env "${envs[@]}" timeout 20 gostly-transition -v --data "$GOSTLY_DATA" --store "$2" --json "$T/in$n.jsonl" \
    >"$T/import$n.json" 2>"$T/import$n.log" || fail "$what: gostly-transition failed: $(cat "$T/import$n.log")"
  expect_contains "$(cat "$T/import$n.json")" '"added":1' "$what"
  never_shown "$T/import$n.log" "gostly-transition -v ($what)"
}
import_with "URI with the password" -- "$PG_TEST_URI"
import_with "URI and PGPASSWORD" PGPASSWORD="$pw" -- "$bare"
pg_test_pgpass "$T/pgpass"
import_with "URI and .pgpass" PGPASSFILE="$T/pgpass" -- "$bare"
import_with "key=value and PGPASSWORD" PGPASSWORD="$pw" -- "host=127.0.0.1 port=$port dbname=$PG_TEST_DB user=gostly sslmode=disable"
import_with "key=value with password" -- "host=127.0.0.1 port=$port dbname=$PG_TEST_DB user=gostly password=$pw"
expect_eq "$(pg_test_sql 'SELECT count(*) FROM recordings')" "$n" "records written through each form"
[ ! -e "$GOSTLY_DATA/library.db" ] || fail "a PostgreSQL --store wrote $GOSTLY_DATA/library.db"

# sslmode=require: this server has no TLS; libpq's own reason is shown, exit 2, no password.
status=0
PGPASSWORD=$pw timeout 20 gostly-transition --data "$GOSTLY_DATA" --store "$bare?sslmode=require" "$T/in1.jsonl" 2>"$T/ssl.log" || status=$?
expect_eq "$status" 2 "exit status with sslmode=require against a non-TLS server"
expect_contains "$(cat "$T/ssl.log")" "server does not support SSL, but SSL was required" "libpq's reason"
expect_contains "$(cat "$T/ssl.log")" "sslmode=require" "the store named in the message"
status=0
PGSSLMODE=require PGPASSWORD=$pw timeout 20 gostly-transition --data "$GOSTLY_DATA" --store "$bare" "$T/in1.jsonl" 2>"$T/pgssl.log" || status=$?
expect_eq "$status" 2 "exit status with PGSSLMODE=require"
expect_contains "$(cat "$T/pgssl.log")" "SSL was required" "PGSSLMODE is libpq's"

# A wrong password: exit 2, the store named (without any password), libpq's reason.
wrong="wrong-$RANDOM$RANDOM-secret"
wrong_uri="postgresql://gostly:$wrong@127.0.0.1:$port/$PG_TEST_DB"
for tool in "gostly-transition $T/in1.jsonl" "gostly-drift events" "gostly-score" "gostly-export har"; do
  status=0
  # shellcheck disable=SC2086 # the tool and its arguments, split on purpose
  timeout 20 $tool -v --data "$GOSTLY_DATA" --store "$wrong_uri" </dev/null >"$T/wrong.out" 2>"$T/wrong.log" || status=$?
  expect_eq "$status" 2 "$tool: exit status with a wrong password"
  expect_contains "$(cat "$T/wrong.log")" "postgresql://gostly@127.0.0.1:$port/$PG_TEST_DB" "$tool: the store named"
  expect_contains "$(cat "$T/wrong.log")" "password authentication failed" "$tool: libpq's reason"
  ! grep -qF -- "$wrong" "$T/wrong.log" "$T/wrong.out" || fail "$tool prints the wrong password: $(cat "$T/wrong.log")"
done
# gostly-serve refuses to start on a store it cannot reach (it would serve an empty library):
# exit 2, libpq's reason, the store named without the password.
status=0
timeout 20 gostly-serve -v --data "$GOSTLY_DATA" --store "$wrong_uri" --mode MOCK --listen 127.0.0.1:0 \
  --control 127.0.0.1:0 >"$T/serve-wrong.log" 2>&1 || status=$?
expect_eq "$status" 2 "gostly-serve: exit status with a wrong password"
expect_contains "$(cat "$T/serve-wrong.log")" "password authentication failed" "gostly-serve: libpq's reason"
expect_contains "$(cat "$T/serve-wrong.log")" "postgresql://gostly@127.0.0.1:$port/$PG_TEST_DB" "gostly-serve: the store named"
! grep -qF -- "$wrong" "$T/serve-wrong.log" || fail "gostly-serve prints the wrong password: $(cat "$T/serve-wrong.log")"

# Every tool that takes --store, with -v, on the store from GOSTLY_STORE: no password on stderr.
export GOSTLY_STORE=$PG_TEST_URI
jq -nc '{type:"interaction",id:"d1",service_id:"svc",session_id:"s2",recorded_at:"2026-01-02T00:00:00.000Z",
  request:{method:"GET",uri:"/r/1"},response:{status:200,body:"{\"a\":1}"}}' >"$T/s2.jsonl"
gostly-transition -v --data "$GOSTLY_DATA" "$T/s2.jsonl" >"$T/out.txt" 2>"$T/tools.log"
gostly-transition -v --data "$GOSTLY_DATA" --migrate --json >>"$T/out.txt" 2>>"$T/tools.log"
gostly-transition -v --data "$GOSTLY_DATA" --export "$T/lib.tar.gz" >>"$T/out.txt" 2>>"$T/tools.log"
gostly-drift -v check --data "$GOSTLY_DATA" --service svc --baseline s1 --current s2 >>"$T/out.txt" 2>>"$T/tools.log" || true
gostly-drift -v events --data "$GOSTLY_DATA" >>"$T/out.txt" 2>>"$T/tools.log"
gostly-score -v --data "$GOSTLY_DATA" >>"$T/out.txt" 2>>"$T/tools.log"
gostly-export har -v --data "$GOSTLY_DATA" --service svc >>"$T/out.txt" 2>>"$T/tools.log"
expect_contains "$(cat "$T/tools.log")" "postgresql://gostly@127.0.0.1:$port/$PG_TEST_DB" "-v names the store"
never_shown "$T/tools.log" "the tools' stderr (-v)"
never_shown "$T/out.txt" "the tools' stdout"

# gostly-serve, given the store by GOSTLY_STORE: its log, the control API, and the transition
# worker it starts (the store reaches it by environment, never argv where ps shows it).
mkdir -p "$GOSTLY_DATA/traffic"
python3 - "$GOSTLY_DATA/traffic/svc.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as out:
    for i in range(2000):
        out.write(json.dumps({"type": "interaction", "id": f"t{i}", "service_id": "svc", "session_id": "s3",
                              "recorded_at": "2026-01-03T00:00:00.000Z", "request": {"method": "GET", "uri": f"/t/{i}"},
                              "response": {"status": 200, "body": "x" * 200}}) + "\n")
PY
start_serve -v --mode MOCK
for path in /services /services/svc /healthz /metrics /v1/mode /v1/drift/events /v1/drift/freshness-score; do
  api GET "$path" >"$T/control$(echo "$path" | tr / _).out"
  never_shown "$T/control$(echo "$path" | tr / _).out" "GET $path"
done
expect_contains "$(cat "$T/control_services.out")" '"svc"' "/services from PostgreSQL"
expect_eq "$(api POST /v1/transition -o /dev/null -w '%{http_code}' -d '{"action":"run"}')" 202 "transition run accepted"
seen=0 deadline=$((SECONDS + 30))
while api GET /v1/mode | grep -q TRANSITIONING; do
  [ $SECONDS -lt $deadline ] || fail "the transition run never ended"
  ps -eo pid=,args= | grep -F -- "--data=$GOSTLY_DATA" | grep -v grep >>"$T/ps.txt" || true
  [ -s "$T/ps.txt" ] && seen=1
  sleep 0.02
done
[ "$seen" = 1 ] || fail "never saw the transition worker in ps"
expect_contains "$(cat "$T/ps.txt")" "gostly-transition" "the worker in ps"
never_shown "$T/ps.txt" "ps of the transition worker"
expect_eq "$(pg_test_sql "SELECT count(*) FROM recordings WHERE session_id = 's3'")" 2000 "records the worker wrote to PostgreSQL"
ps -o args= -p "$SERVE_PID" >"$T/ps-serve.txt"
never_shown "$T/ps-serve.txt" "ps of gostly-serve"
for path in /services /healthz /metrics; do
  api GET "$path" >"$T/after.out"
  never_shown "$T/after.out" "GET $path after the run"
done
kill "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null || true
never_shown "$T/serve.log" "gostly-serve's log (-v)"

# Not a store at all: a usage error (exit 2) that lists the forms gostly accepts.
for bad in "mysql://x" "nonsense"; do
  status=0
  gostly-transition --data "$GOSTLY_DATA" --store "$bad" "$T/in1.jsonl" 2>"$T/bad.log" || status=$?
  expect_eq "$status" 2 "--store $bad: exit status"
  expect_contains "$(cat "$T/bad.log")" "postgres://" "--store $bad: the accepted forms"
  expect_contains "$(cat "$T/bad.log")" "sqlite:" "--store $bad: the accepted forms"
done
echo "$TEST_NAME: ok"
