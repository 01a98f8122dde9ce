/*
 * contdb.h - container databases: one logical DB per container, many of
 * them in one LevelDB per device (<devices>/<dev>/containers.ldb, see
 * kvdb.h), keyed by partition and the container's hash so a partition is
 * one range scan. Layout and invariants: doc/container-format.md.
 *
 * A DB holds the container's info (names, timestamps, policy, metadata),
 * its stats (object_count, bytes_used, last row sequence) and one row per
 * object name, deleted objects included until reclaim. Every change of
 * rows writes the rows and the stats in one LevelDB write batch, so stats
 * always equal the sum over undeleted rows.
 *
 * Timestamps are struct db_ts (dbenc.h; db_ts_parse() reads X-Timestamp).
 * Thread safety: any thread may use any struct contdb; writers of one DB
 * serialise on kvdb_lock() of its key prefix, readers never wait.
 * Durability: info changes (create, put timestamp, delete, metadata,
 * reported) are synced before returning; row updates when asked with
 * KVDB_SYNC, after the lock is released so that concurrent updates share
 * one fsync (kvdb.h).
 */
#ifndef STORAGE_CONTDB_H
#define STORAGE_CONTDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/dbbroker.h"
#include "storage/dbenc.h"
#include "storage/dbmeta.h"
#include "storage/kvdb.h"
#include "storage/listing.h"

/* bytes: max_object_name_length (1024) counts characters, and a UTF-8
 * character takes up to 4 bytes */
#define CONTDB_MAX_NAME_LEN 4096

/* A handle on one container's DB: where it is, nothing read yet. A small
 * value; no release needed. */
struct contdb {
    struct kvdb *kv;
    unsigned char prefix[DB_KEY_PREFIX_LEN];
};

void contdb_init(struct contdb *db, struct kvdb *kv, uint32_t part,
                 const unsigned char hash[16]);

struct contdb_info {
    char *account;
    char *container;
    struct db_ts created_at;
    struct db_ts put_timestamp;
    struct db_ts delete_timestamp;
    struct db_ts status_changed_at;
    uint32_t storage_policy_index;
    int64_t object_count;
    int64_t bytes_used;
    uint64_t max_row;   /* sequence of the newest row; 0 when none yet */
    char id[DB_ID_LEN]; /* random uuid, the replication id */
    struct db_meta meta;
    /* What the account server was last told (contdb_set_reported()); the
     * container updater reports again while these differ from the
     * current values, as Swift's reported_* columns. */
    struct db_ts reported_put_timestamp;
    struct db_ts reported_delete_timestamp;
    int64_t reported_object_count;
    int64_t reported_bytes_used;
};

void contdb_info_release(struct contdb_info *info);

/* Swift's is_deleted(): no objects and deleted after the last PUT. */
bool contdb_info_is_deleted(const struct contdb_info *info);

/* An object row. On input (put/merge) ctype_timestamp and meta_timestamp
 * may be zero, meaning "as created_at" (and meta as content type); 'seq'
 * is ignored. Rows read back have all three set and their sequence. */
struct contdb_object {
    const char *name;
    size_t name_len;
    struct db_ts created_at; /* X-Timestamp of the PUT or DELETE */
    struct db_ts ctype_timestamp;
    struct db_ts meta_timestamp;
    int64_t size;
    const char *content_type;
    const char *etag;
    bool deleted;
    uint32_t storage_policy_index;
    uint64_t seq;
};

/* Creates the DB (Swift's initialize): put_timestamp = created_at =
 * status_changed_at = 'ts', delete_timestamp 0. Returns 0, -EEXIST if it
 * exists (use contdb_update_put_timestamp()), -EINVAL, -EIO, -ENOMEM. */
int contdb_create(struct contdb *db, const char *account, const char *container,
                  const struct db_ts *ts, uint32_t storage_policy_index);

/* Reads info and stats. Returns 0, -ENOENT (no DB), -EIO, -EINVAL
 * (malformed record), -ENOMEM. Release 'out' with contdb_info_release()
 * whatever the return. */
int contdb_get_info(struct contdb *db, struct contdb_info *out);

/* put_timestamp = max(put_timestamp, ts). If that revives a deleted DB,
 * status_changed_at becomes 'ts' too (the server's "created"). Sets
 * *revived (may be NULL). Returns 0, -ENOENT, -EIO, -ENOMEM. */
int contdb_update_put_timestamp(struct contdb *db, const struct db_ts *ts,
                                bool *revived);

/* Records what the account server acknowledged (Swift's reported()). */
int contdb_set_reported(struct contdb *db, const struct db_ts *put_timestamp,
                        const struct db_ts *delete_timestamp,
                        int64_t object_count, int64_t bytes_used);

/* Swift's delete_db(): delete_timestamp = max(it, ts), status_changed_at
 * = ts, all metadata removed at 'ts'. The caller refuses a non-empty
 * container first (409): see contdb_info.object_count. */
int contdb_delete_db(struct contdb *db, const struct db_ts *ts);

/* Merges 'updates' into the metadata, newest timestamp per key wins, an
 * empty value removes. With 'validate' the merged result must pass
 * db_meta_validate() or nothing is written and -EINVAL returned. */
int contdb_update_metadata(struct contdb *db, const struct db_meta *updates,
                           bool validate);

/* Merges object rows as Swift's merge_items: per name, the newer data
 * timestamp gives size/etag/deleted, the newer content-type timestamp the
 * content type, the newer meta timestamp last_modified; rows that change
 * nothing are not written. Rows and stats go in one batch; with
 * 'flags' KVDB_SYNC it is durable on return. Returns 0, -ENOENT (no DB),
 * -EINVAL (name empty or over CONTDB_MAX_NAME_LEN, or a damaged stored
 * row), -EIO, -ENOMEM. Names are not checked for UTF-8: the server
 * rejects bad names (412) before they get here. */
int contdb_merge_objects(struct contdb *db, const struct contdb_object *objs,
                         size_t n, unsigned flags);
int contdb_put_object(struct contdb *db, const struct contdb_object *obj,
                      unsigned flags);
/* A deleted row as Swift writes it: size 0, "application/deleted",
 * "noetag". */
int contdb_delete_object(struct contdb *db, const char *name, size_t name_len,
                         const struct db_ts *ts, uint32_t storage_policy_index,
                         unsigned flags);

/* Reads one row, deleted or not. Strings in 'out' point into '*buf',
 * which the caller frees with free(). Returns 0, -ENOENT, -EIO, -EINVAL. */
int contdb_get_object(struct contdb *db, const char *name, size_t name_len,
                      struct contdb_object *out, void **buf);

/* The listing of a container GET (not deleted, the container's policy).
 * Returns 0, -ENOENT (no DB), -EINVAL (bad parameters), -EIO, -ENOMEM. */
int contdb_list(struct contdb *db, const struct listing_params *p,
                struct listing *out);

/* Rows written after sequence 'since', oldest first, deleted ones
 * included: the replicator's feed. Calls 'fn' per row (strings borrowed
 * for the call) until 'limit' rows or fn returns non-zero. Returns 0,
 * fn's value, -EIO, -EINVAL, -ENOMEM. */
int contdb_changes_since(struct contdb *db, uint64_t since, size_t limit,
                         int (*fn)(const struct contdb_object *obj, void *arg),
                         void *arg);

/* Drops deleted rows whose created_at is older than 'age' (now minus
 * reclaim_age) and removed metadata keys older than it. Sets *reclaimed
 * (may be NULL) to the number of rows dropped. */
int contdb_reclaim(struct contdb *db, const struct db_ts *age,
                   size_t *reclaimed);

/* Removes every key of the DB (a reclaimed deleted DB, a reverted
 * handoff). */
int contdb_destroy(struct contdb *db);

/* The auditor's check (dbbroker_audit()): the whole DB read with
 * LevelDB's checksums verified, every record decoded, and whether
 * object_count and bytes_used are the sums over the undeleted rows. Returns 0
 * (see *out), -ENOENT, -EBADMSG (corrupt), -EIO, -ENOMEM; release 'info'
 * whatever the return. */
int contdb_audit(struct contdb *db, struct contdb_info *info,
                 struct dbbroker_audit *out);
/* Rewrites the stats as the sums over the rows (dbbroker_repair_stats()):
 * for stats an audit found wrong while every record decoded. */
int contdb_repair_stats(struct contdb *db);

#endif
