#!/usr/bin/env bash
# gostly-export har | gostly-seed har gives back the recorded interactions (method, URI, status,
# headers, body): record the example client tests against the live upstream, export the HAR
# (from the JSONL and from the library), seed it back, and the same client tests pass against
# gostly-serve in MOCK with the upstream gone.
source "$(dirname "$0")/common.sh"
for tool in gostly-record gostly-seed gostly-transition gostly-serve; do
  command -v $tool >/dev/null || skip "$tool not built"
done
start_api_upstream
timeout 30 gostly-record --upstream "$UPSTREAM" --listen 127.0.0.1:0 -o "$T/rec.jsonl" -- \
  "$SRC/examples/client-tests.sh" >"$T/client.log" 2>"$T/record.log" || fail "client tests failed live"
records=$(wc -l <"$T/rec.jsonl")
[ "$records" -ge 7 ] || fail "only $records interactions recorded"

timeout 10 gostly-export har "$T/rec.jsonl" -o "$T/rec.har"
# The same HAR from stdin, and from the library after gostly-transition.
timeout 10 gostly-export har - <"$T/rec.jsonl" >"$T/stdin.har"
cmp -s "$T/rec.har" "$T/stdin.har" || fail "stdin and file inputs differ"
gostly-transition --data "$T/lib" "$T/rec.jsonl" 2>"$T/transition-lib.log"
timeout 10 gostly-export har --data "$T/lib" --service default -o "$T/lib.har"
/usr/bin/python3 - "$T/rec.har" "$T/lib.har" "$records" <<'PY'
import json, sys
har, lib, n = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), int(sys.argv[3])
assert har["log"]["version"] == "1.2"
assert len(har["log"]["entries"]) == n, len(har["log"]["entries"])
assert len(lib["log"]["entries"]) == n, len(lib["log"]["entries"])
for e in har["log"]["entries"]:
    assert e["startedDateTime"].endswith("Z") and e["time"] >= 0 and e["timings"]["wait"] == e["time"], e
    assert e["request"]["url"].startswith("http://127.0.0.1:"), e["request"]["url"]
    assert e["request"]["httpVersion"] == "HTTP/1.1"
text = open(sys.argv[1]).read()
assert "do-not-store-me" not in text and "upstream-secret" not in text, "a secret reached the HAR"
PY

# Valid HAR 1.2 by a real validator (har-validator, installed with newman by scripts/install-deps.sh).
if [ -d "$SRC/scripts/node/node_modules/har-validator" ] && command -v node >/dev/null; then
  NODE_PATH="$SRC/scripts/node/node_modules" node -e '
    const har = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    require("har-validator").har(har).catch(e => { console.error(JSON.stringify(e.errors || e.message)); process.exit(1); });
  ' "$T/rec.har" 2>"$T/validator.log" || fail "har-validator refused the HAR: $(cat "$T/validator.log")"
fi

# Round trip: the seeded records carry the recorded method, URI, status, headers and body.
gostly-export har "$T/rec.jsonl" | gostly-seed har --service default >"$T/seeded.jsonl"
/usr/bin/python3 - "$T/rec.jsonl" "$T/seeded.jsonl" <<'PY'
import json, sys
FLOOR = {"authorization", "cookie", "set-cookie"}
def load(p): return [json.loads(l) for l in open(p)]
def body(m): return m.get("body") or m.get("body_b64") or ""
def headers(m): return [h for h in m["headers"] if h[0].lower() not in FLOOR]
rec, seeded = load(sys.argv[1]), load(sys.argv[2])
assert len(rec) == len(seeded), (len(rec), len(seeded))
for a, b in zip(rec, seeded):
    for side in ("request", "response"):
        assert headers(a[side]) == headers(b[side]), (side, a[side]["headers"], b[side]["headers"])
        assert body(a[side]) == body(b[side]), (side, body(a[side]), body(b[side]))
    assert (a["request"]["method"], a["request"]["uri"], a["response"]["status"]) == \
           (b["request"]["method"], b["request"]["uri"], b["response"]["status"])
PY
gostly-transition --data "$GOSTLY_DATA" "$T/seeded.jsonl" 2>"$T/transition.log"

kill "$UPSTREAM_PID"
wait "$UPSTREAM_PID" 2>/dev/null || true
start_serve --mode MOCK
API_BASE_URL="http://$PROXY" timeout 30 "$SRC/examples/client-tests.sh" >"$T/mock.log" 2>&1 ||
  fail "client tests failed against the MOCK replay of the exported HAR: $(cat "$T/mock.log")"
