#!/usr/bin/env bash
# gostly-export openapi keeps aggregates, not interactions: 100 000 interactions (ids, uuids,
# timestamps, free text that never repeats) export in about the peak RSS of 10 000, and the
# document still says what all of them said (samples per operation, enums, formats).
source "$(dirname "$0")/common.sh"
[ -x /usr/bin/time ] || skip "/usr/bin/time not installed"
gen() { # gen N FILE: N interactions on 4 routes, bodies with varying values
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys, uuid
n, out = int(sys.argv[1]), open(sys.argv[2], "w")
states = ["open", "closed", "draft"]
for i in range(n):
    kind = i % 4
    path = ["/users/%d" % i, "/posts/%d" % i, "/search?q=w%d&page=%d" % (i, i % 7), "/orders/%s" % uuid.UUID(int=i)][kind]
    body = {"id": i, "ref": str(uuid.UUID(int=i)), "state": states[i % 3], "note": "free text %d" % i,
            "at": "2026-11-%02dT10:00:%02dZ" % (1 + i % 28, i % 60), "tags": ["t%d" % (i % 5), "x%d" % i],
            "owner": None if i % 3 == 0 else {"name": "n%d" % i, "score": i * 0.5}}
    rec = {"type": "interaction", "v": 1, "id": "i%d" % i, "service_id": "big", "session_id": "s1",
           "source": "learn", "recorded_at": "2026-11-22T17:50:01.123Z", "duration_ms": 1.5,
           "request": {"method": "GET", "uri": path, "scheme": "http", "host": "127.0.0.1:3000",
                       "http_version": "1.1", "headers": [["Accept", "application/json"]]},
           "response": {"status": 200, "reason": "OK", "headers": [["Content-Type", "application/json"]],
                        "body": json.dumps(body)}}
    out.write(json.dumps(rec, separators=(",", ":")) + "\n")
PY
}
gen 10000 "$T/small.jsonl"
gen 100000 "$T/big.jsonl"
rss() { # rss FILE OUT: peak RSS in KiB of exporting FILE
  (ulimit -v 1048576; /usr/bin/time -f %M -o "$T/rss" timeout 60 gostly-export openapi --json "$1" -o "$2" 2>"$T/export.log") ||
    fail "export of $1 failed: $(cat "$T/export.log")"
  cat "$T/rss"
}
small=$(rss "$T/small.jsonl" "$T/small.json")
SECONDS=0
big=$(rss "$T/big.jsonl" "$T/big.json")
echo "openapi: 100000 interactions exported in ${SECONDS}s"
echo "openapi: peak RSS ${small} KiB for 10000 interactions, ${big} KiB for 100000 ($(du -m "$T/big.jsonl" | cut -f1) MB)"
[ "$big" -lt $((small + 8192)) ] || fail "peak RSS grew from $small KiB to $big KiB with the input"
/usr/bin/python3 - "$T/big.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
paths = doc["paths"]
assert sorted(paths) == ["/orders/{id}", "/posts/{id}", "/search", "/users/{id}"], sorted(paths)
assert sum(p["get"]["x-gostly-samples"] for p in paths.values()) == 100000
schema = paths["/users/{id}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
props = schema["properties"]
assert props["state"]["enum"] == ["closed", "draft", "open"], props["state"]
assert "enum" not in props["note"], props["note"]
assert props["ref"]["format"] == "uuid" and props["at"]["format"] == "date-time"
assert props["owner"]["type"] == ["object", "null"], props["owner"]
assert props["owner"]["properties"]["score"]["type"] == "number"
assert paths["/orders/{id}"]["get"]["parameters"][0]["schema"] == {"type": "string", "format": "uuid"}
q = {p["name"]: p for p in paths["/search"]["get"]["parameters"]}
assert q["q"]["required"] and q["page"]["schema"]["type"] == "integer", q
PY
