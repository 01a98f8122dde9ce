#!/bin/sh
# Container listing benchmark (issue 3: a 10,000-row page from a
# 1,000,000-object container in <= 20 ms). Builds bench/contdb_listing.c
# with -O2 against the storage sources it needs and runs it on a fresh
# LevelDB in $TMPDIR (kept for reruns with KEEP=1).
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=${TMPDIR:-/tmp}/kura-bench-contdb
bin=$tmp/contdb_listing
mkdir -p "$tmp"
cc -std=c17 -O2 -D_GNU_SOURCE -I"$top" -o "$bin" \
    "$top/bench/contdb_listing.c" "$top/storage/kvdb.c" \
    "$top/storage/dbenc.c" "$top/storage/dbmeta.c" \
    "$top/storage/listing.c" "$top/storage/listing_format.c" \
    "$top/storage/contdb.c" -lleveldb -lpthread
[ -n "$KEEP" ] || rm -rf "$tmp/db.ldb"
"$bin" "$tmp/db.ldb"
[ -n "$KEEP" ] || rm -rf "$tmp/db.ldb"
