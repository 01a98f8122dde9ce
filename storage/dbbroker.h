/*
 * dbbroker.h - what account and container DBs (acctdb.h, contdb.h) have
 * in common, as Swift's DatabaseBroker underlies its AccountBroker and
 * ContainerBroker: the keys under a DB's prefix (doc/container-format.md),
 * the info and stats records read together, the info changes every DB
 * has (create, put timestamp, delete, metadata), batches of row changes
 * that rewrite the stats, the change feed and reclaim.
 *
 * What the records hold is the caller's: a struct dbbroker_type encodes,
 * decodes and releases its info struct (info and stats are one struct,
 * as contdb_info and acctdb_info are) and points at the fields every DB
 * has. Rows are the caller's too; this file keeps their keys and their
 * feed entries.
 *
 * Invariants (the callers' files repeat the ones that are theirs):
 * 1. Every change of rows rewrites stats in the same batch, under
 *    kvdb_lock() of the DB's prefix; so do info changes.
 * 2. Each row written takes the next sequence (stats' max_row + 1, the
 *    caller's to count) and one DB_KEY_SEQ entry naming it; the entry of
 *    the row it replaces goes in the same batch.
 * 3. Info changes are synced before returning; row batches when asked
 *    with KVDB_SYNC, after the lock is released, so that concurrent
 *    updates share one fsync (kvdb.h).
 *
 * Thread safety: a struct dbbroker is a small value any thread may use;
 * writers of one DB serialise on kvdb_lock(), readers never wait.
 */
#ifndef STORAGE_DBBROKER_H
#define STORAGE_DBBROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/dbenc.h"
#include "storage/dbmeta.h"
#include "storage/kvdb.h"

/* The fields every DB's info has, pointing into one info struct. */
struct dbbroker_fields {
    char *id; /* DB_ID_LEN */
    struct db_ts *put_timestamp;
    struct db_ts *delete_timestamp;
    struct db_ts *status_changed_at;
    struct db_meta *meta;
    bool *status_deleted; /* NULL: not kept (containers) */
};

/* An info struct's type. A zeroed struct of info_size bytes is empty. */
struct dbbroker_type {
    size_t info_size;
    void (*encode_info)(const void *info, struct dbenc *e);
    int (*decode_info)(const void *p, size_t n, void *info);
    void (*encode_stats)(const void *info, struct dbenc *e);
    int (*decode_stats)(const void *p, size_t n, void *info);
    void (*release)(void *info); /* frees the contents and zeroes it */
    void (*fields)(void *info, struct dbbroker_fields *out);
    bool (*is_deleted)(const void *info); /* Swift's is_deleted() */
};

/* One DB: its device's LevelDB, its key prefix (DB_KEY_PREFIX_LEN bytes,
 * borrowed) and its type. */
struct dbbroker {
    struct kvdb *kv;
    const unsigned char *prefix;
    const struct dbbroker_type *type;
};

/* Key of type 't' followed by 'n' bytes of 'rest', in 'k' (reset). */
void dbbroker_key(const struct dbbroker *b, struct dbenc *k,
                  enum db_key_type t, const void *rest, size_t n);
/* The feed entry of sequence 'seq'. */
void dbbroker_seq_key(const struct dbbroker *b, struct dbenc *k, uint64_t seq);
/* The first key of the DB's rows: its prefix and DB_KEY_ROW. */
#define DBBROKER_ROWS_KEY_LEN (DB_KEY_PREFIX_LEN + 1)
void dbbroker_rows_key(const struct dbbroker *b,
                       unsigned char out[DBBROKER_ROWS_KEY_LEN]);

/* Decodes the replication id of an info record (dbenc_str() of at most
 * DB_ID_LEN - 1 bytes) into 'id'. Returns 0 or -EINVAL. */
int dbbroker_decode_id(struct dbdec *d, char id[DB_ID_LEN]);

/* Reads the key dbbroker_key() makes: kvdb_get()'s returns; free *v with
 * free(). */
int dbbroker_get(const struct dbbroker *b, enum db_key_type t,
                 const void *rest, size_t n, void **v, size_t *vlen);

/* Reads info and stats into 'info' (zeroed first). Returns 0, -ENOENT (no
 * DB), -EIO, -EINVAL (malformed record), -ENOMEM; release 'info' with
 * type->release() whatever the return. */
int dbbroker_get_info(const struct dbbroker *b, void *info);
/* Reads only the stats into 'info'. */
int dbbroker_read_stats(const struct dbbroker *b, void *info);

/* Writes 'info' (its strings borrowed) and its stats as a new DB with a
 * new replication id (in info's id). Returns 0, -EEXIST if there is one,
 * -EIO, -EINVAL, -ENOMEM. */
int dbbroker_create(const struct dbbroker *b, void *info);

/* Reads info, lets 'fn' change it and writes it back if fn returns 1;
 * fn's negative return is returned. */
int dbbroker_update_info(const struct dbbroker *b,
                         int (*fn)(const struct dbbroker *b, void *info,
                                   const void *arg),
                         const void *arg);

/* put_timestamp = max(put_timestamp, ts); if that revives a deleted DB,
 * status_changed_at becomes 'ts' and *revived (may be NULL) true. */
int dbbroker_update_put_timestamp(const struct dbbroker *b,
                                  const struct db_ts *ts, bool *revived);
/* Swift's delete_db(): every metadata key removed at 'ts',
 * delete_timestamp = max(it, ts), status_changed_at = ts, status DELETED
 * where it is kept. */
int dbbroker_delete_db(const struct dbbroker *b, const struct db_ts *ts);
/* Merges 'updates' into the metadata, newest timestamp per key wins; with
 * 'validate' the merged map must pass db_meta_validate() or nothing is
 * written and -EINVAL returned. */
int dbbroker_update_metadata(const struct dbbroker *b,
                             const struct db_meta *updates, bool validate);

/* A batch of row changes in progress, under the DB's lock. */
struct dbbroker_batch {
    const struct dbbroker *b;
    struct kvdb_batch *kb;
    struct dbenc k, v; /* the row's key, its value */
    void *info;        /* the stats the rows change */
    void *arg;         /* the caller's */
};

/* Merges 'n' rows of 'size' bytes at 'rows' in one batch with the stats
 * they change (read into 'stats', a zeroed info struct, and kept in
 * mb->info), calling merge() per row; a name that comes twice splits
 * the batch, as LevelDB cannot read a pending one. 'name' gives a row's
 * name. With 'flags' KVDB_SYNC the rows are durable on return. Returns 0
 * or merge()'s or LevelDB's -errno (nothing of that batch written). */
int dbbroker_merge_rows(const struct dbbroker *b, void *stats,
                        const void *rows, size_t n, size_t size,
                        void (*name)(const void *row, const char **p,
                                     size_t *len),
                        int (*merge)(struct dbbroker_batch *mb,
                                     const void *row),
                        void *arg, unsigned flags);

/* In merge(): reads the stored row of 'name' (its key left in mb->k):
 * kvdb_get()'s returns. */
int dbbroker_batch_get_row(struct dbbroker_batch *mb, const char *name,
                           size_t len, void **v, size_t *vlen);
/* In merge(): the replaced row's feed entry goes. */
void dbbroker_batch_drop_seq(struct dbbroker_batch *mb, uint64_t seq);
/* In merge(): puts the row encoded in mb->v under the key in mb->k and
 * its feed entry for 'seq'. Returns 0 or -ENOMEM. */
int dbbroker_batch_put_row(struct dbbroker_batch *mb, const char *name,
                           size_t len, uint64_t seq);
/* Puts the stats of mb->info. */
int dbbroker_batch_put_stats(struct dbbroker_batch *mb);

/* Rows written after sequence 'since', oldest first, deleted ones
 * included: calls fn(name) per row until 'limit' rows or fn returns
 * non-zero. Returns 0, fn's value, -EIO, -ENOMEM. */
int dbbroker_changes_since(const struct dbbroker *b, uint64_t since,
                           size_t limit,
                           int (*fn)(const char *name, size_t len, void *arg),
                           void *arg);

/* Drops, in one batch under the lock, every row for which drop() returns
 * 1 (setting *seq to its sequence; negative: an error that stops it), with its feed entry; when any went,
 * finish() (may be NULL) adds to the batch (the stats) before it is
 * written. Then drops removed metadata keys older than 'age'. Sets
 * *reclaimed (may be NULL) to the number of rows dropped. */
int dbbroker_reclaim(const struct dbbroker *b, const struct db_ts *age,
                     int (*drop)(const void *val, size_t vlen,
                                 const struct db_ts *age, uint64_t *seq,
                                 void *arg),
                     int (*finish)(struct dbbroker_batch *mb, void *arg),
                     void *arg, size_t *reclaimed);

/* ---- audit (Swift's auditors' get_info, made thorough) ---- */

/* The rows' side of an audit: what a row adds to the stats. */
struct dbbroker_audit_ops {
    /* Starts the recount in 'sum' (a zeroed info struct) from the stored
     * 'info': counts zero, max_row and whatever rows cannot show (an
     * account's policies whose rows are gone) kept. */
    void (*start)(void *sum, const void *info);
    /* Adds one row's value to 'sum' and sets *seq to its sequence:
     * -EINVAL when it does not decode. */
    int (*add_row)(void *sum, const void *val, size_t vlen, uint64_t *seq);
    uint64_t (*max_row)(const void *info); /* the stats' last sequence */
};

struct dbbroker_audit {
    size_t rows, feed; /* row and feed entries read */
    bool stats_ok;     /* the stored stats are the sums over the rows */
    bool feed_ok;      /* one feed entry per row, none past max_row */
};

/* Reads the whole DB from one snapshot with LevelDB's checksums verified
 * (kvdb_iter_new_verified()): info and stats into 'info' (release with
 * type->release() whatever the return), every row through ops->add_row,
 * every sync point and feed entry. Returns 0 with *out saying whether
 * stats and feed agree with the rows, -ENOENT (no DB), -EBADMSG (the DB
 * is corrupt: a checksum, a record that does not decode, info without
 * stats, a key of no known type), -EIO (a read error, which may pass) or
 * -ENOMEM. */
int dbbroker_audit(const struct dbbroker *b,
                   const struct dbbroker_audit_ops *ops, void *info,
                   struct dbbroker_audit *out);

/* Rewrites the stats as the sums over the rows, counted again under the
 * DB's lock (writers wait for the count): what an audit whose stats did
 * not agree calls. Synced. Returns 0 (also when they agree by now),
 * dbbroker_audit()'s errors. */
int dbbroker_repair_stats(const struct dbbroker *b,
                          const struct dbbroker_audit_ops *ops);

#endif /* STORAGE_DBBROKER_H */
