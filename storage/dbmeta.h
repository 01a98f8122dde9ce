/*
 * dbmeta.h - a container's or account's metadata as Swift keeps it: a map
 * from header name to (value, timestamp) where each key is set
 * independently and the newer timestamp wins. An empty value removes the
 * key for readers but stays as a row (so an older set cannot resurrect it)
 * until reclaim drops it after reclaim_age.
 *
 * A zeroed struct db_meta is empty; release with db_meta_release().
 * Not thread-safe: a db_meta belongs to whoever read it.
 */
#ifndef STORAGE_DBMETA_H
#define STORAGE_DBMETA_H

#include <stddef.h>

#include "storage/dbenc.h"

/* Swift's constraints (swift/common/constraints.py defaults). */
#define DB_META_MAX_NAME_LENGTH 128
#define DB_META_MAX_VALUE_LENGTH 256
#define DB_META_MAX_COUNT 90
#define DB_META_MAX_OVERALL_SIZE 4096

struct db_meta_item {
    char *key;   /* as the server stores it, e.g. "X-Container-Meta-Color" */
    char *value; /* "" when removed */
    struct db_ts ts;
};

struct db_meta {
    struct db_meta_item *items; /* sorted by key (bytewise) */
    size_t n;
};

void db_meta_release(struct db_meta *m);

/* Sets 'key' to 'value' at 'ts' unless the stored timestamp is the same
 * or newer. Returns 1 if it changed, 0 if not, -ENOMEM. */
int db_meta_set(struct db_meta *m, const char *key, const char *value,
                const struct db_ts *ts);

/* Applies every item of 'updates' with db_meta_set(). Returns how many
 * changed, or -ENOMEM. */
int db_meta_merge(struct db_meta *m, const struct db_meta *updates);

/* The item for 'key' (removed ones included), or NULL. Borrowed. */
const struct db_meta_item *db_meta_get(const struct db_meta *m,
                                       const char *key);

/* Swift's DatabaseBroker.validate_metadata over the whole map: user
 * metadata (X-Container-Meta-*, X-Account-Meta-*, case-insensitive, non-
 * empty) at most DB_META_MAX_COUNT keys and DB_META_MAX_OVERALL_SIZE
 * characters of names (without the prefix) and values. Returns 0 or
 * -EINVAL. Single name/value lengths are the server's check, per header. */
int db_meta_validate(const struct db_meta *m);

/* Drops removed keys whose timestamp is older than 'age'. Returns how
 * many were dropped. */
size_t db_meta_reclaim(struct db_meta *m, const struct db_ts *age);

/* Encoding: varint count, then per item str key, str value, ts. */
void db_meta_encode(const struct db_meta *m, struct dbenc *e);
/* Replaces the contents of 'm'. Returns 0, -EINVAL or -ENOMEM. */
int db_meta_decode(struct db_meta *m, struct dbdec *d);

#endif
