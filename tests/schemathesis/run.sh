#!/usr/bin/env bash
# Checks a running billflow node's OpenAPI document (GET /v1/openapi.json) with
# openapi-spec-validator, compiles a TypeScript client generated from it
# (tests/openapi-client, installed by `npm ci`), then runs schemathesis against
# the node: requests
# generated from that document to every operation, those to
# signed routes signed as the development tenant (hooks.py). Fails if any answer
# is a 5xx. Bounded: at most MAX_EXAMPLES cases an operation and phase, a fixed
# seed, and 600 s in all.
#
# Usage: tests/schemathesis/run.sh BASE_URL    (e.g. http://127.0.0.1:8080)
#
# Installs the pinned schemathesis into a virtualenv under the Cargo target
# directory the first time (PyPI must be reachable then).
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5
CRYPTOGRAPHY_VERSION=50.0.2
VALIDATOR_VERSION=0.9.0
MAX_EXAMPLES=${MAX_EXAMPLES:-100}
SEED=${SEED:-20260101}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
base=${1:?usage: $0 BASE_URL}
base=${base%/}
target=${CARGO_TARGET_DIR:-$repo/target}
case $target in /*) ;; *) target=$repo/$target ;; esac
venv=$target/schemathesis-venv
pins="schemathesis==$SCHEMATHESIS_VERSION cryptography==$CRYPTOGRAPHY_VERSION openapi-spec-validator==$VALIDATOR_VERSION"

if [[ ! -x $venv/bin/schemathesis || $(cat "$venv/pins" 2>/dev/null) != "$pins" ]]; then
    echo "installing $pins into $venv"
    rm -rf "$venv"
    "${PYTHON:-python3}" -m venv "$venv"
    # shellcheck disable=SC2086
    "$venv/bin/pip" install --quiet --disable-pip-version-check $pins
    echo "$pins" >"$venv/pins"
fi

# Work in a scratch directory: schemathesis may leave files where it runs.
work=$target/schemathesis-run
mkdir -p "$work"
cd "$work"

# The document must be valid OpenAPI before anything is generated from it:
# a generator in another language would refuse it too.
"$venv/bin/python" -c 'import sys, urllib.request; open("openapi.json", "wb").write(urllib.request.urlopen(sys.argv[1], timeout=30).read())' \
    "$base/v1/openapi.json"
"$venv/bin/openapi-spec-validator" --validation-errors all openapi.json
# A client generated from it in another language compiles: TypeScript types
# by openapi-typescript, and a typed client (tests/openapi-client) checked by tsc.
client=$repo/tests/openapi-client
if [[ ! -x $client/node_modules/.bin/tsc ]]; then
    echo "run 'npm ci --prefix tests/openapi-client' first" >&2
    exit 1
fi
mkdir -p "$client/generated"
"$client/node_modules/.bin/openapi-typescript" openapi.json -o "$client/generated/schema.d.ts"
"$client/node_modules/.bin/tsc" -p "$client"
echo "a TypeScript client generated from the document compiles"

export PYTHONPATH=$here${PYTHONPATH:+:$PYTHONPATH}
export SCHEMATHESIS_HOOKS=hooks
export NO_COLOR=1
# No __pycache__ beside hooks.py in the source tree.
export PYTHONDONTWRITEBYTECODE=1
# One worker: with threads, hypothesis on CPython 3.11 sometimes fails with
# "SystemError: AST constructor recursion depth mismatch" (a bug of that Python).
exec timeout --kill-after=10 600 "$venv/bin/schemathesis" run "$base/v1/openapi.json" \
    --url "$base" \
    --checks not_a_server_error \
    --max-examples "$MAX_EXAMPLES" \
    --seed "$SEED" \
    --workers 1 \
    --request-timeout 45 \
    --generation-database none \
    --suppress-health-check all \
    --no-color
