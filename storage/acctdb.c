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
 * Keys, the info's read-change-write, row batches, the feed and reclaim
 * are dbbroker.c's.
 */
#include "storage/acctdb.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "storage/dbbroker.h"
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

static void encode_info(const void *p, struct dbenc *e)
{
    const struct acctdb_info *info = p;

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

static int decode_info(const void *p, size_t n, void *out)
{
    struct acctdb_info *info = out;
    struct dbdec d;
    int err;

    dbdec_init(&d, p, n);
    if (dbdec_u8(&d) != INFO_VERSION)
        return -EINVAL;
    info->account = dbdec_strdup(&d);
    dbdec_ts(&d, &info->created_at);
    dbdec_ts(&d, &info->put_timestamp);
    dbdec_ts(&d, &info->delete_timestamp);
    dbdec_ts(&d, &info->status_changed_at);
    info->status_deleted = dbdec_u8(&d) & 1;
    err = dbbroker_decode_id(&d, info->id);
    return err ? err : db_meta_decode(&info->meta, &d);
}

static void encode_stats(const void *p, struct dbenc *e)
{
    const struct acctdb_info *info = p;

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

static int decode_stats(const void *p, size_t n, void *out)
{
    struct acctdb_info *info = out;
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

static void release(void *info)
{
    acctdb_info_release(info);
}

static void fields(void *p, struct dbbroker_fields *out)
{
    struct acctdb_info *info = p;

    *out = (struct dbbroker_fields){
        .id = info->id,
        .put_timestamp = &info->put_timestamp,
        .delete_timestamp = &info->delete_timestamp,
        .status_changed_at = &info->status_changed_at,
        .meta = &info->meta,
        .status_deleted = &info->status_deleted,
    };
}

static bool is_deleted(const void *info)
{
    return acctdb_info_is_deleted(info);
}

static const struct dbbroker_type acctdb_type = {
    .info_size = sizeof(struct acctdb_info),
    .encode_info = encode_info,
    .decode_info = decode_info,
    .encode_stats = encode_stats,
    .decode_stats = decode_stats,
    .release = release,
    .fields = fields,
    .is_deleted = is_deleted,
};

static struct dbbroker broker(const struct acctdb *db)
{
    return (struct dbbroker){db->kv, db->prefix, &acctdb_type};
}

int acctdb_get_info(struct acctdb *db, struct acctdb_info *out)
{
    struct dbbroker b = broker(db);

    return dbbroker_get_info(&b, out);
}

int acctdb_create(struct acctdb *db, const char *account,
                  const struct db_ts *ts)
{
    struct dbbroker b = broker(db);
    struct acctdb_info info = {0};

    if (!*account)
        return -EINVAL;
    info.account = (char *)account;
    info.created_at = info.put_timestamp = info.status_changed_at = *ts;
    return dbbroker_create(&b, &info);
}

int acctdb_update_put_timestamp(struct acctdb *db, const struct db_ts *ts,
                                bool *revived)
{
    struct dbbroker b = broker(db);

    return dbbroker_update_put_timestamp(&b, ts, revived);
}

int acctdb_delete_db(struct acctdb *db, const struct db_ts *ts)
{
    struct dbbroker b = broker(db);

    return dbbroker_delete_db(&b, ts);
}

int acctdb_update_metadata(struct acctdb *db, const struct db_meta *updates,
                           bool validate)
{
    struct dbbroker b = broker(db);

    return dbbroker_update_metadata(&b, updates, validate);
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
    struct dbbroker b = broker(db);
    char *copy;
    void *v = NULL;
    size_t n;
    int err;

    *buf = NULL;
    err = dbbroker_get(&b, DB_KEY_ROW, name, name_len, &v, &n);
    if (!err)
        err = decode_row(v, n, out);
    free(v);
    if (err)
        return err;
    /* not strndup(): a name is counted bytes and may hold a NUL, and
     * readers go by name_len */
    copy = malloc(name_len + 1);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, name, name_len);
    copy[name_len] = '\0';
    *buf = copy;
    out->name = copy;
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

static int merge_one(struct dbbroker_batch *mb, const void *row)
{
    const struct acctdb_container *in = row;
    struct acctdb_info *st = mb->info;
    struct acctdb_container m = *in, old;
    void *oldval = NULL;
    size_t n;
    int err;

    if (!in->name_len || in->name_len > ACCTDB_MAX_NAME_LEN)
        return -EINVAL;
    err = dbbroker_batch_get_row(mb, in->name, in->name_len, &oldval, &n);
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
        dbbroker_batch_drop_seq(mb, old.seq);
    }
    m.deleted = db_ts_cmp(&m.delete_timestamp, &m.put_timestamp) > 0 &&
                m.object_count == 0;
    err = count(st, &m, 1);
    if (err)
        return err;
    m.seq = ++st->max_row;
    encode_row(&m, &mb->v);
    return dbbroker_batch_put_row(mb, in->name, in->name_len, m.seq);
}

static void container_name(const void *row, const char **p, size_t *len)
{
    const struct acctdb_container *c = row;

    *p = c->name;
    *len = c->name_len;
}

int acctdb_merge_containers(struct acctdb *db,
                            const struct acctdb_container *rows, size_t n,
                            unsigned flags)
{
    struct dbbroker b = broker(db);
    struct acctdb_info st = {0};

    return dbbroker_merge_rows(&b, &st, rows, n, sizeof(*rows),
                               container_name, merge_one, NULL, flags);
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
    struct dbbroker b = broker(db);
    unsigned char kp[DBBROKER_ROWS_KEY_LEN];
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
    dbbroker_rows_key(&b, kp);
    err = dbbroker_get(&b, DB_KEY_INFO, NULL, 0, &v, &n);
    free(v);
    if (!err)
        err = listing_scan(&src, &ap, out);
    return err;
}

struct changes_arg {
    struct acctdb *db;
    int (*fn)(const struct acctdb_container *c, void *arg);
    void *arg;
};

static int change(const char *name, size_t len, void *arg)
{
    struct changes_arg *a = arg;
    struct acctdb_container c;
    void *buf;
    int err = acctdb_get_container(a->db, name, len, &c, &buf);

    if (!err)
        err = a->fn(&c, a->arg);
    free(buf);
    return err;
}

int acctdb_changes_since(struct acctdb *db, uint64_t since, size_t limit,
                         int (*fn)(const struct acctdb_container *c, void *arg),
                         void *arg)
{
    struct dbbroker b = broker(db);
    struct changes_arg a = {db, fn, arg};

    return dbbroker_changes_since(&b, since, limit, change, &a);
}

/* A deleted row whose delete_timestamp is older than 'age' goes; its
 * counts are added to 'arg' (struct acctdb_info: the dropped rows). */
static int reclaimable(const void *val, size_t vlen, const struct db_ts *age,
                       uint64_t *seq, void *arg)
{
    struct acctdb_container c;
    int err = decode_row(val, vlen, &c);

    if (err)
        return err;
    if (!c.deleted || db_ts_cmp(&c.delete_timestamp, age) >= 0)
        return 0;
    *seq = c.seq;
    return count(arg, &c, 1) ? -EINVAL : 1;
}

/* The dropped rows' counts leave the stats in the reclaim's batch. */
static int reclaim_stats(struct dbbroker_batch *mb, void *arg)
{
    const struct acctdb_info *gone = arg;
    struct acctdb_info st = {0};
    int err;

    err = dbbroker_read_stats(mb->b, &st);
    st.object_count -= gone->object_count;
    st.bytes_used -= gone->bytes_used;
    for (size_t i = 0; !err && i < gone->n_policies; i++) {
        const struct acctdb_policy_stats *g = &gone->policies[i];
        struct acctdb_policy_stats *ps = policy_stats(&st, g->index);

        if (!ps) {
            err = -EINVAL;
            break;
        }
        ps->object_count -= g->object_count;
        ps->bytes_used -= g->bytes_used;
    }
    mb->info = &st;
    if (!err)
        err = dbbroker_batch_put_stats(mb);
    mb->info = NULL;
    return err;
}

/* A deleted row has object_count 0 but may still carry bytes (Swift's
 * triggers add them anyway): they leave stats in the same batch. */
int acctdb_reclaim(struct acctdb *db, const struct db_ts *age,
                   size_t *reclaimed)
{
    struct dbbroker b = broker(db);
    struct acctdb_info gone = {0}; /* counts of the dropped rows */

    return dbbroker_reclaim(&b, age, reclaimable, reclaim_stats, &gone,
                            reclaimed);
}

int acctdb_destroy(struct acctdb *db)
{
    return dbrepl_destroy(db->kv, db->prefix);
}

/* ---- audit ---- */

/* Policies stay in the stats once their rows are gone (acctdb.h): the
 * recount starts from the stored ones at zero. */
static void audit_start(void *sum, const void *info)
{
    const struct acctdb_info *in = info;
    struct acctdb_info *s = sum;

    s->max_row = in->max_row;
    s->n_policies = in->n_policies;
    for (size_t i = 0; i < in->n_policies; i++)
        s->policies[i] =
            (struct acctdb_policy_stats){.index = in->policies[i].index};
}

static int audit_add_row(void *sum, const void *val, size_t vlen, uint64_t *seq)
{
    struct acctdb_container c = {0};
    int err = decode_row(val, vlen, &c);

    *seq = c.seq;
    return err ? err : count(sum, &c, 1);
}

static uint64_t audit_max_row(const void *info)
{
    return ((const struct acctdb_info *)info)->max_row;
}

static const struct dbbroker_audit_ops audit_ops = {
    audit_start,
    audit_add_row,
    audit_max_row,
};

int acctdb_audit(struct acctdb *db, struct acctdb_info *info,
                 struct dbbroker_audit *out)
{
    struct dbbroker b = broker(db);

    return dbbroker_audit(&b, &audit_ops, info, out);
}

int acctdb_repair_stats(struct acctdb *db)
{
    struct dbbroker b = broker(db);

    return dbbroker_repair_stats(&b, &audit_ops);
}
