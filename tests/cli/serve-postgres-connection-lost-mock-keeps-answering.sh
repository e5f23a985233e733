#!/usr/bin/env bash
# A gostly-serve (MOCK) on a PostgreSQL store loses its connection: its role can no longer log in
# and its backends are terminated. MOCK keeps answering from memory, /healthz stays 200 with
# store.connected false, control calls that need the store answer 503 naming the store (no
# password) without hanging, /metrics still renders. A transition committed meanwhile (by another
# role) is picked up once the connection is back (the marker is compared on reconnect, the NOTIFY
# was missed), and the reconnect is counted.
source "$(dirname "$0")/common.sh"
command -v gostly-transition >/dev/null || skip "gostly-transition not built"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY no_proxy NO_PROXY ALL_PROXY all_proxy 2>/dev/null || true
require_postgres
export GOSTLY_STORE_POLL_SECONDS=60 GOSTLY_STORE_RECONNECT_MAX_SECONDS=0.5

# The server logs in as its own role (a member of gostly, so it may use gostly's tables), which
# the test can lock out while gostly-transition keeps working.
# Roles belong to the whole server: a unique name, dropped at exit (through the admin database, as
# the test database is gone by then).
role="gostly_serve_$$_$RANDOM"
role_password="pw$RANDOM$RANDOM"
pg_test_sql "CREATE ROLE \"$role\" LOGIN PASSWORD '$role_password' IN ROLE gostly" >/dev/null
drop_role() { timeout 30 "$PG_PSQL" -X -q -d "$PG_ADMIN_URI" -c "DROP ROLE IF EXISTS \"$role\"" >/dev/null 2>&1 || true; }
CLEANUP_CMDS+=("drop_role")
serve_uri="postgresql://$role:$role_password@${PG_TEST_URI#*@}"

line() { printf '{"type":"interaction","v":1,"id":"%s","service_id":"default","request":{"method":"GET","uri":"%s"},"response":{"status":200,"body":"%s"}}\n' "$1" "$2" "$3"; }
line a1 /one one >"$T/first.jsonl"
timeout 60 gostly-transition --store "$PG_TEST_URI" "$T/first.jsonl" 2>"$T/transition1.log" || fail "first transition: $(cat "$T/transition1.log")"

start_serve --store "$serve_uri" --mode MOCK
health() { curl -s --max-time 5 "http://$CONTROL/healthz"; }
wait_health() { # wait_health TEXT: until /healthz contains TEXT (10 s at most)
  for _ in $(seq 200); do
    case "$(health)" in *"$1"*) return 0 ;; esac
    sleep 0.05
  done
  fail "/healthz never showed $1: $(health)"
}
wait_health '"listening":true'
expect_eq "$(curl -s --max-time 5 "http://$PROXY/one")" one "MOCK before the drop"

# The drop: no more logins for the server's role, its backends ended.
pg_test_sql "ALTER ROLE \"$role\" NOLOGIN" >/dev/null
pg_test_sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = '$role'" >/dev/null
wait_health '"connected":false'
health_down=$(health)
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$CONTROL/healthz")" 200 "/healthz while the store is down"
case "$health_down" in *"$role_password"*) fail "/healthz shows the password: $health_down" ;; esac
expect_contains "$health_down" '"last_error":"' "/healthz names the failure"

# MOCK answers from memory, fast.
for _ in 1 2 3 4 5; do
  expect_eq "$(curl -s --max-time 2 "http://$PROXY/one")" one "MOCK while the store is down"
done
# A control call that needs the store: 503 naming the store, never the password, never a hang.
code=$(api GET /v1/drift/events --max-time 10 -o "$T/events.json" -w '%{http_code}')
expect_eq "$code" 503 "GET /v1/drift/events while the store is down: $(cat "$T/events.json")"
expect_contains "$(cat "$T/events.json")" "${serve_uri%%:*}" "the 503 names the store"
expect_contains "$(cat "$T/events.json")" "$role@" "the 503 names the store's user"
case "$(cat "$T/events.json")" in *"$role_password"*) fail "the 503 shows the password" ;; esac
# A setting that must be stored before it applies is refused the same way, and does not apply.
code=$(api PUT /services/default -d '{"mode":"PASSTHROUGH"}' --max-time 10 -o "$T/put.json" -w '%{http_code}')
expect_eq "$code" 503 "PUT /services/default while the store is down: $(cat "$T/put.json")"
expect_contains "$(cat "$T/put.json")" "$role@" "the 503 names the store"
expect_eq "$(curl -s --max-time 2 "http://$PROXY/one")" one "MOCK after the refused PUT"
# /metrics still renders, quickly, with the store shown down.
code=$(api GET /metrics --max-time 5 -o "$T/metrics.txt" -w '%{http_code}')
expect_eq "$code" 200 "/metrics while the store is down"
expect_contains "$(cat "$T/metrics.txt")" "gostly_store_connected 0" "/metrics"
expect_contains "$(cat "$T/metrics.txt")" "ghost_requests_total" "/metrics keeps the proxy's own counters"
expect_contains "$(cat "$T/metrics.txt")" "gostly_drift_totals_stale 1" "/metrics: drift totals marked stale"

# Meanwhile another host commits a transition: its NOTIFY reaches nobody here.
line b1 /two two >"$T/second.jsonl"
timeout 60 gostly-transition --store "$PG_TEST_URI" "$T/second.jsonl" 2>"$T/transition2.log" || fail "second transition: $(cat "$T/transition2.log")"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$PROXY/two")" 404 "/two while down"

# The store comes back: the server reconnects (backoff capped at 0.5 s here), compares the
# change marker and loads what it missed, long before the 60 s safety-net poll.
pg_test_sql "ALTER ROLE \"$role\" LOGIN" >/dev/null
start=$(date +%s%N)
wait_health '"connected":true'
for _ in $(seq 100); do
  [ "$(curl -s --max-time 5 "http://$PROXY/two")" = two ] && break
  sleep 0.05
done
expect_eq "$(curl -s --max-time 5 "http://$PROXY/two")" two "the transition made while down is served after the reconnect"
echo "picked up $((($(date +%s%N) - start) / 1000000)) ms after logins were allowed again"
r=$(metric gostly_store_reconnects_total)
[ "${r:-0}" -ge 1 ] || fail "gostly_store_reconnects_total is '$r'"
expect_eq "$(metric gostly_store_connected)" 1 "gostly_store_connected after the reconnect"
n=$(metric 'gostly_library_reloads_total{trigger="poll"}')
[ "${n:-0}" -ge 1 ] || fail "gostly_library_reloads_total{trigger=\"poll\"} is '$n'"
expect_eq "$(api GET /v1/drift/events -o /dev/null -w '%{http_code}')" 200 "drift events once the store is back"
expect_eq "$(metric gostly_drift_totals_stale)" 0 "drift totals fresh again"
expect_eq "$(metric 'gostly_drift_events_total{severity="major"}')" 0 "drift totals read again"
echo ok
