#!/usr/bin/env bash
# Drift check throughput and peak memory over two generated sessions (nothing is committed).
#   bench/drift-check.sh [BUILD_DIR] [SIZES...]      default: build, 100000 1000000
# For each size N it generates a baseline and a current session of N interactions each (8
# routes, 10 fields, unique ids and uuids per response so values never repeat, a planted
# change in the current one), then times `gostly-drift diff` and, when gostly-transition is
# built, `gostly-drift check` over the same sessions imported into a library.db.
# Memory must be flat across sizes: fingerprints are bounded by routes x fields.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
shift || true
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(100000 1000000)
BIN=$BUILD/bin
WORK=$(mktemp -d /tmp/gostly-bench-drift.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

generate() { # generate N SESSION VARIANT > file
  python3 - "$@" <<'PY'
import json, sys, uuid, random
n, session, variant = int(sys.argv[1]), sys.argv[2], sys.argv[3]
rnd = random.Random(7 if variant == "v1" else 8)
routes = ["/users/%d", "/orders/%d", "/invoices/%d", "/charges/ch_%08dabc", "/customers/%d",
          "/products/%d", "/carts/%d", "/health"]
out = sys.stdout
for i in range(n):
    path = routes[i % len(routes)]
    uri = path % i if "%" in path else path
    body = {"id": i, "uuid": str(uuid.UUID(int=rnd.getrandbits(128))), "name": "item %d" % i,
            "email": "u%d@example.com" % i, "amount": rnd.randint(1, 10**6), "currency": "EUR",
            "created_at": "2026-06-%02dT10:%02d:%02dZ" % (1 + i % 28, i % 60, (i // 60) % 60),
            "tags": ["a", "b"], "address": {"city": "c%d" % (i % 50), "zip": "%05d" % (i % 99999)},
            "active": i % 3 == 0}
    if variant == "v2" and path.startswith("/orders"):
        body["amount"] = str(body["amount"])
    line = {"type": "interaction", "v": 1, "id": "%s-%d" % (session, i), "service_id": "bench",
            "session_id": session, "source": "learn", "recorded_at": "2026-06-15T10:00:00.000Z",
            "request": {"method": "GET", "uri": uri},
            "response": {"status": 200, "body": json.dumps(body, separators=(",", ":"))}}
    out.write(json.dumps(line, separators=(",", ":")) + "\n")
PY
}

measure() { # measure LABEL N CMD... : prints interactions/s and peak RSS
  local label=$1 n=$2
  shift 2
  local start end status=0
  start=$(date +%s.%N)
  /usr/bin/time -f '%M' -o "$WORK/rss" "$@" >/dev/null 2>"$WORK/stderr" || status=$?
  end=$(date +%s.%N)
  [ $status -le 1 ] || { cat "$WORK/stderr" >&2; exit 1; }
  python3 -c "import sys; n,s,e,r=int(sys.argv[1]),float(sys.argv[2]),float(sys.argv[3]),int(sys.argv[4]);
print(f'{sys.argv[5]:<28} {n:>9} x2  {2*n/(e-s):>10,.0f} interactions/s  {e-s:7.1f} s  peak RSS {r/1024:6.1f} MiB')" \
    "$n" "$start" "$end" "$(tail -n 1 "$WORK/rss")" "$label"
}

for n in "${SIZES[@]}"; do
  generate "$n" "sess-base-$n" v1 >"$WORK/base-$n.jsonl"
  generate "$n" "sess-cur-$n" v2 >"$WORK/cur-$n.jsonl"
  measure "gostly-drift diff" "$n" "$BIN/gostly-drift" -q diff "$WORK/base-$n.jsonl" "$WORK/cur-$n.jsonl"
  if [ -x "$BIN/gostly-transition" ]; then
    data="$WORK/data-$n"
    "$BIN/gostly-transition" -q --data "$data" "$WORK/base-$n.jsonl" "$WORK/cur-$n.jsonl" >/dev/null
    measure "gostly-drift check (store)" "$n" "$BIN/gostly-drift" -q check --data "$data" --service bench \
      --baseline "sess-base-$n" --current "sess-cur-$n"
  fi
  rm -f "$WORK/base-$n.jsonl" "$WORK/cur-$n.jsonl"
done
