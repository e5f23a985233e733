#!/usr/bin/env bash
# ENABLE_TLS_INTERCEPTION as the contract says: `strict` exits on a CA it cannot use (naming the
# file) and on a --tls-listen it cannot bind; `true`/`lax` logs the error and keeps plain HTTP
# serving (CONNECT 501 naming ENABLE_TLS_INTERCEPTION, /ca.crt 503). A bad value, and --tls-listen
# or --no-intercept without interception, are usage errors (exit 2).
source "$(dirname "$0")/common.sh"

# run_serve_expect_exit NAME EXPECTED_MESSAGE [args...]: gostly-serve must exit non-zero at once,
# saying EXPECTED_MESSAGE.
run_serve_expect_exit() {
  local name=$1 expected=$2 status=0
  shift 2
  timeout 10 gostly-serve --data "$GOSTLY_DATA" --listen 127.0.0.1:0 --control 127.0.0.1:0 --insecure-control "$@" \
    >"$T/$name.log" 2>&1 </dev/null || status=$?
  [ "$status" -ne 0 ] || fail "$name: gostly-serve exited 0"
  [ "$status" -ne 124 ] || fail "$name: gostly-serve kept running"
  expect_contains "$(cat "$T/$name.log")" "$expected" "$name message"
  echo "$status"
}

# Usage errors: exit 2 with the option named.
status=$(ENABLE_TLS_INTERCEPTION=maybe run_serve_expect_exit badvalue "ENABLE_TLS_INTERCEPTION='maybe'")
expect_eq "$status" 2 "bad ENABLE_TLS_INTERCEPTION exit status"
status=$(ENABLE_TLS_INTERCEPTION= run_serve_expect_exit tlslisten-off "--tls-listen" --tls-listen 127.0.0.1:0)
expect_eq "$status" 2 "--tls-listen without interception exit status"
expect_contains "$(cat "$T/tlslisten-off.log")" "ENABLE_TLS_INTERCEPTION" "--tls-listen without interception names the variable"
status=$(ENABLE_TLS_INTERCEPTION=off run_serve_expect_exit nointercept-off "--no-intercept" --no-intercept example.com)
expect_eq "$status" 2 "--no-intercept without interception exit status"

# A CA file that is not a certificate.
mkdir -p "$GOSTLY_DATA/ca"
printf 'this is not a certificate\n' >"$GOSTLY_DATA/ca/ca.crt"
printf 'nor is this a key\n' >"$GOSTLY_DATA/ca/ca.key"
chmod 600 "$GOSTLY_DATA/ca/ca.key"
ENABLE_TLS_INTERCEPTION=strict run_serve_expect_exit strict-badca "$GOSTLY_DATA/ca/ca.crt" >/dev/null
# The bad files are left for the user to look at, not replaced by a new CA clients do not trust.
expect_eq "$(cat "$GOSTLY_DATA/ca/ca.crt")" "this is not a certificate" "ca.crt after strict"

# lax (and true): the error is logged, plain HTTP keeps serving.
start_api_upstream
for value in lax true; do
  ENABLE_TLS_INTERCEPTION=$value start_serve --upstream "$UPSTREAM" --mode PASSTHROUGH
  grep -q "$GOSTLY_DATA/ca/ca.crt" "$T/serve.log" || fail "$value: the bad CA file is not named in the log"
  grep -q "plain HTTP keeps serving" "$T/serve.log" || fail "$value: no 'plain HTTP keeps serving' in the log"
  expect_eq "$(curl -sS -o /dev/null -w '%{http_code}' "http://$PROXY/users/1")" 200 "$value: plain request"
  # A proxy client's CONNECT: 501 with the reason.
  code=$(curl -sS -o "$T/connect.b" -w '%{http_code}' -X CONNECT --request-target 127.0.0.1:443 "http://$PROXY") || true
  expect_eq "$code" 501 "$value: CONNECT status"
  expect_contains "$(cat "$T/connect.b")" "ENABLE_TLS_INTERCEPTION" "$value: CONNECT body"
  code=$(curl -sS -o "$T/ca.b" -w '%{http_code}' "http://$PROXY/ca.crt")
  expect_eq "$code" 503 "$value: /ca.crt status"
  expect_contains "$(cat "$T/ca.b")" "ENABLE_TLS_INTERCEPTION" "$value: /ca.crt body"
  kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null || true
done

# A --tls-listen that cannot be bound (the port is taken): strict exits, lax logs and serves.
rm -rf "$GOSTLY_DATA/ca"
python3 -c 'import socket,time,sys; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(60)' >"$T/taken.port" &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$T/taken.port" ] && break; sleep 0.05; done
TAKEN=127.0.0.1:$(cat "$T/taken.port")
ENABLE_TLS_INTERCEPTION=strict run_serve_expect_exit strict-bind "tls-listen" --tls-listen "$TAKEN" >/dev/null
ENABLE_TLS_INTERCEPTION=lax start_serve --upstream "$UPSTREAM" --mode PASSTHROUGH --tls-listen "$TAKEN"
grep -q -- "--tls-listen" "$T/serve.log" || fail "lax: the --tls-listen failure is not logged"
expect_eq "$(curl -sS -o /dev/null -w '%{http_code}' "http://$PROXY/users/1")" 200 "lax unbindable --tls-listen: plain request"
# The CA is fine here, so /ca.crt is served on the proxy port.
expect_eq "$(curl -sS -o /dev/null -w '%{http_code}' "http://$PROXY/ca.crt")" 200 "lax unbindable --tls-listen: /ca.crt"
