#!/usr/bin/env bash
# The whole test suite: what a developer runs and what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-test-deps.sh
cargo build --locked --bins
cargo test --locked --workspace
