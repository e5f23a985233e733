#!/usr/bin/env python3
"""Writes the known crashers of issue 7 (items 1-5) as fuzz inputs; see README.md. Re-run to
regenerate them: python3 fuzz/regressions/make-known.py (from the repository root)."""
import json, os
here = os.path.dirname(os.path.abspath(__file__))
def put(target, name, text):
    os.makedirs(os.path.join(here, target), exist_ok=True)
    with open(os.path.join(here, target, name), "w") as f:
        f.write(text)

N = 50000
deep = "[" * N + "]" * N
rec = ('{"type":"interaction","v":1,"id":"a","service_id":"api","session_id":"s","source":"learn",'
       '"recorded_at":"2026-01-01T00:00:00Z","request":{"method":"GET","uri":"/"},'
       '"response":{"status":200},"x":%s}\n')
put("jsonl", "item2-nested-50000-unknown-field.jsonl", rec % deep)
put("har", "item2-nested-50000-in-entry.har",
    '{"log":{"version":"1.2","entries":[{"startedDateTime":"2024-05-01T08:00:00.000Z","time":1,'
    '"request":{"method":"GET","url":"http://a/","httpVersion":"HTTP/1.1",'
    '"headers":[{"name":"x","value":%s}],"queryString":[],"cookies":[],"headersSize":-1,"bodySize":0},"response":{"status":200,"statusText":"OK",'
    '"httpVersion":"HTTP/1.1","headers":[],"cookies":[],"content":{"size":0,"mimeType":"text/plain"},'
    '"redirectURL":"","headersSize":-1,"bodySize":0},"cache":{},"timings":{"send":0,"wait":1,"receive":0},'
    '}]}}\n' % deep)
put("openapi_json", "item2-nested-50000-in-example.json",
    '{"openapi":"3.0.0","info":{"title":"t","version":"1"},"paths":{"/a":{"get":{"responses":{"200":'
    '{"description":"d","content":{"application/json":{"example":%s}}}}}}}}\n' % deep)
# The issue's 5 000 levels pass under this -O1 ASan build (smaller frames than its release build);
# 20 000 recurse for > 10 s (walk() also copies the growing folder label at every level).
F = 20000
put("postman", "item2-nested-20000-folders.json",
    '{"info":{"name":"n","schema":"https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},'
    '"item":' + '[{"name":"f","item":' * F + '[]' + '}]' * F + '}\n')
put("postman", "item3-variable-a-is-a-x100.json", json.dumps({
    "info": {"name": "vars", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
    "variable": [{"key": "a", "value": "{{a}}" * 100}],
    "item": [{"name": "r", "request": {"method": "GET", "url": "http://h/{{a}}"},
              "response": [{"name": "ok", "code": 200, "status": "OK", "body": "{{a}}"}]}]}) + "\n")
schemas = {"S%d" % i: {"allOf": [{"$ref": "#/components/schemas/S%d" % (i + 1)}] * 30} for i in range(11)}
schemas["S11"] = {"type": "object", "properties": {"x": {"type": "string"}}}
put("openapi_json", "item4-allof-fanout-12x30.json", json.dumps({
    "openapi": "3.0.0", "info": {"title": "t", "version": "1"},
    "paths": {"/a": {"get": {"responses": {"200": {"description": "d", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/S0"}}}}}}}},
    "components": {"schemas": schemas}}, separators=(",", ":")) + "\n")
put("openapi_yaml", "item1-cyclic-alias.yaml",
    "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths: &p\n  /a: *p\n")
laughs = "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths: {}\nx-l0: &l0 lol\n"
for i in range(1, 11):
    laughs += "x-l%d: &l%d [%s]\n" % (i, i, ",".join(["*l%d" % (i - 1)] * 10))
put("openapi_yaml", "item5-billion-laughs.yaml", laughs)
