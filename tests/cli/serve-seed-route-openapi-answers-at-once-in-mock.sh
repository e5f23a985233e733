#!/usr/bin/env bash
# POST /v1/seed/openapi into a running gostly-serve in MOCK: the documented example is served at
# once (no restart, no transition), stamped X-Ghost-Mock; posting the same spec again adds
# nothing (200 instead of 201) and the library keeps its size.
source "$(dirname "$0")/common.sh"
start_serve --mode MOCK

expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://$PROXY/v2")" 404 "a miss before seeding"

code=$(api POST '/v1/seed/openapi?service_id=default' -o "$T/report.json" -w '%{http_code}' \
  -H 'Content-Type: application/json' --data-binary "@$FIXTURES/openapi/v3.0_api-with-examples.json")
expect_eq "$code" 201 "status of a first seed"
expect_eq "$(jq -r .format "$T/report.json")" openapi "report format"
expect_eq "$(jq -c .services "$T/report.json")" '["default"]' "report services"
written=$(jq .written "$T/report.json")
[ "$written" -gt 0 ] || fail "nothing written: $(cat "$T/report.json")"
expect_eq "$(jq .added "$T/report.json")" "$written" "records added"
size=$(jq .library_size.default "$T/report.json")
[ "$size" -gt 0 ] || fail "empty library after seeding: $(cat "$T/report.json")"
expect_eq "$(api GET /services/default | jq .library_size)" "$size" "library size the engine reports"

curl -sS -D "$T/headers.txt" "http://$PROXY/v2" >"$T/v2.json"
expect_eq "$(head -n 1 "$T/headers.txt" | tr -d '\r' | cut -d' ' -f2)" 200 "status of the seeded answer"
expect_eq "$(jq -r .version.id "$T/v2.json")" v2.0 "the documented example"
grep -qi '^x-ghost-mock: ' "$T/headers.txt" || fail "no X-Ghost-Mock header: $(cat "$T/headers.txt")"

code=$(api POST '/v1/seed/openapi?service_id=default' -o "$T/again.json" -w '%{http_code}' \
  --data-binary "@$FIXTURES/openapi/v3.0_api-with-examples.json")
expect_eq "$code" 200 "status of a repeated seed"
expect_eq "$(jq .added "$T/again.json")" 0 "records added by a repeated seed"
expect_eq "$(jq .duplicates "$T/again.json")" "$written" "duplicates of a repeated seed"
expect_eq "$(jq .library_size.default "$T/again.json")" "$size" "library size after a repeated seed"

# YAML goes through the same route (the body is the document, whatever its syntax).
code=$(api POST '/v1/seed/openapi?service_id=default' -o "$T/yaml.json" -w '%{http_code}' \
  --data-binary "@$FIXTURES/openapi/v2.0_yaml_petstore-expanded.yaml")
expect_eq "$code" 201 "status of a YAML seed"
curl -sS -D "$T/pets-headers.txt" "http://$PROXY/api/pets" -o /dev/null
grep -qi '^x-ghost-mock: ' "$T/pets-headers.txt" || fail "YAML-seeded route not served: $(cat "$T/pets-headers.txt")"
