#!/usr/bin/env bash
# Hostile JSONL values (issue 7 items 2, 6, 12): a status past int, a +99:99 offset, CR/LF in a
# method, a header value or a reason, 50 000 nested arrays in an unknown field: each is exit 2
# naming file, line and field, bounded in time, and the library is left exactly as it was (on
# either engine: also run as cli-postgres).
source "$(dirname "$0")/common.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 not installed"

good='{"type":"interaction","id":"ok","recorded_at":"2026-01-01T00:00:00Z","request":{"method":"GET","uri":"/"},"response":{"status":200}}'
echo "$good" | gostly-transition - 2>/dev/null
before=$(library_sql 'select interaction_id, record from recordings order by 1')

# check NAME EXPECTED-MESSAGE LINE3: s.jsonl = two good lines then LINE3.
check() {
  local name=$1 expected=$2 bad=$3 status=0
  { echo "$good" | sed 's/"ok"/"a"/'; echo "$good" | sed 's/"ok"/"b"/'; printf '%s\n' "$bad"; } >"$T/s.jsonl"
  (cd "$T" && timeout 20 gostly-transition s.jsonl) 2>"$T/$name.log" || status=$?
  expect_eq "$status" 2 "$name: exit status"
  expect_contains "$(cat "$T/$name.log")" "$expected" "$name: message"
  expect_eq "$(library_sql 'select interaction_id, record from recordings order by 1')" "$before" "$name: the library"
}

check status 's.jsonl:3: response.status: out of range' \
  '{"request":{"method":"GET","uri":"/"},"response":{"status":4294967496}}'
check offset 's.jsonl:3: recorded_at: not an RFC 3339 date-time' \
  '{"recorded_at":"2026-01-01T00:00:00+99:99","request":{"method":"GET","uri":"/"},"response":{"status":200}}'
check method 's.jsonl:3: request.method: not a valid HTTP method' \
  '{"request":{"method":"GET\r\nX: 1","uri":"/"},"response":{"status":200}}'
check header 's.jsonl:3: response.headers[1][1]: header value contains CR, LF or NUL' \
  '{"request":{"method":"GET","uri":"/"},"response":{"status":200,"headers":[["A","1"],["X","1\r\nSet-Cookie: evil=1"]]}}'
check reason 's.jsonl:3: response.reason: contains CR, LF or NUL' \
  '{"request":{"method":"GET","uri":"/"},"response":{"status":200,"reason":"OK\r\n\r\nHTTP/1.1 200 OK"}}'
check duration 's.jsonl:3: duration_ms: ' \
  '{"duration_ms":-5,"request":{"method":"GET","uri":"/"},"response":{"status":200}}'
deep=$(printf '%*s' 50000 '' | tr ' ' '[')$(printf '%*s' 50000 '' | tr ' ' ']')
check deep 's.jsonl:3: nested deeper than 256 levels (limit GOSTLY_MAX_DEPTH)' \
  "{\"future\":$deep,\"request\":{\"method\":\"GET\",\"uri\":\"/\"},\"response\":{\"status\":200}}"
export GOSTLY_MAX_HEADERS=2
check headers 's.jsonl:3: request.headers: more than 2 headers (limit GOSTLY_MAX_HEADERS)' \
  '{"request":{"method":"GET","uri":"/","headers":[["a","1"],["b","2"],["c","3"]]},"response":{"status":200}}'
