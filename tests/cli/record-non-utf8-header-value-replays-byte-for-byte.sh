#!/usr/bin/env bash
# Issue 9 item 4: a response header value that is not UTF-8 (a raw 0xE9, Latin-1 "é") is recorded
# as {"b64":"…"} rather than U+FFFD, survives gostly-transition into library.db, and gostly-serve
# in MOCK sends the very bytes the upstream sent.
source "$(dirname "$0")/common.sh"
command -v gostly-transition >/dev/null || skip "gostly-transition not built"
command -v od >/dev/null || skip "od not installed"

cat >"$T/server.py" <<'PY'
import http.server

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.send_response(200)
        # send_header writes latin-1: "\xe9" goes out as the single byte 0xE9.
        self.send_header("X-Name", "caf\xe9 cr\xe8me")
        self.send_header("Content-Disposition", 'attachment; filename="\xe9t\xe9.txt"')
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print("listening on 127.0.0.1:%d" % server.server_address[1], flush=True)
server.serve_forever()
PY
/usr/bin/python3 -u "$T/server.py" >"$T/server.log" 2>&1 &
SERVER_PID=$!
PIDS+=($SERVER_PID)
addr=$(bound_address "$T/server.log")
wait_for_port "$addr"

# The bytes of one header line as a client receives it, in hex.
header_hex() { grep -a "^$1:" | od -An -tx1 | tr -d ' \n'; }
live=$(curl -sS -D - -o /dev/null "http://$addr/file" | header_hex X-Name)
expect_contains "$live" "636166e9206372e8" "the upstream sends raw 0xE9/0xE8" # "caf\xe9 cr\xe8"

timeout 30 gostly-record --upstream "http://$addr" --listen 127.0.0.1:0 -o "$T/rec.jsonl" -- \
  sh -c 'curl -sS -o /dev/null "$GOSTLY_PROXY_URL/file"' 2>"$T/record.log"
rec=$(cat "$T/rec.jsonl")
expect_contains "$rec" "[\"X-Name\",{\"b64\":\"$(printf 'caf\351 cr\350me' | base64)\"}]" "recorded as b64"
case "$rec" in *'\ufffd'* | *$'\xef\xbf\xbd'*) fail "a U+FFFD in the record: $rec" ;; esac

timeout 30 gostly-transition --data "$GOSTLY_DATA" "$T/rec.jsonl" 2>"$T/transition.log"
kill "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
start_serve --mode MOCK
curl -sS -D "$T/mock.h" -o "$T/mock.b" "http://$PROXY/file"
grep -qa '^X-Ghost-Mock: exact' "$T/mock.h" || fail "not replayed: $(cat "$T/mock.h")"
expect_eq "$(header_hex X-Name <"$T/mock.h")" "$live" "X-Name bytes replayed"
expect_eq "$(header_hex Content-Disposition <"$T/mock.h")" \
  "$(printf 'Content-Disposition: attachment; filename="\351t\351.txt"\r\n' | od -An -tx1 | tr -d ' \n')" "Content-Disposition bytes"
expect_eq "$(cat "$T/mock.b")" ok "body"
