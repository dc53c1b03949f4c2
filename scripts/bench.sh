#!/usr/bin/env bash
# The deploy benchmark (benches/deploy.rs) against a local moto: prints the Markdown table
# that docs/performance.md records. Uses the dev profile so it reuses the test build (a
# release build of the AWS SDK crates takes ~25 minutes on a 2-core machine).
#   ECSDEPLOY_BENCH_LATENCY_MS=50  added latency per AWS call
#   ECSDEPLOY_BENCH_ONLY=wordpress only configs whose name contains this
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
moto_server="$(scripts/venv.sh)"
export ECSDEPLOY_MOTO_SERVER="${ECSDEPLOY_MOTO_SERVER:-$moto_server}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ecsdeploy/target}"
exec cargo bench --locked --profile dev --bench deploy "$@"
