#!/usr/bin/env bash
# Issue 9 item 1: a cookie login flow recorded with a real client replays identically. A real
# server (Python http.server) sets `Set-Cookie: sid=<random>; Path=/; HttpOnly` on POST /login and
# answers GET /me 401 without that cookie, 200 with it. Python requests (a Session, so its cookie
# jar) logs in and calls /me twice, through `gostly-record -- python3 client.py`; after
# gostly-transition, with the server stopped, gostly-serve in MOCK gives the same script the same
# output: the client got its (masked) session cookie back and sent it. No real sid reaches disk.
source "$(dirname "$0")/common.sh"
command -v gostly-transition >/dev/null || skip "gostly-transition not built"
/usr/bin/python3 -c 'import requests' 2>/dev/null || skip "no /usr/bin/python3 with requests (python3-requests)"
unset HTTP_PROXY http_proxy HTTPS_PROXY https_proxy ALL_PROXY all_proxy NO_PROXY no_proxy

cat >"$T/server.py" <<'PY'
import http.server, json, secrets, sys
sessions = set()
issued = open(sys.argv[1], "a", buffering=1)  # every sid handed out, for the on-disk check

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def answer(self, status, body, extra=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
    def cookies(self):
        jar = {}
        for piece in self.headers.get("Cookie", "").split(";"):
            name, _, value = piece.strip().partition("=")
            jar[name] = value
        return jar
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path != "/login":
            return self.answer(404, {"error": "not found"})
        sid = secrets.token_hex(16)
        sessions.add(sid)
        issued.write(sid + "\n")
        self.answer(200, {"login": "ok"}, [("Set-Cookie", f"sid={sid}; Path=/; HttpOnly")])
    def do_GET(self):
        if self.path != "/me":
            return self.answer(404, {"error": "not found"})
        if self.cookies().get("sid") not in sessions:
            return self.answer(401, {"error": "login required"})
        self.answer(200, {"user": "ada"})
    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print("listening on 127.0.0.1:%d" % server.server_address[1], flush=True)
server.serve_forever()
PY

cat >"$T/client.py" <<'PY'
import os, requests
base = os.environ["BASE"]
s = requests.Session()
s.trust_env = False  # straight to BASE, whatever the environment says about proxies
r = s.post(base + "/login", json={"user": "ada", "password": "pw"})
print("login", r.status_code, r.text, "cookie:", sorted(s.cookies.keys()))
for i in (1, 2):
    r = s.get(base + "/me")
    sent = r.request.headers.get("Cookie", "")
    print("me", i, r.status_code, r.text, "sent:", [p.split("=")[0].strip() for p in sent.split(";") if p])
PY

/usr/bin/python3 -u "$T/server.py" "$T/sids.txt" >"$T/server.log" 2>&1 &
SERVER_PID=$!
PIDS+=($SERVER_PID)
addr=$(bound_address "$T/server.log")
wait_for_port "$addr"
# The server really needs the cookie.
expect_eq "$(curl -sS -o /dev/null -w '%{http_code}' "http://$addr/me")" 401 "GET /me without a cookie"

timeout 30 gostly-record --upstream "http://$addr" --listen 127.0.0.1:0 -o "$T/rec.jsonl" -- \
  sh -c 'BASE=$GOSTLY_PROXY_URL exec /usr/bin/python3 "$0"' "$T/client.py" >"$T/live.out" 2>"$T/record.log"
live=$(cat "$T/live.out")
expect_contains "$live" "login 200" "live login"
expect_contains "$live" "me 2 200 {\"user\": \"ada\"} sent: ['sid']" "live /me with the session cookie"
expect_eq "$(wc -l <"$T/rec.jsonl" | tr -d ' ')" 3 "recorded lines"
expect_contains "$(cat "$T/rec.jsonl")" '["Set-Cookie","sid=gostly-redacted; Path=/; HttpOnly"]' "Set-Cookie masked in place"
expect_contains "$(cat "$T/rec.jsonl")" '["Cookie","sid=gostly-redacted"]' "Cookie masked in place"

timeout 30 gostly-transition --data "$GOSTLY_DATA" "$T/rec.jsonl" 2>"$T/transition.log"
kill "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true

start_serve --mode MOCK
BASE="http://$PROXY" timeout 30 /usr/bin/python3 "$T/client.py" >"$T/mock.out" 2>"$T/client.log"
expect_eq "$(cat "$T/mock.out")" "$live" "replayed output"
# The masked cookie a replayed client sends matches exactly.
hdrs=$(curl -sS -D - -o /dev/null "http://$PROXY/me" -H 'Cookie: sid=gostly-redacted')
expect_contains "$hdrs" "X-Ghost-Mock: exact" "GET /me with the masked cookie"

# No sid the server issued is anywhere on disk (WAL checkpointed first).
[ "$(wc -l <"$T/sids.txt")" -ge 1 ] || fail "the server issued no session"
command -v sqlite3 >/dev/null && sqlite3 "$GOSTLY_DATA/library.db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
while read -r sid; do
  not grep -rqF "$sid" "$GOSTLY_DATA" "$T/rec.jsonl" || fail "session id $sid reached disk"
done <"$T/sids.txt"
