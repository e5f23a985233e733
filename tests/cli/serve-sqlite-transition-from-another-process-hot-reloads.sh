#!/usr/bin/env bash
# SQLite: a gostly-transition run by another process (not through the control API) into the
# library.db of a running MOCK gostly-serve is picked up within the poll interval
# (GOSTLY_STORE_POLL_SECONDS), counted once as trigger="poll"; polls that find nothing new (the
# file untouched, or touched without a library change) reload nothing.
source "$(dirname "$0")/common.sh"
command -v gostly-transition >/dev/null || skip "gostly-transition not built"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY no_proxy NO_PROXY ALL_PROXY all_proxy 2>/dev/null || true
export GOSTLY_STORE_POLL_SECONDS=0.5

line() { printf '{"type":"interaction","v":1,"id":"%s","service_id":"default","request":{"method":"GET","uri":"%s"},"response":{"status":200,"body":"%s"}}\n' "$1" "$2" "$3"; }
line a1 /one one >"$T/first.jsonl"
gostly-transition --data "$GOSTLY_DATA" "$T/first.jsonl" 2>"$T/transition1.log"
start_serve --mode MOCK
expect_eq "$(curl -s --max-time 5 "http://$PROXY/one")" one "the library it started with"
expect_contains "$(curl -s "http://$CONTROL/healthz")" '"engine":"sqlite"' "/healthz store"

line b1 /two two >"$T/second.jsonl"
gostly-transition --data "$GOSTLY_DATA" "$T/second.jsonl" 2>"$T/transition2.log"
start=$(date +%s%N)
for _ in $(seq 100); do
  [ "$(curl -s --max-time 5 "http://$PROXY/two")" = two ] && break
  sleep 0.05
done
expect_eq "$(curl -s --max-time 5 "http://$PROXY/two")" two "the new recording"
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
echo "served ${elapsed_ms} ms after the transition"
[ "$elapsed_ms" -lt 2000 ] || fail "took ${elapsed_ms} ms with a 0.5 s poll interval"
expect_eq "$(metric 'gostly_library_reloads_total{trigger="poll"}')" 1 "one reload by polling"
sleep 1.2
expect_eq "$(metric 'gostly_library_reloads_total{trigger="poll"}')" 1 "no reload while nothing changed"
echo ok
