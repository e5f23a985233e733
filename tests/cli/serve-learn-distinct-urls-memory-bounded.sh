#!/usr/bin/env bash
# LEARN over many distinct URLs: the session-verbatim buffer stays within --session-buffer-max
# (oldest keys out), so the daemon's RSS stays flat instead of growing with every new URL, and
# /metrics shows the bytes held and the evictions. An evicted key then misses tier 1 in MOCK
# while the newest keys still replay verbatim.
source "$(dirname "$0")/common.sh"

# A real HTTP/1.1 keep-alive upstream answering any path with an 8 KiB JSON body, so each
# distinct URL would cost the buffer more than 8 KiB if nothing evicted it.
cat >"$T/upstream.py" <<'PY'
import http.server, sys
BODY = b'{"pad":"' + b"x" * 8192 + b'"}'
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go in two writes: no 40 ms delayed-ACK stall
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print("listening on 127.0.0.1:%d" % server.server_address[1], flush=True)
server.serve_forever()
PY
python3 -u "$T/upstream.py" >"$T/upstream.log" 2>&1 &
PIDS+=($!)
UPSTREAM="http://$(bound_address "$T/upstream.log")"

# The flag is checked at start: a bad size is a usage error naming it, from the flag or the env.
out=$(gostly-serve --data "$GOSTLY_DATA" --session-buffer-max 12X --listen 127.0.0.1:0 --control 127.0.0.1:0 2>&1) \
  && fail "a bad --session-buffer-max was accepted" || expect_eq $? 2 "exit status of a bad --session-buffer-max"
expect_contains "$out" "--session-buffer-max (env GOSTLY_SESSION_BUFFER_MAX) '12X'" "the error names the flag and the value"
out=$(GOSTLY_SESSION_BUFFER_MAX=lots gostly-serve --data "$GOSTLY_DATA" --listen 127.0.0.1:0 --control 127.0.0.1:0 2>&1) \
  && fail "a bad GOSTLY_SESSION_BUFFER_MAX was accepted" || expect_eq $? 2 "exit status of a bad GOSTLY_SESSION_BUFFER_MAX"
expect_contains "$out" "GOSTLY_SESSION_BUFFER_MAX) 'lots'" "the error names the env var and its value"

max=$((256 * 1024))
GOSTLY_SESSION_BUFFER_MAX=1G start_serve --upstream "$UPSTREAM" --mode LEARN --session-buffer-max 256K # the flag wins

# urls FROM TO: a curl config fetching /page/FROM .. /page/TO-1 over one keep-alive connection.
urls() {
  local i
  for ((i = $1; i < $2; i++)); do printf 'url = "http://%s/page/%d?q=%d"\noutput = "/dev/null"\n' "$PROXY" "$i" "$i"; done
}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$SERVE_PID/status"; }
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$SERVE_PID/status"; }

# Warm up (allocator arenas, connection pools, the buffer filled to its budget), then measure.
urls 0 500 >"$T/warm.curl"
timeout 120 curl -sS --fail --config "$T/warm.curl" || fail "warm-up requests failed"
before=$(rss_kib)
n=5000
urls 500 $((500 + n)) >"$T/load.curl"
timeout 120 curl -sS --fail --config "$T/load.curl" || fail "load requests failed"
after=$(rss_kib)
peak=$(hwm_kib)

# Unbounded, each of the 5 000 new keys kept > 8 KiB (over 40 MB in all); bounded, RSS may
# wobble by allocator noise, far below that.
growth=$((after - before))
echo "VmRSS ${before} KiB -> ${after} KiB (peak ${peak} KiB) over $n distinct URLs" >&2
[ "$growth" -lt $((12 * 1024)) ] || fail "RSS grew by ${growth} KiB over $n distinct URLs (bounded buffer: ${max} bytes)"
[ "$peak" -lt $((before + 16 * 1024)) ] || fail "peak RSS ${peak} KiB, started at ${before} KiB"

metrics=$(api GET /metrics)
learned=$(sed -n 's/^ghost_requests_total{match_type="learn"} //p' <<<"$metrics")
expect_eq "$learned" $((500 + n)) "LEARN requests counted"
bytes=$(sed -n 's/^gostly_session_buffer_bytes //p' <<<"$metrics")
budget=$(sed -n 's/^gostly_session_buffer_max_bytes //p' <<<"$metrics")
evictions=$(sed -n 's/^gostly_session_buffer_evictions_total //p' <<<"$metrics")
expect_eq "$budget" "$max" "gostly_session_buffer_max_bytes"
[ -n "$bytes" ] && [ "$bytes" -gt 0 ] && [ "$bytes" -le "$max" ] || fail "gostly_session_buffer_bytes '$bytes' not in (0, $max]"
[ -n "$evictions" ] && [ "$evictions" -gt $((n / 2)) ] || fail "gostly_session_buffer_evictions_total '$evictions': expected > $((n / 2))"
session_size=$(api GET /services/default | python3 -c 'import json,sys; print(json.load(sys.stdin)["session_size"])')
[ "$session_size" -lt 1000 ] || fail "session_size $session_size: the buffer kept too many keys"

# In MOCK the newest key still replays verbatim; the first one was evicted and misses.
expect_contains "$(api POST /v1/mode -d '{"mode":"MOCK"}')" MOCK "mode switched"
last=$(curl -sS -D - -o /dev/null "http://$PROXY/page/$((500 + n - 1))?q=$((500 + n - 1))")
expect_contains "$last" "X-Ghost-Mock: session-verbatim" "newest key answered from the session buffer"
first=$(curl -sS -D - -o /dev/null "http://$PROXY/page/0?q=0")
expect_contains "$first" "X-Ghost-Mock: miss" "evicted key misses tier 1 (no library)"
