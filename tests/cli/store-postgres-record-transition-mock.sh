#!/usr/bin/env bash
# The issue's user story on a real PostgreSQL: with GOSTLY_STORE set, `gostly-record -- CMD |
# gostly-transition --service payments -` writes the library into PostgreSQL; with the upstream
# gone, `gostly-serve --mode MOCK` answers the recorded requests byte for byte from there, and
# no library.db appears in the data directory; a second gostly-serve with its own data directory
# on the same store answers the same.
source "$(dirname "$0")/common.sh"
require_postgres
export GOSTLY_STORE=$PG_TEST_URI

mkdir -p "$T/site/api"
printf '{"id":42,"name":"ada","tags":["a","b"]}' >"$T/site/api/user.json"
head -c 3000 /dev/urandom | base64 >"$T/site/api/blob.txt"
start_upstream "$T/site"
cat >"$T/client.sh" <<'SH'
set -e
curl -sS -D "$OUT/live1.h" -o "$OUT/live1.b" "$GOSTLY_PROXY_URL/api/user.json"
curl -sS -D "$OUT/live2.h" -o "$OUT/live2.b" "$GOSTLY_PROXY_URL/api/blob.txt"
curl -sS -D "$OUT/live3.h" -o "$OUT/live3.b" "$GOSTLY_PROXY_URL/api/missing"
SH
OUT=$T timeout 30 gostly-record --upstream "$UPSTREAM" --listen 127.0.0.1:0 -- bash "$T/client.sh" 2>"$T/record.log" |
  timeout 30 gostly-transition --data "$GOSTLY_DATA" --service payments --json - >"$T/transition.json" 2>"$T/transition.log"
expect_contains "$(cat "$T/transition.json")" '"added":3' "transition summary"
expect_eq "$(head -n1 "$T/live3.h" | tr -d '\r' | cut -d' ' -f2)" 404 "live status of the missing file"

# The rows are in PostgreSQL, under the service the pipeline named; nothing went to SQLite.
expect_eq "$(pg_test_sql "SELECT service_id, count(*) FROM recordings GROUP BY 1")" "payments|3" "recordings in PostgreSQL"
expect_eq "$(pg_test_sql "SELECT count(*) FROM mocks WHERE service_id = 'payments'")" 3 "mocks in PostgreSQL"
[ ! -e "$GOSTLY_DATA/library.db" ] || fail "gostly-transition wrote $GOSTLY_DATA/library.db with GOSTLY_STORE set"

kill "$UPSTREAM_PID"
wait "$UPSTREAM_PID" 2>/dev/null || true
not curl -sS -o /dev/null "$UPSTREAM/api/user.json" 2>/dev/null || fail "the upstream still answers"

start_serve --mode MOCK
services=$(api GET /services)
expect_contains "$services" '"payments"' "/services lists the service from PostgreSQL"
# The service by its name in the Host header (gostly-serve(1), ROUTING: hosts as services).
replay() { # N PATH: the MOCK answer equals what the client saw live, byte for byte
  local n=$1
  curl -sS -D "$T/mock$n.h" -o "$T/mock$n.b" -H "Host: payments" "http://$PROXY$2"
  cmp -s "$T/live$n.b" "$T/mock$n.b" || fail "request $n: replayed body differs"
  expect_eq "$(head -n1 "$T/mock$n.h" | tr -d '\r')" "$(head -n1 "$T/live$n.h" | tr -d '\r')" "request $n status line"
  for h in Content-Type Content-Length Last-Modified; do
    expect_eq "$(grep -i "^$h:" "$T/mock$n.h" | tr -d '\r')" "$(grep -i "^$h:" "$T/live$n.h" | tr -d '\r')" "request $n header $h"
  done
  grep -qi '^X-Ghost-Mock: exact' "$T/mock$n.h" || fail "request $n: not an exact mock: $(cat "$T/mock$n.h")"
}
replay 1 /api/user.json
replay 2 /api/blob.txt
replay 3 /api/missing
# A second runner (its own data dir: mode.txt, traffic/) on the same store answers the same.
mv "$T/serve.log" "$T/serve-runner1.log"
GOSTLY_DATA=$T/runner2 start_serve --mode MOCK
replay 1 /api/user.json
replay 2 /api/blob.txt
replay 3 /api/missing
[ ! -e "$T/runner2/library.db" ] || fail "gostly-serve created $T/runner2/library.db with GOSTLY_STORE set"
[ ! -e "$GOSTLY_DATA/library.db" ] || fail "gostly-serve created $GOSTLY_DATA/library.db with GOSTLY_STORE set"
echo "$TEST_NAME: ok"
