/*
 * kvdb.h - one LevelDB per device per server type (containers.ldb,
 * accounts.ldb), and the only code that touches LevelDB's C API.
 *
 * Everything LevelDB hands back (values, error strings) is copied or freed
 * here, so callers see plain memory and negative errnos. Keys and values
 * are byte strings compared bytewise (LevelDB's default comparator).
 *
 * Thread safety: a kvdb is shared by all request threads; get, iterators
 * and kvdb_write() are safe concurrently (LevelDB serializes writers).
 * A read-modify-write (read a row, write a batch depending on it) takes
 * kvdb_lock() on its scope (e.g. one container's key prefix) around both,
 * so two updates of one container cannot both read the old stats.
 * Batches and iterators belong to one thread.
 *
 * Durability: write unsynced under the lock, unlock, then kvdb_sync().
 * LevelDB's log is sequential, so a sync makes every earlier write
 * durable, and LevelDB groups concurrent writers into one log write and
 * one fsync: many request threads share each fsync (group commit), which
 * a sync under the lock would prevent.
 */
#ifndef STORAGE_KVDB_H
#define STORAGE_KVDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/conf.h"

struct kvdb;       /* opaque */
struct kvdb_batch; /* opaque */
struct kvdb_iter;  /* opaque */
struct kvdb_cache; /* opaque: a block cache several DBs may share */

/* Memory. A DB holds its memtable (up to write_buffer_bytes, twice that
 * while one is written out), the blocks in its block cache and, for each
 * open table file (at most max_open_files), its index and bloom filter. */
struct kvdb_opts {
    uint64_t cache_bytes;        /* own block cache; 0: 8 MiB */
    uint64_t write_buffer_bytes; /* memtable; 0: 8 MiB */
    unsigned int max_open_files; /* 0: 500 */
    /* Borrowed; used instead of an own cache of cache_bytes when set. */
    struct kvdb_cache *cache;
    bool error_if_exists; /* tests */
};

/* Rows for a server's option table (conf.h): its DBs share one block
 * cache of db_cache_size (the server makes it with kvdb_cache_new()). */
#define KVDB_CONF_OPTIONS(T, m)                                                \
    CONF_SIZE("db_cache_size", T, m.cache_bytes, 8388608, 65536,               \
              UINT64_C(1) << 40),                                              \
        CONF_SIZE("db_write_buffer_size", T, m.write_buffer_bytes, 2097152,    \
                  65536, UINT64_C(1) << 30),                                   \
        CONF_UINT("db_max_open_files", T, m.max_open_files, 500, 20, 1000000)

/* A block cache of 'bytes' for kvdb_opts.cache; NULL when out of memory.
 * Free it after closing every DB that uses it (NULL is fine). */
struct kvdb_cache *kvdb_cache_new(uint64_t bytes);
void kvdb_cache_free(struct kvdb_cache *cache);

enum kvdb_write_flags {
    /* fsync the log before returning. A sync costs ~0.25 ms here, so a
     * server groups concurrent updates into one synced batch. */
    KVDB_SYNC = 1 << 0,
};

/* Opens (creating if missing) the LevelDB directory at 'path'; 'opts' may
 * be NULL. On success returns 0 and sets *out (close with kvdb_close()).
 * On failure returns -EIO (corrupt or unreadable), -EBUSY (locked by
 * another process), -EEXIST (error_if_exists) or -ENOMEM, logs LevelDB's
 * reason, and sets *out to NULL. */
int kvdb_open(const char *path, const struct kvdb_opts *opts,
              struct kvdb **out);
void kvdb_close(struct kvdb *db); /* NULL is fine */

/* Reads the value of 'key'. On success returns 0 and sets *val to a
 * malloc()ed copy (free with free(); NUL-terminated for convenience, the
 * NUL not counted in *vlen). Returns -ENOENT when absent, -EIO on a read
 * error; *val is then NULL. */
int kvdb_get(struct kvdb *db, const void *key, size_t klen, void **val,
             size_t *vlen);

/* Serializes read-modify-write sequences on the same 'scope' bytes (one
 * of 64 mutexes, chosen by a hash of the scope; unrelated scopes rarely
 * share one). Unlock with the same scope. Not recursive. */
void kvdb_lock(struct kvdb *db, const void *scope, size_t n);
void kvdb_unlock(struct kvdb *db, const void *scope, size_t n);

/* Makes every write that returned before the call durable (fsyncs the
 * log, shared with concurrent callers). Returns 0 or -EIO. */
int kvdb_sync(struct kvdb *db);

/* A write batch: puts and deletes applied atomically by kvdb_write(), in
 * order (a later put of a key wins over an earlier one). */
struct kvdb_batch *kvdb_batch_new(void);    /* NULL: out of memory */
void kvdb_batch_free(struct kvdb_batch *b); /* NULL is fine */
void kvdb_batch_put(struct kvdb_batch *b, const void *key, size_t klen,
                    const void *val, size_t vlen);
void kvdb_batch_delete(struct kvdb_batch *b, const void *key, size_t klen);
void kvdb_batch_clear(struct kvdb_batch *b);
size_t kvdb_batch_count(const struct kvdb_batch *b); /* puts + deletes */

/* Applies 'b' atomically; 'flags' from enum kvdb_write_flags. Returns 0 or
 * -EIO (LevelDB's reason is logged). The batch is left as it was. */
int kvdb_write(struct kvdb *db, struct kvdb_batch *b, unsigned flags);

/* Iterators see a consistent snapshot taken at kvdb_iter_new(). Keys and
 * values returned are borrowed until the next move or kvdb_iter_free(). */
struct kvdb_iter *kvdb_iter_new(struct kvdb *db); /* NULL: no memory */
void kvdb_iter_free(struct kvdb_iter *it);        /* NULL is fine */
/* An iterator for audits: every block it reads from a table file is
 * checked against its checksum, and kept out of the block cache. A
 * block already in the cache (read by a request) is not read again.
 * kvdb_iter_status() tells corruption (a checksum or a block's format
 * wrong: -EBADMSG) from read errors (-EIO), which may pass. */
struct kvdb_iter *kvdb_iter_new_verified(struct kvdb *db); /* NULL: no mem */
void kvdb_iter_seek(struct kvdb_iter *it, const void *key, size_t klen);
/* Positions at the last key < 'key' (the start of a reverse scan). */
void kvdb_iter_seek_before(struct kvdb_iter *it, const void *key, size_t klen);
void kvdb_iter_seek_first(struct kvdb_iter *it);
void kvdb_iter_seek_last(struct kvdb_iter *it);
bool kvdb_iter_valid(const struct kvdb_iter *it);
void kvdb_iter_next(struct kvdb_iter *it);
void kvdb_iter_prev(struct kvdb_iter *it);
const void *kvdb_iter_key(const struct kvdb_iter *it, size_t *klen);
const void *kvdb_iter_value(const struct kvdb_iter *it, size_t *vlen);
/* 0, or -EIO (-EBADMSG: see kvdb_iter_new_verified()) if the scan stopped
 * on an error (logged once). */
int kvdb_iter_status(struct kvdb_iter *it);

/* Calls 'fn' for each key in [start, end) in order, stopping early when it
 * returns non-zero (which is returned). 'end' NULL means to the end.
 * Returns 0, fn's value or -EIO/-ENOMEM. */
int kvdb_scan(struct kvdb *db, const void *start, size_t slen, const void *end,
              size_t elen,
              int (*fn)(const void *key, size_t klen, const void *val,
                        size_t vlen, void *arg),
              void *arg);

/* Sets 'out' (at least klen + 1 bytes) to the smallest key greater than
 * every key that starts with 'key' and returns its length, 0 if there is
 * none (all bytes 0xff): the end of a prefix range. */
size_t kvdb_prefix_end(const void *key, size_t klen, unsigned char *out);

#endif
