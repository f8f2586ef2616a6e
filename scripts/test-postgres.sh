# Sourced by scripts/test.sh: starts a throwaway PostgreSQL cluster for the
# PostgreSQL store's tests and exports its URL as CPJOBS_TEST_POSTGRES.
#
# The cluster also serves TLS (ssl=on), with a certificate for 127.0.0.1 and
# localhost signed by a throwaway CA made here: the CA's certificate is
# exported as CPJOBS_TEST_POSTGRES_CA, and a second CA that signed nothing
# the server presents as CPJOBS_TEST_POSTGRES_OTHER_CA (the TLS tests' wrong
# CA). The URL asks for no TLS, so the other tests run in clear text as before.
#
# The cluster lives in a temporary directory, listens on 127.0.0.1 on a free
# port (and on a socket in that directory), keeps PostgreSQL's durability
# defaults (fsync, synchronous_commit), asks for a password (random, in the
# URL), and is stopped and removed when the sourcing shell exits. PostgreSQL
# refuses to run as root, so as root (CI) the cluster runs as the system
# user `cpjobs-test`, made here if missing.
#
# Also usable by hand, for a developer's session:
#   source scripts/test-postgres.sh && cargo test -p cpjobs-store-postgres

cpjobs_pg_start() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "test-postgres: no PostgreSQL server found under /usr/lib/postgresql (scripts/setup-test-deps.sh installs it)" >&2
    return 1
  fi
  local as=()
  if [ "$(id -u)" = 0 ]; then
    if ! id cpjobs-test >/dev/null 2>&1; then
      useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin cpjobs-test
    fi
    as=(setpriv --reuid=cpjobs-test --regid="$(id -g cpjobs-test)" --init-groups --)
  fi
  CPJOBS_PG_DIR=$(mktemp -d /tmp/cpjobs-pg.XXXXXX)
  chmod 700 "$CPJOBS_PG_DIR"
  local password port
  password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
  printf '%s\n' "$password" >"$CPJOBS_PG_DIR/pwfile"
  [ "$(id -u)" = 0 ] && chown -R cpjobs-test: "$CPJOBS_PG_DIR"
  # initdb --no-sync: the freshly made template files are not synced (a
  # throwaway cluster need not survive a power cut while it is made); the
  # server itself runs with fsync on, as a production one does.
  # The server's user may not read the caller's working directory: work from the cluster's.
  (cd "$CPJOBS_PG_DIR" && "${as[@]}" "$bin/initdb" --pgdata="$CPJOBS_PG_DIR/data" --username=cpjobs --pwfile="$CPJOBS_PG_DIR/pwfile" \
    --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$CPJOBS_PG_DIR/initdb.log" 2>&1) || {
    cat "$CPJOBS_PG_DIR/initdb.log" >&2
    return 1
  }
  rm -f "$CPJOBS_PG_DIR/pwfile"
  cpjobs_pg_certs "$CPJOBS_PG_DIR/tls" || return 1
  [ "$(id -u)" = 0 ] && chown -R cpjobs-test: "$CPJOBS_PG_DIR/tls"
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  (cd "$CPJOBS_PG_DIR" && "${as[@]}" "$bin/pg_ctl" --pgdata="$CPJOBS_PG_DIR/data" --log="$CPJOBS_PG_DIR/server.log" --wait --silent \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$CPJOBS_PG_DIR \
        -c fsync=on -c synchronous_commit=on -c max_connections=300 -c shared_buffers=128MB \
        -c ssl=on -c ssl_cert_file=$CPJOBS_PG_DIR/tls/server.crt -c ssl_key_file=$CPJOBS_PG_DIR/tls/server.key" start) || {
    cat "$CPJOBS_PG_DIR/server.log" >&2
    return 1
  }
  CPJOBS_PG_CTL=("${as[@]}" "$bin/pg_ctl")
  export CPJOBS_TEST_POSTGRES="postgres://cpjobs:$password@127.0.0.1:$port/postgres"
  export CPJOBS_PG_BIN="$bin"
  export CPJOBS_TEST_POSTGRES_CA="$CPJOBS_PG_DIR/tls/ca.crt"
  export CPJOBS_TEST_POSTGRES_OTHER_CA="$CPJOBS_PG_DIR/tls/other-ca.crt"
}

# Makes, in directory $1, a throwaway CA (ca.crt), the server's key and
# certificate signed by it for 127.0.0.1 and localhost (server.key, mode 600
# as PostgreSQL demands; server.crt), and a second CA (other-ca.crt) that
# signed nothing of the server's. EC P-256 keys: quick to make. Valid 2 days.
cpjobs_pg_certs() {
  local d=$1
  command -v openssl >/dev/null || {
    echo "test-postgres: openssl is missing (scripts/setup-test-deps.sh installs it)" >&2
    return 1
  }
  mkdir -p "$d" && chmod 700 "$d"
  local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  local ca_ext=(-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign")
  (
    cd "$d" &&
      openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.crt -days 2 -subj "/CN=cpjobs test CA" "${ca_ext[@]}" &&
      openssl req -x509 "${ec[@]}" -keyout other-ca.key -out other-ca.crt -days 2 -subj "/CN=cpjobs other test CA" "${ca_ext[@]}" &&
      openssl req "${ec[@]}" -keyout server.key -out server.csr -subj "/CN=localhost" &&
      printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=critical,CA:FALSE" \
        "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >server.ext &&
      openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext \
        -out server.crt &&
      chmod 600 server.key ca.key other-ca.key
  ) >"$d/openssl.log" 2>&1 || {
    cat "$d/openssl.log" >&2
    return 1
  }
}

cpjobs_pg_stop() {
  if [ -n "${CPJOBS_PG_DIR:-}" ] && [ -d "$CPJOBS_PG_DIR/data" ]; then
    (cd "$CPJOBS_PG_DIR" && "${CPJOBS_PG_CTL[@]}" --pgdata="$CPJOBS_PG_DIR/data" --mode=fast --wait --silent stop) || true
  fi
  [ -n "${CPJOBS_PG_DIR:-}" ] && rm -rf "$CPJOBS_PG_DIR"
  unset CPJOBS_TEST_POSTGRES CPJOBS_TEST_POSTGRES_CA CPJOBS_TEST_POSTGRES_OTHER_CA CPJOBS_PG_DIR
}

cpjobs_pg_started=$(date +%s%N)
cpjobs_pg_start
trap cpjobs_pg_stop EXIT
echo "test-postgres: a throwaway PostgreSQL cluster listens on 127.0.0.1 ($(( ($(date +%s%N) - cpjobs_pg_started) / 1000000 )) ms to start)"
