#!/usr/bin/env bash
# The issue's user story with real, unmodified clients and a real TLS upstream: nginx (`listen ssl`,
# a certificate from a test CA) serves JSON and a git repository (smart HTTP: fcgiwrap +
# git-http-backend). `ENABLE_TLS_INTERCEPTION=true gostly-record -- CMD`, with no --upstream (a pure
# forward proxy), gives CMD the proxy and the CA bundle in its environment, and curl (HTTP/1.1),
# Python requests, Node (https) and git clone each go through it with no option of their own.
# The records say https and the real host; after gostly-transition, with nginx stopped, gostly-serve
# in MOCK answers every client the same statuses and bodies through HTTPS_PROXY.
source "$(dirname "$0")/common.sh"
for tool in nginx openssl curl git node fcgiwrap; do command -v "$tool" >/dev/null || skip "$tool not installed"; done
[ -x /usr/lib/git-core/git-http-backend ] || skip "git-http-backend not installed"
PY=
for py in python3 /usr/bin/python3; do "$py" -c 'import requests' 2>/dev/null && { PY=$py; break; }; done
[ -n "$PY" ] || skip "no python3 with requests (python3-requests)"
# Whatever this machine says about proxies and trust, the clients get only what gostly gives them.
unset HTTP_PROXY http_proxy HTTPS_PROXY https_proxy ALL_PROXY all_proxy NO_PROXY no_proxy SSL_CERT_FILE \
  SSL_CERT_DIR REQUESTS_CA_BUNDLE CURL_CA_BUNDLE NODE_EXTRA_CA_CERTS GIT_SSL_CAINFO GIT_SSL_CAPATH
export GIT_CONFIG_NOSYSTEM=1 HOME="$T/home" GIT_TERMINAL_PROMPT=0
mkdir -p "$HOME"

# A test CA and an nginx leaf for 127.0.0.1, valid for a day.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=gostly test CA" \
  -keyout "$T/test-ca.key" -out "$T/test-ca.crt" 2>"$T/openssl.log"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$T/leaf.key" -out "$T/leaf.csr" 2>>"$T/openssl.log"
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$T/leaf.ext"
openssl x509 -req -in "$T/leaf.csr" -CA "$T/test-ca.crt" -CAkey "$T/test-ca.key" -CAcreateserial -days 1 \
  -extfile "$T/leaf.ext" -out "$T/leaf.crt" 2>>"$T/openssl.log"

# A bare repository with two commits, served by git-http-backend behind fcgiwrap.
git init -q -b main "$T/work"
printf 'hello from gostly\n' >"$T/work/README"
git -C "$T/work" add README
git -C "$T/work" -c user.name=t -c user.email=t@example.com commit -q -m first
printf 'second line\n' >>"$T/work/README"
git -C "$T/work" -c user.name=t -c user.email=t@example.com commit -q -am second
mkdir -p "$T/git"
git clone -q --bare "$T/work" "$T/git/repo.git"
fcgiwrap -c 2 -s "unix:$T/fcgi.sock" >"$T/fcgiwrap.log" 2>&1 &
PIDS+=($!)

NGINX_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$T/nginx/tmp"
cat >"$T/nginx/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
$( [ "$(id -u)" = 0 ] && echo "user root;" )  # the worker must reach the fcgiwrap socket in the private \$T
pid $T/nginx/nginx.pid;
error_log $T/nginx.log warn;
events { worker_connections 256; }
http {
  access_log $T/nginx-access.log;
  client_body_temp_path $T/nginx/tmp/body;
  proxy_temp_path $T/nginx/tmp/proxy;
  fastcgi_temp_path $T/nginx/tmp/fastcgi;
  uwsgi_temp_path $T/nginx/tmp/uwsgi;
  scgi_temp_path $T/nginx/tmp/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT ssl;
    ssl_certificate $T/leaf.crt;
    ssl_certificate_key $T/leaf.key;
    default_type application/json;
    location = /api/users/1 { return 200 '{"id":1,"name":"ada","client":"curl"}'; }
    location = /api/missing { return 404 '{"error":"no such thing"}'; }
    location = /api/users/2 { return 200 '{"id":2,"name":"grace","client":"python"}'; }
    location = /api/orders { return 201 '{"order":"o-1","status":"created"}'; }
    location = /api/items { return 200 '[{"sku":"a-1"},{"sku":"b-2"}]'; }
    location ~ ^/git(/.*)\$ {
      client_max_body_size 0;
      fastcgi_pass unix:$T/fcgi.sock;
      fastcgi_param SCRIPT_FILENAME /usr/lib/git-core/git-http-backend;
      fastcgi_param GIT_PROJECT_ROOT $T/git;
      fastcgi_param GIT_HTTP_EXPORT_ALL "";
      fastcgi_param PATH_INFO \$1;
      fastcgi_param QUERY_STRING \$query_string;
      fastcgi_param REQUEST_METHOD \$request_method;
      fastcgi_param CONTENT_TYPE \$content_type;
      fastcgi_param CONTENT_LENGTH \$content_length;
      fastcgi_param REMOTE_ADDR \$remote_addr;
      fastcgi_param SERVER_PROTOCOL \$server_protocol;
    }
  }
}
NGINX
nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" -e "$T/nginx.log" &
NGINX_PID=$!
PIDS+=($NGINX_PID)
wait_for_port "127.0.0.1:$NGINX_PORT"
BASE="https://127.0.0.1:$NGINX_PORT"

# clients OUT: every client, each with nothing but its URL; statuses to OUT/status, bodies beside.
cat >"$T/clients.sh" <<CLIENTS
set -eu
out=\$1; mkdir -p "\$out"
{
  curl -sS --http1.1 -m 10 -D "\$out/curl-users.h" -o "\$out/curl-users.b" -w 'curl users %{http_code}\n' "$BASE/api/users/1"
  curl -sS --http1.1 -m 10 -o "\$out/curl-missing.b" -w 'curl missing %{http_code}\n' "$BASE/api/missing"
  $PY - "\$out" <<'PY'
import requests, sys
out = sys.argv[1]
r = requests.get("$BASE/api/users/2", timeout=10)
open(out + "/py-users.b", "wb").write(r.content)
print("python users", r.status_code)
r = requests.post("$BASE/api/orders", json={"sku": "a-1", "qty": 2}, timeout=10)
open(out + "/py-orders.b", "wb").write(r.content)
print("python orders", r.status_code)
PY
  echo "node items \$(node "$SRC/tests/cli/clients/node-get.js" "$BASE/api/items" "\$out/node-items.b")"
  git clone -q "$BASE/git/repo.git" "\$out/clone"
  echo "git clone \$(git -C "\$out/clone" log --format=%s | tr '\n' ' ')"
} >"\$out/status"
CLIENTS

ENABLE_TLS_INTERCEPTION=true timeout 60 gostly-record --data "$GOSTLY_DATA" --listen 127.0.0.1:0 \
  --upstream-ca "$T/test-ca.crt" -o "$T/x.jsonl" -- bash "$T/clients.sh" "$T/live" 2>"$T/record.log" ||
  fail "a client failed through gostly-record (status $?): $(cat "$T/live/status" 2>/dev/null)"
expect_eq "$(cat "$T/live/status")" "curl users 200
curl missing 404
python users 200
python orders 201
node items 200
git clone second first " "live statuses"
expect_eq "$(cat "$T/live/curl-users.b")" '{"id":1,"name":"ada","client":"curl"}' "live body through the proxy"

# Every client was recorded, as https to the real host, with no --upstream at all.
"$PY" - "$T/x.jsonl" "127.0.0.1:$NGINX_PORT" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
inter = [r for r in recs if r.get("type") == "interaction"]
assert inter, recs
for r in inter:
    assert r["request"]["scheme"] == "https", r["request"]
    assert r["request"]["host"] == sys.argv[2], r["request"]
agents = {next((v for k, v in r["request"]["headers"] if k.lower() == "user-agent"), "").split("/")[0]
          for r in inter}
for want in ("curl", "python-requests", "git"):
    assert want in agents, (want, agents)
uris = {(r["request"]["method"], r["request"]["uri"].split("?")[0]) for r in inter}
for want in [("GET", "/api/users/1"), ("GET", "/api/missing"), ("GET", "/api/users/2"), ("POST", "/api/orders"),
             ("GET", "/api/items"), ("GET", "/git/repo.git/info/refs"), ("POST", "/git/repo.git/git-upload-pack")]:
    assert want in uris, (want, sorted(uris))
PY

# Offline: nginx gone, the library built, gostly-serve in MOCK answers each client the same.
kill "$NGINX_PID"; wait "$NGINX_PID" 2>/dev/null || true
not curl -sS -m 2 --cacert "$T/test-ca.crt" -o /dev/null "$BASE/api/users/1" 2>/dev/null || fail "nginx still answers"
gostly-transition --data "$GOSTLY_DATA" "$T/x.jsonl" 2>"$T/transition.log"
ENABLE_TLS_INTERCEPTION=true start_serve --mode MOCK
export HTTPS_PROXY="http://$PROXY" https_proxy="http://$PROXY"
export SSL_CERT_FILE="$GOSTLY_DATA/ca/bundle.crt" REQUESTS_CA_BUNDLE="$GOSTLY_DATA/ca/bundle.crt" \
  CURL_CA_BUNDLE="$GOSTLY_DATA/ca/bundle.crt" GIT_SSL_CAINFO="$GOSTLY_DATA/ca/bundle.crt" \
  NODE_EXTRA_CA_CERTS="$GOSTLY_DATA/ca/ca.crt"
timeout 60 bash "$T/clients.sh" "$T/mock" 2>"$T/mock-clients.log" ||
  fail "a client failed against MOCK: $(cat "$T/mock/status" 2>/dev/null) $(cat "$T/mock-clients.log")"
expect_eq "$(cat "$T/mock/status")" "$(cat "$T/live/status")" "statuses in MOCK"
for b in curl-users curl-missing py-users py-orders node-items; do
  cmp -s "$T/live/$b.b" "$T/mock/$b.b" || fail "$b: MOCK body '$(cat "$T/mock/$b.b")' differs from live '$(cat "$T/live/$b.b")'"
done
grep -qi '^X-Ghost-Mock: exact' "$T/mock/curl-users.h" || fail "curl was not answered from the library: $(cat "$T/mock/curl-users.h")"
diff -r -x .git "$T/live/clone" "$T/mock/clone" >/dev/null || fail "the clone from MOCK differs from the live one"
expect_eq "$(git -C "$T/mock/clone" rev-parse HEAD)" "$(git -C "$T/live/clone" rev-parse HEAD)" "cloned HEAD"
