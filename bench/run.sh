#!/usr/bin/env bash
# bench/run.sh BINDIR — gostly-serve against nginx, measured in one run (issue 2, "Performance").
#
# Method, as the issue fixes it: wrk on loopback; every server pinned to core 0 (taskset -c 0),
# wrk to core 1 (taskset -c 1); a 5 s warm-up, then 10 s at 1 and at 32 connections, of
# `GET /users/42` answered with a recorded 614-byte JSON body.
#   MOCK:  gostly-serve --mode MOCK, its library holding that one recording, against
#          nginx answering the same bytes with `return 200`.
#   LEARN: gostly-serve --mode LEARN (recording every interaction to disk) against nginx
#          `proxy_pass`, each in front of the same nginx upstream (also on core 0).
# Prints a table of req/s, p99 and ratios, and writes it as JSON to bench/results/.
# Environment: BENCH_WARMUP and BENCH_DURATION (seconds; defaults 5 and 10) for quick trials.
# Exit: 0 measured (bars are reported, not enforced), 2 usage error or a missing tool.
set -euo pipefail
export LC_ALL=C

usage() { echo "usage: bench/run.sh BINDIR" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/common.sh"
[ $# -eq 1 ] || usage
BIN=$(cd "$1" 2>/dev/null && pwd) || die "$1: no such directory"
WARMUP=${BENCH_WARMUP:-5}
DURATION=${BENCH_DURATION:-10}
for tool in wrk nginx taskset curl python3; do
  command -v "$tool" >/dev/null || die "$tool not found (scripts/install-deps.sh --bench installs it)"
done
[ "$(nproc)" -ge 2 ] || die "needs 2 cores (server on core 0, wrk on core 1)"
have_gostly=1
for tool in gostly-serve gostly-transition; do
  [ -x "$BIN/$tool" ] || { echo "bench: warning: $BIN/$tool not built; measuring nginx only" >&2; have_gostly=0; }
done

T=$(mktemp -d /tmp/gostly-bench.XXXXXX)
trap bench_cleanup EXIT
write_body

UPSTREAM_PORT=$(free_port)
PROXY_PASS_PORT=$(free_port)
nginx_conf upstream "server {
    listen 127.0.0.1:$UPSTREAM_PORT;
    location = /users/42 { default_type application/json; return 200 '$BODY'; }
  }"
nginx_conf proxy_pass "upstream api { server 127.0.0.1:$UPSTREAM_PORT; keepalive 64; }
  server {
    listen 127.0.0.1:$PROXY_PASS_PORT;
    location / { proxy_pass http://api; proxy_http_version 1.1; proxy_set_header Connection \"\"; }
  }"

# check_answer PORT WHAT: the answer must be the 614 recorded bytes, or the numbers mean nothing.
check_answer() {
  local got
  got=$(curl -sS "http://127.0.0.1:$1/users/42") || die "$2: no answer"
  [ "$got" = "$BODY" ] || die "$2: GET /users/42 did not answer the recorded 614 bytes (got ${#got})"
}

# measure NAME PORT: warm-up, then c1 and c32; appends "NAME CONNS RPS P99_MS" to $T/results.
measure() {
  local name=$1 url="http://127.0.0.1:$2/users/42" conns rps p99
  echo "bench: $name: warm-up ${WARMUP}s" >&2
  taskset -c 1 wrk -t1 -c32 -d"${WARMUP}s" "$url" >/dev/null
  for conns in 1 32; do
    read -r rps p99 _ < <(wrk_run "$name" "$conns" "$url") || exit 2
    echo "bench: $name c$conns: $rps req/s, p99 $p99 ms" >&2
    echo "$name $conns $rps $p99" >>"$T/results"
  done
}

: >"$T/results"
start_nginx upstream "$UPSTREAM_PORT"
check_answer "$UPSTREAM_PORT" "nginx"
measure nginx_static "$UPSTREAM_PORT"

if [ "$have_gostly" = 1 ]; then
  seed_library
  start_serve MOCK
  check_answer "$SERVE_PORT" "gostly-serve MOCK"
  measure gostly_mock "$SERVE_PORT"
  stop "$SERVE_PID"
fi

start_nginx proxy_pass "$PROXY_PASS_PORT"
check_answer "$PROXY_PASS_PORT" "nginx proxy_pass"
measure nginx_proxy_pass "$PROXY_PASS_PORT"

if [ "$have_gostly" = 1 ]; then
  start_serve LEARN
  check_answer "$SERVE_PORT" "gostly-serve LEARN"
  measure gostly_learn "$SERVE_PORT"
  stop "$SERVE_PID"
  recorded=$(cat "$T"/data/traffic/*.jsonl 2>/dev/null | wc -l)
  echo "bench: gostly-serve LEARN recorded $recorded interactions" >&2
fi

mkdir -p "$HERE/results"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
python3 - "$T/results" "$HERE/results/$stamp.json" "$WARMUP" "$DURATION" <<'EOF'
import json, platform, sys
rows = {}
for line in open(sys.argv[1]):
    name, conns, rps, p99 = line.split()
    rows.setdefault(name, {})["c" + conns] = {"rps": float(rps), "p99_ms": float(p99)}
pairs = [("gostly_mock", "nginx_static", "MOCK vs nginx return 200"),
         ("gostly_learn", "nginx_proxy_pass", "LEARN vs nginx proxy_pass")]
ratios = []
for ours, peer, label in pairs:
    for c in ("c1", "c32"):
        if ours in rows and peer in rows:
            a, b = rows[ours][c], rows[peer][c]
            ratios.append({"comparison": label, "connections": c, "rps_ratio": round(a["rps"] / b["rps"], 3),
                           "p99_ratio": round(a["p99_ms"] / b["p99_ms"], 3) if b["p99_ms"] else None,
                           "bar_rps": 0.8, "bar_p99": 1.5 if ours == "gostly_mock" else None})
print(f"{'server':<18}{'conns':>6}{'req/s':>12}{'p99 ms':>10}")
for name, by_c in rows.items():
    for c, m in by_c.items():
        print(f"{name:<18}{c:>6}{m['rps']:>12.0f}{m['p99_ms']:>10.3f}")
print()
print(f"{'comparison':<28}{'conns':>6}{'req/s x':>9}{'p99 x':>8}  bar")
for r in ratios:
    ok_rps = r["rps_ratio"] >= r["bar_rps"]
    ok_p99 = r["bar_p99"] is None or (r["p99_ratio"] is not None and r["p99_ratio"] <= r["bar_p99"])
    bar = ">=0.8x req/s" + (", p99 <=1.5x" if r["bar_p99"] else "")
    print(f"{r['comparison']:<28}{r['connections']:>6}{r['rps_ratio']:>9.2f}{(r['p99_ratio'] or 0):>8.2f}  "
          f"{bar}: {'met' if ok_rps and ok_p99 else 'MISSED'}")
    r["met"] = ok_rps and ok_p99
json.dump({"date": sys.argv[2].rsplit("/", 1)[-1][:-5], "host": platform.node(),
           "method": {"warmup_s": int(sys.argv[3]), "duration_s": int(sys.argv[4]), "request": "GET /users/42",
                      "body_bytes": 614, "server_core": 0, "wrk_core": 1, "wrk_threads": 1},
           "results": rows, "ratios": ratios}, open(sys.argv[2], "w"), indent=2)
print(f"\nwritten to {sys.argv[2]}")
EOF
