#!/usr/bin/env bash
# gostly-seed -o FILE killed with -9 half-way leaves nothing in FILE's directory: the output is
# built in an unnamed temporary file (O_TMPFILE) that only gets a name when the run commits.
source "$(dirname "$0")/common.sh"
mkdir "$T/out"
mkfifo "$T/in.fifo"
# A HAR whose entries keep coming and never end: 3000 entries, then the writer holds the FIFO open.
python3 - "$T/entries.har" <<'PY'
import json, sys
entry = {"startedDateTime": "2026-01-01T00:00:00.000Z", "time": 1,
         "request": {"method": "GET", "url": "http://api.test/items/%d", "httpVersion": "HTTP/1.1",
                     "headers": [], "queryString": [], "cookies": [], "headersSize": -1, "bodySize": 0},
         "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1", "headers": [],
                      "cookies": [], "content": {"size": 40, "mimeType": "application/json",
                                                 "text": "{\"item\": %d, \"padding\": \"" + "x" * 200 + "\"}"},
                      "redirectURL": "", "headersSize": -1, "bodySize": 40},
         "cache": {}, "timings": {"send": 0, "wait": 1, "receive": 0}}
text = json.dumps(entry)
with open(sys.argv[1], "w") as f:
    f.write('{"log": {"version": "1.2", "creator": {"name": "t", "version": "1"}, "entries": [')
    f.write(",".join(text.replace("%d", str(i)) for i in range(3000)))
    f.write(",")
PY
exec 3<>"$T/in.fifo" # keeps the FIFO open for writing: the input never ends
gostly-seed har "$T/in.fifo" -o "$T/out/seeded.jsonl" 2>"$T/seed.log" &
SEED_PID=$!
PIDS+=($SEED_PID)
timeout 10 cat "$T/entries.har" >&3
# Wait until the seed has written part of its output (more than one 64 KiB block of 3000 records).
deadline=$((SECONDS + 10))
written=0
while [ $SECONDS -lt $deadline ]; do
  for fd in /proc/$SEED_PID/fd/*; do
    target=$(readlink "$fd" 2>/dev/null || true)
    case "$target" in "$T/out/"*)
      size=$(stat -L -c %s "$fd" 2>/dev/null || echo 0)
      [ "$size" -gt 0 ] && written=$size ;;
    esac
  done
  [ "$written" -gt 0 ] && break
  sleep 0.05
done
[ "$written" -gt 0 ] || fail "the seed never wrote part of its output"
kill -9 "$SEED_PID"
wait "$SEED_PID" 2>/dev/null || true
exec 3>&-
expect_eq "$(ls -A "$T/out")" "" "files left in the output directory after kill -9"
