#!/usr/bin/env bash
# bench/store.sh BINDIR — the library store on PostgreSQL against SQLite (issue 12, "Performance").
#
# A throwaway PostgreSQL (tests/postgres/server.sh: loopback, fsync off, shared_buffers 32MB, as
# the tests run it) and a SQLite data directory get the same N synthetic interactions
# (bench/store-generate.py: ~1.1 KB each, 20 services, sessions of 500, a third of the keys
# recorded again in a later session). For each N (100k; 1M too with BENCH_STORE_1M=1):
#   transition  `gostly-transition FILE` (one transaction, mock index rebuilt at commit): records/s,
#               and its peak RSS (GNU time)
#   load        gostly-serve --mode MOCK from start to "proxy listening" (it loads every service's
#               library before it listens): seconds, and VmHWM of the process then
#   mock        wrk GET of a recorded key at 1 and 32 connections (answers come from memory: the
#               ratio should be ~1.0); both gostly-serve up on core 0, measured alternately; wrk on
#               core 1
# Prints the figures and every ratio PostgreSQL / SQLite, and writes them as JSON to
# bench/results/store-*.json. Transition and load are measured one engine after the other, SQLite
# first, so on a busy machine those ratios carry its load (printed at each step).
# Environment: BENCH_STORE_1M=1 adds N=1M (~1.1 GB of JSONL, a few GB in /tmp, several minutes);
# BENCH_WARMUP and BENCH_DURATION (seconds; defaults 2 and 10) for the wrk runs.
# Exit: 0 measured (no bar is enforced), 2 usage error, a missing tool or PostgreSQL unavailable.
set -euo pipefail
export LC_ALL=C

usage() { echo "usage: bench/store.sh BINDIR" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
. "$HERE/common.sh"
[ $# -eq 1 ] || usage
BIN=$(cd "$1" 2>/dev/null && pwd) || die "$1: no such directory"
WARMUP=${BENCH_WARMUP:-2}
DURATION=${BENCH_DURATION:-10}
SIZES=(100000)
[ "${BENCH_STORE_1M:-0}" = 1 ] && SIZES+=(1000000)
for tool in wrk taskset curl python3; do
  command -v "$tool" >/dev/null || die "$tool not found (scripts/install-deps.sh --bench installs it)"
done
[ -x /usr/bin/time ] || die "/usr/bin/time (GNU time) not found"
[ "$(nproc)" -ge 2 ] || die "needs 2 cores (server on core 0, wrk on core 1)"
for tool in gostly-serve gostly-transition; do
  [ -x "$BIN/$tool" ] || die "$BIN/$tool not built"
done

T=$(mktemp -d /tmp/gostly-bench-store.XXXXXX)
chmod 0755 "$T"
store_cleanup() {
  bash "$SRC/tests/postgres/server.sh" stop "$T/pg" >/dev/null 2>&1 || true
  bench_cleanup
}
trap store_cleanup EXIT

echo "bench: starting a throwaway PostgreSQL (tests/postgres/server.sh)" >&2
bash "$SRC/tests/postgres/server.sh" start "$T/pg" >&2
[ -f "$T/pg/conninfo" ] || die "PostgreSQL unavailable: $(cat "$T/pg/unavailable" 2>/dev/null || echo 'no reason given')"
PG_URI=$(cat "$T/pg/conninfo")
PSQL="$(cat "$T/pg/bindir")/psql"
pg_version=$("$PSQL" -X -A -t -d "$PG_URI" -c 'SHOW server_version')
UPSTREAM_PORT=$(free_port) # gostly-serve needs an --upstream; MOCK never calls it
load1() { cut -d' ' -f1 /proc/loadavg; }
SERVE_PORT_sqlite="" SERVE_PORT_postgres="" SERVE_PID_sqlite="" SERVE_PID_postgres="" # set by serve()

# transition ENGINE N STORE-ARGS...: imports $T/in-N.jsonl; appends "N ENGINE transition SECONDS RSS_KB LOAD".
transition() {
  local engine=$1 n=$2 load start end out
  shift 2
  load=$(load1)
  start=$(date +%s.%N)
  out=$(/usr/bin/time -f '%M' -o "$T/time" "$BIN/gostly-transition" --data "$T/data-$engine-$n" "$@" \
    "$T/in-$n.jsonl" 2>&1) || die "gostly-transition into $engine failed: $out"
  end=$(date +%s.%N)
  grep -q "added $n, 0 duplicates" <<<"$out" || die "gostly-transition into $engine: expected $n added: $out"
  local secs
  secs=$(awk -v s="$start" -v e="$end" 'BEGIN {printf "%.3f", e - s}')
  echo "bench: $engine N=$n transition: ${secs} s, $(awk -v n="$n" -v s="$secs" 'BEGIN {printf "%.0f", n / s}') records/s (load average $load)" >&2
  echo "$n $engine transition $secs $(tail -n 1 "$T/time") $load" >>"$T/results"
}

# serve ENGINE N STORE-ARGS...: starts gostly-serve --mode MOCK on the library, times it to ready,
# reads its peak RSS, checks the probe and the number of mocks loaded; appends the "load" row and
# sets SERVE_PORT_<ENGINE> and SERVE_PID_<ENGINE>.
serve() {
  local engine=$1 n=$2 log="$T/serve-$1-$2.log" load start end line pid port control hwm got mocks secs
  local key="bench-$RANDOM$RANDOM"
  shift 2
  : >"$log"
  load=$(load1)
  start=$(date +%s.%N)
  GHOST_API_KEY=$key taskset -c 0 "$BIN/gostly-serve" --data "$T/data-$engine-$n" --listen 127.0.0.1:0 \
    --control 127.0.0.1:0 --upstream "http://127.0.0.1:$UPSTREAM_PORT" --mode MOCK -q "$@" >>"$log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  local deadline=$((SECONDS + 1800))
  until line=$(grep -Eo 'proxy listening on [0-9.]+:[0-9]+' "$log" | head -n 1) && [ -n "$line" ]; do
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; die "gostly-serve on $engine exited"; }
    [ $SECONDS -lt $deadline ] || die "gostly-serve on $engine not ready after 30 minutes"
    sleep 0.01
  done
  end=$(date +%s.%N)
  hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
  port=${line##*:}
  control=$(grep -Eo 'control listening on [0-9.]+:[0-9]+' "$log" | head -n 1)
  control=${control##* on }
  wait_for_port "$port"
  if grep -q 'cannot load' "$log"; then cat "$log" >&2; die "gostly-serve on $engine could not load its library"; fi
  got=$(curl -sS "http://127.0.0.1:$port/probe/users/42") || die "gostly-serve on $engine: no answer"
  [ "$got" = "$PROBE_BODY" ] || die "gostly-serve on $engine: GET /probe/users/42 did not answer the recorded body"
  mocks=$(curl -sS "http://$control/metrics" -H "X-API-Key: $key" |
    awk '$1 ~ /^ghost_mock_library_size/ {s += $2} END {print s + 0}')
  secs=$(awk -v s="$start" -v e="$end" 'BEGIN {printf "%.3f", e - s}')
  echo "bench: $engine N=$n load: ${secs} s to ready, $mocks mocks, peak RSS $((hwm / 1024)) MiB (load average $load)" >&2
  echo "$n $engine load $secs $hwm $load $mocks" >>"$T/results"
  printf -v "SERVE_PORT_$engine" %s "$port"
  printf -v "SERVE_PID_$engine" %s "$pid"
}

# mock ENGINE N CONNS PORT: one wrk run of the probe; appends the "mock" row.
mock() {
  local engine=$1 n=$2 conns=$3 url="http://127.0.0.1:$4/probe/users/42" load rps p99
  load=$(load1)
  read -r rps p99 _ < <(wrk_run "$engine mock" "$conns" "$url") || exit 2
  echo "bench: $engine N=$n mock c$conns: $rps req/s, p99 $p99 ms (load average $load)" >&2
  echo "$n $engine mock$conns $rps $p99 $load" >>"$T/results"
}

: >"$T/results"
echo "bench: load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for n in "${SIZES[@]}"; do
  gen_start=$SECONDS
  /usr/bin/python3 "$HERE/store-generate.py" "$n" >"$T/in-$n.jsonl"
  echo "bench: generated $n interactions ($(du -m "$T/in-$n.jsonl" | cut -f1) MB) in $((SECONDS - gen_start)) s" >&2
  PROBE_BODY=$(head -n 1 "$T/in-$n.jsonl" | python3 -c 'import json, sys; print(json.load(sys.stdin)["response"]["body"])')
  "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$PG_URI" -c "CREATE DATABASE bench_$n" || die "cannot create database bench_$n"
  uri="${PG_URI%/*}/bench_$n"
  transition sqlite "$n"
  transition postgres "$n" --store "$uri"
  rm -f "$T/in-$n.jsonl"
  serve sqlite "$n"
  serve postgres "$n" --store "$uri"
  # Both up, measured alternately, so a change in the machine's load hits both sides alike.
  for port in "$SERVE_PORT_sqlite" "$SERVE_PORT_postgres"; do
    taskset -c 1 wrk -t1 -c32 -d"${WARMUP}s" "http://127.0.0.1:$port/probe/users/42" >/dev/null
  done
  for conns in 1 32; do
    mock sqlite "$n" "$conns" "$SERVE_PORT_sqlite"
    mock postgres "$n" "$conns" "$SERVE_PORT_postgres"
  done
  stop "$SERVE_PID_sqlite"
  stop "$SERVE_PID_postgres"
  rm -rf "$T/data-sqlite-$n"
  "$PSQL" -X -q -d "$PG_URI" -c "DROP DATABASE bench_$n" || true
done
echo "bench: load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

mkdir -p "$HERE/results"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
python3 - "$T/results" "$HERE/results/store-$stamp.json" "$WARMUP" "$DURATION" "$pg_version" <<'EOF'
import json, platform, sys
results, out, warmup, duration, pg_version = sys.argv[1:]
rows = {}
for line in open(results):
    f = line.split()
    n, engine, what = int(f[0]), f[1], f[2]
    r = rows.setdefault(n, {}).setdefault(engine, {})
    if what == "transition":
        r["transition"] = {"seconds": float(f[3]), "records_per_s": round(n / float(f[3])),
                           "peak_rss_kb": int(f[4]), "load1": float(f[5])}
    elif what == "load":
        r["load"] = {"seconds": float(f[3]), "peak_rss_kb": int(f[4]), "load1": float(f[5]), "mocks": int(f[6])}
    else:
        r["mock_c" + what[4:]] = {"rps": float(f[3]), "p99_ms": float(f[4]), "load1": float(f[5])}
print(f"{'N':>8} {'engine':<9}{'transition rec/s':>17}{'RSS MiB':>8}{'load s':>8}{'RSS MiB':>8}"
      f"{'mocks':>8}{'MOCK c1':>9}{'MOCK c32':>10}")
for n, engines in rows.items():
    for engine, r in engines.items():
        print(f"{n:>8} {engine:<9}{r['transition']['records_per_s']:>17}{r['transition']['peak_rss_kb'] / 1024:>8.1f}"
              f"{r['load']['seconds']:>8.2f}{r['load']['peak_rss_kb'] / 1024:>8.1f}{r['load']['mocks']:>8}"
              f"{r['mock_c1']['rps']:>9.0f}{r['mock_c32']['rps']:>10.0f}")
print()
ratios = []
print(f"{'postgres / sqlite':<44}{'N':>8}{'x':>7}")
for n, engines in rows.items():
    pg, lite = engines["postgres"], engines["sqlite"]
    for label, key, a, b in [
            ("transition throughput (records/s)", "transition_rps", pg["transition"]["records_per_s"],
             lite["transition"]["records_per_s"]),
            ("transition peak RSS", "transition_rss", pg["transition"]["peak_rss_kb"], lite["transition"]["peak_rss_kb"]),
            ("library load time (start to ready)", "load_seconds", pg["load"]["seconds"], lite["load"]["seconds"]),
            ("gostly-serve peak RSS at load", "load_rss", pg["load"]["peak_rss_kb"], lite["load"]["peak_rss_kb"]),
            ("MOCK req/s c1 (want ~1.0)", "mock_rps_c1", pg["mock_c1"]["rps"], lite["mock_c1"]["rps"]),
            ("MOCK req/s c32 (want ~1.0)", "mock_rps_c32", pg["mock_c32"]["rps"], lite["mock_c32"]["rps"])]:
        x = round(a / b, 3) if b else None
        ratios.append({"n": n, "measure": key, "ratio": x})
        print(f"{label:<44}{n:>8}{(x or 0):>7.2f}")
    if pg["load"]["mocks"] != lite["load"]["mocks"]:
        print(f"WARNING: N={n}: postgres loaded {pg['load']['mocks']} mocks, sqlite {lite['load']['mocks']}")
json.dump({"date": out.rsplit("/", 1)[-1][6:-5], "host": platform.node(),
           "method": {"postgres": pg_version, "postgres_settings": "tests/postgres/server.sh (fsync off, shared_buffers 32MB)",
                      "record_bytes": "~1100", "services": 20, "session_size": 500, "warmup_s": int(warmup),
                      "duration_s": int(duration), "serve_core": 0, "wrk_core": 1},
           "results": {str(n): e for n, e in rows.items()}, "ratios": ratios}, open(out, "w"), indent=2)
print(f"\nwritten to {out}")
EOF
