#!/usr/bin/env bash
# An upstream answer over --max-body (300 MB against 1 MB, by Content-Length and chunked) is
# passed on whole, as it arrives, in PASSTHROUGH and in LEARN, while the proxy's peak RSS stays
# low; LEARN records its first --max-body bytes, marked "body_truncated":true,
# "truncated_by":"max-body" and "body_bytes" (what the client got). (Boost 1.74 lost its own
# body-limit error and read 300 MB whole; then such answers were a 502.)
source "$(dirname "$0")/common.sh"
cat >"$T/big_upstream.py" <<'PY'
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
SIZE = 300 << 20
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_GET(self):
        chunked = self.path.startswith("/chunked")
        framing = b"Transfer-Encoding: chunked" if chunked else b"Content-Length: %d" % SIZE
        block = b"z" * (1 << 20)
        # The head and the first body bytes in one write, as most servers send them.
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n" + framing + b"\r\n\r\n"
        try:
            self.wfile.write(head + (b"100000\r\n" + block + b"\r\n" if chunked else block))
            for _ in range((SIZE >> 20) - 1):
                self.wfile.write(b"100000\r\n" + block + b"\r\n" if chunked else block)
            if chunked: self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass
s = ThreadingHTTPServer(("127.0.0.1", 0), H)
print("listening on 127.0.0.1:%d" % s.server_address[1], flush=True)
s.serve_forever()
PY
python3 -u "$T/big_upstream.py" >"$T/upstream.log" 2>&1 &
PIDS+=($!)
UPSTREAM="http://$(bound_address "$T/upstream.log")"

hwm_mb() { awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$SERVE_PID/status"; }

# get PATH: sets code and size (of what the client got).
get() {
  local out
  out=$(timeout 30 curl -sS --max-time 25 -o /dev/null -w '%{http_code} %{size_download}' "http://$PROXY$1" || true)
  code=${out% *}
  size=${out#* }
}

for mode in PASSTHROUGH LEARN; do
  start_serve --upstream "$UPSTREAM" --max-body 1M --mode "$mode" --threads 1
  for path in /big /chunked; do
    get $path
    expect_eq "$code" 200 "$mode $path: status"
    expect_eq "$size" 314572800 "$mode $path: bytes the client got"
    hwm=$(hwm_mb)
    [ "$hwm" -lt 64 ] || fail "$mode $path: peak RSS ${hwm} MB after a 300 MB answer over a 1 MB limit"
  done
  kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null || true
done
python3 - "$GOSTLY_DATA/traffic/default.jsonl" <<'PY' || fail "LEARN records"
import json, sys
records = [json.loads(l) for l in open(sys.argv[1])]
assert sorted(r["request"]["uri"] for r in records) == ["/big", "/chunked"], [r["request"]["uri"] for r in records]
for r in records:
    response = r["response"]
    assert response["body"] == "z" * (1 << 20), len(response["body"])
    assert response["body_truncated"] is True, response.keys()
    assert response["truncated_by"] == "max-body", response["truncated_by"]
    assert response["body_bytes"] == 300 << 20, response["body_bytes"]
PY
