#!/usr/bin/env bash
# The pipeline users write: record a test run, build the library, replay it with no upstream.
#   examples/record-and-transition.sh UPSTREAM_URL -- CMD ARGS...
# e.g. examples/record-and-transition.sh http://127.0.0.1:3000 -- npm test
set -euo pipefail
upstream=${1:?usage: $0 UPSTREAM_URL -- CMD ARGS...}
shift
[ "${1:-}" = "--" ] && shift
data=${GOSTLY_DATA:-./data}
session="ci-$(date -u +%Y%m%dT%H%M%S)"

# LEARN: run the command through a recording proxy (it finds the proxy in GOSTLY_PROXY_URL) and
# stream the interactions straight into the library. gostly-record exits with CMD's status.
gostly-record --upstream "$upstream" --listen 127.0.0.1:0 --session "$session" -- "$@" |
  gostly-transition --data "$data" -

echo "library updated in $data (session $session); replay with:" >&2
echo "  gostly-serve --data $data --mode MOCK" >&2
