#!/usr/bin/env bash
# Record a test run into the library, then take it out to the tools a team already uses: a HAR
# (browser network panel, or back through gostly-seed) and a Postman collection to run with newman.
#   examples/export-recording.sh UPSTREAM_URL OUT_DIR -- CMD ARGS...
# e.g. examples/export-recording.sh http://127.0.0.1:3000 out -- npm test
set -euo pipefail
upstream=${1:?usage: $0 UPSTREAM_URL OUT_DIR -- CMD ARGS...}
out=${2:?usage: $0 UPSTREAM_URL OUT_DIR -- CMD ARGS...}
shift 2
[ "${1:-}" = "--" ] && shift
data=${GOSTLY_DATA:-./data}
mkdir -p "$out"

# LEARN: the command runs through a recording proxy; the recording goes into the library.
gostly-record --upstream "$upstream" --listen 127.0.0.1:0 -- "$@" | gostly-transition --data "$data" -

# Out again, from the library (service `default`): both files appear only when complete.
gostly-export har --data "$data" -o "$out/recording.har"
gostly-export postman --data "$data" --name "Recorded from $upstream" -o "$out/recording.postman.json"

echo "wrote $out/recording.har and $out/recording.postman.json; run the collection with:" >&2
echo "  newman run $out/recording.postman.json --env-var baseUrl=$upstream" >&2
