#!/usr/bin/env bash
# Runs one suite of finch's JavaScript tests (client, protocol or browser)
# with Node's test runner. ctest sets the server binaries in the environment.
# Exits 77 (skipped) when something it needs is missing, unless CI=true.
set -euo pipefail
cd "$(dirname "$0")"
suite=$1

skip() {
    echo "js.$suite: $1" >&2
    if [ "${CI:-}" = true ]; then
        echo "js.$suite: required in CI" >&2
        exit 1
    fi
    echo "js.$suite: skipped (bash scripts/install-deps.sh installs it)" >&2
    exit 77
}

command -v node >/dev/null || skip "node is not installed"
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 18 ] || skip "node $major is too old (18 or later)"
[ -d node_modules/ws ] || skip "tests/js/node_modules is missing (npm ci in tests/js)"
if [ "$suite" = browser ]; then
    [ -x /usr/bin/chromium ] || skip "Debian's chromium is not installed"
fi
# One file at a time: each starts its own servers, and the machine has two cores.
exec node --test --test-concurrency=1 "$suite"/
