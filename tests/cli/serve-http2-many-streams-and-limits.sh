#!/usr/bin/env bash
# HTTP/2 with many streams on one connection, and its limits: h2load's 200 requests 32 at a time
# on one connection to MOCK on --tls-listen all answered; Node's http2 client on one session:
# 100 concurrent streams (hits and misses) each get their own answer, a body over --max-body gets
# 413 (announced, growing without a length, or two bodies arriving together on the connection
# over it), a header list over 64 KiB gets 431, and the session still works after; in LEARN a stream reset while its upstream call is pending leaves
# the other streams and the connection working, and the late reply is dropped.
source "$(dirname "$0")/common.sh"
command -v h2load >/dev/null || skip "h2load not installed (nghttp2-client)"
command -v node >/dev/null || skip "node not installed"

# A library with one recording: GET /users/1 -> 614 bytes of JSON.
python3 - "$T/lib.jsonl" <<'PY'
import json, sys
prefix = json.dumps({"id": 1, "name": "user-1", "bio": ""}, separators=(",", ":"))[:-2]
body = prefix + "x" * (614 - len(prefix) - 2) + '"}'
assert len(body) == 614, len(body)
rec = {"type": "interaction", "v": 1, "id": "int-h2", "service_id": "default", "session_id": "sess-h2",
       "source": "learn", "recorded_at": "2026-11-30T00:00:00Z",
       "request": {"method": "GET", "uri": "/users/1", "scheme": "https", "host": "localhost", "http_version": "2",
                   "headers": [["accept", "*/*"]]},
       "response": {"status": 200, "reason": "OK", "headers": [["Content-Type", "application/json"]], "body": body}}
open(sys.argv[1], "w").write(json.dumps(rec) + "\n")
PY
gostly-transition --data "$GOSTLY_DATA" "$T/lib.jsonl" 2>"$T/transition.log"
export ENABLE_TLS_INTERCEPTION=true
start_serve --mode MOCK --tls-listen 127.0.0.1:0 --max-body 1K
TLS=$(bound_address "$T/serve.log" "TLS listening on")
URL="https://localhost:${TLS##*:}"
CA="$GOSTLY_DATA/ca/ca.crt"

# h2load: one connection, 32 streams at a time, 200 requests.
timeout 20 h2load -n 200 -c 1 -m 32 "$URL/users/1" >"$T/h2load.log" 2>&1 || fail "h2load failed: $(tail -n 20 "$T/h2load.log")"
grep -q "Application protocol: h2" "$T/h2load.log" || fail "h2load did not speak h2: $(cat "$T/h2load.log")"
grep -q "requests: 200 total, 200 started, 200 done, 200 succeeded, 0 failed, 0 errored" "$T/h2load.log" \
  || fail "not every stream answered: $(grep requests: "$T/h2load.log")"
grep -q "status codes: 200 2xx" "$T/h2load.log" || fail "statuses: $(grep 'status codes' "$T/h2load.log")"

cat >"$T/client.js" <<'JS'
// node client.js URL CA MODE: one HTTP/2 session, several streams; prints what failed and exits 1.
const http2 = require("http2"), fs = require("fs");
const [url, ca, mode] = process.argv.slice(2);
const session = http2.connect(url, { ca: fs.readFileSync(ca), maxSendHeaderBlockLength: 1 << 20 });
session.on("error", (e) => { console.error("session error:", e.message); process.exit(1); });
const failures = [];
function request(headers, body, onStream) {
  return new Promise((resolve) => {
    const req = session.request(headers);
    let status = 0, data = "";
    req.on("response", (h) => { status = h[":status"]; });
    req.on("data", (c) => { data += c; });
    req.on("end", () => resolve({ status, data }));
    req.on("error", (e) => resolve({ status, data, error: e.code || e.message }));
    req.on("close", () => resolve({ status, data, closed: true, code: req.rstCode }));
    if (onStream) onStream(req);
    if (body !== undefined) req.end(body);
  });
}
function expect(what, got, want) { if (got !== want) failures.push(`${what}: expected ${want}, got ${got}`); }
async function mock() {
  // 100 streams at once on the one connection: hits and misses, each its own answer.
  const all = [];
  for (let i = 0; i < 100; i++) {
    const path = i % 4 === 3 ? `/missing/${i}` : "/users/1";
    all.push(request({ ":path": path }, undefined).then((r) => [path, r]));
  }
  for (const [path, r] of await Promise.all(all)) {
    if (path === "/users/1") { expect(`${path} status`, r.status, 200); expect(`${path} length`, r.data.length, 614); }
    else { expect(`${path} status`, r.status, 404); if (!r.data.includes(path)) failures.push(`${path}: miss body ${r.data}`); }
  }
  // Over --max-body 1K: announced by content-length, and growing without one.
  const big = "x".repeat(4096);
  const announced = await request({ ":method": "POST", ":path": "/users", "content-length": String(big.length) }, big);
  expect("announced body status", announced.status, 413);
  if (!announced.data.includes("--max-body")) failures.push(`413 body: ${announced.data}`);
  const growing = await request({ ":method": "POST", ":path": "/users" }, undefined, (req) => {
    let n = 0;
    const more = () => { if (n++ < 8) { req.write("y".repeat(512)); setTimeout(more, 5); } else req.end(); };
    more();
  });
  expect("growing body status", growing.status, 413);
  // Bodies arriving together on one connection count together: 2 x 700 bytes pass 1K.
  const twin = () => request({ ":method": "POST", ":path": "/twins" }, undefined, (req) => {
    req.write("t".repeat(700));
    setTimeout(() => req.end(), 100);
  });
  const twins = (await Promise.all([twin(), twin()])).map((r) => r.status).sort().join(" ");
  expect("bodies arriving together", twins, "404 413");
  // A header list over 64 KiB.
  const huge = await request({ ":path": "/users/1", "x-big": "z".repeat(70 * 1024) });
  expect("huge header status", huge.status, 431);
  // The session still serves.
  const after = await request({ ":path": "/users/1" });
  expect("after status", after.status, 200);
}
async function learn() {
  // A stream reset while its upstream call is pending, next to one that is not.
  const reset = request({ ":path": "/slow?ms=600" }, undefined, (req) => setTimeout(() => req.close(http2.constants.NGHTTP2_CANCEL), 100));
  const kept = request({ ":path": "/slow?ms=300" });
  const [r1, r2] = await Promise.all([reset, kept]);
  expect("reset stream status", r1.status, 0);
  expect("kept stream status", r2.status, 200);
  await new Promise((res) => setTimeout(res, 800)); // the reset stream's late reply arrives
  const after = await request({ ":path": "/users/2" });
  expect("after reset status", after.status, 200);
  if (!after.data.includes('"id": 2') && !after.data.includes('"id":2')) failures.push(`after reset body: ${after.data}`);
}
(mode === "learn" ? learn() : mock()).then(() => {
  session.close();
  if (failures.length) { console.error(failures.join("\n")); process.exit(1); }
  console.log("ok");
});
JS
timeout 20 node "$T/client.js" "$URL" "$CA" mock >"$T/node-mock.log" 2>&1 || fail "node (MOCK): $(cat "$T/node-mock.log")"
kill -0 "$SERVE_PID" 2>/dev/null || fail "gostly-serve died"

# LEARN: the reply to a reset stream comes back from the upstream after the reset.
kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null || true
start_api_upstream
start_serve --mode LEARN --upstream "$UPSTREAM" --tls-listen 127.0.0.1:0
TLS=$(bound_address "$T/serve.log" "TLS listening on")
timeout 20 node "$T/client.js" "https://localhost:${TLS##*:}" "$CA" learn >"$T/node-learn.log" 2>&1 \
  || fail "node (LEARN): $(cat "$T/node-learn.log")"
kill -0 "$SERVE_PID" 2>/dev/null || fail "gostly-serve died"
