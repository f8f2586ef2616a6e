#!/usr/bin/env bash
# PostgreSQL's own ceiling beside cpjobs on it, in one run, on a throwaway
# cluster (scripts/test-postgres.sh: 127.0.0.1, fsync and synchronous_commit
# on, removed at the end):
#   1. pgbench: single-row durable UPDATE transactions/s from 8 clients
#      (pgbench -i -s 1, then one random row of pgbench_accounts per transaction);
#   2. cpjobs-bench: durable third-party lifecycles/s through one `cpjobs serve
#      --store postgres://...` (poll, details, acknowledge, success; ~3 writes);
#   3. the same through two nodes on one database (one service key; the
#      bench's connections alternate between the two endpoints);
#   4. poll p99 at 10 and at 1,000,000 queued jobs on PostgreSQL (one node;
#      the deep queue filled in bulk in SQL, see crates/bench/src/pgfill.rs);
#   5. the ratios the goals are stated in.
# Each cpjobs-bench run gets a fresh database. Extra arguments go to every
# `cpjobs-bench run` after the defaults (so they override them, e.g.
# `--runs 5 --lifecycles 10000`). Honors CARGO_TARGET_DIR. Takes about six
# minutes (the fill of a million jobs is about two of them).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-test-deps.sh
cargo build --release -p cpjobs -p cpjobs-bench
target="${CARGO_TARGET_DIR:-target}/release"
source scripts/test-postgres.sh
base="${CPJOBS_TEST_POSTGRES%/postgres}"
psql "$CPJOBS_TEST_POSTGRES" -X -q -c "CREATE DATABASE pgbench" \
  -c "CREATE DATABASE cpjobs" -c "CREATE DATABASE cpjobs2" -c "CREATE DATABASE cpjobs_latency"
out=$(mktemp)
trap 'rm -f "$out"; cpjobs_pg_stop' EXIT

echo "== pgbench: single-row UPDATE transactions, 8 clients, 20 s"
script=$(mktemp)
printf '%s\n' '\set aid random(1, 100000)' \
  'UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = :aid;' >"$script"
"$CPJOBS_PG_BIN/pgbench" -q -i -s 1 "$base/pgbench" >/dev/null 2>&1
"$CPJOBS_PG_BIN/pgbench" -n -c 8 -j 2 -T 20 -f "$script" "$base/pgbench" 2>&1 |
  grep -E "^(tps|latency|number of)" | tee -a "$out"
rm -f "$script"

bench() { "$target/cpjobs-bench" run --cpjobs "$target/cpjobs" "$@" | tee -a "$out"; }
lifecycles=(--phases lifecycles --runs 3 --lifecycles 5000)

echo "== cpjobs serve --store postgres://... (one node)"
bench --store "$base/cpjobs" "${lifecycles[@]}" "$@"

echo "== two cpjobs serve nodes on one database"
bench --store "$base/cpjobs2" --nodes 2 "${lifecycles[@]}" "$@"

echo "== poll latency on PostgreSQL (one node), 10 and 1,000,000 queued"
bench --store "$base/cpjobs_latency" --phases latency --depths 10,1000000 "$@"

echo "== ratios"
awk '
  /^tps = / { tps = $3 }
  /^RESULT lifecycles\/s/ { if ($NF == "node(s))") n = substr($(NF-1), 2); life[n] = $4 }
  /^RESULT poll latency at depth/ { d = $6; sub(":", "", d); for (i = 1; i <= NF; i++) if ($i == "p99") p99[d] = $(i+1) }
  END {
    printf "RESULT pgbench single-row UPDATE tx/s: %.0f\n", tps
    for (n = 1; n <= 8; n++) if (n in life) printf "RESULT lifecycles/s through %s node(s): %.0f = %.2f of pgbench tx/s (goal: at least 0.25)\n", n, life[n], life[n] / tps
    lo = 0; hi = 0
    for (d in p99) { if (lo == 0 || d + 0 < lo + 0) lo = d; if (d + 0 > hi + 0) hi = d }
    if (lo != hi) printf "RESULT poll p99 at depth %s / p99 at depth %s: %.3f / %.3f ms = %.2fx (goal: within 2x)\n", hi, lo, p99[hi], p99[lo], p99[hi] / p99[lo]
  }' "$out"
