#!/usr/bin/env bash
# Builds Kura: build/ (optimized, what the tools and benchmarks use) and,
# with --debug, build-debug/ (ASan + UBSan, where the unit tests also run).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"
if [ "${1:-}" = "--debug" ]; then
    cmake -S . -B build-debug -DCMAKE_BUILD_TYPE=Debug >/dev/null
    cmake --build build-debug -j "$jobs"
fi
