#!/usr/bin/env bash
# An OpenAPI path template becomes a smart_swap template even where its parameters are words
# (`/users/{username}`), which the id heuristic alone would leave alone: seeded with the
# example `alice`, MOCK answers `/users/bob` from it with the name swapped in the body.
source "$(dirname "$0")/common.sh"
cat >"$T/spec.yaml" <<'YAML'
openapi: 3.0.3
info: {title: users, version: "1"}
paths:
  /users/{username}:
    get:
      parameters:
        - {name: username, in: path, required: true, schema: {type: string}, example: alice}
      responses:
        "200":
          description: a user
          content:
            application/json:
              example: {login: alice, plan: pro}
YAML
gostly-seed openapi "$T/spec.yaml" | gostly-transition --data "$GOSTLY_DATA" - 2>"$T/transition.log"
start_serve --mode MOCK
curl -sS -D "$T/h.txt" -o "$T/bob.json" "http://$PROXY/users/bob"
expect_eq "$(head -n1 "$T/h.txt" | tr -d '\r' | cut -d' ' -f2)" 200 "status"
grep -qi '^X-Ghost-Mock: smart_swap' "$T/h.txt" || fail "not answered by smart_swap: $(cat "$T/h.txt")"
expect_eq "$(jq -c . "$T/bob.json")" '{"login":"bob","plan":"pro"}' "swapped body"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://$PROXY/users/bob/keys")" 404 "another shape still misses"
