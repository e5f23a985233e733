#!/usr/bin/env bash
# An upstream answer whose Content-Length is over --max-body is a 502 naming the limit, found
# from the head before any body byte is buffered: the proxy's peak RSS stays low, in PASSTHROUGH
# and in LEARN. (Boost 1.74 lost its own body-limit error and read 300 MB whole.)
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
            pass  # the proxy hung up: what this test wants
s = ThreadingHTTPServer(("127.0.0.1", 0), H)
print("listening on 127.0.0.1:%d" % s.server_address[1], flush=True)
s.serve_forever()
PY
python3 -u "$T/big_upstream.py" >"$T/upstream.log" 2>&1 &
PIDS+=($!)
UPSTREAM="http://$(bound_address "$T/upstream.log")"

hwm_mb() { awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$SERVE_PID/status"; }

# get PATH: sets code and body (the first 2 KB of the answer: a bad proxy sends 300 MB).
get() {
  code=$(timeout 20 curl -sS --max-time 15 -o "$T/answer" -w '%{http_code}' "http://$PROXY$1" || true)
  body=$(head -c 2000 "$T/answer")
}

for mode in PASSTHROUGH LEARN; do
  start_serve --upstream "$UPSTREAM" --max-body 1M --mode "$mode" --threads 1
  get /big
  hwm=$(hwm_mb)
  [ "$hwm" -lt 64 ] || fail "$mode: peak RSS ${hwm} MB after a 300 MB answer over a 1 MB limit"
  expect_eq "$code" 502 "$mode: status"
  expect_contains "$body" "upstream response too large" "$mode: what failed"
  expect_contains "$body" "314572800 bytes exceeds the limit of 1048576 bytes (--max-body)" "$mode: names the length and the limit"
  get /chunked
  expect_eq "$code" 502 "$mode: chunked status"
  expect_contains "$body" "(--max-body)" "$mode: chunked names the limit"
  hwm=$(hwm_mb)
  [ "$hwm" -lt 64 ] || fail "$mode: peak RSS ${hwm} MB after a chunked answer over the limit"
  if [ "$mode" = LEARN ]; then
    not grep -q zzzz "$GOSTLY_DATA/traffic/default.jsonl" 2>/dev/null || fail "$mode: refused body recorded"
  fi
  kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null || true
done
