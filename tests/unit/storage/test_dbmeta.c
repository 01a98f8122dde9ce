/* Description: per-key timestamped metadata: newest wins, removal,
 * Swift's limits, reclaim, encoding. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "storage/dbmeta.h"

static struct db_ts ts(uint64_t secs)
{
    return (struct db_ts){.raw = secs * 100000};
}

static void test_newest_wins(void **state)
{
    struct db_meta m = {0};
    struct db_ts t1 = ts(1), t2 = ts(2);

    (void)state;
    assert_int_equal(db_meta_set(&m, "X-Container-Meta-B", "b", &t2), 1);
    assert_int_equal(db_meta_set(&m, "X-Container-Meta-A", "a", &t1), 1);
    assert_int_equal(db_meta_set(&m, "X-Container-Meta-B", "old", &t1), 0);
    assert_int_equal(db_meta_set(&m, "X-Container-Meta-B", "same", &t2), 0);
    assert_string_equal(db_meta_get(&m, "X-Container-Meta-B")->value, "b");
    assert_int_equal(db_meta_set(&m, "X-Container-Meta-A", "", &t2), 1);
    assert_string_equal(db_meta_get(&m, "X-Container-Meta-A")->value, "");
    assert_string_equal(m.items[0].key, "X-Container-Meta-A"); /* sorted */
    assert_null(db_meta_get(&m, "nope"));
    db_meta_release(&m);
}

static void test_limits(void **state)
{
    struct db_meta m = {0};
    struct db_ts t = ts(1);
    char key[64], value[300];

    (void)state;
    for (int i = 0; i < 90; i++) {
        snprintf(key, sizeof(key), "x-account-meta-k%02d", i);
        db_meta_set(&m, key, "v", &t);
    }
    db_meta_set(&m, "X-Container-Sysmeta-Other", "not counted", &t);
    assert_int_equal(db_meta_validate(&m), 0);
    db_meta_set(&m, "X-Container-Meta-Removed", "", &t);
    assert_int_equal(db_meta_validate(&m), 0);
    db_meta_set(&m, "X-Container-Meta-One-More", "v", &t);
    assert_int_equal(db_meta_validate(&m), -EINVAL);
    db_meta_release(&m);
    /* 4096 characters of names and values: 16 x (4 + 252) fits */
    memset(value, 'v', 252);
    value[252] = '\0';
    for (int i = 0; i < 16; i++) {
        snprintf(key, sizeof(key), "X-Container-Meta-K%03d", i);
        db_meta_set(&m, key, value, &t);
    }
    assert_int_equal(db_meta_validate(&m), 0);
    db_meta_set(&m, "X-Container-Meta-X", "y", &t);
    assert_int_equal(db_meta_validate(&m), -EINVAL);
    db_meta_release(&m);
}

static void test_reclaim_and_encoding(void **state)
{
    struct db_meta m = {0}, back = {0};
    struct db_ts t1 = ts(1), t5 = ts(5), age = ts(3);
    struct dbenc e = {0};
    struct dbdec d;

    (void)state;
    db_meta_set(&m, "a", "", &t1);
    db_meta_set(&m, "b", "", &t5);
    db_meta_set(&m, "c", "kept", &t1);
    assert_int_equal(db_meta_reclaim(&m, &age), 1);
    assert_int_equal(m.n, 2);
    db_meta_encode(&m, &e);
    dbdec_init(&d, e.p, e.len);
    assert_int_equal(db_meta_decode(&back, &d), 0);
    assert_int_equal(back.n, 2);
    assert_string_equal(back.items[1].value, "kept");
    dbdec_init(&d, e.p, e.len - 1);
    assert_int_equal(db_meta_decode(&back, &d), -EINVAL);
    assert_int_equal(back.n, 0);
    dbenc_release(&e);
    db_meta_release(&m);
    db_meta_release(&back);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_newest_wins),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_reclaim_and_encoding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
