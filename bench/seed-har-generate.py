#!/usr/bin/env python3
"""Writes a synthetic HAR 1.2 file of about SIZE bytes to stdout, for bench/seed-har.sh.

Entries look like a browser export of a JSON API: HTTP/2 pseudo-headers, Chrome's `_initiator`
vendor field, JSON bodies, some base64 binary bodies, some form posts, a few status-0 entries.
Deterministic (fixed seed), so two runs at the same size produce the same file.
"""
import base64
import json
import random
import sys

def entry(i, rng):
    user = rng.randrange(1, 10_000)
    kind = i % 10
    url = f"https://api.example.com/users/{user}?page={i % 7}"
    body = json.dumps({"id": user, "name": f"user {user}", "tags": ["a", "b", "c"][: 1 + i % 3],
                       "bio": "lorem ipsum dolor sit amet " * (4 + i % 8)})
    content = {"size": len(body), "mimeType": "application/json", "text": body}
    request = {"method": "GET", "url": url, "httpVersion": "http/2.0",
               "headers": [{"name": ":authority", "value": "api.example.com"}, {"name": ":method", "value": "GET"},
                           {"name": "accept", "value": "application/json"},
                           {"name": "authorization", "value": "Bearer not-a-real-token"}],
               "queryString": [], "cookies": [], "headersSize": -1, "bodySize": -1}
    status = 200
    if kind == 3:
        blob = bytes(rng.randrange(256) for _ in range(600))
        content = {"size": len(blob), "mimeType": "image/png", "encoding": "base64",
                   "text": base64.b64encode(blob).decode()}
    elif kind == 5:
        request["method"] = "POST"
        request["postData"] = {"mimeType": "application/x-www-form-urlencoded",
                               "params": [{"name": "q", "value": f"search {i}"}]}
    elif kind == 9 and i % 50 == 9:
        status = 0
    return {"_initiator": {"type": "script", "stack": {"callFrames": [{"url": "https://app.example.com/app.js",
                                                                        "lineNumber": i % 900}]}},
            "_priority": "High", "startedDateTime": f"2024-05-01T08:{(i // 60) % 60:02d}:{i % 60:02d}.000Z",
            "time": 12.5, "request": request,
            "response": {"status": status, "statusText": "OK" if status else "", "httpVersion": "http/2.0",
                         "headers": [{"name": "content-type", "value": content["mimeType"]},
                                     {"name": "content-encoding", "value": "gzip"}],
                         "content": content, "redirectURL": "", "headersSize": -1, "bodySize": -1},
            "cache": {}, "timings": {"send": 0.1, "wait": 12, "receive": 0.4}}

def main():
    size = int(sys.argv[1])
    rng = random.Random(1)
    out = sys.stdout
    out.write('{"log": {"version": "1.2", "creator": {"name": "seed-har-generate", "version": "1"},\n "entries": [\n')
    written, i = 0, 0
    while written < size:
        line = ("" if i == 0 else ",\n") + json.dumps(entry(i, rng))
        out.write(line)
        written += len(line)
        i += 1
    out.write("\n]}}\n")

if __name__ == "__main__":
    main()
