/*
 * contdb.c - container databases on a device's LevelDB (kvdb.h): info,
 * stats and object rows of one container under one key prefix.
 *
 * Invariants (doc/container-format.md has the byte layout):
 * 1. stats.object_count and stats.bytes_used are the count and the sum of
 *    sizes of the rows with deleted = 0; every batch that changes a row
 *    rewrites stats in the same batch, under kvdb_lock().
 * 2. Each row written gets the next sequence (stats.max_row + 1) and one
 *    DB_KEY_SEQ entry naming it; the entry of the row it replaced is
 *    deleted in the same batch, so the feed holds each name once.
 * 3. Info exists iff stats exists: both are written by contdb_create()
 *    and removed only by contdb_destroy().
 */
#include "storage/contdb.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "storage/dbrepl.h"
#include "storage/listing_format.h"

#define INFO_VERSION 1
#define ROW_VERSION 1
#define ROW_DELETED 1

void contdb_init(struct contdb *db, struct kvdb *kv, uint32_t part,
                 const unsigned char hash[16])
{
    db->kv = kv;
    db_key_prefix(db->prefix, part, hash);
}

void contdb_info_release(struct contdb_info *info)
{
    free(info->account);
    free(info->container);
    db_meta_release(&info->meta);
    *info = (struct contdb_info){0};
}

bool contdb_info_is_deleted(const struct contdb_info *info)
{
    return info->object_count == 0 &&
           db_ts_cmp(&info->delete_timestamp, &info->put_timestamp) > 0;
}

/* Key of type 't' followed by 'n' bytes of 'rest'. */
static void make_key(const struct contdb *db, struct dbenc *k,
                     enum db_key_type t, const void *rest, size_t n)
{
    k->len = 0;
    dbenc_bytes(k, db->prefix, DB_KEY_PREFIX_LEN);
    dbenc_u8(k, t);
    dbenc_bytes(k, rest, n);
}

static void seq_key(const struct contdb *db, struct dbenc *k, uint64_t seq)
{
    make_key(db, k, DB_KEY_SEQ, NULL, 0);
    dbenc_be64(k, seq);
}

static void encode_info(const struct contdb_info *info, struct dbenc *e)
{
    e->len = 0;
    dbenc_u8(e, INFO_VERSION);
    dbenc_str(e, info->account, strlen(info->account));
    dbenc_str(e, info->container, strlen(info->container));
    dbenc_ts(e, &info->created_at);
    dbenc_ts(e, &info->put_timestamp);
    dbenc_ts(e, &info->delete_timestamp);
    dbenc_ts(e, &info->status_changed_at);
    dbenc_varint(e, info->storage_policy_index);
    dbenc_str(e, info->id, strlen(info->id));
    db_meta_encode(&info->meta, e);
    dbenc_ts(e, &info->reported_put_timestamp);
    dbenc_ts(e, &info->reported_delete_timestamp);
    dbenc_svarint(e, info->reported_object_count);
    dbenc_svarint(e, info->reported_bytes_used);
}

static int decode_info(const void *p, size_t n, struct contdb_info *info)
{
    struct dbdec d;
    const char *id;
    size_t idlen;
    int err;

    dbdec_init(&d, p, n);
    if (dbdec_u8(&d) != INFO_VERSION)
        return -EINVAL;
    info->account = dbdec_strdup(&d);
    info->container = dbdec_strdup(&d);
    dbdec_ts(&d, &info->created_at);
    dbdec_ts(&d, &info->put_timestamp);
    dbdec_ts(&d, &info->delete_timestamp);
    dbdec_ts(&d, &info->status_changed_at);
    info->storage_policy_index = (uint32_t)dbdec_varint(&d);
    idlen = dbdec_str(&d, &id);
    if (d.err)
        return d.err;
    if (idlen >= sizeof(info->id))
        return -EINVAL;
    memcpy(info->id, id, idlen);
    info->id[idlen] = '\0';
    err = db_meta_decode(&info->meta, &d);
    if (err)
        return err;
    dbdec_ts(&d, &info->reported_put_timestamp);
    dbdec_ts(&d, &info->reported_delete_timestamp);
    info->reported_object_count = dbdec_svarint(&d);
    info->reported_bytes_used = dbdec_svarint(&d);
    return d.err;
}

static void encode_stats(const struct contdb_info *info, struct dbenc *e)
{
    e->len = 0;
    dbenc_svarint(e, info->object_count);
    dbenc_svarint(e, info->bytes_used);
    dbenc_varint(e, info->max_row);
}

static int decode_stats(const void *p, size_t n, struct contdb_info *info)
{
    struct dbdec d;

    dbdec_init(&d, p, n);
    info->object_count = dbdec_svarint(&d);
    info->bytes_used = dbdec_svarint(&d);
    info->max_row = dbdec_varint(&d);
    return d.err;
}

static int read_stats(struct contdb *db, struct contdb_info *info)
{
    struct dbenc k = {0};
    void *v = NULL;
    size_t n;
    int err;

    make_key(db, &k, DB_KEY_STATS, NULL, 0);
    err = k.err ? k.err : kvdb_get(db->kv, k.p, k.len, &v, &n);
    if (!err)
        err = decode_stats(v, n, info);
    free(v);
    dbenc_release(&k);
    return err;
}

int contdb_get_info(struct contdb *db, struct contdb_info *out)
{
    struct dbenc k = {0};
    void *v = NULL;
    size_t n;
    int err;

    *out = (struct contdb_info){0};
    make_key(db, &k, DB_KEY_INFO, NULL, 0);
    err = k.err ? k.err : kvdb_get(db->kv, k.p, k.len, &v, &n);
    if (!err)
        err = decode_info(v, n, out);
    if (!err)
        err = read_stats(db, out);
    free(v);
    dbenc_release(&k);
    return err;
}

/* Writes info (and stats when 'stats') in one batch. */
static int write_info(struct contdb *db, const struct contdb_info *info,
                      bool stats)
{
    struct kvdb_batch *b = kvdb_batch_new();
    struct dbenc k = {0}, v = {0};
    int err;

    if (!b)
        return -ENOMEM;
    make_key(db, &k, DB_KEY_INFO, NULL, 0);
    encode_info(info, &v);
    if (!k.err && !v.err)
        kvdb_batch_put(b, k.p, k.len, v.p, v.len);
    if (stats) {
        make_key(db, &k, DB_KEY_STATS, NULL, 0);
        encode_stats(info, &v);
        if (!k.err && !v.err)
            kvdb_batch_put(b, k.p, k.len, v.p, v.len);
    }
    err = k.err ? k.err : v.err;
    if (!err)
        err = kvdb_write(db->kv, b, 0); /* the caller syncs, unlocked */
    kvdb_batch_free(b);
    dbenc_release(&k);
    dbenc_release(&v);
    return err;
}

int contdb_create(struct contdb *db, const char *account, const char *container,
                  const struct db_ts *ts, uint32_t storage_policy_index)
{
    struct contdb_info info = {0}, old;
    int err;

    if (!*account || !*container)
        return -EINVAL;
    kvdb_lock(db->kv, db->prefix, DB_KEY_PREFIX_LEN);
    err = contdb_get_info(db, &old);
    contdb_info_release(&old);
    if (err != -ENOENT) {
        err = err ? err : -EEXIST;
        goto out;
    }
    info.account = (char *)account;
    info.container = (char *)container;
    info.created_at = info.put_timestamp = info.status_changed_at = *ts;
    info.storage_policy_index = storage_policy_index;
    err = db_make_id(info.id);
    if (!err)
        err = write_info(db, &info, true);
out:
    kvdb_unlock(db->kv, db->prefix, DB_KEY_PREFIX_LEN);
    if (!err)
        err = kvdb_sync(db->kv);
    return err;
}

/* Reads info, lets 'fn' change it, writes it back if fn returns 1. */
static int update_info(struct contdb *db,
                       int (*fn)(struct contdb_info *, const void *),
                       const void *arg)
{
    struct contdb_info info;
    bool changed = false;
    int err;

    kvdb_lock(db->kv, db->prefix, DB_KEY_PREFIX_LEN);
    err = contdb_get_info(db, &info);
    if (!err)
        err = fn(&info, arg);
    if (err == 1) {
        err = write_info(db, &info, false);
        changed = !err;
    }
    kvdb_unlock(db->kv, db->prefix, DB_KEY_PREFIX_LEN);
    if (changed)
        err = kvdb_sync(db->kv);
    contdb_info_release(&info);
    return err;
}

struct put_ts_arg {
    const struct db_ts *ts;
    bool *revived;
};

static int put_ts(struct contdb_info *info, const void *arg)
{
    const struct put_ts_arg *a = arg;
    bool was_deleted = contdb_info_is_deleted(info);

    if (db_ts_cmp(a->ts, &info->put_timestamp) <= 0)
        return 0;
    info->put_timestamp = *a->ts;
    if (was_deleted && !contdb_info_is_deleted(info)) {
        info->status_changed_at = *a->ts;
        *a->revived = true;
    }
    return 1;
}

int contdb_update_put_timestamp(struct contdb *db, const struct db_ts *ts,
                                bool *revived)
{
    bool dummy;
    struct put_ts_arg a = {ts, revived ? revived : &dummy};

    *a.revived = false;
    return update_info(db, put_ts, &a);
}

static int delete_db(struct contdb_info *info, const void *arg)
{
    const struct db_ts *ts = arg;

    /* Swift clears every key, then marks the DB deleted. */
    for (size_t i = 0; i < info->meta.n; i++) {
        int r = db_meta_set(&info->meta, info->meta.items[i].key, "", ts);

        if (r < 0)
            return r;
    }
    if (db_ts_cmp(&info->delete_timestamp, ts) < 0)
        info->delete_timestamp = *ts;
    info->status_changed_at = *ts;
    return 1;
}

struct reported_arg {
    const struct db_ts *put, *del;
    int64_t count, bytes;
};

static int reported(struct contdb_info *info, const void *arg)
{
    const struct reported_arg *a = arg;

    info->reported_put_timestamp = *a->put;
    info->reported_delete_timestamp = *a->del;
    info->reported_object_count = a->count;
    info->reported_bytes_used = a->bytes;
    return 1;
}

int contdb_set_reported(struct contdb *db, const struct db_ts *put_timestamp,
                        const struct db_ts *delete_timestamp,
                        int64_t object_count, int64_t bytes_used)
{
    struct reported_arg a = {put_timestamp, delete_timestamp, object_count,
                             bytes_used};

    return update_info(db, reported, &a);
}

int contdb_delete_db(struct contdb *db, const struct db_ts *ts)
{
    return update_info(db, delete_db, ts);
}

struct meta_arg {
    const struct db_meta *updates;
    bool validate;
};

static int update_meta(struct contdb_info *info, const void *arg)
{
    const struct meta_arg *a = arg;
    int r = db_meta_merge(&info->meta, a->updates);

    if (r <= 0)
        return r;
    if (a->validate && db_meta_validate(&info->meta))
        return -EINVAL;
    return 1;
}

int contdb_update_metadata(struct contdb *db, const struct db_meta *updates,
                           bool validate)
{
    struct meta_arg a = {updates, validate};

    return update_info(db, update_meta, &a);
}

static void encode_row(const struct contdb_object *o, struct dbenc *e)
{
    e->len = 0;
    dbenc_u8(e, ROW_VERSION);
    dbenc_varint(e, o->seq);
    dbenc_ts(e, &o->created_at);
    dbenc_ts(e, &o->ctype_timestamp);
    dbenc_ts(e, &o->meta_timestamp);
    dbenc_svarint(e, o->size);
    dbenc_u8(e, o->deleted ? ROW_DELETED : 0);
    dbenc_varint(e, o->storage_policy_index);
    dbenc_str(e, o->content_type, strlen(o->content_type));
    dbenc_str(e, o->etag, strlen(o->etag));
}

/* Decodes a row value; strings point into 'p' and are not
 * NUL-terminated: ctype_len and etag_len give their lengths. */
struct row {
    struct contdb_object o;
    size_t ctype_len, etag_len;
};

static int decode_row(const void *p, size_t n, struct row *r)
{
    struct dbdec d;

    dbdec_init(&d, p, n);
    if (dbdec_u8(&d) != ROW_VERSION)
        return -EINVAL;
    r->o.seq = dbdec_varint(&d);
    dbdec_ts(&d, &r->o.created_at);
    dbdec_ts(&d, &r->o.ctype_timestamp);
    dbdec_ts(&d, &r->o.meta_timestamp);
    r->o.size = dbdec_svarint(&d);
    r->o.deleted = dbdec_u8(&d) & ROW_DELETED;
    r->o.storage_policy_index = (uint32_t)dbdec_varint(&d);
    r->ctype_len = dbdec_str(&d, &r->o.content_type);
    r->etag_len = dbdec_str(&d, &r->o.etag);
    return d.err;
}

int contdb_get_object(struct contdb *db, const char *name, size_t name_len,
                      struct contdb_object *out, void **buf)
{
    struct dbenc k = {0};
    struct row r = {0};
    size_t n;
    int err;

    *buf = NULL;
    make_key(db, &k, DB_KEY_ROW, name, name_len);
    err = k.err ? k.err : kvdb_get(db->kv, k.p, k.len, buf, &n);
    dbenc_release(&k);
    if (err)
        return err;
    err = decode_row(*buf, n, &r);
    if (err) {
        free(*buf);
        *buf = NULL;
        return err;
    }
    /* Strings are followed by other bytes: copy them out terminated. */
    {
        char *s = malloc(r.ctype_len + r.etag_len + name_len + 3);

        if (!s) {
            free(*buf);
            *buf = NULL;
            return -ENOMEM;
        }
        memcpy(s, r.o.content_type, r.ctype_len);
        s[r.ctype_len] = '\0';
        memcpy(s + r.ctype_len + 1, r.o.etag, r.etag_len);
        s[r.ctype_len + 1 + r.etag_len] = '\0';
        memcpy(s + r.ctype_len + r.etag_len + 2, name, name_len);
        s[r.ctype_len + r.etag_len + 2 + name_len] = '\0';
        free(*buf);
        *buf = s;
        r.o.content_type = s;
        r.o.etag = s + r.ctype_len + 1;
        r.o.name = s + r.ctype_len + r.etag_len + 2;
        r.o.name_len = name_len;
    }
    *out = r.o;
    return 0;
}

/* Swift's update_new_item_from_existing(): 'merged' starts as the new
 * item (timestamps defaulted) and takes from 'old' whatever is at least
 * as new there. Returns true if anything of the new item is newer, i.e.
 * the row must be written. The merged content type is built in 'ct'. */
static bool merge_row(struct contdb_object *merged, const struct row *old,
                      struct dbenc *ct)
{
    struct dbenc oldct = {0}, newct = {0};
    const char *sb_new, *sb_old, *sb;
    size_t sbn_new, sbn_old, sbn;
    char *oldstr;
    bool newer = false;

    oldstr = strndup(old->o.content_type, old->ctype_len);
    if (!oldstr) {
        ct->err = -ENOMEM;
        return false;
    }
    listing_extract_swift_bytes(merged->content_type, &newct, &sb_new,
                                &sbn_new);
    listing_extract_swift_bytes(oldstr, &oldct, &sb_old, &sbn_old);
    sb = sb_new, sbn = sbn_new;
    if (db_ts_cmp(&old->o.created_at, &merged->created_at) >= 0) {
        merged->size = old->o.size;
        merged->deleted = old->o.deleted;
        merged->etag = NULL; /* caller takes old's etag */
        merged->created_at = old->o.created_at;
        sb = sb_old, sbn = sbn_old;
    } else {
        newer = true;
    }
    ct->len = 0;
    if (db_ts_cmp(&old->o.ctype_timestamp, &merged->ctype_timestamp) >= 0) {
        dbenc_bytes(ct, oldct.p, oldct.len);
        merged->ctype_timestamp = old->o.ctype_timestamp;
    } else {
        dbenc_bytes(ct, newct.p, newct.len);
        newer = true;
    }
    if (db_ts_cmp(&old->o.meta_timestamp, &merged->meta_timestamp) >= 0)
        merged->meta_timestamp = old->o.meta_timestamp;
    else
        newer = true;
    if (sb && sbn) {
        dbenc_bytes(ct, ";swift_bytes=", 13);
        dbenc_bytes(ct, sb, sbn);
    }
    dbenc_u8(ct, '\0');
    dbenc_release(&oldct);
    dbenc_release(&newct);
    free(oldstr);
    return newer;
}

/* Adds one object update to the batch, adjusting 'st'. */
static int merge_one(struct contdb *db, struct kvdb_batch *b,
                     const struct contdb_object *in, struct contdb_info *st,
                     struct dbenc *k, struct dbenc *v, struct dbenc *ct)
{
    struct contdb_object m = *in;
    void *oldval = NULL;
    char *etag = NULL;
    struct row old;
    size_t n;
    int err;

    if (!in->name_len || in->name_len > CONTDB_MAX_NAME_LEN)
        return -EINVAL;
    if (!m.ctype_timestamp.raw && !m.ctype_timestamp.offset)
        m.ctype_timestamp = m.created_at;
    if (!m.meta_timestamp.raw && !m.meta_timestamp.offset)
        m.meta_timestamp = m.ctype_timestamp;
    make_key(db, k, DB_KEY_ROW, in->name, in->name_len);
    if (k->err)
        return k->err;
    err = kvdb_get(db->kv, k->p, k->len, &oldval, &n);
    if (err == -ENOENT) {
        oldval = NULL;
    } else if (err) {
        return err;
    } else {
        err = decode_row(oldval, n, &old);
        if (err)
            goto out;
        if (!merge_row(&m, &old, ct)) {
            err = ct->err;
            goto out;
        }
        if (ct->err) {
            err = ct->err;
            goto out;
        }
        m.content_type = (const char *)ct->p;
        if (!m.etag) {
            etag = strndup(old.o.etag, old.etag_len);
            if (!etag) {
                err = -ENOMEM;
                goto out;
            }
            m.etag = etag;
        }
        if (!old.o.deleted) {
            st->object_count--;
            st->bytes_used -= old.o.size;
        }
        seq_key(db, v, old.o.seq);
        kvdb_batch_delete(b, v->p, v->len);
    }
    if (!m.deleted) {
        st->object_count++;
        st->bytes_used += m.size;
    }
    m.seq = ++st->max_row;
    encode_row(&m, v);
    if (v->err) {
        err = v->err;
        goto out;
    }
    kvdb_batch_put(b, k->p, k->len, v->p, v->len);
    seq_key(db, v, m.seq);
    kvdb_batch_put(b, v->p, v->len, in->name, in->name_len);
    err = v->err;
out:
    free(etag);
    free(oldval);
    return err;
}

/* One batch for all of 'objs', unless a name comes twice: LevelDB cannot
 * read a pending batch, so the first part is written (unsynced) before
 * the second update of that name reads its row. */
int contdb_merge_objects(struct contdb *db, const struct contdb_object *objs,
                         size_t n, unsigned flags)
{
    struct dbenc k = {0}, v = {0}, ct = {0};
    struct contdb_info st = {0};
    struct kvdb_batch *b = kvdb_batch_new();
    int err;

    if (!b)
        return -ENOMEM;
    kvdb_lock(db->kv, db->prefix, DB_KEY_PREFIX_LEN);
    err = read_stats(db, &st);
    for (size_t i = 0; !err && i < n; i++) {
        /* A name already in this batch: flush first so the second update
         * merges with the first (LevelDB cannot read a batch). */
        for (size_t j = 0; j < i; j++) {
            if (objs[j].name_len == objs[i].name_len &&
                !memcmp(objs[j].name, objs[i].name, objs[i].name_len)) {
                make_key(db, &k, DB_KEY_STATS, NULL, 0);
                encode_stats(&st, &v);
                kvdb_batch_put(b, k.p, k.len, v.p, v.len);
                err = k.err ? k.err : v.err;
                if (!err)
                    err = kvdb_write(db->kv, b, 0);
                kvdb_batch_clear(b);
                break;
            }
        }
        if (!err)
            err = merge_one(db, b, &objs[i], &st, &k, &v, &ct);
    }
    if (!err && kvdb_batch_count(b)) {
        make_key(db, &k, DB_KEY_STATS, NULL, 0);
        encode_stats(&st, &v);
        kvdb_batch_put(b, k.p, k.len, v.p, v.len);
        err = k.err ? k.err : v.err;
        if (!err)
            err = kvdb_write(db->kv, b, 0);
    }
    kvdb_unlock(db->kv, db->prefix, DB_KEY_PREFIX_LEN);
    if (!err && (flags & KVDB_SYNC))
        err = kvdb_sync(db->kv);
    kvdb_batch_free(b);
    dbenc_release(&k);
    dbenc_release(&v);
    dbenc_release(&ct);
    return err;
}

int contdb_put_object(struct contdb *db, const struct contdb_object *obj,
                      unsigned flags)
{
    return contdb_merge_objects(db, obj, 1, flags);
}

int contdb_delete_object(struct contdb *db, const char *name, size_t name_len,
                         const struct db_ts *ts, uint32_t storage_policy_index,
                         unsigned flags)
{
    struct contdb_object o = {
        .name = name,
        .name_len = name_len,
        .created_at = *ts,
        .content_type = "application/deleted",
        .etag = "noetag",
        .deleted = true,
        .storage_policy_index = storage_policy_index,
    };

    return contdb_merge_objects(db, &o, 1, flags);
}

/* A listing decodes each row once: accept() keeps it for append(), which
 * gets the same value next when the row is listed. */
struct list_ctx {
    struct contdb_info info;
    const void *val; /* the value 'r' was decoded from */
    struct row r;
};

static int list_accept(const void *val, size_t vlen, void *arg)
{
    struct list_ctx *ctx = arg;
    int err = decode_row(val, vlen, &ctx->r);

    ctx->val = err ? NULL : val;
    if (err)
        return err;
    return !ctx->r.o.deleted &&
           ctx->r.o.storage_policy_index == ctx->info.storage_policy_index;
}

static int list_append(struct listing *l, const char *name, size_t nlen,
                       const void *val, size_t vlen, void *arg)
{
    struct list_ctx *ctx = arg;
    struct listing_entry e = {0};
    const struct row *r = &ctx->r;
    int err = val == ctx->val ? 0 : decode_row(val, vlen, &ctx->r);

    if (err)
        return err;
    e.name_len = nlen;
    e.ctype_len = r->ctype_len;
    e.etag_len = r->etag_len;
    e.bytes = r->o.size;
    e.ts = r->o.meta_timestamp;
    listing_append(l, &e, name, r->o.content_type, r->o.etag);
    return l->err;
}

int contdb_list(struct contdb *db, const struct listing_params *p,
                struct listing *out)
{
    unsigned char kp[DB_KEY_PREFIX_LEN + 1];
    struct list_ctx ctx = {0};
    struct listing_source src = {
        .kv = db->kv,
        .keyprefix = kp,
        .keyprefix_len = sizeof(kp),
        .accept = list_accept,
        .append = list_append,
        .arg = &ctx,
    };
    int err;

    memcpy(kp, db->prefix, DB_KEY_PREFIX_LEN);
    kp[DB_KEY_PREFIX_LEN] = DB_KEY_ROW;
    err = contdb_get_info(db, &ctx.info);
    if (!err)
        err = listing_scan(&src, p, out);
    contdb_info_release(&ctx.info);
    return err;
}

int contdb_changes_since(struct contdb *db, uint64_t since, size_t limit,
                         int (*fn)(const struct contdb_object *obj, void *arg),
                         void *arg)
{
    struct dbenc k = {0};
    struct kvdb_iter *it = kvdb_iter_new(db->kv);
    size_t done = 0;
    int err = 0;

    if (!it)
        return -ENOMEM;
    seq_key(db, &k, since + 1);
    if (k.err)
        err = k.err;
    else
        kvdb_iter_seek(it, k.p, k.len);
    for (; !err && done < limit && kvdb_iter_valid(it);
         kvdb_iter_next(it), done++) {
        size_t klen, nlen;
        const char *key = kvdb_iter_key(it, &klen);
        const char *name = kvdb_iter_value(it, &nlen);
        struct contdb_object o;
        void *buf;

        if (klen != DB_KEY_PREFIX_LEN + 9 ||
            memcmp(key, k.p, DB_KEY_PREFIX_LEN + 1))
            break;
        err = contdb_get_object(db, name, nlen, &o, &buf);
        if (!err)
            err = fn(&o, arg);
        free(buf);
    }
    if (!err)
        err = kvdb_iter_status(it);
    kvdb_iter_free(it);
    dbenc_release(&k);
    return err;
}

struct reclaim_arg {
    struct contdb *db;
    const struct db_ts *age;
    struct kvdb_batch *b;
    struct dbenc k;
    size_t n;
};

static int reclaim_row(const void *key, size_t klen, const void *val,
                       size_t vlen, void *arg)
{
    struct reclaim_arg *a = arg;
    struct row r;
    int err = decode_row(val, vlen, &r);

    if (err)
        return err;
    if (!r.o.deleted || db_ts_cmp(&r.o.created_at, a->age) >= 0)
        return 0;
    kvdb_batch_delete(a->b, key, klen);
    seq_key(a->db, &a->k, r.o.seq);
    kvdb_batch_delete(a->b, a->k.p, a->k.len);
    a->n++;
    return a->k.err;
}

static int reclaim_meta(struct contdb_info *info, const void *arg)
{
    return db_meta_reclaim(&info->meta, arg) ? 1 : 0;
}

int contdb_reclaim(struct contdb *db, const struct db_ts *age,
                   size_t *reclaimed)
{
    struct reclaim_arg a = {.db = db, .age = age};
    unsigned char start[DB_KEY_PREFIX_LEN + 1], end[DB_KEY_PREFIX_LEN + 1];
    int err;

    if (reclaimed)
        *reclaimed = 0;
    a.b = kvdb_batch_new();
    if (!a.b)
        return -ENOMEM;
    memcpy(start, db->prefix, DB_KEY_PREFIX_LEN);
    start[DB_KEY_PREFIX_LEN] = DB_KEY_ROW;
    memcpy(end, start, sizeof(end));
    end[DB_KEY_PREFIX_LEN] = DB_KEY_ROW + 1;
    /* Deleted rows do not count in stats, so stats need no update; the
     * lock keeps a concurrent undelete from being dropped. NEEDSWORK:
     * one batch per DB; a huge backlog should go in slices. */
    kvdb_lock(db->kv, db->prefix, DB_KEY_PREFIX_LEN);
    err = kvdb_scan(db->kv, start, sizeof(start), end, sizeof(end), reclaim_row,
                    &a);
    if (!err && a.n)
        err = kvdb_write(db->kv, a.b, 0);
    kvdb_unlock(db->kv, db->prefix, DB_KEY_PREFIX_LEN);
    kvdb_batch_free(a.b);
    dbenc_release(&a.k);
    if (!err)
        err = update_info(db, reclaim_meta, age);
    if (!err && reclaimed)
        *reclaimed = a.n;
    return err;
}

int contdb_destroy(struct contdb *db)
{
    return dbrepl_destroy(db->kv, db->prefix);
}
