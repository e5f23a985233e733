#!/usr/bin/env bash
# Moving a library between engines: SQLite -> `gostly-transition --export` -> `--import` into
# PostgreSQL -> `--export` from there -> `--import` into a fresh SQLite. At each step the
# libraries agree: the same services with their settings, the same mocks per service, and
# gostly-serve in MOCK answers the same requests identically from each engine.
source "$(dirname "$0")/common.sh"
require_postgres
command -v sqlite3 >/dev/null || skip "sqlite3 not installed"

jq -nc '
  def rec($i; $svc; $s; $m; $u; $st; $b): {type:"interaction", id:$i, service_id:$svc, session_id:$s,
    recorded_at:"2026-03-0\($s[1:])T10:00:00.000Z", request:{method:$m, uri:$u, headers:[["Accept","application/json"]]},
    response:{status:$st, headers:[["Content-Type","application/json"],["X-Req",$i]], body:$b}};
  rec("p1"; "payments.test"; "s1"; "GET"; "/charges/1"; 200; "{\"id\":1,\"amount\":100}"),
  rec("p2"; "payments.test"; "s1"; "GET"; "/charges?limit=2"; 200; "[{\"id\":1},{\"id\":2}]"),
  rec("p3"; "payments.test"; "s2"; "GET"; "/charges/1"; 200; "{\"id\":1,\"amount\":120}"),
  rec("p4"; "payments.test"; "s2"; "POST"; "/charges"; 201; "{\"id\":3}"),
  rec("u1"; "users.test"; "s1"; "GET"; "/users/7"; 200; "{\"id\":7,\"name\":\"Zoë\"}"),
  rec("u2"; "users.test"; "s1"; "DELETE"; "/users/7"; 204; ""),
  rec("u3"; "users.test"; "s1"; "GET"; "/users/8"; 404; "{\"error\":\"not found\"}")' >"$T/in.jsonl"
env -u GOSTLY_STORE gostly-transition -q --data "$T/sqlite1" "$T/in.jsonl"
sqlite3 "$T/sqlite1/library.db" "UPDATE services SET mode = 'MOCK', redact_headers = '[\"x-tenant\"]' WHERE id = 'users.test'"

# summary ENGINE-ARGS...: services with their settings, then mocks per service, one line each.
services_q="SELECT id || '|' || COALESCE(mode, '') || '|' || COALESCE(redact_headers, '') FROM services ORDER BY id"
mocks_q="SELECT service_id || '|' || count(*) FROM mocks GROUP BY service_id ORDER BY service_id"
sqlite_summary() { sqlite3 "$1" "$services_q" "$mocks_q"; }
pg_summary() { pg_test_sql "$services_q"; pg_test_sql "$mocks_q"; }

# requests: what MOCK answers (status line, X-Req, body) for the same requests.
answers() {
  local out=$1
  shift
  start_serve --mode MOCK --route "payments.test=http://127.0.0.1:9" --route "users.test=http://127.0.0.1:9" "$@"
  : >"$out"
  for req in "GET /charges/1" "GET /charges?limit=2" "POST /charges" "GET /users/7" "DELETE /users/7" "GET /users/8" "GET /nothing"; do
    for svc in payments.test users.test; do
      curl -sS -D "$T/h" -o "$T/b" -X "${req%% *}" "http://$PROXY${req#* }" -H "Host: $svc" -H 'Accept: application/json'
      printf '%s %s: %s %s %s\n' "$svc" "$req" "$(head -n1 "$T/h" | tr -d '\r')" "$(grep -i '^X-Req:' "$T/h" | tr -d '\r' || true)" \
        "$(cat "$T/b")" >>"$out"
    done
  done
  kill "$SERVE_PID"
  wait "$SERVE_PID" 2>/dev/null || true
}

gostly-transition --data "$T/sqlite1" --store "sqlite:$T/sqlite1/library.db" --export "$T/a.tar.gz" 2>"$T/export1.log"
gostly-transition --data "$T/pg" --store "$PG_TEST_URI" --import "$T/a.tar.gz" --json >"$T/import-pg.json" 2>"$T/import-pg.log"
# The bundle holds the mock rows: p1 is shadowed by p3 (same request, later session).
expect_contains "$(cat "$T/import-pg.json")" '"added":6' "import into PostgreSQL"
expect_eq "$(pg_summary)" "$(sqlite_summary "$T/sqlite1/library.db")" "services and mocks, SQLite vs PostgreSQL"
[ ! -e "$T/pg/library.db" ] || fail "--import with a PostgreSQL --store wrote $T/pg/library.db"

GOSTLY_STORE=$PG_TEST_URI gostly-transition --data "$T/pg" --export "$T/b.tar.gz" 2>"$T/export2.log"
gostly-transition --data "$T/sqlite2" --import "$T/b.tar.gz" --json >"$T/import-sqlite.json" 2>"$T/import-sqlite.log"
expect_contains "$(cat "$T/import-sqlite.json")" '"added":6' "import back into SQLite"
expect_eq "$(sqlite_summary "$T/sqlite2/library.db")" "$(sqlite_summary "$T/sqlite1/library.db")" \
  "services and mocks after SQLite -> PostgreSQL -> SQLite"
q="SELECT r.interaction_id || '|' || r.service_id || '|' || r.session_id || '|' || m.match_key || '|' || m.ordinal
  FROM mocks m JOIN recordings r ON r.id = m.recording_id ORDER BY 1"
expect_eq "$(pg_test_sql "$q")" "$(sqlite3 "$T/sqlite1/library.db" "$q")" "mock rows, SQLite vs PostgreSQL"
expect_eq "$(sqlite3 "$T/sqlite2/library.db" "$q")" "$(sqlite3 "$T/sqlite1/library.db" "$q")" "mock rows after the round trip"

# MOCK answers the same from each engine, and they are the recorded ones.
GOSTLY_DATA=$T/sqlite1 answers "$T/answers-sqlite1"
GOSTLY_DATA=$T/pg answers "$T/answers-pg" --store "$PG_TEST_URI"
GOSTLY_DATA=$T/sqlite2 answers "$T/answers-sqlite2"
expect_contains "$(cat "$T/answers-sqlite1")" 'payments.test GET /charges/1: HTTP/1.1 200 OK X-Req: p3 {"id":1,"amount":120}' "the latest session's answer"
expect_contains "$(cat "$T/answers-sqlite1")" 'users.test GET /users/8: HTTP/1.1 404' "a recorded 404"
cmp -s "$T/answers-sqlite1" "$T/answers-pg" || { diff "$T/answers-sqlite1" "$T/answers-pg" >&2; fail "MOCK answers differ between SQLite and PostgreSQL"; }
cmp -s "$T/answers-sqlite1" "$T/answers-sqlite2" || { diff "$T/answers-sqlite1" "$T/answers-sqlite2" >&2; fail "MOCK answers differ after the round trip"; }
echo "$TEST_NAME: ok"
