#!/usr/bin/env bash
# POST /v1/seed/har with a browser's HAR export: the recorded body replays through the proxy in
# MOCK right away. Without service_id, each host of the HAR becomes its own service, as
# gostly-seed does.
source "$(dirname "$0")/common.sh"
start_serve --mode MOCK

code=$(api POST '/v1/seed/har?service_id=default' -o "$T/report.json" -w '%{http_code}' \
  --data-binary "@$FIXTURES/har/insomnia.har")
expect_eq "$code" 201 "status of a HAR seed"
expect_eq "$(jq -r .format "$T/report.json")" har "report format"
curl -sS -D "$T/headers.txt" "http://$PROXY/" >"$T/body.html"
expect_contains "$(cat "$T/body.html")" "If you can see this, traffic is not passing" "the recorded body"
grep -qi '^x-ghost-mock: ' "$T/headers.txt" || fail "no X-Ghost-Mock header: $(cat "$T/headers.txt")"

# Host mapping: chrome.har spans several hosts, each becomes a service with its own library.
code=$(api POST /v1/seed/har -o "$T/hosts.json" -w '%{http_code}' --data-binary "@$FIXTURES/har/chrome.har")
expect_eq "$code" 201 "status of a multi-host HAR seed"
services=$(jq -r '.services[]' "$T/hosts.json")
expect_contains "$services" "mitmproxy.org" "services named after hosts"
expect_contains "$services" "www.google.com" "services named after hosts"
expect_eq "$(api GET /services/default | jq .library_size)" "$(jq .library_size.default "$T/report.json")" \
  "the default service is untouched by a HAR of other hosts"
