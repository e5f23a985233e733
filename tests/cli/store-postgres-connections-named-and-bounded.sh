#!/usr/bin/env bash
# Every PostgreSQL connection gostly opens is named and bounded. pg_stat_activity shows who is
# connected (gostly-serve and its LISTEN connection: an operator sees who holds the writer lock
# or a connection slot), unless the user's own application_name says otherwise. A server that
# accepts the TCP connection and then says nothing (a hung host, a black-holed proxy) makes the
# tools give up after a connect timeout (10 s unless connect_timeout or PGCONNECT_TIMEOUT say
# otherwise) with exit 2, instead of hanging a cron job for ever.
source "$(dirname "$0")/common.sh"
require_postgres
export GOSTLY_STORE_POLL_SECONDS=60

printf '{"type":"interaction","id":"a1","request":{"method":"GET","uri":"/one"},"response":{"status":200,"body":"one"}}\n' >"$T/in.jsonl"
timeout 60 gostly-transition --store "$PG_TEST_URI" "$T/in.jsonl" 2>"$T/transition.log" || fail "transition: $(cat "$T/transition.log")"

# names_connected: the application names of the client backends on the test database.
names_connected() {
  pg_test_sql "SELECT string_agg(application_name, ',' ORDER BY application_name) FROM pg_stat_activity
               WHERE datname = current_database() AND pid <> pg_backend_pid()"
}
# wait_for_name NAME: until NAME is connected (the LISTEN connection is made by a thread).
wait_for_name() {
  for _ in $(seq 100); do
    case ",$(names_connected)," in *",$1,"*) return 0 ;; esac
    sleep 0.05
  done
  fail "no connection named '$1' on the store; connected: $(names_connected)"
}

start_serve --store "$PG_TEST_URI" --mode MOCK
expect_eq "$(curl -s --max-time 5 "http://$PROXY/one")" one "MOCK from PostgreSQL"
wait_for_name "gostly-serve library watcher"
wait_for_name "gostly-serve" # the connection the watcher reloads through
kill "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null || true

# The user's application_name wins over gostly's.
mv "$T/serve.log" "$T/serve-default.log"
start_serve --store "$PG_TEST_URI?application_name=ci-runner-7" --mode MOCK
wait_for_name "ci-runner-7"
case ",$(names_connected)," in *gostly*) fail "gostly's name overrode the user's: $(names_connected)" ;; esac
kill "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null || true

# A silent server: the kernel completes the TCP handshake (listen backlog), nobody ever answers.
/usr/bin/python3 - "$T/silent.port" <<'PY' &
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
time.sleep(120)
PY
PIDS+=($!)
for _ in $(seq 100); do [ -s "$T/silent.port" ] && break; sleep 0.05; done
silent="postgresql://gostly:never-shown-secret@127.0.0.1:$(cat "$T/silent.port")/gostly"

# try_silent WHAT MIN MAX ENV... -- ARGS...: gostly-transition on the silent server exits 2 after
# between MIN and MAX seconds, naming the store and libpq's timeout, never the password.
try_silent() {
  local what=$1 min=$2 max=$3 envs=() status=0 started elapsed
  shift 3
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  started=$(date +%s%N)
  env "${envs[@]}" timeout 60 gostly-transition --store "$@" "$T/in.jsonl" 2>"$T/silent.log" || status=$?
  elapsed=$((($(date +%s%N) - started) / 1000000))
  expect_eq "$status" 2 "$what: exit status"
  [ "$elapsed" -ge $((min * 1000)) ] && [ "$elapsed" -le $((max * 1000)) ] ||
    fail "$what: gave up after $elapsed ms, expected $min-$max s"
  expect_contains "$(cat "$T/silent.log")" "timeout expired" "$what: libpq's reason"
  expect_contains "$(cat "$T/silent.log")" "127.0.0.1:$(cat "$T/silent.port")" "$what: the store named"
  ! grep -q never-shown-secret "$T/silent.log" || fail "$what: the password shown: $(cat "$T/silent.log")"
}
try_silent "connect_timeout=2 in the URI" 1 6 PGCONNECT_TIMEOUT= -- "$silent?connect_timeout=2"
try_silent "PGCONNECT_TIMEOUT=2" 1 6 PGCONNECT_TIMEOUT=2 -- "$silent"
try_silent "the default" 8 16 PGCONNECT_TIMEOUT= -- "$silent"
echo "$TEST_NAME: ok"
