#!/usr/bin/env bash
# bench/tls.sh BINDIR — gostly-serve MOCK on --tls-listen against nginx over TLS, in one run
# (issue 8, "Performance").
#
# Both servers answer `GET /users/42` with the same recorded 614-byte JSON body, pinned to core 0
# (taskset -c 0; nginx with one worker, gostly-serve with one worker as it has one usable core);
# the load generators run on core 1. nginx: `listen ssl` (and `ssl http2` on a second port for the
# HTTP/2 runs), an EC P-256 leaf from a test CA made here with openssl (the key type of gostly's
# leaves), TLS 1.2-1.3, `ssl_session_cache shared:SSL:10m`, tickets on. gostly-serve:
# ENABLE_TLS_INTERCEPTION=true, --mode MOCK, --tls-listen, its library seeded by gostly-transition.
# Both are up for the whole run and measured alternately, test by test, so a change in the
# machine's load hits both sides of each ratio alike. Each side is warmed up first (which also
# mints and caches gostly's leaf for the name).
#   h1      HTTP/1.1 keep-alive req/s, wrk https:// at 1 and 32 connections
#   h2      HTTP/2 req/s, h2load with 32 streams on 1 and on 32 connections (-m 32)
#   hs      new full TLS handshakes per second, leaf cache warm: h2load --h1 in bursts of 256 new
#           connections with one request each (h2load never resumes a session; wrk would, after a
#           clean close), for the run's duration; rate = connections / h2load's own elapsed time
# Prints every ratio against the 0.8x bar, the server CPU time per request (or handshake) and the
# load average at each measurement, and writes
# the table as JSON to bench/results/tls-*.json. "gostly h2: not available" when gostly-serve does
# not negotiate h2 by ALPN (its HTTP/2 is not built yet).
# Environment: BENCH_WARMUP and BENCH_DURATION (seconds; defaults 5 and 10).
# Exit: 0 measured (bars are reported, not enforced), 2 usage error or a missing tool.
set -euo pipefail
export LC_ALL=C

usage() { echo "usage: bench/tls.sh BINDIR" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/common.sh"
[ $# -eq 1 ] || usage
BIN=$(cd "$1" 2>/dev/null && pwd) || die "$1: no such directory"
WARMUP=${BENCH_WARMUP:-5}
DURATION=${BENCH_DURATION:-10}
for tool in wrk h2load nginx openssl taskset curl python3; do
  command -v "$tool" >/dev/null || die "$tool not found (scripts/install-deps.sh --bench installs it)"
done
[ "$(nproc)" -ge 2 ] || die "needs 2 cores (servers on core 0, load generators on core 1)"
for tool in gostly-serve gostly-transition; do
  [ -x "$BIN/$tool" ] || die "$BIN/$tool not built"
done
nginx -V 2>&1 | grep -q -- '--with-http_v2_module' || echo "bench: warning: nginx has no http2 module; no h2 runs" >&2

T=$(mktemp -d /tmp/gostly-bench-tls.XXXXXX)
trap bench_cleanup EXIT
write_body
NAME=localhost # resolves to 127.0.0.1 (both servers listen there); the SNI name both are asked for

# nginx's certificate: an EC P-256 leaf for localhost from a test CA.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=gostly bench CA" \
  -keyout "$T/ca.key" -out "$T/ca.crt" 2>"$T/openssl.log" || die "openssl: $(cat "$T/openssl.log")"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$NAME" \
  -keyout "$T/leaf.key" -out "$T/leaf.csr" 2>>"$T/openssl.log" || die "openssl: $(cat "$T/openssl.log")"
printf 'subjectAltName=DNS:%s,IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' \
  "$NAME" >"$T/leaf.ext"
openssl x509 -req -in "$T/leaf.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial -days 2 \
  -extfile "$T/leaf.ext" -out "$T/leaf.crt" 2>>"$T/openssl.log" || die "openssl: $(cat "$T/openssl.log")"

NGINX_H1=$(free_port)
NGINX_H2=$(free_port)
UPSTREAM_PORT=$(free_port) # gostly-serve needs an --upstream; MOCK never calls it
h2_listen="listen 127.0.0.1:$NGINX_H2 ssl http2;"
nginx -V 2>&1 | grep -q -- '--with-http_v2_module' || h2_listen=""
nginx_conf tls "server {
    listen 127.0.0.1:$NGINX_H1 ssl;
    $h2_listen
    ssl_certificate $T/leaf.crt;
    ssl_certificate_key $T/leaf.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:SSL:10m;
    ssl_session_tickets on;
    location = /users/42 { default_type application/json; return 200 '$BODY'; }
  }"
start_nginx tls "$NGINX_H1"
NGINX_PID=${PIDS[-1]}

seed_library
ENABLE_TLS_INTERCEPTION=true start_serve MOCK --tls-listen 127.0.0.1:0
GOSTLY_TLS=$TLS_PORT

# check_answer PORT CA WHAT [CURL-ARG...]: the answer over verified TLS must be the 614 recorded
# bytes, or the numbers mean nothing.
check_answer() {
  local port=$1 ca=$2 what=$3 got
  shift 3
  got=$(curl -sS --cacert "$ca" "$@" "https://$NAME:$port/users/42") || die "$what: no answer"
  [ "$got" = "$BODY" ] || die "$what: GET /users/42 did not answer the recorded 614 bytes (got ${#got})"
}
check_answer "$NGINX_H1" "$T/ca.crt" "nginx"
check_answer "$GOSTLY_TLS" "$T/data/ca/ca.crt" "gostly-serve MOCK --tls-listen"

# speaks_h2 PORT CA: whether the server negotiates h2 by ALPN and answers over it.
speaks_h2() {
  [ "$(curl -sS --http2 --cacert "$2" -o /dev/null -w '%{http_version}' "https://$NAME:$1/users/42" 2>/dev/null)" = 2 ]
}
nginx_h2=0
gostly_h2=0
if [ -n "$h2_listen" ]; then
  speaks_h2 "$NGINX_H2" "$T/ca.crt" || die "nginx did not answer over h2 on its http2 listener"
  check_answer "$NGINX_H2" "$T/ca.crt" "nginx h2" --http2
  nginx_h2=1
fi
if speaks_h2 "$GOSTLY_TLS" "$T/data/ca/ca.crt"; then
  check_answer "$GOSTLY_TLS" "$T/data/ca/ca.crt" "gostly-serve h2" --http2
  gostly_h2=1
else
  echo "bench: gostly h2: not available (gostly-serve --tls-listen does not negotiate h2)" >&2
fi

load1() { cut -d' ' -f1 /proc/loadavg; }

# h2load_run NAME CONNS URL: prints "REQ/S REQUESTS" of one h2load run on core 1 (32 streams a connection),
# dies unless every request finished with a 2xx over h2.
h2load_run() {
  local name=$1 conns=$2 url=$3 out rps done
  out=$(taskset -c 1 h2load -t1 -c"$conns" -m32 -D "$DURATION" "$url" 2>&1) || die "$name: h2load failed: $out"
  grep -q '^Application protocol: h2$' <<<"$out" || die "$name: h2load did not negotiate h2: $out"
  grep -Eq ' 0 failed, 0 errored, 0 timeout' <<<"$out" || die "$name: failed requests: $(grep '^requests:' <<<"$out")"
  grep -Eq '^status codes: [0-9]+ 2xx, 0 3xx, 0 4xx, 0 5xx' <<<"$out" || die "$name: non-2xx answers: $(grep '^status codes' <<<"$out")"
  rps=$(awk '/^finished in/ {gsub(/,/, "", $4); print $4}' <<<"$out")
  done=$(awk '/^requests:/ {print $6}' <<<"$out")
  [ -n "$rps" ] && [ -n "$done" ] || die "$name: could not read h2load's output: $out"
  echo "$rps $done"
}

# handshakes_run NAME URL: prints "PER-SECOND CONNECTIONS", new connections a second over bursts of HS_BURST h2load
# clients (one request each, no resumption) repeated for DURATION seconds.
HS_BURST=256
handshakes_run() {
  local name=$1 url=$2 out done=0 secs=0 n t end=$((SECONDS + DURATION))
  while [ $SECONDS -lt $end ]; do
    out=$(taskset -c 1 h2load --h1 -t1 -c"$HS_BURST" -n"$HS_BURST" "$url" 2>&1) || die "$name: h2load failed: $out"
    grep -Eq " $HS_BURST succeeded, 0 failed" <<<"$out" || die "$name: failed connections: $(grep '^requests:' <<<"$out")"
    grep -Eq "^status codes: $HS_BURST 2xx" <<<"$out" || die "$name: non-2xx answers: $(grep '^status codes' <<<"$out")"
    t=$(awk '/^finished in/ {v=$3; sub(/,$/, "", v); m=1; if (v ~ /ms$/) m=0.001; sub(/[a-z]+$/, "", v); print v*m}' <<<"$out")
    [ -n "$t" ] || die "$name: could not read h2load's output: $out"
    done=$((done + HS_BURST))
    secs=$(awk -v a="$secs" -v b="$t" 'BEGIN {print a + b}')
  done
  awk -v n="$done" -v s="$secs" 'BEGIN {printf "%.2f %d\n", n / s, n}'
}

# cpu_ticks PID: CPU time (user + system, in clock ticks) of PID and its children (nginx's worker).
cpu_ticks() {
  local pid total=0 t
  for pid in "$1" $(pgrep -P "$1" || true); do
    t=$(awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$pid/stat" 2>/dev/null) || t=0
    total=$((total + ${t:-0}))
  done
  echo "$total"
}
TICK=$(getconf CLK_TCK)

# run SERVER TEST CONNS PORT PID: one measurement; appends "SERVER TEST CONNS RPS LOAD1 CPU_US" to
# $T/results, CPU_US being the server's CPU time per request (or per handshake) in microseconds:
# it depends far less than req/s on what else the machine is running.
run() {
  local server=$1 test=$2 conns=$3 port=$4 pid=$5 url="https://$NAME:$4/users/42" rps p99 requests load before cpu
  load=$(load1)
  before=$(cpu_ticks "$pid")
  case $test in
    h1) read -r rps p99 requests < <(wrk_run "$server $test" "$conns" "$url") || exit 2 ;;
    hs) read -r rps requests < <(handshakes_run "$server $test" "$url") || exit 2 ;;
    h2) read -r rps requests < <(h2load_run "$server $test" "$conns" "$url") || exit 2 ;;
  esac
  cpu=$(awk -v t=$(($(cpu_ticks "$pid") - before)) -v hz="$TICK" -v n="$requests" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')
  echo "bench: $server $test c$conns: $rps req/s, server CPU $cpu us a request (load average $load)" >&2
  echo "$server $test $conns $rps $load $cpu" >>"$T/results"
}

: >"$T/results"
echo "bench: load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for port in "$NGINX_H1" "$GOSTLY_TLS"; do
  echo "bench: warm-up ${WARMUP}s on :$port" >&2
  taskset -c 1 wrk -t1 -c32 -d"${WARMUP}s" "https://$NAME:$port/users/42" >/dev/null
done
for test in h1 h2 hs; do
  for conns in 1 32; do
    if [ "$test" = hs ]; then
      [ "$conns" = 1 ] || continue
      run nginx hs "$HS_BURST" "$NGINX_H1" "$NGINX_PID"
      run gostly hs "$HS_BURST" "$GOSTLY_TLS" "$SERVE_PID"
    elif [ "$test" = h2 ]; then
      [ "$nginx_h2" = 1 ] && run nginx h2 "$conns" "$NGINX_H2" "$NGINX_PID"
      [ "$gostly_h2" = 1 ] && run gostly h2 "$conns" "$GOSTLY_TLS" "$SERVE_PID"
    else
      run nginx "$test" "$conns" "$NGINX_H1" "$NGINX_PID"
      run gostly "$test" "$conns" "$GOSTLY_TLS" "$SERVE_PID"
    fi
  done
done
echo "bench: load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

mkdir -p "$HERE/results"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
python3 - "$T/results" "$HERE/results/tls-$stamp.json" "$WARMUP" "$DURATION" "$nginx_h2" "$gostly_h2" <<'EOF'
import json, platform, sys
results, out, warmup, duration, nginx_h2, gostly_h2 = sys.argv[1:]
rows = {}
for line in open(results):
    server, test, conns, rps, load, cpu = line.split()
    rows.setdefault(server, {}).setdefault(test, {})["c" + conns] = {"rps": float(rps), "load1": float(load),
                                                                      "cpu_us_per_request": float(cpu)}
labels = {"h1": "HTTP/1.1 keep-alive req/s (wrk)", "h2": "HTTP/2 req/s (h2load -m 32)",
          "hs": "new TLS handshakes/s (h2load --h1, bursts)"}
print(f"{'server':<8}{'test':<6}{'conns':>6}{'req/s':>12}{'CPU us/req':>12}{'load':>7}")
for server, tests in rows.items():
    for test, by_c in tests.items():
        for c, m in by_c.items():
            print(f"{server:<8}{test:<6}{c:>6}{m['rps']:>12.0f}{m['cpu_us_per_request']:>12.1f}{m['load1']:>7.2f}")
print()
ratios = []
print(f"{'gostly / nginx':<46}{'conns':>6}{'req/s x':>8}{'CPU/req x':>10}  bar (req/s)")
for test in ("h1", "h2", "hs"):
    for c in (("c256",) if test == "hs" else ("c1", "c32")):
        ours, peer = rows.get("gostly", {}).get(test, {}).get(c), rows.get("nginx", {}).get(test, {}).get(c)
        if test == "h2" and (ours is None or peer is None):
            why = "gostly h2: not available" if gostly_h2 != "1" else "nginx h2: not available"
            print(f"{labels[test]:<46}{c:>6}{'-':>8}{'-':>10}  {why}")
            ratios.append({"test": test, "connections": c, "rps_ratio": None, "note": why})
            continue
        r = round(ours["rps"] / peer["rps"], 3)
        cpu = round(ours["cpu_us_per_request"] / peer["cpu_us_per_request"], 3) if peer["cpu_us_per_request"] else None
        met = r >= 0.8
        print(f"{labels[test]:<46}{c:>6}{r:>8.2f}{(cpu or 0):>10.2f}  >=0.8x: {'met' if met else 'MISSED'}")
        ratios.append({"test": test, "connections": c, "rps_ratio": r, "cpu_per_request_ratio": cpu, "bar": 0.8,
                       "met": met})
json.dump({"date": out.rsplit("/", 1)[-1][4:-5], "host": platform.node(),
           "method": {"warmup_s": int(warmup), "duration_s": int(duration), "request": "GET /users/42",
                      "body_bytes": 614, "server_core": 0, "client_core": 1, "key": "EC P-256",
                      "h2_streams": 32},
           "results": rows, "ratios": ratios}, open(out, "w"), indent=2)
print(f"\nwritten to {out}")
EOF
