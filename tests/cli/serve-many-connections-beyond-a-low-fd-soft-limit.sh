#!/usr/bin/env bash
# Many concurrent connections: started under a soft open-file limit of 256, gostly-serve raises
# it to the hard limit and answers 600 clients that are all connected at the same time.
source "$(dirname "$0")/common.sh"
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] || [ "$hard" -ge 2048 ] || skip "hard open-file limit $hard is too low for this test"
printf '{"type":"interaction","id":"m1","request":{"method":"GET","uri":"/ping"},"response":{"status":200,"body":"pong"}}\n' >"$T/in.jsonl"
gostly-transition --data "$GOSTLY_DATA" "$T/in.jsonl" 2>"$T/transition.log"
(ulimit -Sn 256 && exec gostly-serve --data "$GOSTLY_DATA" --listen 127.0.0.1:0 --control 127.0.0.1:0 --mode MOCK) >"$T/serve.log" 2>&1 &
PIDS+=($!)
PROXY=$(bound_address "$T/serve.log" "proxy listening on")
wait_for_port "$PROXY"
python3 - "$PROXY" <<'PY'
import resource, socket, sys
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 2048), hard))
host, port = sys.argv[1].rsplit(":", 1)
clients = [socket.create_connection((host, int(port)), timeout=10) for _ in range(600)]
for c in clients:  # every connection is open before any request is answered
    c.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
answered = 0
for c in clients:
    data = b""
    while not data.endswith(b"pong"):
        chunk = c.recv(4096)
        if not chunk:
            break
        data += chunk
    answered += data.startswith(b"HTTP/1.1 200") and data.endswith(b"pong")
assert answered == 600, f"{answered} of 600 clients answered"
PY
