#!/usr/bin/env bash
# The project's test command: builds everything and runs all tests, including the
# integration tests that drive the real ecsdeploy binary against the AWS emulator moto.
# Extra arguments go to `cargo test` (e.g. `./scripts/test.sh --test harness`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo not found. Install Rust (1.85 or newer) with rustup:" >&2
  echo "  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh" >&2
  echo "(see https://rustup.rs), then open a new shell and run this script again." >&2
  exit 1
fi

moto_server="$(scripts/venv.sh)"
export ECSDEPLOY_MOTO_SERVER="$moto_server"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ecsdeploy/target}"

cargo build --all-targets --locked
cargo test --locked "$@" -- --test-threads=4
