#!/usr/bin/env bash
# gostly-record -- CMD tells CMD where the proxy is and what to trust, in the variables unmodified
# clients read: HTTP_PROXY/http_proxy always, HTTPS_PROXY/https_proxy and the CA bundle variables
# only with interception; NO_PROXY exempts the proxy itself, never loopback as a whole. A client
# that applies HTTP_PROXY to GOSTLY_PROXY_URL (curl, Python requests) is recorded once, not looped.
source "$(dirname "$0")/common.sh"
unset HTTP_PROXY http_proxy HTTPS_PROXY https_proxy NO_PROXY no_proxy SSL_CERT_FILE REQUESTS_CA_BUNDLE \
  CURL_CA_BUNDLE NODE_EXTRA_CA_CERTS GIT_SSL_CAINFO
start_api_upstream
UP=${UPSTREAM#http://}
# dump: every variable CMD sees that this test cares about, one NAME=VALUE a line.
dump='env | grep -E "^(GOSTLY_PROXY_URL|HTTPS?_PROXY|https?_proxy|NO_PROXY|no_proxy|NODE_USE_ENV_PROXY|SSL_CERT_FILE|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE|NODE_EXTRA_CA_CERTS|GIT_SSL_CAINFO)=" | sort'
val() { sed -n "s/^$1=//p" "$2"; }

# Interception off: HTTP only; an inherited HTTPS proxy and trust settings are left alone.
HTTPS_PROXY=http://corp.example:3128 NO_PROXY=internal.example SSL_CERT_FILE=/mine.pem GOSTLY_LOG=info \
  gostly-record --listen 127.0.0.1:0 -o "$T/off.jsonl" -- sh -c "$dump" >"$T/off.env" 2>"$T/off.log"
PROXY_URL=$(val GOSTLY_PROXY_URL "$T/off.env")
expect_contains "$PROXY_URL" "http://127.0.0.1:" "GOSTLY_PROXY_URL"
expect_eq "$(val HTTP_PROXY "$T/off.env")" "$PROXY_URL" "HTTP_PROXY"
expect_eq "$(val http_proxy "$T/off.env")" "$PROXY_URL" "http_proxy"
expect_eq "$(val NODE_USE_ENV_PROXY "$T/off.env")" 1 "NODE_USE_ENV_PROXY"
expect_eq "$(val HTTPS_PROXY "$T/off.env")" "http://corp.example:3128" "HTTPS_PROXY without interception"
expect_eq "$(val NO_PROXY "$T/off.env")" "internal.example,${PROXY_URL#http://}" "NO_PROXY"
expect_eq "$(val no_proxy "$T/off.env")" "internal.example,${PROXY_URL#http://}" "no_proxy"
expect_eq "$(val SSL_CERT_FILE "$T/off.env")" /mine.pem "SSL_CERT_FILE without interception"
for v in REQUESTS_CA_BUNDLE CURL_CA_BUNDLE NODE_EXTRA_CA_CERTS GIT_SSL_CAINFO; do
  expect_eq "$(val $v "$T/off.env")" "" "$v without interception"
done
grep -q "HTTPS_PROXY" "$T/off.log" || fail "no note that https:// is not recorded without interception: $(cat "$T/off.log")"

# Interception on: HTTPS too, and a bundle of the system roots plus the gostly CA.
ENABLE_TLS_INTERCEPTION=true gostly-record --data "$T/data" --listen 127.0.0.1:0 -o "$T/on.jsonl" -- \
  sh -c "cd / && $dump" >"$T/on.env" 2>"$T/on.log"
PROXY_URL=$(val GOSTLY_PROXY_URL "$T/on.env")
expect_eq "$(val HTTPS_PROXY "$T/on.env")" "$PROXY_URL" "HTTPS_PROXY"
expect_eq "$(val https_proxy "$T/on.env")" "$PROXY_URL" "https_proxy"
BUNDLE=$(val SSL_CERT_FILE "$T/on.env")
expect_eq "$BUNDLE" "$T/data/ca/bundle.crt" "SSL_CERT_FILE (absolute)"
for v in REQUESTS_CA_BUNDLE CURL_CA_BUNDLE GIT_SSL_CAINFO; do expect_eq "$(val $v "$T/on.env")" "$BUNDLE" "$v"; done
expect_eq "$(val NODE_EXTRA_CA_CERTS "$T/on.env")" "$T/data/ca/ca.crt" "NODE_EXTRA_CA_CERTS"
ROOTS=/etc/ssl/certs/ca-certificates.crt
if [ -r "$ROOTS" ]; then
  cat "$ROOTS" "$T/data/ca/ca.crt" | cmp -s - "$BUNDLE" || fail "bundle is not the system roots followed by ca.crt"
fi
tail -c "$(wc -c <"$T/data/ca/ca.crt")" "$BUNDLE" | cmp -s - "$T/data/ca/ca.crt" || fail "bundle does not end with ca.crt"
# Roots the user already chose (SSL_CERT_FILE) are kept in the bundle.
printf -- '-----MY ROOTS-----\n' >"$T/mine.pem"
SSL_CERT_FILE="$T/mine.pem" ENABLE_TLS_INTERCEPTION=true gostly-record --data "$T/data" --listen 127.0.0.1:0 \
  -o "$T/mine.jsonl" -- sh -c 'cat "$SSL_CERT_FILE"' >"$T/mine.out" 2>"$T/mine.log"
cat "$T/mine.pem" "$T/data/ca/ca.crt" | cmp -s - "$T/mine.out" || fail "an inherited SSL_CERT_FILE is not the bundle's roots"
ls "$T/data/ca" | grep -v -x -e ca.crt -e ca.key -e bundle.crt && fail "temporary files left in ca/"

# --upstream and a client pointed at GOSTLY_PROXY_URL: curl and Python apply HTTP_PROXY to it.
gostly-record --upstream "$UPSTREAM" --listen 127.0.0.1:0 -o "$T/self.jsonl" -- sh -c '
  curl -sS -m 5 -o /dev/null -w "%{http_code}\n" "$GOSTLY_PROXY_URL/users/1"
  python3 -c "import urllib.request, os; print(urllib.request.urlopen(os.environ[\"GOSTLY_PROXY_URL\"] + \"/users/2\", timeout=5).status)"
' >"$T/self.out" 2>"$T/self.log"
expect_eq "$(tr '\n' ' ' <"$T/self.out")" "200 200 " "statuses through the proxy"
python3 - "$T/self.jsonl" "$UP" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
got = [(r["request"]["host"], r["request"]["uri"]) for r in recs]
assert got == [(sys.argv[2], "/users/1"), (sys.argv[2], "/users/2")], got
PY
