#!/usr/bin/env bash
# While a transition runs the proxy answers 503 with Retry-After; ending it reloads library.db.
source "$(dirname "$0")/common.sh"
start_api_upstream
start_serve --upstream "$UPSTREAM" --mode LEARN
api POST /v1/transition -d '{"action":"begin"}' >/dev/null
headers=$(curl -sS -D - -o "$T/body" "http://$PROXY/users/1")
expect_contains "$headers" "503" "status while transitioning"
expect_contains "$headers" "Retry-After:" "Retry-After"
expect_contains "$(api GET /v1/mode)" TRANSITIONING "mode while transitioning"
expect_contains "$(api POST /v1/transition -d '{"action":"end","mode":"PASSTHROUGH"}')" PASSTHROUGH "end"
expect_contains "$(curl -sS -D - -o /dev/null "http://$PROXY/users/1")" "200 OK" "after the transition"
# "run": the server rebuilds library.db from its own traffic/ while answering 503.
api POST /v1/mode -d '{"mode":"LEARN"}' >/dev/null
curl -sS -o /dev/null "http://$PROXY/users/7"
expect_eq "$(api POST /v1/transition -d '{"action":"run","mode":"MOCK"}' -o /dev/null -w '%{http_code}')" 202 "run accepted"
deadline=$((SECONDS + 20))
until api GET /v1/mode | grep -q '"mode":"MOCK"'; do
  [ $SECONDS -lt $deadline ] || fail "transition run never ended: $(api GET /v1/mode)"
  sleep 0.1
done
kill "$UPSTREAM_PID"
expect_contains "$(curl -sS -D - -o /dev/null "http://$PROXY/users/7")" "200 OK" "answered from the rebuilt library"
expect_contains "$(api GET /services/default)" '"library_size":1' "library reloaded"
