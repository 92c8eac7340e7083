#!/usr/bin/env bash
# Builds finch's API reference from the doc comments of the public headers
# (docs/Doxyfile) into OUT (default build/docs): OUT/html/index.html. Fails
# on any Doxygen warning, each printed: a public type or function without
# documentation, a broken reference, a malformed comment. Exits 77 (skipped)
# when doxygen is missing, unless CI=true (then it fails): scripts/install-deps.sh
# installs it.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-build/docs}")
if ! command -v doxygen >/dev/null; then
    echo "docs: doxygen is not installed (bash scripts/install-deps.sh installs it)" >&2
    [ "${CI:-}" = true ] && exit 1
    exit 77
fi
rm -rf "$out"
mkdir -p "$out"
status=0
FINCH_DOCS_OUT=$out doxygen docs/Doxyfile || status=$?
if [ -s "$out/warnings.txt" ]; then
    echo "docs: Doxygen warnings (every public name needs documentation):" >&2
    cat "$out/warnings.txt" >&2
    status=1
fi
[ "$status" -eq 0 ] && echo "docs: API reference in $out/html/index.html"
exit "$status"
