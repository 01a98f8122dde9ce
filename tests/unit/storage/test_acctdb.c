/* Description: account DBs: info, container rows as container servers
 * report them (older timestamps never roll back, replayed against Swift
 * 2.30's AccountBroker in data/storage/merge_cases.json), stats kept in
 * the same batch (in total and per storage policy), deletion, metadata,
 * reclaim. */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "db_fixture.h"
#include "storage/acctdb.h"

static const unsigned char hash1[16] = {9};

static struct acctdb open_db(struct db_fixture *f)
{
    struct acctdb db;
    struct db_ts t = ts_of("1700000000");

    acctdb_init(&db, f->kv, 5, hash1);
    assert_int_equal(acctdb_create(&db, "AUTH_a", &t), 0);
    return db;
}

static void report(struct acctdb *db, const char *name, const char *put,
                   const char *del, int64_t count, int64_t bytes)
{
    struct acctdb_container c = {
        .name = name,
        .name_len = strlen(name),
        .put_timestamp = ts_of(put),
        .delete_timestamp = ts_of(del),
        .object_count = count,
        .bytes_used = bytes,
    };

    assert_int_equal(acctdb_put_container(db, &c, 0), 0);
}

static void expect_stats(struct acctdb *db, int64_t containers, int64_t objects,
                         int64_t bytes)
{
    struct acctdb_info info;

    assert_int_equal(acctdb_get_info(db, &info), 0);
    assert_int_equal(info.container_count, containers);
    assert_int_equal(info.object_count, objects);
    assert_int_equal(info.bytes_used, bytes);
    acctdb_info_release(&info);
}

static void test_rows_and_stats(void **state)
{
    struct db_fixture *f = *state;
    struct acctdb db = open_db(f);
    struct acctdb_container c;
    struct db_ts want;
    void *buf;

    report(&db, "c1", "10", "0", 3, 300);
    report(&db, "c2", "10", "0", 1, 10);
    expect_stats(&db, 2, 4, 310);
    report(&db, "c1", "10", "0", 5, 500); /* new counts replace */
    expect_stats(&db, 2, 6, 510);
    /* an older put_timestamp does not roll the row's back */
    report(&db, "c1", "5", "0", 5, 500);
    assert_int_equal(acctdb_get_container(&db, "c1", 2, &c, &buf), 0);
    want = ts_of("10");
    assert_int_equal(db_ts_cmp(&c.put_timestamp, &want), 0);
    free(buf);
    /* deleted: delete_timestamp newer and no objects */
    report(&db, "c2", "0", "20", 0, 0);
    expect_stats(&db, 1, 5, 500);
    assert_int_equal(acctdb_get_container(&db, "c2", 2, &c, &buf), 0);
    assert_true(c.deleted);
    want = ts_of("10");
    assert_int_equal(db_ts_cmp(&c.put_timestamp, &want), 0);
    free(buf);
    /* a late report from before the delete does not revive it */
    report(&db, "c2", "15", "0", 0, 0);
    expect_stats(&db, 1, 5, 500);
    report(&db, "c2", "30", "0", 0, 0); /* re-created */
    expect_stats(&db, 2, 5, 500);
}

static void test_delete_and_reclaim(void **state)
{
    struct db_fixture *f = *state;
    struct acctdb db = open_db(f);
    struct acctdb_info info;
    struct acctdb_container c;
    struct db_ts t = ts_of("1700000100"), age = ts_of("100");
    size_t n;
    void *buf;
    bool revived;

    report(&db, "old", "10", "50", 0, 7);
    report(&db, "new", "10", "150", 0, 0);
    expect_stats(&db, 0, 0, 7);
    assert_int_equal(acctdb_reclaim(&db, &age, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(acctdb_get_container(&db, "old", 3, &c, &buf), -ENOENT);
    expect_stats(&db, 0, 0, 0);
    assert_int_equal(acctdb_delete_db(&db, &t), 0);
    assert_int_equal(acctdb_get_info(&db, &info), 0);
    assert_true(acctdb_info_is_deleted(&info));
    assert_true(info.status_deleted);
    acctdb_info_release(&info);
    /* status DELETED stays: Swift's account server answers 403 */
    t = ts_of("1700000200");
    assert_int_equal(acctdb_update_put_timestamp(&db, &t, &revived), 0);
    assert_false(revived);
    assert_int_equal(acctdb_destroy(&db), 0);
    assert_int_equal(acctdb_get_info(&db, &info), -ENOENT);
    acctdb_info_release(&info);
}

static void test_listing_skips_deleted(void **state)
{
    struct db_fixture *f = *state;
    struct acctdb db = open_db(f);
    struct listing_params p = {.limit = 100};
    struct listing l = {0};

    report(&db, "a", "10", "0", 1, 1);
    report(&db, "b", "10", "20", 0, 0);
    report(&db, "c", "10", "0", 2, 2);
    assert_int_equal(acctdb_list(&db, &p, &l), 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(listing_str(&l, l.entries[1].name), "c");
    assert_int_equal(l.entries[1].count, 2);
    listing_release(&l);
}

static void report_policy(struct acctdb *db, const char *name,
                          const char *put, const char *del, int64_t count,
                          int64_t bytes, uint32_t policy)
{
    struct acctdb_container c = {
        .name = name,
        .name_len = strlen(name),
        .put_timestamp = ts_of(put),
        .delete_timestamp = ts_of(del),
        .object_count = count,
        .bytes_used = bytes,
        .storage_policy_index = policy,
    };

    assert_int_equal(acctdb_put_container(db, &c, 0), 0);
}

static void expect_policy(const struct acctdb_info *info, size_t i,
                          uint32_t index, int64_t containers, int64_t objects,
                          int64_t bytes)
{
    assert_true(i < info->n_policies);
    assert_int_equal(info->policies[i].index, index);
    assert_int_equal(info->policies[i].container_count, containers);
    assert_int_equal(info->policies[i].object_count, objects);
    assert_int_equal(info->policies[i].bytes_used, bytes);
}

/* Swift's policy_stat: per policy sums, in index order; an entry stays
 * at zero once its rows are deleted and reclaimed. */
static void test_policy_stats(void **state)
{
    struct db_fixture *f = *state;
    struct acctdb db = open_db(f);
    struct acctdb_info info;
    struct db_ts age = ts_of("100");
    size_t n;

    assert_int_equal(acctdb_get_info(&db, &info), 0);
    assert_int_equal(info.n_policies, 0);
    acctdb_info_release(&info);
    report_policy(&db, "b", "10", "0", 2, 20, 2);
    report_policy(&db, "a", "10", "0", 1, 10, 0);
    report_policy(&db, "c", "10", "0", 4, 40, 2);
    assert_int_equal(acctdb_get_info(&db, &info), 0);
    assert_int_equal(info.n_policies, 2);
    expect_policy(&info, 0, 0, 1, 1, 10);
    expect_policy(&info, 1, 2, 2, 6, 60);
    acctdb_info_release(&info);
    report_policy(&db, "b", "10", "50", 0, 0, 2); /* deleted */
    report_policy(&db, "a", "10", "0", 3, 33, 0);
    assert_int_equal(acctdb_get_info(&db, &info), 0);
    expect_policy(&info, 0, 0, 1, 3, 33);
    expect_policy(&info, 1, 2, 1, 4, 40);
    acctdb_info_release(&info);
    report_policy(&db, "c", "10", "60", 0, 5, 2); /* deleted, bytes left */
    assert_int_equal(acctdb_reclaim(&db, &age, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(acctdb_get_info(&db, &info), 0);
    assert_int_equal(info.n_policies, 2);
    expect_policy(&info, 1, 2, 0, 0, 0);
    assert_int_equal(info.container_count, 1);
    assert_int_equal(info.bytes_used, 33);
    acctdb_info_release(&info);
}

/* A stats record written before policy stats were kept (it ends after
 * max_row) reads as Swift's migration: all in policy 0 when there are
 * containers. */
static void test_policy_stats_of_old_record(void **state)
{
    struct db_fixture *f = *state;
    struct acctdb db = open_db(f);
    struct acctdb_info info;
    struct kvdb_batch *b = kvdb_batch_new();
    struct dbenc k = {0}, v = {0};

    dbenc_bytes(&k, db.prefix, DB_KEY_PREFIX_LEN);
    dbenc_u8(&k, DB_KEY_STATS);
    dbenc_svarint(&v, 3);
    dbenc_svarint(&v, 7);
    dbenc_svarint(&v, 700);
    dbenc_varint(&v, 3);
    kvdb_batch_put(b, k.p, k.len, v.p, v.len);
    assert_int_equal(kvdb_write(f->kv, b, 0), 0);
    assert_int_equal(acctdb_get_info(&db, &info), 0);
    assert_int_equal(info.n_policies, 1);
    expect_policy(&info, 0, 0, 3, 7, 700);
    acctdb_info_release(&info);
    /* the next row rewrites the record with them */
    report_policy(&db, "d", "10", "0", 1, 1, 0);
    assert_int_equal(acctdb_get_info(&db, &info), 0);
    assert_int_equal(info.n_policies, 1);
    expect_policy(&info, 0, 0, 4, 8, 701);
    acctdb_info_release(&info);
    kvdb_batch_free(b);
    dbenc_release(&k);
    dbenc_release(&v);
}

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static int64_t num(json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

static void test_merge_matches_swift(void **state)
{
    struct db_fixture *f = *state;
    struct acctdb db = open_db(f);
    json_error_t jerr;
    json_t *cases, *r;
    size_t i;

    cases = json_load_file(TEST_DATA "/storage/merge_cases.json", 0, &jerr);
    assert_non_null(cases);
    json_array_foreach(json_object_get(cases, "containers"), i, r)
    {
        report(&db, str(r, "name"), str(r, "put_timestamp"),
               str(r, "delete_timestamp"), num(r, "object_count"),
               num(r, "bytes_used"));
    }
    json_array_foreach(json_object_get(cases, "container_rows"), i, r)
    {
        struct acctdb_container c;
        struct db_ts want;
        void *buf;

        assert_int_equal(acctdb_get_container(&db, str(r, "name"),
                                              strlen(str(r, "name")), &c, &buf),
                         0);
        want = ts_of(str(r, "put_timestamp"));
        assert_int_equal(db_ts_cmp(&c.put_timestamp, &want), 0);
        want = ts_of(str(r, "delete_timestamp"));
        assert_int_equal(db_ts_cmp(&c.delete_timestamp, &want), 0);
        assert_int_equal(c.object_count, num(r, "object_count"));
        assert_int_equal(c.bytes_used, num(r, "bytes_used"));
        assert_int_equal(c.deleted, num(r, "deleted"));
        free(buf);
    }
    expect_stats(&db, num(cases, "container_count"),
                 num(cases, "account_object_count"),
                 num(cases, "account_bytes_used"));
    json_decref(cases);
}

#define T(fn)                                                                  \
    cmocka_unit_test_setup_teardown(fn, db_fixture_setup, db_fixture_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_rows_and_stats),
        T(test_delete_and_reclaim),
        T(test_listing_skips_deleted),
        T(test_policy_stats),
        T(test_policy_stats_of_old_record),
        T(test_merge_matches_swift),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
