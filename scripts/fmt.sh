#!/usr/bin/env bash
# Formats the whole crate: `cargo fmt`, then rustfmt on the step modules, which
# src/steps/mod.rs declares through the kind table's macro (`with_kinds!`), where cargo fmt
# does not look. `./scripts/fmt.sh --check` reports instead of writing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

check=()
if [[ "${1:-}" == "--check" ]]; then
  check=(--check)
fi
cargo fmt -- "${check[@]}"
git ls-files -z 'src/steps/*.rs' | xargs -0 rustfmt --edition 2021 "${check[@]}"
