#!/usr/bin/env bash
# PostgreSQL's own ceiling beside cpjobs on it, in one run, on a throwaway
# cluster (scripts/test-postgres.sh: 127.0.0.1, fsync and synchronous_commit
# on, removed at the end):
#   1. pgbench: single-row durable UPDATE transactions/s from 8 clients
#      (pgbench -i -s 1, then one random row of pgbench_accounts per transaction);
#   2. cpjobs-bench: durable third-party lifecycles/s through one `cpjobs serve
#      --store postgres://...` (poll, details, acknowledge, success; ~3 writes).
# Extra arguments go to `cpjobs-bench run` (default: --phases lifecycles --runs 3
# --lifecycles 5000). Honors CARGO_TARGET_DIR. Takes about two minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-test-deps.sh
cargo build --release -p cpjobs -p cpjobs-bench
target="${CARGO_TARGET_DIR:-target}/release"
source scripts/test-postgres.sh
base="${CPJOBS_TEST_POSTGRES%/postgres}"
psql "$CPJOBS_TEST_POSTGRES" -X -q -c "CREATE DATABASE pgbench" -c "CREATE DATABASE cpjobs"

echo "== pgbench: single-row UPDATE transactions, 8 clients, 20 s"
script=$(mktemp)
printf '%s\n' '\set aid random(1, 100000)' \
  'UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = :aid;' >"$script"
"$CPJOBS_PG_BIN/pgbench" -q -i -s 1 "$base/pgbench" >/dev/null 2>&1
"$CPJOBS_PG_BIN/pgbench" -n -c 8 -j 2 -T 20 -f "$script" "$base/pgbench" 2>&1 | grep -E "^(tps|latency|number of)"
rm -f "$script"

echo "== cpjobs serve --store postgres://... (one node)"
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--phases lifecycles --runs 3 --lifecycles 5000)
"$target/cpjobs-bench" run --cpjobs "$target/cpjobs" --store "$base/cpjobs" "${args[@]}"
