#!/usr/bin/env bash
# Installs what gostly needs to build, test and benchmark. Idempotent: does nothing when all is there.
# Debian/Ubuntu: apt-get. macOS: brew bundle with the Brewfile.
set -euo pipefail

DEBIAN_PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libcli11-dev libcurl4-openssl-dev libboost-dev libboost-system-dev libssl-dev libnghttp2-dev
  nlohmann-json3-dev libsqlite3-dev sqlite3 libarchive-dev catch2 libspdlog-dev libfmt-dev libyaml-cpp-dev
  libgoogle-perftools-dev
  # Content-Encoding of recorded bodies (lib/record/body_encoding): gzip/deflate, br.
  zlib1g-dev libbrotli-dev
  curl python3 scdoc openssl jq python3-jsonschema
  # tests/cli/record-https-real-clients-*: a real TLS upstream (nginx, git smart HTTP through
  # fcgiwrap + git-http-backend) and unmodified clients (Python requests, Node).
  nginx-light fcgiwrap python3-requests nodejs
  # HTTP/2 clients for the h2 process tests and benchmarks (nghttp, h2load).
  nghttp2-client
  # A real WebSocket echo server and client for the relay tests (tests/cli/*websocket*).
  python3-websockets
  # The fuzz targets (make fuzz, and the sanitizer replay in make test): clang, its runtimes
  # (libclang-rt-dev pulls libclang-rt-14-dev, which has libclang_rt.fuzzer, asan and ubsan) and
  # llvm-symbolizer (in llvm) for readable sanitizer stacks.
  clang libclang-rt-dev llvm
  # The PostgreSQL team store (lib/store): libpq to build against; the server (initdb, pg_ctl,
  # psql) for the throwaway PostgreSQL that make test starts (tests/postgres/server.sh).
  postgresql libpq-dev
)
# nghttp2-client: h2load for the HTTP/2 and handshake runs of bench/tls.sh.
BENCH_PACKAGES=(wrk nginx-light time nghttp2-client)

want_bench=0
[ "${1:-}" = "--bench" ] && want_bench=1

case "$(uname -s)" in
  Darwin)
    command -v brew >/dev/null || { echo "install-deps: Homebrew is needed on macOS" >&2; exit 2; }
    brew bundle --file="$(dirname "$0")/../Brewfile"
    exit 0 ;;
esac

if ! command -v dpkg-query >/dev/null; then
  echo "install-deps: only Debian/Ubuntu (apt-get) and macOS (brew) are supported; install by hand: ${DEBIAN_PACKAGES[*]}" >&2
  exit 2
fi

packages=("${DEBIAN_PACKAGES[@]}")
[ "$want_bench" = 1 ] && packages+=("${BENCH_PACKAGES[@]}")
# npm installs scripts/node (newman, the OpenAPI validator); Debian's only when none is on PATH.
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
install_node_clients() {
  # newman and the OpenAPI 3.1 validator for the process tests, pinned by scripts/node/package-lock.json.
  local dir; dir="$(cd "$(dirname "$0")/node" && pwd)"
  [ -x "$dir/node_modules/.bin/newman" ] && [ -x "$dir/node_modules/.bin/validate-api" ] && return 0
  command -v npm >/dev/null || return 1
  echo "install-deps: npm ci in $dir (newman, openapi-schema-validator)" >&2
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
    echo "install-deps: npm ci failed; the tests that need newman or the validator will say so and skip" >&2
}

if [ ${#missing[@]} -eq 0 ]; then
  install_node_clients || true
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
install_node_clients || true
