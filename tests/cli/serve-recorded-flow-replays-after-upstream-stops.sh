#!/usr/bin/env bash
# The core loop: record a flow through gostly-record, build the library, stop the upstream, and
# replay it from gostly-serve in MOCK with the same status, body and end-to-end headers.
source "$(dirname "$0")/common.sh"
command -v gostly-transition >/dev/null || skip "gostly-transition not built"
start_api_upstream
cat >"$T/client.sh" <<'SH'
set -e
curl -sS -D "$OUT/live1.h" -o "$OUT/live1.b" "$GOSTLY_PROXY_URL/users/42"
curl -sS -D "$OUT/live2.h" -o "$OUT/live2.b" "$GOSTLY_PROXY_URL/posts/1"
curl -sS -D "$OUT/live3.h" -o "$OUT/live3.b" -X POST "$GOSTLY_PROXY_URL/users" -H 'Content-Type: application/json' -d '{"name":"ada"}'
SH
OUT=$T gostly-record --upstream "$UPSTREAM" --listen 127.0.0.1:0 -o "$T/s1.jsonl" -- bash "$T/client.sh" 2>"$T/record.log"
expect_eq "$(wc -l <"$T/s1.jsonl" | tr -d ' ')" 3 "recorded lines"
gostly-transition --data "$GOSTLY_DATA" "$T/s1.jsonl" 2>"$T/transition.log"
kill "$UPSTREAM_PID"; wait "$UPSTREAM_PID" 2>/dev/null || true
start_serve --mode MOCK
replay() { # N CURL-ARGS...: replays request N and compares it with what the client saw live
  local n=$1; shift
  curl -sS -D "$T/mock$n.h" -o "$T/mock$n.b" "$@"
  cmp -s "$T/live$n.b" "$T/mock$n.b" || fail "request $n: replayed body differs: $(cat "$T/mock$n.b")"
  expect_eq "$(head -n1 "$T/mock$n.h" | tr -d '\r')" "$(head -n1 "$T/live$n.h" | tr -d '\r')" "request $n status line"
  for h in ETag X-Upstream Content-Type; do
    expect_eq "$(grep -i "^$h:" "$T/mock$n.h" | tr -d '\r')" "$(grep -i "^$h:" "$T/live$n.h" | tr -d '\r')" "request $n header $h"
  done
  grep -qi '^X-Ghost-Mock: exact' "$T/mock$n.h" || fail "request $n: no X-Ghost-Mock: exact in $(cat "$T/mock$n.h")"
}
replay 1 "http://$PROXY/users/42"
replay 2 "http://$PROXY/posts/1"
replay 3 -X POST "http://$PROXY/users" -H 'Content-Type: application/json' -d '{"name":"ada"}'
