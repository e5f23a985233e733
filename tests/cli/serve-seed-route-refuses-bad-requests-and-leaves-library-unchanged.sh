#!/usr/bin/env bash
# The seed route's refusals: a malformed artifact (here a HAR cut off after a streamed
# entry) is a 422 naming the request body and the byte, and nothing of it reaches library.db or
# the running library; an unknown format is 404, an unsafe service id 400, a missing or wrong key
# 401, an empty body 400.
source "$(dirname "$0")/common.sh"
start_serve --mode MOCK

api POST '/v1/seed/openapi?service_id=default' -o /dev/null --data-binary "@$FIXTURES/openapi/v3.0_api-with-examples.json"
size_before=$(api GET /services/default | jq .library_size)
rows_before=$(library_sql 'select count(*) from recordings')
[ "$size_before" -gt 0 ] || fail "seeding the baseline failed"

# Cut chrome.har two thirds in: the importer streams its first entry into the transaction before
# it meets the cut, so an unchanged count shows the rollback.
head -c 44000 "$FIXTURES/har/chrome.har" >"$T/torn.har"
code=$(api POST '/v1/seed/har?service_id=default' -o "$T/err.json" -w '%{http_code}' --data-binary "@$T/torn.har")
expect_eq "$code" 422 "status for a truncated HAR"
expect_contains "$(jq -r .error "$T/err.json")" "request body" "the error names the request body"
expect_eq "$(library_sql 'select count(*) from recordings')" "$rows_before" "recordings after a refused seed"
expect_eq "$(api GET /services/default | jq .library_size)" "$size_before" "library size after a refused seed"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://$PROXY/v2")" 200 "the earlier seed still answers"

code=$(api POST '/v1/seed/openapi?service_id=default' -o "$T/err.json" -w '%{http_code}' --data-binary '{"openapi": 3')
expect_eq "$code" 422 "status for broken JSON"
expect_contains "$(jq -r .error "$T/err.json")" "request body" "broken JSON error"

code=$(api POST '/v1/seed/wsdl?service_id=default' -o "$T/err.json" -w '%{http_code}' --data-binary '{}')
expect_eq "$code" 404 "status for an unknown format"
expect_contains "$(jq -r .error "$T/err.json")" "expected har, postman or openapi" "unknown format error"

code=$(api POST '/v1/seed/har?service_id=../etc' -o "$T/err.json" -w '%{http_code}' --data-binary "@$FIXTURES/har/insomnia.har")
expect_eq "$code" 400 "status for an unsafe service id"
expect_contains "$(jq -r .error "$T/err.json")" "service_id" "unsafe id error"

code=$(api POST '/v1/seed/har?service_id=default' -o /dev/null -w '%{http_code}')
expect_eq "$code" 400 "status for an empty body"
expect_eq "$(api GET '/v1/seed/har' -o /dev/null -w '%{http_code}')" 405 "status for GET"

code=$(curl -sS -o "$T/err.json" -w '%{http_code}' -X POST "http://$CONTROL/v1/seed/har?service_id=default" \
  --data-binary "@$FIXTURES/har/insomnia.har")
expect_eq "$code" 401 "status without a key"
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "http://$CONTROL/v1/seed/har?service_id=default" \
  -H 'X-API-Key: wrong' --data-binary "@$FIXTURES/har/insomnia.har")
expect_eq "$code" 401 "status with a wrong key"
expect_eq "$(library_sql 'select count(*) from recordings')" "$rows_before" "recordings after refused calls"
