#!/usr/bin/env bash
# Runs the Python SDK's tests in a fresh virtual environment.
#
#   sdk/python/run-tests.sh [pytest arguments...]
#
# With BILLFLOW_DEVNET_JSON naming a running devnet's devnet.json, the
# integration tests use it; otherwise the test session starts a devnet with
# billflow-devnet (BILLFLOW_DEVNET_BIN, default target/debug/billflow-devnet
# of the repository) in a temporary directory and stops it at the end.
# The virtual environment goes to $BILLFLOW_PY_VENV, default
# target/python-sdk-venv of the repository (kept between runs).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
python="${PYTHON:-python3}"
venv="${BILLFLOW_PY_VENV:-$repo/target/python-sdk-venv}"

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    echo "error: the Python SDK needs Python 3.10 or later ($python is $("$python" --version 2>&1))" >&2
    exit 2
fi
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$here[test]"
rm -rf "$here/build" "$here/src/billflow.egg-info"   # what the in-tree build leaves behind

if [ -n "${BILLFLOW_DEVNET_BIN:-}" ]; then
    case "$BILLFLOW_DEVNET_BIN" in /*) ;; *) export BILLFLOW_DEVNET_BIN="$repo/$BILLFLOW_DEVNET_BIN" ;; esac
fi
cd "$here"
# The installed package, not the source tree, is what the tests import.
exec "$venv/bin/python" -m pytest -p no:cacheprovider "$@"
