#!/usr/bin/env bash
# Runs finch's benchmark suite and writes docs/benchmarks.md and
# docs/benchmarks.png: installs what is missing (apt-get, npm), builds the
# servers and the load generator in CMake's plain Release (-O3 -DNDEBUG, what
# a project that uses finch gets) under build/bench (or --build-dir), then runs
# bench/run.py. Takes about 35 minutes on an idle machine (the compression
# points about 14 of them, the wss points about 6, the cluster point about 1),
# up to an hour when other work keeps it busy; it needs root (apt-get,
# real-time scheduling of the measured processes) and about 20,000 open files
# per process (ulimit -Hn). The cluster point starts a redis-server of its own
# on a free 127.0.0.1 port, without persistence, and stops it afterwards.
#
#   bash scripts/bench.sh            # the full run, 3 repetitions of every point
#   bash scripts/bench.sh --quick    # 1 s per point, fewer connections, report in build/bench/bench
#   bash scripts/bench.sh --smoke    # correctness only, a few seconds, no report
#   bash scripts/bench.sh --modes compression --splice
#                                    # permessage-deflate alone, its section of
#                                    # docs/benchmarks.md rewritten, the rest kept
#   bash scripts/bench.sh --modes wss --splice --repeat 5
#                                    # the wss points alone (finch and Beast over
#                                    # TLS; about 10 minutes), their section of
#                                    # docs/benchmarks.md rewritten
#   bash scripts/bench.sh --modes cluster --splice
#                                    # the cluster point alone (3 nodes through
#                                    # Redis, 1000 receivers; about a minute), its
#                                    # section of docs/benchmarks.md rewritten
#   bash scripts/bench.sh --quick --modes cluster --docs-dir /tmp/cluster
#                                    # the same with 300 receivers, 3 s, once (~25 s)
#   bash scripts/bench.sh --build-dir build/bench-tls --quick --modes wss --docs-dir /tmp/wss
#                                    # another build directory (one per
#                                    # worktree or branch measured side by side)
#
# Other arguments go to bench/run.py (--help lists them).
set -euo pipefail
cd "$(dirname "$0")/.."

build=build/bench
args=()
while [ $# -gt 0 ]; do
    if [ "$1" = --build-dir ]; then
        [ $# -ge 2 ] || { echo "bench.sh: --build-dir needs a directory" >&2; exit 2; }
        build=$2
        shift 2
    else
        args+=("$1")
        shift
    fi
done

bash scripts/install-deps.sh
# The benchmark's own needs: a reference server, the chart, the Node server.
packages=(libwebsocketpp-dev gnuplot-nox)
command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)
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

# -U: a build directory configured by an earlier version of this script
# keeps CMAKE_CXX_FLAGS_RELEASE=-O2 in its cache; without the entry, CMake
# sets its own Release flags again.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -UCMAKE_CXX_FLAGS_RELEASE \
    -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DFINCH_BUILD_BENCH=ON \
    -DFINCH_BUILD_TESTS=OFF -DFINCH_BUILD_EXAMPLES=OFF -DFINCH_INSTALL=OFF >/dev/null
cmake --build "$build"

# ws from the lock file, into the build directory: node_modules is never committed.
mkdir -p "$build/node"
cp bench/node/package.json bench/node/package-lock.json "$build/node/"
(cd "$build/node" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

# Debian's python3: the one on PATH may be another interpreter.
exec /usr/bin/python3 bench/run.py --bin-dir "$build/bench" --node-modules "$build/node/node_modules" ${args[@]+"${args[@]}"}
