/*
 * acctdb.c - account databases on a device's LevelDB (kvdb.h). Same key
 * shape as contdb.c (doc/container-format.md); the rows are containers.
 *
 * Invariants:
 * 1. stats.container_count counts rows with deleted = 0; object_count
 *    and bytes_used sum every row's reported counts (Swift's triggers).
 *    Each batch that changes rows rewrites stats, under kvdb_lock().
 * 2. Each row written takes the next sequence and one DB_KEY_SEQ entry;
 *    the replaced row's entry goes in the same batch.
 * 3. A row's put_timestamp and delete_timestamp never go backwards.
 *
 * 4. stats.policies[] are the same sums over the rows of each storage
 *    policy (Swift's policy_stat); they follow the totals in DB_KEY_STATS.
 *    A value written before they were kept has none: read as Swift's
 *    migration does, all in policy 0 when container_count > 0.
 */
#include "storage/acctdb.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "storage/dbrepl.h"

#define INFO_VERSION 1
#define ROW_VERSION 1
#define ROW_DELETED 1

void acctdb_init(struct acctdb *db, struct kvdb *kv, uint32_t part,
                 const unsigned char hash[16])
{
    db->kv = kv;
    db_key_prefix(db->prefix, part, hash);
}

void acctdb_info_release(struct acctdb_info *info)
{
    free(info->account);
    db_meta_release(&info->meta);
    *info = (struct acctdb_info){0};
}

bool acctdb_info_is_deleted(const struct acctdb_info *info)
{
    return info->status_deleted ||
           (info->container_count == 0 &&
            db_ts_cmp(&info->delete_timestamp, &info->put_timestamp) > 0);
}

static void make_key(const struct acctdb *db, struct dbenc *k,
                     enum db_key_type t, const void *rest, size_t n)
{
    k->len = 0;
    dbenc_bytes(k, db->prefix, DB_KEY_PREFIX_LEN);
    dbenc_u8(k, t);
    dbenc_bytes(k, rest, n);
}

static void seq_key(const struct acctdb *db, struct dbenc *k, uint64_t seq)
{
    make_key(db, k, DB_KEY_SEQ, NULL, 0);
    dbenc_be64(k, seq);
}

static void encode_info(const struct acctdb_info *info, struct dbenc *e)
{
    e->len = 0;
    dbenc_u8(e, INFO_VERSION);
    dbenc_str(e, info->account, strlen(info->account));
    dbenc_ts(e, &info->created_at);
    dbenc_ts(e, &info->put_timestamp);
    dbenc_ts(e, &info->delete_timestamp);
    dbenc_ts(e, &info->status_changed_at);
    dbenc_u8(e, info->status_deleted);
    dbenc_str(e, info->id, strlen(info->id));
    db_meta_encode(&info->meta, e);
}

static int decode_info(const void *p, size_t n, struct acctdb_info *info)
{
    struct dbdec d;
    const char *id;
    size_t idlen;

    dbdec_init(&d, p, n);
    if (dbdec_u8(&d) != INFO_VERSION)
        return -EINVAL;
    info->account = dbdec_strdup(&d);
    dbdec_ts(&d, &info->created_at);
    dbdec_ts(&d, &info->put_timestamp);
    dbdec_ts(&d, &info->delete_timestamp);
    dbdec_ts(&d, &info->status_changed_at);
    info->status_deleted = dbdec_u8(&d) & 1;
    idlen = dbdec_str(&d, &id);
    if (d.err)
        return d.err;
    if (idlen >= sizeof(info->id))
        return -EINVAL;
    memcpy(info->id, id, idlen);
    info->id[idlen] = '\0';
    return db_meta_decode(&info->meta, &d);
}

static void encode_stats(const struct acctdb_info *info, struct dbenc *e)
{
    e->len = 0;
    dbenc_svarint(e, info->container_count);
    dbenc_svarint(e, info->object_count);
    dbenc_svarint(e, info->bytes_used);
    dbenc_varint(e, info->max_row);
    dbenc_varint(e, info->n_policies);
    for (size_t i = 0; i < info->n_policies; i++) {
        const struct acctdb_policy_stats *ps = &info->policies[i];

        dbenc_varint(e, ps->index);
        dbenc_svarint(e, ps->container_count);
        dbenc_svarint(e, ps->object_count);
        dbenc_svarint(e, ps->bytes_used);
    }
}

static int decode_stats(const void *p, size_t n, struct acctdb_info *info)
{
    struct dbdec d;

    dbdec_init(&d, p, n);
    info->container_count = dbdec_svarint(&d);
    info->object_count = dbdec_svarint(&d);
    info->bytes_used = dbdec_svarint(&d);
    info->max_row = dbdec_varint(&d);
    if (!d.err && d.p == d.end) { /* no policy stats yet: Swift's migration */
        if (info->container_count > 0)
            info->policies[info->n_policies++] = (struct acctdb_policy_stats){
                0, info->container_count, info->object_count,
                info->bytes_used};
        return 0;
    }
    info->n_policies = dbdec_varint(&d);
    if (info->n_policies > ACCTDB_MAX_POLICIES)
        return -EINVAL;
    for (size_t i = 0; i < info->n_policies; i++) {
        struct acctdb_policy_stats *ps = &info->policies[i];

        ps->index = (uint32_t)dbdec_varint(&d);
        ps->container_count = dbdec_svarint(&d);
        ps->object_count = dbdec_svarint(&d);
        ps->bytes_used = dbdec_svarint(&d);
    }
    return d.err;
}

static int read_key(struct acctdb *db, enum db_key_type t, void **v, size_t *n)
{
    struct dbenc k = {0};
    int err;

    make_key(db, &k, t, NULL, 0);
    err = k.err ? k.err : kvdb_get(db->kv, k.p, k.len, v, n);
    dbenc_release(&k);
    return err;
}

static int read_stats(struct acctdb *db, struct acctdb_info *info)
{
    void *v = NULL;
    size_t n;
    int err = read_key(db, DB_KEY_STATS, &v, &n);

    if (!err)
        err = decode_stats(v, n, info);
    free(v);
    return err;
}

int acctdb_get_info(struct acctdb *db, struct acctdb_info *out)
{
    void *v = NULL;
    size_t n;
    int err;

    *out = (struct acctdb_info){0};
    err = read_key(db, DB_KEY_INFO, &v, &n);
    if (!err)
        err = decode_info(v, n, out);
    if (!err)
        err = read_stats(db, out);
    free(v);
    return err;
}

static int write_info(struct acctdb *db, const struct acctdb_info *info,
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

int acctdb_create(struct acctdb *db, const char *account,
                  const struct db_ts *ts)
{
    struct acctdb_info info = {0}, old;
    int err;

    if (!*account)
        return -EINVAL;
    kvdb_lock(db->kv, db->prefix, DB_KEY_PREFIX_LEN);
    err = acctdb_get_info(db, &old);
    acctdb_info_release(&old);
    if (err != -ENOENT) {
        err = err ? err : -EEXIST;
        goto out;
    }
    info.account = (char *)account;
    info.created_at = info.put_timestamp = info.status_changed_at = *ts;
    err = db_make_id(info.id);
    if (!err)
        err = write_info(db, &info, true);
out:
    kvdb_unlock(db->kv, db->prefix, DB_KEY_PREFIX_LEN);
    if (!err)
        err = kvdb_sync(db->kv);
    return err;
}

static int update_info(struct acctdb *db,
                       int (*fn)(struct acctdb_info *, const void *),
                       const void *arg)
{
    struct acctdb_info info;
    bool changed = false;
    int err;

    kvdb_lock(db->kv, db->prefix, DB_KEY_PREFIX_LEN);
    err = acctdb_get_info(db, &info);
    if (!err)
        err = fn(&info, arg);
    if (err == 1) {
        err = write_info(db, &info, false);
        changed = !err;
    }
    kvdb_unlock(db->kv, db->prefix, DB_KEY_PREFIX_LEN);
    if (changed)
        err = kvdb_sync(db->kv);
    acctdb_info_release(&info);
    return err;
}

struct put_ts_arg {
    const struct db_ts *ts;
    bool *revived;
};

static int put_ts(struct acctdb_info *info, const void *arg)
{
    const struct put_ts_arg *a = arg;
    bool was_deleted = acctdb_info_is_deleted(info);

    if (db_ts_cmp(a->ts, &info->put_timestamp) <= 0)
        return 0;
    info->put_timestamp = *a->ts;
    if (was_deleted && !acctdb_info_is_deleted(info)) {
        info->status_changed_at = *a->ts;
        *a->revived = true;
    }
    return 1;
}

int acctdb_update_put_timestamp(struct acctdb *db, const struct db_ts *ts,
                                bool *revived)
{
    bool dummy;
    struct put_ts_arg a = {ts, revived ? revived : &dummy};

    *a.revived = false;
    return update_info(db, put_ts, &a);
}

static int delete_db(struct acctdb_info *info, const void *arg)
{
    const struct db_ts *ts = arg;

    for (size_t i = 0; i < info->meta.n; i++) {
        int r = db_meta_set(&info->meta, info->meta.items[i].key, "", ts);

        if (r < 0)
            return r;
    }
    if (db_ts_cmp(&info->delete_timestamp, ts) < 0)
        info->delete_timestamp = *ts;
    info->status_changed_at = *ts;
    info->status_deleted = true;
    return 1;
}

int acctdb_delete_db(struct acctdb *db, const struct db_ts *ts)
{
    return update_info(db, delete_db, ts);
}

struct meta_arg {
    const struct db_meta *updates;
    bool validate;
};

static int update_meta(struct acctdb_info *info, const void *arg)
{
    const struct meta_arg *a = arg;
    int r = db_meta_merge(&info->meta, a->updates);

    if (r <= 0)
        return r;
    if (a->validate && db_meta_validate(&info->meta))
        return -EINVAL;
    return 1;
}

int acctdb_update_metadata(struct acctdb *db, const struct db_meta *updates,
                           bool validate)
{
    struct meta_arg a = {updates, validate};

    return update_info(db, update_meta, &a);
}

static void encode_row(const struct acctdb_container *c, struct dbenc *e)
{
    e->len = 0;
    dbenc_u8(e, ROW_VERSION);
    dbenc_varint(e, c->seq);
    dbenc_ts(e, &c->put_timestamp);
    dbenc_ts(e, &c->delete_timestamp);
    dbenc_svarint(e, c->object_count);
    dbenc_svarint(e, c->bytes_used);
    dbenc_u8(e, c->deleted ? ROW_DELETED : 0);
    dbenc_varint(e, c->storage_policy_index);
}

static int decode_row(const void *p, size_t n, struct acctdb_container *c)
{
    struct dbdec d;

    dbdec_init(&d, p, n);
    if (dbdec_u8(&d) != ROW_VERSION)
        return -EINVAL;
    c->seq = dbdec_varint(&d);
    dbdec_ts(&d, &c->put_timestamp);
    dbdec_ts(&d, &c->delete_timestamp);
    c->object_count = dbdec_svarint(&d);
    c->bytes_used = dbdec_svarint(&d);
    c->deleted = dbdec_u8(&d) & ROW_DELETED;
    c->storage_policy_index = (uint32_t)dbdec_varint(&d);
    return d.err;
}

int acctdb_get_container(struct acctdb *db, const char *name, size_t name_len,
                         struct acctdb_container *out, void **buf)
{
    struct dbenc k = {0};
    void *v = NULL;
    size_t n;
    int err;

    *buf = NULL;
    make_key(db, &k, DB_KEY_ROW, name, name_len);
    err = k.err ? k.err : kvdb_get(db->kv, k.p, k.len, &v, &n);
    dbenc_release(&k);
    if (!err)
        err = decode_row(v, n, out);
    free(v);
    if (err)
        return err;
    *buf = strndup(name, name_len);
    if (!*buf)
        return -ENOMEM;
    out->name = *buf;
    out->name_len = name_len;
    return 0;
}

/* The stats of policy 'index', added in index order when missing; NULL
 * when ACCTDB_MAX_POLICIES are there already. */
static struct acctdb_policy_stats *policy_stats(struct acctdb_info *st,
                                                uint32_t index)
{
    size_t i = 0;

    while (i < st->n_policies && st->policies[i].index < index)
        i++;
    if (i < st->n_policies && st->policies[i].index == index)
        return &st->policies[i];
    if (st->n_policies == ACCTDB_MAX_POLICIES)
        return NULL;
    memmove(&st->policies[i + 1], &st->policies[i],
            (st->n_policies - i) * sizeof(st->policies[0]));
    st->n_policies++;
    st->policies[i] = (struct acctdb_policy_stats){.index = index};
    return &st->policies[i];
}

static int count(struct acctdb_info *st, const struct acctdb_container *c,
                 int sign)
{
    struct acctdb_policy_stats *ps = policy_stats(st, c->storage_policy_index);

    if (!ps)
        return -EINVAL;
    st->container_count += sign * (c->deleted ? 0 : 1);
    st->object_count += sign * c->object_count;
    st->bytes_used += sign * c->bytes_used;
    ps->container_count += sign * (c->deleted ? 0 : 1);
    ps->object_count += sign * c->object_count;
    ps->bytes_used += sign * c->bytes_used;
    return 0;
}

static int merge_one(struct acctdb *db, struct kvdb_batch *b,
                     const struct acctdb_container *in, struct acctdb_info *st,
                     struct dbenc *k, struct dbenc *v)
{
    struct acctdb_container m = *in, old;
    void *oldval = NULL;
    size_t n;
    int err;

    if (!in->name_len || in->name_len > ACCTDB_MAX_NAME_LEN)
        return -EINVAL;
    make_key(db, k, DB_KEY_ROW, in->name, in->name_len);
    if (k->err)
        return k->err;
    err = kvdb_get(db->kv, k->p, k->len, &oldval, &n);
    if (err && err != -ENOENT)
        return err;
    if (!err) {
        err = decode_row(oldval, n, &old);
        free(oldval);
        if (err)
            return err;
        if (db_ts_cmp(&old.put_timestamp, &m.put_timestamp) > 0)
            m.put_timestamp = old.put_timestamp;
        if (db_ts_cmp(&old.delete_timestamp, &m.delete_timestamp) > 0)
            m.delete_timestamp = old.delete_timestamp;
        err = count(st, &old, -1);
        if (err)
            return err;
        seq_key(db, v, old.seq);
        kvdb_batch_delete(b, v->p, v->len);
    }
    m.deleted = db_ts_cmp(&m.delete_timestamp, &m.put_timestamp) > 0 &&
                m.object_count == 0;
    err = count(st, &m, 1);
    if (err)
        return err;
    m.seq = ++st->max_row;
    encode_row(&m, v);
    if (v->err)
        return v->err;
    kvdb_batch_put(b, k->p, k->len, v->p, v->len);
    seq_key(db, v, m.seq);
    kvdb_batch_put(b, v->p, v->len, in->name, in->name_len);
    return v->err;
}

static int put_stats(struct acctdb *db, struct kvdb_batch *b,
                     const struct acctdb_info *st, struct dbenc *k,
                     struct dbenc *v)
{
    make_key(db, k, DB_KEY_STATS, NULL, 0);
    encode_stats(st, v);
    if (k->err || v->err)
        return k->err ? k->err : v->err;
    kvdb_batch_put(b, k->p, k->len, v->p, v->len);
    return 0;
}

/* One batch, except that a name given twice splits it: LevelDB cannot
 * read a pending batch. */
int acctdb_merge_containers(struct acctdb *db,
                            const struct acctdb_container *rows, size_t n,
                            unsigned flags)
{
    struct dbenc k = {0}, v = {0};
    struct acctdb_info st = {0};
    struct kvdb_batch *b = kvdb_batch_new();
    int err;

    if (!b)
        return -ENOMEM;
    kvdb_lock(db->kv, db->prefix, DB_KEY_PREFIX_LEN);
    err = read_stats(db, &st);
    for (size_t i = 0; !err && i < n; i++) {
        for (size_t j = 0; j < i; j++) {
            if (rows[j].name_len == rows[i].name_len &&
                !memcmp(rows[j].name, rows[i].name, rows[i].name_len)) {
                err = put_stats(db, b, &st, &k, &v);
                if (!err)
                    err = kvdb_write(db->kv, b, 0);
                kvdb_batch_clear(b);
                break;
            }
        }
        if (!err)
            err = merge_one(db, b, &rows[i], &st, &k, &v);
    }
    if (!err && kvdb_batch_count(b)) {
        err = put_stats(db, b, &st, &k, &v);
        if (!err)
            err = kvdb_write(db->kv, b, 0);
    }
    kvdb_unlock(db->kv, db->prefix, DB_KEY_PREFIX_LEN);
    if (!err && (flags & KVDB_SYNC))
        err = kvdb_sync(db->kv);
    kvdb_batch_free(b);
    dbenc_release(&k);
    dbenc_release(&v);
    return err;
}

int acctdb_put_container(struct acctdb *db, const struct acctdb_container *c,
                         unsigned flags)
{
    return acctdb_merge_containers(db, c, 1, flags);
}

static int list_accept(const void *val, size_t vlen, void *arg)
{
    struct acctdb_container c;
    int err = decode_row(val, vlen, &c);

    (void)arg;
    return err ? err : !c.deleted;
}

static int list_append(struct listing *l, const char *name, size_t nlen,
                       const void *val, size_t vlen, void *arg)
{
    struct listing_entry e = {0};
    struct acctdb_container c;
    int err = decode_row(val, vlen, &c);

    (void)arg;
    if (err)
        return err;
    e.name_len = nlen;
    e.count = c.object_count;
    e.bytes = c.bytes_used;
    e.ts = c.put_timestamp;
    listing_append(l, &e, name, NULL, NULL);
    return l->err;
}

int acctdb_list(struct acctdb *db, const struct listing_params *p,
                struct listing *out)
{
    unsigned char kp[DB_KEY_PREFIX_LEN + 1];
    struct listing_params ap = *p;
    struct listing_source src = {
        .kv = db->kv,
        .keyprefix = kp,
        .keyprefix_len = sizeof(kp),
        .accept = list_accept,
        .append = list_append,
    };
    void *v = NULL;
    size_t n;
    int err;

    ap.path = NULL;
    memcpy(kp, db->prefix, DB_KEY_PREFIX_LEN);
    kp[DB_KEY_PREFIX_LEN] = DB_KEY_ROW;
    err = read_key(db, DB_KEY_INFO, &v, &n);
    free(v);
    if (!err)
        err = listing_scan(&src, &ap, out);
    return err;
}

int acctdb_changes_since(struct acctdb *db, uint64_t since, size_t limit,
                         int (*fn)(const struct acctdb_container *c, void *arg),
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
        struct acctdb_container c;
        void *buf;

        if (klen != DB_KEY_PREFIX_LEN + 9 ||
            memcmp(key, k.p, DB_KEY_PREFIX_LEN + 1))
            break;
        err = acctdb_get_container(db, name, nlen, &c, &buf);
        if (!err)
            err = fn(&c, arg);
        free(buf);
    }
    if (!err)
        err = kvdb_iter_status(it);
    kvdb_iter_free(it);
    dbenc_release(&k);
    return err;
}

struct reclaim_arg {
    struct acctdb *db;
    const struct db_ts *age;
    struct kvdb_batch *b;
    struct dbenc k;
    size_t n;
    struct acctdb_info gone; /* counts of the dropped rows */
};

static int reclaim_row(const void *key, size_t klen, const void *val,
                       size_t vlen, void *arg)
{
    struct reclaim_arg *a = arg;
    struct acctdb_container c;
    int err = decode_row(val, vlen, &c);

    if (err)
        return err;
    if (!c.deleted || db_ts_cmp(&c.delete_timestamp, a->age) >= 0)
        return 0;
    kvdb_batch_delete(a->b, key, klen);
    seq_key(a->db, &a->k, c.seq);
    kvdb_batch_delete(a->b, a->k.p, a->k.len);
    a->n++;
    return count(&a->gone, &c, 1) ? -EINVAL : a->k.err;
}

static int reclaim_meta(struct acctdb_info *info, const void *arg)
{
    return db_meta_reclaim(&info->meta, arg) ? 1 : 0;
}

/* A deleted row has object_count 0 but may still carry bytes (Swift's
 * triggers add them anyway): they leave stats in the same batch. */
int acctdb_reclaim(struct acctdb *db, const struct db_ts *age,
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
    kvdb_lock(db->kv, db->prefix, DB_KEY_PREFIX_LEN);
    err = kvdb_scan(db->kv, start, sizeof(start), end, sizeof(end), reclaim_row,
                    &a);
    if (!err && a.n) {
        struct acctdb_info st = {0};
        struct dbenc v = {0};

        err = read_stats(db, &st);
        st.object_count -= a.gone.object_count;
        st.bytes_used -= a.gone.bytes_used;
        for (size_t i = 0; !err && i < a.gone.n_policies; i++) {
            const struct acctdb_policy_stats *g = &a.gone.policies[i];
            struct acctdb_policy_stats *ps = policy_stats(&st, g->index);

            if (!ps) {
                err = -EINVAL;
                break;
            }
            ps->object_count -= g->object_count;
            ps->bytes_used -= g->bytes_used;
        }
        if (!err)
            err = put_stats(db, a.b, &st, &a.k, &v);
        if (!err)
            err = kvdb_write(db->kv, a.b, 0);
        dbenc_release(&v);
    }
    kvdb_unlock(db->kv, db->prefix, DB_KEY_PREFIX_LEN);
    kvdb_batch_free(a.b);
    dbenc_release(&a.k);
    if (!err)
        err = update_info(db, reclaim_meta, age);
    if (!err && reclaimed)
        *reclaimed = a.n;
    return err;
}

int acctdb_destroy(struct acctdb *db)
{
    return dbrepl_destroy(db->kv, db->prefix);
}
