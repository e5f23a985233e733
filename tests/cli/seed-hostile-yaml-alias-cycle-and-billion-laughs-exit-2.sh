#!/usr/bin/env bash
# Issue 7 items 1 and 5: a cyclic YAML alias (65 bytes) crashed gostly-seed with SIGSEGV, and
# ten levels of ten aliases (about 700 bytes) grew to gigabytes. Both are exit 2 naming the line
# and the limit, in bounded time and memory.
source "$(dirname "$0")/common.sh"
ulimit -v 2000000 # KiB: far below what the expansion would take

printf "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths: &p\n  /a: *p\n" >"$T/cycle.yaml"
status=0
timeout 20 gostly-seed openapi "$T/cycle.yaml" -o "$T/out.jsonl" 2>"$T/err.log" || status=$?
expect_eq "$status" 2 "exit status for a cyclic alias"
expect_contains "$(cat "$T/err.log")" "$T/cycle.yaml:4: column" "error names the file and the alias's line"
expect_contains "$(cat "$T/err.log")" "alias *p refers to a node that contains it (a cycle)" "error names the alias"
[ ! -e "$T/out.jsonl" ] || fail "a failed run wrote output"

python3 - "$T/laughs.yaml" <<'PY'
import sys
lines = ["openapi: 3.0.0", "info: {title: t, version: '1'}", "x-lol:",
         "  l0: &l0 [" + ", ".join(["lol"] * 10) + "]"]
for level in range(1, 10):
    lines.append(f"  l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 10) + "]")
lines.append("paths: {}")
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
[ "$(stat -c %s "$T/laughs.yaml")" -lt 1024 ] || fail "the generator should stay small"
status=0
timeout 20 gostly-seed openapi "$T/laughs.yaml" >/dev/null 2>"$T/err2.log" || status=$?
expect_eq "$status" 2 "exit status for billion laughs"
expect_contains "$(cat "$T/err2.log")" "$T/laughs.yaml:" "error names the file"
expect_contains "$(cat "$T/err2.log")" "(limit GOSTLY_MAX_YAML_EXPANSION)" "error names the limit"

# A real reuse of an anchor still works, and a smaller limit refuses it.
cat >"$T/reuse.yaml" <<'YAML'
openapi: 3.0.0
info: {title: t, version: '1'}
x-ok: &ok {description: fine, content: {application/json: {example: {ok: true}}}}
paths:
  /a: {get: {responses: {'200': *ok}}}
  /b: {get: {responses: {'200': *ok}}}
YAML
gostly-seed -q openapi "$T/reuse.yaml" -o "$T/reuse.jsonl"
expect_eq "$(wc -l <"$T/reuse.jsonl")" 2 "records from a reused anchor"
status=0
GOSTLY_MAX_YAML_EXPANSION=100 gostly-seed openapi "$T/reuse.yaml" >/dev/null 2>"$T/err3.log" || status=$?
expect_eq "$status" 2 "exit status under a smaller limit"
expect_contains "$(cat "$T/err3.log")" "GOSTLY_MAX_YAML_EXPANSION" "the smaller limit is named"
