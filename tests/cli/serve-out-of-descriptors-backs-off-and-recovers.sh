#!/usr/bin/env bash
# Out of descriptors (hard limit 64, more clients than that): gostly-serve neither spins on
# accept nor dies; it says so once, and once clients leave it answers new ones again.
source "$(dirname "$0")/common.sh"
printf '{"type":"interaction","id":"m1","request":{"method":"GET","uri":"/ping"},"response":{"status":200,"body":"pong"}}\n' >"$T/in.jsonl"
gostly-transition --data "$GOSTLY_DATA" "$T/in.jsonl" 2>"$T/transition.log"
(ulimit -n 64 && exec gostly-serve --data "$GOSTLY_DATA" --listen 127.0.0.1:0 --control 127.0.0.1:0 --mode MOCK --threads 1) \
  >"$T/serve.log" 2>&1 &
SERVE_PID=$!
PIDS+=($SERVE_PID)
PROXY=$(bound_address "$T/serve.log" "proxy listening on")
wait_for_port "$PROXY"
python3 - "$PROXY" "$SERVE_PID" <<'PY'
import os, socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
pid = sys.argv[2]
def cpu_ticks():
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime
hold = [socket.create_connection((host, int(port)), timeout=5) for _ in range(120)]  # the backlog takes them
time.sleep(0.3)
before = cpu_ticks()
time.sleep(1.0)
spent = cpu_ticks() - before
ticks_per_second = os.sysconf("SC_CLK_TCK")
assert spent < 0.3 * ticks_per_second, f"accept loop spins: {spent} ticks in 1 s"
for c in hold:
    c.close()
time.sleep(0.3)
c = socket.create_connection((host, int(port)), timeout=5)
c.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
data = b""
deadline = time.time() + 5
while not data.endswith(b"pong") and time.time() < deadline:
    chunk = c.recv(4096)
    if not chunk:
        break
    data += chunk
assert data.startswith(b"HTTP/1.1 200") and data.endswith(b"pong"), data
PY
expect_eq "$(grep -c 'accept failed' "$T/serve.log")" 1 "one warning for the episode"
kill -0 "$SERVE_PID" || fail "gostly-serve died"
