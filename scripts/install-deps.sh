#!/usr/bin/env bash
# Installs what finch's build, examples and tests need on Debian 12, as root.
# Only what is missing is installed, so a second run is quick.
set -euo pipefail

packages=(g++ cmake ninja-build ccache libboost1.81-dev nlohmann-json3-dev catch2 python3-websockets)
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
