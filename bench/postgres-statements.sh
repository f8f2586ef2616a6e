#!/usr/bin/env bash
# What one durable third-party lifecycle costs PostgreSQL: the statements and
# transactions the node sends while cpjobs-bench runs the lifecycles phase
# (poll, details, acknowledge, success), per lifecycle, the most frequent
# first. A throwaway cluster (scripts/test-postgres.sh) with
# `log_statement = all`; only the log lines written between the end of the
# phase's setup (the executions started through the API) and the end of the
# phase are counted, so the periodic work of the node in that window counts
# too, as it does in the throughput figure.
#
# Round trips: the store sends each transaction's BEGIN together with its
# first statement (crates/store-postgres/src/pool.rs), so a transaction of
# N statements is N + 1 round trips (its statements and COMMIT); a statement
# is prepared once per connection, and those prepares are not counted here.
#
#   bash bench/postgres-statements.sh [LIFECYCLES]    (default 2000)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-2000}"
cargo build --release -p cpjobs -p cpjobs-bench
target="${CARGO_TARGET_DIR:-target}/release"
source scripts/test-postgres.sh
base="${CPJOBS_TEST_POSTGRES%/postgres}"
psql "$CPJOBS_TEST_POSTGRES" -X -q -c "CREATE DATABASE cpjobs" \
  -c "ALTER SYSTEM SET log_statement = 'all'" -c "ALTER SYSTEM SET log_line_prefix = '%m [%p] '" \
  -c "ALTER SYSTEM SET log_parameter_max_length = 0" -c "SELECT pg_reload_conf()" >/dev/null
now() { date -u '+%Y-%m-%d %H:%M:%S.%3N UTC'; }
from="" to=""
while IFS= read -r line; do
  echo "$line"
  case "$line" in
    setup:*) from=$(now) ;;
    "durable third-party lifecycles"*) to=$(now) ;;
  esac
done < <("$target/cpjobs-bench" run --cpjobs "$target/cpjobs" --store "$base/cpjobs" \
  --phases lifecycles --runs 1 --lifecycles "$n")
[ -n "$from" ] && [ -n "$to" ] || { echo "the lifecycles phase did not run" >&2; exit 1; }
echo "== statements sent to PostgreSQL per lifecycle ($n lifecycles, $from to $to)"
awk -v from="$from" -v to="$to" -v n="$n" '
  { stamp = $1 " " $2 " " $3 }
  stamp < from || stamp > to { next }
  / LOG:  (statement|execute [^:]*): / {
    sql = $0
    sub(/.* LOG:  (statement|execute [^:]*): /, "", sql)
    if (sql ~ /^BEGIN/) begins++
    else if (sql ~ /^COMMIT/) commits++
    else if (sql ~ /^ROLLBACK/) rollbacks++
    else { count[substr(sql, 1, 110)]++; statements++ }
  }
  END {
    printf "transactions (BEGIN): %.2f, COMMIT %.2f, ROLLBACK %.2f per lifecycle\n", begins / n, commits / n, rollbacks / n
    printf "other statements: %.2f per lifecycle; round trips (statements + COMMIT + ROLLBACK): %.2f\n", statements / n, (statements + commits + rollbacks) / n
    for (s in count) printf "%8.2f  %s\n", count[s] / n, s | "sort -rn"
  }' "$CPJOBS_PG_DIR/server.log"
