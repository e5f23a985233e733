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
  printf '%s\n' "$value" >"$GOSTLY_DATA/mode.txt"
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
if grep -q "never ended" "$T/serve.log"; then fail "a transition timeout was reported: $(grep 'never ended' "$T/serve.log")"; fi

# A valid edit still takes effect.
echo PASSTHROUGH >"$GOSTLY_DATA/mode.txt"
deadline=$((SECONDS + 5))
until api GET /v1/mode | grep -q '"mode":"PASSTHROUGH"'; do
  [ $SECONDS -lt $deadline ] || fail "valid edit not applied: $(api GET /v1/mode)"
  sleep 0.05
done
