#!/usr/bin/env bash
# Installs what the tests need, idempotently and fast when already present:
# the real AWS CLI v1 and boto3 (conformance and real-client tests), moto's
# S3-compatible server (the shared artifact store's tests; scripts/moto-server.py
# starts a throwaway one),
# Chromium with its WebDriver (the console's browser tests), and Debian's
# PostgreSQL server (the PostgreSQL store's tests; scripts/test-postgres.sh
# starts a throwaway cluster of it, with TLS certificates made by openssl).
set -euo pipefail
want_awscli=1.45.11
want_boto3=1.43.11
want_moto=5.2.1
have() { python3 -c "import importlib.metadata as m, sys; sys.exit(0 if m.version('$1') == '$2' else 1)" 2>/dev/null; }
if ! have awscli "$want_awscli" || ! have boto3 "$want_boto3"; then
  python3 -m pip install --quiet --disable-pip-version-check "awscli==$want_awscli" "boto3==$want_boto3"
fi
# moto's server extra (flask, flask-cors) as well as moto itself.
if ! have moto "$want_moto" || ! python3 -c "import flask, flask_cors" 2>/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check "moto[server]==$want_moto" "boto3==$want_boto3"
fi
# The console's browser tests: Debian's Chromium and its WebDriver (apt-get, when root and missing).
if ! command -v chromium > /dev/null || ! command -v chromedriver > /dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
    started=$(date +%s)
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver > /dev/null ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver > /dev/null; }
    echo "setup-test-deps: chromium and chromium-driver installed in $(( $(date +%s) - started )) s"
  else
    echo "setup-test-deps: chromium/chromedriver missing and not root: the browser tests will fail under CI" >&2
  fi
fi
# openssl, which makes the throwaway cluster's TLS certificates (scripts/test-postgres.sh).
if ! command -v openssl >/dev/null; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup-test-deps: openssl is missing; as root: apt-get install -y openssl" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q openssl >/dev/null ||
    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q openssl >/dev/null; }
fi
# PostgreSQL's server (apt-get, when root and missing).
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup-test-deps: PostgreSQL's server is missing; as root: apt-get install -y postgresql" >&2
    exit 1
  fi
  # The tests run their own cluster: the package's default one is not made.
  mkdir -p /etc/postgresql-common/createcluster.d
  echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.d/cpjobs-tests.conf
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q postgresql >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q postgresql >/dev/null; }
fi
