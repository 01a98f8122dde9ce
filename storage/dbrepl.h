/*
 * dbrepl.h - what container and account replication needs from a device's
 * DBs (contdb.h, acctdb.h): the DBs of one partition, found with one seek
 * per DB, and the sync points exchanged with peers, as Swift's
 * incoming_sync and outgoing_sync tables keep them (a peer's replication
 * id -> the row sequence up to which the two DBs are known to agree).
 *
 * 'prefix' is a DB's key prefix (struct contdb/acctdb .prefix). Thread
 * safety as contdb.h.
 */
#ifndef STORAGE_DBREPL_H
#define STORAGE_DBREPL_H

#include <stdint.h>

#include "storage/dbenc.h"
#include "storage/kvdb.h"

enum dbrepl_dir {
    DBREPL_INCOMING = 'i', /* rows we merged from the peer */
    DBREPL_OUTGOING = 'o', /* rows the peer confirmed from us */
};

/* Calls fn(hash) for each DB of partition 'part' in hash order, stopping
 * when fn returns non-zero (which is returned). Returns 0, fn's value,
 * -EIO or -ENOMEM. */
int dbrepl_walk_partition(struct kvdb *kv, uint32_t part,
                          int (*fn)(const unsigned char hash[16], void *arg),
                          void *arg);

/* Calls fn(part, hash) for each DB of the device, partition by
 * partition: a partition's DBs are listed first (one seek per DB), then
 * fn runs with no iterator open, so it may write or take long. Stops when
 * fn returns non-zero (which is returned). Returns 0, fn's value, -EIO or
 * -ENOMEM. */
int dbrepl_walk_device(struct kvdb *kv,
                       int (*fn)(uint32_t part, const unsigned char hash[16],
                                 void *arg),
                       void *arg);

/* Swift's get_sync(): sets *point to the sync point with 'remote_id', -1
 * if there is none. Returns 0, -EIO, -EINVAL (malformed) or -ENOMEM. */
int dbrepl_get_sync(struct kvdb *kv,
                    const unsigned char prefix[DB_KEY_PREFIX_LEN],
                    const char *remote_id, enum dbrepl_dir dir, int64_t *point);

/* Swift's merge_syncs(): the stored point becomes max(stored, point).
 * Synced. Returns 0, -EIO or -ENOMEM. */
int dbrepl_merge_sync(struct kvdb *kv,
                      const unsigned char prefix[DB_KEY_PREFIX_LEN],
                      const char *remote_id, enum dbrepl_dir dir,
                      int64_t point);

/* Removes every key of the DB at 'prefix' (info, stats, rows, feed, sync
 * points) in one synced batch: a reclaimed deleted DB, a handoff DB
 * reverted to its primaries. Returns 0, -EIO or -ENOMEM. */
int dbrepl_destroy(struct kvdb *kv,
                   const unsigned char prefix[DB_KEY_PREFIX_LEN]);

#endif
