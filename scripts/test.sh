#!/usr/bin/env bash
# Installs what is missing, then builds and runs every test, one build per suite:
#   cxx17  GCC, C++17, warnings as errors: unit and integration tests, the
#          examples, the end-to-end tests of the examples, the JavaScript
#          client's tests, the example pages in headless Chromium and the
#          protocol's JSON Schema (tests/js, Node), the Autobahn|Testsuite
#          conformance run against finch_echo (scripts/autobahn.sh; skipped
#          without the suite, required when CI=true), the README check, a
#          build of every C++ block of the README and docs/, as C++17 and C++20
#          (tests/doc_examples.py), the packaging tests and a build of every
#          header on its own;
#   cxx20  GCC, C++20: the unit and integration tests again;
#   asan   GCC, AddressSanitizer + LeakSanitizer + UndefinedBehaviorSanitizer:
#          the unit and integration tests (the churn test's connections
#          included), any report fatal;
#   tsan   GCC, ThreadSanitizer: the unit and integration tests, the
#          io_context on several threads in the threading and churn tests;
#   fuzz   clang, libFuzzer with ASan + UBSan: the seed corpus once, then
#          FINCH_FUZZ_SECONDS (default 60) of fuzzing each target (frame parser,
#          finch's stream against Beast's, JSON reader, incoming-message path,
#          binary envelopes, the HTTP request path, what a cluster node reads
#          from the backplane; half the time for the last two)
#          on a copy of its seeds (docs/fuzzing.md);
#   bench  GCC, C++17, warnings as errors: the benchmark's servers and load
#          generator, and its smoke run (bench.smoke: a fraction of a second of
#          each mode against each C++ server, every reply and delivery checked;
#          no timing is judged). The full benchmark is scripts/bench.sh.
# Arguments pick suites (`scripts/test.sh asan fuzz`); none runs them all. The
# wall time and the CPU time (compilers and tests) of each suite are printed at
# the end: on a shared machine the CPU time is the one that compares.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

jobs=$(nproc)
common=(-G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DFINCH_WERROR=ON)
# The sanitizer builds need neither the examples nor the packaging tests: the
# plain build covers those, and the sanitizers find nothing more in them.
tests_only=(-DCMAKE_CXX_STANDARD=17 -DFINCH_BUILD_EXAMPLES=OFF -DFINCH_TEST_PACKAGING=OFF)
timings=()
times_file=$(mktemp)
trap 'rm -f "$times_file"' EXIT

# User + system seconds of every child process waited for so far. `times` must
# run in this shell, not in a subshell, hence the file.
children_cpu() {
    awk 'NR == 2 {
        total = 0
        for (i = 1; i <= 2; ++i) { split($i, part, /[ms]/); total += part[1] * 60 + part[2] }
        printf "%d", total
    }' "$times_file"
}

run_suite() {
    local dir=$1
    shift
    local start=$SECONDS
    times >"$times_file"
    local cpu_start
    cpu_start=$(children_cpu)
    echo "== configure $dir: $*"
    cmake -S . -B "$dir" "${common[@]}" "$@" >/dev/null
    echo "== build $dir"
    cmake --build "$dir" -j "$jobs"
    echo "== test $dir"
    ctest --test-dir "$dir" -j "$jobs" --output-on-failure --timeout 300
    times >"$times_file"
    timings+=("$(printf '%-12s wall %5d s   cpu %5d s' "$dir" $((SECONDS - start)) $(($(children_cpu) - cpu_start)))")
}

suite_cxx17() {
    run_suite build/cxx17 -DCMAKE_CXX_STANDARD=17
}

suite_cxx20() {
    run_suite build/cxx20 -DCMAKE_CXX_STANDARD=20 -DFINCH_BUILD_EXAMPLES=OFF -DFINCH_TEST_PACKAGING=OFF
}

suite_asan() {
    # -fno-sanitize-recover: undefined behaviour fails the test instead of
    # printing a line that nobody reads. No -O1: with GCC's UBSan it nearly
    # triples the compile time of a Beast translation unit (about 190 s of CPU
    # instead of 70), to save a few seconds of test run.
    local flags="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
    ASAN_OPTIONS="detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1" \
        UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
        run_suite build/asan "${tests_only[@]}" \
        -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined"
}

suite_tsan() {
    # -Wno-tsan: GCC warns that Asio's std::atomic_thread_fence is not modelled by
    # ThreadSanitizer; that is Asio's code, and a data race it hid would still be
    # reported on the accesses themselves.
    # tests/tsan.supp: the false positives of synchronisation ThreadSanitizer
    # cannot see (that fence; libstdc++'s uninstrumented exception_ptr), each
    # with its reason.
    TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp" \
        run_suite build/tsan "${tests_only[@]}" \
        -DCMAKE_CXX_FLAGS="-fsanitize=thread -Wno-tsan -O1 -g" -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread
}

suite_fuzz() {
    # Only the fuzzers: no Catch2 tests, examples or install rules in this build.
    run_suite build/fuzz -DCMAKE_CXX_COMPILER=clang++-14 -DFINCH_BUILD_FUZZERS=ON \
        -DFINCH_BUILD_TESTS=OFF -DFINCH_BUILD_EXAMPLES=OFF -DFINCH_INSTALL=OFF \
        -DFINCH_FUZZ_SECONDS="${FINCH_FUZZ_SECONDS:-60}"
}

suite_bench() {
    # Only the benchmark: it keeps building and its servers keep answering
    # correctly between full runs. Debug, like the other suites: the smoke run
    # checks behaviour, not speed.
    run_suite build/bench-smoke -DCMAKE_CXX_STANDARD=17 -DFINCH_BUILD_BENCH=ON \
        -DFINCH_BUILD_TESTS=OFF -DFINCH_BUILD_EXAMPLES=OFF -DFINCH_INSTALL=OFF
}

suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(cxx17 cxx20 asan tsan fuzz bench)
for suite in "${suites[@]}"; do
    case $suite in
    cxx17 | cxx20 | asan | tsan | fuzz | bench) ;;
    *)
        echo "unknown suite '$suite'; choose among cxx17 cxx20 asan tsan fuzz bench" >&2
        exit 2
        ;;
    esac
done
for suite in "${suites[@]}"; do
    "suite_$suite"
done

echo "== time per suite"
printf '%s\n' "${timings[@]}"
