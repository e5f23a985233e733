#!/usr/bin/env bash
# Issue 9 item 7: in MOCK, a resource's status changed through a recorded action (pay) shows on
# the next recorded GET, an action nobody recorded (ship) moves it on through the statechart,
# PUT and DELETE apply to it; a resource never touched answers exactly as recorded. And a LEARN
# server flipped straight to MOCK (no transition) links a POST replayed from the session to a
# later GET by id. A tiny real orders API (Python) is recorded through gostly; the replay runs
# with it stopped.
source "$(dirname "$0")/common.sh"
command -v gostly-transition >/dev/null || skip "gostly-transition not built"

cat >"$T/orders.py" <<'PY'
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
orders, counter = {}, [0x5f3a9c10]
NEXT = {"pay": ("pending", "paid"), "ship": ("paid", "shipped")}
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def send(self, status, obj):
        body = json.dumps(obj, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"{}")
    def do_POST(self):
        parts = self.path.strip("/").split("/")
        if parts == ["orders"]:
            counter[0] += 1
            o = {"id": "ord_%08x" % counter[0], "status": "pending", **self.body()}
            orders[o["id"]] = o
            return self.send(201, o)
        if len(parts) == 3 and parts[1] in orders and parts[2] in NEXT:
            o = orders[parts[1]]
            if o["status"] != NEXT[parts[2]][0]:
                return self.send(409, {"error": "invalid transition"})
            o["status"] = NEXT[parts[2]][1]
            return self.send(200, o)
        self.send(404, {"error": "no route"})
    def do_GET(self):
        parts = self.path.strip("/").split("/")
        if len(parts) == 2 and parts[1] in orders:
            return self.send(200, orders[parts[1]])
        self.send(404, {"error": "no route"})
s = ThreadingHTTPServer(("127.0.0.1", 0), H)
print("listening on 127.0.0.1:%d" % s.server_address[1], flush=True)
s.serve_forever()
PY
/usr/bin/python3 -u "$T/orders.py" >"$T/upstream.log" 2>&1 &
UPSTREAM_PID=$!
PIDS+=($UPSTREAM_PID)
UPSTREAM="http://$(bound_address "$T/upstream.log")"

# send METHOD PATH [BODY]: through the proxy; sets STATUS, TIER (X-Ghost-Mock) and BODY.
send() {
  local args=(-sS -X "$1" -D "$T/h" -o "$T/b" "http://$PROXY$2")
  [ $# -lt 3 ] || args+=(-H 'Content-Type: application/json' -d "$3")
  timeout 10 curl "${args[@]}"
  STATUS=$(head -n1 "$T/h" | awk '{print $2}')
  TIER=$(grep -i '^X-Ghost-Mock:' "$T/h" | awk '{print $2}' | tr -d '\r' || true)
  BODY=$(cat "$T/b")
}
field() { /usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2]))' "$BODY" "$1"; }

# --- 1. Recorded: create A and B, read them (pending), pay A. ------------------------------------
cat >"$T/client.sh" <<'SH'
set -e
c() { curl -sS -o /dev/null -w '%{http_code}\n' "$@"; }
c -X POST "$GOSTLY_PROXY_URL/orders" -H 'Content-Type: application/json' -d '{"total":10}'
c -X POST "$GOSTLY_PROXY_URL/orders" -H 'Content-Type: application/json' -d '{"total":3}'
c "$GOSTLY_PROXY_URL/orders/ord_5f3a9c11"
c "$GOSTLY_PROXY_URL/orders/ord_5f3a9c12"
c -X POST "$GOSTLY_PROXY_URL/orders/ord_5f3a9c11/pay"
SH
gostly-record --upstream "$UPSTREAM" --listen 127.0.0.1:0 -o "$T/s1.jsonl" -- bash "$T/client.sh" >"$T/client.out" 2>"$T/record.log"
expect_eq "$(tr '\n' ' ' <"$T/client.out")" "201 201 200 200 200 " "live statuses"
gostly-transition --data "$GOSTLY_DATA" "$T/s1.jsonl" 2>"$T/transition.log"
kill "$UPSTREAM_PID"; wait "$UPSTREAM_PID" 2>/dev/null || true

start_serve --mode MOCK
A=/orders/ord_5f3a9c11
send GET $A
expect_eq "$STATUS $TIER $(field status)" "200 exact pending" "A before anything happened"
send POST /orders '{"total":10}'
expect_eq "$STATUS $TIER" "201 exact" "create A"
send POST $A/pay
expect_eq "$STATUS $TIER $(field status)" "200 exact paid" "pay A (recorded)"
send GET $A
expect_eq "$STATUS $TIER $(field status) $(field total)" "200 resource_store paid 10" "A after the recorded pay"
send POST $A/ship
expect_eq "$STATUS $TIER $(field status)" "200 resource_transition shipped" "ship A (not recorded)"
expect_contains "$(grep -i '^X-Ghost-Transition:' "$T/h")" "order:paid->shipped" "transition header"
send GET $A
expect_eq "$STATUS $TIER $(field status)" "200 resource_store shipped" "A after ship"
send GET /orders/ord_5f3a9c12
expect_eq "$STATUS $TIER $BODY" '200 exact {"id":"ord_5f3a9c12","status":"pending","total":3}' "B, never touched"
send PUT $A '{"status":"shipped","total":12}'
expect_eq "$STATUS $TIER $(field total)" "200 resource_store 12" "PUT A"
send GET $A
expect_eq "$STATUS $TIER $(field total)" "200 resource_store 12" "A after PUT"
send DELETE $A
expect_eq "$STATUS $TIER" "204 resource_store" "DELETE A"
send GET $A
expect_eq "$STATUS $TIER" "404 resource_store" "A after DELETE"
stop_serve() { kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null || true; }
stop_serve

# --- 2. LEARN flipped straight to MOCK: the session's POST links to a GET by id. ----------------
mv "$T/serve.log" "$T/serve-part1.log"; mv "$T/upstream.log" "$T/upstream-part1.log" # no stale addresses
/usr/bin/python3 -u "$T/orders.py" >"$T/upstream.log" 2>&1 &
UPSTREAM_PID=$!
PIDS+=($UPSTREAM_PID)
UPSTREAM="http://$(bound_address "$T/upstream.log")"
rm -rf "$GOSTLY_DATA"
start_serve --upstream "$UPSTREAM" --mode LEARN
send POST /orders '{"total":7}'
expect_eq "$STATUS $(field id)" "201 ord_5f3a9c11" "created in LEARN"
expect_contains "$(api POST /v1/mode -d '{"mode":"MOCK"}')" '"mode":"MOCK"' "flip to MOCK"
kill "$UPSTREAM_PID"; wait "$UPSTREAM_PID" 2>/dev/null || true
send POST /orders '{"total":7}'
expect_eq "$STATUS $TIER" "201 session-verbatim" "create replayed from the session"
send GET /orders/ord_5f3a9c11
expect_eq "$STATUS $TIER $(field status) $(field total)" "200 resource_store pending 7" "GET by id after the session's POST"
send POST /orders/ord_5f3a9c11/pay
expect_eq "$STATUS $TIER $(field status)" "200 resource_transition paid" "pay it"
send GET /orders/ord_5f3a9c11
expect_eq "$STATUS $TIER $(field status)" "200 resource_store paid" "GET after pay"
