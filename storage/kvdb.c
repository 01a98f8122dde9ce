/*
 * kvdb.c - owns the LevelDB handles of a device's container or account
 * databases and translates LevelDB's C API into our conventions: malloc()ed
 * copies, negative errnos, error strings freed here and nowhere else.
 *
 * The key layout inside the LevelDB belongs to contdb.c and acctdb.c (see
 * doc/container-format.md); this file knows nothing about it.
 */
#include "storage/kvdb.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <leveldb/c.h>

#include "common/log.h"

#define KVDB_LOCKS 64

struct kvdb_cache {
    leveldb_cache_t *lru;
};

struct kvdb {
    leveldb_t *db;
    leveldb_options_t *options;
    leveldb_cache_t *cache; /* own; NULL with a shared one */
    leveldb_filterpolicy_t *filter;
    leveldb_readoptions_t *ropts;
    leveldb_readoptions_t *ropts_verify; /* kvdb_iter_new_verified() */
    leveldb_writeoptions_t *wopts;
    leveldb_writeoptions_t *wopts_sync;
    leveldb_writebatch_t *empty; /* kvdb_sync()'s batch, never changed */
    pthread_mutex_t locks[KVDB_LOCKS];
    char *path;
};

struct kvdb_batch {
    leveldb_writebatch_t *wb;
    size_t count;
};

struct kvdb_iter {
    leveldb_iterator_t *it;
    struct kvdb *db;
    int status;
    bool verified; /* corruption is -EBADMSG, not -EIO */
};

/* Logs and frees a LevelDB error string. No request context here: the
 * server logs the failed request again with its txn id. */
static void log_leveldb(const char *what, const char *path, char *lerr)
{
    log_msg(LOG_ERR, "cannot %s '%s': %s", what, path,
            lerr ? lerr : "unknown error");
    leveldb_free(lerr);
}

/* LevelDB's messages are the only way to tell its failures apart. */
static int err_from_leveldb(const char *lerr)
{
    if (strstr(lerr, "lock") || strstr(lerr, "Resource temporarily"))
        return -EBUSY;
    if (strstr(lerr, "exists (error_if_exists"))
        return -EEXIST;
    return -EIO;
}

struct kvdb_cache *kvdb_cache_new(uint64_t bytes)
{
    struct kvdb_cache *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->lru = leveldb_cache_create_lru((size_t)bytes);
    if (!c->lru) {
        free(c);
        return NULL;
    }
    return c;
}

void kvdb_cache_free(struct kvdb_cache *cache)
{
    if (!cache)
        return;
    leveldb_cache_destroy(cache->lru);
    free(cache);
}

int kvdb_open(const char *path, const struct kvdb_opts *opts, struct kvdb **out)
{
    struct kvdb_opts o = {0};
    struct kvdb *db;
    char *lerr = NULL;
    int err;

    *out = NULL;
    if (opts)
        o = *opts;
    db = calloc(1, sizeof(*db));
    if (!db)
        return -ENOMEM;
    for (int i = 0; i < KVDB_LOCKS; i++)
        pthread_mutex_init(&db->locks[i], NULL);
    db->path = strdup(path);
    db->options = leveldb_options_create();
    if (!o.cache)
        db->cache = leveldb_cache_create_lru(
            o.cache_bytes ? (size_t)o.cache_bytes : 8u << 20);
    db->filter = leveldb_filterpolicy_create_bloom(10);
    db->ropts = leveldb_readoptions_create();
    db->ropts_verify = leveldb_readoptions_create();
    db->wopts = leveldb_writeoptions_create();
    db->wopts_sync = leveldb_writeoptions_create();
    db->empty = leveldb_writebatch_create();
    if (!db->empty || !db->path || !db->options || (!db->cache && !o.cache) ||
        !db->filter || !db->ropts || !db->ropts_verify || !db->wopts ||
        !db->wopts_sync) {
        kvdb_close(db);
        return -ENOMEM;
    }
    leveldb_writeoptions_set_sync(db->wopts_sync, 1);
    /* an audit reads every block once: check it, keep it out of the
     * cache the requests use */
    leveldb_readoptions_set_verify_checksums(db->ropts_verify, 1);
    leveldb_readoptions_set_fill_cache(db->ropts_verify, 0);
    leveldb_options_set_create_if_missing(db->options, 1);
    leveldb_options_set_error_if_exists(db->options, o.error_if_exists);
    leveldb_options_set_cache(db->options, o.cache ? o.cache->lru : db->cache);
    leveldb_options_set_filter_policy(db->options, db->filter);
    leveldb_options_set_write_buffer_size(
        db->options,
        o.write_buffer_bytes ? (size_t)o.write_buffer_bytes : 8u << 20);
    leveldb_options_set_max_open_files(
        db->options, o.max_open_files ? (int)o.max_open_files : 500);
    db->db = leveldb_open(db->options, path, &lerr);
    if (!db->db) {
        err = lerr ? err_from_leveldb(lerr) : -EIO;
        log_leveldb("open", path, lerr);
        kvdb_close(db);
        return err;
    }
    *out = db;
    return 0;
}

void kvdb_close(struct kvdb *db)
{
    if (!db)
        return;
    if (db->db)
        leveldb_close(db->db);
    /* The options refer to the cache and filter: free them first. */
    if (db->options)
        leveldb_options_destroy(db->options);
    if (db->cache)
        leveldb_cache_destroy(db->cache);
    if (db->filter)
        leveldb_filterpolicy_destroy(db->filter);
    if (db->ropts)
        leveldb_readoptions_destroy(db->ropts);
    if (db->ropts_verify)
        leveldb_readoptions_destroy(db->ropts_verify);
    if (db->wopts)
        leveldb_writeoptions_destroy(db->wopts);
    if (db->wopts_sync)
        leveldb_writeoptions_destroy(db->wopts_sync);
    if (db->empty)
        leveldb_writebatch_destroy(db->empty);
    for (int i = 0; i < KVDB_LOCKS; i++)
        pthread_mutex_destroy(&db->locks[i]);
    free(db->path);
    free(db);
}

int kvdb_get(struct kvdb *db, const void *key, size_t klen, void **val,
             size_t *vlen)
{
    char *lerr = NULL;
    size_t len = 0;
    char *v, *copy;

    *val = NULL;
    *vlen = 0;
    v = leveldb_get(db->db, db->ropts, key, klen, &len, &lerr);
    if (lerr) {
        log_leveldb("read", db->path, lerr);
        return -EIO;
    }
    if (!v)
        return -ENOENT;
    /* Copy so that callers free with free(), whatever leveldb_free is. */
    copy = malloc(len + 1);
    if (copy) {
        memcpy(copy, v, len);
        copy[len] = '\0';
    }
    leveldb_free(v);
    if (!copy)
        return -ENOMEM;
    *val = copy;
    *vlen = len;
    return 0;
}

static pthread_mutex_t *lock_of(struct kvdb *db, const void *scope, size_t n)
{
    const unsigned char *p = scope;
    uint32_t h = 2166136261u; /* FNV-1a */

    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return &db->locks[h % KVDB_LOCKS];
}

void kvdb_lock(struct kvdb *db, const void *scope, size_t n)
{
    pthread_mutex_lock(lock_of(db, scope, n));
}

void kvdb_unlock(struct kvdb *db, const void *scope, size_t n)
{
    pthread_mutex_unlock(lock_of(db, scope, n));
}

int kvdb_sync(struct kvdb *db)
{
    char *lerr = NULL;

    /* An empty batch still appends a log record and, with sync, fsyncs
     * the log; LevelDB lets concurrent writers share that fsync. */
    leveldb_write(db->db, db->wopts_sync, db->empty, &lerr);
    if (lerr) {
        log_leveldb("sync", db->path, lerr);
        return -EIO;
    }
    return 0;
}

struct kvdb_batch *kvdb_batch_new(void)
{
    struct kvdb_batch *b = calloc(1, sizeof(*b));

    if (!b)
        return NULL;
    b->wb = leveldb_writebatch_create();
    if (!b->wb) {
        free(b);
        return NULL;
    }
    return b;
}

void kvdb_batch_free(struct kvdb_batch *b)
{
    if (!b)
        return;
    leveldb_writebatch_destroy(b->wb);
    free(b);
}

void kvdb_batch_put(struct kvdb_batch *b, const void *key, size_t klen,
                    const void *val, size_t vlen)
{
    leveldb_writebatch_put(b->wb, key, klen, val, vlen);
    b->count++;
}

void kvdb_batch_delete(struct kvdb_batch *b, const void *key, size_t klen)
{
    leveldb_writebatch_delete(b->wb, key, klen);
    b->count++;
}

void kvdb_batch_clear(struct kvdb_batch *b)
{
    leveldb_writebatch_clear(b->wb);
    b->count = 0;
}

size_t kvdb_batch_count(const struct kvdb_batch *b)
{
    return b->count;
}

int kvdb_write(struct kvdb *db, struct kvdb_batch *b, unsigned flags)
{
    char *lerr = NULL;

    leveldb_write(db->db, (flags & KVDB_SYNC) ? db->wopts_sync : db->wopts,
                  b->wb, &lerr);
    if (lerr) {
        log_leveldb("write", db->path, lerr);
        return -EIO;
    }
    return 0;
}

static struct kvdb_iter *iter_new(struct kvdb *db, bool verified)
{
    struct kvdb_iter *it = calloc(1, sizeof(*it));

    if (!it)
        return NULL;
    it->db = db;
    it->verified = verified;
    it->it = leveldb_create_iterator(db->db,
                                     verified ? db->ropts_verify : db->ropts);
    if (!it->it) {
        free(it);
        return NULL;
    }
    return it;
}

struct kvdb_iter *kvdb_iter_new(struct kvdb *db)
{
    return iter_new(db, false);
}

struct kvdb_iter *kvdb_iter_new_verified(struct kvdb *db)
{
    return iter_new(db, true);
}

void kvdb_iter_free(struct kvdb_iter *it)
{
    if (!it)
        return;
    leveldb_iter_destroy(it->it);
    free(it);
}

void kvdb_iter_seek(struct kvdb_iter *it, const void *key, size_t klen)
{
    leveldb_iter_seek(it->it, key, klen);
}

void kvdb_iter_seek_before(struct kvdb_iter *it, const void *key, size_t klen)
{
    leveldb_iter_seek(it->it, key, klen);
    if (leveldb_iter_valid(it->it))
        leveldb_iter_prev(it->it);
    else
        leveldb_iter_seek_to_last(it->it);
}

void kvdb_iter_seek_first(struct kvdb_iter *it)
{
    leveldb_iter_seek_to_first(it->it);
}

void kvdb_iter_seek_last(struct kvdb_iter *it)
{
    leveldb_iter_seek_to_last(it->it);
}

bool kvdb_iter_valid(const struct kvdb_iter *it)
{
    return leveldb_iter_valid(it->it);
}

void kvdb_iter_next(struct kvdb_iter *it)
{
    leveldb_iter_next(it->it);
}

void kvdb_iter_prev(struct kvdb_iter *it)
{
    leveldb_iter_prev(it->it);
}

const void *kvdb_iter_key(const struct kvdb_iter *it, size_t *klen)
{
    return leveldb_iter_key(it->it, klen);
}

const void *kvdb_iter_value(const struct kvdb_iter *it, size_t *vlen)
{
    return leveldb_iter_value(it->it, vlen);
}

int kvdb_iter_status(struct kvdb_iter *it)
{
    char *lerr = NULL;

    if (it->status)
        return it->status;
    leveldb_iter_get_error(it->it, &lerr);
    if (lerr) {
        /* LevelDB's Status::ToString(): "Corruption: block checksum
         * mismatch ..." as against "IO error: ..." (which may pass) */
        it->status =
            it->verified && !strncmp(lerr, "Corruption", 10) ? -EBADMSG : -EIO;
        log_leveldb("scan", it->db->path, lerr);
    }
    return it->status;
}

static int key_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);

    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

int kvdb_scan(struct kvdb *db, const void *start, size_t slen, const void *end,
              size_t elen,
              int (*fn)(const void *key, size_t klen, const void *val,
                        size_t vlen, void *arg),
              void *arg)
{
    struct kvdb_iter *it = kvdb_iter_new(db);
    int err = 0;

    if (!it)
        return -ENOMEM;
    for (kvdb_iter_seek(it, start, slen); kvdb_iter_valid(it);
         kvdb_iter_next(it)) {
        size_t klen, vlen;
        const void *k = kvdb_iter_key(it, &klen);
        const void *v = kvdb_iter_value(it, &vlen);

        if (end && key_cmp(k, klen, end, elen) >= 0)
            break;
        err = fn(k, klen, v, vlen, arg);
        if (err)
            break;
    }
    if (!err)
        err = kvdb_iter_status(it);
    kvdb_iter_free(it);
    return err;
}

size_t kvdb_prefix_end(const void *key, size_t klen, unsigned char *out)
{
    memcpy(out, key, klen);
    while (klen > 0) {
        if (out[klen - 1] != 0xff) {
            out[klen - 1]++;
            return klen;
        }
        klen--;
    }
    return 0;
}
