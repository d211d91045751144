#!/usr/bin/env bash
# The TypeScript SDK's tests: install exactly what package-lock.json pins,
# build, and run the unit tests and the integration tests against a real
# devnet: the running one whose devnet.json BILLFLOW_DEVNET_JSON names, else
# one the test run starts with the billflow-devnet binary
# (BILLFLOW_DEVNET_BIN, default target/debug/billflow-devnet of the
# repository, relative paths from the repository root) and stops at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
    echo "run-tests.sh: Node.js 20 or later is needed" >&2
    exit 1
fi
npm ci --no-audit --no-fund --loglevel=error
npm run build --silent
exec node --test --test-reporter=spec dist/test/unit/ dist/test/integration/
