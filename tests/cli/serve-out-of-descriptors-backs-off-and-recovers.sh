#!/usr/bin/env bash
# Out of descriptors (hard limit 64, more clients than that): gostly-serve neither spins on
# accept nor dies; it says so once, and once clients leave it answers new ones again.
source "$(dirname "$0")/common.sh"
printf '{"type":"interaction","id":"m1","request":{"method":"GET","uri":"/ping"},"response":{"status":200,"body":"pong"}}\n' >"$T/in.jsonl"
gostly-transition --data "$GOSTLY_DATA" "$T/in.jsonl" 2>"$T/transition.log"
# Mid-episode, connections close one by one and a transition lands (the library watcher, polling
# every 100 ms, retries opening it): each lets one accept through before the next fails, and
# that flapping at the limit is still one episode, logged once.
(ulimit -n 64 && GOSTLY_STORE_POLL_SECONDS=0.1 exec gostly-serve --data "$GOSTLY_DATA" --listen 127.0.0.1:0 --control 127.0.0.1:0 --mode MOCK --threads 1) \
  >"$T/serve.log" 2>&1 &
SERVE_PID=$!
PIDS+=($SERVE_PID)
PROXY=$(bound_address "$T/serve.log" "proxy listening on")
wait_for_port "$PROXY"
printf '{"type":"interaction","id":"m2","request":{"method":"GET","uri":"/pong"},"response":{"status":200,"body":"ping"}}\n' >"$T/more.jsonl"
python3 - "$PROXY" "$SERVE_PID" "$GOSTLY_DATA" "$T/more.jsonl" <<'PY'
import os, socket, subprocess, sys, time
host, port = sys.argv[1].rsplit(":", 1)
pid, data, more = sys.argv[2:5]
def cpu_ticks():
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime
hold = [socket.create_connection((host, int(port)), timeout=5) for _ in range(120)]  # the backlog takes them
time.sleep(0.3)
subprocess.run(["gostly-transition", "--data", data, more], check=True, stderr=subprocess.DEVNULL)
before = cpu_ticks()
time.sleep(1.0)
spent = cpu_ticks() - before
ticks_per_second = os.sysconf("SC_CLK_TCK")
assert spent < 0.3 * ticks_per_second, f"accept loop spins: {spent} ticks in 1 s"
for c in hold[:5]:
    c.close()
    time.sleep(0.15)
for c in hold[5:]:
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
for _ in $(seq 30); do grep -q 'accepting connections again' "$T/serve.log" && break; sleep 0.1; done
expect_eq "$(grep -c 'accepting connections again' "$T/serve.log")" 1 "one recovery after a quiet second"
# The transition that landed at the limit is served once descriptors are back, and the watcher's
# retries (every 100 ms) did not each log a warning.
for _ in $(seq 30); do grep -q '2 mocks loaded' "$T/serve.log" && break; sleep 0.1; done
expect_eq "$(curl -s "http://$PROXY/pong")" ping "the mock added mid-episode"
watcher_warnings=$(grep -c 'warning: library watcher' "$T/serve.log" || true)
[ "$watcher_warnings" -le 1 ] || fail "library watcher warned $watcher_warnings times for one episode"
kill -0 "$SERVE_PID" || fail "gostly-serve died"
