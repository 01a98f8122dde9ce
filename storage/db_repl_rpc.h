/*
 * db_repl_rpc.h - the exchange of container and account replication
 * (doc/replication.md §5): the JSON forms of a DB's info, rows and sync
 * points, and what each REPLICATE operation does to the receiving DB, as
 * Swift's ReplicatorRpc. The sender is db_replicator.c, the HTTP glue
 * db_repl_server.c; this file is the logic both share, without HTTP.
 *
 * What differs between container and account DBs is a struct
 * db_repl_type (db_repl_container, db_repl_account): how their info and
 * rows read, write and merge, always through contdb.h / acctdb.h, so rows
 * merged from a peer keep the newest timestamps and the stats right.
 *
 * Thread safety: as contdb.h; every function works on one request's or
 * one pass's data.
 */
#ifndef STORAGE_DB_REPL_RPC_H
#define STORAGE_DB_REPL_RPC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/dbenc.h"
#include "storage/dbmeta.h"
#include "storage/kvdb.h"

/* A REPLICATE body is at most this long (413 past it); a sender keeps
 * each merge_items under half of it. */
#define DB_REPL_MAX_BODY (16u << 20)
/* Rows in one merge_items; sync points in one merge_syncs. */
#define DB_REPL_MAX_ROWS 10000
#define DB_REPL_MAX_SYNCS 1024

/* One DB: its device's LevelDB, partition and path hash. */
struct db_repl_db {
    struct kvdb *kv;
    uint32_t part;
    unsigned char hash[16];
    unsigned char prefix[DB_KEY_PREFIX_LEN];
};

void db_repl_db_init(struct db_repl_db *db, struct kvdb *kv, uint32_t part,
                     const unsigned char hash[16]);

/* What the replicator needs of a DB's info, whatever its kind, and the
 * info as "sync" and "complete" send it ('json', owned). */
struct db_repl_info {
    char id[DB_ID_LEN];
    int64_t max_row;
    struct db_ts put_timestamp, delete_timestamp;
    int64_t count; /* objects of a container, containers of an account */
    bool deleted;  /* Swift's is_deleted() */
    bool reported; /* the account servers have the container's current
                    * stats (Swift's report_up_to_date); accounts: true */
    json_t *json;
};

void db_repl_info_release(struct db_repl_info *info);

struct db_repl_type {
    const char *name; /* "container", "account": rings, recon, sections */
    /* Reads the info: 0, -ENOENT (no DB), -EIO, -EINVAL, -ENOMEM. */
    int (*read_info)(const struct db_repl_db *db, struct db_repl_info *out);
    /* Creates the DB from a peer's info: its names, created_at and policy
     * (db_repl_merge_info() does the rest). -EEXIST when there is one,
     * -EINVAL for an info without them. */
    int (*create)(const struct db_repl_db *db, json_t *info);
    /* Appends to 'rows' the JSON form of the rows written after sequence
     * 'since', oldest first, until 'limit' rows or about 'max_bytes' of
     * JSON; sets *last to the sequence of the last one appended. */
    int (*rows_since)(const struct db_repl_db *db, int64_t since, size_t limit,
                      size_t max_bytes, json_t *rows, int64_t *last);
    /* Merges rows in the JSON form (synced on return): -EINVAL for a
     * malformed one (nothing written). Sets *max_rowid to the largest
     * "ROWID" among them. */
    int (*merge_rows)(const struct db_repl_db *db, json_t *rows,
                      int64_t *max_rowid);
    int (*update_metadata)(const struct db_repl_db *db,
                           const struct db_meta *m);
    int (*update_put_timestamp)(const struct db_repl_db *db,
                                const struct db_ts *ts);
    int (*delete_db)(const struct db_repl_db *db, const struct db_ts *ts);
    /* Drops deleted rows and metadata tombstones older than 'age'. */
    int (*reclaim)(const struct db_repl_db *db, const struct db_ts *age,
                   size_t *reclaimed);
};

extern const struct db_repl_type db_repl_container;
extern const struct db_repl_type db_repl_account;

/* Merges a peer's info into the DB as Swift's sync does: metadata key by
 * key (newest timestamp wins, no limits checked: the peer took them),
 * put_timestamp and delete_timestamp to the newer of the two. Returns 0,
 * -EINVAL (malformed info: nothing written), -ENOENT, -EIO, -ENOMEM.
 * NEEDSWORK: created_at is not lowered to the peer's (Swift's MIN), and
 * a newer delete_timestamp goes through delete_db, which also sets
 * status_changed_at and removes the metadata keys older than it: contdb.h
 * and acctdb.h have no call that merges bare timestamps in one write. */
int db_repl_merge_info(const struct db_repl_type *t,
                       const struct db_repl_db *db, json_t *info);

/* The metadata's JSON form, {"key": ["value", "timestamp"], ...} with
 * removed keys (value "") included, and back. Parsing returns -EINVAL for
 * anything else (and for NUL in a key or value). */
json_t *db_repl_meta_json(const struct db_meta *m);
int db_repl_meta_parse(json_t *j, struct db_meta *out);

/* The DB's incoming sync points as merge_syncs sends them:
 * [{"remote_id": id, "sync_point": n}, ...], at most DB_REPL_MAX_SYNCS.
 * NULL when out of memory or on a read error. */
json_t *db_repl_incoming_syncs(const struct db_repl_db *db);

/* Runs one REPLICATE request's operation on the DB, the parsed body in
 * 'args' (["sync", info], ["complete", info], ["merge_items", rows, id],
 * ["merge_syncs", syncs]). Sets *resp (NULL or a JSON body the caller
 * decrefs) and returns the status: 200 with the DB's info and "point"
 * (our incoming sync point for the sender's id) for sync, 201 (created)
 * or 200 with the same for complete, 202 for merge_items and merge_syncs,
 * 404 when the DB does not exist (all but complete), 400 for a
 * malformed body ('why' says what), or -errno (-EIO, -ENOMEM). */
int db_repl_rpc(const struct db_repl_type *t, const struct db_repl_db *db,
                json_t *args, json_t **resp, const char **why);

/* JSON helpers the sender shares: a timestamp's internal form, and
 * member 'key' of 'obj' as a timestamp (-EINVAL when missing or bad). */
json_t *db_repl_ts_json(const struct db_ts *ts);
int db_repl_get_ts(json_t *obj, const char *key, struct db_ts *out);

#endif /* STORAGE_DB_REPL_RPC_H */
