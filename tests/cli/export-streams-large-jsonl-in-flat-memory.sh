#!/usr/bin/env bash
# gostly-export streams: a JSONL of 20 000 interactions (about 25 MB) exports to HAR and to
# Postman in about the memory of a 600-interaction one (peak RSS measured with /usr/bin/time):
# HAR holds one entry at a time, Postman one list head per route (the examples wait in a spool
# file). The output is complete: every interaction is an entry or a saved example.
source "$(dirname "$0")/common.sh"
[ -x /usr/bin/time ] || skip "/usr/bin/time not installed"
gen() { # gen N FILE: N interactions on 5 routes with 1 KB bodies
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
n, out = int(sys.argv[1]), open(sys.argv[2], "w")
pad = "x" * 1000
for i in range(n):
    path = ["/users/%d", "/posts/%d", "/orders/%d", "/items/%d", "/carts/%d"][i % 5] % i
    rec = {"type": "interaction", "v": 1, "id": "i%d" % i, "service_id": "big", "session_id": "s1",
           "source": "learn", "recorded_at": "2026-11-22T17:50:01.123Z", "duration_ms": 1.5,
           "request": {"method": "GET", "uri": path + "?page=%d" % i, "scheme": "http", "host": "127.0.0.1:3000",
                       "http_version": "1.1", "headers": [["Accept", "application/json"]]},
           "response": {"status": 200, "reason": "OK", "headers": [["Content-Type", "application/json"]],
                        "body": json.dumps({"id": i, "pad": pad})}}
    out.write(json.dumps(rec, separators=(",", ":")) + "\n")
PY
}
gen 600 "$T/small.jsonl"
gen 20000 "$T/big.jsonl"
rss() { # rss FORMAT FILE: peak RSS in KiB of exporting FILE
  /usr/bin/time -f %M -o "$T/rss" timeout 60 gostly-export "$1" "$2" -o "$T/out.$1" 2>"$T/export-$1.log"
  cat "$T/rss"
}
for format in har postman; do
  small=$(rss $format "$T/small.jsonl")
  big=$(rss $format "$T/big.jsonl")
  echo "$format: peak RSS ${small} KiB for 600 interactions, ${big} KiB for 20000 ($(du -m "$T/big.jsonl" | cut -f1) MB)"
  [ "$big" -lt $((small + 16384)) ] || fail "$format: peak RSS grew from $small KiB to $big KiB with the input"
done
/usr/bin/python3 - "$T/out.har" "$T/out.postman" <<'PY'
import json, sys
har, col = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert len(har["log"]["entries"]) == 20000
assert len(col["item"]) == 5
assert sum(len(r["response"]) for f in col["item"] for r in f["item"]) == 20000
PY
