#!/usr/bin/env bash
# Chaos per service: PUT /services/{id} {"chaos":...} (checked: 400 naming the field), shown by
# GET, stored in library.db (a restart keeps it), or --chaos SERVICE=SPEC. Injected errors
# (X-Ghost-Mock: chaos) and drops (no answer: curl's 000; HTTP/2: RST_STREAM) are counted as
# match_type="chaos". With a seed the same requests get the same statuses on every fresh server;
# without one they differ. Latency waits on a timer, so a one-thread server keeps answering
# others meanwhile. PASSTHROUGH gets chaos, LEARN never does.
source "$(dirname "$0")/common.sh"
command -v gostly-transition >/dev/null || skip "gostly-transition not built"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY no_proxy NO_PROXY ALL_PROXY all_proxy 2>/dev/null || true

cat >"$T/ping.har" <<'EOF'
{"log": {"version": "1.2", "creator": {"name": "gostly-test", "version": "1"}, "entries": [
  {"startedDateTime": "2024-05-01T08:00:00.000Z", "time": 1,
   "request": {"method": "GET", "url": "http://api.test/ping", "headers": []},
   "response": {"status": 200, "statusText": "OK", "headers": [], "content": {"size": 4, "mimeType": "text/plain", "text": "pong"}}}
]}}
EOF
gostly-seed har --service default "$T/ping.har" >"$T/ping.jsonl"
gostly-transition --data "$GOSTLY_DATA" "$T/ping.jsonl" 2>"$T/transition.log"
cp -r "$GOSTLY_DATA" "$T/pristine"

# statuses N: N requests for /ping, one connection each; a dropped one is 000.
statuses() {
  local i out=""
  for ((i = 0; i < $1; i++)); do
    out+="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$PROXY/ping" || true) "
  done
  echo "$out"
}
count() { grep -o "$1" <<<"$2" | wc -l | tr -d ' '; }
restart() {
  kill "$SERVE_PID"
  wait "$SERVE_PID" 2>/dev/null || true
  rm -f "$T/serve.log" # else the new server's address could be read from the old log
  start_serve "$@"
}

start_serve --mode MOCK --threads 1
put() { api PUT "/services/$1" -d "$2" -o "$T/put.json" -w '%{http_code}'; }
# Bad configs: 400 naming the field, nothing changed.
expect_eq "$(put default '{"chaos":{"error_rate":1.5}}')" 400 "rate past 1"
expect_contains "$(cat "$T/put.json")" "chaos.error_rate" "the field at fault"
expect_eq "$(put default '{"chaos":{"error_status":600}}')" 400 "status past 599"
expect_contains "$(cat "$T/put.json")" "chaos.error_status" "the status field"
expect_eq "$(put default '{"chaos":{"latency_ms":[300,100]}}')" 400 "min over max"
expect_contains "$(cat "$T/put.json")" "chaos.latency_ms" "the latency field"
expect_eq "$(put default '{"chaos":{"latency_ms":[0,86400000]}}')" 400 "latency past the limit"
expect_eq "$(put default '{"chaos":{"jitter":1}}')" 400 "unknown chaos field"
expect_contains "$(cat "$T/put.json")" "chaos.jitter" "the unknown field"
expect_eq "$(api GET /services/default | jq -c .chaos)" null "no chaos after refusals"
expect_eq "$(curl -sS "http://$PROXY/ping")" pong "answers normally"

spec='{"error_rate":0.3,"drop_rate":0.2,"error_status":502,"seed":42}'
expect_eq "$(put default "{\"chaos\":$spec}")" 200 "chaos set"
expect_eq "$(api GET /services/default | jq -c '.chaos | [.error_rate, .drop_rate, .error_status, .seed, .latency_ms]')" \
  '[0.3,0.2,502,42,[0,0]]' "GET shows it"
first=$(statuses 25)
for code in 200 502 000; do
  [ "$(count "$code" "$first")" -gt 0 ] || fail "no $code among: $first"
done
expect_eq "$(metric 'ghost_requests_total{match_type="chaos"}')" "$(($(count 502 "$first") + $(count 000 "$first")))" \
  "errors and drops counted as chaos"
hdrs=""
for _ in $(seq 1 30); do
  hdrs=$(curl -s -D - -o /dev/null --max-time 5 "http://$PROXY/ping" || true)
  case "$hdrs" in "HTTP/1.1 502"*) break ;; esac
done
expect_contains "$hdrs" "X-Ghost-Mock: chaos" "an injected error is stamped"

# A fresh server on the same library.db: the stored config, the same sequence.
restart --mode MOCK
expect_eq "$(api GET /services/default | jq -c .chaos.seed)" 42 "chaos survives a restart"
expect_eq "$(statuses 25)" "$first" "same seed, same sequence (stored config)"
# A fresh data dir with --chaos (the short form): the same sequence again.
rm -rf "$GOSTLY_DATA"
cp -r "$T/pristine" "$GOSTLY_DATA"
restart --mode MOCK --chaos 'default=error_rate=0.3,drop_rate=0.2,error_status=502,seed=42'
expect_eq "$(statuses 25)" "$first" "same seed, same sequence (--chaos)"
# No seed: random.
restart --mode MOCK --chaos 'default={"error_rate":0.3,"drop_rate":0.2,"error_status":502}'
expect_eq "$(api GET /services/default | jq -c .chaos.seed)" null "no seed shown"
[ "$(statuses 25)" != "$first" ] || fail "no seed, yet the seeded sequence"

# Cleared: normal answers, and the clearing is stored.
restart --mode MOCK --threads 1
expect_eq "$(put default '{"chaos":{"error_rate":1}}')" 200 "always an error"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://$PROXY/ping")" 503 "error_status defaults to 503"
expect_eq "$(put default '{"chaos":null}')" 200 "chaos cleared"
expect_eq "$(curl -sS "http://$PROXY/ping")" pong "cleared"

# Latency does not hold the (only) worker: another service answers during a delay.
expect_eq "$(put slow '{"route":"/slow","mode":"MOCK","chaos":{"latency_ms":[1200,1200]}}')" 201 "slow service"
start=$(date +%s%N)
curl -s -o /dev/null --max-time 5 "http://$PROXY/slow/x" &
slow_pid=$!
sleep 0.2
expect_eq "$(curl -sS --max-time 5 "http://$PROXY/ping")" pong "answered during another's delay"
fast_ms=$((($(date +%s%N) - start) / 1000000))
wait "$slow_pid"
slow_ms=$((($(date +%s%N) - start) / 1000000))
[ "$fast_ms" -lt 1000 ] || fail "the other service waited ${fast_ms} ms"
[ "$slow_ms" -ge 1150 ] || fail "the delayed answer came after ${slow_ms} ms"

# PASSTHROUGH gets chaos; LEARN never does.
start_api_upstream
expect_eq "$(put default "{\"mode\":\"PASSTHROUGH\",\"upstream\":\"$UPSTREAM\",\"chaos\":{\"error_rate\":1,\"error_status\":429}}")" 200 \
  "passthrough with chaos"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://$PROXY/users/1")" 429 "PASSTHROUGH error"
expect_eq "$(put default '{"mode":"LEARN"}')" 200 "learn"
expect_contains "$(curl -sS "http://$PROXY/users/1")" '"id":1' "LEARN forwards, untouched"
expect_eq "$(put default '{"mode":null}')" 200 "back to the global mode" # the override is stored

# HTTP/2 (inside an intercepted tunnel): a drop resets the stream.
ENABLE_TLS_INTERCEPTION=true restart --mode MOCK --chaos 'default=drop_rate=1'
set +e
out=$(curl -sS --http2 --max-time 5 --proxy "http://$PROXY" --cacert "$GOSTLY_DATA/ca/ca.crt" "https://api.test/ping" 2>&1)
status=$?
set -e
[ "$status" -ne 0 ] || fail "a dropped HTTP/2 request was answered: $out"
expect_contains "$out" "INTERNAL_ERROR" "HTTP/2 stream reset"
expect_eq "$(metric 'ghost_requests_total{match_type="chaos"}')" 1 "the drop counted"
