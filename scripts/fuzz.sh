#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan/UBSan) in build-fuzz/ and runs
# each for FUZZ_SECONDS (default 15) from a seed corpus (ring and builder
# files made by kura-ring). A crash, leak or sanitizer report fails the run; the input
# that caused it is left in build-fuzz/ (crash-*, leak-*).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-15}

cmake -S . -B build-fuzz -DKURA_FUZZ=ON -DCMAKE_C_COMPILER=clang \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j "$(nproc)"

seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
mkdir -p "$seeds/ring" "$seeds/builder" "$seeds/objmeta"
printf 'Content-Type' > "$seeds/objmeta/seed"
ring=build/tools/kura-ring
$ring "$seeds/a.builder" create 4 2.5 1 >/dev/null
$ring "$seeds/a.builder" add r1z1-10.0.0.1:6200/sda 100 \
    r1z2-10.0.0.2:6200R10.1.0.2:6300/sdb 100 "r2z1-[::1]:6200/sdc_meta" 50 \
    >/dev/null
cp "$seeds/a.builder" "$seeds/builder/unbalanced"
$ring "$seeds/a.builder" rebalance >/dev/null
cp "$seeds/a.builder" "$seeds/builder/balanced"
cp "$seeds/a.ring.gz" "$seeds/ring/"

for target in ring:fuzz_ringfile builder:fuzz_builder_file \
    objmeta:fuzz_objmeta; do
    corpus=${target%%:*} exe=build-fuzz/tests/fuzz/${target##*:}
    echo "== fuzzing ${target##*:} for ${seconds}s"
    (cd build-fuzz && "../$exe" -max_total_time="$seconds" -max_len=16384 \
        -print_final_stats=1 "$seeds/$corpus" 2>&1 | tail -4)
    # libFuzzer exits non-zero on a finding; pipefail carries it out
done
