#!/usr/bin/env bash
# A team store on PostgreSQL: record a test run once into the shared library, then two gostly-serve
# instances ("runner 1" and "runner 2", each with its own data directory) answer it from there.
#   GOSTLY_STORE=postgres://USER@HOST/DB examples/team-store-postgres.sh UPSTREAM_URL -- CMD ARGS...
# CMD runs once live through the recorder, then once against each runner in MOCK (it finds the
# URL in GOSTLY_PROXY_URL). The password comes from the URI, PGPASSWORD or ~/.pgpass (libpq).
set -euo pipefail
: "${GOSTLY_STORE:?set GOSTLY_STORE to the team store, e.g. postgres://gostly@db.internal/gostly}"
export GOSTLY_STORE
upstream=${1:?usage: GOSTLY_STORE=postgres://... $0 UPSTREAM_URL -- CMD ARGS...}
shift
[ "${1:-}" = "--" ] && shift
[ $# -gt 0 ] || { echo "usage: GOSTLY_STORE=postgres://... $0 UPSTREAM_URL -- CMD ARGS..." >&2; exit 2; }
export GHOST_API_KEY=${GHOST_API_KEY:-team-$RANDOM$RANDOM}
work=$(mktemp -d "${TMPDIR:-/tmp}/gostly-team.XXXXXX")
pids=()
trap 'for p in "${pids[@]:-}"; do [ -n "$p" ] && { kill "$p" 2>/dev/null || true; }; done; wait; rm -rf "$work"' EXIT

# Once per store (every tool would do it on open; this says what it did).
gostly-transition --migrate

# LEARN: the run goes through the recorder, its interactions straight into the team store.
session="ci-$(date -u +%Y%m%dT%H%M%S)-$$"
gostly-record --upstream "$upstream" --listen 127.0.0.1:0 --session "$session" -- "$@" | gostly-transition -

# MOCK on two runners at once: no upstream, only the shared library answers.
for runner in 1 2; do
  gostly-serve --data "$work/runner$runner" --mode MOCK --listen 127.0.0.1:0 --control 127.0.0.1:0 \
    2>"$work/runner$runner.log" &
  pids+=($!)
done
for runner in 1 2; do
  addr=
  for _ in $(seq 200); do
    addr=$(grep -Eo 'proxy listening on [0-9.]+:[0-9]+' "$work/runner$runner.log" | head -n 1 | awk '{print $4}' || true)
    [ -n "$addr" ] && break
    sleep 0.05
  done
  [ -n "$addr" ] || { echo "runner $runner did not start:" >&2; cat "$work/runner$runner.log" >&2; exit 1; }
  echo "runner $runner (http://$addr, MOCK, store $(gostly-transition --migrate --json | sed -E 's/.*"store":"([^"]*)".*/\1/')):" >&2
  GOSTLY_PROXY_URL="http://$addr" "$@"
done
