#!/usr/bin/env bash
# HTTPS through the proxy, end to end, against a local TLS upstream (examples/upstream.py with a
# certificate from a throw-away test CA):
#   1. LEARN   gostly-record (no --upstream: a forward proxy) intercepts curl's CONNECT tunnels,
#              with a leaf certificate from data/ca, and records the decrypted requests
#   2. BUILD   gostly-transition turns the recording into data/library.db
#   3. MOCK    the upstream is stopped; gostly-serve answers the same HTTPS requests, through
#              CONNECT (HTTPS_PROXY) and straight on its --tls-listen port
#   examples/https-record-and-replay.sh [BIN_DIR]      (default build/bin; needs curl, openssl, python3)
set -euo pipefail
BIN=${1:-build/bin}
BIN=$(cd "$BIN" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
export PATH="$BIN:$PATH"
WORK=$(mktemp -d /tmp/gostly-https-example.XXXXXX)
DATA="$WORK/data"
export GOSTLY_DATA="$DATA"
export GHOST_API_KEY="example-$RANDOM$RANDOM"
export ENABLE_TLS_INTERCEPTION=true
PIDS=()
trap 'for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT

say() { printf '\n== %s\n' "$*"; }
wait_addr() { # wait_addr LOG WORDS -> HOST:PORT
  for _ in $(seq 200); do
    line=$(grep -Eo "$2 [0-9.]+:[0-9]+" "$1" 2>/dev/null | head -n 1 || true)
    [ -n "$line" ] && { echo "${line##* }"; return; }
    sleep 0.05
  done
  echo "example: nothing printed '$2' in $1:" >&2; cat "$1" >&2; exit 1
}

say "A test CA and a certificate for localhost; the upstream serves HTTPS with it"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=example test CA" \
  -keyout "$WORK/test-ca.key" -out "$WORK/test-ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
  -keyout "$WORK/upstream.key" -out "$WORK/upstream.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$WORK/upstream.ext"
openssl x509 -req -in "$WORK/upstream.csr" -CA "$WORK/test-ca.crt" -CAkey "$WORK/test-ca.key" -CAcreateserial \
  -days 1 -extfile "$WORK/upstream.ext" -out "$WORK/upstream.crt" 2>/dev/null
python3 -u "$HERE/upstream.py" --port 0 --tls-cert "$WORK/upstream.crt" --tls-key "$WORK/upstream.key" \
  2>"$WORK/upstream.log" &
UPSTREAM_PID=$!; PIDS+=($UPSTREAM_PID)
UPSTREAM_PORT=$(wait_addr "$WORK/upstream.log" "listening on"); UPSTREAM_PORT=${UPSTREAM_PORT##*:}
API="https://localhost:$UPSTREAM_PORT"
echo "upstream at $API"

# The client: plain curl, told the proxy (GOSTLY_PROXY_URL) and the CA to trust (CLIENT_CA)
# explicitly, so whatever proxy or CA variables your shell has do not interfere.
cat >"$WORK/client.sh" <<'CLIENT'
#!/bin/sh
set -eu
out=$1 api=$2
c() { curl -sS --fail --proxy "$GOSTLY_PROXY_URL" --cacert "$CLIENT_CA" "$@"; }
c -o "$out/user.json" "$api/users/42"
c -o "$out/created.json" -X POST -H 'Content-Type: application/json' -d '{"name":"Ada"}' "$api/users"
c -o "$out/post.json" "$api/posts/7"
echo "client: 3 HTTPS requests answered"
CLIENT
chmod +x "$WORK/client.sh"

say "1. LEARN: ENABLE_TLS_INTERCEPTION=true gostly-record --upstream-ca test-ca.crt -o s1.jsonl -- client.sh"
mkdir -p "$WORK/live" "$WORK/mock" "$WORK/direct"
# gostly-record creates data/ca/ca.crt before it starts the client.
CLIENT_CA="$DATA/ca/ca.crt" gostly-record --data "$DATA" --listen 127.0.0.1:0 --upstream-ca "$WORK/test-ca.crt" \
  -o "$WORK/s1.jsonl" -- "$WORK/client.sh" "$WORK/live" "$API"
echo "recorded $(wc -l <"$WORK/s1.jsonl") interactions, each with \"scheme\":\"https\" and the real host:"
grep -o '"scheme":"https","host":"[^"]*"' "$WORK/s1.jsonl" | sort | uniq -c
echo "the CA clients trusted: $DATA/ca/ca.crt (key mode $(stat -c %a "$DATA/ca/ca.key"))"

say "2. BUILD: gostly-transition --data $DATA s1.jsonl"
gostly-transition --data "$DATA" "$WORK/s1.jsonl"

say "Stopping the upstream: from here on nothing answers at $API"
kill "$UPSTREAM_PID"; wait "$UPSTREAM_PID" 2>/dev/null || true
if curl -s -o /dev/null -m 2 --cacert "$WORK/test-ca.crt" "$API/health"; then echo "upstream still up?"; exit 1; fi

say "3. MOCK: ENABLE_TLS_INTERCEPTION=true gostly-serve --mode MOCK --tls-listen 127.0.0.1:0"
gostly-serve --data "$DATA" --mode MOCK --listen 127.0.0.1:0 --control 127.0.0.1:0 --tls-listen 127.0.0.1:0 \
  2>"$WORK/serve.log" &
PIDS+=($!)
PROXY=$(wait_addr "$WORK/serve.log" "proxy listening on")
TLS=$(wait_addr "$WORK/serve.log" "TLS listening on")
curl -sS -o "$WORK/ca.crt" "http://$PROXY/ca.crt"
cmp -s "$WORK/ca.crt" "$DATA/ca/ca.crt" && echo "GET http://$PROXY/ca.crt serves data/ca/ca.crt"
GOSTLY_PROXY_URL="http://$TLS" CLIENT_CA="$WORK/ca.crt" "$WORK/client.sh" "$WORK/mock" "$API"
for f in user created post; do
  cmp -s "$WORK/live/$f.json" "$WORK/mock/$f.json" || { echo "MOCK answered $f differently"; exit 1; }
done
echo "through CONNECT on $TLS: the same bodies as the live run, with the upstream gone"

# --tls-listen also takes TLS straight from a client: no proxy settings, base URL https://localhost:PORT.
curl -sS --fail --cacert "$WORK/ca.crt" -D "$WORK/direct/user.h" -o "$WORK/direct/user.json" "https://localhost:${TLS##*:}/users/42"
cmp -s "$WORK/live/user.json" "$WORK/direct/user.json" || { echo "direct TLS answered differently"; exit 1; }
echo "straight TLS to https://localhost:${TLS##*:}: $(tr -d '\r' <"$WORK/direct/user.h" | grep -i '^x-ghost-mock')"
echo "https record and replay: all requests replayed"
