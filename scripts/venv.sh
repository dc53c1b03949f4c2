#!/usr/bin/env bash
# Ensures the repo-local Python virtualenv (.venv) holds the AWS emulator moto that the
# integration tests run against and the IAM policy linter parliament that tests/iam_doc.rs
# runs on docs/iam.md, then prints the path of its moto_server executable.
# Idempotent and quiet on success; safe to run before every test run.
set -euo pipefail

MOTO_VERSION="5.2.5"
PARLIAMENT_VERSION="1.6.4"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
moto_server="$venv/bin/moto_server"

fail() {
  echo "error: $*" >&2
  exit 1
}

# Runs a command silently, showing its output only if it fails.
quietly() {
  local out
  if ! out="$("$@" 2>&1)"; then
    echo "$out" >&2
    return 1
  fi
}

# The version of a distribution installed in the venv, or nothing.
installed_version() {
  "$venv/bin/python" -c 'import importlib.metadata as m, sys; print(m.version(sys.argv[1]))' "$1" 2>/dev/null || true
}

if [ ! -x "$venv/bin/python" ]; then
  command -v python3 >/dev/null 2>&1 || fail "python3 not found; install Python 3.9+ to run the tests"
  quietly python3 -m venv "$venv" ||
    fail "could not create $venv (on Debian/Ubuntu: apt-get install python3-venv)"
fi

if [ ! -x "$moto_server" ] || [ "$(installed_version moto)" != "$MOTO_VERSION" ]; then
  quietly "$venv/bin/python" -m pip install --disable-pip-version-check "moto[server]==$MOTO_VERSION" ||
    fail "could not install moto[server]==$MOTO_VERSION into $venv"
fi

if [ "$(installed_version parliament)" != "$PARLIAMENT_VERSION" ]; then
  quietly "$venv/bin/python" -m pip install --disable-pip-version-check "parliament==$PARLIAMENT_VERSION" ||
    fail "could not install parliament==$PARLIAMENT_VERSION into $venv"
fi

[ -x "$moto_server" ] || fail "$moto_server is missing after installing moto"
echo "$moto_server"
