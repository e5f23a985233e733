#!/usr/bin/env bash
# Server-Sent Events through gostly-record: each event reaches the client as the upstream sends
# it (5 events, one every 200 ms), not when the stream ends, and the JSONL holds the one
# interaction with the whole stream as its body; the same over HTTPS through CONNECT (TLS
# interception, an https upstream). (The proxy used to read the whole response
# first: a client with a 0.7 s timeout got nothing.)
source "$(dirname "$0")/common.sh"
python3 -u "$FIXTURES/stream-upstream.py" >"$T/upstream.log" 2>&1 &
PIDS+=($!)
UPSTREAM="http://$(bound_address "$T/upstream.log")"
rec() { timeout 20 gostly-record --upstream "$UPSTREAM" --listen 127.0.0.1:0 -o "$1" --force -- "${@:2}" 2>>"$T/record.log"; }

# A client that gives up after 0.7 s (the stream takes 1 s) has seen the first events.
rec "$T/short.jsonl" sh -c 'curl -sSN --max-time 0.7 "$GOSTLY_PROXY_URL/events?n=5&ms=200" >"$0"; exit 0' "$T/short.txt"
expect_contains "$(cat "$T/short.txt")" "data: event 1" "first event within the client's 0.7 s"
expect_contains "$(cat "$T/short.txt")" "data: event 2" "second event within the client's 0.7 s"

# A client that reads to the end gets every event, the first one long before the last.
rec "$T/out.jsonl" sh -c 'curl -sSN --max-time 10 "$GOSTLY_PROXY_URL/events?n=5&ms=200" |
  while IFS= read -r line; do printf "%s %s\n" "$(date +%s.%N)" "$line"; done >"$0"' "$T/full.txt"
expect_eq "$(grep -c 'data: event' "$T/full.txt")" 5 "events through the proxy"
first=$(awk '/data: event 1$/ {print $1}' "$T/full.txt")
last=$(awk '/data: event 5$/ {print $1}' "$T/full.txt")
python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); sys.exit(0 if b - a >= 0.6 else 1)" "$first" "$last" ||
  fail "event 1 at $first and event 5 at $last: the events came in one piece"

expect_eq "$(wc -l <"$T/out.jsonl" | tr -d ' ')" 1 "one interaction recorded"
python3 - "$T/out.jsonl" <<'PY' || fail "the record does not hold the whole stream"
import json, sys
record = json.loads(open(sys.argv[1]).readline())
response = record["response"]
want = "".join("id: %d\ndata: event %d\n\n" % (i, i) for i in range(1, 6))
assert record["type"] == "interaction", record["type"]
assert response["status"] == 200, response["status"]
assert response.get("body") == want, repr(response.get("body"))
assert "body_truncated" not in response, response
names = [n.lower() for n, _ in response["headers"]]
assert "content-type" in names and "transfer-encoding" not in names, names
PY

# HTTPS: the client's TLS terminated by the proxy (CONNECT), the upstream's verified by a test CA.
command -v openssl >/dev/null || skip "openssl not installed"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=gostly test CA" \
  -keyout "$T/ca.key" -out "$T/ca.crt" 2>"$T/openssl.log"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$T/leaf.key" -out "$T/leaf.csr" 2>>"$T/openssl.log"
printf 'subjectAltName=IP:127.0.0.1\n' >"$T/leaf.ext"
openssl x509 -req -in "$T/leaf.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial -days 1 \
  -extfile "$T/leaf.ext" -out "$T/leaf.crt" 2>>"$T/openssl.log"
python3 -u "$FIXTURES/stream-upstream.py" --tls-cert "$T/leaf.crt" --tls-key "$T/leaf.key" >"$T/tls-upstream.log" 2>&1 &
PIDS+=($!)
TLS_UP=$(bound_address "$T/tls-upstream.log")
ENABLE_TLS_INTERCEPTION=true timeout 20 gostly-record --data "$T/rec-data" --listen 127.0.0.1:0 --upstream-ca "$T/ca.crt" \
  -o "$T/tls.jsonl" -- sh -c 'curl -sSN --max-time 10 --proxy "$GOSTLY_PROXY_URL" --cacert "$1/rec-data/ca/ca.crt" \
    "https://$2/events?n=5&ms=200" | while IFS= read -r line; do printf "%s %s\n" "$(date +%s.%N)" "$line"; done >"$1/tls.txt"' \
  sh "$T" "$TLS_UP" 2>>"$T/record.log"
expect_eq "$(grep -c 'data: event' "$T/tls.txt")" 5 "events over HTTPS"
first=$(awk '/data: event 1$/ {print $1}' "$T/tls.txt")
last=$(awk '/data: event 5$/ {print $1}' "$T/tls.txt")
python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); sys.exit(0 if b - a >= 0.6 else 1)" "$first" "$last" ||
  fail "over HTTPS, event 1 at $first and event 5 at $last: the events came in one piece"
python3 - "$T/tls.jsonl" <<'PY' || fail "the HTTPS record does not hold the whole stream"
import json, sys
records = [json.loads(l) for l in open(sys.argv[1])]
records = [r for r in records if r.get("type", "interaction") == "interaction"]
assert len(records) == 1, records
want = "".join("id: %d\ndata: event %d\n\n" % (i, i) for i in range(1, 6))
assert records[0]["request"]["scheme"] == "https", records[0]["request"]
assert records[0]["response"]["body"] == want, repr(records[0]["response"].get("body"))
PY
