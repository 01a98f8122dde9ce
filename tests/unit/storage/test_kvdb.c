/* Description: the LevelDB wrapper: open errors, get, atomic batches,
 * forward and reverse scans, prefix ends. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "db_fixture.h"
#include "storage/kvdb.h"

static void put(struct kvdb *kv, const char *k, const char *v)
{
    struct kvdb_batch *b = kvdb_batch_new();

    kvdb_batch_put(b, k, strlen(k), v, strlen(v));
    assert_int_equal(kvdb_write(kv, b, KVDB_SYNC), 0);
    kvdb_batch_free(b);
}

static void test_get_and_batches(void **state)
{
    struct db_fixture *f = *state;
    struct kvdb_batch *b = kvdb_batch_new();
    void *v;
    size_t n;

    assert_int_equal(kvdb_get(f->kv, "k", 1, &v, &n), -ENOENT);
    assert_null(v);
    kvdb_batch_put(b, "k", 1, "one", 3);
    kvdb_batch_put(b, "j", 1, "x", 1);
    kvdb_batch_delete(b, "j", 1);
    kvdb_batch_put(b, "k", 1, "two", 3); /* later put wins */
    assert_int_equal(kvdb_batch_count(b), 4);
    assert_int_equal(kvdb_get(f->kv, "k", 1, &v, &n), -ENOENT);
    assert_int_equal(kvdb_write(f->kv, b, 0), 0);
    assert_int_equal(kvdb_get(f->kv, "k", 1, &v, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(v, "two");
    free(v);
    assert_int_equal(kvdb_get(f->kv, "j", 1, &v, &n), -ENOENT);
    kvdb_batch_clear(b);
    assert_int_equal(kvdb_batch_count(b), 0);
    kvdb_batch_free(b);
    kvdb_batch_free(NULL);
}

static void test_second_open_is_busy(void **state)
{
    struct db_fixture *f = *state;
    char path[PATH_MAX + 32];
    struct kvdb *kv;

    snprintf(path, sizeof(path), "%s/containers.ldb", f->dir);
    assert_int_equal(kvdb_open(path, NULL, &kv), -EBUSY);
    assert_null(kv);
    kvdb_close(NULL);
}

static void test_iterators(void **state)
{
    struct db_fixture *f = *state;
    struct kvdb_iter *it;
    const char *k;
    size_t n;

    put(f->kv, "a1", "");
    put(f->kv, "a2", "");
    put(f->kv, "b1", "");
    it = kvdb_iter_new(f->kv);
    put(f->kv, "a3", ""); /* after the snapshot: unseen */
    kvdb_iter_seek(it, "a2", 2);
    k = kvdb_iter_key(it, &n);
    assert_memory_equal(k, "a2", 2);
    kvdb_iter_next(it);
    k = kvdb_iter_key(it, &n);
    assert_memory_equal(k, "b1", 2);
    kvdb_iter_seek_before(it, "b", 1);
    k = kvdb_iter_key(it, &n);
    assert_memory_equal(k, "a2", 2);
    kvdb_iter_seek_before(it, "z", 1); /* past the end: the last key */
    k = kvdb_iter_key(it, &n);
    assert_memory_equal(k, "b1", 2);
    kvdb_iter_seek_before(it, "a1", 2);
    assert_false(kvdb_iter_valid(it));
    assert_int_equal(kvdb_iter_status(it), 0);
    kvdb_iter_free(it);
}

static int count_keys(const void *key, size_t klen, const void *val,
                      size_t vlen, void *arg)
{
    (void)key;
    (void)klen;
    (void)val;
    (void)vlen;
    return ++*(int *)arg == 2 ? 7 : 0;
}

static void test_scan_and_prefix_end(void **state)
{
    struct db_fixture *f = *state;
    unsigned char end[4];
    int n = 0;

    put(f->kv, "a1", "");
    put(f->kv, "a2", "");
    put(f->kv, "b1", "");
    assert_int_equal(kvdb_prefix_end("a", 1, end), 1);
    assert_int_equal(end[0], 'b');
    assert_int_equal(kvdb_scan(f->kv, "a", 1, end, 1, count_keys, &n), 7);
    assert_int_equal(kvdb_prefix_end("a\xff\xff", 3, end), 1);
    assert_int_equal(end[0], 'b');
    assert_int_equal(kvdb_prefix_end("\xff", 1, end), 0);
}

#define T(fn)                                                                  \
    cmocka_unit_test_setup_teardown(fn, db_fixture_setup, db_fixture_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_get_and_batches),
        T(test_second_open_is_busy),
        T(test_iterators),
        T(test_scan_and_prefix_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
