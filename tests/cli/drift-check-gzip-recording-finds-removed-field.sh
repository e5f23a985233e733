#!/usr/bin/env bash
# Issue 10 item 1: most production APIs compress. A real recording through gostly-record of an
# upstream that answers `Content-Encoding: gzip` (or br-less deflate) to `curl --compressed`,
# where v2 removed a field: gostly-drift check must decode the bodies before fingerprinting and
# report the removed field (major, exit 1), not "not JSON objects" and exit 0. Two v1 recordings
# give no event. A corrupt gzip body is counted and named on stderr, never a crash.
source "$(dirname "$0")/common.sh"
for tool in gostly-record gostly-transition; do
  [ -x "$BIN/$tool" ] || skip "$tool is not built yet"
done

cat >"$T/upstream.py" <<'PY'
import gzip, json, sys, zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
variant = sys.argv[1]
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        n = int(self.path.rsplit("/", 1)[1])
        body = {"id": n, "name": "item %d" % n, "price": n * 3, "tags": ["a"]}
        if variant == "v2": del body["price"]
        raw = json.dumps(body).encode()
        accept = self.headers.get("Accept-Encoding", "")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if self.path.startswith("/deflated/") and "deflate" in accept:
            raw = zlib.compress(raw); self.send_header("Content-Encoding", "deflate")
        elif "gzip" in accept:
            raw = gzip.compress(raw); self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)
s = ThreadingHTTPServer(("127.0.0.1", 0), H)
print("listening on 127.0.0.1:%d" % s.server_address[1], file=sys.stderr, flush=True)
s.serve_forever()
PY
cat >"$T/client.sh" <<'SH'
#!/usr/bin/env bash
for i in $(seq 1 12); do
  curl -sS --compressed -o /dev/null "$GOSTLY_PROXY_URL/items/$i"
  curl -sS -H 'Accept-Encoding: deflate' -o /dev/null "$GOSTLY_PROXY_URL/deflated/$i"
done
SH
chmod +x "$T/client.sh"

record() { # record VARIANT NAME
  python3 -u "$T/upstream.py" "$1" >"$T/upstream-$2.log" 2>&1 &
  local pid=$!
  PIDS+=($pid)
  local addr
  addr=$(bound_address "$T/upstream-$2.log")
  wait_for_port "$addr"
  timeout 30 gostly-record --upstream "http://$addr" -o "$T/$2.jsonl" -- "$T/client.sh" 2>"$T/record-$2.log"
  kill "$pid"
  timeout 30 gostly-transition --data "$GOSTLY_DATA" "$T/$2.jsonl" 2>"$T/transition-$2.log"
}
record v1 v1
record v1 v1-again
record v2 v2

# The recording keeps the bytes as sent: compressed, with the header.
expect_eq "$(jq -r '[.response.headers[] | select(.[0] | ascii_downcase == "content-encoding") | .[1]] | .[0]' "$T/v1.jsonl" | sort -u | tr '\n' ' ')" \
  "deflate gzip " "recorded content codings"

session_of() { jq -r .session_id "$T/$1.jsonl" | sort -u; }
v1=$(session_of v1) v1b=$(session_of v1-again) v2=$(session_of v2)

status=0
timeout 30 gostly-drift check --baseline "$v1" --current "$v2" >"$T/events.jsonl" 2>"$T/check.log" || status=$?
expect_eq "$status" 1 "exit status with a field removed behind gzip"
summary=$(jq -r '"\(.method) \(.route) \(.change_type) \(.severity) \(.diff[0].field)"' "$T/events.jsonl" | sort)
expect_eq "$summary" "GET /deflated/{id} field_removed major price
GET /items/{id} field_removed major price" "events"
if grep -q "not JSON objects" "$T/check.log"; then fail "compressed bodies reported as not JSON: $(cat "$T/check.log")"; fi

status=0
timeout 30 gostly-drift check --baseline "$v1" --current "$v1b" >"$T/none.jsonl" 2>"$T/none.log" || status=$?
expect_eq "$status" 0 "exit status between two v1 recordings"
expect_eq "$(wc -c <"$T/none.jsonl")" 0 "events between two v1 recordings"

# A body that says gzip but is not: counted and named, the other bodies still compared.
jq -c 'if .request.uri == "/items/3" then .response.body = "bm90IGd6aXA=" | del(.response.body_b64) else . end' \
  "$T/v2.jsonl" >"$T/v2-corrupt.jsonl"
status=0
timeout 30 gostly-drift diff "$T/v1.jsonl" "$T/v2-corrupt.jsonl" >"$T/diff.jsonl" 2>"$T/diff.log" || status=$?
expect_eq "$status" 1 "diff exit status with one corrupt body"
expect_contains "$(cat "$T/diff.log")" "GET /items/{id}: 1 response bodies could not be decoded (gzip:" "corrupt body warning"
expect_eq "$(jq -r 'select(.route == "/items/{id}") | .diff[0].signal' "$T/diff.jsonl")" "field_removed" "corrupt body does not hide drift"
