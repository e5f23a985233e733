#!/usr/bin/env bash
# End to end, no upstream at all: seed each format into the library with gostly-transition, serve
# it in MOCK, and curl gets the documented answers back (and, where the spec has no example, a
# body synthesised from its schema).
source "$(dirname "$0")/common.sh"
command -v gostly-transition >/dev/null || skip "gostly-transition not built"
command -v gostly-serve >/dev/null || skip "gostly-serve not built"

gostly-seed openapi --service default "$FIXTURES/openapi/v3.0_api-with-examples.json" >"$T/examples.jsonl"
gostly-seed openapi --service default "$FIXTURES/openapi/v3.0_petstore.json" >"$T/petstore.jsonl"
gostly-seed postman --service default --var newName=Hedy "$SRC/tests/seed/data/collection-v21.json" >"$T/postman.jsonl" 2>/dev/null
gostly-seed har --service default "$SRC/tests/seed/data/small.har" >"$T/har.jsonl"
for f in examples petstore postman har; do
  gostly-transition --data "$GOSTLY_DATA" "$T/$f.jsonl" 2>"$T/transition-$f.log"
done
start_serve --mode MOCK

# OpenAPI with examples: the documented example, byte for byte.
body=$(curl -sS "http://$PROXY/v2")
expect_eq "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["version"]["id"])' "$body")" "v2.0" "openapi example"
# OpenAPI without examples: a body valid against the Pet schema (id integer, name string).
curl -sS -D "$T/h.txt" "http://$PROXY/v1/pets/1" >"$T/pet.json"
python3 - "$T/pet.json" <<'PY'
import json, sys
pet = json.load(open(sys.argv[1]))
assert isinstance(pet["id"], int) and isinstance(pet["name"], str), pet
PY
grep -qi '^x-ghost-mock:' "$T/h.txt" || fail "no X-Ghost-Mock header on a seeded answer"
# And valid against the spec's own schemas, checked by a real JSON Schema validator when present.
curl -sS "http://$PROXY/v1/pets" >"$T/pets.json"
if python3 -c 'import jsonschema' 2>/dev/null; then
  python3 - "$FIXTURES/openapi/v3.0_petstore.json" "$T/pet.json" "$T/pets.json" <<'PY'
import json, sys, jsonschema
spec = json.load(open(sys.argv[1]))
def check(path, ref):
    root = dict(spec)
    root["$ref"] = ref  # resolved against the whole spec, so #/components/... works
    jsonschema.Draft4Validator(root).validate(json.load(open(path)))
check(sys.argv[2], "#/components/schemas/Pet")
check(sys.argv[3], "#/components/schemas/Pets")
PY
fi
# Postman: the saved example; HAR: the recorded body.
expect_contains "$(curl -sS "http://$PROXY/api/customers/11?verbose=1")" '"Grace"' "postman example"
expect_eq "$(curl -sS "http://$PROXY/users/42?expand=true")" '{"id":42,"name":"Ada"}' "har body"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://$PROXY/logo.png")" 200 "har binary entry"
