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
die() { echo "bench: error: $*" >&2; exit 2; }
[ $# -eq 1 ] || usage
BIN=$(cd "$1" 2>/dev/null && pwd) || die "$1: no such directory"
HERE=$(cd "$(dirname "$0")" && pwd)
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
PIDS=()
cleanup() {
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && wait "$pid" 2>/dev/null || true; done
  rm -rf "$T"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_for_port() {
  local deadline=$((SECONDS + 10))
  while ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || die "nothing listening on 127.0.0.1:$1"
    sleep 0.05
  done
}

# The recorded answer: a 614-byte JSON user, free of the quote and `$` characters that nginx's
# `return` string would interpret.
python3 - "$T/body.json" <<'EOF'
import json, sys
user = {"id": 42, "name": "Leanne Graham", "username": "Bret", "email": "leanne@example.com",
        "address": {"street": "Kulas Light", "suite": "Apt. 556", "city": "Gwenborough",
                    "zipcode": "92998-3874", "geo": {"lat": "-37.3159", "lng": "81.1496"}},
        "phone": "1-770-736-8031 x56442", "website": "hildegard.example.org",
        "company": {"name": "Romaguera-Crona", "catchPhrase": "Multi-layered client-server neural-net",
                    "bs": "harness real-time e-markets"},
        "self": "/users/42", "bio": ""}
text = json.dumps(user, separators=(",", ":"))
user["bio"] = "x" * (614 - len(text))
text = json.dumps(user, separators=(",", ":"))
assert len(text) == 614, len(text)
open(sys.argv[1], "w").write(text)
EOF
BODY=$(cat "$T/body.json")

UPSTREAM_PORT=$(free_port)
PROXY_PASS_PORT=$(free_port)
nginx_conf() { # nginx_conf NAME SERVER-BLOCK: a self-contained config under $T/NAME
  local dir="$T/$1"
  mkdir -p "$dir/tmp"
  cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  keepalive_requests 1000000;
  $2
}
EOF
}
nginx_conf upstream "server {
    listen 127.0.0.1:$UPSTREAM_PORT;
    location = /users/42 { default_type application/json; return 200 '$BODY'; }
  }"
nginx_conf proxy_pass "upstream api { server 127.0.0.1:$UPSTREAM_PORT; keepalive 64; }
  server {
    listen 127.0.0.1:$PROXY_PASS_PORT;
    location / { proxy_pass http://api; proxy_http_version 1.1; proxy_set_header Connection \"\"; }
  }"

start_nginx() { # start_nginx NAME PORT
  taskset -c 0 nginx -p "$T/$1" -c "$T/$1/nginx.conf" -e "$T/$1/error.log" &
  PIDS+=($!)
  wait_for_port "$2"
}

# start_serve MODE: gostly-serve on core 0; sets SERVE_PORT and SERVE_PID.
start_serve() {
  local log="$T/serve-$1.log" line
  GHOST_API_KEY="bench-$RANDOM$RANDOM" taskset -c 0 "$BIN/gostly-serve" --data "$T/data" --listen 127.0.0.1:0 \
    --control 127.0.0.1:0 --upstream "http://127.0.0.1:$UPSTREAM_PORT" --mode "$1" -q >"$log" 2>&1 &
  SERVE_PID=$!
  PIDS+=($SERVE_PID)
  local deadline=$((SECONDS + 15))
  until line=$(grep -Eo 'proxy listening on [0-9.]+:[0-9]+' "$log" | head -n 1) && [ -n "$line" ]; do
    kill -0 "$SERVE_PID" 2>/dev/null || { cat "$log" >&2; die "gostly-serve --mode $1 exited"; }
    [ $SECONDS -lt $deadline ] || die "gostly-serve --mode $1 printed no address"
    sleep 0.05
  done
  SERVE_PORT=${line##*:}
  wait_for_port "$SERVE_PORT"
}

stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# check_answer PORT WHAT: the answer must be the 614 recorded bytes, or the numbers mean nothing.
check_answer() {
  local got
  got=$(curl -sS "http://127.0.0.1:$1/users/42") || die "$2: no answer"
  [ "$got" = "$BODY" ] || die "$2: GET /users/42 did not answer the recorded 614 bytes (got ${#got})"
}

# measure NAME PORT: warm-up, then c1 and c32; appends "NAME CONNS RPS P99_MS" to $T/results.
measure() {
  local name=$1 url="http://127.0.0.1:$2/users/42" conns out rps p99
  echo "bench: $name: warm-up ${WARMUP}s" >&2
  taskset -c 1 wrk -t1 -c32 -d"${WARMUP}s" "$url" >/dev/null
  for conns in 1 32; do
    out=$(taskset -c 1 wrk -t1 -c"$conns" -d"${DURATION}s" --latency "$url")
    if grep -q 'Non-2xx' <<<"$out"; then die "$name: non-2xx answers during the run: $(grep Non-2xx <<<"$out")"; fi
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {v=$2; u=v; sub(/[a-z]+$/, "", v); sub(/^[0-9.]+/, "", u);
                 m = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : 0;
                 printf "%.3f", v * m}' <<<"$out")
    [ -n "$rps" ] && [ -n "$p99" ] || die "$name: could not read wrk's output: $out"
    echo "bench: $name c$conns: $rps req/s, p99 $p99 ms" >&2
    echo "$name $conns $rps $p99" >>"$T/results"
  done
}

: >"$T/results"
start_nginx upstream "$UPSTREAM_PORT"
check_answer "$UPSTREAM_PORT" "nginx"
measure nginx_static "$UPSTREAM_PORT"

if [ "$have_gostly" = 1 ]; then
  # The library: one recorded interaction, built by the real pipeline.
  python3 - "$T/body.json" >"$T/users-42.jsonl" <<'EOF'
import json, sys
body = open(sys.argv[1]).read()
print(json.dumps({"type": "interaction", "v": 1, "id": "bench-users-42", "service_id": "default",
                  "session_id": "bench", "source": "manual", "recorded_at": "2026-11-22T17:50:01.000Z",
                  "duration_ms": 1.0,
                  "request": {"method": "GET", "uri": "/users/42", "scheme": "http", "host": "127.0.0.1",
                              "http_version": "1.1", "headers": [["Accept", "*/*"]]},
                  "response": {"status": 200, "reason": "OK",
                               "headers": [["Content-Type", "application/json"],
                                           ["Content-Length", str(len(body))]], "body": body}},
                 separators=(",", ":")))
EOF
  "$BIN/gostly-transition" --data "$T/data" "$T/users-42.jsonl" -q || die "gostly-transition failed"
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
