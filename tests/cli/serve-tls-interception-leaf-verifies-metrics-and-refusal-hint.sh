#!/usr/bin/env bash
# With a good CA: GET /ca.crt on the proxy port serves data/ca/ca.crt; a client going through
# CONNECT sees a leaf for the host it asked for (right SAN) that verifies against that CA and gets
# the upstream's answer; the handshake metrics count ok and failed handshakes, and a client that
# refuses gostly's certificate is warned about once per host, with the --no-intercept hint.
source "$(dirname "$0")/common.sh"
make_test_ca
start_api_upstream --tls-cert "$T/test-leaf.crt" --tls-key "$T/test-leaf.key"
UP=${UPSTREAM#https://}
UP_PORT=${UP##*:}
ENABLE_TLS_INTERCEPTION=strict start_serve --mode PASSTHROUGH --upstream-ca "$T/test-ca.crt"

# The CA was created on first use and /ca.crt serves exactly it.
[ -s "$GOSTLY_DATA/ca/ca.crt" ] || fail "no data/ca/ca.crt"
curl -sS -D "$T/ca.h" -o "$T/served-ca.crt" "http://$PROXY/ca.crt"
expect_eq "$(head -n1 "$T/ca.h" | tr -d '\r')" "HTTP/1.1 200 OK" "/ca.crt status"
cmp -s "$T/served-ca.crt" "$GOSTLY_DATA/ca/ca.crt" || fail "/ca.crt is not data/ca/ca.crt"
openssl x509 -in "$T/served-ca.crt" -noout -text | grep -q "CA:TRUE" || fail "/ca.crt is not a CA certificate"

# s_client through the proxy (CONNECT), checking the chain and the name/IP against the served CA.
# check_leaf NAME CONNECT_TARGET "VERIFY_OPTIONS" EXPECTED_SAN
check_leaf() {
  local name=$1 target=$2 verify=$3 san=$4
  timeout 10 openssl s_client -proxy "$PROXY" -connect "$target" \
    -CAfile "$T/served-ca.crt" $verify -verify_return_error -showcerts </dev/null >"$T/$name.out" 2>&1 ||
    fail "$name: s_client did not verify the leaf: $(tail -n 5 "$T/$name.out")"
  grep -q "Verify return code: 0 (ok)" "$T/$name.out" || fail "$name: no 'Verify return code: 0'"
  openssl x509 -in "$T/$name.out" -noout -ext subjectAltName >"$T/$name.san"
  expect_contains "$(cat "$T/$name.san")" "$san" "$name SAN"
  openssl x509 -in "$T/$name.out" -out "$T/$name.pem" # the first certificate shown: the leaf
  openssl verify -CAfile "$T/served-ca.crt" -purpose sslserver "$T/$name.pem" >/dev/null ||
    fail "$name: openssl verify refused the leaf"
}
check_leaf localhost "localhost:$UP_PORT" "-servername localhost -verify_hostname localhost" "DNS:localhost"
check_leaf ip "127.0.0.1:$UP_PORT" "-verify_ip 127.0.0.1" "IP Address:127.0.0.1"
# An IPv6 literal (no SNI is sent for an address): the leaf is for the CONNECT host. Nothing
# listens there; the handshake with gostly comes first.
check_leaf ipv6 "[::1]:$UP_PORT" "-verify_ip ::1" "IP Address:0:0:0:0:0:0:0:1"

# TLS straight to the --tls-listen port by its IP address (no SNI is sent for an address): the
# leaf presented is for that address, so it verifies.
TLS=$(bound_address "$T/serve.log" "TLS listening on")
timeout 10 openssl s_client -connect "$TLS" -CAfile "$T/served-ca.crt" -verify_ip 127.0.0.1 -verify_return_error \
  -noservername </dev/null >"$T/direct-ip.out" 2>&1 || fail "direct TLS by IP: the leaf did not verify: $(tail -n 5 "$T/direct-ip.out")"
grep -q "Verify return code: 0 (ok)" "$T/direct-ip.out" || fail "direct TLS by IP: no 'Verify return code: 0'"

# curl through CONNECT: trusts only the gostly CA; the upstream's answer comes back.
curl -sS --proxy "http://$PROXY" --cacert "$T/served-ca.crt" -o "$T/user.b" -w '%{http_code}' "https://127.0.0.1:$UP_PORT/users/7" >"$T/user.code"
expect_eq "$(cat "$T/user.code")" 200 "curl through CONNECT"
expect_contains "$(cat "$T/user.b")" '"id":7' "curl through CONNECT body"
ok=$(metric 'gostly_tls_handshakes_total{result="ok"}')
expect_eq "$ok" 5 "ok handshakes after s_client x4 + curl"
expect_eq "$(metric 'gostly_tls_handshakes_total{result="failed"}')" 0 "failed handshakes so far"

# A client that does not trust the gostly CA (only the upstream's own CA): refused every time,
# counted as failed, and the hint logged once for that host.
for i in 1 2 3; do
  not curl -sS --proxy "http://$PROXY" --cacert "$T/test-ca.crt" -o /dev/null "https://localhost:$UP_PORT/users/1" 2>"$T/refuse-$i.err" ||
    fail "a client that does not trust the gostly CA got through"
done
for _ in $(seq 100); do [ "$(metric 'gostly_tls_handshakes_total{result="failed"}')" = 3 ] && break; sleep 0.05; done
expect_eq "$(metric 'gostly_tls_handshakes_total{result="failed"}')" 3 "failed handshakes"
expect_eq "$(metric 'gostly_tls_handshakes_total{result="ok"}')" "$ok" "ok handshakes unchanged"
expect_eq "$(grep -c "refused gostly's certificate for localhost" "$T/serve.log")" 1 "refusal warnings for localhost"
grep "refused gostly's certificate for localhost" "$T/serve.log" | grep -q -- "--no-intercept localhost" ||
  fail "the refusal warning gives no --no-intercept hint"
# Leaves cached: localhost, 127.0.0.1 and ::1 (one each, however many handshakes).
expect_eq "$(metric gostly_tls_leaf_cache_size)" 3 "leaf cache size"
