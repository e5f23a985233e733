#!/usr/bin/env bash
# The seed route takes gostly-seed's --host (HAR) and --var (Postman) as repeatable query
# parameters, and reports what gostly-seed reports for the same options.
source "$(dirname "$0")/common.sh"
start_serve --mode MOCK

# HAR: host= keeps one host of a multi-host export; the others are counted as filtered.
code=$(api POST '/v1/seed/har?host=mitmproxy.org' -o "$T/har.json" -w '%{http_code}' --data-binary "@$FIXTURES/har/chrome.har")
expect_eq "$code" 201 "status of a filtered HAR seed"
expect_eq "$(jq -c .services "$T/har.json")" '["mitmproxy.org"]' "services of a filtered HAR seed"
gostly-seed -q har --json --host mitmproxy.org "$FIXTURES/har/chrome.har" 2>"$T/cli-har.json" >/dev/null
expect_eq "$(jq .filtered "$T/har.json")" "$(jq .filtered "$T/cli-har.json")" "filtered, as gostly-seed --host counts it"
[ "$(jq .filtered "$T/har.json")" -gt 0 ] || fail "nothing filtered: $(cat "$T/har.json")"

# Postman: var=NAME=VALUE (URL-encoded) resolves what the collection leaves open.
code=$(api POST '/v1/seed/postman?service_id=default&var=newName%3DHedy&var=otherHost%3Dhttp%3A%2F%2Fping.test' \
  -o "$T/postman.json" -w '%{http_code}' --data-binary "@$SRC/tests/seed/data/collection-v21.json")
expect_eq "$code" 201 "status of a Postman seed with vars"
expect_eq "$(jq .skipped "$T/postman.json")" 0 "nothing skipped once {{otherHost}} has a value"
gostly-seed -q postman --json --var newName=Hedy --var otherHost=http://ping.test \
  "$SRC/tests/seed/data/collection-v21.json" 2>"$T/cli-postman.json" >/dev/null
expect_eq "$(jq .written "$T/postman.json")" "$(jq .written "$T/cli-postman.json")" "written, as gostly-seed --var writes"
expect_eq "$(curl -sS "http://$PROXY/ping")" pong "the request that needed --var answers"

code=$(api POST '/v1/seed/postman?var=nope' -o "$T/err.json" -w '%{http_code}' --data-binary "@$SRC/tests/seed/data/collection-v21.json")
expect_eq "$code" 400 "status for a var without '='"
expect_contains "$(jq -r .error "$T/err.json")" "expected NAME=VALUE" "bad var error"
