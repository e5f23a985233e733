#!/usr/bin/env bash
# Hosts as services: a HAR with two hosts, seeded without --service (one service per host, the
# second with a port: `localhost:5001` -> `localhost-5001`), replays in MOCK for a client pointed
# at the proxy, by Host header (reverse proxy), by absolute URL (forward proxy) and by CONNECT
# (interception), with no --route. Host compares case-insensitively; a port names
# `HOST-PORT` first, then the host alone. A Host that names no service still gets the default
# service; --route and PUT /services/{id} {"route":...} still win.
source "$(dirname "$0")/common.sh"
command -v gostly-transition >/dev/null || skip "gostly-transition not built"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY no_proxy NO_PROXY ALL_PROXY all_proxy 2>/dev/null || true

cat >"$T/two-hosts.har" <<'EOF'
{"log": {"version": "1.2", "creator": {"name": "gostly-test", "version": "1"}, "entries": [
  {"startedDateTime": "2024-05-01T08:00:00.000Z", "time": 1,
   "request": {"method": "GET", "url": "https://api.alpha.test/status", "headers": []},
   "response": {"status": 200, "statusText": "OK", "headers": [{"name": "Content-Type", "value": "application/json"}],
     "content": {"size": 16, "mimeType": "application/json", "text": "{\"svc\":\"alpha\"}"}}},
  {"startedDateTime": "2024-05-01T08:00:01.000Z", "time": 1,
   "request": {"method": "GET", "url": "http://localhost:5001/status", "headers": []},
   "response": {"status": 200, "statusText": "OK", "headers": [{"name": "Content-Type", "value": "application/json"}],
     "content": {"size": 15, "mimeType": "application/json", "text": "{\"svc\":\"beta\"}"}}},
  {"startedDateTime": "2024-05-01T08:00:02.000Z", "time": 1,
   "request": {"method": "GET", "url": "http://localhost:5001/only-beta", "headers": []},
   "response": {"status": 201, "statusText": "Created", "headers": [],
     "content": {"size": 4, "mimeType": "text/plain", "text": "beta"}}}
]}}
EOF
gostly-seed har "$T/two-hosts.har" >"$T/seeded.jsonl"
expect_eq "$(jq -r .service_id "$T/seeded.jsonl" | sort -u | tr '\n' ' ')" "api.alpha.test localhost-5001 " "services seeded per host"
gostly-transition --data "$GOSTLY_DATA" "$T/seeded.jsonl" 2>"$T/transition.log"

ENABLE_TLS_INTERCEPTION=true start_serve --mode MOCK
expect_eq "$(api GET /services | jq -c '.services | sort')" '["api.alpha.test","default","localhost-5001"]' \
  "library services are listed"

# Reverse proxy: the Host header picks the service (any case; a port the id lacks is dropped).
get() { curl -sS --max-time 5 -D "$T/h.txt" "$@"; }
expect_eq "$(get -H 'Host: api.alpha.test' "http://$PROXY/status")" '{"svc":"alpha"}' "Host alpha"
grep -qi '^x-ghost-mock: exact' "$T/h.txt" || fail "alpha not answered from the exact tier: $(cat "$T/h.txt")"
expect_eq "$(get -H 'Host: API.Alpha.TEST:443' "http://$PROXY/status")" '{"svc":"alpha"}' "Host with case and port"
expect_eq "$(get -H 'Host: localhost:5001' "http://$PROXY/status")" '{"svc":"beta"}' "Host with the id's port"
expect_eq "$(get -H 'Host: localhost:5001' "http://$PROXY/only-beta" -w ' %{http_code}')" 'beta 201' "beta's own route"
# Forward proxy: the absolute URL's host picks the service.
expect_eq "$(get --proxy "http://$PROXY" "http://api.alpha.test/status")" '{"svc":"alpha"}' "absolute URL alpha"
expect_eq "$(get --proxy "http://$PROXY" "http://localhost:5001/status")" '{"svc":"beta"}' "absolute URL beta"
# CONNECT + interception: the tunnel's host picks the service.
expect_eq "$(get --proxy "http://$PROXY" --cacert "$GOSTLY_DATA/ca/ca.crt" "https://api.alpha.test/status")" \
  '{"svc":"alpha"}' "CONNECT alpha"
# A host that names no service: the default service, as before (an empty library: a miss).
expect_eq "$(get -o /dev/null -w '%{http_code}' -H 'Host: other.test' "http://$PROXY/status")" 404 "unknown host"
expect_eq "$(get -o /dev/null -w '%{http_code}' -H 'Host: localhost:5002' "http://$PROXY/only-beta")" 404 \
  "another port of localhost names no service"
expect_eq "$(metric 'ghost_requests_total{match_type="exact"}')" 7 "exact answers counted"

# Seeded over the control API: the new host's service answers at once.
sed -e 's|https://api.alpha.test/status|http://gamma.test/status|' -e 's|\\"alpha\\"|\\"gamma\\"|' \
  "$T/two-hosts.har" >"$T/gamma.har"
expect_eq "$(api POST /v1/seed/har -o /dev/null -w '%{http_code}' --data-binary "@$T/gamma.har")" 201 "seeded over the API"
expect_eq "$(get -H 'Host: gamma.test' "http://$PROXY/status")" '{"svc":"gamma"}' "Host gamma, seeded while serving"

# PUT /services/{id} with a route overrides the host's own service.
api PUT /services/alpha-stub -d '{"route":"api.alpha.test","mode":"MOCK"}' >/dev/null
expect_eq "$(get -o /dev/null -w '%{http_code}' -H 'Host: api.alpha.test' "http://$PROXY/status")" 404 \
  "a PUT route wins over the host's service"
api PUT /services/alpha-stub -d '{"route":null}' >/dev/null
expect_eq "$(get -H 'Host: api.alpha.test' "http://$PROXY/status")" '{"svc":"alpha"}' "route removed: the host's service again"

# --route wins too: localhost (any port) is routed to its own, empty, service.
kill "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null || true
rm -f "$T/serve.log" # else the new server's address could be read from the old log
start_serve --mode MOCK --route "localhost=http://127.0.0.1:9"
expect_eq "$(get -o /dev/null -w '%{http_code}' -H 'Host: localhost:5001' "http://$PROXY/status")" 404 "--route wins"
expect_eq "$(get -H 'Host: api.alpha.test' "http://$PROXY/status")" '{"svc":"alpha"}' "other hosts unaffected"
