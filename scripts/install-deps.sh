#!/usr/bin/env bash
# Installs what finch's build, examples and tests need on Debian 12, as root.
# Only what is missing is installed, so a second run is quick.
set -euo pipefail

# clang-14 and libclang-rt-14-dev (libFuzzer and clang's sanitizer runtimes)
# build the fuzzers; llvm-14 brings llvm-symbolizer for readable crash reports.
packages=(g++ cmake ninja-build ccache libboost1.81-dev nlohmann-json3-dev catch2 python3-websockets
    clang-14 libclang-rt-14-dev llvm-14)
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
