#!/usr/bin/env bash
# A slow download (the head and a first 64 KiB piece at once, then a piece every 150 ms) through
# the proxy in PASSTHROUGH and LEARN: the first byte comes about as soon as it does straight from
# the upstream (it used to come after the whole 600 ms download; the bound, direct + 300 ms, is
# loose for a loaded machine: measured medians are about 1 ms both ways), the bytes are the
# same, chunked, by Content-Length and close-delimited (and to an HTTP/1.0 client), and LEARN
# records the whole body. The upstream timeout is the longest pause between pieces, not a bound on the whole
# stream: a 1.6 s stream with 400 ms pauses passes a 1 s timeout; a 1.5 s pause ends the stream,
# which the client sees cut and the record marks "truncated_by":"upstream".
source "$(dirname "$0")/common.sh"
python3 -u "$FIXTURES/stream-upstream.py" >"$T/upstream.log" 2>&1 &
PIDS+=($!)
UP=$(bound_address "$T/upstream.log")
Q="chunks=5&size=65536&ms=150"

# ttfb URL OUT [curl args]: prints curl's time to first byte in ms; the body goes to OUT.
ttfb() {
  local url=$1 out=$2
  shift 2
  timeout 20 curl -sS --max-time 10 "$@" -o "$out" -w '%{time_starttransfer}' "$url" |
    python3 -c 'import sys; print(round(float(sys.stdin.read()) * 1000, 1))'
}
below() { python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)' "$1" "$2"; }
sum() { sha256sum "$1" | cut -d' ' -f1; }

direct=$(ttfb "http://$UP/download?$Q" "$T/direct.bin")
expect_eq "$(stat -c %s "$T/direct.bin")" 327680 "direct download size"
for mode in PASSTHROUGH LEARN; do
  start_serve --upstream "http://$UP" --mode "$mode" --upstream-timeout 1
  for framing in chunked length close; do
    proxied=$(ttfb "http://$PROXY/download?$Q&framing=$framing" "$T/proxied.bin")
    echo "$mode $framing: time to first byte ${direct} ms direct, ${proxied} ms through the proxy" >&2
    below "$proxied" "$(python3 -c "print($direct + 300)")" || fail "$mode $framing: first byte after $proxied ms (direct: $direct ms)"
    expect_eq "$(sum "$T/proxied.bin")" "$(sum "$T/direct.bin")" "$mode $framing: the bytes"
  done
  if [ "$mode" = PASSTHROUGH ]; then kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null || true; continue; fi
  # HTTP/1.0 cannot take chunked: the body ends when the proxy closes the connection.
  curl -sS --http1.0 --max-time 10 -D "$T/h10.head" -o "$T/h10.bin" "http://$PROXY/download?$Q"
  expect_eq "$(sum "$T/h10.bin")" "$(sum "$T/direct.bin")" "$mode HTTP/1.0: the bytes"
  not grep -qi '^transfer-encoding' "$T/h10.head" || fail "$mode: chunked sent to an HTTP/1.0 client"
  # Pauses shorter than the timeout, a stream longer than it.
  curl -sS --max-time 10 -o "$T/long.bin" "http://$PROXY/download?chunks=5&size=1000&ms=400" ||
    fail "$mode: a 1.6 s stream with 400 ms pauses was cut by a 1 s upstream timeout"
  expect_eq "$(stat -c %s "$T/long.bin")" 5000 "$mode: the long stream's size"
  # A pause longer than the timeout ends the stream early; the client sees it cut.
  status=0
  out=$(curl -sS --max-time 10 "http://$PROXY/pause?ms=1500" 2>"$T/pause.err") || status=$?
  expect_contains "$out" "before the pause" "$mode: the piece before the pause"
  [ "$status" -ne 0 ] || fail "$mode: a stream cut by the idle timeout looked complete to the client"
  expect_contains "$(curl -sS "http://$PROXY/download?chunks=1&size=10" | wc -c)" 10 "$mode: the proxy still answers"
  kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null || true
done

python3 - "$GOSTLY_DATA/traffic/default.jsonl" "$T/direct.bin" <<'PY' || fail "LEARN records"
import base64, json, sys
records = [json.loads(l) for l in open(sys.argv[1])]
want = open(sys.argv[2], "rb").read()
by_uri = {}
for r in records:
    by_uri.setdefault(r["request"]["uri"].split("&framing")[0], []).append(r["response"])
downloads = by_uri["/download?chunks=5&size=65536&ms=150"]
assert len(downloads) == 4, len(downloads)  # chunked, length, close, HTTP/1.0
for response in downloads:
    assert base64.b64decode(response["body_b64"]) == want, "body differs"
    assert "body_truncated" not in response, response.keys()
long = by_uri["/download?chunks=5&size=1000&ms=400"][0]
assert len(base64.b64decode(long["body_b64"])) == 5000
pause = by_uri["/pause?ms=1500"][0]
assert pause["body"] == "before the pause\n", pause["body"]
assert pause["body_truncated"] is True and pause["truncated_by"] == "upstream", pause
PY
