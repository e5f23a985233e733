#!/usr/bin/env bash
# The control API fails closed: 401 without or with a wrong key, no start without GHOST_API_KEY
# unless --insecure-control on loopback. /healthz is deliberately open.
source "$(dirname "$0")/common.sh"
start_serve
expect_eq "$(curl -sS -o /dev/null -w '%{http_code}' "http://$CONTROL/v1/mode")" 401 "missing key"
expect_eq "$(curl -sS -o /dev/null -w '%{http_code}' -H 'X-API-Key: wrong' -X POST "http://$CONTROL/v1/mode" -d '{"mode":"MOCK"}')" 401 "wrong key"
expect_eq "$(curl -sS -o /dev/null -w '%{http_code}' -H 'X-API-Key: wrong' "http://$CONTROL/metrics")" 401 "metrics need the key"
expect_contains "$(api GET /v1/mode)" LEARN "right key; the wrong-key POST changed nothing"
expect_eq "$(curl -sS -o /dev/null -w '%{http_code}' "http://$CONTROL/healthz")" 200 "healthz is open"
status=0
env -u GHOST_API_KEY gostly-serve --data "$GOSTLY_DATA" --listen 127.0.0.1:0 --control 127.0.0.1:0 2>"$T/nokey.log" || status=$?
expect_eq "$status" 2 "exit status without a key"
expect_contains "$(cat "$T/nokey.log")" "GHOST_API_KEY" "message names the variable"
status=0
env -u GHOST_API_KEY gostly-serve --data "$GOSTLY_DATA" --listen 127.0.0.1:0 --control 0.0.0.0:0 --insecure-control 2>"$T/wide.log" || status=$?
expect_eq "$status" 2 "insecure control on a non-loopback address"
env -u GHOST_API_KEY gostly-serve --data "$GOSTLY_DATA" --listen 127.0.0.1:0 --control 127.0.0.1:0 --insecure-control >"$T/insecure.log" 2>&1 &
PIDS+=($!)
addr=$(bound_address "$T/insecure.log" "control listening on")
expect_eq "$(curl -sS -o /dev/null -w '%{http_code}' "http://$addr/v1/mode")" 200 "insecure loopback control works"
