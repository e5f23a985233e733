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

# -o then transition (rather than a pipe) so a broken HAR leaves the library untouched: the
# JSONL file is only published when the whole export converted.
jsonl=$(mktemp "${TMPDIR:-/tmp}/seed.XXXXXX.jsonl")
trap 'rm -f "$jsonl"' EXIT
gostly-seed "${args[@]}" -o "$jsonl" "$har"
gostly-transition --data "$data" --service "$service" "$jsonl"

echo "seeded service $service in $data from $har; replay with:" >&2
echo "  gostly-serve --data $data --mode MOCK" >&2
