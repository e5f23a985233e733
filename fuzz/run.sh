#!/usr/bin/env bash
# `make fuzz`: runs every fuzz target built in BUILD (default build-fuzz/) for FUZZ_SECONDS
# (default 60) each, one after the other. libFuzzer runs in fork mode and goes on after a crash,
# timeout or OOM, so the known bugs do not end a session. New findings land in
# fuzz/regressions/<target>/ (crash-*, timeout-*, oom-*, leak-*): one file per distinct stack
# (the others are deleted), crashes minimised for up to FUZZ_MINIMIZE_SECONDS (default 30).
# `make test` replays that directory, so a finding stays red until it is fixed (fuzz/README.md). The growing corpus stays in BUILD/corpus/<target>/.
# Environment: FUZZ_SECONDS, FUZZ_TARGETS (space-separated names, default all built),
# FUZZ_MINIMIZE_SECONDS, FUZZ_ARGS (more libFuzzer flags). Prints one summary line per target.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build-fuzz}" && pwd)
seconds=${FUZZ_SECONDS:-60}
minimize=${FUZZ_MINIMIZE_SECONDS:-30}
targets=${FUZZ_TARGETS:-}
if [ -z "$targets" ]; then
  for bin in "$build"/fuzz/fuzz_*; do [ -x "$bin" ] && targets+=" ${bin##*/fuzz_}"; done
fi
[ -n "$targets" ] || { echo "fuzz: no fuzz targets in $build/fuzz (make fuzz-build)" >&2; exit 2; }
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# The seed directories of a target, as tests/CMakeLists.txt replays them (fuzz/targets.cmake).
seeds() {
  local t=$1
  echo "$root/fuzz/corpus/$t"
  case $t in
    har) echo "$root/tests/fixtures/har" ;;
    postman) echo "$root/tests/fixtures/postman" ;;
    openapi_json | openapi_yaml) echo "$root/tests/fixtures/openapi" ;;
  esac
}

# A finding's identity: the sanitizer's summary line (numbers out, so leaks of other sizes
# match) and the first three gostly frames of its stack (function and line, no arguments).
signature() {
  "$1" -rss_limit_mb=2048 -timeout=10 "$2" 2>&1 |
    awk '/^SUMMARY:/ { s = $0; sub(/ \(.*$/, "", s); gsub(/[0-9]+/, "N", s) }
         /#[0-9]+ .* in gostly::/ && n < 3 { sub(/^ *#[0-9]+ 0x[0-9a-f]+ in /, ""); sub(/\(.*\) \//, " /"); sub(/^.*\/(lib|fuzz)\//, "&"); f = f " | " $0; n++ }
         END { print s f }'
}

summary=()
for t in $targets; do
  bin=$build/fuzz/fuzz_$t
  [ -x "$bin" ] || { echo "fuzz: $bin not built" >&2; exit 2; }
  work=$build/corpus/$t
  out=$root/fuzz/regressions/$t
  mkdir -p "$work" "$out"
  log=$build/fuzz-$t.log
  before=$(ls "$out")
  dict=()
  [ -f "$root/fuzz/dict/$t.dict" ] && dict=(-dict="$root/fuzz/dict/$t.dict")
  echo "== fuzz_$t: ${seconds}s, log $log"
  # shellcheck disable=SC2046,SC2086
  "$bin" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 -max_total_time="$seconds" \
    -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 -artifact_prefix="$out/" "${dict[@]}" ${FUZZ_ARGS:-} \
    "$work" $(seeds "$t") >"$log" 2>&1
  # Keep one file per distinct stack, minimised when that is quick.
  declare -A seen=()
  for f in $(cd "$out" && ls); do
    grep -qxF "$f" <<<"$before" && continue
    path=$out/$f
    sig=$(signature "$bin" "$path")
    if [ -n "${seen[$sig]:-}" ]; then rm -f "$path"; continue; fi
    seen[$sig]=$f
    if [[ $f == crash-* ]]; then
      timeout $((minimize + 30)) "$bin" -minimize_crash=1 -max_total_time="$minimize" -rss_limit_mb=2048 -timeout=10 \
        -exact_artifact_path="$path.min" "$path" >/dev/null 2>&1
      [ -s "$path.min" ] && [ "$(signature "$bin" "$path.min")" = "$sig" ] && mv "$path.min" "$path"
      rm -f "$path.min"
    fi
    echo "   new: fuzz/regressions/$t/$f: $sig"
  done
  unset seen
  # Coverage as edges and features of the corpus replayed once (fork mode's own counts differ).
  # shellcheck disable=SC2046
  cov=$("$bin" -runs=0 -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$build/replay-" "$work" $(seeds "$t") 2>&1 | grep -oE 'INITED cov: [0-9]+ ft: [0-9]+' | sed 's/INITED //')
  runs=$(grep -oE '^#[0-9]+: cov' "$log" | tail -1 | tr -dc 0-9) # fork mode: executions so far
  found=$(($(ls "$out" | wc -l) - $(grep -c . <<<"$before")))
  summary+=("fuzz_$t: ${seconds}s, ${cov:-cov: ?}, runs ${runs:-?}, new findings $found")
done
echo "== fuzz summary"
printf '   %s\n' "${summary[@]}"
