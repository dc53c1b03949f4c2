#!/usr/bin/env bash
# The demo: deploy the fargate-public reference system to a local AWS emulator (moto),
# show its status, and tear it down. Installs what it needs (the Python venv with the
# pinned moto; Rust crates via cargo) and touches no real AWS account.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo not found. Install Rust with rustup (https://rustup.rs) and run this again." >&2
  exit 1
fi

moto_server="$(scripts/venv.sh)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ecsdeploy/target}"
echo "==> building ecsdeploy"
cargo build --locked --quiet
bin="$CARGO_TARGET_DIR/debug/ecsdeploy"

port="$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
log="$(mktemp)"
echo "==> starting moto on 127.0.0.1:$port (log: $log)"
MOTO_IAM_LOAD_MANAGED_POLICIES=true MOTO_ECS_SERVICE_RUNNING=1 \
  "$moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  if .venv/bin/python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/')" 2>/dev/null; then
    break
  fi
  sleep 0.2
done

# Emulator credentials only; nothing here reaches AWS.
export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo
unset AWS_PROFILE AWS_SESSION_TOKEN
config=config/examples/fargate-public.toml

echo; echo "==> ecsdeploy plan -c $config"
"$bin" -c "$config" plan
echo; echo "==> ecsdeploy up -c $config"
"$bin" -c "$config" up
echo; echo "==> ecsdeploy up (again: nothing to do)"
"$bin" -c "$config" up
echo; echo "==> ecsdeploy status"
"$bin" -c "$config" status
echo; echo "==> ecsdeploy down --yes"
"$bin" -c "$config" down --yes
echo; echo "Demo finished: the app was deployed to the emulator, reported, and removed."
