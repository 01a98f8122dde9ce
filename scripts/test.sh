#!/usr/bin/env bash
# README command (2): installs what is needed, builds, and runs the whole
# test suite: unit tests (optimized and under ASan/UBSan), then the
# functional and interop tests with real clients and Swift as the peer.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh --debug

echo "== unit tests (ASan/UBSan)"
ctest --test-dir build-debug --output-on-failure -j "$(nproc)"
echo "== unit tests (optimized)"
ctest --test-dir build --output-on-failure -j "$(nproc)"

echo "== fuzzing the ring and builder file parsers"
scripts/fuzz.sh

echo "== functional and interop tests"
# Debian's python3 on purpose: it has python3-swift, the placement oracle.
KURA_BUILD="$PWD/build" /usr/bin/python3 -m pytest -q -p no:cacheprovider --timeout 600 \
    --durations=30 tests
