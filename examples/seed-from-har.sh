#!/usr/bin/env bash
# Cold start without live traffic: seed a service's mock library from a HAR export (browser dev
# tools: Network tab, "Save all as HAR"), then replay it with no upstream.
#   examples/seed-from-har.sh RECORDING.har [SERVICE] [HOST]
# SERVICE defaults to `default` (what gostly-serve uses with one upstream); HOST keeps only the
# entries of one API host when the export also holds pages, fonts and analytics.
set -euo pipefail
har=${1:?usage: $0 RECORDING.har [SERVICE] [HOST]}
service=${2:-default}
data=${GOSTLY_DATA:-./data}
args=(har --service "$service")
[ -n "${3:-}" ] && args+=(--host "$3")

# A plain pipe is safe: gostly-seed writes nothing to stdout unless the whole export converted,
# so a broken HAR (exit 2, and pipefail stops here) leaves the library untouched.
gostly-seed "${args[@]}" "$har" | gostly-transition --data "$data" --service "$service" -

echo "seeded service $service in $data from $har; replay with:" >&2
echo "  gostly-serve --data $data --mode MOCK" >&2
