#!/usr/bin/env bash
# Installs what is missing, then builds and runs every test:
#   1. C++17, warnings as errors: unit and integration tests, the examples, the
#      end-to-end test of finch_demo, the README check, the packaging tests
#      and a build of every header on its own;
#   2. C++20: the unit and integration tests again;
#   3. ThreadSanitizer: the unit and integration tests, the io_context on
#      several threads in the threading tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

jobs=$(nproc)
common=(-G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DFINCH_WERROR=ON)

run_suite() {
    local dir=$1
    shift
    echo "== configure $dir: $*"
    cmake -S . -B "$dir" "${common[@]}" "$@" >/dev/null
    echo "== build $dir"
    cmake --build "$dir" -j "$jobs"
    echo "== test $dir"
    ctest --test-dir "$dir" -j "$jobs" --output-on-failure --timeout 300
}

run_suite build/cxx17 -DCMAKE_CXX_STANDARD=17
run_suite build/cxx20 -DCMAKE_CXX_STANDARD=20 -DFINCH_BUILD_EXAMPLES=OFF -DFINCH_TEST_PACKAGING=OFF
# -Wno-tsan: GCC warns that Asio's std::atomic_thread_fence is not modelled by
# ThreadSanitizer; that is Asio's code, and a data race it hid would still be
# reported on the accesses themselves.
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
    run_suite build/tsan -DCMAKE_CXX_STANDARD=17 -DFINCH_BUILD_EXAMPLES=OFF -DFINCH_TEST_PACKAGING=OFF \
    -DCMAKE_CXX_FLAGS="-fsanitize=thread -Wno-tsan -O1 -g" -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread
