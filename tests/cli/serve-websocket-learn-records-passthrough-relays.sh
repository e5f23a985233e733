#!/usr/bin/env bash
# gostly-serve relays a WebSocket upgrade in LEARN (101 + ws_frame records in traffic/) and in
# PASSTHROUGH (relayed, nothing recorded), answers it 501 in MOCK; an upstream that does not
# switch protocols gets its answer back as a normal response.
source "$(dirname "$0")/common.sh"
WSPY=python3
$WSPY -c 'import websockets' 2>/dev/null || WSPY=/usr/bin/python3
$WSPY -c 'import websockets' 2>/dev/null || skip "python3-websockets not installed"
ECHO="$SRC/tests/fixtures/websocket_echo.py"

$WSPY -u "$ECHO" serve >"$T/echo.log" 2>&1 &
PIDS+=($!)
ECHO_ADDR=$(bound_address "$T/echo.log")
start_serve --upstream "http://$ECHO_ADDR" --mode LEARN
traffic="$GOSTLY_DATA/traffic/default.jsonl"

echo_once() { # NAME: one client session through the proxy, checked
  timeout 10 $WSPY "$ECHO" client "ws://$PROXY/live" >"$T/$1.out" || fail "$1: client failed"
  expect_eq "$(cat "$T/$1.out")" '{"text": "hello \u00e9cho", "binary": "000102ff", "subprotocol": "echo.v1"}' "$1 echoes"
}
echo_once learn
# The frame records are written as the frames pass; the last (the close) right after.
for _ in $(seq 50); do [ "$(grep -c '"opcode":"close"' "$traffic" 2>/dev/null)" = 2 ] && break; sleep 0.1; done
python3 - "$traffic" <<'PY'
import json, sys
records = [json.loads(l) for l in open(sys.argv[1])]
frames = [(r["direction"], r["opcode"], r.get("text")) for r in records if r.get("type") == "ws_frame"]
assert frames[:2] == [("client", "text", "hello \u00e9cho"), ("server", "text", "hello \u00e9cho")], frames
assert [r["response"]["status"] for r in records if r.get("type", "interaction") == "interaction"] == [101], records
PY
lines=$(wc -l <"$traffic")

api POST /v1/mode -d '{"mode":"PASSTHROUGH"}' >/dev/null
echo_once passthrough
sleep 0.3
expect_eq "$(wc -l <"$traffic")" "$lines" "lines after PASSTHROUGH (nothing recorded)"

api POST /v1/mode -d '{"mode":"MOCK"}' >/dev/null
not timeout 10 $WSPY "$ECHO" client "ws://$PROXY/live" >"$T/mock.out" 2>"$T/mock.err" || fail "MOCK upgrade succeeded"
expect_contains "$(cat "$T/mock.err")" "501" "MOCK refusal seen by the client"

# An upstream that answers an upgrade with a normal response: relayed as a normal response.
start_api_upstream
code=$(timeout 10 gostly-record --upstream "$UPSTREAM" --listen 127.0.0.1:0 -o "$T/plain.jsonl" -- \
  sh -c 'curl -sS -o "$0" -w "%{http_code}" "$GOSTLY_PROXY_URL/users/42" -H "Connection: Upgrade" -H "Upgrade: websocket" \
    -H "Sec-WebSocket-Version: 13" -H "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="' "$T/plain.b" 2>"$T/record.log")
expect_eq "$code" 200 "non-101 answer status"
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["id"] == 42' "$T/plain.b" || fail "non-101 body: $(cat "$T/plain.b")"
