#!/usr/bin/env bash
# https:// upstreams: a real TLS server with its own test CA. Without trusting the CA the proxy
# answers 502 naming the certificate problem; with --upstream-ca it records over TLS (SNI, chain
# and name checked); a name the certificate does not carry is refused; --upstream-insecure skips
# the checks; the recording replays in MOCK with the upstream gone.
source "$(dirname "$0")/common.sh"
command -v openssl >/dev/null || skip "openssl not installed"

# A test CA and a leaf for 127.0.0.1 and localhost, valid for a day.
make_test_tls leaf

start_api_upstream --tls-cert "$T/leaf.crt" --tls-key "$T/leaf.key"
PORT=${UPSTREAM##*:}
expect_contains "$UPSTREAM" "https://" "upstream URL"
curl -sS --cacert "$T/ca.crt" "$UPSTREAM/users/42" >"$T/direct.b"

# record_one NAME UPSTREAM [gostly-record args...]: one GET /users/42 through a recording proxy.
record_one() {
  local name=$1 upstream=$2
  shift 2
  gostly-record --upstream "$upstream" --listen 127.0.0.1:0 -o "$T/$name.jsonl" "$@" -- \
    sh -c 'curl -sS -D "$0.h" -o "$0.b" "$GOSTLY_PROXY_URL/users/42"' "$T/$name" 2>"$T/record-$name.log"
}

# Not trusted: a clear 502, nothing invented.
record_one untrusted "$UPSTREAM"
expect_eq "$(head -n1 "$T/untrusted.h" | tr -d '\r')" "HTTP/1.1 502 Bad Gateway" "untrusted status"
expect_contains "$(cat "$T/untrusted.b")" "TLS handshake" "untrusted detail"
expect_contains "$(cat "$T/untrusted.b")" "certificate refused" "untrusted detail"

# Trusted through --upstream-ca: recorded over TLS, byte for byte what the upstream sent.
record_one trusted "$UPSTREAM" --upstream-ca "$T/ca.crt"
expect_eq "$(head -n1 "$T/trusted.h" | tr -d '\r')" "HTTP/1.1 200 OK" "trusted status"
same_user() { # the example API stamps a fresh request_id on every answer
  python3 -c 'import json,sys; a,b=(json.load(open(f)) for f in sys.argv[1:]); a.pop("request_id"); b.pop("request_id"); sys.exit(a!=b)' "$1" "$2"
}
same_user "$T/direct.b" "$T/trusted.b" || fail "body through the proxy differs from the direct one: $(cat "$T/trusted.b")"
expect_eq "$(wc -l <"$T/trusted.jsonl" | tr -d ' ')" 1 "recorded lines"
python3 - "$T/trusted.jsonl" "${UPSTREAM#https://}" <<'PY'
import json, sys
rec = json.loads(open(sys.argv[1]).readline())
assert rec["response"]["status"] == 200, rec
assert json.loads(rec["response"]["body"])["id"] == 42, rec
# The record names the API the request went to, not the proxy the client was pointed at.
assert rec["request"]["scheme"] == "https", rec["request"]
assert rec["request"]["host"] == sys.argv[2], (rec["request"]["host"], sys.argv[2])
PY

# The same CA through SSL_CERT_FILE (OpenSSL's default verify paths) works too.
SSL_CERT_FILE="$T/ca.crt" record_one envtrust "$UPSTREAM"
expect_eq "$(head -n1 "$T/envtrust.h" | tr -d '\r')" "HTTP/1.1 200 OK" "SSL_CERT_FILE status"

# A name the certificate does not carry is refused even with the CA trusted.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=other.example" \
  -addext "subjectAltName=DNS:other.example" -keyout "$T/other.key" -out "$T/other.crt" 2>>"$T/openssl.log"
python3 -u "$SRC/examples/upstream.py" --port 0 --tls-cert "$T/other.crt" --tls-key "$T/other.key" >"$T/other-upstream.log" 2>&1 &
PIDS+=($!)
OTHER=$(bound_address "$T/other-upstream.log")
record_one mismatch "https://$OTHER" --upstream-ca "$T/other.crt"
expect_eq "$(head -n1 "$T/mismatch.h" | tr -d '\r')" "HTTP/1.1 502 Bad Gateway" "name mismatch status"
expect_contains "$(cat "$T/mismatch.b")" "mismatch" "name mismatch detail"

# --upstream-insecure: no checks at all (self-signed staging hosts).
record_one insecure "https://$OTHER" --upstream-insecure
expect_eq "$(head -n1 "$T/insecure.h" | tr -d '\r')" "HTTP/1.1 200 OK" "insecure status"
grep -q "not verified" "$T/record-insecure.log" || fail "--upstream-insecure gave no warning"

# An unreadable --upstream-ca is a usage error up front.
status=0
gostly-record --upstream "$UPSTREAM" --upstream-ca "$T/missing.pem" -- true 2>"$T/badca.log" || status=$?
expect_eq "$status" 125 "missing --upstream-ca exit status"
expect_contains "$(cat "$T/badca.log")" "missing.pem" "missing --upstream-ca message"

# gostly-serve in PASSTHROUGH reuses the TLS connection; then MOCK replays with the upstream gone.
start_serve --upstream "$UPSTREAM" --upstream-ca "$T/ca.crt" --mode PASSTHROUGH
for i in 1 2 3; do
  expect_eq "$(curl -sS -o /dev/null -w '%{http_code}' "http://$PROXY/users/42")" 200 "passthrough request $i"
done
kill "$UPSTREAM_PID"; wait "$UPSTREAM_PID" 2>/dev/null || true
gostly-transition --data "$GOSTLY_DATA" --control "$CONTROL" --then-mode MOCK "$T/trusted.jsonl" 2>"$T/transition.log"
curl -sS -D "$T/mock.h" -o "$T/mock.b" "http://$PROXY/users/42"
cmp -s "$T/trusted.b" "$T/mock.b" || fail "replayed body differs from the recorded one: $(cat "$T/mock.b")"
grep -qi '^X-Ghost-Mock: exact' "$T/mock.h" || fail "no X-Ghost-Mock: exact in $(cat "$T/mock.h")"
