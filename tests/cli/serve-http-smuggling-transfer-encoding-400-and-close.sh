#!/usr/bin/env bash
# Request smuggling: a Transfer-Encoding that is not exactly chunked (xchunked, gzip, chunked
# plus identity), Transfer-Encoding with Content-Length, Transfer-Encoding in HTTP/1.0, or a
# repeated Content-Length gets one 400 and the connection closes: the body is never read as a
# second request, so /smuggled reaches neither the upstream nor the traffic log.
source "$(dirname "$0")/common.sh"
start_api_upstream
start_serve --upstream "$UPSTREAM" --mode LEARN
cat >"$T/raw.py" <<'PY'
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
head = sys.argv[2].encode().decode("unicode_escape").encode("latin-1")
s = socket.create_connection((host, int(port)), timeout=5)
s.sendall(head + b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
got = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            got += b"<closed>"
            break
        got += b
except ConnectionResetError:
    got += b"<reset>"
except socket.timeout:
    got += b"<still open>"
print("%s %d %s" % (got[:12].decode(), got.count(b"HTTP/1.1 "), got[-20:].decode(errors="replace").split("\n")[-1]))
PY
raw() { timeout 10 python3 "$T/raw.py" "$PROXY" "$1"; }
for te in xchunked gzip 'chunked, identity' identity 'chunked, chunked'; do
  out=$(raw "POST /users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: $te\r\n\r\n")
  expect_eq "$out" "HTTP/1.1 400 1 <closed>" "Transfer-Encoding: $te"
done
out=$(raw 'POST /users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n')
expect_eq "$out" "HTTP/1.1 501 1 <closed>" "a coding we do not decode before chunked"
for head in 'POST /users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\n{}' \
            'POST /users HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}' \
            'POST /users HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n' \
            'POST /users HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}'; do
  expect_eq "$(raw "$head")" "HTTP/1.1 400 1 <closed>" "$head"
done
# Well-framed requests still pass, and a pipelined one after them is served.
out=$(raw 'POST /users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n2\r\n{}\r\n0\r\n\r\n')
expect_eq "${out:0:14}" "HTTP/1.1 201 2" "chunked request, then the pipelined one"
grep -c '"uri":"/smuggled"' "$GOSTLY_DATA/traffic/default.jsonl" >"$T/count" || true
expect_eq "$(cat "$T/count")" 1 "only the pipelined request after a well-framed one was recorded"
