#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests (ctest fixture "postgres", tests/CMakeLists.txt).
#
#   server.sh start DIR   initdb + start on a free port of 127.0.0.1; writes DIR/conninfo
#                         (postgresql://gostly:PASSWORD@127.0.0.1:PORT/postgres, mode 0600), or
#                         DIR/unavailable with a one-line reason. Exits 0 either way, so the tests
#                         that need the server skip with that reason instead of failing or passing.
#   server.sh start DIR --tls
#                         the same, but the server speaks TLS only: a throwaway CA (DIR/ca.pem, the
#                         one clients trust) signs a certificate for 127.0.0.1 and localhost, and
#                         pg_hba has hostssl lines only, so a connection without TLS is refused.
#                         DIR/conninfo has the same form (libpq's default sslmode=prefer uses TLS
#                         without checking it); add ?sslmode=verify-full&sslrootcert=DIR/ca.pem.
#   server.sh stop DIR    pg_ctl stop -m fast, then removes the data directory.
#
# PostgreSQL refuses to run as root, and CI runs as root: then the server runs as the `postgres`
# system user that Debian's package creates; otherwise as the current user. The data directory
# and the unix socket live in DIR/run, or in a private directory under /tmp when the `postgres`
# user cannot reach DIR (a checkout under /root) or the socket path would be too long.
set -uo pipefail
export LC_ALL=C
# The developer's PG* settings must not leak into the test server's clients.
unset PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGPASSWORD PGPASSFILE PGSERVICE PGSERVICEFILE \
  PGSSLMODE PGOPTIONS PGDATA PGCONNECT_TIMEOUT PGTARGETSESSIONATTRS 2>/dev/null || true

usage() { echo "usage: $0 start DIR [--tls] | stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || { [ $# -eq 3 ] && [ "$1" = start ] && [ "$3" = --tls ]; } || usage
cmd=$1
DIR=$2
TLS=${3:+1}

# pg_bindir: GOSTLY_TEST_POSTGRES_BINDIR when set (another version), else Debian's newest
# /usr/lib/postgresql/N/bin, else pg_config --bindir, else initdb's directory on PATH.
pg_bindir() {
  local d best="" best_v=-1 v
  [ -n "${GOSTLY_TEST_POSTGRES_BINDIR:-}" ] && { echo "$GOSTLY_TEST_POSTGRES_BINDIR"; return; }
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] || continue
    v=${d#/usr/lib/postgresql/}
    v=${v%%/*}
    case "$v" in '' | *[!0-9]*) continue ;; esac
    [ "$v" -gt "$best_v" ] && { best_v=$v; best=$d; }
  done
  if [ -z "$best" ] && command -v pg_config >/dev/null; then
    d=$(pg_config --bindir 2>/dev/null) && [ -x "$d/initdb" ] && best=$d
  fi
  if [ -z "$best" ] && command -v initdb >/dev/null; then
    best=$(dirname "$(command -v initdb)")
  fi
  echo "$best"
}

# as_owner CMD...: runs CMD as the user the server runs as (RUN_AS; empty = the current user).
as_owner() {
  if [ -z "${RUN_AS:-}" ]; then
    "$@"
  elif command -v runuser >/dev/null; then
    runuser -u "$RUN_AS" -- "$@"
  else
    setpriv --reuid="$RUN_AS" --regid="$(id -g "$RUN_AS")" --init-groups -- "$@"
  fi
}

# stop_server: stops what a previous start left (the run directory recorded in DIR/rundir).
stop_server() {
  local run pid bindir
  run=$(cat "$DIR/rundir" 2>/dev/null) || run=""
  if [ -n "$run" ] && [ -f "$run/data/postmaster.pid" ]; then
    bindir=$(pg_bindir)
    RUN_AS=""
    [ "$(id -u)" -eq 0 ] && RUN_AS=$(stat -c %U "$run/data")
    [ "$RUN_AS" = root ] && RUN_AS=""
    pid=$(head -n 1 "$run/data/postmaster.pid" 2>/dev/null)
    if [ -n "$bindir" ] && as_owner "$bindir/pg_ctl" -D "$run/data" stop -m fast -w -t 10 >/dev/null 2>&1; then
      echo "postgres: stopped the server in $run/data"
    elif [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      # pg_ctl could not stop it in time: the postmaster and its children go now.
      kill -KILL "$pid" 2>/dev/null
      pkill -KILL -P "$pid" 2>/dev/null
      echo "postgres: killed postmaster $pid"
    fi
  fi
  if [ -n "$run" ]; then
    case "$run" in
    "$DIR"/run | /tmp/gostly-postgres.*) rm -rf "$run" ;;
    esac
  fi
  rm -rf "$DIR/rundir" "$DIR/bindir" "$DIR/conninfo" "$DIR/unavailable" "$DIR/ca.pem" "$DIR/tls"
}

# unavailable REASON: the one-line reason the dependent tests skip with.
unavailable() {
  echo "$1" >"$DIR/unavailable"
  echo "postgres: unavailable: $1"
  if [ -n "${RUN:-}" ] && [ -f "$RUN/postgres.log" ]; then
    echo "--- $RUN/postgres.log:"
    tail -n 20 "$RUN/postgres.log"
  fi
  exit 0
}

# free_port: a port of 127.0.0.1 nothing listens on now (a random one, so parallel builds rarely
# collide; start retries with another when the server still cannot bind it).
free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

# setup_tls: (start DIR --tls) a CA and a server certificate for 127.0.0.1 and localhost, valid
# for a day (EC P-256, as tests/cli/common.sh's make_test_ca); ssl=on; pg_hba accepts TLS only.
# PostgreSQL refuses a key that others may read: it goes into the data directory, 0600, owned by
# the server's user. The CA's key is thrown away; DIR/ca.pem is what clients trust.
setup_tls() {
  command -v openssl >/dev/null || unavailable "--tls: openssl not found"
  local tls="$DIR/tls"
  rm -rf "$tls" && mkdir -m 0700 "$tls" || unavailable "--tls: cannot create $tls"
  {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
      -subj "/CN=gostly test PostgreSQL CA" -keyout "$tls/ca.key" -out "$tls/ca.pem" &&
      openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
        -keyout "$tls/server.key" -out "$tls/server.csr" &&
      printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$tls/server.ext" &&
      openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial -days 1 \
        -extfile "$tls/server.ext" -out "$tls/server.crt"
  } >"$tls/openssl.log" 2>&1 || unavailable "--tls: openssl could not make the test certificates: $(tail -n 1 "$tls/openssl.log")"
  local owner=${RUN_AS:-$(id -un)}
  install -m 0644 -o "$owner" "$tls/server.crt" "$RUN/data/server.crt" &&
    install -m 0600 -o "$owner" "$tls/server.key" "$RUN/data/server.key" &&
    install -m 0644 "$tls/ca.pem" "$DIR/ca.pem" || unavailable "--tls: cannot install the certificates"
  rm -rf "$tls"
  as_owner tee -a "$RUN/data/postgresql.conf" >/dev/null <<EOF
ssl = on
ssl_cert_file = '$RUN/data/server.crt'
ssl_key_file = '$RUN/data/server.key'
EOF
  # No host (plain) lines: a connection without TLS finds no entry and is refused.
  as_owner tee "$RUN/data/pg_hba.conf" >/dev/null <<EOF
# gostly tests (tests/postgres/server.sh --tls): TLS only over TCP
local   all all               scram-sha-256
hostssl all all 127.0.0.1/32  scram-sha-256
hostssl all all ::1/128       scram-sha-256
EOF
}

start_server() {
  mkdir -p "$DIR" || { echo "postgres: cannot create $DIR" >&2; exit 0; }
  DIR=$(cd "$DIR" && pwd)
  stop_server # a stale previous run (a killed ctest) is stopped and removed first

  BINDIR=$(pg_bindir)
  [ -n "$BINDIR" ] || unavailable "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin, pg_config --bindir; scripts/install-deps.sh installs Debian's postgresql)"
  local b
  for b in initdb pg_ctl pg_isready psql; do
    [ -x "$BINDIR/$b" ] || unavailable "$BINDIR/$b not found (Debian's postgresql and postgresql-client)"
  done

  RUN_AS=""
  if [ "$(id -u)" -eq 0 ]; then
    id -u postgres >/dev/null 2>&1 ||
      unavailable "running as root and there is no unprivileged 'postgres' user to run the server as"
    command -v runuser >/dev/null || command -v setpriv >/dev/null ||
      unavailable "running as root and neither runuser nor setpriv is there to drop to the 'postgres' user"
    RUN_AS=postgres
  fi

  # The run directory: DIR/run when the server's user can reach it and the socket path fits in
  # sun_path (107 bytes), else a private directory under /tmp.
  RUN="$DIR/run"
  mkdir -p "$RUN" && chmod 0700 "$RUN"
  [ -n "$RUN_AS" ] && chown "$RUN_AS:" "$RUN"
  if [ ${#RUN} -gt 80 ] || ! as_owner test -w "$RUN" -a -x "$RUN" 2>/dev/null; then
    rm -rf "$RUN"
    RUN=$(mktemp -d /tmp/gostly-postgres.XXXXXX) || unavailable "cannot create a directory under /tmp"
    [ -n "$RUN_AS" ] && chown "$RUN_AS:" "$RUN"
  fi
  echo "$RUN" >"$DIR/rundir"
  echo "$BINDIR" >"$DIR/bindir" # the clients (psql) of the same version, for the tests

  local password pwfile
  password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  pwfile="$RUN/pwfile"
  (umask 077 && echo "$password" >"$pwfile")
  [ -n "$RUN_AS" ] && chown "$RUN_AS:" "$pwfile"

  # The bootstrap superuser is `gostly`, its password the random one; every connection (TCP and
  # the socket) authenticates with SCRAM. --no-sync: a throwaway cluster need not survive a crash.
  if ! as_owner "$BINDIR/initdb" -D "$RUN/data" -U gostly --pwfile="$pwfile" --auth=scram-sha-256 \
    -E UTF8 --no-locale --no-sync >"$RUN/initdb.log" 2>&1; then
    echo "--- initdb output:"
    tail -n 20 "$RUN/initdb.log"
    unavailable "initdb failed: $(grep -m 1 -iE 'error|fatal|cannot|could not' "$RUN/initdb.log" || tail -n 1 "$RUN/initdb.log")"
  fi
  rm -f "$pwfile"

  # Settings for a fast test server: loopback only, the socket in the run directory, no fsync.
  as_owner tee -a "$RUN/data/postgresql.conf" >/dev/null <<EOF

# gostly tests (tests/postgres/server.sh)
listen_addresses = '127.0.0.1'
unix_socket_directories = '$RUN'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 32MB
max_connections = 100
log_min_messages = warning
EOF

  [ -n "$TLS" ] && setup_tls

  local port="" started=0
  for _ in 1 2 3 4 5; do
    port=$(free_port) || unavailable "no free TCP port found on 127.0.0.1"
    if as_owner "$BINDIR/pg_ctl" -D "$RUN/data" -l "$RUN/postgres.log" -o "-p $port" -w -t 20 start \
      >"$RUN/pg_ctl.log" 2>&1; then
      started=1
      break
    fi
    # Another process took the port between the check and the bind: try another one.
    grep -q 'could not bind\|Address already in use' "$RUN/postgres.log" 2>/dev/null || break
    as_owner "$BINDIR/pg_ctl" -D "$RUN/data" stop -m immediate >/dev/null 2>&1
  done
  [ "$started" = 1 ] || unavailable "pg_ctl start failed: $(grep -m 1 -E 'FATAL|ERROR|could not' "$RUN/postgres.log" 2>/dev/null || tail -n 1 "$RUN/pg_ctl.log")"

  "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$port" -t 10 ||
    unavailable "the server started but pg_isready on 127.0.0.1:$port did not answer within 10 s"

  local uri="postgresql://gostly:$password@127.0.0.1:$port/postgres" check
  check=$uri
  [ -n "$TLS" ] && check="$uri?sslmode=verify-full&sslrootcert=$DIR/ca.pem"
  local version
  version=$("$BINDIR/psql" -X -A -t -v ON_ERROR_STOP=1 -d "$check" -c 'SHOW server_version' 2>"$RUN/psql.log") ||
    unavailable "the server is up but a password login over TCP${TLS:+ (TLS, verify-full)} failed: $(head -n 1 "$RUN/psql.log")"
  (umask 077 && echo "$uri" >"$DIR/conninfo.tmp") && mv "$DIR/conninfo.tmp" "$DIR/conninfo"
  echo "postgres: PostgreSQL $version on 127.0.0.1:$port${TLS:+ (TLS only, CA in $DIR/ca.pem)} as ${RUN_AS:-$(id -un)}, data in $RUN/data; conninfo in $DIR/conninfo"
}

case "$cmd" in
start) start_server ;;
stop)
  [ -d "$DIR" ] || exit 0
  DIR=$(cd "$DIR" && pwd)
  stop_server
  ;;
*) usage ;;
esac
exit 0
