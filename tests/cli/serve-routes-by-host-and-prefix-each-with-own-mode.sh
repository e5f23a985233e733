#!/usr/bin/env bash
# Several upstreams: a Host route and a path-prefix route each get their own service, traffic file
# and mode (PUT /services/{id}), while the default service keeps the global mode.
source "$(dirname "$0")/common.sh"
start_api_upstream
start_serve --upstream "$UPSTREAM" --route "api.example.test=$UPSTREAM" --route "/posts=$UPSTREAM"
curl -sS -o /dev/null -H 'Host: api.example.test' "http://$PROXY/users/1"
curl -sS -o /dev/null "http://$PROXY/posts/1"
curl -sS -o /dev/null "http://$PROXY/users/2"
for svc in api.example.test posts default; do
  [ -s "$GOSTLY_DATA/traffic/$svc.jsonl" ] || fail "no traffic/$svc.jsonl"
done
expect_contains "$(cat "$GOSTLY_DATA/traffic/posts.jsonl")" '"service_id":"posts"' "service id in the record"
expect_contains "$(api PUT /services/posts -d '{"mode":"MOCK"}')" '"mode":"MOCK"' "per-service override"
expect_contains "$(curl -sS -D - -o /dev/null "http://$PROXY/posts/1")" "X-Ghost-Mock: session-verbatim" "posts answers from MOCK"
expect_contains "$(curl -sS -D - -o /dev/null "http://$PROXY/users/2")" "X-Upstream: example" "default still forwards"
expect_eq "$(api PUT /services/bad..id/ -d '{}' -o /dev/null -w '%{http_code}')" 400 "unsafe service id"
expect_eq "$(api GET /services/nope -o /dev/null -w '%{http_code}')" 404 "unknown service"
