#!/usr/bin/env bash
# Hostile artifacts posted to /v1/seed/* cost their caller an error, never the daemon: a cyclic
# YAML alias, 50 000 nested arrays in an OpenAPI example and in a HAR entry, 5 000 nested Postman
# folders. The import runs in a child process (gostly-seed) with a time and memory budget, so even
# a parser that crashes takes down only that child: each call answers 4xx/5xx with a JSON error,
# library.db is unchanged, and the proxy and the control API go on answering.
source "$(dirname "$0")/common.sh"
start_serve --mode MOCK

api POST '/v1/seed/openapi?service_id=default' -o /dev/null --data-binary "@$FIXTURES/openapi/v3.0_api-with-examples.json"
rows_before=$(library_sql 'select count(*) from recordings')
[ "$rows_before" -gt 0 ] || fail "seeding the baseline failed"

alive() {
  kill -0 "$SERVE_PID" 2>/dev/null || fail "gostly-serve died after $1"
  expect_eq "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$CONTROL/healthz")" 200 "GET /healthz after $1"
  expect_eq "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$PROXY/v2")" 200 "a mocked request after $1"
  expect_eq "$(library_sql 'select count(*) from recordings')" "$rows_before" "recordings after $1"
}

# seed_refused FORMAT FILE WHAT: the call gets a 4xx/5xx with a JSON error; the daemon lives on.
seed_refused() {
  local code
  code=$(api POST "/v1/seed/$1" -o "$T/err.json" -w '%{http_code}' --max-time 30 --data-binary "@$2" 2>/dev/null) || true
  case $code in 4??|5??) ;; *) fail "$3: expected a 4xx/5xx answer, got '$code'" ;; esac
  jq -e '.error | type == "string"' "$T/err.json" >/dev/null || fail "$3: no JSON error: $(head -c 300 "$T/err.json")"
  alive "$3"
}

printf "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths: &p\n  /a: *p\n" >"$T/cyclic.yaml"
seed_refused openapi "$T/cyclic.yaml" "a cyclic YAML alias"

python3 - "$T" <<'PY'
import sys
t = sys.argv[1]
deep = "[" * 50000 + "]" * 50000
with open(f"{t}/deep-example.json", "w") as f:
    f.write('{"openapi":"3.0.0","info":{"title":"t","version":"1"},"paths":{"/a":{"get":{"responses":{"200":'
            '{"description":"ok","content":{"application/json":{"example":' + deep + '}}}}}}}}')
with open(f"{t}/deep-entry.har", "w") as f:
    f.write('{"log":{"version":"1.2","entries":[{"x":' + deep + ',"request":{"method":"GET","url":"http://h/a",'
            '"headers":[]},"response":{"status":200,"headers":[],"content":{"text":"ok"}}}]}}')
folders = 5000
with open(f"{t}/deep-folders.json", "w") as f:
    f.write('{"info":{"name":"c","schema":"https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},"item":')
    f.write('[{"name":"f","item":' * folders)
    f.write('[{"name":"r","request":{"method":"GET","url":"http://h/a"}}]')
    f.write('}]' * folders)
    f.write('}')
PY
seed_refused openapi "$T/deep-example.json" "50 000 nested arrays in an OpenAPI example"
seed_refused har "$T/deep-entry.har" "50 000 nested arrays in a HAR entry"
seed_refused postman "$T/deep-folders.json" "5 000 nested Postman folders"

# And a good artifact still seeds afterwards.
code=$(api POST '/v1/seed/har?service_id=default' -o "$T/ok.json" -w '%{http_code}' --data-binary "@$FIXTURES/har/insomnia.har")
expect_eq "$code" 201 "a good HAR after the hostile ones"
