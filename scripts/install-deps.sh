#!/usr/bin/env bash
# Installs every Debian package that building and testing Kura needs.
# Idempotent: skips apt entirely when everything is already installed.
set -euo pipefail

PACKAGES=(
    # build
    build-essential cmake pkg-config clang-format
    # libFuzzer targets (tests/fuzz)
    clang libclang-rt-dev
    zlib1g-dev libjansson-dev libssl-dev libinih-dev libcmocka-dev
    libleveldb-dev liburing-dev libxxhash-dev attr
    libhttp-parser-dev
    # the proxy's S3 API: XML request bodies (DeleteObjects, multipart
    # Complete, bucket configuration)
    libexpat1-dev
    # tests: the reference Swift (oracle for ring placement, peer for
    # interop) and the test runner
    python3 python3-pytest python3-pytest-timeout python3-swift swift
    # tests/functional/test_swift_api.py: the real `swift` CLI, and a whole
    # Swift 2.30 cluster (KURA_TEST_TARGET=swift; its tempauth needs memcached)
    python3-swiftclient swift-proxy swift-object swift-container
    swift-account memcached
    # tests/functional/test_s3_*.py: the real S3 clients
    awscli python3-boto3 s3cmd
)

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
