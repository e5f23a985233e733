#!/usr/bin/env bash
# Issue 7 item 1 through the daemon: gostly-serve's POST /v1/seed/* runs the same importers, so a
# cyclic YAML alias, a 50 000-deep example, a Postman variable chain, an allOf fan-out or a
# CR/LF header killed the whole daemon (proxy and control API) or hung it. Each is now a 422 to
# that caller naming the limit, nothing reaches library.db, and the proxy keeps answering.
source "$(dirname "$0")/common.sh"
start_serve --mode MOCK

api POST '/v1/seed/openapi?service_id=default' -o /dev/null --data-binary "@$FIXTURES/openapi/v3.0_api-with-examples.json"
rows_before=$(sqlite3 "$GOSTLY_DATA/library.db" 'select count(*) from recordings')
[ "$rows_before" -gt 0 ] || fail "seeding the baseline failed"

python3 - "$T" <<'PY'
import json, sys
t = sys.argv[1]
open(f"{t}/cycle.yaml", "w").write("openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths: &p\n  /a: *p\n")
deep = "[" * 50000 + "]" * 50000
open(f"{t}/deep.yaml", "w").write("openapi: 3.0.0\ninfo: {title: t, version: '1'}\nx-deep: " + deep + "\npaths: {}\n")
chain = [{"key": "v0", "value": "x"}] + [{"key": f"v{i}", "value": f"{{{{v{i-1}}}}}" * 10} for i in range(1, 10)]
json.dump({"info": {"name": "c"}, "variable": chain,
           "item": [{"name": "r", "request": {"method": "GET", "url": "http://h/{{v9}}"},
                     "response": [{"code": 200, "body": "ok"}]}]}, open(f"{t}/chain.json", "w"))
schemas = {f"S{i}": {"allOf": [{"$ref": f"#/components/schemas/S{i+1}"}] * 30} for i in range(11)}
schemas["S11"] = {"type": "object", "properties": {"p": {"type": "string"}}}
json.dump({"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "components": {"schemas": schemas},
           "paths": {"/a": {"get": {"responses": {"200": {"description": "ok", "content": {
               "application/json": {"schema": {"$ref": "#/components/schemas/S0"}}}}}}}}}, open(f"{t}/fanout.json", "w"))
json.dump({"log": {"version": "1.2", "entries": [{"startedDateTime": "2024-01-01T00:00:00Z", "time": 1,
           "request": {"method": "GET", "url": "http://h/a", "headers": []},
           "response": {"status": 200, "statusText": "OK", "content": {"size": 0},
                        "headers": [{"name": "X-A", "value": "1\r\nSet-Cookie: s=evil"}]}}]}}, open(f"{t}/crlf.har", "w"))
PY

refused() { # refused FORMAT FILE EXPECTED
  local code
  code=$(api POST "/v1/seed/$1?service_id=default" -o "$T/err.json" -w '%{http_code}' --max-time 20 --data-binary "@$2")
  expect_eq "$code" 422 "status for $2"
  expect_contains "$(jq -r .error "$T/err.json")" "$3" "error for $2"
  kill -0 "$SERVE_PID" 2>/dev/null || fail "gostly-serve died on $2"
  expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://$PROXY/v2")" 200 "the proxy still answers after $2"
}
refused openapi "$T/cycle.yaml" "request body:4: column"
refused openapi "$T/deep.yaml" "(limit GOSTLY_MAX_DEPTH)"
refused postman "$T/chain.json" "limit GOSTLY_MAX_VAR_EXPANSION)"
refused openapi "$T/fanout.json" "(limit GOSTLY_MAX_SCHEMA_WORK)"
refused har "$T/crlf.har" "/log/entries/0: response.headers[0][1]: "
expect_eq "$(sqlite3 "$GOSTLY_DATA/library.db" 'select count(*) from recordings')" "$rows_before" "recordings after refused seeds"
