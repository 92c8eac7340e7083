#!/usr/bin/env bash
# Installs what is missing, builds finch_demo and runs it.
# Extra arguments go to the demo: bash scripts/demo.sh --port 9000 --threads 2
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build/demo -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    -DFINCH_BUILD_TESTS=OFF >/dev/null
cmake --build build/demo --target finch_demo
exec ./build/demo/examples/finch_demo "$@"
