#!/usr/bin/env bash
# The `fuzz-regress: <target>` ctest tests: runs one libFuzzer binary (built with ASan + UBSan in
# build-fuzz/) once over every file of the given directories (seed corpus and fuzz/regressions/),
# without fuzzing. Fails on any crash, sanitizer report, leak, timeout (-timeout) or RSS over
# -rss_limit_mb. Exit 125 (ctest: skipped) when the binary was not built (`make fuzz-build`).
# Usage: replay.sh BINARY DIR...
set -euo pipefail
bin=$1
shift
if [ ! -x "$bin" ]; then
  echo "skipped: $bin is not built (make fuzz-build, needs clang and libclang-rt-dev)"
  exit 125
fi
files=()
while IFS= read -r -d '' f; do files+=("$f"); done < <(find "$@" -type f ! -name .gitkeep ! -name 'README*' -print0 | sort -z)
echo "replaying ${#files[@]} inputs through $(basename "$bin")"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
exec "$bin" -rss_limit_mb=2048 -timeout=10 "${files[@]}"
