/*
 * acctdb.h - account databases: one logical DB per account in the
 * device's accounts.ldb (kvdb.h), keyed by partition and the account's
 * hash like container DBs (doc/container-format.md). A DB holds the
 * account's info and metadata, its stats (container_count, object_count,
 * bytes_used) and one row per container as container servers report it.
 *
 * Rows and stats change in one write batch: stats are the sums over rows
 * as Swift's account triggers keep them (container_count counts rows with
 * deleted = 0, object_count and bytes_used add every row), in total and
 * per storage policy (Swift's policy_stat: a policy's entry appears with
 * its first row and stays, at zero, once its rows are gone).
 *
 * Thread safety as contdb.h: writers serialise on kvdb_lock().
 */
#ifndef STORAGE_ACCTDB_H
#define STORAGE_ACCTDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/dbbroker.h"
#include "storage/dbenc.h"
#include "storage/dbmeta.h"
#include "storage/kvdb.h"
#include "storage/listing.h"

#define ACCTDB_MAX_NAME_LEN 256 /* max_container_name_length */
#define ACCTDB_MAX_POLICIES 64  /* policies with rows in one account */

struct acctdb {
    struct kvdb *kv;
    unsigned char prefix[DB_KEY_PREFIX_LEN];
};

void acctdb_init(struct acctdb *db, struct kvdb *kv, uint32_t part,
                 const unsigned char hash[16]);

/* One storage policy's share of the stats (Swift's policy_stat row). */
struct acctdb_policy_stats {
    uint32_t index;
    int64_t container_count;
    int64_t object_count;
    int64_t bytes_used;
};

struct acctdb_info {
    char *account;
    struct db_ts created_at;
    struct db_ts put_timestamp;
    struct db_ts delete_timestamp;
    struct db_ts status_changed_at;
    bool status_deleted; /* Swift's status 'DELETED' (after delete_db) */
    int64_t container_count;
    int64_t object_count;
    int64_t bytes_used;
    uint64_t max_row;
    size_t n_policies; /* policies[] in index order */
    struct acctdb_policy_stats policies[ACCTDB_MAX_POLICIES];
    char id[DB_ID_LEN];
    struct db_meta meta;
};

void acctdb_info_release(struct acctdb_info *info);

/* Swift's AccountBroker.is_deleted(): status DELETED, or no containers
 * and deleted after the last PUT. */
bool acctdb_info_is_deleted(const struct acctdb_info *info);

/* A container row as a container server reports it (PUT to
 * /dev/part/account/container with X-Put-Timestamp, X-Delete-Timestamp,
 * X-Object-Count, X-Bytes-Used, X-Backend-Storage-Policy-Index). 'deleted'
 * and 'seq' are outputs. */
struct acctdb_container {
    const char *name;
    size_t name_len;
    struct db_ts put_timestamp;
    struct db_ts delete_timestamp;
    int64_t object_count;
    int64_t bytes_used;
    uint32_t storage_policy_index;
    bool deleted;
    uint64_t seq;
};

int acctdb_create(struct acctdb *db, const char *account,
                  const struct db_ts *ts);
int acctdb_get_info(struct acctdb *db, struct acctdb_info *out);
int acctdb_update_put_timestamp(struct acctdb *db, const struct db_ts *ts,
                                bool *revived);
/* Marks the account deleted (status DELETED, delete_timestamp). */
int acctdb_delete_db(struct acctdb *db, const struct db_ts *ts);
int acctdb_update_metadata(struct acctdb *db, const struct db_meta *updates,
                           bool validate);

/* Swift's put_container()/merge_items(): the newer of the stored and the
 * reported put_timestamp and delete_timestamp are kept (an older report
 * never rolls a timestamp back), counts are the report's, and the row is
 * deleted when delete_timestamp > put_timestamp and object_count is 0.
 * Returns 0, -ENOENT (no account DB), -EINVAL (also: a row of one policy
 * more than ACCTDB_MAX_POLICIES), -EIO, -ENOMEM. */
int acctdb_merge_containers(struct acctdb *db,
                            const struct acctdb_container *rows, size_t n,
                            unsigned flags);
int acctdb_put_container(struct acctdb *db, const struct acctdb_container *c,
                         unsigned flags);
/* Reads one row; out->name points into '*buf' (free with free()). */
int acctdb_get_container(struct acctdb *db, const char *name, size_t name_len,
                         struct acctdb_container *out, void **buf);

/* The account GET listing (rows with deleted = 0); 'path' is ignored. */
int acctdb_list(struct acctdb *db, const struct listing_params *p,
                struct listing *out);

int acctdb_changes_since(struct acctdb *db, uint64_t since, size_t limit,
                         int (*fn)(const struct acctdb_container *c, void *arg),
                         void *arg);
/* Drops deleted rows whose delete_timestamp is older than 'age' and
 * removed metadata keys older than it. */
int acctdb_reclaim(struct acctdb *db, const struct db_ts *age,
                   size_t *reclaimed);
int acctdb_destroy(struct acctdb *db);

/* The auditor's check (dbbroker_audit()): the whole DB read with
 * LevelDB's checksums verified, every record decoded, and whether
 * container_count, object_count and bytes_used, in total and per policy, are
 * the sums over the rows. Returns 0 (see *out), -ENOENT, -EBADMSG (corrupt),
 * -EIO, -ENOMEM; release 'info' whatever the return. */
int acctdb_audit(struct acctdb *db, struct acctdb_info *info,
                 struct dbbroker_audit *out);
/* Rewrites the stats as the sums over the rows (dbbroker_repair_stats()):
 * for stats an audit found wrong while every record decoded. */
int acctdb_repair_stats(struct acctdb *db);

#endif
