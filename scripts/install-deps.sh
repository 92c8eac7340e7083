#!/usr/bin/env bash
# Installs what finch's build, examples and tests need on Debian 12, as root.
# Only what is missing is installed, so a second run is quick.
set -euo pipefail
cd "$(dirname "$0")/.."

# clang-14 and libclang-rt-14-dev (libFuzzer and clang's sanitizer runtimes)
# build the fuzzers; llvm-14 brings llvm-symbolizer for readable crash reports.
# chromium runs the example pages in the browser tests (tests/js/browser); Node
# runs the JavaScript client's tests. Node 18 or later: Debian's nodejs is
# installed only when no node is on the PATH. libhiredis-dev is the Redis
# backplane's client library (finch::redis); its tests run redis-server.
packages=(g++ cmake ninja-build ccache libboost1.81-dev nlohmann-json3-dev catch2 zlib1g-dev libssl-dev openssl libnss3-tools doxygen python3-websockets python3-msgpack python3-cbor2
    libhiredis-dev redis-server
    clang-14 libclang-rt-14-dev llvm-14 chromium)
command -v node >/dev/null || packages+=(nodejs npm)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The JavaScript tests' packages (ws, playwright-core, ajv), at the versions
# of tests/js/package-lock.json; again only when missing or changed.
lock=tests/js/package-lock.json
installed=tests/js/node_modules/.package-lock.json
if [ ! -f "$installed" ] || [ "$lock" -nt "$installed" ]; then
    echo "installing the JavaScript tests' packages (npm ci in tests/js)"
    (cd tests/js && npm ci --no-audit --no-fund --loglevel=error)
fi
