#!/usr/bin/env bash
# README command (1): installs what is needed, builds, and sets up the
# all-in-one layout on an embedded default: a swift.conf with a fresh hash
# prefix/suffix and account, container and object rings of 3 replicas over
# 4 devices on 127.0.0.1, built with kura-ring; then prints them and where
# an example object would live.
#
# NEEDSWORK: once the storage servers exist (issue "storage core") this
# also starts them and prints the endpoint and credentials.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh

aio="${KURA_AIO_DIR:-$PWD/.aio}"
rings="$aio/rings"
mkdir -p "$rings" "$aio/devices"/{d1,d2,d3,d4}
if [ ! -f "$aio/swift.conf" ]; then
    umask 077
    cat > "$aio/swift.conf" <<CONF
[swift-hash]
# Secret: never change these once data is stored.
swift_hash_path_prefix = $(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
swift_hash_path_suffix = $(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
CONF
    umask 022
fi

ring=build/tools/kura-ring
for kind in account:6202 container:6201 object:6200; do
    name=${kind%%:*} port=${kind##*:}
    builder="$rings/$name.builder"
    if [ ! -f "$builder" ]; then
        $ring "$builder" create 10 3 1
        for d in 1 2 3 4; do
            $ring "$builder" add "r1z$d-127.0.0.1:$port/d$d" 100
        done
        $ring "$builder" rebalance --seed 1 >/dev/null
    fi
    echo
    $ring "$builder"
done

echo
echo "== where /AUTH_test/photos/cat.jpg lives"
build/tools/kura get-nodes -c "$aio/swift.conf" "$rings/object.ring.gz" \
    AUTH_test photos cat.jpg
echo
echo "rings:      $rings/{account,container,object}.ring.gz"
echo "swift.conf: $aio/swift.conf"
echo "devices:    $aio/devices/d1..d4"
