#!/bin/sh
# Container DB benchmarks: listing pages from a 1,000,000-object container
# (issue 3: a 10,000-row page in <= 20 ms) and synced updates per second
# with group commit. Builds bench/contdb_*.c with -O2 against the storage
# sources they need and runs them on fresh LevelDBs in $TMPDIR (kept for
# reruns with KEEP=1).
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=${TMPDIR:-/tmp}/kura-bench-contdb
mkdir -p "$tmp"
srcs="$top/storage/kvdb.c $top/storage/dbenc.c $top/storage/dbmeta.c
      $top/storage/listing.c $top/storage/listing_format.c
      $top/storage/contdb.c $top/storage/dbrepl.c $top/common/log.c"
for b in contdb_listing contdb_update contdb_fill; do
    # shellcheck disable=SC2086 # srcs is a list
    cc -std=c17 -O2 -D_GNU_SOURCE -I"$top" -o "$tmp/$b" \
        "$top/bench/$b.c" $srcs -lleveldb -lpthread -lm
done
[ -n "$KEEP" ] || rm -rf "$tmp/listing.ldb"
"$tmp/contdb_listing" "$tmp/listing.ldb"
rm -rf "$tmp/update.ldb"
"$tmp/contdb_update" "$tmp/update.ldb"
rm -rf "$tmp/update.ldb"
[ -n "$KEEP" ] || rm -rf "$tmp/listing.ldb"
