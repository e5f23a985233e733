#!/usr/bin/env bash
# --no-intercept HOST: the CONNECT tunnel is relayed untouched (the client sees the upstream's own
# certificate, verified with the upstream's CA, not gostly's) and gostly-record writes one
# "type":"tunnel" record with byte counts and nothing decrypted. In MOCK such a CONNECT is refused
# with 502 (a relayed tunnel would reach the real host).
source "$(dirname "$0")/common.sh"
make_test_ca
start_api_upstream --tls-cert "$T/test-leaf.crt" --tls-key "$T/test-leaf.key"
UP=${UPSTREAM#https://}

ENABLE_TLS_INTERCEPTION=true timeout 30 gostly-record --data "$GOSTLY_DATA" --listen 127.0.0.1:0 \
  --no-intercept 127.0.0.1 -o "$T/out.jsonl" -- sh -c '
    curl -sS --proxy "$GOSTLY_PROXY_URL" --cacert "$0/test-ca.crt" -o "$0/user.b" "https://$1/users/3" || exit 11
    openssl s_client -proxy "${GOSTLY_PROXY_URL#http://}" -connect "$1" -showcerts </dev/null >"$0/sclient.out" 2>&1 || exit 12
  ' "$T" "$UP" 2>"$T/record.log" || fail "the recorded commands failed (status $?)"
expect_contains "$(cat "$T/user.b")" '"id":3' "body through the relayed tunnel"
# The certificate the client saw is the upstream's, issued by the test CA, not by gostly's CA.
openssl x509 -in "$T/sclient.out" -noout -issuer >"$T/issuer.txt"
expect_contains "$(cat "$T/issuer.txt")" "gostly test CA" "issuer of the certificate seen through the tunnel"
[ -s "$GOSTLY_DATA/ca/ca.crt" ] || fail "no gostly CA was created"

python3 - "$T/out.jsonl" "$UP" <<'PY'
import json, sys
records = [json.loads(line) for line in open(sys.argv[1])]
tunnels = [r for r in records if r.get("type") == "tunnel"]
# one curl + one s_client: two tunnels, and no decrypted interaction.
assert len(tunnels) == 2, records
assert all(r.get("type") == "tunnel" for r in records), records
for t in tunnels:
    assert t["host"] == sys.argv[2], t
    assert t["bytes_up"] > 0 and t["bytes_down"] > 0, t
    assert "request" not in t and "response" not in t, t
# curl's tunnel carried the request and the JSON answer: more than a bare handshake each way.
assert max(t["bytes_down"] for t in tunnels) > 500, tunnels
PY

# MOCK: the --no-intercept host's CONNECT is refused with 502, the reason in the body.
ENABLE_TLS_INTERCEPTION=true start_serve --mode MOCK --no-intercept 127.0.0.1
code=$(curl -sS --proxy "http://$PROXY" --cacert "$T/test-ca.crt" -o /dev/null -w '%{http_connect}' \
  "https://$UP/users/3" 2>"$T/mock.err") && fail "a --no-intercept CONNECT got through in MOCK"
expect_eq "$code" 502 "CONNECT status in MOCK"
code=$(curl -sS -o "$T/mock.b" -w '%{http_code}' -X CONNECT --request-target "$UP" "http://$PROXY") || true
expect_eq "$code" 502 "raw CONNECT status in MOCK"
expect_contains "$(cat "$T/mock.b")" "no-intercept" "raw CONNECT body in MOCK"
