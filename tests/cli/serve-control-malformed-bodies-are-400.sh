#!/usr/bin/env bash
# Every malformed control API request is a 400 naming the field (or the limit), never a 500 or a
# dead daemon: a drift baseline nested 60 000 levels deep (it used to be copied recursively and
# overflow the stack), a number out of range, a field of the wrong type, invalid UTF-8 in a body
# and in a path. The routes are a table: a known path with the wrong method is a 405 with Allow,
# an unknown one a 404.
source "$(dirname "$0")/common.sh"
start_serve --mode MOCK
api POST '/v1/seed/openapi?service_id=default' -o /dev/null --data-binary "@$FIXTURES/openapi/v3.0_api-with-examples.json"

alive() {
  kill -0 "$SERVE_PID" 2>/dev/null || fail "gostly-serve died after $1"
  expect_eq "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$CONTROL/healthz")" 200 "GET /healthz after $1"
  expect_eq "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$PROXY/v2")" 200 "a mocked request after $1"
}

# call_is STATUS NEEDLE WHAT METHOD PATH [curl args]: the answer's status and its .error text.
call_is() {
  local status=$1 needle=$2 what=$3 method=$4 path=$5 code
  shift 5
  code=$(api "$method" "$path" -o "$T/out.json" -D "$T/head.txt" -w '%{http_code}' --max-time 10 "$@" 2>/dev/null) || true
  expect_eq "$code" "$status" "$what: status"
  expect_contains "$(jq -r .error "$T/out.json" 2>/dev/null || head -c 300 "$T/out.json")" "$needle" "$what: error"
  alive "$what"
}

python3 -c 'print("{\"service_id\":\"default\",\"current\":\"s2\",\"baseline\":" + "{\"a\":" * 60000 + "1" + "}" * 60000 + "}")' >"$T/deep.json"
call_is 400 GOSTLY_MAX_DEPTH "a 60 000-level baseline" POST /v1/drift/check --data-binary "@$T/deep.json"
call_is 400 mode '{"mode":1e999}' POST /v1/mode --data-binary '{"mode":1e999}'
call_is 400 action '{"action":5}' POST /v1/transition --data-binary '{"action":5}'
call_is 400 timeout_s 'a timeout_s past its range' POST /v1/transition --data-binary '{"action":"begin","timeout_s":18446744073709551615}'
printf '{"mode":"MO\xff\xfeCK"}' >"$T/utf8.json"
call_is 400 mode "invalid UTF-8 in a body" POST /v1/mode --data-binary "@$T/utf8.json"
printf '{"user_id":"\xc3\x28"}' >"$T/ack.json"
call_is 400 user_id "invalid UTF-8 in an acknowledgement" POST /v1/drift/events/1/acknowledge --data-binary "@$T/ack.json"
call_is 400 redact_headers "a redact_headers of the wrong type" PUT /services/default --data-binary '{"redact_headers":[1]}'
# PUT /services/{id} names a field it does not know (a typo would otherwise be ignored) and lists
# the ones it takes; nothing is changed or created.
call_is 400 "unknown field 'mdoe'" "a misspelt field" PUT /services/default --data-binary '{"mdoe":"MOCK"}'
expect_contains "$(jq -r .error "$T/out.json")" "mode, upstream, route, redact_headers, chaos" "the accepted fields"
call_is 400 "unknown field 'extra'" "an unknown field on a new service" PUT /services/fresh --data-binary '{"mode":"MOCK","extra":1}'
expect_eq "$(api GET /services/fresh -o /dev/null -w '%{http_code}')" 404 "no service created by a refused PUT"
call_is 400 "read-only" "a field GET shows but PUT cannot set" PUT /services/default --data-binary '{"library_size":3}'
call_is 400 "request body" "a body that is not an object" PUT /services/default --data-binary '[1]'
expect_eq "$(api PUT /services/default -d '{"chaos":null}' -o /dev/null -w '%{http_code}')" 200 "chaos is a known field"
call_is 400 'request body' "a body that is not an object" POST /v1/drift/check --data-binary '[1,2]'
call_is 400 service "invalid UTF-8 in a service id" GET "/services/a%ff"
call_is 400 service_id "invalid UTF-8 in a query" POST "/v1/mocks/reset-cursors?service_id=%ff%fe"
call_is 400 service_id "invalid UTF-8 in a drift query" GET "/v1/drift/events?service_id=%ff"
call_is 400 session_id "invalid UTF-8 in a seed query" POST "/v1/seed/har?session_id=%c3%28" --data-binary '{}'
# A raw byte 0xff in the request target (curl would escape it; the error echoes the id).
status=$(python3 - "$CONTROL" "$GHOST_API_KEY" <<'PY'
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=5)
s.sendall(b"GET /services/x\xff HTTP/1.1\r\nHost: x\r\nX-API-Key: " + sys.argv[2].encode() + b"\r\nConnection: close\r\n\r\n")
print(s.recv(4096).split(b"\r\n")[0].decode())
PY
)
expect_eq "$status" "HTTP/1.1 400 Bad Request" "raw invalid UTF-8 in a path"
alive "raw invalid UTF-8 in a path"

call_is 405 "GET, HEAD" "DELETE /v1/mode" DELETE /v1/mode
allow=$(grep -i '^Allow:' "$T/head.txt" | tr -d '\r')
expect_eq "$allow" "Allow: GET, HEAD, POST" "the Allow header of /v1/mode"
call_is 405 POST "GET /v1/seed/har" GET /v1/seed/har
expect_eq "$(grep -i '^Allow:' "$T/head.txt" | tr -d '\r')" "Allow: POST" "the Allow header of /v1/seed/har"
call_is 404 "no route" "an unknown path" GET /v1/nothing
call_is 404 "no route" "a path one segment too long" GET /v1/drift/events/1/acknowledge/x
# An unknown path without the key is still refused before routing (no route discovery).
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://$CONTROL/v1/nothing")" 401 "unknown path without a key"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "http://$CONTROL/v1/mode")" 401 "wrong method without a key"
# HEAD /healthz has headers only, so a keep-alive client reads the next answer cleanly.
out=$(curl -s --max-time 5 -I "http://$CONTROL/healthz" --next -s --max-time 5 "http://$CONTROL/healthz")
expect_contains "$out" '"status":"ok"' "GET /healthz after HEAD on one connection"
