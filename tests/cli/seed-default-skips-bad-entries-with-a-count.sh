#!/usr/bin/env bash
# Without --strict a bad entry is skipped with a warning naming it, the run succeeds, and the
# summary counts it; --json reports the same numbers.
source "$(dirname "$0")/common.sh"
gostly-seed har -o "$T/out.jsonl" "$SRC/tests/seed/data/bad-entry.har" 2>"$T/err.log"
expect_eq "$(wc -l <"$T/out.jsonl")" 2 "records written"
err=$(cat "$T/err.log")
expect_contains "$err" "/log/entries/1/response/status: expected an integer, got string (entry skipped)" "warning"
expect_contains "$err" "wrote 2 interactions from 3 entries" "summary"
expect_contains "$err" "skipped 1 bad" "summary count"
gostly-seed -q har --json "$SRC/tests/seed/data/bad-entry.har" 2>"$T/report.json" >/dev/null
python3 - "$T/report.json" <<'PY'
import json, sys
report = json.loads(open(sys.argv[1]).read())
assert report["skipped"] == 1 and report["written"] == 2 and report["entries"] == 3, report
assert report["services"] == ["api.example.com"], report
PY
