#!/usr/bin/env bash
# Issue 7 item 2: 50 000 nested arrays in an OpenAPI example (JSON and YAML) or in a HAR entry,
# and 5 000 nested Postman folders, overflowed the stack (SIGSEGV). Now: exit 2 naming the file,
# the place and GOSTLY_MAX_DEPTH, with nothing written.
source "$(dirname "$0")/common.sh"
ulimit -v 2000000

python3 - "$T" <<'PY'
import sys
t = sys.argv[1]
deep = "[" * 50000 + "]" * 50000
open(f"{t}/spec.json", "w").write(
    '{"openapi":"3.0.0","info":{"title":"t","version":"1"},"paths":{"/a":{"get":{"responses":{"200":'
    '{"description":"ok","content":{"application/json":{"example":' + deep + '}}}}}}}}')
open(f"{t}/spec.yaml", "w").write(
    "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n"
    "        '200':\n          description: ok\n          content:\n            application/json:\n"
    "              example: " + deep + "\n")
open(f"{t}/rec.har", "w").write(
    '{"log":{"version":"1.2","entries":[{"startedDateTime":"2024-01-01T00:00:00Z","time":1,'
    '"request":{"method":"GET","url":"http://h/a","headers":[]},'
    '"response":{"status":200,"statusText":"OK","headers":[],"content":{"size":0}},"comment":' + deep + '}]}}')
folders = '{"name":"f","item":[' * 5000 + "]}" * 5000
open(f"{t}/collection.json", "w").write(
    '{"info":{"name":"c","schema":"https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},'
    '"item":[' + folders + ']}')
PY

run() { # run FORMAT FILE EXPECTED-PLACE
  local status=0
  timeout 20 gostly-seed "$1" "$2" -o "$T/out.jsonl" 2>"$T/err.log" || status=$?
  expect_eq "$status" 2 "exit status for $2"
  expect_contains "$(cat "$T/err.log")" "gostly-seed: error: $2$3" "error names the file and place for $2"
  expect_contains "$(cat "$T/err.log")" "nested deeper than 256 levels (limit GOSTLY_MAX_DEPTH)" "limit for $2"
  [ ! -e "$T/out.jsonl" ] || fail "$2: a failed run wrote output"
}
run openapi "$T/spec.json" ":1: column "
run openapi "$T/spec.yaml" ":11: column "
run har "$T/rec.har" ": /log/entries/0/comment/"
run postman "$T/collection.json" ":1: column "

# The HAR on stdin fails the same way and prints nothing on stdout.
status=0
timeout 20 gostly-seed har <"$T/rec.har" >"$T/stdout.jsonl" 2>"$T/err.log" || status=$?
expect_eq "$status" 2 "exit status for a HAR on stdin"
expect_eq "$(stat -c %s "$T/stdout.jsonl")" 0 "bytes on stdout"
