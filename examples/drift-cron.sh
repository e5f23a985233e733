#!/usr/bin/env bash
# Nightly drift check: re-record the upstream into a fresh session, compare it with the baseline
# the mocks were built from, and mail the events when there is new major drift.
#
# crontab line (every night at 03:17):
#   17 3 * * *  cd /srv/app && GOSTLY_DATA=/srv/app/data examples/drift-cron.sh payments sess-2026-05-01 >>/var/log/gostly-drift.log 2>&1
#
# Usage: drift-cron.sh SERVICE BASELINE_SESSION [UPSTREAM_URL] [CLIENT_COMMAND...]
# Exit status: 0 no new major drift, 1 new major drift, 2 error (as gostly-drift check).
set -euo pipefail
service=${1:?service id}
baseline=${2:?baseline session id}
upstream=${3:-${BACKEND_URL:-http://127.0.0.1:3000}}
shift $(( $# < 3 ? $# : 3 ))
client=("$@")
[ ${#client[@]} -gt 0 ] || client=("$(dirname "$0")/drift-client.sh")
data=${GOSTLY_DATA:-./data}
recording=$(mktemp /tmp/gostly-drift-cron.XXXXXX.jsonl)
trap 'rm -f "$recording"' EXIT

# 1. Re-record: a new session of the same client traffic against the live upstream.
gostly-record --upstream "$upstream" -o "$recording" -- "${client[@]}"
gostly-transition --data "$data" --service "$service" "$recording"
current=$(jq -r .session_id "$recording" | head -n 1)

# 2. Compare. Re-running is safe: events are keyed on the current session.
status=0
gostly-drift check --data "$data" --service "$service" --baseline "$baseline" --current "$current" \
  --fail-on major >"$recording.events" || status=$?

# 3. Resolve: tell someone. Acknowledge with `gostly-drift ack ID --reason ...` once handled.
if [ $status -eq 1 ] && command -v mail >/dev/null; then
  jq -r '"\(.severity)\t\(.method) \(.route)\t\(.change_type)"' "$recording.events" |
    mail -s "gostly: new drift on $service" "${DRIFT_MAILTO:-root}"
fi
gostly-score --data "$data" --service "$service"
rm -f "$recording.events"
exit $status
