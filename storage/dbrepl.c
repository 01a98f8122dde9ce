/*
 * dbrepl.c - partition walks and sync points for the replicators. Sync
 * points live under the DB's prefix (doc/container-format.md, key type
 * 0x03): prefix, 0x03, 'i' or 'o', the peer's replication id; the value
 * is an svarint. dbrepl_destroy() removes them with the rest of the DB.
 */
#include "storage/dbrepl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int dbrepl_walk_partition(struct kvdb *kv, uint32_t part,
                          int (*fn)(const unsigned char hash[16], void *arg),
                          void *arg)
{
    struct kvdb_iter *it = kvdb_iter_new(kv);
    unsigned char start[4] = {part >> 24, part >> 16, part >> 8, part};
    unsigned char next[DB_KEY_PREFIX_LEN];
    int err = 0;

    if (!it)
        return -ENOMEM;
    kvdb_iter_seek(it, start, sizeof(start));
    while (kvdb_iter_valid(it)) {
        size_t klen;
        const unsigned char *key = kvdb_iter_key(it, &klen);
        size_t n;

        if (klen < DB_KEY_PREFIX_LEN + 1 || memcmp(key, start, 4))
            break;
        /* Info is a DB's first key; a prefix without it is skipped. */
        if (key[DB_KEY_PREFIX_LEN] == DB_KEY_INFO) {
            err = fn(key + 4, arg);
            if (err)
                break;
        }
        n = kvdb_prefix_end(key, DB_KEY_PREFIX_LEN, next);
        if (!n)
            break;
        kvdb_iter_seek(it, next, n);
    }
    if (!err)
        err = kvdb_iter_status(it);
    kvdb_iter_free(it);
    return err;
}

struct hashes {
    unsigned char (*h)[16];
    size_t n, cap;
};

static int collect(const unsigned char hash[16], void *arg)
{
    struct hashes *hs = arg;

    if (hs->n == hs->cap) {
        size_t cap = hs->cap ? hs->cap * 2 : 64;
        void *p = realloc(hs->h, cap * sizeof(*hs->h));

        if (!p)
            return -ENOMEM;
        hs->h = p;
        hs->cap = cap;
    }
    memcpy(hs->h[hs->n++], hash, 16);
    return 0;
}

/* The first partition at or after 'part' holding a key: 0 or -ENOENT. */
static int next_part(struct kvdb *kv, uint32_t part, uint32_t *out)
{
    unsigned char start[4] = {part >> 24, part >> 16, part >> 8, part};
    struct kvdb_iter *it = kvdb_iter_new(kv);
    int err = -ENOENT;

    if (!it)
        return -ENOMEM;
    kvdb_iter_seek(it, start, sizeof(start));
    if (kvdb_iter_valid(it)) {
        size_t klen;
        const unsigned char *k = kvdb_iter_key(it, &klen);

        if (klen >= 4) {
            *out = (uint32_t)k[0] << 24 | (uint32_t)k[1] << 16 |
                   (uint32_t)k[2] << 8 | k[3];
            err = 0;
        }
    }
    if (err)
        err = kvdb_iter_status(it) ? -EIO : err;
    kvdb_iter_free(it);
    return err;
}

int dbrepl_walk_device(struct kvdb *kv,
                       int (*fn)(uint32_t part, const unsigned char hash[16],
                                 void *arg),
                       void *arg)
{
    struct hashes hs = {0};
    uint32_t part = 0;
    int err;

    for (;;) {
        err = next_part(kv, part, &part);
        if (err) {
            if (err == -ENOENT) /* past the last partition */
                err = 0;
            break;
        }
        hs.n = 0;
        err = dbrepl_walk_partition(kv, part, collect, &hs);
        for (size_t i = 0; !err && i < hs.n; i++)
            err = fn(part, hs.h[i], arg);
        if (err || part == UINT32_MAX)
            break;
        part++;
    }
    free(hs.h);
    return err;
}

static void sync_key(struct dbenc *k, const unsigned char *prefix,
                     const char *remote_id, enum dbrepl_dir dir)
{
    k->len = 0;
    dbenc_bytes(k, prefix, DB_KEY_PREFIX_LEN);
    dbenc_u8(k, DB_KEY_SYNC);
    dbenc_u8(k, dir);
    dbenc_bytes(k, remote_id, strlen(remote_id));
}

static int read_point(struct kvdb *kv, const struct dbenc *k, int64_t *point)
{
    struct dbdec d;
    void *v;
    size_t n;
    int err;

    *point = -1;
    err = kvdb_get(kv, k->p, k->len, &v, &n);
    if (err == -ENOENT)
        return 0;
    if (err)
        return err;
    dbdec_init(&d, v, n);
    *point = dbdec_svarint(&d);
    free(v);
    return d.err;
}

int dbrepl_get_sync(struct kvdb *kv,
                    const unsigned char prefix[DB_KEY_PREFIX_LEN],
                    const char *remote_id, enum dbrepl_dir dir, int64_t *point)
{
    struct dbenc k = {0};
    int err;

    sync_key(&k, prefix, remote_id, dir);
    err = k.err ? k.err : read_point(kv, &k, point);
    dbenc_release(&k);
    return err;
}

int dbrepl_merge_sync(struct kvdb *kv,
                      const unsigned char prefix[DB_KEY_PREFIX_LEN],
                      const char *remote_id, enum dbrepl_dir dir, int64_t point)
{
    struct dbenc k = {0}, v = {0};
    struct kvdb_batch *b = kvdb_batch_new();
    int64_t old;
    int err;

    if (!b)
        return -ENOMEM;
    sync_key(&k, prefix, remote_id, dir);
    kvdb_lock(kv, prefix, DB_KEY_PREFIX_LEN);
    err = k.err ? k.err : read_point(kv, &k, &old);
    if (!err && point > old) {
        dbenc_svarint(&v, point);
        kvdb_batch_put(b, k.p, k.len, v.p, v.len);
        err = v.err ? v.err : kvdb_write(kv, b, 0);
    }
    kvdb_unlock(kv, prefix, DB_KEY_PREFIX_LEN);
    if (!err)
        err = kvdb_sync(kv);
    kvdb_batch_free(b);
    dbenc_release(&k);
    dbenc_release(&v);
    return err;
}

static int destroy_key(const void *key, size_t klen, const void *val,
                       size_t vlen, void *arg)
{
    (void)val;
    (void)vlen;
    kvdb_batch_delete(arg, key, klen);
    return 0;
}

int dbrepl_destroy(struct kvdb *kv,
                   const unsigned char prefix[DB_KEY_PREFIX_LEN])
{
    unsigned char end[DB_KEY_PREFIX_LEN];
    struct kvdb_batch *b = kvdb_batch_new();
    size_t elen;
    int err;

    if (!b)
        return -ENOMEM;
    elen = kvdb_prefix_end(prefix, DB_KEY_PREFIX_LEN, end);
    kvdb_lock(kv, prefix, DB_KEY_PREFIX_LEN);
    err = kvdb_scan(kv, prefix, DB_KEY_PREFIX_LEN, elen ? end : NULL, elen,
                    destroy_key, b);
    if (!err)
        err = kvdb_write(kv, b, 0);
    kvdb_unlock(kv, prefix, DB_KEY_PREFIX_LEN);
    if (!err)
        err = kvdb_sync(kv);
    kvdb_batch_free(b);
    return err;
}
