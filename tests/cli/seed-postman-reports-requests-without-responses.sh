#!/usr/bin/env bash
# Requests without a saved response are reported, not invented; --placeholder seeds them.
source "$(dirname "$0")/common.sh"
gostly-seed postman "$FIXTURES/postman/collection-v2.json" >"$T/out.jsonl" 2>"$T/err.log"
expect_eq "$(wc -l <"$T/out.jsonl")" 2 "records from saved examples only"
expect_eq "$(grep -c 'has no saved response' "$T/err.log")" 5 "one warning per request without a response"
expect_contains "$(cat "$T/err.log")" "5 requests without a saved response" "summary"
cat "$FIXTURES/postman/newman-sample-collection.json" | gostly-seed postman --placeholder --service crm >"$T/ph.jsonl"
expect_eq "$(wc -l <"$T/ph.jsonl")" 3 "placeholders"
expect_eq "$(grep -c '"placeholder":true' "$T/ph.jsonl")" 3 "marked as placeholders"
expect_eq "$(grep -c '"service_id":"crm"' "$T/ph.jsonl")" 3 "--service after the subcommand"
# --var takes one value per occurrence: the file after it is still the input.
gostly-seed postman --var newName=Hedy --var otherHost=http://ping.test "$SRC/tests/seed/data/collection-v21.json" >"$T/v.jsonl" 2>/dev/null
expect_eq "$(wc -l <"$T/v.jsonl")" 4 "records with --var before the file"
gostly-seed har --host mitm.it "$FIXTURES/har/insomnia.har" >"$T/h.jsonl"
expect_eq "$(wc -l <"$T/h.jsonl")" 1 "--host before the file"
