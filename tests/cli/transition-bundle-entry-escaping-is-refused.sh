#!/usr/bin/env bash
# A bundle with an entry named ../something is refused: exit 2, nothing written, nothing created.
source "$(dirname "$0")/common.sh"

mkdir -p "$T/work"
python3 - "$T/evil.tar.gz" <<'PY'
import io, sys, tarfile
manifest = b'{"format":"gostly-bundle","bundle_version":1,"services":[{"id":"api","file":"services/api.jsonl","mocks":1}]}'
record = b'{"type":"interaction","id":"x","service_id":"api","request":{"method":"GET","uri":"/"},"response":{"status":200}}\n'
with tarfile.open(sys.argv[1], "w:gz") as tar:
    for name, data in [("manifest.json", manifest), ("services/api.jsonl", record), ("../escaped.jsonl", record)]:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
PY
status=0
(cd "$T/work" && gostly-transition --data "$T/work/data" --import "$T/evil.tar.gz") 2>"$T/err.log" || status=$?
expect_eq "$status" 2 "exit status"
expect_contains "$(cat "$T/err.log")" "../escaped.jsonl" "error names the entry"
[ ! -e "$T/escaped.jsonl" ] || fail "an escaping entry was written"
if [ -f "$T/work/data/library.db" ]; then
  expect_eq "$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from recordings").fetchone()[0])' "$T/work/data/library.db")" 0 "recordings"
fi
