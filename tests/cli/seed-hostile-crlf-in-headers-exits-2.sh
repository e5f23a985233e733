#!/usr/bin/env bash
# Issue 7 item 6: CR/LF in a header name or value or in the reason phrase of a HAR, Postman or
# OpenAPI file would put attacker-chosen bytes on the wire when the mock replays it (an extra
# Set-Cookie, a second response). Every importer refuses such a file: exit 2 naming the file, the
# entry's JSON pointer and the field, even without --strict, and nothing is written.
source "$(dirname "$0")/common.sh"

python3 - "$T" <<'PY'
import json, sys
t = sys.argv[1]
def entry(url, status_text="OK", headers=()):
    return {"startedDateTime": "2024-01-01T00:00:00Z", "time": 1,
            "request": {"method": "GET", "url": url, "headers": []},
            "response": {"status": 200, "statusText": status_text, "headers": list(headers), "content": {"size": 0}}}
json.dump({"log": {"version": "1.2", "entries": [
    entry("http://h/ok"),
    entry("http://h/a", headers=[{"name": "X-A", "value": "1\r\nSet-Cookie: session=evil"}])]}},
    open(f"{t}/value.har", "w"))
json.dump({"log": {"version": "1.2", "entries": [
    entry("http://h/a", status_text="OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK")]}}, open(f"{t}/reason.har", "w"))
json.dump({"info": {"name": "c"}, "item": [
    {"name": "r", "request": {"method": "GET", "url": "http://h/a",
                              "header": [{"key": "X-A\r\nX-Injected", "value": "1"}]},
     "response": [{"code": 200, "body": "ok"}]}]}, open(f"{t}/collection.json", "w"))
open(f"{t}/spec.yaml", "w").write(
    "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n"
    "        '200':\n          description: ok\n          headers:\n"
    "            \"X-A\\r\\nSet-Cookie\": {schema: {type: string, example: v}}\n")
PY

check() { # check FORMAT FILE EXPECTED
  local status=0
  gostly-seed "$1" "$2" -o "$T/out.jsonl" 2>"$T/err.log" || status=$?
  expect_eq "$status" 2 "exit status for $2"
  expect_contains "$(cat "$T/err.log")" "gostly-seed: error: $2: $3" "message for $2"
  [ ! -e "$T/out.jsonl" ] || fail "$2: a failed run wrote output"
}
check har "$T/value.har" "/log/entries/1: response.headers[0][1]: "
expect_contains "$(cat "$T/err.log")" "CR, LF or NUL" "the reason"
check har "$T/reason.har" "/log/entries/0: response.reason: "
check postman "$T/collection.json" "/item/0/response/0: request.headers[0][0]: "
check openapi "$T/spec.yaml" "/paths/~1a/get/responses/200: response.headers[0][0]: "

# On standard output too: a streamed HAR publishes nothing, not even the good first entry.
status=0
gostly-seed har <"$T/value.har" >"$T/stdout.jsonl" 2>"$T/err.log" || status=$?
expect_eq "$status" 2 "exit status on stdin"
expect_eq "$(stat -c %s "$T/stdout.jsonl")" 0 "bytes on stdout"
