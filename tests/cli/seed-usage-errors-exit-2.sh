#!/usr/bin/env bash
# Usage errors are exit 2 with a message: no subcommand, unknown option, bad --var, unsafe ids,
# a missing file.
source "$(dirname "$0")/common.sh"
check() {
  local expected=$1; shift
  local status=0
  "$@" >/dev/null 2>"$T/err.log" </dev/null || status=$?
  expect_eq "$status" 2 "exit status of: $*"
  expect_contains "$(cat "$T/err.log")" "$expected" "message of: $*"
}
check "gostly-seed: error:" gostly-seed
check "gostly-seed: error:" gostly-seed har --no-such-option
check "--var nope: expected NAME=VALUE" gostly-seed postman --var nope "$FIXTURES/postman/collection-v2.json"
check "service id" gostly-seed har --service ../etc "$FIXTURES/har/insomnia.har"
check "cannot open $T/missing.har" gostly-seed har "$T/missing.har"
gostly-seed --help | grep -q '^Usage:' || fail "--help prints no usage"
gostly-seed har --help | grep -q -- '--host' || fail "har --help does not list --host"
