#!/usr/bin/env bash
# Credentials sent in LEARN (floor headers both ways, REDACT_HEADERS, per-service rules) never
# reach traffic/, while the client still gets the upstream's answer unchanged.
source "$(dirname "$0")/common.sh"
start_api_upstream
REDACT_HEADERS=X-Tenant-Secret start_serve --upstream "$UPSTREAM"
api PUT /services/default -d '{"redact_headers":["X-Service-Rule"]}' >/dev/null
live=$(curl -sS -D - -o /dev/null "http://$PROXY/users/3" \
  -H 'Authorization: Bearer auth-value-123' -H 'Cookie: sid=cookie-value-456' -H 'X-Api-Key: key-value-789' \
  -H 'X-Tenant-Secret: tenant-value-000' -H 'X-Service-Rule: rule-value-111' -H 'X-Harmless: keep-me')
expect_contains "$live" "Set-Cookie: session=upstream-secret" "client still gets Set-Cookie"
file="$GOSTLY_DATA/traffic/default.jsonl"
[ -s "$file" ] || fail "nothing recorded in $file"
for secret in auth-value-123 cookie-value-456 key-value-789 tenant-value-000 rule-value-111 upstream-secret; do
  not grep -rq "$secret" "$GOSTLY_DATA/traffic" || fail "$secret reached disk"
done
expect_contains "$(cat "$file")" keep-me "ordinary headers are kept"
expect_contains "$(cat "$file")" '"redacted":[' "redacted names listed"
