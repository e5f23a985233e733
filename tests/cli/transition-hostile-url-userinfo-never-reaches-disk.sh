#!/usr/bin/env bash
# Credentials in URL userinfo (issue 7 item 8): an absolute-form request through gostly-record's
# forward proxy, `GET http://user:SECRET@host/path`, leaves no SECRET in the recorded JSONL, the
# library built from it, or a bundle exported from that library.
source "$(dirname "$0")/common.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 not installed"
start_api_upstream
up=${UPSTREAM#http://}

gostly-record --upstream "$UPSTREAM" --listen 127.0.0.1:0 -o "$T/rec.jsonl" >"$T/record.log" 2>&1 &
PIDS+=($!)
RECORD_PID=$!
PROXY=$(bound_address "$T/record.log")
wait_for_port "$PROXY"

# The request-target is sent exactly as given, userinfo and all (curl -x alone would move it
# into an Authorization header); then curl's own way, with userinfo in the proxied URL.
out=$(curl -sS --max-time 10 --request-target "http://user:SECRET-target@$up/users/1" "http://$PROXY/")
expect_contains "$out" '"id":1' "absolute-form with userinfo forwarded"
out=$(curl -sS --max-time 10 -x "http://$PROXY" "http://user:SECRET-curl@$up/users/2")
expect_contains "$out" '"id":2' "proxied URL with userinfo forwarded"
kill -INT "$RECORD_PID"
wait "$RECORD_PID" 2>/dev/null || true

[ "$(grep -c '"interaction"' "$T/rec.jsonl")" = 2 ] || fail "expected 2 records in $(cat "$T/rec.jsonl")"
basic=$(printf 'user:SECRET-curl' | base64)
for secret in SECRET "$basic"; do
  not grep -q "$secret" "$T/rec.jsonl" || fail "$secret in the recorded JSONL: $(cat "$T/rec.jsonl")"
done
# The proxy drops userinfo where it splits the target (lib/http), before a record exists; the
# Redactor's own userinfo floor, for every other input, is covered by tests/redact.
expect_contains "$(cat "$T/rec.jsonl")" "\"host\":\"$up\"" "the recorded host is the API's, without userinfo"

gostly-transition "$T/rec.jsonl" 2>/dev/null
sqlite3 "$GOSTLY_DATA/library.db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
gostly-transition --export "$T/lib.tar.gz" 2>/dev/null
mkdir "$T/x" && tar -C "$T/x" -xzf "$T/lib.tar.gz"
for secret in SECRET "$basic"; do
  not grep -rq "$secret" "$GOSTLY_DATA" "$T/x" || fail "$secret in the data dir or the bundle: $(grep -rl "$secret" "$GOSTLY_DATA" "$T/x")"
done
