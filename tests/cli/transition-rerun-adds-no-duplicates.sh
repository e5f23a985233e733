#!/usr/bin/env bash
# Running the same transition twice (with and without ids in the records) adds nothing new.
source "$(dirname "$0")/common.sh"

{
  printf '{"type":"interaction","id":"with-id","request":{"method":"GET","uri":"/a"},"response":{"status":200}}\n'
  printf '{"type":"interaction","request":{"method":"POST","uri":"/b","body":"{}"},"response":{"status":201}}\n'
} >"$T/in.jsonl"
first=$(gostly-transition --json "$T/in.jsonl")
expect_contains "$first" '"added":2' "first run"
second=$(gostly-transition --json "$T/in.jsonl")
expect_contains "$second" '"added":0' "second run adds nothing"
expect_contains "$second" '"duplicates":2' "second run sees duplicates"
