#!/usr/bin/env bash
# gostly-export postman: the collection of a real recording runs green in newman against the live
# server (each request checks its recorded status), goes red against a server that changed, and
# never carries a credential: the recorded Authorization is a {{authorization}} variable.
source "$(dirname "$0")/common.sh"
command -v gostly-record >/dev/null || skip "gostly-record not built"
NEWMAN=$(node_client newman)
start_api_upstream
timeout 30 gostly-record --upstream "$UPSTREAM" --listen 127.0.0.1:0 -o "$T/rec.jsonl" -- \
  "$SRC/examples/client-tests.sh" >"$T/client.log" 2>"$T/record.log" || fail "client tests failed live"

# The recorder masks credentials (Authorization: gostly-redacted) or, with an older redactor,
# drops them: put the masked form back where it is missing, so both are covered.
/usr/bin/python3 - "$T/rec.jsonl" >"$T/masked.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    rec = json.loads(line)
    headers = rec["request"]["headers"]
    if rec["request"]["method"] == "POST" and not any(h[0].lower() == "authorization" for h in headers):
        headers.append(["Authorization", "gostly-redacted"])
    print(json.dumps(rec))
PY
timeout 10 gostly-export postman --name "Example API (recorded)" "$T/masked.jsonl" -o "$T/api.postman.json"
/usr/bin/python3 - "$T/api.postman.json" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
assert "do-not-store-me" not in text and "gostly-redacted" not in json.dumps(
    [i["request"]["header"] for f in json.loads(text)["item"] for i in f["item"]]), "a credential in a request"
c = json.loads(text)
assert c["info"]["name"] == "Example API (recorded)"
folders = [f["name"] for f in c["item"]]
assert "/posts/{id}" in folders and "/users/{id}" in folders, folders
posts = next(f for f in c["item"] if f["name"] == "/posts/{id}")
get = next(i for i in posts["item"] if i["request"]["method"] == "GET")
assert len(get["response"]) == 2, "both recorded GET /posts/7 answers are examples"
post = next(i for f in c["item"] for i in f["item"] if i["request"]["method"] == "POST")
assert {"key": "Authorization", "value": "{{authorization}}"} in post["request"]["header"], post["request"]["header"]
assert any(v["key"] == "authorization" and v["value"] == "" for v in c["variable"]), c["variable"]
PY

timeout 60 "$NEWMAN" run "$T/api.postman.json" --env-var "baseUrl=$UPSTREAM" --reporters cli,json \
  --reporter-json-export "$T/newman.json" >"$T/newman.log" 2>&1 || fail "newman failed: $(tail -40 "$T/newman.log")"
/usr/bin/python3 - "$T/newman.json" <<'PY'
import json, sys
stats = json.load(open(sys.argv[1]))["run"]["stats"]
assert stats["requests"]["total"] >= 6 and stats["requests"]["failed"] == 0, stats["requests"]
assert stats["assertions"]["total"] == stats["requests"]["total"] and stats["assertions"]["failed"] == 0, stats
PY

# The same collection against a server whose /health now answers 500 fails its check.
kill "$UPSTREAM_PID"
wait "$UPSTREAM_PID" 2>/dev/null || true
start_api_upstream --variant v2
not timeout 60 "$NEWMAN" run "$T/api.postman.json" --env-var "baseUrl=$UPSTREAM" >"$T/newman-v2.log" 2>&1 ||
  fail "newman passed against a changed server"
expect_contains "$(cat "$T/newman-v2.log")" "expected response to have status code 200 but got 500" "the failing check"
