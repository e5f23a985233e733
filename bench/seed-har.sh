#!/usr/bin/env bash
# Streams generated HAR files of two sizes (default 100 MB and 1 GB) through `gostly-seed har` and
# reports throughput (MB/s of input) and peak RSS for each, to show memory does not grow with the
# file. Usage: bench/seed-har.sh [BUILD_BIN_DIR] [SMALL_MB] [LARGE_MB]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../build/bin}
sizes=("${2:-100}" "${3:-1024}")
[ -x "$bin/gostly-seed" ] || { echo "no $bin/gostly-seed (build it, or pass the bin dir)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time, Debian package time)" >&2; exit 2; }
work=$(mktemp -d /tmp/gostly-bench-seed.XXXXXX)
trap 'rm -rf "$work"' EXIT

printf '%-8s %10s %10s %10s %12s %12s\n' "size" "bytes" "records" "seconds" "MB/s" "peak RSS KB"
for mb in "${sizes[@]}"; do
  har=$work/$mb.har
  python3 "$here/seed-har-generate.py" $((mb * 1024 * 1024)) >"$har"
  bytes=$(stat -c %s "$har")
  /usr/bin/time -v -o "$work/time.txt" "$bin/gostly-seed" -q har "$har" -o "$work/out.jsonl"
  seconds=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$work/time.txt")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
  records=$(wc -l <"$work/out.jsonl")
  rate=$(awk -v b="$bytes" -v s="$seconds" 'BEGIN {printf "%.1f", (s > 0 ? b / 1048576 / s : 0)}')
  printf '%-8s %10s %10s %10s %12s %12s\n' "${mb}MB" "$bytes" "$records" "$seconds" "$rate" "$rss"
  rm -f "$har" "$work/out.jsonl"
done
