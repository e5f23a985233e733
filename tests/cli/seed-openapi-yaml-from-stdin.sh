#!/usr/bin/env bash
# A YAML spec on stdin: one record per operation, concrete paths, deterministic output.
source "$(dirname "$0")/common.sh"
gostly-seed openapi --service pets <"$FIXTURES/openapi/v2.0_yaml_petstore-expanded.yaml" >"$T/a.jsonl"
gostly-seed --service pets openapi "$FIXTURES/openapi/v2.0_yaml_petstore-expanded.yaml" -o "$T/b.jsonl"
cmp "$T/a.jsonl" "$T/b.jsonl" || fail "same spec, different output"
expect_eq "$(wc -l <"$T/a.jsonl")" 4 "operations"
expect_contains "$(sed -n 3p "$T/a.jsonl")" '"uri":"/api/pets/1"' "path template made concrete"
expect_eq "$(grep -c '"source":"openapi"' "$T/a.jsonl")" 4 "source"
status=0
printf 'openapi: 3.0.0\npaths:\n  /a: [\n' | gostly-seed openapi >/dev/null 2>"$T/err.log" || status=$?
expect_eq "$status" 2 "bad YAML exit status"
expect_contains "$(cat "$T/err.log")" "gostly-seed: error: <stdin>:4: column" "bad YAML names the line"
