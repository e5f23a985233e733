#!/usr/bin/env bash
# `make demo`: the core loop against the example upstream, narrated.
#   1. LEARN   gostly-record runs the client tests through a recording proxy
#   2. BUILD   gostly-transition turns the recording into data/library.db
#   3. MOCK    the upstream is stopped; gostly-serve answers the same tests from the library
set -euo pipefail
BIN=${1:-build/bin}
BIN=$(cd "$BIN" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
export PATH="$BIN:$PATH"
WORK=$(mktemp -d /tmp/gostly-demo.XXXXXX)
export GOSTLY_DATA="$WORK/data"
export GHOST_API_KEY="demo-$RANDOM$RANDOM"
PIDS=()
trap 'for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done' EXIT

say() { if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then printf '\n\033[1m== %s\033[0m\n' "$*"; else printf '\n== %s\n' "$*"; fi; }
wait_addr() { # wait_addr LOG WORDS -> HOST:PORT
  for _ in $(seq 200); do
    line=$(grep -Eo "$2 [0-9.]+:[0-9]+" "$1" 2>/dev/null | head -n 1 || true)
    [ -n "$line" ] && { echo "${line##* }"; return; }
    sleep 0.05
  done
  echo "demo: nothing printed '$2' in $1:" >&2; cat "$1" >&2; exit 1
}

say "Starting the example upstream (examples/upstream.py)"
python3 -u "$HERE/upstream.py" --port 0 2>"$WORK/upstream.log" &
UPSTREAM_PID=$!; PIDS+=($UPSTREAM_PID)
UPSTREAM="http://$(wait_addr "$WORK/upstream.log" "listening on")"
echo "upstream at $UPSTREAM"

say "1. LEARN: gostly-record --upstream $UPSTREAM -o s1.jsonl -- examples/client-tests.sh"
gostly-record --upstream "$UPSTREAM" --listen 127.0.0.1:0 -o "$WORK/s1.jsonl" -- "$HERE/client-tests.sh"
echo "recorded $(wc -l <"$WORK/s1.jsonl") interactions; the Authorization header the client sent is not on disk:"
grep -c 'do-not-store-me' "$WORK/s1.jsonl" | sed 's/^/  occurrences of the bearer token in s1.jsonl: /' || true

say "2. BUILD: gostly-transition --data $GOSTLY_DATA s1.jsonl"
gostly-transition --data "$GOSTLY_DATA" "$WORK/s1.jsonl"

say "Stopping the upstream: from here on nothing answers at $UPSTREAM"
kill "$UPSTREAM_PID"; wait "$UPSTREAM_PID" 2>/dev/null || true
curl -s -o /dev/null -m 2 "$UPSTREAM/health" && { echo "upstream still up?"; exit 1; } || echo "(connection refused, as intended)"

say "3. MOCK: gostly-serve --data $GOSTLY_DATA --mode MOCK"
gostly-serve --data "$GOSTLY_DATA" --upstream "$UPSTREAM" --mode MOCK --listen 127.0.0.1:0 --control 127.0.0.1:0 \
  2>"$WORK/serve.log" &
PIDS+=($!)
PROXY=$(wait_addr "$WORK/serve.log" "proxy listening on")
CONTROL=$(wait_addr "$WORK/serve.log" "control listening on")
API_BASE_URL="http://$PROXY" "$HERE/client-tests.sh"

say "Which tier answered (X-Ghost-Mock)"
for path in /users/42 /users/99 /posts/7 /nope; do
  printf '  GET %-10s -> %s %s\n' "$path" "$(curl -s -o /dev/null -w '%{http_code}' "http://$PROXY$path")" \
    "$(curl -s -D - -o /dev/null "http://$PROXY$path" | tr -d '\r' | grep -i '^x-ghost-mock' || true)"
done
echo "  a miss explains itself:"
curl -s "http://$PROXY/nope" | head -c 400; echo

say "Metrics (GET /metrics on the control port, with X-API-Key)"
curl -s "http://$CONTROL/metrics" -H "X-API-Key: $GHOST_API_KEY" | grep -E '^ghost_(requests_total|mock_library_size)' || true

say "Done. Everything is in $WORK (data/library.db, s1.jsonl, logs)."
