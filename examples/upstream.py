#!/usr/bin/env python3
"""A small real JSON API used as the example upstream by `make demo`, the examples and the tests.

Routes: GET /health, GET|POST /users, GET|PUT|PATCH|DELETE /users/{id}, GET /posts/{id},
PATCH /posts/{id}, GET /binary (gzip bytes), GET /slow?ms=N, POST /echo (JSON back),
POST /upload (multipart/form-data: each part's name, filename and size). Responses carry a Set-Cookie
and an ETag so tests can check redaction and end-to-end headers.
--variant v2 plants API changes (for drift tests): users lose `name` for `full_name`, `age` turns
into a string, /posts/{id} is gone, /health answers 500, and users gain `tier`.
Prints "listening on 127.0.0.1:PORT" once bound (port 0 picks a free port).
With --tls-cert and --tls-key it speaks HTTPS instead (for https:// upstream tests).
"""
import argparse
import email.parser
import email.policy
import gzip
import json
import ssl
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs

USERS = {}
POSTS = {}
VARIANT = "v1"


def make_user(uid, name=None):
    user = {"id": uid, "name": name or f"user-{uid}", "email": f"user{uid}@example.com",
            "age": 20 + uid % 50, "active": True, "created_at": "2026-11-01T10:00:00Z",
            "request_id": str(uuid.uuid4())}
    return user


def shape(user):
    if VARIANT != "v2":
        return user
    user = dict(user)
    user["full_name"] = user.pop("name")
    user["age"] = str(user["age"])
    user["tier"] = "gold"
    return user


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "example-upstream/1.0"

    def log_message(self, fmt, *args):  # quiet unless asked
        if self.server.verbose:
            sys.stderr.write("upstream: " + fmt % args + "\n")

    def send_json(self, status, obj, extra_headers=()):
        body = json.dumps(obj, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", '"%08x"' % (hash(body) & 0xFFFFFFFF))
        self.send_header("Set-Cookie", "session=upstream-secret; HttpOnly")
        self.send_header("X-Upstream", "example")
        for k, v in extra_headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            return None

    def route(self):
        url = urlsplit(self.path)
        parts = [p for p in url.path.split("/") if p]
        return url, parts

    def do_GET(self):
        url, parts = self.route()
        if parts == ["health"]:
            if VARIANT == "v2":
                return self.send_json(500, {"status": "down"})
            return self.send_json(200, {"status": "ok"})
        if parts == ["users"]:
            return self.send_json(200, [shape(USERS.get(i) or make_user(i)) for i in (1, 2, 3)])
        if len(parts) == 2 and parts[0] == "users" and parts[1].isdigit():
            uid = int(parts[1])
            if uid == 404:
                return self.send_json(404, {"error": "not found"})
            return self.send_json(200, shape(USERS.get(uid) or make_user(uid)))
        if len(parts) == 2 and parts[0] == "posts" and parts[1].isdigit() and VARIANT != "v2":
            pid = int(parts[1])
            post = POSTS.get(pid) or {"id": pid, "title": f"post {pid}", "status": "draft"}
            return self.send_json(200, post)
        if parts == ["binary"]:
            body = gzip.compress(b'{"compressed":true}', mtime=0)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if parts == ["slow"]:
            ms = int(parse_qs(url.query).get("ms", ["1000"])[0])
            time.sleep(ms / 1000)
            return self.send_json(200, {"slept_ms": ms})
        if parts == ["echo-headers"]:
            return self.send_json(200, {k: v for k, v in self.headers.items()})
        return self.send_json(404, {"error": "no route", "path": url.path})

    do_HEAD = do_GET

    def upload(self):
        length = int(self.headers.get("Content-Length") or 0)
        head = b"Content-Type: " + self.headers.get("Content-Type", "").encode() + b"\r\n\r\n"
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + self.rfile.read(length))
        if not msg.is_multipart():
            return self.send_json(400, {"error": "not multipart/form-data"})
        return self.send_json(200, {"parts": [
            {"name": p.get_param("name", header="content-disposition"), "filename": p.get_filename(),
             "size": len(p.get_payload(decode=True) or b"")} for p in msg.iter_parts()]})

    def do_POST(self):
        url, parts = self.route()
        if parts == ["upload"]:
            return self.upload()
        body = self.read_body()
        if body is None:
            return self.send_json(400, {"error": "invalid JSON"})
        if parts == ["users"]:
            uid = max([100] + list(USERS)) + 1
            USERS[uid] = make_user(uid, body.get("name"))
            return self.send_json(201, shape(USERS[uid]), [("Location", f"/users/{uid}")])
        if parts == ["echo"]:
            return self.send_json(200, {"echo": body})
        return self.send_json(404, {"error": "no route", "path": url.path})

    def do_PATCH(self):
        url, parts = self.route()
        body = self.read_body() or {}
        if len(parts) == 2 and parts[0] == "posts" and parts[1].isdigit():
            pid = int(parts[1])
            post = POSTS.get(pid) or {"id": pid, "title": f"post {pid}", "status": "draft"}
            post.update(body)
            POSTS[pid] = post
            return self.send_json(200, post)
        if len(parts) == 2 and parts[0] == "users" and parts[1].isdigit():
            uid = int(parts[1])
            user = USERS.get(uid) or make_user(uid)
            user.update(body)
            USERS[uid] = user
            return self.send_json(200, shape(user))
        return self.send_json(404, {"error": "no route", "path": url.path})

    do_PUT = do_PATCH

    def do_DELETE(self):
        url, parts = self.route()
        if len(parts) == 2 and parts[0] == "users" and parts[1].isdigit():
            USERS.pop(int(parts[1]), None)
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        return self.send_json(404, {"error": "no route", "path": url.path})


def main():
    global VARIANT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--variant", choices=["v1", "v2"], default="v1")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--tls-cert", help="PEM certificate chain: serve HTTPS")
    parser.add_argument("--tls-key", help="PEM private key of --tls-cert")
    args = parser.parse_args()
    VARIANT = args.variant
    server = ThreadingHTTPServer((args.bind, args.port), Handler)
    server.daemon_threads = True
    server.verbose = args.verbose
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        # The handshake runs on the first read, in the handler thread, not in accept().
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    host, port = server.server_address[:2]
    print(f"listening on {host}:{port}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
