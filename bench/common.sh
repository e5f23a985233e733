# bench/common.sh — what bench/run.sh and bench/tls.sh share; sourced, not run.
# The caller sets BIN (gostly's bin directory) and T (a scratch directory it removes), and appends
# the pids it starts to PIDS (bench_cleanup, on EXIT, stops them).

die() { echo "bench: error: $*" >&2; exit 2; }

PIDS=()
bench_cleanup() {
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && wait "$pid" 2>/dev/null || true; done
  rm -rf "$T"
}

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

# write_body: the recorded answer in $T/body.json and $BODY, a 614-byte JSON user, free of the
# quote and `$` characters that nginx's `return` string would interpret.
write_body() {
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
}

# nginx_conf NAME SERVER-BLOCK: a self-contained config under $T/NAME.
nginx_conf() {
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

# start_nginx NAME PORT: nginx on core 0, as every server.
start_nginx() {
  taskset -c 0 nginx -p "$T/$1" -c "$T/$1/nginx.conf" -e "$T/$1/error.log" &
  PIDS+=($!)
  wait_for_port "$2"
}

# seed_library: the library holds one recorded interaction (GET /users/42 -> the 614 bytes),
# built by the real pipeline (gostly-transition).
seed_library() {
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
}

# start_serve MODE [ARG...]: gostly-serve on core 0; sets SERVE_PORT, SERVE_PID, and TLS_PORT when
# an ARG is --tls-listen. UPSTREAM_PORT is its upstream.
start_serve() {
  local mode=$1 log="$T/serve-$1.log" line tls_line
  shift
  GHOST_API_KEY="bench-$RANDOM$RANDOM" taskset -c 0 "$BIN/gostly-serve" --data "$T/data" --listen 127.0.0.1:0 \
    --control 127.0.0.1:0 --upstream "http://127.0.0.1:$UPSTREAM_PORT" --mode "$mode" -q "$@" >"$log" 2>&1 &
  SERVE_PID=$!
  PIDS+=($SERVE_PID)
  local deadline=$((SECONDS + 15))
  until line=$(grep -Eo 'proxy listening on [0-9.]+:[0-9]+' "$log" | head -n 1) && [ -n "$line" ]; do
    kill -0 "$SERVE_PID" 2>/dev/null || { cat "$log" >&2; die "gostly-serve --mode $mode exited"; }
    [ $SECONDS -lt $deadline ] || die "gostly-serve --mode $mode printed no address"
    sleep 0.05
  done
  SERVE_PORT=${line##*:}
  wait_for_port "$SERVE_PORT"
  TLS_PORT=
  if [[ " $* " == *" --tls-listen "* ]]; then
    until tls_line=$(grep -Eo 'TLS listening on [0-9.]+:[0-9]+' "$log" | head -n 1) && [ -n "$tls_line" ]; do
      kill -0 "$SERVE_PID" 2>/dev/null || { cat "$log" >&2; die "gostly-serve --mode $mode exited"; }
      [ $SECONDS -lt $deadline ] || { cat "$log" >&2; die "gostly-serve --mode $mode printed no TLS address"; }
      sleep 0.05
    done
    TLS_PORT=${tls_line##*:}
    wait_for_port "$TLS_PORT"
  fi
}

stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# wrk_run NAME CONNS URL [WRK-ARG...]: one wrk run on core 1; prints "RPS P99_MS REQUESTS", dies on non-2xx
# answers, failed connects or timeouts.
wrk_run() {
  local name=$1 conns=$2 url=$3 out rps p99 requests
  shift 3
  out=$(taskset -c 1 wrk -t1 -c"$conns" -d"${DURATION}s" --latency "$@" "$url")
  if grep -q 'Non-2xx' <<<"$out"; then die "$name: non-2xx answers during the run: $(grep Non-2xx <<<"$out")"; fi
  if grep -Eq 'Socket errors:.*(connect|timeout) [1-9]' <<<"$out"; then
    die "$name: socket errors during the run: $(grep 'Socket errors' <<<"$out")"
  fi
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {v=$2; u=v; sub(/[a-z]+$/, "", v); sub(/^[0-9.]+/, "", u);
               m = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : 0;
               printf "%.3f", v * m}' <<<"$out")
  requests=$(awk '/ requests in / {print $1}' <<<"$out")
  [ -n "$rps" ] && [ -n "$p99" ] && [ -n "$requests" ] || die "$name: could not read wrk's output: $out"
  echo "$rps $p99 $requests"
}
