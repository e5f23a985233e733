#!/usr/bin/env bash
# TRANSITIONING is a server state, not a mode to set: written into mode.txt (or any value that is
# not a mode) it is refused with a warning that names the file and the accepted values, the
# server keeps its mode (no flip to LEARN through a bogus transition timeout) and mode.txt is
# restored to the mode in force, so the file never claims a state the server is not in.
source "$(dirname "$0")/common.sh"
start_serve --mode MOCK
expect_eq "$(cat "$GOSTLY_DATA/mode.txt")" MOCK "--mode writes mode.txt"

refused() { # VALUE: write VALUE, wait for the refusal, check mode and file
  local value=$1 n
  n=$(grep -c "mode.txt" "$T/serve.log" || true)
  if [ "$value" = EMPTY ]; then : >"$GOSTLY_DATA/mode.txt"; else printf '%s\n' "$value" >"$GOSTLY_DATA/mode.txt"; fi
  local deadline=$((SECONDS + 5))
  until [ "$(grep -c "mode.txt" "$T/serve.log" || true)" -gt "$n" ]; do
    [ $SECONDS -lt $deadline ] || fail "no warning about mode.txt after writing '$value'"
    sleep 0.05
  done
  local warning
  warning=$(grep "mode.txt" "$T/serve.log" | tail -n 1)
  expect_contains "$warning" "$GOSTLY_DATA/mode.txt" "the warning names the file ($value)"
  expect_contains "$warning" "LEARN, MOCK or PASSTHROUGH" "the warning lists the accepted values ($value)"
  sleep 0.5 # a few polls: a bogus transition would have timed out and flipped the mode by now
  expect_contains "$(api GET /v1/mode)" '"mode":"MOCK"' "still MOCK after '$value'"
  expect_eq "$(cat "$GOSTLY_DATA/mode.txt")" MOCK "mode.txt restored after '$value'"
}
refused TRANSITIONING
refused transitioning
refused MOKC
refused EMPTY # given a second (an in-place writer truncates first), then refused like the rest
if grep -q "never ended" "$T/serve.log"; then fail "a transition timeout was reported: $(grep 'never ended' "$T/serve.log")"; fi

# A valid edit still takes effect.
echo PASSTHROUGH >"$GOSTLY_DATA/mode.txt"
deadline=$((SECONDS + 5))
until api GET /v1/mode | grep -q '"mode":"PASSTHROUGH"'; do
  [ $SECONDS -lt $deadline ] || fail "valid edit not applied: $(api GET /v1/mode)"
  sleep 0.05
done

# At start there is no mode to keep: such a mode.txt is an error (exit 2) naming file and values.
kill "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null || true
echo TRANSITIONING >"$GOSTLY_DATA/mode.txt"
status=0
timeout 10 gostly-serve --data "$GOSTLY_DATA" --listen 127.0.0.1:0 --control 127.0.0.1:0 2>"$T/start.log" || status=$?
expect_eq "$status" 2 "exit status of a start with TRANSITIONING in mode.txt"
expect_contains "$(cat "$T/start.log")" "$GOSTLY_DATA/mode.txt:1: mode: expected LEARN, MOCK or PASSTHROUGH" "the start error"
