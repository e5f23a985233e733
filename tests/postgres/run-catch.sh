#!/usr/bin/env bash
# run-catch.sh BINARY DIR [CATCH ARGS...]: runs the "[engines]" tests of a Catch2 unit binary once
# more against the test PostgreSQL server of DIR (tests/postgres/server.sh): in a fresh database,
# named by GOSTLY_TEST_STORE (a libpq URI with the password), dropped afterwards.
# Exit 125 (skipped, CTest SKIP_RETURN_CODE) with the reason when the server is unavailable.
set -uo pipefail
export LC_ALL=C
unset PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGPASSWORD PGPASSFILE PGSERVICE PGSERVICEFILE \
  PGSSLMODE PGOPTIONS 2>/dev/null || true

[ $# -ge 2 ] || { echo "usage: $0 BINARY DIR [CATCH ARGS...]" >&2; exit 2; }
binary=$1
dir=$2
shift 2

if [ -f "$dir/unavailable" ]; then
  echo "skipped: PostgreSQL unavailable: $(cat "$dir/unavailable")"
  exit 125
fi
[ -f "$dir/conninfo" ] || { echo "skipped: PostgreSQL unavailable: no $dir/conninfo (the 'postgres: start' fixture did not run)"; exit 125; }
if [ -z "$("$binary" --list-test-names-only "[engines]" 2>/dev/null | grep -v '^$')" ]; then
  echo "skipped: $(basename "$binary") has no [engines] tests"
  exit 125
fi

admin=$(cat "$dir/conninfo")
db="t_$(basename "$binary" | tr -c 'a-zA-Z0-9_\n' _ | tr 'A-Z' 'a-z')_$$_$RANDOM"
db=${db:0:63}
psql=$(cat "$dir/bindir" 2>/dev/null)/psql
[ -x "$psql" ] || psql=psql
psql_admin() { timeout 30 "$psql" -X -q -A -t -v ON_ERROR_STOP=1 -d "$admin" -c "$1"; }
psql_admin "CREATE DATABASE \"$db\"" || { echo "cannot create database $db on the test server" >&2; exit 1; }
# FORCE: a connection a crashed test left open must not keep the database.
trap 'psql_admin "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null || true' EXIT

export GOSTLY_TEST_STORE="${admin%/*}/$db"
echo "running $(basename "$binary") [engines] against $(echo "$GOSTLY_TEST_STORE" | sed -E 's#//([^:@/]+):[^@]*@#//\1:***@#')"
"$binary" "[engines]" "$@"
