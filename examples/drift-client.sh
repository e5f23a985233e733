#!/usr/bin/env bash
# The client whose traffic the drift examples and tests record: representative calls against the
# example upstream (examples/upstream.py). Run it under the recorder,
#   gostly-record --upstream http://127.0.0.1:3000 -- examples/drift-client.sh
# (it finds the proxy in GOSTLY_PROXY_URL), or point it at a base URL: drift-client.sh URL.
# `drift-client.sh --list` prints the calls (METHOD PATH) without making them.
# Each route is called at least GOSTLY_DRIFT_MIN_BEHAVIORAL_SAMPLES (10) times so status and
# empty-rate signals can fire.
set -euo pipefail
calls() {
  for i in $(seq 1 12); do
    echo "GET /health"
    echo "GET /users/$i"
    echo "GET /posts/$i"
  done
  echo "GET /users"
}
if [ "${1:-}" = "--list" ]; then calls; exit 0; fi
base=${1:-${GOSTLY_PROXY_URL:?give a base URL or run under gostly-record}}
calls | while read -r method path; do
  # A 404 or 500 is an answer worth recording, not a client failure: no --fail.
  curl -sS -o /dev/null -X "$method" "${base%/}$path"
done
