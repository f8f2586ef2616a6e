#!/usr/bin/env bash
# The whole test suite: what a developer runs and what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-test-deps.sh
# The console's browser tests fail, rather than skip, when Chromium is missing.
export CPJOBS_REQUIRE_BROWSER=1
# A throwaway PostgreSQL cluster for the PostgreSQL store's tests, stopped when this script ends;
# those tests fail rather than skip when it is missing.
export CPJOBS_REQUIRE_POSTGRES=1
# The shared artifact store's tests start throwaway moto S3 servers (scripts/moto-server.py);
# they fail rather than skip when moto is missing.
export CPJOBS_REQUIRE_S3=1
source scripts/test-postgres.sh
# One profile (dev) for the binary, the tests and the conformance replay.
cargo build --locked --bins
cargo test --locked --workspace
# AWS CLI v1's recorded behaviour, replayed against the built binary through a link named `aws`.
python3 scripts/conformance.py "${CARGO_TARGET_DIR:-target}/debug/cpjobs"
