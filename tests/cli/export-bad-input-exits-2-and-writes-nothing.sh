#!/usr/bin/env bash
# gostly-export refuses bad input and bad usage with exit 2 and a message naming the file, line
# and field, and a failed run leaves no output: no -o file, nothing on stdout.
source "$(dirname "$0")/common.sh"
good='{"type":"interaction","v":1,"request":{"method":"GET","uri":"/a","host":"h"},"response":{"status":200}}'
printf '%s\n%s\n' "$good" '{"type":"interaction","v":1,"request":{"method":7,"uri":"/"},"response":{"status":200}}' >"$T/bad.jsonl"
for format in har postman; do
  status=0
  gostly-export $format "$T/bad.jsonl" -o "$T/out.$format" 2>"$T/err.log" || status=$?
  expect_eq "$status" 2 "$format: exit status for a bad line"
  expect_contains "$(cat "$T/err.log")" "bad.jsonl:2: request.method:" "$format: file:line: field"
  [ ! -e "$T/out.$format" ] || fail "$format: a failed run left $T/out.$format"
  status=0
  gostly-export $format - <"$T/bad.jsonl" >"$T/stdout.$format" 2>"$T/err.log" || status=$?
  expect_eq "$status" 2 "$format: exit status from stdin"
  expect_eq "$(wc -c <"$T/stdout.$format")" 0 "$format: bytes on stdout from a failed run"
done
# The library: none yet, an unknown service, an unknown session.
status=0
gostly-export har --data "$T/none" 2>"$T/err.log" || status=$?
expect_eq "$status" 2 "no library"
expect_contains "$(cat "$T/err.log")" "no library yet" "no library message"
[ ! -e "$T/none/library.db" ] || fail "an export created a library"
printf '%s\n' "$good" | gostly-transition --data "$T/lib" - 2>/dev/null
status=0
gostly-export har --data "$T/lib" --service nope 2>"$T/err.log" || status=$?
expect_eq "$status" 2 "unknown service"
expect_contains "$(cat "$T/err.log")" "no service 'nope'" "unknown service message"
status=0
gostly-export postman --data "$T/lib" --session nope 2>"$T/err.log" || status=$?
expect_eq "$status" 2 "unknown session"
expect_contains "$(cat "$T/err.log")" "has no session 'nope'" "unknown session message"
# Usage: no subcommand, -o over the input, a route limit.
status=0; gostly-export 2>/dev/null || status=$?; expect_eq "$status" 2 "no subcommand"
status=0; gostly-export har "$T/bad.jsonl" -o "$T/bad.jsonl" 2>"$T/err.log" || status=$?
expect_eq "$status" 2 "-o over the input"
for i in 1 2 3; do printf '%s\n' "${good/\/a/\/r$i}"; done >"$T/routes.jsonl"
status=0
GOSTLY_EXPORT_MAX_ROUTES=2 gostly-export postman "$T/routes.jsonl" 2>"$T/err.log" || status=$?
expect_eq "$status" 2 "route limit"
expect_contains "$(cat "$T/err.log")" "GOSTLY_EXPORT_MAX_ROUTES" "route limit names its variable"
