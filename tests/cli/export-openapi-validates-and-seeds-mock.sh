#!/usr/bin/env bash
# Record the example API through gostly-record, infer an OpenAPI 3.1 document from the recording
# (YAML and --json), check both with a real validator (@seriousme/openapi-schema-validator), then
# seed the document into a library: gostly-serve in MOCK answers every recorded route (method and
# templated path) with the recorded status, from a mock, never a miss.
source "$(dirname "$0")/common.sh"
validate=$(node_client validate-api)
start_api_upstream

cat >"$T/client.sh" <<'SH'
#!/usr/bin/env bash
set -eu
B=$GOSTLY_PROXY_URL
j() { curl -sS -o /dev/null -H 'Content-Type: application/json' "$@"; }
j "$B/health"
j "$B/users?limit=2"
j "$B/users?limit=5&active=true"
for id in 1 4 42; do j "$B/users/$id"; done
j -X POST "$B/users" -d '{"name":"ada","email":"ada@corp.example.com"}'
j -X POST "$B/users" -d '{"name":"bob"}'
for id in 1 4; do j "$B/posts/$id"; done
j -X PATCH "$B/posts/7" -d '{"status":"published"}'
j -X DELETE "$B/users/9"
j "$B/binary"
j -X POST "$B/echo" -d '{"a":[1,2],"b":null}'
j "$B/missing"
SH
chmod +x "$T/client.sh"
timeout 30 gostly-record --upstream "$UPSTREAM" --listen 127.0.0.1:0 -o "$T/rec.jsonl" -- "$T/client.sh" 2>"$T/record.log" ||
  fail "recording failed"
expect_eq "$(wc -l <"$T/rec.jsonl")" 15 "recorded interactions"

timeout 20 gostly-export openapi "$T/rec.jsonl" --title "Example API" -o "$T/api.yaml" 2>"$T/export.log" ||
  fail "export (YAML) failed: $(cat "$T/export.log")"
timeout 20 gostly-export openapi --json - <"$T/rec.jsonl" >"$T/api.json" 2>>"$T/export.log" ||
  fail "export (JSON) failed: $(cat "$T/export.log")"
: >"$T/empty.jsonl" # no traffic: still a valid document, with no paths
timeout 20 gostly-export openapi "$T/empty.jsonl" -o "$T/empty.yaml" 2>>"$T/export.log" || fail "export of nothing failed"
for f in api.yaml api.json empty.yaml; do
  out=$(timeout 60 "$validate" "$T/$f" 2>&1) || true
  expect_contains "$out" '"valid": true' "validator on $f"
done
# Past GOSTLY_EXPORT_MAX_ROUTES: exit 2, a message naming the variable, no file.
status=0
GOSTLY_EXPORT_MAX_ROUTES=3 timeout 20 gostly-export openapi "$T/rec.jsonl" -o "$T/cut.yaml" 2>"$T/cut.log" || status=$?
expect_eq "$status" 2 "exit status past the route limit"
expect_contains "$(cat "$T/cut.log")" GOSTLY_EXPORT_MAX_ROUTES "route limit message"
[ ! -e "$T/cut.yaml" ] || fail "a document was written past the route limit"
# The YAML and the JSON say the same thing.
/usr/bin/python3 - "$T/api.yaml" "$T/api.json" <<'PY'
import json, sys, yaml
y, j = yaml.safe_load(open(sys.argv[1])), json.load(open(sys.argv[2]))
j["info"]["title"] = y["info"]["title"]
assert y == j, "YAML and JSON differ"
paths = y["paths"]
assert y["info"]["title"] == "Example API"
for p in ["/users/{id}", "/posts/{id}", "/users", "/health", "/binary", "/echo", "/missing"]:
    assert p in paths, (p, sorted(paths))
assert "/users/42" not in paths
assert y["servers"][0]["url"].startswith("http://127.0.0.1:")
user = paths["/users/{id}"]["get"]["responses"]["200"]["content"]["application/json"]
assert user["schema"]["properties"]["email"]["format"] == "email"
assert user["schema"]["properties"]["created_at"]["format"] == "date-time"
assert "@example.com" not in json.dumps(user["example"]), "PII left in the example"
q = {p["name"]: p for p in paths["/users"]["get"]["parameters"]}
assert q["limit"]["required"] is True and q["limit"]["schema"]["type"] == "integer"
assert q["active"]["required"] is False and q["active"]["schema"]["type"] == "boolean"
assert paths["/users"]["post"]["responses"]["201"]["description"] == "Created"
assert paths["/binary"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["compressed"]["type"] == "boolean"
assert paths["/users/{id}"]["delete"]["responses"]["204"]
PY
[ $? -eq 0 ] || fail "document content"

# Seed the YAML into a library and replay every recorded interaction in MOCK, upstream gone.
kill "$UPSTREAM_PID"
wait "$UPSTREAM_PID" 2>/dev/null || true
timeout 20 gostly-seed openapi "$T/api.yaml" 2>"$T/seed.log" | timeout 20 gostly-transition - 2>"$T/transition.log" ||
  fail "seed | transition failed: $(cat "$T/seed.log" "$T/transition.log")"
start_serve --mode MOCK
# Every recorded request of every route (method + templated path), ids swapped by smart_swap; a
# route's requests with another query string than its first are left out: the cascade ignores no
# query parameter that is not volatile, and the document seeds one URI per operation.
/usr/bin/python3 - "$T/rec.jsonl" >"$T/requests.tsv" <<'PY'
import json, re, sys
first_query = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    path, _, query = r["request"]["uri"].partition("?")
    route = (r["request"]["method"], re.sub(r"/[0-9]+(?=/|$)", "/{id}", path))
    if first_query.setdefault(route, query) != query:
        continue
    print("\t".join([r["request"]["method"], r["request"]["uri"], str(r["response"]["status"]), r["request"].get("body", "")]))
PY
expect_eq "$(cut -f1,2 "$T/requests.tsv" | sed 's/[0-9][0-9]*/N/g' | sort -u | wc -l)" 10 "routes replayed"
while IFS=$'\t' read -r method uri status body; do
  args=(-X "$method")
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' -d "$body")
  got=$(curl -sS -o /dev/null -D "$T/headers" -w '%{http_code}' "${args[@]}" "http://$PROXY$uri")
  tier=$(grep -i '^x-ghost-mock:' "$T/headers" | tr -d '\r' | cut -d' ' -f2)
  expect_eq "$got" "$status" "MOCK status of $method $uri"
  [ -n "$tier" ] && [ "$tier" != miss ] || fail "$method $uri was not answered from a mock (X-Ghost-Mock: '$tier')"
done <"$T/requests.tsv"
