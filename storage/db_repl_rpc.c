/*
 * db_repl_rpc.c - the receiving side of container and account
 * replication and the JSON forms both sides speak (db_repl_rpc.h).
 *
 * Everything a peer sends is input: each member is checked for its type
 * and range before anything is written, and a malformed body is 400 with
 * nothing written. Writes go through contdb.h / acctdb.h, which keep
 * their invariants (rows and stats in one batch, newest timestamps win);
 * every write here is synced before the status is returned, so a 2xx
 * means the rows and sync points are on disk.
 *
 * Timestamps travel in Swift's internal form ("1700000000.12345" or with
 * "_<16 hex>"), metadata as Swift's {"key": ["value", "timestamp"]}.
 */
#include "storage/db_repl_rpc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "storage/acctdb.h"
#include "storage/contdb.h"
#include "storage/dbrepl.h"

#define MAX_META_ITEMS 4096 /* user keys, sysmeta and removed keys */

void db_repl_db_init(struct db_repl_db *db, struct kvdb *kv, uint32_t part,
                     const unsigned char hash[16])
{
    db->kv = kv;
    db->part = part;
    memcpy(db->hash, hash, 16);
    db_key_prefix(db->prefix, part, hash);
}

void db_repl_info_release(struct db_repl_info *info)
{
    json_decref(info->json);
    memset(info, 0, sizeof(*info));
}

/* ---- JSON helpers ---- */

json_t *db_repl_ts_json(const struct db_ts *ts)
{
    char buf[DB_TS_LEN];

    db_ts_format(ts, buf);
    return json_string(buf);
}

int db_repl_get_ts(json_t *obj, const char *key, struct db_ts *out)
{
    const char *s = json_string_value(json_object_get(obj, key));

    memset(out, 0, sizeof(*out));
    return s ? db_ts_parse(s, out) : -EINVAL;
}

/* Member 'key' as an integer within [min, max]. */
static int get_int(json_t *obj, const char *key, int64_t min, int64_t max,
                   int64_t *out)
{
    json_t *v = json_object_get(obj, key);

    *out = 0;
    if (!json_is_integer(v))
        return -EINVAL;
    *out = json_integer_value(v);
    return *out < min || *out > max ? -EINVAL : 0;
}

/* Member 'key' as a string of 'min' to 'max' bytes; without 'nul', one
 * holding NUL is refused (C strings of contdb/acctdb would cut it). */
static int get_str(json_t *obj, const char *key, size_t min, size_t max,
                   bool nul, const char **out, size_t *len)
{
    json_t *v = json_object_get(obj, key);
    size_t n;

    *out = NULL;
    if (!json_is_string(v))
        return -EINVAL;
    n = json_string_length(v);
    if (n < min || n > max || (!nul && strlen(json_string_value(v)) != n))
        return -EINVAL;
    *out = json_string_value(v);
    if (len)
        *len = n;
    return 0;
}

/* Sets 'key' of 'obj', counting a failure in *err (jansson's setters
 * fail only for lack of memory or a NULL value). */
static void set(json_t *obj, const char *key, json_t *v, int *err)
{
    if (json_object_set_new(obj, key, v))
        *err = -ENOMEM;
}

static void set_ts(json_t *obj, const char *key, const struct db_ts *ts,
                   int *err)
{
    set(obj, key, db_repl_ts_json(ts), err);
}

/* ---- metadata ---- */

json_t *db_repl_meta_json(const struct db_meta *m)
{
    json_t *j = json_object();
    int err = j ? 0 : -ENOMEM;

    for (size_t i = 0; !err && i < m->n; i++)
        set(j, m->items[i].key,
            json_pack("[so]", m->items[i].value,
                      db_repl_ts_json(&m->items[i].ts)),
            &err);
    if (err) {
        json_decref(j);
        return NULL;
    }
    return j;
}

int db_repl_meta_parse(json_t *j, struct db_meta *out)
{
    const char *key;
    json_t *v;
    int err = 0;

    memset(out, 0, sizeof(*out));
    if (!json_is_object(j) || json_object_size(j) > MAX_META_ITEMS)
        return -EINVAL;
    json_object_foreach(j, key, v)
    {
        json_t *val = json_array_get(v, 0);
        struct db_ts ts;

        if (!*key || !json_is_array(v) || json_array_size(v) != 2 ||
            !json_is_string(val) ||
            strlen(json_string_value(val)) != json_string_length(val) ||
            !json_is_string(json_array_get(v, 1)) ||
            db_ts_parse(json_string_value(json_array_get(v, 1)), &ts)) {
            err = -EINVAL;
            break;
        }
        err = db_meta_set(out, key, json_string_value(val), &ts);
        if (err < 0)
            break;
        err = 0;
    }
    if (err)
        db_meta_release(out);
    return err;
}

/* ---- the info both kinds share ---- */

/* The members every info has; the kind's own are added by its reader. */
static json_t *info_json(const char *id, uint64_t max_row,
                         const struct db_ts *created_at,
                         const struct db_ts *put_timestamp,
                         const struct db_ts *delete_timestamp,
                         const struct db_ts *status_changed_at,
                         const struct db_meta *meta)
{
    json_t *j = json_object();
    int err = j ? 0 : -ENOMEM;

    if (err)
        return NULL;
    set(j, "id", json_string(id), &err);
    set(j, "max_row", json_integer((json_int_t)max_row), &err);
    set_ts(j, "created_at", created_at, &err);
    set_ts(j, "put_timestamp", put_timestamp, &err);
    set_ts(j, "delete_timestamp", delete_timestamp, &err);
    set_ts(j, "status_changed_at", status_changed_at, &err);
    set(j, "metadata", db_repl_meta_json(meta), &err);
    if (err) {
        json_decref(j);
        return NULL;
    }
    return j;
}

int db_repl_merge_info(const struct db_repl_type *t,
                       const struct db_repl_db *db, json_t *info)
{
    struct db_repl_info cur = {0};
    struct db_meta meta = {0};
    struct db_ts put, del;
    int err;

    if (!json_is_object(info) || db_repl_get_ts(info, "put_timestamp", &put) ||
        db_repl_get_ts(info, "delete_timestamp", &del) ||
        db_repl_meta_parse(json_object_get(info, "metadata"), &meta))
        return -EINVAL;
    err = t->read_info(db, &cur);
    /* Swift's order: metadata, then timestamps */
    if (!err && meta.n)
        err = t->update_metadata(db, &meta);
    if (!err && db_ts_cmp(&put, &cur.put_timestamp) > 0)
        err = t->update_put_timestamp(db, &put);
    if (!err && db_ts_cmp(&del, &cur.delete_timestamp) > 0)
        err = t->delete_db(db, &del);
    db_meta_release(&meta);
    db_repl_info_release(&cur);
    return err;
}

/* ---- containers ---- */

static void contdb_of(const struct db_repl_db *db, struct contdb *c)
{
    contdb_init(c, db->kv, db->part, db->hash);
}

static int cont_read_info(const struct db_repl_db *db, struct db_repl_info *out)
{
    struct contdb_info ci = {0};
    struct contdb c;
    int err;

    memset(out, 0, sizeof(*out));
    contdb_of(db, &c);
    err = contdb_get_info(&c, &ci);
    if (!err) {
        out->json =
            info_json(ci.id, ci.max_row, &ci.created_at, &ci.put_timestamp,
                      &ci.delete_timestamp, &ci.status_changed_at, &ci.meta);
        err = out->json ? 0 : -ENOMEM;
    }
    if (!err) {
        set(out->json, "account", json_string(ci.account), &err);
        set(out->json, "container", json_string(ci.container), &err);
        set(out->json, "storage_policy_index",
            json_integer(ci.storage_policy_index), &err);
        set(out->json, "object_count", json_integer(ci.object_count), &err);
        set(out->json, "bytes_used", json_integer(ci.bytes_used), &err);
    }
    if (!err) {
        memcpy(out->id, ci.id, DB_ID_LEN);
        out->max_row = (int64_t)ci.max_row;
        out->put_timestamp = ci.put_timestamp;
        out->delete_timestamp = ci.delete_timestamp;
        out->count = ci.object_count;
        out->deleted = contdb_info_is_deleted(&ci);
        out->reported =
            !db_ts_cmp(&ci.reported_put_timestamp, &ci.put_timestamp) &&
            !db_ts_cmp(&ci.reported_delete_timestamp, &ci.delete_timestamp) &&
            ci.reported_object_count == ci.object_count &&
            ci.reported_bytes_used == ci.bytes_used;
    } else {
        db_repl_info_release(out);
    }
    contdb_info_release(&ci);
    return err;
}

static int cont_create(const struct db_repl_db *db, json_t *info)
{
    const char *account, *container;
    struct db_ts created;
    int64_t policy;
    struct contdb c;

    if (get_str(info, "account", 1, ACCTDB_MAX_NAME_LEN * 4, false, &account,
                NULL) ||
        get_str(info, "container", 1, ACCTDB_MAX_NAME_LEN * 4, false,
                &container, NULL) ||
        db_repl_get_ts(info, "created_at", &created) ||
        get_int(info, "storage_policy_index", 0, UINT32_MAX, &policy))
        return -EINVAL;
    contdb_of(db, &c);
    return contdb_create(&c, account, container, &created, (uint32_t)policy);
}

/* Worst case of a string in JSON: every byte a \u00XX escape. */
#define JSON_STR_MAX(n) (6 * (n) + 2)
#define ROW_JSON_OVERHEAD 400

struct rows_arg {
    json_t *rows;
    size_t bytes, max_bytes;
    int64_t last;
};

/* Whether a row of about 'n' bytes of JSON still fits. */
static bool rows_full(const struct rows_arg *a, size_t n)
{
    return json_array_size(a->rows) && a->bytes + n > a->max_bytes;
}

static int rows_append(struct rows_arg *a, json_t *row, uint64_t seq, size_t n)
{
    if (!row || json_array_append_new(a->rows, row))
        return -ENOMEM;
    a->bytes += n;
    a->last = (int64_t)seq;
    return 0;
}

static int cont_row(const struct contdb_object *o, void *arg)
{
    struct rows_arg *a = arg;
    size_t ctlen = strlen(o->content_type), etlen = strlen(o->etag);
    size_t n = JSON_STR_MAX(o->name_len + ctlen + etlen) + ROW_JSON_OVERHEAD;
    json_t *row;
    int err = 0;

    if (rows_full(a, n))
        return 1;
    row = json_object();
    if (!row)
        return -ENOMEM;
    set(row, "name", json_stringn(o->name, o->name_len), &err);
    set_ts(row, "created_at", &o->created_at, &err);
    set_ts(row, "ctype_timestamp", &o->ctype_timestamp, &err);
    set_ts(row, "meta_timestamp", &o->meta_timestamp, &err);
    set(row, "size", json_integer(o->size), &err);
    set(row, "content_type", json_stringn(o->content_type, ctlen), &err);
    set(row, "etag", json_stringn(o->etag, etlen), &err);
    set(row, "deleted", json_integer(o->deleted), &err);
    set(row, "storage_policy_index", json_integer(o->storage_policy_index),
        &err);
    set(row, "ROWID", json_integer((json_int_t)o->seq), &err);
    if (err) {
        json_decref(row);
        return err;
    }
    return rows_append(a, row, o->seq, n);
}

static int cont_rows_since(const struct db_repl_db *db, int64_t since,
                           size_t limit, size_t max_bytes, json_t *rows,
                           int64_t *last)
{
    struct rows_arg a = {.rows = rows, .max_bytes = max_bytes, .last = since};
    struct contdb c;
    int err;

    contdb_of(db, &c);
    err = contdb_changes_since(&c, since < 0 ? 0 : (uint64_t)since, limit,
                               cont_row, &a);
    *last = a.last;
    return err == 1 ? 0 : err;
}

/* A row's ROWID: the sender's sequence, for the incoming sync point. */
static int row_id(json_t *row, int64_t *max_rowid)
{
    int64_t id;

    if (get_int(row, "ROWID", 1, INT64_MAX, &id))
        return -EINVAL;
    if (id > *max_rowid)
        *max_rowid = id;
    return 0;
}

static int parse_deleted(json_t *row, bool *out)
{
    int64_t v;

    if (get_int(row, "deleted", 0, 1, &v))
        return -EINVAL;
    *out = v;
    return 0;
}

static int cont_parse_row(json_t *row, struct contdb_object *o)
{
    int64_t policy;

    memset(o, 0, sizeof(*o));
    if (!json_is_object(row) ||
        get_str(row, "name", 1, CONTDB_MAX_NAME_LEN, true, &o->name,
                &o->name_len) ||
        db_repl_get_ts(row, "created_at", &o->created_at) ||
        db_repl_get_ts(row, "ctype_timestamp", &o->ctype_timestamp) ||
        db_repl_get_ts(row, "meta_timestamp", &o->meta_timestamp) ||
        get_int(row, "size", INT64_MIN, INT64_MAX, &o->size) ||
        get_str(row, "content_type", 0, SIZE_MAX, false, &o->content_type,
                NULL) ||
        get_str(row, "etag", 0, SIZE_MAX, false, &o->etag, NULL) ||
        parse_deleted(row, &o->deleted) ||
        get_int(row, "storage_policy_index", 0, UINT32_MAX, &policy))
        return -EINVAL;
    o->storage_policy_index = (uint32_t)policy;
    return 0;
}

static int cont_merge_rows(const struct db_repl_db *db, json_t *rows,
                           int64_t *max_rowid)
{
    size_t n = json_array_size(rows);
    struct contdb_object *objs;
    struct contdb c;
    int err = 0;

    *max_rowid = -1;
    if (!json_is_array(rows) || n > DB_REPL_MAX_ROWS)
        return -EINVAL;
    objs = calloc(n ? n : 1, sizeof(*objs));
    if (!objs)
        return -ENOMEM;
    for (size_t i = 0; !err && i < n; i++) {
        err = cont_parse_row(json_array_get(rows, i), &objs[i]);
        if (!err)
            err = row_id(json_array_get(rows, i), max_rowid);
    }
    contdb_of(db, &c);
    if (!err && n)
        err = contdb_merge_objects(&c, objs, n, KVDB_SYNC);
    free(objs);
    return err;
}

static int cont_update_metadata(const struct db_repl_db *db,
                                const struct db_meta *m)
{
    struct contdb c;

    contdb_of(db, &c);
    return contdb_update_metadata(&c, m, false);
}

static int cont_update_put_timestamp(const struct db_repl_db *db,
                                     const struct db_ts *ts)
{
    struct contdb c;

    contdb_of(db, &c);
    return contdb_update_put_timestamp(&c, ts, NULL);
}

static int cont_delete_db(const struct db_repl_db *db, const struct db_ts *ts)
{
    struct contdb c;

    contdb_of(db, &c);
    return contdb_delete_db(&c, ts);
}

static int cont_reclaim(const struct db_repl_db *db, const struct db_ts *age,
                        size_t *reclaimed)
{
    struct contdb c;

    contdb_of(db, &c);
    return contdb_reclaim(&c, age, reclaimed);
}

const struct db_repl_type db_repl_container = {
    .name = "container",
    .read_info = cont_read_info,
    .create = cont_create,
    .rows_since = cont_rows_since,
    .merge_rows = cont_merge_rows,
    .update_metadata = cont_update_metadata,
    .update_put_timestamp = cont_update_put_timestamp,
    .delete_db = cont_delete_db,
    .reclaim = cont_reclaim,
};

/* ---- accounts ---- */

static void acctdb_of(const struct db_repl_db *db, struct acctdb *a)
{
    acctdb_init(a, db->kv, db->part, db->hash);
}

static int acct_read_info(const struct db_repl_db *db, struct db_repl_info *out)
{
    struct acctdb_info ai = {0};
    struct acctdb a;
    int err;

    memset(out, 0, sizeof(*out));
    acctdb_of(db, &a);
    err = acctdb_get_info(&a, &ai);
    if (!err) {
        out->json =
            info_json(ai.id, ai.max_row, &ai.created_at, &ai.put_timestamp,
                      &ai.delete_timestamp, &ai.status_changed_at, &ai.meta);
        err = out->json ? 0 : -ENOMEM;
    }
    if (!err) {
        set(out->json, "account", json_string(ai.account), &err);
        set(out->json, "container_count", json_integer(ai.container_count),
            &err);
        set(out->json, "object_count", json_integer(ai.object_count), &err);
        set(out->json, "bytes_used", json_integer(ai.bytes_used), &err);
    }
    if (!err) {
        memcpy(out->id, ai.id, DB_ID_LEN);
        out->max_row = (int64_t)ai.max_row;
        out->put_timestamp = ai.put_timestamp;
        out->delete_timestamp = ai.delete_timestamp;
        out->count = ai.container_count;
        out->deleted = acctdb_info_is_deleted(&ai);
        out->reported = true;
    } else {
        db_repl_info_release(out);
    }
    acctdb_info_release(&ai);
    return err;
}

static int acct_create(const struct db_repl_db *db, json_t *info)
{
    const char *account;
    struct db_ts created;
    struct acctdb a;

    if (get_str(info, "account", 1, ACCTDB_MAX_NAME_LEN * 4, false, &account,
                NULL) ||
        db_repl_get_ts(info, "created_at", &created))
        return -EINVAL;
    acctdb_of(db, &a);
    return acctdb_create(&a, account, &created);
}

static int acct_row(const struct acctdb_container *c, void *arg)
{
    struct rows_arg *a = arg;
    size_t n = JSON_STR_MAX(c->name_len) + ROW_JSON_OVERHEAD;
    json_t *row;
    int err = 0;

    if (rows_full(a, n))
        return 1;
    row = json_object();
    if (!row)
        return -ENOMEM;
    set(row, "name", json_stringn(c->name, c->name_len), &err);
    set_ts(row, "put_timestamp", &c->put_timestamp, &err);
    set_ts(row, "delete_timestamp", &c->delete_timestamp, &err);
    set(row, "object_count", json_integer(c->object_count), &err);
    set(row, "bytes_used", json_integer(c->bytes_used), &err);
    set(row, "deleted", json_integer(c->deleted), &err);
    set(row, "storage_policy_index", json_integer(c->storage_policy_index),
        &err);
    set(row, "ROWID", json_integer((json_int_t)c->seq), &err);
    if (err) {
        json_decref(row);
        return err;
    }
    return rows_append(a, row, c->seq, n);
}

static int acct_rows_since(const struct db_repl_db *db, int64_t since,
                           size_t limit, size_t max_bytes, json_t *rows,
                           int64_t *last)
{
    struct rows_arg a = {.rows = rows, .max_bytes = max_bytes, .last = since};
    struct acctdb ad;
    int err;

    acctdb_of(db, &ad);
    err = acctdb_changes_since(&ad, since < 0 ? 0 : (uint64_t)since, limit,
                               acct_row, &a);
    *last = a.last;
    return err == 1 ? 0 : err;
}

/* "deleted" is sent for the reader's sake; the merge works it out. A
 * name with NUL is refused: no container server can report one (paths
 * cannot carry it), and acctdb_get_container() copies names as C
 * strings. */
static int acct_parse_row(json_t *row, struct acctdb_container *c)
{
    int64_t policy;

    memset(c, 0, sizeof(*c));
    if (!json_is_object(row) ||
        get_str(row, "name", 1, ACCTDB_MAX_NAME_LEN, false, &c->name,
                &c->name_len) ||
        db_repl_get_ts(row, "put_timestamp", &c->put_timestamp) ||
        db_repl_get_ts(row, "delete_timestamp", &c->delete_timestamp) ||
        get_int(row, "object_count", INT64_MIN, INT64_MAX, &c->object_count) ||
        get_int(row, "bytes_used", INT64_MIN, INT64_MAX, &c->bytes_used) ||
        get_int(row, "storage_policy_index", 0, UINT32_MAX, &policy))
        return -EINVAL;
    c->storage_policy_index = (uint32_t)policy;
    return 0;
}

static int acct_merge_rows(const struct db_repl_db *db, json_t *rows,
                           int64_t *max_rowid)
{
    size_t n = json_array_size(rows);
    struct acctdb_container *cs;
    struct acctdb a;
    int err = 0;

    *max_rowid = -1;
    if (!json_is_array(rows) || n > DB_REPL_MAX_ROWS)
        return -EINVAL;
    cs = calloc(n ? n : 1, sizeof(*cs));
    if (!cs)
        return -ENOMEM;
    for (size_t i = 0; !err && i < n; i++) {
        err = acct_parse_row(json_array_get(rows, i), &cs[i]);
        if (!err)
            err = row_id(json_array_get(rows, i), max_rowid);
    }
    acctdb_of(db, &a);
    if (!err && n)
        err = acctdb_merge_containers(&a, cs, n, KVDB_SYNC);
    free(cs);
    return err;
}

static int acct_update_metadata(const struct db_repl_db *db,
                                const struct db_meta *m)
{
    struct acctdb a;

    acctdb_of(db, &a);
    return acctdb_update_metadata(&a, m, false);
}

static int acct_update_put_timestamp(const struct db_repl_db *db,
                                     const struct db_ts *ts)
{
    struct acctdb a;

    acctdb_of(db, &a);
    return acctdb_update_put_timestamp(&a, ts, NULL);
}

static int acct_delete_db(const struct db_repl_db *db, const struct db_ts *ts)
{
    struct acctdb a;

    acctdb_of(db, &a);
    return acctdb_delete_db(&a, ts);
}

static int acct_reclaim(const struct db_repl_db *db, const struct db_ts *age,
                        size_t *reclaimed)
{
    struct acctdb a;

    acctdb_of(db, &a);
    return acctdb_reclaim(&a, age, reclaimed);
}

const struct db_repl_type db_repl_account = {
    .name = "account",
    .read_info = acct_read_info,
    .create = acct_create,
    .rows_since = acct_rows_since,
    .merge_rows = acct_merge_rows,
    .update_metadata = acct_update_metadata,
    .update_put_timestamp = acct_update_put_timestamp,
    .delete_db = acct_delete_db,
    .reclaim = acct_reclaim,
};

/* ---- sync points ---- */

#define SYNC_KEY_LEN (DB_KEY_PREFIX_LEN + 2) /* prefix, 0x03, 'i' or 'o' */

static int sync_entry(const void *key, size_t klen, const void *val,
                      size_t vlen, void *arg)
{
    json_t *syncs = arg;
    struct dbdec d;
    int64_t point;

    /* what a receiver takes; the points only spare rows, any subset is
     * right (NEEDSWORK: points of ids gone for good are never dropped) */
    if (json_array_size(syncs) == DB_REPL_MAX_SYNCS)
        return 1;

    if (klen <= SYNC_KEY_LEN || klen - SYNC_KEY_LEN >= DB_ID_LEN)
        return 0; /* not an id of ours: nothing a peer could use */
    dbdec_init(&d, val, vlen);
    point = dbdec_svarint(&d);
    if (d.err)
        return 0;
    return json_array_append_new(syncs,
                                 json_pack("{s:s%,s:I}", "remote_id",
                                           (const char *)key + SYNC_KEY_LEN,
                                           klen - SYNC_KEY_LEN, "sync_point",
                                           (json_int_t)point))
               ? -ENOMEM
               : 0;
}

json_t *db_repl_incoming_syncs(const struct db_repl_db *db)
{
    unsigned char start[SYNC_KEY_LEN], end[SYNC_KEY_LEN];
    json_t *syncs = json_array();

    if (!syncs)
        return NULL;
    memcpy(start, db->prefix, DB_KEY_PREFIX_LEN);
    start[DB_KEY_PREFIX_LEN] = DB_KEY_SYNC;
    start[DB_KEY_PREFIX_LEN + 1] = DBREPL_INCOMING;
    memcpy(end, start, sizeof(end));
    end[DB_KEY_PREFIX_LEN + 1]++;
    if (kvdb_scan(db->kv, start, sizeof(start), end, sizeof(end), sync_entry,
                  syncs) < 0) {
        json_decref(syncs);
        return NULL;
    }
    return syncs;
}

/* ---- operations ---- */

/* A peer's replication id: what dbrepl.h keys sync points by. */
static int get_id(json_t *v, const char **out)
{
    size_t n;

    *out = json_string_value(v);
    if (!*out)
        return -EINVAL;
    n = json_string_length(v);
    return !n || n >= DB_ID_LEN || strlen(*out) != n ? -EINVAL : 0;
}

/* Our info with our incoming sync point for 'remote_id'. */
static int info_reply(const struct db_repl_type *t, const struct db_repl_db *db,
                      const char *remote_id, json_t **resp)
{
    struct db_repl_info info = {0};
    int64_t point;
    int err = t->read_info(db, &info);

    if (!err)
        err = dbrepl_get_sync(db->kv, db->prefix, remote_id, DBREPL_INCOMING,
                              &point);
    if (!err && json_object_set_new(info.json, "point", json_integer(point)))
        err = -ENOMEM;
    if (!err) {
        *resp = info.json;
        info.json = NULL;
    }
    db_repl_info_release(&info);
    return err;
}

static int op_sync(const struct db_repl_type *t, const struct db_repl_db *db,
                   json_t *args, json_t **resp, const char **why)
{
    json_t *info = json_array_get(args, 1);
    const char *id;
    int err;

    if (json_array_size(args) != 2 ||
        get_id(json_object_get(info, "id"), &id)) {
        *why = "sync takes an info object with an id";
        return 400;
    }
    err = db_repl_merge_info(t, db, info);
    if (err == -EINVAL)
        *why = "malformed info";
    if (!err)
        err = info_reply(t, db, id, resp);
    return err == -ENOENT ? 404 : err == -EINVAL ? 400 : err ? err : 200;
}

static int op_complete(const struct db_repl_type *t,
                       const struct db_repl_db *db, json_t *args, json_t **resp,
                       const char **why)
{
    json_t *info = json_array_get(args, 1);
    struct db_meta meta;
    struct db_ts ts;
    const char *id;
    int created, err;

    /* checked whole before the DB is created: a DB half made from a bad
     * info would look like a live, empty copy */
    if (json_array_size(args) != 2 ||
        get_id(json_object_get(info, "id"), &id) ||
        db_repl_get_ts(info, "put_timestamp", &ts) ||
        db_repl_get_ts(info, "delete_timestamp", &ts) ||
        db_repl_meta_parse(json_object_get(info, "metadata"), &meta)) {
        *why = "complete takes an info object";
        return 400;
    }
    db_meta_release(&meta);
    created = t->create(db, info);
    if (created == -EINVAL) {
        *why = "complete takes an info object";
        return 400;
    }
    if (created && created != -EEXIST)
        return created;
    /* NEEDSWORK: create and merge are separate writes: a crash between
     * them leaves a copy that looks live until the next sync merges the
     * rest (contdb.h has no create from a whole info). */
    err = db_repl_merge_info(t, db, info);
    if (!err)
        err = info_reply(t, db, id, resp);
    if (err)
        return err;
    return created == -EEXIST ? 200 : 201;
}

static int op_merge_items(const struct db_repl_type *t,
                          const struct db_repl_db *db, json_t *args,
                          const char **why)
{
    struct db_repl_info info = {0};
    const char *id;
    int64_t max_rowid;
    int err;

    if (json_array_size(args) != 3 || get_id(json_array_get(args, 2), &id)) {
        *why = "merge_items takes rows and the sender's id";
        return 400;
    }
    /* rows are checked before the DB is looked at: malformed is 400 */
    err = t->merge_rows(db, json_array_get(args, 1), &max_rowid);
    if (err == -EINVAL)
        *why = "malformed rows";
    if (!err && max_rowid < 0) { /* no rows: a missing DB is still 404 */
        err = t->read_info(db, &info);
        db_repl_info_release(&info);
    }
    /* Swift's merge_items(items, source): what we have from the sender */
    if (!err && max_rowid >= 0)
        err = dbrepl_merge_sync(db->kv, db->prefix, id, DBREPL_INCOMING,
                                max_rowid);
    return err == -ENOENT ? 404 : err == -EINVAL ? 400 : err ? err : 202;
}

static int op_merge_syncs(const struct db_repl_type *t,
                          const struct db_repl_db *db, json_t *args,
                          const char **why)
{
    json_t *syncs = json_array_get(args, 1), *s;
    struct db_repl_info info = {0};
    size_t i;
    int err;

    if (json_array_size(args) != 2 || !json_is_array(syncs) ||
        json_array_size(syncs) > DB_REPL_MAX_SYNCS)
        goto bad;
    json_array_foreach(syncs, i, s)
    {
        const char *id;
        int64_t point;

        if (get_id(json_object_get(s, "remote_id"), &id) ||
            get_int(s, "sync_point", -1, INT64_MAX, &point))
            goto bad;
    }
    err = t->read_info(db, &info);
    db_repl_info_release(&info);
    json_array_foreach(syncs, i, s)
    {
        if (err)
            break;
        err = dbrepl_merge_sync(
            db->kv, db->prefix,
            json_string_value(json_object_get(s, "remote_id")), DBREPL_INCOMING,
            json_integer_value(json_object_get(s, "sync_point")));
    }
    return err == -ENOENT ? 404 : err ? err : 202;
bad:
    *why = "merge_syncs takes [{\"remote_id\", \"sync_point\"}...]";
    return 400;
}

int db_repl_rpc(const struct db_repl_type *t, const struct db_repl_db *db,
                json_t *args, json_t **resp, const char **why)
{
    const char *op = json_string_value(json_array_get(args, 0));

    *resp = NULL;
    *why = NULL;
    if (!json_is_array(args) || !op) {
        *why = "Invalid object type";
        return 400;
    }
    if (!strcmp(op, "sync"))
        return op_sync(t, db, args, resp, why);
    if (!strcmp(op, "complete"))
        return op_complete(t, db, args, resp, why);
    if (!strcmp(op, "merge_items"))
        return op_merge_items(t, db, args, why);
    if (!strcmp(op, "merge_syncs"))
        return op_merge_syncs(t, db, args, why);
    *why = "unknown operation";
    return 400;
}
