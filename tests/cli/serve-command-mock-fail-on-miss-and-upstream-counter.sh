#!/usr/bin/env bash
# Replay you can prove in CI: `gostly-serve --mode MOCK -- CMD` starts on free ports, gives CMD
# the proxy (and the control API with a key made for the run), exits with CMD's status, prints a
# summary with the upstream connections (0 in MOCK, more in PASSTHROUGH); --fail-on-miss exits 1
# when anything missed, listing each missed request once. 126/127 when CMD cannot be run.
source "$(dirname "$0")/common.sh"
command -v gostly-transition >/dev/null || skip "gostly-transition not built"
unset HTTP_PROXY http_proxy HTTPS_PROXY https_proxy ALL_PROXY all_proxy NO_PROXY no_proxy
start_api_upstream
gostly-record --upstream "$UPSTREAM" --listen 127.0.0.1:0 -o "$T/s1.jsonl" -- \
  sh -c 'curl -sSf -o /dev/null "$GOSTLY_PROXY_URL/users/42"' 2>"$T/record.log"
gostly-transition --data "$GOSTLY_DATA" "$T/s1.jsonl" 2>"$T/transition.log"

# PASSTHROUGH reaches the upstream: the counter says so, in /metrics and in the summary.
timeout 20 gostly-serve --data "$GOSTLY_DATA" --mode PASSTHROUGH --upstream "$UPSTREAM" -- sh -c \
  'curl -sSf -o /dev/null "$GOSTLY_PROXY_URL/users/1" &&
   curl -sSf -H "X-API-Key: $GHOST_API_KEY" "$GOSTLY_CONTROL_URL/metrics" | grep "^gostly_upstream_connections_total "' \
  >"$T/pass.out" 2>"$T/pass.log" || fail "PASSTHROUGH run failed: $(cat "$T/pass.log")"
n=$(awk '{print $2}' "$T/pass.out")
[ "${n:-0}" -ge 1 ] || fail "PASSTHROUGH: gostly_upstream_connections_total is '$n', expected at least 1"
expect_contains "$(cat "$T/pass.log")" "; 0 missed; upstream: 1 connection," "PASSTHROUGH summary"

kill "$UPSTREAM_PID"; wait "$UPSTREAM_PID" 2>/dev/null || true

# MOCK, every request recorded: CMD's status 0, no upstream connection, no miss. No GHOST_API_KEY
# set: the run makes one and gives it to CMD.
env -u GHOST_API_KEY timeout 20 gostly-serve --data "$GOSTLY_DATA" --mode MOCK --fail-on-miss -- sh -c \
  'curl -sSf "$GOSTLY_PROXY_URL/users/42" >"$0/mock.b" &&
   curl -sSf -H "X-API-Key: $GHOST_API_KEY" "$GOSTLY_CONTROL_URL/metrics" | grep "^gostly_upstream_"' "$T" \
  >"$T/mock.out" 2>"$T/mock.log" || fail "clean MOCK run exited $?: $(cat "$T/mock.log")"
expect_contains "$(cat "$T/mock.b")" '"id"' "MOCK body"
expect_eq "$(awk '{print $2}' "$T/mock.out" | paste -sd' ')" "0 0 0" "upstream connections, lookups, handshakes in MOCK"
expect_contains "$(cat "$T/mock.log")" "gostly-serve: 1 request (exact 1); 0 missed; upstream: 0 connections, 0 DNS lookups, 0 TLS handshakes" "MOCK summary"

# A miss with --fail-on-miss: exit 1 although curl succeeded, the miss listed once.
status=0
timeout 20 gostly-serve --data "$GOSTLY_DATA" --mode MOCK --fail-on-miss -- sh -c \
  'curl -sS -o /dev/null "$GOSTLY_PROXY_URL/users/42"; curl -sS -o /dev/null "$GOSTLY_PROXY_URL/nowhere?x=1";
   curl -sS -o /dev/null "$GOSTLY_PROXY_URL/nowhere?x=1"; curl -sS -o /dev/null -X POST -d a=1 "$GOSTLY_PROXY_URL/forms"' \
  >/dev/null 2>"$T/miss.log" || status=$?
expect_eq "$status" 1 "exit status with a miss and --fail-on-miss"
expect_contains "$(cat "$T/miss.log")" "4 requests (exact 1, miss 3); 3 missed; upstream: 0 connections" "summary with misses"
expect_eq "$(grep -c '^gostly-serve: missed: ' "$T/miss.log")" 2 "distinct misses listed"
grep -qx 'gostly-serve: missed: GET /nowhere?x=1' "$T/miss.log" || fail "GET miss not listed: $(cat "$T/miss.log")"
grep -qx 'gostly-serve: missed: POST /forms' "$T/miss.log" || fail "POST miss not listed: $(cat "$T/miss.log")"

# Without --fail-on-miss the same run passes on the command's status.
timeout 20 gostly-serve --data "$GOSTLY_DATA" --mode MOCK -- sh -c 'curl -sS -o /dev/null "$GOSTLY_PROXY_URL/nowhere"' \
  2>"$T/nofail.log" || fail "a miss without --fail-on-miss exited non-zero"
# exit_of CMD...: prints CMD's exit status.
exit_of() { local s=0; "$@" || s=$?; echo "$s"; }
expect_eq "$(exit_of timeout 20 gostly-serve --data "$GOSTLY_DATA" --mode MOCK --fail-on-miss -- sh -c 'exit 7' 2>"$T/seven.log")" 7 \
  "the command's own status"
expect_eq "$(exit_of timeout 20 gostly-serve --data "$GOSTLY_DATA" --mode MOCK -- /nonexistent/cmd 2>"$T/enoent.log")" 127 \
  "a command that is not there"
expect_eq "$(exit_of timeout 20 gostly-serve --data "$GOSTLY_DATA" --mode MOCK --fail-on-miss 2>"$T/usage.log" </dev/null)" 2 \
  "--fail-on-miss without a command"
