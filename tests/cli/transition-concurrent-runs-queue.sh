#!/usr/bin/env bash
# Six gostly-transition runs at once on one data directory queue for the write lock instead of
# failing after SQLite's busy timeout: all exit 0 and the library holds every record.
source "$(dirname "$0")/common.sh"
# Six files of 5 000 records each: each import holds the write lock for a while, and SQLite's busy
# timeout is cut to 1 s (GOSTLY_BUSY_TIMEOUT_MS) so a run that polls instead of queueing fails fast.
python3 - "$T" <<'PY'
import json, sys
for f in range(6):
    with open(f"{sys.argv[1]}/in{f}.jsonl", "w") as out:
        for i in range(5000):
            out.write(json.dumps({"type": "interaction", "id": f"f{f}-{i}", "service_id": f"svc{f}",
                                  "session_id": "s1", "recorded_at": "2026-01-01T00:00:00.000Z",
                                  "request": {"method": "GET", "uri": f"/items/{i}"},
                                  "response": {"status": 200, "body": "x" * 100}}) + "\n")
PY
gostly-transition --data "$GOSTLY_DATA" --json "$T/in0.jsonl" >"$T/run0.out" 2>"$T/run0.log"
pids=()
for f in 1 2 3 4 5; do
  GOSTLY_BUSY_TIMEOUT_MS=1000 timeout 60 gostly-transition --data "$GOSTLY_DATA" --json "$T/in$f.jsonl" >"$T/run$f.out" 2>"$T/run$f.log" &
  pids+=($!)
done
# Rerunning in0 adds nothing but takes the lock too: six writers at once.
GOSTLY_BUSY_TIMEOUT_MS=1000 timeout 60 gostly-transition --data "$GOSTLY_DATA" --json "$T/in0.jsonl" >"$T/rerun0.out" 2>"$T/rerun0.log" &
pids+=($!)
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=$((failed + 1)); done
[ "$failed" -eq 0 ] || { cat "$T"/run*.log "$T/rerun0.log" >&2; fail "$failed of 6 concurrent transitions failed"; }
for f in 1 2 3 4 5; do expect_contains "$(cat "$T/run$f.out")" '"added":5000' "run $f"; done
expect_contains "$(cat "$T/rerun0.out")" '"added":0' "rerun of in0"
count=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from recordings").fetchone()[0])' "$GOSTLY_DATA/library.db")
expect_eq "$count" 30000 "records in the library"
