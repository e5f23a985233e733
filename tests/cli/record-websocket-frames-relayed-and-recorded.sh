#!/usr/bin/env bash
# WebSocket through gostly-record: a real echo server (python3-websockets) behind the proxy, a
# real client sending a text and a binary message. The upgrade is relayed (the 101 keeps its
# Upgrade/Connection/Sec-WebSocket-* headers), the echoes come back, and the JSONL holds the 101
# as an interaction plus one ws_frame record per frame each way (direction, opcode, payload).
# gostly-transition skips the 101 (never a replayable mock); MOCK answers an upgrade 501.
# Then wss:// through CONNECT with TLS interception against a TLS echo server.
source "$(dirname "$0")/common.sh"
# Debian's python3-websockets is for the system python, which may not be first in PATH.
WSPY=python3
$WSPY -c 'import websockets' 2>/dev/null || WSPY=/usr/bin/python3
$WSPY -c 'import websockets' 2>/dev/null || skip "python3-websockets not installed"
command -v gostly-transition >/dev/null || skip "gostly-transition not built"
ECHO="$SRC/tests/fixtures/websocket_echo.py"

$WSPY -u "$ECHO" serve >"$T/echo.log" 2>&1 &
PIDS+=($!)
ECHO_ADDR=$(bound_address "$T/echo.log")

# ws:// through the proxy listener pointed at the upstream.
timeout 20 gostly-record --upstream "http://$ECHO_ADDR" --listen 127.0.0.1:0 -o "$T/ws.jsonl" -- \
  sh -c 'timeout 10 "$2" "$0" client "ws://${GOSTLY_PROXY_URL#http://}/chat?room=1" >"$1"' "$ECHO" "$T/client.out" "$WSPY" \
  2>"$T/record.log" || fail "client through the proxy failed: $(cat "$T/client.out" 2>/dev/null)"
python3 - "$T/client.out" <<'PY'
import json, sys
got = json.loads(open(sys.argv[1]).read())
assert got == {"text": "hello \u00e9cho", "binary": "000102ff", "subprotocol": "echo.v1"}, got
PY

check_records() { # FILE SCHEME: the 101 interaction and the ws_frame records
  python3 - "$1" "$2" <<'PY'
import base64, json, sys
records = [json.loads(line) for line in open(sys.argv[1])]
upgrades = [r for r in records if r.get("type", "interaction") == "interaction"]
assert len(upgrades) == 1, records
up = upgrades[0]
assert up["response"]["status"] == 101, up["response"]
names = {n.lower(): v for n, v in up["response"]["headers"]}
assert names.get("upgrade", "").lower() == "websocket", names
assert "sec-websocket-accept" in names and names.get("sec-websocket-protocol") == "echo.v1", names
assert up["request"]["uri"] == "/chat?room=1", up["request"]
assert up["request"]["scheme"] == sys.argv[2], up["request"]
frames = [r for r in records if r.get("type") == "ws_frame"]
seen = [(f["direction"], f["opcode"]) for f in frames]
expected = [("client", "text"), ("server", "text"), ("client", "binary"), ("server", "binary")]
assert seen[:4] == expected, seen
assert ("client", "close") in seen and ("server", "close") in seen, seen
for f in frames:
    for key in ("v", "id", "service_id", "session_id", "method", "uri", "host", "fin", "length", "time"):
        assert key in f, (key, f)
    assert f["uri"] == "/chat?room=1" and f["method"] == "GET", f
    assert f["session_id"] == up["session_id"], f
assert frames[0]["text"] == frames[1]["text"] == "hello \u00e9cho", frames[:2]
assert frames[0]["length"] > 0, frames[0]  # the length on the wire (compressed, see below)
assert base64.b64decode(frames[2]["b64"]) == bytes([0, 1, 2, 255]) == base64.b64decode(frames[3]["b64"]), frames[2:4]
assert all(f["fin"] for f in frames[:4]), frames
# The client and server agreed on permessage-deflate: the bytes were relayed compressed and
# the records hold the inflated payloads.
assert "permessage-deflate" in names.get("sec-websocket-extensions", ""), names
assert all(f.get("compressed") for f in frames[:4]), frames[:4]
PY
}
check_records "$T/ws.jsonl" http || fail "records: $(cat "$T/ws.jsonl")"

# A payload past GOSTLY_WS_MAX_FRAME_RECORD is cut in the record (and flagged), never in the relay.
GOSTLY_WS_MAX_FRAME_RECORD=4 timeout 20 gostly-record --upstream "http://$ECHO_ADDR" --listen 127.0.0.1:0 -o "$T/cut.jsonl" -- \
  sh -c 'timeout 10 "$2" "$0" client "ws://${GOSTLY_PROXY_URL#http://}/chat" >"$1"' "$ECHO" "$T/cut.out" "$WSPY" \
  2>"$T/record-cut.log" || fail "client with a small record cap failed"
expect_contains "$(cat "$T/cut.out")" '"hello \u00e9cho"' "echo with a small record cap"
python3 - "$T/cut.jsonl" <<'PY'
import json, sys
frames = [json.loads(l) for l in open(sys.argv[1]) if '"ws_frame"' in l]
assert frames[0]["text"] == "hell" and frames[0]["truncated"] is True, frames[0]
assert frames[4]["opcode"] == "close" and "truncated" not in frames[4], frames[4]
PY

# The library never holds the 101: the transition skips it (and the frames) with a count.
gostly-transition --data "$GOSTLY_DATA" --json "$T/ws.jsonl" >"$T/transition.json" 2>"$T/transition.log"
python3 - "$T/transition.json" <<'PY'
import json, sys
summary = json.loads(open(sys.argv[1]).read())
assert summary["added"] == 0, summary
assert summary["upgrades_skipped"] == 1, summary
assert summary["other_records_skipped"] >= 6, summary
PY

# MOCK: an upgrade is refused with a 501 naming the reason, at once (no hanging client).
start_serve --mode MOCK
code=$(timeout 5 curl -sS -o "$T/mock.b" -w '%{http_code}' "http://$PROXY/chat?room=1" -H 'Connection: Upgrade' \
  -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==')
expect_eq "$code" 501 "MOCK upgrade status"
expect_contains "$(cat "$T/mock.b")" "WebSocket" "MOCK upgrade body"

# wss:// through CONNECT with interception, to a TLS echo server with its own test CA.
command -v openssl >/dev/null || exit 0
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=gostly test CA" \
  -keyout "$T/ca.key" -out "$T/ca.crt" 2>"$T/openssl.log"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
  -keyout "$T/leaf.key" -out "$T/leaf.csr" 2>>"$T/openssl.log"
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$T/leaf.ext"
openssl x509 -req -in "$T/leaf.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial -days 1 \
  -extfile "$T/leaf.ext" -out "$T/leaf.crt" 2>>"$T/openssl.log"
$WSPY -u "$ECHO" serve --tls-cert "$T/leaf.crt" --tls-key "$T/leaf.key" >"$T/echo-tls.log" 2>&1 &
PIDS+=($!)
TLS_ADDR=$(bound_address "$T/echo-tls.log")
TLS_PORT=${TLS_ADDR##*:}
ENABLE_TLS_INTERCEPTION=true timeout 20 gostly-record --data "$T/rec" --listen 127.0.0.1:0 --upstream-ca "$T/ca.crt" \
  -o "$T/wss.jsonl" -- sh -c 'timeout 10 "$4" "$0" client "wss://localhost:$1/chat?room=1" --proxy "${GOSTLY_PROXY_URL#http://}" --cafile "$2/ca/ca.crt" >"$3"' \
  "$ECHO" "$TLS_PORT" "$T/rec" "$T/client-tls.out" "$WSPY" 2>"$T/record-tls.log" ||
  fail "wss client through CONNECT failed: $(cat "$T/client-tls.out" 2>/dev/null)"
python3 - "$T/client-tls.out" <<'PY'
import json, sys
got = json.loads(open(sys.argv[1]).read())
assert got == {"text": "hello \u00e9cho", "binary": "000102ff", "subprotocol": "echo.v1"}, got
PY
check_records "$T/wss.jsonl" https || fail "wss records: $(cat "$T/wss.jsonl")"
