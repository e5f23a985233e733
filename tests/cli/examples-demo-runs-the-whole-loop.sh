#!/usr/bin/env bash
# `make demo` stays true: examples/demo.sh records the client tests, builds the library, stops the
# upstream and passes the same tests from MOCK, showing which tier answered.
source "$(dirname "$0")/common.sh"
out=$("$SRC/examples/demo.sh" "$BIN" 2>&1) || { echo "$out" >&2; fail "demo.sh exited non-zero"; }
expect_eq "$(grep -c 'client tests: all passed' <<<"$out")" 2 "client tests passing live and from mocks"
expect_contains "$out" "occurrences of the bearer token in s1.jsonl: 0" "no credential on disk"
expect_contains "$out" "X-Ghost-Mock: smart_swap" "smart_swap tier shown"
expect_contains "$out" '"error":"no mock matched"' "the miss explained"
expect_contains "$out" 'ghost_requests_total{match_type="exact"}' "metrics shown"
rm -rf "$(grep -Eo '/tmp/gostly-demo\.[A-Za-z0-9]+' <<<"$out" | head -n 1)"
