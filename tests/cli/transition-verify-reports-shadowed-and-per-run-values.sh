#!/usr/bin/env bash
# gostly-transition --verify replays every input interaction against the library it just
# committed, in-process, and reports those that would not be answered as recorded: a request
# recorded again with another response in a later session (the library keeps the later one, so
# the earlier is shadowed), and a request with a
# per-run value (a cache-buster) that a rerun sends fresh. Exit 1, library committed all the same;
# a clean input exits 0. What it predicts for the cache-buster is what gostly-serve MOCK does.
source "$(dirname "$0")/common.sh"
rec() { # ID SESSION URI BODY
  printf '{"type":"interaction","v":1,"id":"%s","session_id":"%s","recorded_at":"2026-11-30T00:00:00Z","request":{"method":"GET","uri":"%s","headers":[]},"response":{"status":200,"headers":[["Content-Type","application/json"]],"body":"%s"}}\n' "$1" "$2" "$3" "$4"
}
{
  rec p1 s1 /price '{\"eur\":1}'
  rec cb s1 '/posts?page=2&_cb=1732881234' '[]'
  rec p2 s2 /price '{\"eur\":2}'
} >"$T/bad.jsonl"
{
  rec u1 s1 /users/1 '{\"id\":1}'
  rec j1 s1 /jobs/7 '{\"state\":\"pending\"}'
  rec j2 s1 /jobs/7 '{\"state\":\"done\"}'
} >"$T/clean.jsonl"

# Clean: every interaction answered as recorded (a sequence within a session included).
gostly-transition --data "$T/clean" --verify "$T/clean.jsonl" 2>"$T/clean.log" || fail "clean input: exit $? $(cat "$T/clean.log")"
expect_contains "$(cat "$T/clean.log")" "verify: replayed 3, 3 answered as recorded, 0 would not be" "clean report"

# The cache-buster with a fresh value in MOCK: what verify must predict.
gostly-transition --data "$T/mockdata" "$T/bad.jsonl" 2>"$T/mock-transition.log"
GOSTLY_DATA="$T/mockdata" start_serve --mode MOCK
fresh=$(curl -sS -o /dev/null -w '%{http_code}' "http://$PROXY/posts?page=2&_cb=1732889999")

status=0
gostly-transition --data "$T/bad" --verify "$T/bad.jsonl" 2>"$T/bad.log" || status=$?
expect_eq "$status" 1 "exit status with problems"
log=$(cat "$T/bad.log")
expect_contains "$log" "verify: GET /price ($T/bad.jsonl:1): shadowed: answered by recording p2 of session s2 (status 200, tier exact)" "shadowed duplicate"
if [ "$fresh" = 404 ]; then
  expect_contains "$log" "verify: GET /posts?page=2&_cb=1732881234 ($T/bad.jsonl:2): per-run value: carries a per-run value (query _cb)" "per-run value"
  expect_contains "$log" "replayed 3, 1 answered as recorded, 2 would not be (the library is committed all the same)" "summary"
else
  # A tier that sets such values aside answers it: verify must agree.
  not grep -q '_cb=1732881234' "$T/bad.log" || fail "verify reports a request MOCK answers ($fresh): $log"
fi
# Committed all the same: a dry run finds every record a duplicate.
expect_contains "$(gostly-transition --data "$T/bad" --dry-run --json "$T/bad.jsonl")" '"duplicates":3' "library committed"

# stdin, --json: a verify_summary line on stdout, the input named <stdin>.
status=0
gostly-transition --data "$T/stdin" --verify --json - <"$T/bad.jsonl" >"$T/json.out" 2>"$T/json.log" || status=$?
expect_eq "$status" 1 "exit status with --json"
python3 - "$T/json.out" "$fresh" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert [l["type"] for l in lines] == ["transition_summary", "verify_summary"], lines
v = lines[1]
assert v["checked"] == 3, v
kinds = sorted(f["kind"] for f in v["findings"])
want = ["per-run value", "shadowed"] if sys.argv[2] == "404" else ["shadowed"]
assert kinds == want, (kinds, want)
shadowed = next(f for f in v["findings"] if f["kind"] == "shadowed")
assert shadowed["at"] == "<stdin>:1" and shadowed["answered_by"] == "p2" and shadowed["uri"] == "/price", shadowed
PY
# Not with --dry-run.
status=0
gostly-transition --data "$T/bad" --verify --dry-run "$T/bad.jsonl" 2>/dev/null || status=$?
expect_eq "$status" 2 "--verify with --dry-run"
