#!/usr/bin/env bash
# Issue 7 items 3 and 4: a 783-byte collection whose variable `a` is `{{a}}` x 100 took 5 GB and
# 50 s; a chain v9 -> 10 x v8 -> ... -> v0 the same; twelve OpenAPI schemas each allOf 30 x $ref
# to the next (14 KB) never finished. Now each is bounded in time and memory: the cycle is
# reported, the chain and the fan-out are exit 2 naming the place and the limit.
source "$(dirname "$0")/common.sh"
ulimit -v 2000000

python3 - "$T" <<'PY'
import json, sys
t = sys.argv[1]
def collection(variables, url):
    return {"info": {"name": "c", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
            "variable": variables,
            "item": [{"name": "r", "request": {"method": "GET", "url": url},
                      "response": [{"name": "e", "code": 200, "body": "ok"}]}]}
json.dump(collection([{"key": "a", "value": "{{a}}" * 100}], "http://h/{{a}}"), open(f"{t}/self.json", "w"))
chain = [{"key": "v0", "value": "x"}] + [{"key": f"v{i}", "value": f"{{{{v{i-1}}}}}" * 10} for i in range(1, 10)]
json.dump(collection(chain, "http://h/{{v9}}"), open(f"{t}/chain.json", "w"))

schemas = {}
for i in range(12):
    parts = ([{"$ref": f"#/components/schemas/S{i+1}"}] * 30 if i < 11
             else [{"type": "object", "properties": {f"p{j}": {"type": "string"}}} for j in range(30)])
    schemas[f"S{i}"] = {"allOf": parts}
spec = {"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "components": {"schemas": schemas},
        "paths": {"/a": {"get": {"responses": {"200": {"description": "ok", "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/S0"}}}}}}}}}
json.dump(spec, open(f"{t}/fanout.json", "w"))
PY

# The self-reference: the request is a bad entry naming the cycle; skipped by default, exit 2 with --strict.
status=0
timeout 20 gostly-seed postman "$T/self.json" >"$T/out.jsonl" 2>"$T/err.log" || status=$?
expect_eq "$status" 0 "exit status for a self-referencing variable (bad entry skipped)"
expect_contains "$(cat "$T/err.log")" "/item/0/request/url: variable {{a}} is a cycle (a -> a)" "the cycle is named"
status=0
timeout 20 gostly-seed postman --strict "$T/self.json" >/dev/null 2>"$T/err.log" || status=$?
expect_eq "$status" 2 "exit status under --strict"

status=0
timeout 20 gostly-seed postman "$T/chain.json" -o "$T/chain.jsonl" 2>"$T/err.log" || status=$?
expect_eq "$status" 2 "exit status for a chain of variables"
expect_contains "$(cat "$T/err.log")" "$T/chain.json: /item/0/request/url: variables would expand past" "error names the file and place"
expect_contains "$(cat "$T/err.log")" "; limit GOSTLY_MAX_VAR_EXPANSION)" "error names the limit"
[ ! -e "$T/chain.jsonl" ] || fail "a failed run wrote output"

status=0
timeout 20 gostly-seed openapi "$T/fanout.json" -o "$T/fanout.jsonl" 2>"$T/err.log" || status=$?
expect_eq "$status" 2 "exit status for the allOf fan-out"
expect_contains "$(cat "$T/err.log")" "$T/fanout.json: /components/schemas/S" "error names the file and the schema"
expect_contains "$(cat "$T/err.log")" "(limit GOSTLY_MAX_SCHEMA_WORK)" "error names the limit"
[ ! -e "$T/fanout.jsonl" ] || fail "a failed run wrote output"
