#!/usr/bin/env bash
# In MOCK, a request nothing matches gets a 404 JSON body saying why, stamped X-Ghost-Mock: miss.
source "$(dirname "$0")/common.sh"
start_serve --mode MOCK
headers=$(curl -sS -D - -o "$T/body" "http://$PROXY/nowhere?x=1")
expect_contains "$headers" "404" "status"
expect_contains "$headers" "X-Ghost-Mock: miss" "tier header"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d.get("reason"), d' "$T/body" ||
  fail "miss body has no reason: $(cat "$T/body")"
expect_contains "$(api GET /metrics)" 'ghost_requests_total{match_type="miss"} 1' "miss counted"
