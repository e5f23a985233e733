#!/usr/bin/env bash
# A seed import runs with a time and a memory budget (--work-timeout, --work-memory): an artifact
# that needs more is a 422 naming the budget and the flag that raises it, the child doing the work
# is killed, nothing reaches library.db, and the daemon goes on answering. Within the budget the
# same server seeds as usual.
source "$(dirname "$0")/common.sh"

alive() {
  kill -0 "$SERVE_PID" 2>/dev/null || fail "gostly-serve died after $1"
  expect_eq "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$CONTROL/healthz")" 200 "GET /healthz after $1"
  expect_eq "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$PROXY/v2")" 200 "a mocked request after $1"
}

python3 - "$T" <<'PY'
import json, sys
t = sys.argv[1]
# A valid HAR of 40 000 entries (about 20 MB): seconds of work, far more than 0.2 s.
entry = {"startedDateTime": "2026-11-22T17:50:01.123Z", "time": 1,
         "request": {"method": "GET", "url": "", "httpVersion": "HTTP/1.1", "headers": [], "queryString": [],
                     "cookies": [], "headersSize": -1, "bodySize": 0},
         "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1",
                      "headers": [{"name": "Content-Type", "value": "application/json"}], "cookies": [],
                      "content": {"size": 300, "mimeType": "application/json", "text": "{\"x\":\"" + "y" * 300 + "\"}"},
                      "redirectURL": "", "headersSize": -1, "bodySize": 300}, "cache": {}, "timings": {}}
with open(f"{t}/big.har", "w") as f:
    f.write('{"log":{"version":"1.2","creator":{"name":"t","version":"1"},"entries":[')
    for i in range(40000):
        entry["request"]["url"] = f"http://big.example/items/{i}"
        f.write(("," if i else "") + json.dumps(entry))
    f.write("]}}")
# A valid OpenAPI document of 17 MB (one large example): read whole and parsed into a tree, it
# needs well over 64 MiB.
with open(f"{t}/big.json", "w") as f:
    f.write('{"openapi":"3.0.0","info":{"title":"t","version":"1"},"paths":{"/big":{"get":{"responses":{"200":'
            '{"description":"ok","content":{"application/json":{"example":[')
    f.write(",".join('{"k":"%08d"}' % i for i in range(1000000)))
    f.write(']}}}}}}}}')
PY

# --- time: 0.2 s is not enough for the big HAR.
start_serve --mode MOCK --work-timeout 0.2
api POST '/v1/seed/openapi?service_id=default' -o /dev/null --data-binary "@$FIXTURES/openapi/v3.0_api-with-examples.json"
rows_before=$(library_sql 'select count(*) from recordings')
code=$(api POST '/v1/seed/har' -o "$T/err.json" -w '%{http_code}' --max-time 30 --data-binary "@$T/big.har") || true
expect_eq "$code" 422 "status for an import over the time budget"
expect_contains "$(jq -r .error "$T/err.json")" "--work-timeout" "the error names the time budget"
expect_eq "$(library_sql 'select count(*) from recordings')" "$rows_before" "recordings after the timeout"
alive "a timed-out import"
pgrep -P "$SERVE_PID" >/dev/null && fail "the timed-out gostly-seed still runs: $(pgrep -a -P "$SERVE_PID")"
kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null || true

# --- memory: 64 MiB is not enough for the big OpenAPI document.
start_serve --mode MOCK --work-memory 64M
code=$(api POST '/v1/seed/openapi' -o "$T/err.json" -w '%{http_code}' --max-time 30 --data-binary "@$T/big.json") || true
expect_eq "$code" 422 "status for an import over the memory budget"
expect_contains "$(jq -r .error "$T/err.json")" "--work-memory" "the error names the memory budget"
expect_eq "$(library_sql 'select count(*) from recordings')" "$rows_before" "recordings after the memory failure"
alive "an import over the memory budget"
# Within the budget the same server seeds as usual.
code=$(api POST '/v1/seed/har?service_id=default' -o /dev/null -w '%{http_code}' --data-binary "@$FIXTURES/har/insomnia.har")
expect_eq "$code" 201 "a small HAR within the budget"
