#!/usr/bin/env bash
# Runs the Autobahn|Testsuite fuzzing client (wstest 0.8.2) against an echo
# server on 127.0.0.1 and judges the report (docs/conformance.md):
#
#   bash scripts/autobahn.sh --server build/cxx17/examples/finch_echo
#   bash scripts/autobahn.sh --server build/cxx17/examples/finch_echo \
#       --compare build/bench/bench/beast_raw_echo      # a second agent, reported beside it
#   bash scripts/autobahn.sh --server build/cxx17/examples/finch_echo --compression
#
#   --server PATH   the echo server judged (required)
#   --compare PATH  a second echo server in the same run, for the durations
#                   side by side; its results are printed, never judged
#   --compression   start the servers with --compression (permessage-deflate)
#                   and run cases 12 and 13 (default 12.*,13.*: 216 cases)
#   --cases LIST    wstest's case ids and patterns, comma-separated
#                   (default 1.*,2.*,3.*,4.*,5.*,6.*,7.*,9.*,10.*: cases 1 to 10);
#                   wstest matches a pattern as a prefix: 12.*.1 also takes
#                   12.1.10 to 12.1.18, so name single cases by their ids
#   --out DIR       where the report goes (default build/autobahn/report):
#                   reports/servers/index.html, summary.json, summary.md, logs
#
# Each server is started as `PATH --port 0 --threads 1 --address 127.0.0.1`
# (and `--compression` with --compression) and must print `listening on
# 127.0.0.1:PORT`, echo every text and binary message as it came, accept
# messages of 16 MiB, and stop on SIGTERM.
#
# The suite is installed from the prepared copy ../shared/autobahn beside the
# repository (FINCH_AUTOBAHN_DIR chooses another) into build/autobahn/suite,
# once; it needs CPython 2.7 (PYTHON2, else python2.7 on PATH, else pyenv's).
# Debian's /usr/bin/python3 reads the report. wstest gets FINCH_AUTOBAHN_TIMEOUT
# seconds (default 600, 3600 with --compression: all of cases 12 and 13 take
# about 20 minutes per server).
#
# Exit status: 0 when every case of --server is OK or INFORMATIONAL, in its
# behaviour and in its closing handshake (cases 12 and 13: OK in both, the
# only good result the suite gives them); 1 when one is not, or a server or
# wstest misbehaves; 2 for bad arguments; 77 when the suite cannot be had
# (ctest reports the test as skipped), or 1 instead when CI is "true": a CI run
# must not pass without conformance.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)

usage() {
    sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"
}

server=""
compare=""
cases=""
compression=0
out="$root/build/autobahn/report"
while [ $# -gt 0 ]; do
    case $1 in
    --compression)
        compression=1
        shift
        ;;
    --server | --compare | --cases | --out)
        [ $# -ge 2 ] || { echo "autobahn: $1 needs a value" >&2; exit 2; }
        case $1 in
        --server) server=$2 ;;
        --compare) compare=$2 ;;
        --cases) cases=$2 ;;
        --out) out=$2 ;;
        esac
        shift 2
        ;;
    -h | --help)
        usage
        exit 0
        ;;
    *)
        echo "autobahn: unknown argument '$1'" >&2
        usage >&2
        exit 2
        ;;
    esac
done
[ -n "$server" ] || { echo "autobahn: --server PATH is required" >&2; usage >&2; exit 2; }
if [ -z "$cases" ]; then
    if [ "$compression" -eq 1 ]; then
        cases="12.*,13.*"
    else
        cases="1.*,2.*,3.*,4.*,5.*,6.*,7.*,9.*,10.*"
    fi
fi
for binary in "$server" ${compare:+"$compare"}; do
    if [ ! -f "$binary" ] || [ ! -x "$binary" ]; then
        echo "autobahn: '$binary' is not an executable file" >&2
        exit 2
    fi
done
# Absolute paths: wstest runs in the report folder.
server=$(realpath "$server")
[ -z "$compare" ] || compare=$(realpath "$compare")
out=$(realpath -m "$out")
# The case list goes into the spec as JSON, so only what case patterns are made of.
if ! [[ $cases =~ ^[0-9.*]+(,[0-9.*]+)*$ ]]; then
    echo "autobahn: --cases takes patterns like 1.*,9.1.6, comma-separated" >&2
    exit 2
fi
default_timeout=600
[ "$compression" -eq 0 ] || default_timeout=3600
wstest_timeout=${FINCH_AUTOBAHN_TIMEOUT:-$default_timeout}
[[ $wstest_timeout =~ ^[1-9][0-9]*$ ]] || { echo "autobahn: FINCH_AUTOBAHN_TIMEOUT must be a number of seconds" >&2; exit 2; }

default_source_dir=$(realpath -m "$root/../shared/autobahn")
source_dir=$(realpath -m "${FINCH_AUTOBAHN_DIR:-$default_source_dir}")
cache=$root/build/autobahn/suite

# What the environment lacks is not a conformance failure, except in CI.
unavailable() {
    echo "autobahn: $*" >&2
    cat >&2 <<EOF
autobahn: Autobahn|Testsuite is installed from a prepared copy, by default ../shared/autobahn
autobahn:   beside the repository ($default_source_dir); its README.md says what it
autobahn:   holds and how to install it. FINCH_AUTOBAHN_DIR names another copy (now: $source_dir).
autobahn: It runs on CPython 2.7: PYTHON2=/path/to/python2.7, else python2.7 on PATH, else
autobahn:   pyenv's newest 2.7 (pyenv install 2.7.18).
autobahn: The report is read with Debian's /usr/bin/python3 (apt-get install python3).
EOF
    if [ "${CI:-}" = true ]; then
        echo "autobahn: FAIL: CI is true, and CI must not pass without conformance" >&2
        exit 1
    fi
    echo "autobahn: SKIPPED (exit 77)" >&2
    exit 77
}

[ -x /usr/bin/python3 ] || unavailable "no /usr/bin/python3 to read the report"
if [ ! -f "$source_dir/install.sh" ] || [ ! -f "$source_dir/wstest-py27.tar.xz" ]; then
    unavailable "no prepared copy of the suite at $source_dir (install.sh, wstest-py27.tar.xz)"
fi

# The installed copy is reused only if it came from this very copy and
# interpreter: a newer copy, or another PYTHON2, installs again.
mkdir -p "$(dirname "$cache")" "$out"
stamp=$( (sha256sum "$source_dir/install.sh" "$source_dir/wstest-py27.tar.xz" | cut -d ' ' -f 1
    echo "PYTHON2=${PYTHON2:-}") | sha256sum | cut -d ' ' -f 1)
wstest=$cache/bin/wstest
suite_version() {
    "$wstest" -a 2>/dev/null | sed -n 's/^AutobahnTestSuite //p'
}
# Two builds' ctest may install at the same moment.
exec 9>"$(dirname "$cache")/suite.lock"
flock -w 300 9 || { echo "autobahn: another installation holds $(dirname "$cache")/suite.lock" >&2; exit 1; }
version=""
if [ "$(cat "$cache/stamp" 2>/dev/null)" = "$stamp" ]; then
    version=$(suite_version || true)
fi
if [ -z "$version" ]; then
    echo "== installing Autobahn|Testsuite from $source_dir into $cache"
    rm -rf "$cache"
    if ! install_log=$(bash "$source_dir/install.sh" "$cache" 2>&1); then
        unavailable "installation failed: $install_log"
    fi
    # install.sh's warnings (a slow pure-Python fallback) are worth seeing.
    sed '$d' <<<"$install_log"
    wstest=$(tail -n 1 <<<"$install_log")
    version=$(suite_version || true)
    [ -n "$version" ] || unavailable "the installed wstest does not start: $wstest"
    echo "$stamp" >"$cache/stamp"
fi
exec 9>&-

# An agent's name in the report: the binary's name, made distinct for a
# comparison of a server with itself.
agent=$(basename "$server" | tr -c 'A-Za-z0-9_.\n-' '_')
compare_agent=""
if [ -n "$compare" ]; then
    compare_agent=$(basename "$compare" | tr -c 'A-Za-z0-9_.\n-' '_')
    [ "$compare_agent" != "$agent" ] || compare_agent="$compare_agent-compare"
fi

# Every process started here runs in the background under timeout: bash runs
# a trap only once the foreground command is over, and a `wait` it interrupts
# at once. On the way out, TERM goes to each timeout, which passes it on and
# sends KILL 5 or 10 s later if need be.
pids=()
wstest_pid=""
stop_servers() {
    local pid
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    pids=()
}
stop_all() {
    if [ -n "$wstest_pid" ]; then
        kill -TERM "$wstest_pid" 2>/dev/null || true
        wait "$wstest_pid" 2>/dev/null || true
    fi
    stop_servers
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Starts `$2` as agent `$1`, sets `port` to the port it announces. The server
# runs under timeout so that it stops by itself even if this script is killed
# before its trap can run.
start_server() {
    local name=$1 binary=$2 log=$out/$1.log pid
    local flags=(--port 0 --threads 1 --address 127.0.0.1)
    [ "$compression" -eq 0 ] || flags+=(--compression)
    timeout --kill-after=5 $((wstest_timeout + 120)) "$binary" "${flags[@]}" >"$log" 2>&1 &
    pid=$!
    pids+=("$pid")
    port=""
    for _ in $(seq 100); do
        port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$log" | head -n 1)
        [ -z "$port" ] || return 0
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "autobahn: $name exited before it listened; its output ($log):" >&2
            tail -n 20 "$log" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "autobahn: $name did not print 'listening on 127.0.0.1:PORT' within 10 s ($log)" >&2
    exit 1
}

# Only what this script writes: --out may be a folder holding other things.
rm -rf "$out/reports" "$out/summary.json" "$out/summary.md" "$out/spec.json" "$out/wstest.log"
start_server "$agent" "$server"
servers="{\"agent\": \"$agent\", \"url\": \"ws://127.0.0.1:$port\"}"
if [ -n "$compare" ]; then
    start_server "$compare_agent" "$compare"
    servers="$servers,
    {\"agent\": \"$compare_agent\", \"url\": \"ws://127.0.0.1:$port\"}"
fi
cat >"$out/spec.json" <<EOF
{
  "outdir": "./reports/servers",
  "servers": [
    $servers
  ],
  "cases": ["${cases//,/\", \"}"],
  "exclude-cases": [],
  "exclude-agent-cases": {}
}
EOF

date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
commit=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)
dirty=()
[ "$commit" = unknown ] || [ -z "$(git -C "$root" status --porcelain 2>/dev/null)" ] || dirty=(--dirty)

echo "== wstest $version, cases $cases: ${agent}${compare_agent:+ and $compare_agent} (at most $wstest_timeout s, log in $out/wstest.log)"
start=$SECONDS
(cd "$out" && exec timeout --kill-after=10 "$wstest_timeout" "$wstest" -m fuzzingclient -s spec.json) \
    >"$out/wstest.log" 2>&1 &
wstest_pid=$!
status=0
wait "$wstest_pid" || status=$?
wstest_pid=""
wall=$((SECONDS - start))
echo "== wstest ran for $wall s"
if [ "$status" -ne 0 ]; then
    if [ "$status" -eq 124 ]; then
        echo "autobahn: FAIL: wstest did not finish within $wstest_timeout s (FINCH_AUTOBAHN_TIMEOUT)" >&2
    else
        echo "autobahn: FAIL: wstest exited with status $status; the end of $out/wstest.log:" >&2
        tail -n 20 "$out/wstest.log" >&2
    fi
    exit 1
fi

# A server that died during the run shows up as failed cases too; this says
# why. The judged one dying fails the run even if its cases all passed: it
# must survive the suite, not only answer it.
judged_died=0
names=("$agent" ${compare_agent:+"$compare_agent"})
for i in "${!pids[@]}"; do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
        echo "autobahn: ${names[$i]} exited during the run; the end of $out/${names[$i]}.log:" >&2
        tail -n 20 "$out/${names[$i]}.log" >&2
        [ "$i" -ne 0 ] || judged_died=1
    fi
done
stop_servers

status=0
/usr/bin/python3 "$root/scripts/autobahn_report.py" --out "$out" --agent "$agent" \
    ${compare_agent:+--compare "$compare_agent"} --cases "$cases" --suite-version "$version" \
    --date "$date" --commit "$commit" "${dirty[@]}" --wall-seconds "$wall" \
    --binary "$agent=$server" ${compare_agent:+--binary "$compare_agent=$compare"} || status=$?
echo "== report: $out/reports/servers/index.html; summary: $out/summary.json, $out/summary.md"
if [ "$judged_died" -ne 0 ]; then
    echo "autobahn: FAIL: $agent did not survive the run" >&2
    exit 1
fi
[ "$status" -eq 0 ] || exit 1
