#!/usr/bin/env python3
"""Writes N synthetic recorded interactions as gostly JSONL to stdout, for bench/store.sh.

About 1 KB a record: a JSON API answer of 450-750 bytes with a few request and response headers.
20 services (`default` and svc-01..svc-19), sessions of 500 records, mostly distinct match keys
(GET /RESOURCE/ID with a query, some POSTs with a body), one key in three repeated in a later
session so the mock index has history to choose from. Record 0 is the probe the MOCK runs ask for:
service default, GET /probe/users/42. Deterministic (fixed seed); string templates instead of
json.dumps per record, so a million records take seconds, not minutes.
"""
import json
import random
import sys

n = int(sys.argv[1])
rng = random.Random(12)
resources = ["users", "orders", "invoices", "charges", "customers", "products", "carts", "payments",
             "shipments", "refunds"]
services = ["default"] + ["svc-%02d" % i for i in range(1, 20)]
filler = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
out = sys.stdout
write = out.write
q = json.dumps  # for the few values that need quoting

probe_body = q(json.dumps({"id": 42, "name": "probe", "bio": "x" * 560}, separators=(",", ":")))
write('{"type":"interaction","v":1,"id":"bench-probe","service_id":"default","session_id":"bench-probe",'
      '"source":"learn","recorded_at":"2026-01-01T00:00:00.000Z","duration_ms":1.0,'
      '"request":{"method":"GET","uri":"/probe/users/42","scheme":"http","host":"api.example.test",'
      '"http_version":"1.1","headers":[["Accept","application/json"]]},'
      '"response":{"status":200,"reason":"OK","headers":[["Content-Type","application/json"]],"body":' +
      probe_body + '}}\n')

for i in range(1, n):
    session = i // 500
    service = services[session % len(services)]
    resource = resources[i % len(resources)]
    # one record in three repeats the key of a record from the previous session of this service
    key = i - 500 * len(services) if i % 3 == 0 and i >= 500 * len(services) else i
    uri = "/api/v1/%s/%d?expand=items&page=%d" % (resource, key, key % 7)
    method, req_body = ("POST", ',"body":' + q('{"amount":%d,"currency":"EUR","note":"n%d"}' % (key % 9973, key))) \
        if i % 10 == 7 else ("GET", "")
    status = 201 if method == "POST" else (404 if i % 50 == 11 else 200)
    pad = filler[: rng.randrange(10, 80)] * rng.randrange(3, 6)
    body = ('{"id":%d,"object":"%s","uuid":"%032x","amount":%d,"currency":"EUR","status":"active",'
            '"created_at":"2026-06-%02dT10:%02d:%02dZ","customer":{"id":"cus_%d","email":"u%d@example.com",'
            '"address":{"city":"city %d","zip":"%05d"}},"tags":["a","b","c"],"description":"%s"}') % (
        key, resource, rng.getrandbits(128), rng.randrange(1, 10**6), 1 + i % 28, i % 60, (i // 60) % 60,
        key % 10007, key, key % 50, key % 99999, pad)
    seconds = i % 86400
    write('{"type":"interaction","v":1,"id":"bench-%d","service_id":"%s","session_id":"sess-%d",'
          '"source":"learn","recorded_at":"2026-06-%02dT%02d:%02d:%02d.%03dZ","duration_ms":%.1f,'
          '"request":{"method":"%s","uri":"%s","scheme":"https","host":"%s.example.test","http_version":"1.1",'
          '"headers":[["Accept","application/json"],["User-Agent","bench/1.0"],["X-Request-Id","req-%d"]]%s},'
          '"response":{"status":%d,"reason":"OK","headers":[["Content-Type","application/json"],'
          '["Cache-Control","no-store"],["X-Trace","t-%d"]],"body":%s}}\n' % (
              i, service, session, 1 + (session // 200) % 28, seconds // 3600, (seconds // 60) % 60, seconds % 60,
              i % 1000, rng.random() * 100, method, uri, service, i, req_body, status, i, q(body)))
