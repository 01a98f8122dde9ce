/*
 * dbbroker.c - the part of account and container DBs that does not
 * depend on what their records hold (dbbroker.h): keys, the info record's
 * read-change-write under the DB's lock, row batches and their feed
 * entries, the change feed, reclaim. The records' encodings and what a
 * row merge means are acctdb.c's and contdb.c's.
 */
#include "storage/dbbroker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void dbbroker_key(const struct dbbroker *b, struct dbenc *k,
                  enum db_key_type t, const void *rest, size_t n)
{
    k->len = 0;
    dbenc_bytes(k, b->prefix, DB_KEY_PREFIX_LEN);
    dbenc_u8(k, t);
    dbenc_bytes(k, rest, n);
}

void dbbroker_seq_key(const struct dbbroker *b, struct dbenc *k, uint64_t seq)
{
    dbbroker_key(b, k, DB_KEY_SEQ, NULL, 0);
    dbenc_be64(k, seq);
}

void dbbroker_rows_key(const struct dbbroker *b,
                       unsigned char out[DBBROKER_ROWS_KEY_LEN])
{
    memcpy(out, b->prefix, DB_KEY_PREFIX_LEN);
    out[DB_KEY_PREFIX_LEN] = DB_KEY_ROW;
}

int dbbroker_decode_id(struct dbdec *d, char id[DB_ID_LEN])
{
    const char *p;
    size_t n = dbdec_str(d, &p);

    if (d->err)
        return d->err;
    if (n >= DB_ID_LEN)
        return -EINVAL;
    memcpy(id, p, n);
    id[n] = '\0';
    return 0;
}

int dbbroker_get(const struct dbbroker *b, enum db_key_type t,
                 const void *rest, size_t n, void **v, size_t *vlen)
{
    struct dbenc k = {0};
    int err;

    dbbroker_key(b, &k, t, rest, n);
    err = k.err ? k.err : kvdb_get(b->kv, k.p, k.len, v, vlen);
    dbenc_release(&k);
    return err;
}

int dbbroker_read_stats(const struct dbbroker *b, void *info)
{
    void *v = NULL;
    size_t n;
    int err = dbbroker_get(b, DB_KEY_STATS, NULL, 0, &v, &n);

    if (!err)
        err = b->type->decode_stats(v, n, info);
    free(v);
    return err;
}

int dbbroker_get_info(const struct dbbroker *b, void *info)
{
    void *v = NULL;
    size_t n;
    int err;

    memset(info, 0, b->type->info_size);
    err = dbbroker_get(b, DB_KEY_INFO, NULL, 0, &v, &n);
    if (!err)
        err = b->type->decode_info(v, n, info);
    if (!err)
        err = dbbroker_read_stats(b, info);
    free(v);
    return err;
}

/* Writes info (and stats when 'stats') in one batch, unsynced: the caller
 * syncs once it has unlocked. */
static int write_info(const struct dbbroker *b, const void *info, bool stats)
{
    struct kvdb_batch *kb = kvdb_batch_new();
    struct dbenc k = {0}, v = {0};
    int err;

    if (!kb)
        return -ENOMEM;
    dbbroker_key(b, &k, DB_KEY_INFO, NULL, 0);
    b->type->encode_info(info, &v);
    if (!k.err && !v.err)
        kvdb_batch_put(kb, k.p, k.len, v.p, v.len);
    if (stats) {
        dbbroker_key(b, &k, DB_KEY_STATS, NULL, 0);
        b->type->encode_stats(info, &v);
        if (!k.err && !v.err)
            kvdb_batch_put(kb, k.p, k.len, v.p, v.len);
    }
    err = k.err ? k.err : v.err;
    if (!err)
        err = kvdb_write(b->kv, kb, 0);
    kvdb_batch_free(kb);
    dbenc_release(&k);
    dbenc_release(&v);
    return err;
}

int dbbroker_create(const struct dbbroker *b, void *info)
{
    void *old = calloc(1, b->type->info_size);
    struct dbbroker_fields f;
    int err;

    if (!old)
        return -ENOMEM;
    kvdb_lock(b->kv, b->prefix, DB_KEY_PREFIX_LEN);
    err = dbbroker_get_info(b, old);
    b->type->release(old);
    if (err != -ENOENT) {
        err = err ? err : -EEXIST;
        goto out;
    }
    b->type->fields(info, &f);
    err = db_make_id(f.id);
    if (!err)
        err = write_info(b, info, true);
out:
    kvdb_unlock(b->kv, b->prefix, DB_KEY_PREFIX_LEN);
    free(old);
    if (!err)
        err = kvdb_sync(b->kv);
    return err;
}

int dbbroker_update_info(const struct dbbroker *b,
                         int (*fn)(const struct dbbroker *b, void *info,
                                   const void *arg),
                         const void *arg)
{
    void *info = calloc(1, b->type->info_size);
    bool changed = false;
    int err;

    if (!info)
        return -ENOMEM;
    kvdb_lock(b->kv, b->prefix, DB_KEY_PREFIX_LEN);
    err = dbbroker_get_info(b, info);
    if (!err)
        err = fn(b, info, arg);
    if (err == 1) {
        err = write_info(b, info, false);
        changed = !err;
    }
    kvdb_unlock(b->kv, b->prefix, DB_KEY_PREFIX_LEN);
    if (changed)
        err = kvdb_sync(b->kv);
    b->type->release(info);
    free(info);
    return err;
}

struct put_ts_arg {
    const struct db_ts *ts;
    bool *revived;
};

static int put_ts(const struct dbbroker *b, void *info, const void *arg)
{
    const struct put_ts_arg *a = arg;
    bool was_deleted = b->type->is_deleted(info);
    struct dbbroker_fields f;

    b->type->fields(info, &f);
    if (db_ts_cmp(a->ts, f.put_timestamp) <= 0)
        return 0;
    *f.put_timestamp = *a->ts;
    if (was_deleted && !b->type->is_deleted(info)) {
        *f.status_changed_at = *a->ts;
        *a->revived = true;
    }
    return 1;
}

int dbbroker_update_put_timestamp(const struct dbbroker *b,
                                  const struct db_ts *ts, bool *revived)
{
    bool dummy;
    struct put_ts_arg a = {ts, revived ? revived : &dummy};

    *a.revived = false;
    return dbbroker_update_info(b, put_ts, &a);
}

static int delete_db(const struct dbbroker *b, void *info, const void *arg)
{
    const struct db_ts *ts = arg;
    struct dbbroker_fields f;

    b->type->fields(info, &f);
    /* Swift clears every key, then marks the DB deleted. */
    for (size_t i = 0; i < f.meta->n; i++) {
        int r = db_meta_set(f.meta, f.meta->items[i].key, "", ts);

        if (r < 0)
            return r;
    }
    if (db_ts_cmp(f.delete_timestamp, ts) < 0)
        *f.delete_timestamp = *ts;
    *f.status_changed_at = *ts;
    if (f.status_deleted)
        *f.status_deleted = true;
    return 1;
}

int dbbroker_delete_db(const struct dbbroker *b, const struct db_ts *ts)
{
    return dbbroker_update_info(b, delete_db, ts);
}

struct meta_arg {
    const struct db_meta *updates;
    bool validate;
};

static int update_meta(const struct dbbroker *b, void *info, const void *arg)
{
    const struct meta_arg *a = arg;
    struct dbbroker_fields f;
    int r;

    b->type->fields(info, &f);
    r = db_meta_merge(f.meta, a->updates);
    if (r <= 0)
        return r;
    if (a->validate && db_meta_validate(f.meta))
        return -EINVAL;
    return 1;
}

int dbbroker_update_metadata(const struct dbbroker *b,
                             const struct db_meta *updates, bool validate)
{
    struct meta_arg a = {updates, validate};

    return dbbroker_update_info(b, update_meta, &a);
}

/* ---- rows ---- */

int dbbroker_batch_put_stats(struct dbbroker_batch *mb)
{
    dbbroker_key(mb->b, &mb->k, DB_KEY_STATS, NULL, 0);
    mb->b->type->encode_stats(mb->info, &mb->v);
    if (mb->k.err || mb->v.err)
        return mb->k.err ? mb->k.err : mb->v.err;
    kvdb_batch_put(mb->kb, mb->k.p, mb->k.len, mb->v.p, mb->v.len);
    return 0;
}

int dbbroker_batch_get_row(struct dbbroker_batch *mb, const char *name,
                           size_t len, void **v, size_t *vlen)
{
    dbbroker_key(mb->b, &mb->k, DB_KEY_ROW, name, len);
    if (mb->k.err)
        return mb->k.err;
    return kvdb_get(mb->b->kv, mb->k.p, mb->k.len, v, vlen);
}

void dbbroker_batch_drop_seq(struct dbbroker_batch *mb, uint64_t seq)
{
    dbbroker_seq_key(mb->b, &mb->v, seq);
    kvdb_batch_delete(mb->kb, mb->v.p, mb->v.len);
}

int dbbroker_batch_put_row(struct dbbroker_batch *mb, const char *name,
                           size_t len, uint64_t seq)
{
    if (mb->v.err)
        return mb->v.err;
    kvdb_batch_put(mb->kb, mb->k.p, mb->k.len, mb->v.p, mb->v.len);
    dbbroker_seq_key(mb->b, &mb->v, seq);
    kvdb_batch_put(mb->kb, mb->v.p, mb->v.len, name, len);
    return mb->v.err;
}

/* Whether row i's name comes before it in 'rows'. */
static bool seen_before(const char *rows, size_t i, size_t size,
                        void (*name)(const void *row, const char **p,
                                     size_t *len))
{
    const char *ni, *nj;
    size_t li, lj;

    name(rows + i * size, &ni, &li);
    for (size_t j = 0; j < i; j++) {
        name(rows + j * size, &nj, &lj);
        if (lj == li && !memcmp(nj, ni, li))
            return true;
    }
    return false;
}

/* One batch for all rows, unless a name comes twice: LevelDB cannot read
 * a pending batch, so the first part is written (unsynced) before the
 * second update of that name reads its row. */
int dbbroker_merge_rows(const struct dbbroker *b, void *stats,
                        const void *rows, size_t n, size_t size,
                        void (*name)(const void *row, const char **p,
                                     size_t *len),
                        int (*merge)(struct dbbroker_batch *mb,
                                     const void *row),
                        void *arg, unsigned flags)
{
    struct dbbroker_batch mb = {.b = b, .info = stats, .arg = arg};
    int err;

    mb.kb = kvdb_batch_new();
    if (!mb.kb)
        return -ENOMEM;
    kvdb_lock(b->kv, b->prefix, DB_KEY_PREFIX_LEN);
    err = dbbroker_read_stats(b, stats);
    for (size_t i = 0; !err && i < n; i++) {
        if (seen_before(rows, i, size, name)) {
            err = dbbroker_batch_put_stats(&mb);
            if (!err)
                err = kvdb_write(b->kv, mb.kb, 0);
            kvdb_batch_clear(mb.kb);
        }
        if (!err)
            err = merge(&mb, (const char *)rows + i * size);
    }
    if (!err && kvdb_batch_count(mb.kb)) {
        err = dbbroker_batch_put_stats(&mb);
        if (!err)
            err = kvdb_write(b->kv, mb.kb, 0);
    }
    kvdb_unlock(b->kv, b->prefix, DB_KEY_PREFIX_LEN);
    if (!err && (flags & KVDB_SYNC))
        err = kvdb_sync(b->kv);
    kvdb_batch_free(mb.kb);
    dbenc_release(&mb.k);
    dbenc_release(&mb.v);
    return err;
}

int dbbroker_changes_since(const struct dbbroker *b, uint64_t since,
                           size_t limit,
                           int (*fn)(const char *name, size_t len, void *arg),
                           void *arg)
{
    struct dbenc k = {0};
    struct kvdb_iter *it = kvdb_iter_new(b->kv);
    size_t done = 0;
    int err = 0;

    if (!it)
        return -ENOMEM;
    dbbroker_seq_key(b, &k, since + 1);
    if (k.err)
        err = k.err;
    else
        kvdb_iter_seek(it, k.p, k.len);
    for (; !err && done < limit && kvdb_iter_valid(it);
         kvdb_iter_next(it), done++) {
        size_t klen, nlen;
        const char *key = kvdb_iter_key(it, &klen);
        const char *name = kvdb_iter_value(it, &nlen);

        if (klen != DB_KEY_PREFIX_LEN + 9 ||
            memcmp(key, k.p, DB_KEY_PREFIX_LEN + 1))
            break;
        err = fn(name, nlen, arg);
    }
    if (!err)
        err = kvdb_iter_status(it);
    kvdb_iter_free(it);
    dbenc_release(&k);
    return err;
}

struct reclaim_scan {
    const struct dbbroker *b;
    const struct db_ts *age;
    int (*drop)(const void *val, size_t vlen, const struct db_ts *age,
                uint64_t *seq, void *arg);
    void *arg;
    struct kvdb_batch *kb;
    struct dbenc k;
    size_t n;
};

static int reclaim_row(const void *key, size_t klen, const void *val,
                       size_t vlen, void *arg)
{
    struct reclaim_scan *r = arg;
    uint64_t seq;
    int err = r->drop(val, vlen, r->age, &seq, r->arg);

    if (err <= 0)
        return err;
    kvdb_batch_delete(r->kb, key, klen);
    dbbroker_seq_key(r->b, &r->k, seq);
    kvdb_batch_delete(r->kb, r->k.p, r->k.len);
    r->n++;
    return r->k.err;
}

static int reclaim_meta(const struct dbbroker *b, void *info, const void *arg)
{
    struct dbbroker_fields f;

    b->type->fields(info, &f);
    return db_meta_reclaim(f.meta, arg) ? 1 : 0;
}

/* NEEDSWORK: one batch per DB; a huge backlog should go in slices. */
int dbbroker_reclaim(const struct dbbroker *b, const struct db_ts *age,
                     int (*drop)(const void *val, size_t vlen,
                                 const struct db_ts *age, uint64_t *seq,
                                 void *arg),
                     int (*finish)(struct dbbroker_batch *mb, void *arg),
                     void *arg, size_t *reclaimed)
{
    struct reclaim_scan r = {.b = b, .age = age, .drop = drop, .arg = arg};
    unsigned char start[DBBROKER_ROWS_KEY_LEN], end[DBBROKER_ROWS_KEY_LEN];
    int err;

    if (reclaimed)
        *reclaimed = 0;
    r.kb = kvdb_batch_new();
    if (!r.kb)
        return -ENOMEM;
    dbbroker_rows_key(b, start);
    memcpy(end, start, sizeof(end));
    end[DB_KEY_PREFIX_LEN] = DB_KEY_ROW + 1;
    /* the lock keeps a concurrent undelete from being dropped */
    kvdb_lock(b->kv, b->prefix, DB_KEY_PREFIX_LEN);
    err = kvdb_scan(b->kv, start, sizeof(start), end, sizeof(end), reclaim_row,
                    &r);
    if (!err && r.n && finish) {
        struct dbbroker_batch mb = {.b = b, .kb = r.kb, .arg = arg};

        err = finish(&mb, arg);
        dbenc_release(&mb.k);
        dbenc_release(&mb.v);
    }
    if (!err && r.n)
        err = kvdb_write(b->kv, r.kb, 0);
    kvdb_unlock(b->kv, b->prefix, DB_KEY_PREFIX_LEN);
    kvdb_batch_free(r.kb);
    dbenc_release(&r.k);
    if (!err)
        err = dbbroker_update_info(b, reclaim_meta, age);
    if (!err && reclaimed)
        *reclaimed = r.n;
    return err;
}

/* ---- audit ---- */

/* One audit's reading of a DB, key by key in key order: info, stats,
 * sync points, rows, feed entries (doc/container-format.md §1). */
struct recount {
    const struct dbbroker *b;
    const struct dbbroker_audit_ops *ops;
    void *info, *sum;
    struct dbbroker_audit *res;
    uint64_t max_seq; /* of the rows */
    bool have_info, have_stats;
};

static int audit_key(struct recount *rc, const unsigned char *k, size_t klen,
                     const void *v, size_t vlen)
{
    const struct dbbroker_type *t = rc->b->type;
    const size_t head = DB_KEY_PREFIX_LEN + 1;
    struct dbdec d;
    uint64_t seq;
    int err;

    if (klen < head)
        return -EINVAL;
    switch (k[DB_KEY_PREFIX_LEN]) {
    case DB_KEY_INFO:
        if (klen != head)
            return -EINVAL;
        err = t->decode_info(v, vlen, rc->info);
        rc->have_info = !err;
        return err;
    case DB_KEY_STATS:
        if (klen != head || !rc->have_info) /* invariant: info iff stats */
            return -EINVAL;
        err = t->decode_stats(v, vlen, rc->info);
        if (!err)
            rc->ops->start(rc->sum, rc->info);
        rc->have_stats = !err;
        return err;
    case DB_KEY_SYNC:
        if (klen < head + 2 || (k[head] != 'i' && k[head] != 'o'))
            return -EINVAL;
        dbdec_init(&d, v, vlen);
        dbdec_svarint(&d);
        return d.err ? d.err : d.p == d.end ? 0 : -EINVAL;
    case DB_KEY_ROW:
        if (!rc->have_stats)
            return -EINVAL;
        err = rc->ops->add_row(rc->sum, v, vlen, &seq);
        rc->res->rows++;
        if (seq > rc->max_seq)
            rc->max_seq = seq;
        return err;
    case DB_KEY_SEQ:
        if (klen != head + 8 || !rc->have_stats)
            return -EINVAL;
        dbdec_init(&d, k + head, 8);
        if (dbdec_be64(&d) > rc->ops->max_row(rc->info))
            rc->res->feed_ok = false;
        rc->res->feed++;
        return 0;
    default: return -EINVAL;
    }
}

/* Reads the DB from one snapshot, checksums verified, into rc. */
static int recount(struct recount *rc)
{
    const struct dbbroker *b = rc->b;
    struct kvdb_iter *it = kvdb_iter_new_verified(b->kv);
    struct dbenc s1 = {0}, s2 = {0};
    int err = 0;

    if (!it)
        return -ENOMEM;
    *rc->res = (struct dbbroker_audit){.feed_ok = true};
    for (kvdb_iter_seek(it, b->prefix, DB_KEY_PREFIX_LEN);
         !err && kvdb_iter_valid(it); kvdb_iter_next(it)) {
        size_t klen, vlen;
        const unsigned char *k = kvdb_iter_key(it, &klen);
        const void *v = kvdb_iter_value(it, &vlen);

        if (klen < DB_KEY_PREFIX_LEN || memcmp(k, b->prefix, DB_KEY_PREFIX_LEN))
            break; /* past the DB */
        err = audit_key(rc, k, klen, v, vlen);
    }
    if (!err)
        err = kvdb_iter_status(it);
    kvdb_iter_free(it);
    if (!err && !rc->have_info)
        return -ENOENT;
    if (!err && !rc->have_stats)
        err = -EINVAL;
    if (err == -EINVAL)
        return -EBADMSG;
    if (err)
        return err;
    rc->res->feed_ok = rc->res->feed_ok && rc->res->feed == rc->res->rows &&
                       rc->max_seq <= rc->ops->max_row(rc->info);
    b->type->encode_stats(rc->info, &s1);
    b->type->encode_stats(rc->sum, &s2);
    err = s1.err ? s1.err : s2.err;
    rc->res->stats_ok = s1.len == s2.len && !memcmp(s1.p, s2.p, s1.len);
    dbenc_release(&s1);
    dbenc_release(&s2);
    return err;
}

int dbbroker_audit(const struct dbbroker *b,
                   const struct dbbroker_audit_ops *ops, void *info,
                   struct dbbroker_audit *out)
{
    void *sum = calloc(1, b->type->info_size);
    struct recount rc = {b, ops, info, sum, out, 0, false, false};
    int err;

    memset(info, 0, b->type->info_size);
    if (!sum)
        return -ENOMEM;
    err = recount(&rc);
    b->type->release(sum);
    free(sum);
    return err;
}

int dbbroker_repair_stats(const struct dbbroker *b,
                          const struct dbbroker_audit_ops *ops)
{
    void *info = calloc(1, b->type->info_size);
    void *sum = calloc(1, b->type->info_size);
    struct dbbroker_audit res;
    struct recount rc = {b, ops, info, sum, &res, 0, false, false};
    struct kvdb_batch *kb = kvdb_batch_new();
    struct dbenc k = {0}, v = {0};
    bool written = false;
    int err = -ENOMEM;

    if (!info || !sum || !kb)
        goto out;
    /* every writer of the DB holds this lock (invariant 1): the count
     * and the stats written from it see the same rows */
    kvdb_lock(b->kv, b->prefix, DB_KEY_PREFIX_LEN);
    err = recount(&rc);
    if (!err && !res.stats_ok) {
        dbbroker_key(b, &k, DB_KEY_STATS, NULL, 0);
        b->type->encode_stats(sum, &v);
        err = k.err ? k.err : v.err;
        if (!err) {
            kvdb_batch_put(kb, k.p, k.len, v.p, v.len);
            err = kvdb_write(b->kv, kb, 0);
            written = !err;
        }
    }
    kvdb_unlock(b->kv, b->prefix, DB_KEY_PREFIX_LEN);
    if (written)
        err = kvdb_sync(b->kv);
out:
    if (info)
        b->type->release(info);
    if (sum)
        b->type->release(sum);
    free(info);
    free(sum);
    kvdb_batch_free(kb);
    dbenc_release(&k);
    dbenc_release(&v);
    return err;
}
