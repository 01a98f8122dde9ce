/* Description: the REPLICATE operations of container and account
 * replication (db_repl_rpc.c) between two DBs of one LevelDB: a missing
 * copy made whole by complete and merge_items, newest timestamps and
 * metadata winning, sync points, and malformed bodies refused with
 * nothing written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "storage/acctdb.h"
#include "storage/contdb.h"
#include "storage/db_repl_rpc.h"
#include "storage/dbrepl.h"

#include "db_fixture.h"

static const unsigned char SRC[16] = {1, 2, 3};
static const unsigned char DST[16] = {9, 8, 7};
#define PART 5
/* a timestamp's address, for calls that take one */
#define TS(s) (&(struct db_ts[]){ts_of(s)}[0])

/* Runs one operation; returns the status, the answer in *resp. */
static int rpc(const struct db_repl_type *t, struct kvdb *kv,
               const unsigned char hash[16], json_t *args, json_t **resp)
{
    struct db_repl_db db;
    const char *why;
    json_t *r = NULL;
    int status;

    db_repl_db_init(&db, kv, PART, hash);
    status = db_repl_rpc(t, &db, args, &r, &why);
    json_decref(args);
    if (resp)
        *resp = r;
    else
        json_decref(r);
    return status;
}

static void put_obj(struct contdb *db, const char *name, const char *ts,
                    int64_t size)
{
    struct contdb_object o = {.name = name,
                              .name_len = strlen(name),
                              .created_at = ts_of(ts),
                              .size = size,
                              .content_type = "text/plain",
                              .etag = "d41d8cd98f00b204e9800998ecf8427e"};

    assert_int_equal(contdb_put_object(db, &o, 0), 0);
}

static void set_meta(struct contdb *db, const char *key, const char *value,
                     const char *ts)
{
    struct db_meta m = {0};
    struct db_ts t = ts_of(ts);

    assert_int_equal(db_meta_set(&m, key, value, &t), 1);
    assert_int_equal(contdb_update_metadata(db, &m, false), 0);
    db_meta_release(&m);
}

/* Pushes every row of SRC to DST as the replicator does. */
static void push_rows(struct kvdb *kv, const struct db_repl_type *t,
                      const char *src_id)
{
    struct db_repl_db src;
    int64_t point = -1, last;

    db_repl_db_init(&src, kv, PART, SRC);
    for (;;) {
        json_t *rows = json_array();

        assert_int_equal(t->rows_since(&src, point, 2, 1 << 20, rows, &last),
                         0);
        if (!json_array_size(rows)) {
            json_decref(rows);
            break;
        }
        assert_int_equal(rpc(t, kv, DST,
                             json_pack("[sos]", "merge_items", rows, src_id),
                             NULL),
                         202);
        point = last;
    }
}

static json_t *info_of(struct kvdb *kv, const struct db_repl_type *t,
                       const unsigned char hash[16], struct db_repl_info *out)
{
    struct db_repl_db db;

    db_repl_db_init(&db, kv, PART, hash);
    assert_int_equal(t->read_info(&db, out), 0);
    return out->json;
}

static void test_container_copy_made_whole(void **state)
{
    struct db_fixture *f = *state;
    struct contdb src, dst;
    struct contdb_info a = {0}, b = {0};
    struct db_repl_info si = {0};
    json_t *resp;
    int64_t point;

    contdb_init(&src, f->kv, PART, SRC);
    contdb_init(&dst, f->kv, PART, DST);
    assert_int_equal(
        contdb_create(&src, "AUTH_a", "c", TS("1700000000.00000"), 0), 0);
    put_obj(&src, "o1", "1700000001.00000", 10);
    put_obj(&src, "o2", "1700000002.00000", 20);
    put_obj(&src, "o3", "1700000003.00000", 30);
    assert_int_equal(
        contdb_delete_object(&src, "o2", 2, TS("1700000004.00000"), 0, 0), 0);
    set_meta(&src, "X-Container-Meta-Color", "blue", "1700000005.00000");
    info_of(f->kv, &db_repl_container, SRC, &si);

    /* no copy: sync is 404, complete makes one */
    assert_int_equal(rpc(&db_repl_container, f->kv, DST,
                         json_pack("[sO]", "sync", si.json), NULL),
                     404);
    assert_int_equal(rpc(&db_repl_container, f->kv, DST,
                         json_pack("[sO]", "complete", si.json), &resp),
                     201);
    assert_int_equal(json_integer_value(json_object_get(resp, "point")), -1);
    json_decref(resp);
    push_rows(f->kv, &db_repl_container, si.id);

    assert_int_equal(contdb_get_info(&src, &a), 0);
    assert_int_equal(contdb_get_info(&dst, &b), 0);
    assert_string_equal(b.account, "AUTH_a");
    assert_string_equal(b.container, "c");
    assert_int_equal(b.object_count, 2);
    assert_int_equal(b.bytes_used, 40);
    assert_int_equal(db_ts_cmp(&a.created_at, &b.created_at), 0);
    assert_int_equal(db_ts_cmp(&a.put_timestamp, &b.put_timestamp), 0);
    assert_string_equal(db_meta_get(&b.meta, "X-Container-Meta-Color")->value,
                        "blue");
    assert_string_not_equal(a.id, b.id); /* a copy has its own id */
    /* the deleted row came too, as a tombstone */
    {
        struct contdb_object o;
        void *buf;

        assert_int_equal(contdb_get_object(&dst, "o2", 2, &o, &buf), 0);
        assert_true(o.deleted);
        free(buf);
    }
    /* we know what we have from the sender */
    assert_int_equal(
        dbrepl_get_sync(f->kv, dst.prefix, a.id, DBREPL_INCOMING, &point), 0);
    assert_int_equal(point, (int64_t)a.max_row);
    /* and sync says so */
    assert_int_equal(rpc(&db_repl_container, f->kv, DST,
                         json_pack("[sO]", "sync", si.json), &resp),
                     200);
    assert_int_equal(json_integer_value(json_object_get(resp, "point")),
                     (int64_t)a.max_row);
    json_decref(resp);
    contdb_info_release(&a);
    contdb_info_release(&b);
    db_repl_info_release(&si);
}

static void test_newest_wins(void **state)
{
    struct db_fixture *f = *state;
    struct contdb src, dst;
    struct contdb_info b = {0};
    struct db_repl_info si = {0};
    struct contdb_object o;
    void *buf;

    contdb_init(&src, f->kv, PART, SRC);
    contdb_init(&dst, f->kv, PART, DST);
    assert_int_equal(contdb_create(&src, "a", "c", TS("100.0"), 0), 0);
    assert_int_equal(contdb_create(&dst, "a", "c", TS("100.0"), 0), 0);
    put_obj(&src, "old", "200.0", 1);
    put_obj(&dst, "old", "300.0", 7); /* newer here */
    put_obj(&src, "new", "400.0", 5);
    set_meta(&src, "X-Container-Meta-A", "src", "500.0");
    set_meta(&dst, "X-Container-Meta-A", "dst", "600.0");
    set_meta(&src, "X-Container-Meta-B", "src", "500.0");
    assert_int_equal(contdb_delete_db(&src, TS("50.0")),
                     0); /* older than the put: changes nothing live */
    info_of(f->kv, &db_repl_container, SRC, &si);

    assert_int_equal(rpc(&db_repl_container, f->kv, DST,
                         json_pack("[sO]", "sync", si.json), NULL),
                     200);
    push_rows(f->kv, &db_repl_container, si.id);
    assert_int_equal(contdb_get_info(&dst, &b), 0);
    assert_int_equal(b.object_count, 2);
    assert_int_equal(b.bytes_used, 12);
    assert_string_equal(db_meta_get(&b.meta, "X-Container-Meta-A")->value,
                        "dst");
    assert_string_equal(db_meta_get(&b.meta, "X-Container-Meta-B")->value,
                        "src");
    assert_false(contdb_info_is_deleted(&b));
    assert_int_equal(contdb_get_object(&dst, "old", 3, &o, &buf), 0);
    assert_int_equal(o.size, 7);
    free(buf);
    contdb_info_release(&b);
    db_repl_info_release(&si);
}

static void test_deleted_account_copied(void **state)
{
    struct db_fixture *f = *state;
    struct acctdb src, dst;
    struct acctdb_info b = {0};
    struct db_repl_info si = {0};
    struct acctdb_container c = {.name = "c1",
                                 .name_len = 2,
                                 .put_timestamp = ts_of("110.0"),
                                 .object_count = 3,
                                 .bytes_used = 30};

    acctdb_init(&src, f->kv, PART, SRC);
    acctdb_init(&dst, f->kv, PART, DST);
    assert_int_equal(acctdb_create(&src, "AUTH_a", TS("100.0")), 0);
    assert_int_equal(acctdb_put_container(&src, &c, 0), 0);
    c.name = "c2";
    c.put_timestamp = ts_of("120.0");
    c.delete_timestamp = ts_of("130.0");
    c.object_count = 0;
    c.bytes_used = 0;
    assert_int_equal(acctdb_put_container(&src, &c, 0), 0);
    assert_int_equal(acctdb_delete_db(&src, TS("200.0")), 0);
    info_of(f->kv, &db_repl_account, SRC, &si);
    assert_int_equal(rpc(&db_repl_account, f->kv, DST,
                         json_pack("[sO]", "complete", si.json), NULL),
                     201);
    push_rows(f->kv, &db_repl_account, si.id);
    assert_int_equal(acctdb_get_info(&dst, &b), 0);
    assert_true(b.status_deleted);
    assert_true(acctdb_info_is_deleted(&b));
    assert_int_equal(b.container_count, 1);
    assert_int_equal(b.object_count, 3);
    assert_int_equal(b.bytes_used, 30);
    acctdb_info_release(&b);
    db_repl_info_release(&si);
}

static void test_merge_syncs(void **state)
{
    struct db_fixture *f = *state;
    struct contdb dst;
    struct db_repl_db db;
    json_t *syncs;
    int64_t point;

    contdb_init(&dst, f->kv, PART, DST);
    assert_int_equal(contdb_create(&dst, "a", "c", TS("100.0"), 0), 0);
    assert_int_equal(rpc(&db_repl_container, f->kv, DST,
                         json_pack("[s[{s:s,s:i},{s:s,s:i}]]", "merge_syncs",
                                   "remote_id", "peer-1", "sync_point", 7,
                                   "remote_id", "peer-2", "sync_point", 3),
                         NULL),
                     202);
    /* only forward */
    assert_int_equal(rpc(&db_repl_container, f->kv, DST,
                         json_pack("[s[{s:s,s:i}]]", "merge_syncs", "remote_id",
                                   "peer-1", "sync_point", 2),
                         NULL),
                     202);
    assert_int_equal(
        dbrepl_get_sync(f->kv, dst.prefix, "peer-1", DBREPL_INCOMING, &point),
        0);
    assert_int_equal(point, 7);
    db_repl_db_init(&db, f->kv, PART, DST);
    syncs = db_repl_incoming_syncs(&db);
    assert_non_null(syncs);
    assert_int_equal(json_array_size(syncs), 2);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(syncs, 1), "remote_id")),
                        "peer-2");
    json_decref(syncs);
}

static void test_malformed_refused(void **state)
{
    static const char *const bodies[] = {
        "{}",
        "[]",
        "[1]",
        "[\"nosuch\"]",
        "[\"sync\"]",
        "[\"sync\", {}]",
        "[\"sync\", {\"id\": \"x\"}]",
        "[\"sync\", {\"id\": \"x\", \"put_timestamp\": \"1.0\", "
        "\"delete_timestamp\": \"0\", \"metadata\": {\"k\": [\"v\"]}}]",
        "[\"sync\", {\"id\": \"x\", \"put_timestamp\": \"1.0\", "
        "\"delete_timestamp\": \"0\", \"metadata\": {\"k\": \"v\"}}]",
        "[\"sync\", {\"id\": \"x\", \"put_timestamp\": \"1.0x\", "
        "\"delete_timestamp\": \"0\", \"metadata\": {}}]",
        "[\"complete\", {\"id\": \"x\", \"put_timestamp\": \"1.0\", "
        "\"delete_timestamp\": \"0\", \"metadata\": {}}]",
        "[\"merge_items\", [], 5]",
        "[\"merge_items\", {}, \"x\"]",
        "[\"merge_items\", [{\"name\": \"\"}], \"x\"]",
        "[\"merge_items\", [{\"name\": \"o\", \"created_at\": \"1.0\", "
        "\"ctype_timestamp\": \"1.0\", \"meta_timestamp\": \"1.0\", "
        "\"size\": 1, \"content_type\": \"a\\u0000b\", \"etag\": \"e\", "
        "\"deleted\": 0, \"storage_policy_index\": 0, \"ROWID\": 1}], "
        "\"x\"]",
        "[\"merge_items\", [{\"name\": \"o\", \"created_at\": \"1.0\", "
        "\"ctype_timestamp\": \"1.0\", \"meta_timestamp\": \"1.0\", "
        "\"size\": 1, \"content_type\": \"a\", \"etag\": \"e\", "
        "\"deleted\": 2, \"storage_policy_index\": 0, \"ROWID\": 1}], "
        "\"x\"]",
        "[\"merge_items\", [{\"name\": \"o\", \"created_at\": \"1.0\", "
        "\"ctype_timestamp\": \"1.0\", \"meta_timestamp\": \"1.0\", "
        "\"size\": 1, \"content_type\": \"a\", \"etag\": \"e\", "
        "\"deleted\": 0, \"storage_policy_index\": -1, \"ROWID\": 1}], "
        "\"x\"]",
        "[\"merge_syncs\", [{\"remote_id\": \"x\"}]]",
        "[\"merge_syncs\", [{\"remote_id\": \"\", \"sync_point\": 1}]]",
    };
    struct db_fixture *f = *state;
    struct contdb dst;
    struct contdb_info b = {0};

    contdb_init(&dst, f->kv, PART, DST);
    assert_int_equal(contdb_create(&dst, "a", "c", TS("100.0"), 0), 0);
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        json_t *args = json_loads(bodies[i], JSON_ALLOW_NUL, NULL);

        assert_non_null(args);
        if (rpc(&db_repl_container, f->kv, DST, args, NULL) != 400)
            fail_msg("not refused: %s", bodies[i]);
    }
    /* nothing was written */
    assert_int_equal(contdb_get_info(&dst, &b), 0);
    assert_int_equal(b.max_row, 0);
    assert_int_equal(b.meta.n, 0);
    contdb_info_release(&b);
}

/* Account rows never name a container with NUL (no path carries one). */
static void test_account_row_name_with_nul_refused(void **state)
{
    struct db_fixture *f = *state;
    struct acctdb dst;
    json_t *args;

    acctdb_init(&dst, f->kv, PART, DST);
    assert_int_equal(acctdb_create(&dst, "a", TS("100.0")), 0);
    args = json_loads("[\"merge_items\", [{\"name\": \"c\\u0000x\", "
                      "\"put_timestamp\": \"1.0\", \"delete_timestamp\": "
                      "\"0\", \"object_count\": 0, \"bytes_used\": 0, "
                      "\"storage_policy_index\": 0, \"ROWID\": 1}], \"x\"]",
                      JSON_ALLOW_NUL, NULL);
    assert_non_null(args);
    assert_int_equal(rpc(&db_repl_account, f->kv, DST, args, NULL), 400);
}

static void test_rows_split_by_size(void **state)
{
    struct db_fixture *f = *state;
    struct contdb src;
    struct db_repl_db db;
    json_t *rows = json_array();
    int64_t last;

    contdb_init(&src, f->kv, PART, SRC);
    assert_int_equal(contdb_create(&src, "a", "c", TS("100.0"), 0), 0);
    put_obj(&src, "o1", "200.0", 1);
    put_obj(&src, "o2", "201.0", 1);
    db_repl_db_init(&db, f->kv, PART, SRC);
    /* a budget smaller than one row still gives one */
    assert_int_equal(db_repl_container.rows_since(&db, -1, 100, 1, rows, &last),
                     0);
    assert_int_equal(json_array_size(rows), 1);
    assert_int_equal(last, 1);
    json_decref(rows);
}

int main(void)
{
#define T(fn)                                                                  \
    cmocka_unit_test_setup_teardown(fn, db_fixture_setup, db_fixture_teardown)
    const struct CMUnitTest tests[] = {
        T(test_container_copy_made_whole),
        T(test_newest_wins),
        T(test_deleted_account_copied),
        T(test_merge_syncs),
        T(test_malformed_refused),
        T(test_rows_split_by_size),
        T(test_account_row_name_with_nul_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
