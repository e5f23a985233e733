#!/usr/bin/env bash
# examples/https-record-and-replay.sh: HTTPS recorded through CONNECT (gostly-record as a
# forward proxy with interception) replays from gostly-serve in MOCK with the upstream stopped,
# through CONNECT and straight on --tls-listen.
source "$(dirname "$0")/common.sh"
command -v openssl >/dev/null || skip "openssl not installed"
timeout 60 "$SRC/examples/https-record-and-replay.sh" "$BIN" >"$T/example.log" 2>&1 || fail "the example failed: $(tail -n 20 "$T/example.log")"
out=$(cat "$T/example.log")
expect_contains "$out" "client: 3 HTTPS requests answered" "live run"
expect_contains "$out" "recorded 3 interactions" "recording"
expect_contains "$out" "key mode 600" "CA key mode"
expect_contains "$out" "serves data/ca/ca.crt" "/ca.crt"
# HTTP/1.1 spells it X-Ghost-Mock, HTTP/2 lower-case: either way the answer came from the library.
expect_contains "$(tr "[:upper:]" "[:lower:]" <<<"$out")" "x-ghost-mock: exact" "direct TLS answered from the library"
expect_contains "$out" "https record and replay: all requests replayed" "the whole loop"
