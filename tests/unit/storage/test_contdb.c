/* Description: container DBs: creation and info, Swift's object row merge
 * (replayed against Swift 2.30's results in data/storage/merge_cases.json,
 * made by make_swift_merges.py), stats kept with rows, deleted and empty
 * states, metadata rules, the change feed, reclaim and destroy. */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "db_fixture.h"
#include "storage/contdb.h"

static const unsigned char hash1[16] = {1};
static const unsigned char hash2[16] = {2};

static struct contdb open_db(struct db_fixture *f, const unsigned char *h)
{
    struct contdb db;
    struct db_ts t = ts_of("1700000000.00000");

    contdb_init(&db, f->kv, 3, h);
    assert_int_equal(contdb_create(&db, "AUTH_a", "c", &t, 0), 0);
    return db;
}

static void put(struct contdb *db, const char *name, const char *ts,
                int64_t size)
{
    struct contdb_object o = {
        .name = name,
        .name_len = strlen(name),
        .created_at = ts_of(ts),
        .size = size,
        .content_type = "text/plain",
        .etag = "etag",
    };

    assert_int_equal(contdb_put_object(db, &o, 0), 0);
}

static void expect_stats(struct contdb *db, int64_t count, int64_t bytes)
{
    struct contdb_info info;

    assert_int_equal(contdb_get_info(db, &info), 0);
    assert_int_equal(info.object_count, count);
    assert_int_equal(info.bytes_used, bytes);
    contdb_info_release(&info);
}

static void test_create_and_info(void **state)
{
    struct db_fixture *f = *state;
    struct contdb db = open_db(f, hash1), other;
    struct db_ts t = ts_of("1700000000.00000");
    struct contdb_info info;

    assert_int_equal(contdb_create(&db, "AUTH_a", "c", &t, 0), -EEXIST);
    assert_int_equal(contdb_get_info(&db, &info), 0);
    assert_string_equal(info.account, "AUTH_a");
    assert_string_equal(info.container, "c");
    assert_int_equal(db_ts_cmp(&info.put_timestamp, &t), 0);
    assert_int_equal(db_ts_cmp(&info.created_at, &t), 0);
    assert_int_equal(info.delete_timestamp.raw, 0);
    assert_int_equal(strlen(info.id), 36);
    assert_int_equal(info.object_count, 0);
    contdb_info_release(&info);
    contdb_init(&other, f->kv, 3, hash2);
    assert_int_equal(contdb_get_info(&other, &info), -ENOENT);
    contdb_info_release(&info);
    put(&db, "x", "1700000001", 1);
    {
        struct contdb_object o = {
            .name = "x", .name_len = 1, .content_type = "", .etag = ""};

        assert_int_equal(contdb_put_object(&other, &o, 0), -ENOENT);
    }
}

static void test_stats_follow_rows(void **state)
{
    struct db_fixture *f = *state;
    struct contdb db = open_db(f, hash1);
    struct db_ts t;

    put(&db, "a", "1700000001", 10);
    put(&db, "b", "1700000001", 5);
    expect_stats(&db, 2, 15);
    put(&db, "a", "1700000002", 3); /* replaced: the difference */
    expect_stats(&db, 2, 8);
    put(&db, "a", "1700000001.5", 100); /* older: ignored */
    expect_stats(&db, 2, 8);
    put(&db, "a", "1700000002", 100); /* same timestamp: ignored */
    expect_stats(&db, 2, 8);
    t = ts_of("1700000003");
    assert_int_equal(contdb_delete_object(&db, "a", 1, &t, 0, KVDB_SYNC), 0);
    expect_stats(&db, 1, 5);
    assert_int_equal(contdb_delete_object(&db, "a", 1, &t, 0, 0), 0);
    expect_stats(&db, 1, 5);
    put(&db, "a", "1700000002.9", 7); /* older than the delete */
    expect_stats(&db, 1, 5);
    put(&db, "a", "1700000004", 7); /* newer: back */
    expect_stats(&db, 2, 12);
}

static void test_batch_with_a_name_twice(void **state)
{
    struct db_fixture *f = *state;
    struct contdb db = open_db(f, hash1);
    struct contdb_object o[3] = {
        {.name = "n",
         .name_len = 1,
         .created_at = ts_of("5"),
         .size = 1,
         .content_type = "t",
         .etag = "e"},
        {.name = "m",
         .name_len = 1,
         .created_at = ts_of("5"),
         .size = 2,
         .content_type = "t",
         .etag = "e"},
        {.name = "n",
         .name_len = 1,
         .created_at = ts_of("6"),
         .size = 4,
         .content_type = "t",
         .etag = "e"},
    };

    assert_int_equal(contdb_merge_objects(&db, o, 3, 0), 0);
    expect_stats(&db, 2, 6);
}

static void test_bad_names(void **state)
{
    struct db_fixture *f = *state;
    struct contdb db = open_db(f, hash1);
    char *long_name = malloc(CONTDB_MAX_NAME_LEN + 1);
    struct contdb_object o = {
        .created_at = ts_of("5"), .content_type = "t", .etag = "e"};

    memset(long_name, 'x', CONTDB_MAX_NAME_LEN + 1);
    o.name = long_name;
    o.name_len = CONTDB_MAX_NAME_LEN + 1;
    assert_int_equal(contdb_put_object(&db, &o, 0), -EINVAL);
    o.name_len = CONTDB_MAX_NAME_LEN;
    assert_int_equal(contdb_put_object(&db, &o, 0), 0);
    o.name_len = 0;
    assert_int_equal(contdb_put_object(&db, &o, 0), -EINVAL);
    expect_stats(&db, 1, 0);
    free(long_name);
}

static void test_delete_db_and_revive(void **state)
{
    struct db_fixture *f = *state;
    struct contdb db = open_db(f, hash1);
    struct db_meta m = {0};
    struct contdb_info info;
    struct db_ts t;
    bool revived;

    t = ts_of("1700000001");
    assert_int_equal(db_meta_set(&m, "X-Container-Meta-Color", "blue", &t), 1);
    assert_int_equal(contdb_update_metadata(&db, &m, true), 0);
    put(&db, "a", "1700000001", 1);
    assert_int_equal(contdb_get_info(&db, &info), 0);
    /* the server refuses (409) a DELETE while object_count > 0 */
    assert_int_not_equal(info.object_count, 0);
    assert_false(contdb_info_is_deleted(&info));
    contdb_info_release(&info);
    t = ts_of("1700000002");
    assert_int_equal(contdb_delete_object(&db, "a", 1, &t, 0, 0), 0);
    t = ts_of("1700000003");
    assert_int_equal(contdb_delete_db(&db, &t), 0);
    assert_int_equal(contdb_get_info(&db, &info), 0);
    assert_true(contdb_info_is_deleted(&info));
    assert_string_equal(
        db_meta_get(&info.meta, "X-Container-Meta-Color")->value, "");
    contdb_info_release(&info);
    t = ts_of("1700000002.5"); /* older PUT: still deleted */
    assert_int_equal(contdb_update_put_timestamp(&db, &t, &revived), 0);
    assert_false(revived);
    t = ts_of("1700000004");
    assert_int_equal(contdb_update_put_timestamp(&db, &t, &revived), 0);
    assert_true(revived);
    assert_int_equal(contdb_get_info(&db, &info), 0);
    assert_false(contdb_info_is_deleted(&info));
    assert_int_equal(db_ts_cmp(&info.status_changed_at, &t), 0);
    assert_int_equal(info.reported_put_timestamp.raw, 0);
    contdb_info_release(&info);
    assert_int_equal(contdb_set_reported(&db, &t, &t, 3, 4), 0);
    assert_int_equal(contdb_get_info(&db, &info), 0);
    assert_int_equal(db_ts_cmp(&info.reported_put_timestamp, &t), 0);
    assert_int_equal(db_ts_cmp(&info.reported_delete_timestamp, &t), 0);
    assert_int_equal(info.reported_object_count, 3);
    assert_int_equal(info.reported_bytes_used, 4);
    assert_string_equal(
        db_meta_get(&info.meta, "X-Container-Meta-Color")->value, "");
    contdb_info_release(&info);
    db_meta_release(&m);
}

static void test_metadata_rules(void **state)
{
    struct db_fixture *f = *state;
    struct contdb db = open_db(f, hash1);
    struct db_meta m = {0};
    struct contdb_info info;
    struct db_ts t1 = ts_of("1700000001"), t2 = ts_of("1700000002");
    char key[64];

    db_meta_set(&m, "X-Container-Meta-A", "1", &t2);
    db_meta_set(&m, "X-Container-Meta-B", "2", &t1);
    assert_int_equal(contdb_update_metadata(&db, &m, true), 0);
    db_meta_release(&m);
    db_meta_set(&m, "X-Container-Meta-A", "old", &t1); /* older: kept */
    db_meta_set(&m, "X-Container-Meta-B", "", &t2);    /* removed */
    assert_int_equal(contdb_update_metadata(&db, &m, true), 0);
    db_meta_release(&m);
    assert_int_equal(contdb_get_info(&db, &info), 0);
    assert_string_equal(db_meta_get(&info.meta, "X-Container-Meta-A")->value,
                        "1");
    assert_string_equal(db_meta_get(&info.meta, "X-Container-Meta-B")->value,
                        "");
    contdb_info_release(&info);
    /* 91 user keys are over Swift's max_meta_count: nothing written */
    for (int i = 0; i < 91; i++) {
        snprintf(key, sizeof(key), "X-Container-Meta-K%d", i);
        db_meta_set(&m, key, "v", &t2);
    }
    assert_int_equal(contdb_update_metadata(&db, &m, true), -EINVAL);
    assert_int_equal(contdb_get_info(&db, &info), 0);
    assert_null(db_meta_get(&info.meta, "X-Container-Meta-K0"));
    contdb_info_release(&info);
    db_meta_release(&m);
}

struct feed {
    char names[16][8];
    uint64_t seqs[16];
    size_t n;
};

static int collect(const struct contdb_object *o, void *arg)
{
    struct feed *fd = arg;

    snprintf(fd->names[fd->n], 8, "%.*s", (int)o->name_len, o->name);
    fd->seqs[fd->n++] = o->seq;
    return 0;
}

static void test_changes_since(void **state)
{
    struct db_fixture *f = *state;
    struct contdb db = open_db(f, hash1);
    struct feed fd = {0};
    struct contdb_info info;

    put(&db, "a", "1", 1);
    put(&db, "b", "1", 1);
    put(&db, "c", "1", 1);
    put(&db, "a", "2", 1); /* a moves to the end */
    assert_int_equal(contdb_changes_since(&db, 0, 100, collect, &fd), 0);
    assert_int_equal(fd.n, 3);
    assert_string_equal(fd.names[0], "b");
    assert_string_equal(fd.names[1], "c");
    assert_string_equal(fd.names[2], "a");
    assert_int_equal(fd.seqs[2], 4);
    fd.n = 0;
    assert_int_equal(contdb_changes_since(&db, 2, 1, collect, &fd), 0);
    assert_int_equal(fd.n, 1);
    assert_string_equal(fd.names[0], "c");
    assert_int_equal(contdb_get_info(&db, &info), 0);
    assert_int_equal(info.max_row, 4);
    contdb_info_release(&info);
}

static void test_reclaim_and_destroy(void **state)
{
    struct db_fixture *f = *state;
    struct contdb db = open_db(f, hash1), other = open_db(f, hash2);
    struct db_ts t = ts_of("100"), age = ts_of("150");
    struct db_meta m = {0};
    struct contdb_object o;
    struct contdb_info info;
    size_t n;
    void *buf;

    put(&other, "keep", "1", 1);
    put(&db, "live", "1", 1);
    assert_int_equal(contdb_delete_object(&db, "old", 3, &t, 0, 0), 0);
    t = ts_of("200");
    assert_int_equal(contdb_delete_object(&db, "new", 3, &t, 0, 0), 0);
    t = ts_of("120");
    db_meta_set(&m, "X-Container-Meta-Gone", "", &t);
    assert_int_equal(contdb_update_metadata(&db, &m, false), 0);
    assert_int_equal(contdb_reclaim(&db, &age, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(contdb_get_object(&db, "old", 3, &o, &buf), -ENOENT);
    assert_int_equal(contdb_get_object(&db, "new", 3, &o, &buf), 0);
    assert_true(o.deleted);
    assert_string_equal(o.content_type, "application/deleted");
    assert_string_equal(o.etag, "noetag");
    free(buf);
    assert_int_equal(contdb_get_info(&db, &info), 0);
    assert_null(db_meta_get(&info.meta, "X-Container-Meta-Gone"));
    assert_int_equal(info.object_count, 1);
    contdb_info_release(&info);
    assert_int_equal(contdb_destroy(&db), 0);
    assert_int_equal(contdb_get_info(&db, &info), -ENOENT);
    contdb_info_release(&info);
    assert_int_equal(contdb_get_object(&db, "live", 4, &o, &buf), -ENOENT);
    expect_stats(&other, 1, 1);
    db_meta_release(&m);
}

struct writer {
    struct contdb *db;
    int id;
};

static void *write_rows(void *arg)
{
    struct writer *w = arg;
    char name[32];

    for (int i = 0; i < 200; i++) {
        /* every writer also rewrites a shared name, newest wins */
        int shared = i % 4 == 0;
        struct contdb_object o = {
            .name = name,
            .created_at = {.raw = 100000 + (uint64_t)(i * 8 + w->id)},
            .size = shared ? 1000 : 1,
            .content_type = "t",
            .etag = "e",
        };

        o.name_len =
            (size_t)(shared ? snprintf(name, sizeof(name), "shared")
                            : snprintf(name, sizeof(name), "w%d-%d", w->id, i));
        if (contdb_put_object(w->db, &o, i % 10 == 0 ? KVDB_SYNC : 0))
            return (void *)1;
    }
    return NULL;
}

/* Concurrent writers of one container never lose a stats update. */
static void test_concurrent_writers(void **state)
{
    struct db_fixture *f = *state;
    struct contdb db = open_db(f, hash1);
    struct writer w[8];
    pthread_t th[8];
    void *ret;

    for (int i = 0; i < 8; i++) {
        w[i] = (struct writer){&db, i};
        assert_int_equal(pthread_create(&th[i], NULL, write_rows, &w[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        assert_int_equal(pthread_join(th[i], &ret), 0);
        assert_null(ret);
    }
    /* 8 x 150 private rows of 1 byte, one shared row of 1000 */
    expect_stats(&db, 8 * 150 + 1, 8 * 150 + 1000);
}

/* A damaged value is an error for that DB, never a crash. */
static void test_corrupt_values(void **state)
{
    struct db_fixture *f = *state;
    struct contdb db = open_db(f, hash1);
    struct listing_params p = {.limit = 10};
    struct kvdb_batch *b = kvdb_batch_new();
    unsigned char key[DB_KEY_PREFIX_LEN + 2];
    struct contdb_object o;
    struct contdb_info info;
    struct listing l = {0};
    void *buf;

    put(&db, "a", "1", 1);
    memcpy(key, db.prefix, DB_KEY_PREFIX_LEN);
    key[DB_KEY_PREFIX_LEN] = DB_KEY_ROW;
    key[DB_KEY_PREFIX_LEN + 1] = 'b';
    kvdb_batch_put(b, key, sizeof(key), "\x01\xff\xff", 3);
    assert_int_equal(kvdb_write(f->kv, b, 0), 0);
    assert_int_equal(contdb_get_object(&db, "b", 1, &o, &buf), -EINVAL);
    assert_null(buf);
    assert_int_equal(contdb_list(&db, &p, &l), -EINVAL);
    listing_release(&l);
    {
        struct contdb_object up = {.name = "b",
                                   .name_len = 1,
                                   .created_at = ts_of("2"),
                                   .content_type = "t",
                                   .etag = "e"};

        assert_int_equal(contdb_put_object(&db, &up, 0), -EINVAL);
    }
    kvdb_batch_clear(b);
    key[DB_KEY_PREFIX_LEN] = DB_KEY_INFO;
    kvdb_batch_put(b, key, DB_KEY_PREFIX_LEN + 1,
                   "\x01\x05"
                   "ab",
                   4);
    assert_int_equal(kvdb_write(f->kv, b, 0), 0);
    assert_int_equal(contdb_get_info(&db, &info), -EINVAL);
    contdb_info_release(&info);
    kvdb_batch_free(b);
}

static struct db_ts ts_or_zero(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    return json_is_string(v) ? ts_of(json_string_value(v)) : (struct db_ts){0};
}

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static void test_merge_matches_swift(void **state)
{
    struct db_fixture *f = *state;
    struct contdb db = open_db(f, hash1);
    struct contdb_object batch[7];
    size_t nbatch = 0;
    json_error_t jerr;
    json_t *cases, *o;
    size_t i;

    cases = json_load_file(TEST_DATA "/storage/merge_cases.json", 0, &jerr);
    assert_non_null(cases);
    /* In batches of 7, as a group-committing server merges them; a name
     * can come twice in one batch. */
    json_array_foreach(json_object_get(cases, "objects"), i, o)
    {
        struct contdb_object obj = {
            .name = str(o, "name"),
            .name_len = strlen(str(o, "name")),
            .created_at = ts_of(str(o, "created_at")),
            .ctype_timestamp = ts_or_zero(o, "ctype_timestamp"),
            .meta_timestamp = ts_or_zero(o, "meta_timestamp"),
            .size = json_integer_value(json_object_get(o, "size")),
            .content_type = str(o, "content_type"),
            .etag = str(o, "etag"),
            .deleted = json_integer_value(json_object_get(o, "deleted")),
        };

        batch[nbatch++] = obj;
        if (nbatch == 7) {
            assert_int_equal(contdb_merge_objects(&db, batch, nbatch, 0), 0);
            nbatch = 0;
        }
    }
    assert_int_equal(contdb_merge_objects(&db, batch, nbatch, 0), 0);
    json_array_foreach(json_object_get(cases, "object_rows"), i, o)
    {
        struct contdb_object got;
        void *buf;
        struct db_ts want;

        assert_int_equal(contdb_get_object(&db, str(o, "name"),
                                           strlen(str(o, "name")), &got, &buf),
                         0);
        want = ts_of(str(o, "created_at"));
        assert_int_equal(db_ts_cmp(&got.created_at, &want), 0);
        want = ts_of(str(o, "ctype_timestamp"));
        assert_int_equal(db_ts_cmp(&got.ctype_timestamp, &want), 0);
        want = ts_of(str(o, "meta_timestamp"));
        assert_int_equal(db_ts_cmp(&got.meta_timestamp, &want), 0);
        assert_int_equal(got.size,
                         json_integer_value(json_object_get(o, "size")));
        assert_string_equal(got.content_type, str(o, "content_type"));
        assert_string_equal(got.etag, str(o, "etag"));
        assert_int_equal(got.deleted,
                         json_integer_value(json_object_get(o, "deleted")));
        free(buf);
    }
    expect_stats(&db,
                 json_integer_value(json_object_get(cases, "object_count")),
                 json_integer_value(json_object_get(cases, "bytes_used")));
    json_decref(cases);
}

#define T(fn)                                                                  \
    cmocka_unit_test_setup_teardown(fn, db_fixture_setup, db_fixture_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_create_and_info),         T(test_stats_follow_rows),
        T(test_batch_with_a_name_twice), T(test_bad_names),
        T(test_delete_db_and_revive),    T(test_metadata_rules),
        T(test_changes_since),           T(test_reclaim_and_destroy),
        T(test_merge_matches_swift),     T(test_corrupt_values),
        T(test_concurrent_writers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
