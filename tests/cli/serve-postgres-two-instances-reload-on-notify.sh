#!/usr/bin/env bash
# Two gostly-serve processes (MOCK, separate data dirs and ports) on one PostgreSQL store: a
# gostly-transition run elsewhere commits new recordings, its NOTIFY reaches both, and both serve
# them well within the safety-net poll interval (GOSTLY_STORE_POLL_SECONDS=60), which proves the
# reload came from LISTEN/NOTIFY, not from polling. /healthz shows the store (no password) and
# /metrics counts the reload as trigger="notify".
source "$(dirname "$0")/common.sh"
command -v gostly-transition >/dev/null || skip "gostly-transition not built"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY no_proxy NO_PROXY ALL_PROXY all_proxy 2>/dev/null || true
require_postgres
export GOSTLY_STORE_POLL_SECONDS=60

line() { printf '{"type":"interaction","v":1,"id":"%s","service_id":"default","request":{"method":"GET","uri":"%s"},"response":{"status":200,"body":"%s"}}\n' "$1" "$2" "$3"; }
line a1 /one one >"$T/first.jsonl"
timeout 60 gostly-transition --store "$PG_TEST_URI" "$T/first.jsonl" 2>"$T/transition1.log" || fail "first transition: $(cat "$T/transition1.log")"

GOSTLY_DATA="$T/data-a" start_serve --store "$PG_TEST_URI" --mode MOCK
PROXY_A=$PROXY CONTROL_A=$CONTROL
mv "$T/serve.log" "$T/serve-a.log"
GOSTLY_DATA="$T/data-b" start_serve --store "$PG_TEST_URI" --mode MOCK
PROXY_B=$PROXY CONTROL_B=$CONTROL

for p in "$PROXY_A" "$PROXY_B"; do
  expect_eq "$(curl -s --max-time 5 "http://$p/one")" one "$p serves the library it started with"
  expect_eq "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$p/two")" 404 "$p: /two before the transition"
done

# Both must be listening before the transition, or its NOTIFY reaches nobody.
for c in "$CONTROL_A" "$CONTROL_B"; do
  for _ in $(seq 100); do
    [ "$(curl -s "http://$c/healthz" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["store"]["listening"])')" = True ] && break
    sleep 0.1
  done
  health=$(curl -s "http://$c/healthz")
  expect_contains "$health" '"listening":true' "$c /healthz"
  expect_contains "$health" '"connected":true' "$c /healthz"
  expect_contains "$health" '"engine":"postgres"' "$c /healthz"
  case "$health" in *"$PG_TEST_PASSWORD"*) fail "/healthz shows the password: $health" ;; esac
done

line b1 /two two >"$T/second.jsonl"
timeout 60 gostly-transition --store "$PG_TEST_URI" "$T/second.jsonl" 2>"$T/transition2.log" || fail "second transition: $(cat "$T/transition2.log")"
start=$(date +%s%N)
for p in "$PROXY_A" "$PROXY_B"; do
  for _ in $(seq 100); do
    [ "$(curl -s --max-time 5 "http://$p/two")" = two ] && break
    sleep 0.05
  done
  expect_eq "$(curl -s --max-time 5 "http://$p/two")" two "$p serves the new recording"
done
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
echo "both instances serve the new recording ${elapsed_ms} ms after the transition"
[ "$elapsed_ms" -lt 5000 ] || fail "reload took ${elapsed_ms} ms: NOTIFY did not work (poll interval is 60 s)"

for c in "$CONTROL_A" "$CONTROL_B"; do
  CONTROL=$c
  n=$(metric 'gostly_library_reloads_total{trigger="notify"}')
  [ "${n:-0}" -ge 1 ] || fail "$c: gostly_library_reloads_total{trigger=\"notify\"} is '${n}'"
  expect_eq "$(metric gostly_store_connected)" 1 "$c gostly_store_connected"
done
echo ok
