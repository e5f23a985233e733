# Sourced by every tests/cli/*.sh: real processes on loopback, a private temporary directory,
# cleanup of everything started, and the failing line printed on error (mold's common.inc).
# Exit 77 = skipped (CTest SKIP_RETURN_CODE; not 125, which gostly-record returns when it fails).
set -euo pipefail
export LC_ALL=C
# ctest passes its own standard input on; tools that read a piped stdin by default
# (gostly-transition without inputs) must see none unless a test pipes it in.
exec </dev/null
BIN=${GOSTLY_BIN:?GOSTLY_BIN must point at the built binaries}
export PATH="$BIN:$PATH"
SRC=${GOSTLY_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
FIXTURES=${GOSTLY_FIXTURES:-$SRC/tests/fixtures}
TEST_NAME=$(basename "$0" .sh)
T=$(mktemp -d "/tmp/gostly-$TEST_NAME.XXXXXX")
export GOSTLY_DATA="$T/data"
export GHOST_API_KEY="test-key-$RANDOM$RANDOM"
unset NO_COLOR BACKEND_URL REDACT_HEADERS 2>/dev/null || true
PIDS=()
# Commands cleanup() evals after the processes in PIDS are gone (e.g. dropping a test database).
CLEANUP_CMDS=()

cleanup() {
  local status=$? c
  # A rerun on PostgreSQL that wrote a library.db did not run on PostgreSQL.
  if [ $status -eq 0 ] && [ "${GOSTLY_TEST_ENGINE:-}" = postgres ] && [ -e "$GOSTLY_DATA/library.db" ]; then
    echo "$TEST_NAME: FAIL: GOSTLY_TEST_ENGINE=postgres, but $GOSTLY_DATA/library.db was written" >&2
    status=1
  fi
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && wait "$pid" 2>/dev/null || true; done
  for c in "${CLEANUP_CMDS[@]:-}"; do [ -n "$c" ] && { eval "$c" || true; }; done
  if [ $status -ne 0 ] && [ $status -ne 77 ]; then
    echo "--- $TEST_NAME failed (status $status); logs in $T:" >&2
    for f in "$T"/*.log; do [ -f "$f" ] && { echo "== $f" >&2; tail -n 30 "$f" >&2; }; done
  else
    rm -rf "$T"
  fi
  exit $status
}
trap cleanup EXIT
trap 'echo "$TEST_NAME: line $LINENO: command failed: $BASH_COMMAND" >&2' ERR

fail() { echo "$TEST_NAME: FAIL: $*" >&2; exit 1; }
skip() { echo "$TEST_NAME: skipped: $*" >&2; exit 77; }
# not CMD...: succeeds when CMD fails.
not() { if "$@"; then return 1; else return 0; fi; }

# expect_eq ACTUAL EXPECTED WHAT
expect_eq() { [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"; }
# expect_contains HAYSTACK NEEDLE WHAT
expect_contains() { case "$1" in *"$2"*) ;; *) fail "$3: '$2' not found in: $1" ;; esac; }

# wait_for_port HOST:PORT [seconds]: poll every 50 ms until a TCP connect succeeds.
wait_for_port() {
  local addr=$1 deadline=$((SECONDS + ${2:-10}))
  while ! (exec 3<>"/dev/tcp/${addr%:*}/${addr##*:}") 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || fail "nothing listening on $addr"
    sleep 0.05
  done
}

# wait_for_log FILE REGEX [seconds]: wait until FILE has a line matching REGEX; prints the match.
wait_for_log() {
  local file=$1 regex=$2 deadline=$((SECONDS + ${3:-10}))
  while ! grep -Eq "$regex" "$file" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || fail "no '$regex' in $file"
    sleep 0.05
  done
  grep -Eo "$regex" "$file" | head -n 1
}

# bound_address LOGFILE [label]: the HOST:PORT a server printed as "listening on HOST:PORT".
bound_address() {
  local line
  line=$(wait_for_log "$1" "${2:-listening on} [0-9.]+:[0-9]+")
  echo "${line##* }"
}

# start_upstream DIR: a real HTTP server (Python's http.server) serving DIR; sets UPSTREAM.
start_upstream() {
  local dir=$1 port
  : >"$T/upstream.log" # here, not in the background child: see start_serve
  python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$dir" >>"$T/upstream.log" 2>&1 &
  PIDS+=($!)
  UPSTREAM_PID=$!
  line=$(wait_for_log "$T/upstream.log" "port [0-9]+")
  port=${line##* }
  UPSTREAM="http://127.0.0.1:$port"
  wait_for_port "127.0.0.1:$port"
}

# make_test_tls NAME: a test CA ($T/ca.crt, $T/ca.key, made once) and a leaf for 127.0.0.1 and
# localhost signed by it ($T/NAME.crt, $T/NAME.key), valid for a day (openssl).
make_test_tls() {
  local name=$1
  if [ ! -f "$T/ca.crt" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=gostly test CA" \
      -keyout "$T/ca.key" -out "$T/ca.crt" 2>>"$T/openssl.log"
  fi
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$T/$name.key" -out "$T/$name.csr" 2>>"$T/openssl.log"
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$T/$name.ext"
  openssl x509 -req -in "$T/$name.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial -days 1 \
    -extfile "$T/$name.ext" -out "$T/$name.crt" 2>>"$T/openssl.log"
}

# start_api_upstream [ARGS...]: the example JSON API (examples/upstream.py, a real Python HTTP
# server with GET/POST/PATCH/DELETE on /users and /posts); sets UPSTREAM and UPSTREAM_PID.
# With --tls-cert/--tls-key it serves HTTPS and UPSTREAM is an https:// URL.
start_api_upstream() {
  : >"$T/upstream.log" # here, not in the background child: see start_serve
  python3 -u "$SRC/examples/upstream.py" --port 0 "$@" >>"$T/upstream.log" 2>&1 &
  UPSTREAM_PID=$!
  PIDS+=($UPSTREAM_PID)
  local addr scheme=http
  case " $* " in *" --tls-cert "*) scheme=https ;; esac
  addr=$(bound_address "$T/upstream.log")
  UPSTREAM="$scheme://$addr"
  wait_for_port "$addr"
}

# start_serve [ARGS...]: gostly-serve on free ports; sets PROXY and CONTROL (HOST:PORT).
start_serve() {
  # With interception on, the TLS listener's default 127.0.0.1:8443 would collide between tests.
  local tls=()
  case " $* " in
  *" --tls-listen "*) ;;
  *) case "${ENABLE_TLS_INTERCEPTION:-}" in "" | false | 0 | off | no) ;; *) tls=(--tls-listen 127.0.0.1:0) ;; esac ;;
  esac
  # The log is emptied here: a redirection of a background command runs in the child, after the
  # fork, so on a restart bound_address could read the previous server's address before it.
  : >"$T/serve.log"
  gostly-serve --data "$GOSTLY_DATA" --listen 127.0.0.1:0 --control 127.0.0.1:0 "${tls[@]}" "$@" >>"$T/serve.log" 2>&1 &
  SERVE_PID=$!
  PIDS+=($SERVE_PID)
  PROXY=$(bound_address "$T/serve.log" "proxy listening on")
  CONTROL=$(bound_address "$T/serve.log" "control listening on")
  wait_for_port "$PROXY"
}

# api METHOD PATH [curl args...]: a control API call with the key; prints the body.
api() {
  local method=$1 path=$2
  shift 2
  curl -sS -X "$method" "http://$CONTROL$path" -H "X-API-Key: $GHOST_API_KEY" "$@"
}

# make_test_ca: a test CA ($T/test-ca.crt/.key) and a leaf for 127.0.0.1 and localhost signed by it
# ($T/test-leaf.crt/.key), EC P-256, valid for a day: a real TLS upstream for HTTPS tests.
make_test_ca() {
  command -v openssl >/dev/null || skip "openssl not installed"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=gostly test CA" \
    -keyout "$T/test-ca.key" -out "$T/test-ca.crt" 2>"$T/openssl.log"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$T/test-leaf.key" -out "$T/test-leaf.csr" 2>>"$T/openssl.log"
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$T/test-leaf.ext"
  openssl x509 -req -in "$T/test-leaf.csr" -CA "$T/test-ca.crt" -CAkey "$T/test-ca.key" -CAcreateserial -days 1 \
    -extfile "$T/test-leaf.ext" -out "$T/test-leaf.crt" 2>>"$T/openssl.log"
}

# metric NAME_WITH_LABELS: the value of one line of the control API's /metrics (empty when absent).
metric() {
  api GET /metrics | awk -v name="$1" '$1 == name { print $2 }'
}

# node_client NAME: path of a pinned Node client from scripts/node (newman, validate-api), installed
# by scripts/install-deps.sh; skips the test, saying so, when it is not there.
node_client() {
  local exe="$SRC/scripts/node/node_modules/.bin/$1"
  [ -x "$exe" ] || skip "$1 not installed (scripts/install-deps.sh runs npm ci in scripts/node)"
  command -v node >/dev/null || skip "node not installed"
  echo "$exe"
}

# require_postgres: a fresh, empty database on the throwaway PostgreSQL server that the ctest
# fixture "postgres" starts (tests/postgres/server.sh, its directory in GOSTLY_TEST_POSTGRES_DIR);
# skips the test with the server's reason when it is unavailable. Sets and exports:
#   PG_TEST_URI       postgresql://gostly:PASSWORD@127.0.0.1:PORT/DB (TCP, SCRAM)
#   PG_TEST_PASSWORD  the password alone (for PGPASSWORD/.pgpass tests with pg_uri_without_password)
#   PG_TEST_DB        the database name
# The developer's PG* variables and ~/.pgpass are not used. The database is dropped at exit.
require_postgres() {
  local dir=${GOSTLY_TEST_POSTGRES_DIR:-}
  [ -n "$dir" ] || skip "PostgreSQL unavailable: GOSTLY_TEST_POSTGRES_DIR is not set (ctest sets it; the 'postgres' fixture starts the server)"
  [ ! -f "$dir/unavailable" ] || skip "PostgreSQL unavailable: $(cat "$dir/unavailable")"
  [ -f "$dir/conninfo" ] || skip "PostgreSQL unavailable: no $dir/conninfo (the 'postgres: start' fixture did not run)"
  unset PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGPASSWORD PGSERVICE PGSERVICEFILE PGSSLMODE PGOPTIONS
  export PGPASSFILE="$T/no-pgpass"
  PG_PSQL=$(cat "$dir/bindir" 2>/dev/null)/psql
  [ -x "$PG_PSQL" ] || PG_PSQL=psql
  PG_ADMIN_URI=$(cat "$dir/conninfo")
  # A name of [a-z0-9_], unique per run, within PostgreSQL's 63 bytes.
  local name
  name=$(printf '%s' "$TEST_NAME" | tr 'A-Z' 'a-z' | tr -c 'a-z0-9_' _)
  PG_TEST_DB="t_${name:0:40}_$$_$RANDOM"
  timeout 30 "$PG_PSQL" -X -q -v ON_ERROR_STOP=1 -d "$PG_ADMIN_URI" -c "CREATE DATABASE \"$PG_TEST_DB\"" >"$T/pg-create.log" 2>&1 ||
    fail "cannot create database $PG_TEST_DB on the test server: $(cat "$T/pg-create.log")"
  CLEANUP_CMDS+=("pg_drop_test_db")
  PG_TEST_URI="${PG_ADMIN_URI%/*}/$PG_TEST_DB"
  PG_TEST_PASSWORD=${PG_ADMIN_URI#postgresql://*:}
  PG_TEST_PASSWORD=${PG_TEST_PASSWORD%%@*}
  export PG_TEST_URI PG_TEST_PASSWORD PG_TEST_DB
}

# pg_drop_test_db: cleanup of require_postgres; FORCE ends connections a killed process left.
pg_drop_test_db() {
  timeout 30 "$PG_PSQL" -X -q -d "$PG_ADMIN_URI" -c "DROP DATABASE IF EXISTS \"$PG_TEST_DB\" WITH (FORCE)" >/dev/null 2>&1
}

# pg_test_sql SQL: runs SQL in the test database; prints unaligned rows, '|' between columns.
pg_test_sql() {
  timeout 30 "$PG_PSQL" -X -q -A -t -v ON_ERROR_STOP=1 -d "$PG_TEST_URI" -c "$1"
}

# pg_uri_without_password: PG_TEST_URI without the password (postgresql://gostly@127.0.0.1:PORT/DB),
# for the tests that give the password by PGPASSWORD or a .pgpass file (pg_test_pgpass).
pg_uri_without_password() {
  printf '%s\n' "$PG_TEST_URI" | sed -E 's#^(postgresql://[^:@/]+):[^@]*@#\1@#'
}

# pg_test_pgpass FILE: writes a libpq password file (mode 0600) for the test database to FILE;
# use it with PGPASSFILE=FILE and pg_uri_without_password.
pg_test_pgpass() {
  local hostport=${PG_TEST_URI#*@}
  hostport=${hostport%%/*}
  (umask 077 && printf '%s:%s:%s:gostly:%s\n' "${hostport%:*}" "${hostport##*:}" "$PG_TEST_DB" "$PG_TEST_PASSWORD" >"$1")
}

# GOSTLY_TEST_ENGINE=postgres (ctest's "cli-postgres: <name>" reruns, tests/CMakeLists.txt): the
# whole script runs on a fresh PostgreSQL database: every tool finds it in GOSTLY_STORE.
case "${GOSTLY_TEST_ENGINE:-sqlite}" in
sqlite) ;;
postgres)
  require_postgres
  export GOSTLY_STORE=$PG_TEST_URI
  ;;
*) fail "GOSTLY_TEST_ENGINE=$GOSTLY_TEST_ENGINE: expected sqlite or postgres" ;;
esac

# library_sql SQL: runs SQL on the library of whichever engine the script runs on (data/library.db,
# or the test database of a cli-postgres rerun), so one script checks both; unaligned rows with
# '|' between columns on both.
library_sql() {
  if [ "${GOSTLY_TEST_ENGINE:-sqlite}" = postgres ]; then
    pg_test_sql "$1"
  else
    [ -e "$GOSTLY_DATA/library.db" ] || fail "library_sql: no $GOSTLY_DATA/library.db"
    sqlite3 "$GOSTLY_DATA/library.db" "$1"
  fi
}
