#!/usr/bin/env bash
# The PostgreSQL the tests run against (ctest fixture "postgres", tests/postgres/server.sh) is a
# real server: SCRAM password logins over TCP on 127.0.0.1 only, a wrong or missing password
# refused, PGPASSWORD and .pgpass honoured, run by a non-root user, and each test's database empty.
source "$(dirname "$0")/common.sh"
require_postgres

# A password login over TCP: the server sees the client on 127.0.0.1, as user gostly, in the
# test's own database.
row=$(pg_test_sql "SELECT inet_server_addr(), inet_client_addr(), current_user, current_database()")
expect_eq "$row" "127.0.0.1|127.0.0.1|gostly|$PG_TEST_DB" "server address, client address, user, database"
expect_eq "$(pg_test_sql "SHOW listen_addresses")" "127.0.0.1" "listen_addresses"
expect_eq "$(pg_test_sql "SHOW password_encryption")" "scram-sha-256" "password_encryption"
expect_eq "$(pg_test_sql "SELECT DISTINCT auth_method FROM pg_hba_file_rules WHERE type IN ('host', 'local')")" \
  "scram-sha-256" "pg_hba.conf authentication of every rule"
expect_eq "$(pg_test_sql "SELECT rolpassword LIKE 'SCRAM-SHA-256\$%' FROM pg_authid WHERE rolname = 'gostly'")" "t" \
  "gostly's password is stored as a SCRAM verifier"

port=${PG_TEST_URI##*:}
port=${port%%/*}
# A wrong password is refused; so is none (-w: never prompt).
not timeout 10 "$PG_PSQL" -X -w -d "postgresql://gostly:wrong-$RANDOM@127.0.0.1:$port/$PG_TEST_DB" -c 'SELECT 1' \
  >"$T/wrong.log" 2>&1 || fail "a wrong password logged in"
expect_contains "$(cat "$T/wrong.log")" 'password authentication failed for user "gostly"' "wrong password"
not timeout 10 "$PG_PSQL" -X -w -d "$(pg_uri_without_password)" -c 'SELECT 1' >"$T/none.log" 2>&1 ||
  fail "a login without a password succeeded"
expect_contains "$(cat "$T/none.log")" "no password supplied" "no password"
# libpq's own ways to give the password: PGPASSWORD and a password file.
expect_eq "$(PGPASSWORD=$PG_TEST_PASSWORD timeout 10 "$PG_PSQL" -X -w -A -t -d "$(pg_uri_without_password)" -c 'SELECT 1')" \
  1 "login with PGPASSWORD"
pg_test_pgpass "$T/pgpass"
expect_eq "$(stat -c %a "$T/pgpass")" 600 ".pgpass mode"
expect_eq "$(PGPASSFILE=$T/pgpass timeout 10 "$PG_PSQL" -X -w -A -t -d "$(pg_uri_without_password)" -c 'SELECT 2')" \
  2 "login with a .pgpass file"

# The server runs as an unprivileged user: its data directory and its postmaster process are
# not root's.
datadir=$(pg_test_sql "SELECT current_setting('data_directory')")
[ -d "$datadir" ] || fail "data directory $datadir not found"
[ "$(stat -c %u "$datadir")" != 0 ] || fail "the data directory $datadir is owned by root"
postmaster=$(head -n 1 "$datadir/postmaster.pid")
server_user=$(ps -o user= -p "$postmaster")
[ -n "$server_user" ] || fail "no postmaster process $postmaster"
[ "$server_user" != root ] || fail "the postmaster $postmaster runs as root"
expect_eq "$(ps -o uid= -p "$postmaster" | tr -d ' ')" "$(stat -c %u "$datadir")" "postmaster uid = data directory owner"

# The test's database is fresh: no user tables, views, sequences or schemas beyond public.
expect_eq "$(pg_test_sql "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'")" 0 "relations in a fresh database"
expect_eq "$(pg_test_sql "SELECT string_agg(nspname, ',') FROM pg_namespace
  WHERE nspname NOT LIKE 'pg\_%' AND nspname <> 'information_schema'")" public "schemas in a fresh database"
# ... and it is this test's own: writes here are not seen from the server's default database.
pg_test_sql "CREATE TABLE marker (id int)"
expect_eq "$(timeout 10 "$PG_PSQL" -X -A -t -d "$PG_ADMIN_URI" -c "SELECT count(*) FROM pg_tables WHERE tablename = 'marker'")" 0 \
  "the marker table in the postgres database"
echo "$TEST_NAME: ok (PostgreSQL on 127.0.0.1:$port as $server_user, database $PG_TEST_DB)"
