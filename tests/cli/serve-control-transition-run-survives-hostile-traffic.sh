#!/usr/bin/env bash
# POST /v1/transition {"action":"run"} rebuilds library.db from traffic/, files anyone with access
# to the data dir may have written. It runs gostly-transition as a child process with the work
# budget: a line that crashes or exhausts a parser fails that run (the mode goes back, the error
# is logged), never the daemon.
source "$(dirname "$0")/common.sh"
start_serve --mode MOCK
api POST '/v1/seed/openapi?service_id=default' -o /dev/null --data-binary "@$FIXTURES/openapi/v3.0_api-with-examples.json"
mkdir -p "$GOSTLY_DATA/traffic"
python3 -c '
import sys
deep = "[" * 100000 + "]" * 100000
sys.stdout.write("{\"type\":\"interaction\",\"v\":1,\"id\":\"x\",\"service_id\":\"default\",\"session_id\":\"s\",\"source\":\"learn\",\"recorded_at\":\"2026-11-22T17:50:01.123Z\",\"extra\":" + deep + ",\"request\":{\"method\":\"GET\",\"uri\":\"/a\",\"headers\":[]},\"response\":{\"status\":200,\"headers\":[]}}\n")
' >"$GOSTLY_DATA/traffic/default.jsonl"
expect_eq "$(api POST /v1/transition -o /dev/null -w '%{http_code}' -d '{"action":"run"}')" 202 "run accepted"
deadline=$((SECONDS + 20))
until api GET /v1/mode 2>/dev/null | grep -q '"mode":"MOCK"'; do
  kill -0 "$SERVE_PID" 2>/dev/null || fail "gostly-serve died during the transition run"
  [ $SECONDS -lt $deadline ] || fail "transition run never ended: $(api GET /v1/mode)"
  sleep 0.1
done
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$PROXY/v2")" 200 "a mocked request after the run"
wait_for_log "$T/serve.log" "transition run failed" >/dev/null
