#!/usr/bin/env bash
# HEAD against nginx static files (244 bytes and 5 MiB), recorded with `curl -I` through
# gostly-record, transitioned, nginx stopped: gostly-serve in MOCK answers each HEAD with the
# recorded Content-Length and no body, over HTTP/1.1 (two HEADs on one kept-alive connection)
# and over HTTP/2 (TLS straight to --tls-listen).
source "$(dirname "$0")/common.sh"
for tool in nginx curl openssl; do command -v "$tool" >/dev/null || skip "$tool not installed"; done
curl --version | grep -qw HTTP2 || skip "curl without HTTP/2"
unset HTTP_PROXY http_proxy HTTPS_PROXY https_proxy ALL_PROXY all_proxy NO_PROXY no_proxy

mkdir -p "$T/www" "$T/nginx/tmp"
head -c 244 /dev/zero | tr '\0' 'a' >"$T/www/small.txt"
head -c 5242880 /dev/zero >"$T/www/big.bin"
NGINX_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$T/nginx/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
$( [ "$(id -u)" = 0 ] && echo "user root;" )  # the worker must read the private \$T
pid $T/nginx/nginx.pid;
error_log $T/nginx.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $T/nginx/tmp/body;
  proxy_temp_path $T/nginx/tmp/proxy;
  fastcgi_temp_path $T/nginx/tmp/fastcgi;
  uwsgi_temp_path $T/nginx/tmp/uwsgi;
  scgi_temp_path $T/nginx/tmp/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $T/www;
  }
}
NGINX
nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" -e "$T/nginx.log" &
NGINX_PID=$!
PIDS+=($NGINX_PID)
wait_for_port "127.0.0.1:$NGINX_PORT"

# length FILE: the Content-Length of the response heads in FILE, one per line.
length() { grep -i '^content-length:' "$1" | tr -d '\r' | awk '{print $2}' | paste -sd' '; }

timeout 20 gostly-record --upstream "http://127.0.0.1:$NGINX_PORT" --listen 127.0.0.1:0 -o "$T/head.jsonl" -- \
  sh -c 'curl -sS -I "$GOSTLY_PROXY_URL/small.txt" >"$1/live-small.h" && curl -sS -I "$GOSTLY_PROXY_URL/big.bin" >"$1/live-big.h"' \
  sh "$T" 2>"$T/record.log"
expect_eq "$(length "$T/live-small.h")" 244 "live HEAD small.txt"
expect_eq "$(length "$T/live-big.h")" 5242880 "live HEAD big.bin"

gostly-transition --data "$GOSTLY_DATA" "$T/head.jsonl" 2>"$T/transition.log"
kill "$NGINX_PID"; wait "$NGINX_PID" 2>/dev/null || true
ENABLE_TLS_INTERCEPTION=true start_serve --mode MOCK --tls-listen 127.0.0.1:0
TLS=$(bound_address "$T/serve.log" "TLS listening on")

# HTTP/1.1: both HEADs on one connection (curl reuses it only when the first reply was framed
# right), the recorded lengths, no body bytes.
timeout 10 curl -sS -I -w 'connects=%{num_connects} size=%{size_download}\n' \
  "http://$PROXY/small.txt" "http://$PROXY/big.bin" >"$T/mock.h" 2>"$T/mock.err"
expect_eq "$(length "$T/mock.h")" "244 5242880" "MOCK HEAD Content-Length over HTTP/1.1"
expect_eq "$(grep -c '^connects=' "$T/mock.h")" 2 "HEAD answers"
expect_eq "$(grep '^connects=' "$T/mock.h" | paste -sd' ')" "connects=1 size=0 connects=0 size=0" \
  "one connection for both HEADs, no body"
grep -qi '^X-Ghost-Mock: exact' "$T/mock.h" || fail "HEAD not answered from the library: $(cat "$T/mock.h")"

# HTTP/2 (TLS straight to --tls-listen): the same lengths, no DATA.
timeout 10 curl -sS --http2 --cacert "$GOSTLY_DATA/ca/ca.crt" -I -w 'version=%{http_version} size=%{size_download}\n' \
  "https://localhost:${TLS##*:}/small.txt" "https://localhost:${TLS##*:}/big.bin" >"$T/mock2.h" 2>"$T/mock2.err"
expect_eq "$(length "$T/mock2.h")" "244 5242880" "MOCK HEAD Content-Length over HTTP/2"
expect_eq "$(grep '^version=' "$T/mock2.h" | paste -sd' ')" "version=2 size=0 version=2 size=0" "HTTP/2, no body"
# A GET of what was recorded only as HEAD is not answered with an empty body that claims 5 MiB.
code=$(timeout 10 curl -sS -o "$T/get.b" -w '%{http_code}' "http://$PROXY/big.bin")
[ "$code" = 404 ] || fail "GET of a HEAD-only recording answered $code"
