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
 * Keys, the info's read-change-write, row batches, the feed and reclaim
 * are dbbroker.c's; the records and what merging a row means are here.
 */
#include "storage/contdb.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "storage/dbbroker.h"
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

static void encode_info(const void *p, struct dbenc *e)
{
    const struct contdb_info *info = p;

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

static int decode_info(const void *p, size_t n, void *out)
{
    struct contdb_info *info = out;
    struct dbdec d;
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
    err = dbbroker_decode_id(&d, info->id);
    if (!err)
        err = db_meta_decode(&info->meta, &d);
    if (err)
        return err;
    dbdec_ts(&d, &info->reported_put_timestamp);
    dbdec_ts(&d, &info->reported_delete_timestamp);
    info->reported_object_count = dbdec_svarint(&d);
    info->reported_bytes_used = dbdec_svarint(&d);
    return d.err;
}

static void encode_stats(const void *p, struct dbenc *e)
{
    const struct contdb_info *info = p;

    e->len = 0;
    dbenc_svarint(e, info->object_count);
    dbenc_svarint(e, info->bytes_used);
    dbenc_varint(e, info->max_row);
}

static int decode_stats(const void *p, size_t n, void *out)
{
    struct contdb_info *info = out;
    struct dbdec d;

    dbdec_init(&d, p, n);
    info->object_count = dbdec_svarint(&d);
    info->bytes_used = dbdec_svarint(&d);
    info->max_row = dbdec_varint(&d);
    return d.err;
}

static void release(void *info)
{
    contdb_info_release(info);
}

static void fields(void *p, struct dbbroker_fields *out)
{
    struct contdb_info *info = p;

    *out = (struct dbbroker_fields){
        .id = info->id,
        .put_timestamp = &info->put_timestamp,
        .delete_timestamp = &info->delete_timestamp,
        .status_changed_at = &info->status_changed_at,
        .meta = &info->meta,
    };
}

static bool is_deleted(const void *info)
{
    return contdb_info_is_deleted(info);
}

static const struct dbbroker_type contdb_type = {
    .info_size = sizeof(struct contdb_info),
    .encode_info = encode_info,
    .decode_info = decode_info,
    .encode_stats = encode_stats,
    .decode_stats = decode_stats,
    .release = release,
    .fields = fields,
    .is_deleted = is_deleted,
};

static struct dbbroker broker(const struct contdb *db)
{
    return (struct dbbroker){db->kv, db->prefix, &contdb_type};
}

int contdb_get_info(struct contdb *db, struct contdb_info *out)
{
    struct dbbroker b = broker(db);

    return dbbroker_get_info(&b, out);
}

int contdb_create(struct contdb *db, const char *account, const char *container,
                  const struct db_ts *ts, uint32_t storage_policy_index)
{
    struct dbbroker b = broker(db);
    struct contdb_info info = {0};

    if (!*account || !*container)
        return -EINVAL;
    info.account = (char *)account;
    info.container = (char *)container;
    info.created_at = info.put_timestamp = info.status_changed_at = *ts;
    info.storage_policy_index = storage_policy_index;
    return dbbroker_create(&b, &info);
}

int contdb_update_put_timestamp(struct contdb *db, const struct db_ts *ts,
                                bool *revived)
{
    struct dbbroker b = broker(db);

    return dbbroker_update_put_timestamp(&b, ts, revived);
}

struct reported_arg {
    const struct db_ts *put, *del;
    int64_t count, bytes;
};

static int reported(const struct dbbroker *b, void *p, const void *arg)
{
    const struct reported_arg *a = arg;
    struct contdb_info *info = p;

    (void)b;
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
    struct dbbroker b = broker(db);
    struct reported_arg a = {put_timestamp, delete_timestamp, object_count,
                             bytes_used};

    return dbbroker_update_info(&b, reported, &a);
}

int contdb_delete_db(struct contdb *db, const struct db_ts *ts)
{
    struct dbbroker b = broker(db);

    return dbbroker_delete_db(&b, ts);
}

int contdb_update_metadata(struct contdb *db, const struct db_meta *updates,
                           bool validate)
{
    struct dbbroker b = broker(db);

    return dbbroker_update_metadata(&b, updates, validate);
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
    struct dbbroker b = broker(db);
    struct row r = {0};
    size_t n;
    int err;

    *buf = NULL;
    err = dbbroker_get(&b, DB_KEY_ROW, name, name_len, buf, &n);
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

/* Adds one object update to the batch, adjusting the stats. */
static int merge_one(struct dbbroker_batch *mb, const void *row)
{
    const struct contdb_object *in = row;
    struct contdb_info *st = mb->info;
    struct dbenc *ct = mb->arg;
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
    err = dbbroker_batch_get_row(mb, in->name, in->name_len, &oldval, &n);
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
        dbbroker_batch_drop_seq(mb, old.o.seq);
    }
    if (!m.deleted) {
        st->object_count++;
        st->bytes_used += m.size;
    }
    m.seq = ++st->max_row;
    encode_row(&m, &mb->v);
    err = dbbroker_batch_put_row(mb, in->name, in->name_len, m.seq);
out:
    free(etag);
    free(oldval);
    return err;
}

static void object_name(const void *row, const char **p, size_t *len)
{
    const struct contdb_object *o = row;

    *p = o->name;
    *len = o->name_len;
}

int contdb_merge_objects(struct contdb *db, const struct contdb_object *objs,
                         size_t n, unsigned flags)
{
    struct dbbroker b = broker(db);
    struct contdb_info st = {0};
    struct dbenc ct = {0}; /* a merged content type */
    int err;

    err = dbbroker_merge_rows(&b, &st, objs, n, sizeof(*objs), object_name,
                              merge_one, &ct, flags);
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
    struct dbbroker b = broker(db);
    unsigned char kp[DBBROKER_ROWS_KEY_LEN];
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

    dbbroker_rows_key(&b, kp);
    err = contdb_get_info(db, &ctx.info);
    if (!err)
        err = listing_scan(&src, p, out);
    contdb_info_release(&ctx.info);
    return err;
}

struct changes_arg {
    struct contdb *db;
    int (*fn)(const struct contdb_object *obj, void *arg);
    void *arg;
};

static int change(const char *name, size_t len, void *arg)
{
    struct changes_arg *a = arg;
    struct contdb_object o;
    void *buf;
    int err = contdb_get_object(a->db, name, len, &o, &buf);

    if (!err)
        err = a->fn(&o, a->arg);
    free(buf);
    return err;
}

int contdb_changes_since(struct contdb *db, uint64_t since, size_t limit,
                         int (*fn)(const struct contdb_object *obj, void *arg),
                         void *arg)
{
    struct dbbroker b = broker(db);
    struct changes_arg a = {db, fn, arg};

    return dbbroker_changes_since(&b, since, limit, change, &a);
}

/* A deleted row older than 'age' goes. */
static int reclaimable(const void *val, size_t vlen, const struct db_ts *age,
                       uint64_t *seq, void *arg)
{
    struct row r;
    int err = decode_row(val, vlen, &r);

    (void)arg;
    if (err)
        return err;
    *seq = r.o.seq;
    return r.o.deleted && db_ts_cmp(&r.o.created_at, age) < 0;
}

/* Deleted rows do not count in stats, so stats need no update. */
int contdb_reclaim(struct contdb *db, const struct db_ts *age,
                   size_t *reclaimed)
{
    struct dbbroker b = broker(db);

    return dbbroker_reclaim(&b, age, reclaimable, NULL, NULL, reclaimed);
}

int contdb_destroy(struct contdb *db)
{
    return dbrepl_destroy(db->kv, db->prefix);
}

/* ---- audit ---- */

static void audit_start(void *sum, const void *info)
{
    ((struct contdb_info *)sum)->max_row =
        ((const struct contdb_info *)info)->max_row;
}

static int audit_add_row(void *sum, const void *val, size_t vlen, uint64_t *seq)
{
    struct contdb_info *s = sum;
    struct row r;
    int err = decode_row(val, vlen, &r);

    *seq = r.o.seq;
    if (!err && !r.o.deleted) { /* invariant 2 of container-format.md §3 */
        s->object_count++;
        s->bytes_used += r.o.size;
    }
    return err;
}

static uint64_t audit_max_row(const void *info)
{
    return ((const struct contdb_info *)info)->max_row;
}

static const struct dbbroker_audit_ops audit_ops = {
    audit_start,
    audit_add_row,
    audit_max_row,
};

int contdb_audit(struct contdb *db, struct contdb_info *info,
                 struct dbbroker_audit *out)
{
    struct dbbroker b = broker(db);

    return dbbroker_audit(&b, &audit_ops, info, out);
}

int contdb_repair_stats(struct contdb *db)
{
    struct dbbroker b = broker(db);

    return dbbroker_repair_stats(&b, &audit_ops);
}
