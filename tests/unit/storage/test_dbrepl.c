/* Description: replication helpers: the DBs of a partition, sync
 * points. */
#include <errno.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "db_fixture.h"
#include "storage/contdb.h"
#include "storage/dbrepl.h"

struct seen {
    unsigned char first[8];
    size_t n;
};

static int collect(const unsigned char hash[16], void *arg)
{
    struct seen *s = arg;

    s->first[s->n++] = hash[0];
    return 0;
}

static void make(struct db_fixture *f, uint32_t part, unsigned char h0)
{
    unsigned char hash[16] = {h0};
    struct db_ts t = ts_of("1");
    struct contdb db;
    struct contdb_object o = {.name = "o",
                              .name_len = 1,
                              .created_at = t,
                              .content_type = "",
                              .etag = ""};

    contdb_init(&db, f->kv, part, hash);
    assert_int_equal(contdb_create(&db, "a", "c", &t, 0), 0);
    assert_int_equal(contdb_put_object(&db, &o, 0), 0);
}

static void test_walk_partition(void **state)
{
    struct db_fixture *f = *state;
    struct seen s = {0};

    make(f, 1, 0x30);
    make(f, 2, 0x20);
    make(f, 2, 0xff);
    make(f, 2, 0x10);
    make(f, 3, 0x01);
    assert_int_equal(dbrepl_walk_partition(f->kv, 2, collect, &s), 0);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.first[0], 0x10);
    assert_int_equal(s.first[1], 0x20);
    assert_int_equal(s.first[2], 0xff);
    s.n = 0;
    assert_int_equal(dbrepl_walk_partition(f->kv, 9, collect, &s), 0);
    assert_int_equal(s.n, 0);
}

static void test_sync_points(void **state)
{
    struct db_fixture *f = *state;
    unsigned char hash[16] = {7};
    struct contdb db;
    int64_t p;

    contdb_init(&db, f->kv, 1, hash);
    assert_int_equal(
        dbrepl_get_sync(f->kv, db.prefix, "peer", DBREPL_INCOMING, &p), 0);
    assert_int_equal(p, -1);
    assert_int_equal(
        dbrepl_merge_sync(f->kv, db.prefix, "peer", DBREPL_INCOMING, 10), 0);
    assert_int_equal(
        dbrepl_merge_sync(f->kv, db.prefix, "peer", DBREPL_INCOMING, 5), 0);
    assert_int_equal(
        dbrepl_get_sync(f->kv, db.prefix, "peer", DBREPL_INCOMING, &p), 0);
    assert_int_equal(p, 10);
    assert_int_equal(
        dbrepl_get_sync(f->kv, db.prefix, "peer", DBREPL_OUTGOING, &p), 0);
    assert_int_equal(p, -1);
}

#define T(fn)                                                                  \
    cmocka_unit_test_setup_teardown(fn, db_fixture_setup, db_fixture_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_walk_partition),
        T(test_sync_points),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
