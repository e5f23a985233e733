#!/usr/bin/env bash
# HTTP/2 on the client side (ALPN h2): curl --http2 through gostly-record, by CONNECT on the proxy
# port and straight to --tls-listen, is answered over HTTP/2 and recorded as "http_version":"2"
# with the real https host; with the upstream stopped, gostly-serve MOCK on the transitioned
# library answers the same statuses and bodies over HTTP/2 again, both ways.
source "$(dirname "$0")/common.sh"
command -v openssl >/dev/null || skip "openssl not installed"
curl --version | grep -qw HTTP2 || skip "curl without HTTP/2"

# A test CA and a leaf for 127.0.0.1 for the TLS upstream.
make_test_tls leaf
start_api_upstream --tls-cert "$T/leaf.crt" --tls-key "$T/leaf.key"
UP=${UPSTREAM#https://}

export ENABLE_TLS_INTERCEPTION=true
gostly-record --data "$GOSTLY_DATA" --listen 127.0.0.1:0 --tls-listen 127.0.0.1:0 --upstream "$UPSTREAM" \
  --upstream-ca "$T/ca.crt" -o "$T/h2.jsonl" >"$T/record.log" 2>&1 &
RECORD_PID=$!
PIDS+=($RECORD_PID)
PROXY=$(bound_address "$T/record.log" "gostly-record: listening on")
TLS=$(bound_address "$T/record.log" "TLS listening on")
CA="$GOSTLY_DATA/ca/ca.crt"

# h2get NAME URL [curl args...]: an HTTP/2 GET; NAME.b = body, NAME.v = "VERSION STATUS".
h2get() {
  local name=$1 url=$2
  shift 2
  timeout 10 curl -sS --http2 --cacert "$CA" -o "$T/$name.b" -w '%{http_version} %{http_code}' "$@" "$url" >"$T/$name.v"
}
h2get connect "https://$UP/users/7" --proxy "http://$PROXY"
expect_eq "$(cat "$T/connect.v")" "2 200" "HTTP version and status through CONNECT"
h2get direct "https://localhost:${TLS##*:}/posts/3"
expect_eq "$(cat "$T/direct.v")" "2 200" "HTTP version and status on --tls-listen"
h2get missing "https://localhost:${TLS##*:}/users/404"
expect_eq "$(cat "$T/missing.v")" "2 404" "HTTP version and status of a 404"
# A POST with a body over HTTP/2 reaches the upstream whole.
h2get created "https://$UP/users" --proxy "http://$PROXY" -H 'content-type: application/json' -d '{"name":"h2 user"}'
expect_eq "$(cat "$T/created.v")" "2 201" "HTTP version and status of a POST"
expect_contains "$(cat "$T/created.b")" '"h2 user"' "POST answer"

# HEAD over HTTP/2: the length of the GET, no body.
timeout 10 curl -sS --http2 --cacert "$CA" -I "https://localhost:${TLS##*:}/posts/3" >"$T/head.h"
expect_contains "$(head -n1 "$T/head.h")" "HTTP/2 200" "HEAD status line"

kill -TERM "$RECORD_PID"
wait "$RECORD_PID" 2>/dev/null || true
expect_eq "$(wc -l <"$T/h2.jsonl" | tr -d ' ')" 5 "recorded lines"
python3 - "$T/h2.jsonl" "$UP" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
by_uri = {r["request"]["uri"]: r for r in recs if r["request"]["method"] != "HEAD"}
assert [r["request"]["method"] for r in recs].count("HEAD") == 1, recs
for uri in ("/users/7", "/posts/3", "/users/404", "/users"):
    r = by_uri[uri]["request"]
    assert r["http_version"] == "2", r
    assert r["scheme"] == "https", r
    assert r["host"] == sys.argv[2], (r["host"], sys.argv[2])
    names = [h[0] for h in r["headers"]]
    assert not any(n.startswith(":") for n in names), names  # pseudo-headers are not headers
    assert "user-agent" in names, names                      # lower-case, as received
post = by_uri["/users"]
assert post["request"]["method"] == "POST" and json.loads(post["request"]["body"]) == {"name": "h2 user"}, post["request"]
assert by_uri["/users/404"]["response"]["status"] == 404
PY

# Offline: the upstream stopped, the recording replayed over HTTP/2 by MOCK.
kill "$UPSTREAM_PID"; wait "$UPSTREAM_PID" 2>/dev/null || true
gostly-transition --data "$GOSTLY_DATA" "$T/h2.jsonl" 2>"$T/transition.log"
start_serve --mode MOCK --tls-listen 127.0.0.1:0
MTLS=$(bound_address "$T/serve.log" "TLS listening on")
h2get mock-connect "https://$UP/users/7" --proxy "http://$PROXY" -D "$T/mock-connect.h"
expect_eq "$(cat "$T/mock-connect.v")" "2 200" "MOCK over HTTP/2 through CONNECT"
cmp -s "$T/connect.b" "$T/mock-connect.b" || fail "MOCK body differs: $(cat "$T/mock-connect.b")"
grep -qi '^x-ghost-mock: ' "$T/mock-connect.h" || fail "no x-ghost-mock in $(cat "$T/mock-connect.h")"
h2get mock-direct "https://localhost:${MTLS##*:}/posts/3"
expect_eq "$(cat "$T/mock-direct.v")" "2 200" "MOCK over HTTP/2 on --tls-listen"
cmp -s "$T/direct.b" "$T/mock-direct.b" || fail "MOCK body differs: $(cat "$T/mock-direct.b")"
h2get mock-missing "https://localhost:${MTLS##*:}/users/404"
expect_eq "$(cat "$T/mock-missing.v")" "2 404" "MOCK 404 over HTTP/2"
cmp -s "$T/missing.b" "$T/mock-missing.b" || fail "MOCK 404 body differs: $(cat "$T/mock-missing.b")"
# HEAD over HTTP/2 replayed.
timeout 10 curl -sS --http2 --cacert "$CA" -I "https://localhost:${MTLS##*:}/posts/3" >"$T/mock-head.h"
expect_contains "$(head -n1 "$T/mock-head.h")" "HTTP/2 200" "MOCK HEAD status line"
# The same fields as HTTP/1.1 gives (names lower-cased, the status line aside).
timeout 10 curl -sS --http1.1 --cacert "$CA" -I "https://localhost:${MTLS##*:}/posts/3" >"$T/mock-head1.h"
fields() { tail -n +2 "$1" | tr -d '\r' | tr 'A-Z' 'a-z' | sort; }
expect_eq "$(fields "$T/mock-head.h")" "$(fields "$T/mock-head1.h")" "HEAD fields over HTTP/2 and HTTP/1.1"
# HTTP/1.1 on the same port still works.
expect_eq "$(timeout 10 curl -sS --http1.1 --cacert "$CA" -o /dev/null -w '%{http_version} %{http_code}' \
  "https://localhost:${MTLS##*:}/posts/3")" "1.1 200" "HTTP/1.1 beside HTTP/2"
