#!/usr/bin/env bash
# Builds the service and the load generator (release) and runs every phase of
# the service benchmark against a fresh `cpjobs serve` on 127.0.0.1.
# Extra arguments go to `cpjobs-bench run` (see `cpjobs-bench --help`), e.g.
#   bash bench/service.sh --phases polls,lifecycles --runs 5
# Honors CARGO_TARGET_DIR. Takes a few minutes (the 1M-job queue is filled in bulk).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p cpjobs -p cpjobs-bench
target="${CARGO_TARGET_DIR:-target}/release"
exec "$target/cpjobs-bench" run --cpjobs "$target/cpjobs" "$@"
