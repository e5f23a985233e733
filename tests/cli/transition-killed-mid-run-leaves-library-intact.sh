#!/usr/bin/env bash
# gostly-transition killed (SIGKILL) in the middle of its transaction, with thousands of records
# already inserted into it: the library is exactly as before, the writer queue is free at once
# (the next transition does not wait on the dead one), and the next run imports everything. On
# SQLite (file intact: integrity_check) and, as cli-postgres, on PostgreSQL (the dead client's
# transaction rolled back, its advisory lock released, no backend left behind).
source "$(dirname "$0")/common.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 not installed"
command -v flock >/dev/null || skip "flock not installed"
engine=${GOSTLY_TEST_ENGINE:-sqlite}

rec() { printf '{"type":"interaction","id":"%s","session_id":"%s","recorded_at":"2026-01-01T00:00:00Z","request":{"method":"GET","uri":"/%s"},"response":{"status":200,"body":"%s"}}\n' "$1" "$2" "$1" "$3"; }
rec base s0 base-body >"$T/base.jsonl"
gostly-transition "$T/base.jsonl" 2>"$T/base.log"
library_rows() {
  library_sql 'select interaction_id, record from recordings order by 1'
  library_sql 'select service_id, match_key, ordinal, recording_id from mocks order by 1, 2, 3'
}
before=$(library_rows)

for i in $(seq 3000); do rec "r$i" s1 "body-$i"; done >"$T/big.jsonl"
# The input is a FIFO kept open after the records: gostly-transition reads them all (cat returns
# once all but a pipe buffer's worth are read), inserts them into its open transaction, then
# waits for more input, and is killed there.
mkfifo "$T/feed"
gostly-transition - <"$T/feed" 2>"$T/killed.log" &
victim=$!
PIDS+=($victim)
exec 9>"$T/feed"
timeout 30 cat "$T/big.jsonl" >&9 || fail "gostly-transition did not read its input"
# Inside its transaction? SQLite: it holds the writer queue's lock. PostgreSQL: its backend is
# idle in a transaction (named by application_name).
in_transaction() {
  if [ "$engine" = postgres ]; then
    [ "$(pg_test_sql "select count(*) from pg_stat_activity where datname = current_database()
        and application_name = 'gostly-transition' and state = 'idle in transaction'")" = 1 ]
  else
    not flock -n "$GOSTLY_DATA/library.db.lock" true
  fi
}
for _ in $(seq 100); do in_transaction && break; sleep 0.05; done
in_transaction || fail "gostly-transition is not inside its transaction"
sleep 0.3 # the last batch in
kill -KILL "$victim"
wait "$victim" 2>/dev/null || true
exec 9>&-

expect_eq "$(library_rows)" "$before" "the library after the kill"
if [ "$engine" = postgres ]; then
  for _ in $(seq 100); do
    [ "$(pg_test_sql "select count(*) from pg_stat_activity where datname = current_database()
        and application_name = 'gostly-transition'")" = 0 ] && break
    sleep 0.05
  done
  expect_eq "$(pg_test_sql "select count(*) from pg_stat_activity where datname = current_database()
    and application_name = 'gostly-transition'")" 0 "backends of the killed transition"
else
  expect_eq "$(library_sql 'PRAGMA integrity_check')" ok "library.db integrity"
fi

# The queue is free: the rerun neither waits for the dead writer nor finds anything of it.
started=$SECONDS
timeout 30 gostly-transition --json "$T/big.jsonl" >"$T/rerun.json" 2>"$T/rerun.log" || fail "the rerun failed: $(cat "$T/rerun.log")"
[ $((SECONDS - started)) -lt 15 ] || fail "the rerun waited $((SECONDS - started)) s"
! grep -q "another writer" "$T/rerun.log" || fail "the rerun waited for the killed writer: $(cat "$T/rerun.log")"
expect_eq "$(jq .added "$T/rerun.json")" 3000 "records the rerun added"
expect_eq "$(library_sql 'select count(*) from recordings')" 3001 "recordings after the rerun"
echo "$TEST_NAME: ok"
