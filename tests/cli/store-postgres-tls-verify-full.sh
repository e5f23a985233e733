#!/usr/bin/env bash
# TLS to the team store, as libpq does it: a TLS-only PostgreSQL of this test's own
# (tests/postgres/server.sh start DIR --tls: a test CA, hostssl-only pg_hba) refuses a plain
# connection; sslmode=verify-full with sslrootcert works in a URI, in key=value pairs and from
# PGSSLMODE/PGSSLROOTCERT; verify-full checks the host name; a wrong CA is exit 2 for
# gostly-transition (nothing written) and gostly-serve, naming the store without its password and
# giving libpq's reason. gostly-serve (MOCK, sslrootcert relative to its directory) answers from
# the TLS store, its LISTEN connection is TLS (pg_stat_ssl), and a transition is served within
# seconds through NOTIFY (the poll interval is 60 s).
source "$(dirname "$0")/common.sh"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY no_proxy NO_PROXY ALL_PROXY all_proxy 2>/dev/null || true
command -v openssl >/dev/null || skip "openssl not installed"
unset PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGPASSWORD PGSERVICE PGSERVICEFILE PGSSLMODE PGSSLROOTCERT \
  PGSSLCERT PGSSLKEY PGSSLCRL PGOPTIONS PGAPPNAME
export PGPASSFILE="$T/no-pgpass" HOME="$T" # no ~/.postgresql/root.crt of the developer's
export GOSTLY_STORE_POLL_SECONDS=60

# This test's own server: the shared fixture's is plain.
PG="$T/pg"
CLEANUP_CMDS+=("timeout 60 bash '$SRC/tests/postgres/server.sh' stop '$PG' >/dev/null 2>&1")
timeout 60 bash "$SRC/tests/postgres/server.sh" start "$PG" --tls >"$T/pg-start.log" 2>&1 ||
  fail "server.sh start --tls: $(cat "$T/pg-start.log")"
[ ! -f "$PG/unavailable" ] || skip "PostgreSQL unavailable: $(cat "$PG/unavailable")"
for f in conninfo ca.pem; do
  [ -f "$PG/$f" ] || fail "server.sh start --tls wrote no $PG/$f: $(cat "$T/pg-start.log")"
done
PSQL=$(cat "$PG/bindir")/psql
CA="$PG/ca.pem"
admin=$(cat "$PG/conninfo")
pw=${admin#postgresql://*:}
pw=${pw%%@*}
port=${admin##*:}
port=${port%%/*}
[ "${#pw}" -ge 8 ] || fail "the test password '$pw' is too short to search for"
base="postgresql://gostly:$pw@127.0.0.1:$port/tls"
shown="postgresql://gostly@127.0.0.1:$port/tls"
verify="sslmode=verify-full&sslrootcert=$CA"
timeout 20 "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$admin?$verify" -c 'CREATE DATABASE tls' >"$T/psql.log" 2>&1 ||
  fail "CREATE DATABASE over TLS: $(cat "$T/psql.log")"
sql() { timeout 20 "$PSQL" -X -q -A -t -v ON_ERROR_STOP=1 -d "$base?$verify" -c "$1"; }
never_shown() { ! grep -qF -- "$pw" "$1" || fail "$2 shows the password: $(grep -F -- "$pw" "$1" | head -n 3)"; }

# The server really refuses a plain connection (so every success below was TLS).
status=0
timeout 20 "$PSQL" -X -d "$base?sslmode=disable" -c 'SELECT 1' >"$T/plain.log" 2>&1 || status=$?
[ "$status" -ne 0 ] || fail "psql sslmode=disable connected to the TLS-only server"
expect_contains "$(cat "$T/plain.log")" "no encryption" "the plain connection refused by pg_hba"

line() { printf '{"type":"interaction","v":1,"id":"%s","service_id":"default","request":{"method":"GET","uri":"%s"},"response":{"status":200,"body":"%s"}}\n' "$1" "$2" "$3"; }
n=0
# import WHAT STORE [ENV...]: one recording (/rN answers WHAT's number) through this store string.
import() {
  local what=$1 store=$2
  shift 2
  n=$((n + 1))
  line "r$n" "/r$n" "body$n" >"$T/in$n.jsonl"
  env "$@" timeout 20 gostly-transition -v --data "$GOSTLY_DATA" --store "$store" --json "$T/in$n.jsonl" \
    >"$T/import$n.json" 2>"$T/import$n.log" || fail "$what: gostly-transition failed: $(cat "$T/import$n.log")"
  expect_contains "$(cat "$T/import$n.json")" '"added":1' "$what"
  never_shown "$T/import$n.log" "gostly-transition -v ($what)"
}
import "URI, sslmode=verify-full" "$base?$verify"
import "key=value, sslmode=verify-full" "host=127.0.0.1 port=$port dbname=tls user=gostly password=$pw sslmode=verify-full sslrootcert=$CA"
import "host name localhost, verify-full" "postgresql://gostly:$pw@localhost:$port/tls?$verify"
import "PGSSLMODE and PGSSLROOTCERT" "$base" PGSSLMODE=verify-full PGSSLROOTCERT="$CA"
expect_eq "$(sql 'SELECT count(*) FROM recordings')" "$n" "recordings written over TLS"
[ ! -e "$GOSTLY_DATA/library.db" ] || fail "a PostgreSQL --store wrote $GOSTLY_DATA/library.db"

# A second CA, which did not sign the server's certificate.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=gostly other CA" \
  -keyout "$T/other-ca.key" -out "$T/other-ca.pem" 2>"$T/openssl.log"
line w1 /wrong wrong >"$T/wrong.jsonl"
# refused WHAT REASON STORE [ENV...]: gostly-transition exits 2 naming the store (no password)
# with libpq's REASON.
refused() {
  local what=$1 reason=$2 store=$3 status=0
  shift 3
  env "$@" timeout 20 gostly-transition -v --data "$GOSTLY_DATA" --store "$store" "$T/wrong.jsonl" \
    >"$T/refused.out" 2>"$T/refused.log" || status=$?
  expect_eq "$status" 2 "$what: exit status"
  expect_contains "$(cat "$T/refused.log")" "$reason" "$what: libpq's reason"
  expect_contains "$(cat "$T/refused.log")" "store $shown" "$what: the store named"
  never_shown "$T/refused.log" "gostly-transition ($what)"
  never_shown "$T/refused.out" "gostly-transition ($what)"
}
# sslpassword (the client key's passphrase) is a secret as well: never part of the store's name.
sslpw="sslkey-secret-$RANDOM$RANDOM"
refused "wrong CA" "certificate verify failed" "$base?sslmode=verify-full&sslrootcert=$T/other-ca.pem&sslpassword=$sslpw"
! grep -qF -- "$sslpw" "$T/refused.log" || fail "sslpassword shown: $(cat "$T/refused.log")"
refused "PGSSLROOTCERT of the wrong CA" "certificate verify failed" "$base" PGSSLMODE=verify-full PGSSLROOTCERT="$T/other-ca.pem"
refused "verify-full without a root certificate" "root certificate file" "$base?sslmode=verify-full"
refused "sslmode=disable" "no encryption" "$base?sslmode=disable"
status=0
timeout 20 gostly-transition --data "$GOSTLY_DATA" --store "host=wrong.example hostaddr=127.0.0.1 port=$port dbname=tls user=gostly password=$pw sslmode=verify-full sslrootcert=$CA" \
  "$T/wrong.jsonl" 2>"$T/hostname.log" || status=$?
expect_eq "$status" 2 "verify-full with a host name the certificate does not name: exit status"
expect_contains "$(cat "$T/hostname.log")" 'does not match host name "wrong.example"' "verify-full checks the host name"
never_shown "$T/hostname.log" "gostly-transition (host name mismatch)"
expect_eq "$(sql "SELECT count(*) FROM recordings WHERE uri = '/wrong'")" 0 "recordings written by the refused runs"

# gostly-serve on the wrong CA: exit 2 at start, libpq's reason, no password.
status=0
timeout 20 gostly-serve -v --data "$GOSTLY_DATA" --store "$base?sslmode=verify-full&sslrootcert=$T/other-ca.pem" --mode MOCK \
  --listen 127.0.0.1:0 --control 127.0.0.1:0 >"$T/serve-wrong.log" 2>&1 || status=$?
expect_eq "$status" 2 "gostly-serve with the wrong CA: exit status"
expect_contains "$(cat "$T/serve-wrong.log")" "certificate verify failed" "gostly-serve: libpq's reason"
expect_contains "$(cat "$T/serve-wrong.log")" "$shown" "gostly-serve: the store named"
never_shown "$T/serve-wrong.log" "gostly-serve (wrong CA)"

# gostly-serve on the TLS store, sslrootcert relative to its working directory.
cd "$PG" || fail "cd $PG"
start_serve -v --store "$base?sslmode=verify-full&sslrootcert=ca.pem" --mode MOCK
cd "$T" || fail "cd $T"
for i in $(seq 1 "$n"); do
  expect_eq "$(curl -s --max-time 5 "http://$PROXY/r$i")" "body$i" "MOCK answers /r$i from the TLS store"
done
for _ in $(seq 100); do
  api GET /healthz | grep -q '"listening":true' && break
  sleep 0.1
done
expect_contains "$(api GET /healthz)" '"listening":true' "/healthz: the watcher listens"
# The server's view: the watcher's session is TLS, and no client session is not.
expect_eq "$(sql "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'gostly-serve library watcher'")" t \
  "pg_stat_ssl of gostly-serve's LISTEN connection"
expect_eq "$(sql "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.backend_type = 'client backend' AND NOT s.ssl")" 0 \
  "client sessions without TLS"

# Hot reload over TLS: a transition elsewhere, served within seconds (NOTIFY, not the 60 s poll).
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$PROXY/late")" 404 "/late before the transition"
line late1 /late late >"$T/late.jsonl"
timeout 20 gostly-transition --data "$GOSTLY_DATA" --store "$base?$verify" "$T/late.jsonl" 2>"$T/late.log" ||
  fail "the late transition: $(cat "$T/late.log")"
start=$(date +%s%N)
for _ in $(seq 100); do
  [ "$(curl -s --max-time 5 "http://$PROXY/late")" = late ] && break
  sleep 0.05
done
expect_eq "$(curl -s --max-time 5 "http://$PROXY/late")" late "gostly-serve serves the late recording"
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
echo "served the new recording ${elapsed_ms} ms after the transition"
n=$(metric 'gostly_library_reloads_total{trigger="notify"}')
[ "${n:-0}" -ge 1 ] || fail "gostly_library_reloads_total{trigger=\"notify\"} is '${n}'"
kill "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null || true
never_shown "$T/serve.log" "gostly-serve's log (-v)"
echo "$TEST_NAME: ok"
