#!/usr/bin/env bash
# newman (a real Postman client) sends what changes every run: a {{$guid}} and {{$timestamp}} in a
# JSON body, a cache-buster and {{$timestamp}} in a query, a multipart upload with a fresh
# boundary. Recorded through gostly-record against a real server, transitioned, the server
# stopped, the same collection replays green from MOCK, answered by the normalized tier.
source "$(dirname "$0")/common.sh"
command -v gostly-transition >/dev/null || skip "gostly-transition not built"
NEWMAN=$(node_client newman)
start_api_upstream
printf 'hello from a file\n' >"$T/upload.txt"
# Each request's test: status 200, the echoed data, and (in MOCK, when `mock` is set) its tier.
tier_test() { # TIER
  printf '"if (pm.environment.get(\\"mock\\")) pm.test(\\"tier %s\\", () => pm.expect(pm.response.headers.get(\\"X-Ghost-Mock\\")).to.eql(\\"%s\\"));"' "$1" "$1"
}
cat >"$T/collection.json" <<JSON
{
  "info": {"name": "volatile values", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
  "item": [
    {"name": "json body with guid and timestamp",
     "request": {"method": "POST", "url": "{{baseUrl}}/echo",
                 "header": [{"key": "Content-Type", "value": "application/json"}],
                 "body": {"mode": "raw", "raw": "{\"request_id\": \"{{\$guid}}\", \"sent_at\": {{\$timestamp}}, \"amount\": 10}"}},
     "event": [{"listen": "test", "script": {"exec": [
       "pm.test(\"200\", () => pm.response.to.have.status(200));",
       "pm.test(\"echo\", () => pm.expect(pm.response.json().echo.amount).to.eql(10));",
       $(tier_test normalized)]}}]},
    {"name": "cache-buster and timestamp in the query",
     "request": {"method": "GET", "url": "{{baseUrl}}/health?_cb={{\$randomInt}}&since={{\$timestamp}}"},
     "event": [{"listen": "test", "script": {"exec": [
       "pm.test(\"200\", () => pm.response.to.have.status(200));",
       "pm.test(\"ok\", () => pm.expect(pm.response.json().status).to.eql(\"ok\"));",
       $(tier_test normalized)]}}]},
    {"name": "multipart upload",
     "request": {"method": "POST", "url": "{{baseUrl}}/upload",
                 "body": {"mode": "formdata", "formdata": [
                   {"key": "note", "value": "hello", "type": "text"},
                   {"key": "file", "type": "file", "src": "$T/upload.txt"}]}},
     "event": [{"listen": "test", "script": {"exec": [
       "pm.test(\"200\", () => pm.response.to.have.status(200));",
       "pm.test(\"parts\", () => pm.expect(pm.response.json().parts.map(p => p.name)).to.eql([\"note\", \"file\"]));",
       "pm.test(\"file\", () => pm.expect(pm.response.json().parts[1].size).to.eql(18));",
       $(tier_test normalized)]}}]},
    {"name": "plain GET",
     "request": {"method": "GET", "url": "{{baseUrl}}/users/1"},
     "event": [{"listen": "test", "script": {"exec": [
       "pm.test(\"200\", () => pm.response.to.have.status(200));",
       $(tier_test exact)]}}]}
  ]
}
JSON
run_newman() { # LOG ARGS...: newman, bounded, its output kept in LOG
  local log=$1; shift
  timeout 60 "$NEWMAN" run "$T/collection.json" --color off --disable-unicode "$@" >"$log" 2>&1
}
# Live: newman through gostly-record to the real server (baseUrl = the proxy CMD is given).
cat >"$T/client.sh" <<SH
exec timeout 60 "$NEWMAN" run "$T/collection.json" --color off --disable-unicode --env-var "baseUrl=\$GOSTLY_PROXY_URL"
SH
gostly-record --upstream "$UPSTREAM" --listen 127.0.0.1:0 -o "$T/s1.jsonl" -- bash "$T/client.sh" >"$T/live.log" 2>"$T/record.log" ||
  fail "newman failed live: $(tail -n 40 "$T/live.log")"
expect_eq "$(wc -l <"$T/s1.jsonl" | tr -d ' ')" 4 "recorded lines"
gostly-transition --data "$GOSTLY_DATA" "$T/s1.jsonl" 2>"$T/transition.log"
kill "$UPSTREAM_PID"; wait "$UPSTREAM_PID" 2>/dev/null || true
sleep 1 # so {{$timestamp}} surely differs from the recorded one
unset HTTP_PROXY http_proxy HTTPS_PROXY https_proxy
start_serve --mode MOCK
run_newman "$T/mock.log" --env-var "baseUrl=http://$PROXY" --env-var mock=1 ||
  fail "newman failed against MOCK: $(tail -n 60 "$T/mock.log")"
expect_eq "$(metric 'ghost_requests_total{match_type="normalized"}')" 3 "normalized answers"
expect_eq "$(metric 'ghost_requests_total{match_type="exact"}')" 1 "exact answers"
expect_eq "$(metric 'ghost_requests_total{match_type="miss"}')" 0 "misses"
# Nothing close enough: the miss says why, for the nearest recording.
body=$(curl -sS -X POST "http://$PROXY/echo" -H 'Content-Type: application/json' \
  -d "{\"request_id\":\"$(cat /proc/sys/kernel/random/uuid)\",\"sent_at\":$(date +%s),\"amount\":12}")
expect_contains "$body" 'body field `amount` differs: 12 vs recorded 10' "miss reason"
