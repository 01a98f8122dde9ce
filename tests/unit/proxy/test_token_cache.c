/* Description: the expiring token map tempauth uses in place of
 * memcache: get/set, expiry at the boundary, overwrite, sweeping. */
#include "proxy/token_cache.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static void test_get_set_expiry(void **state)
{
    struct token_cache *tc;
    double expires;
    char *v;

    (void)state;
    assert_int_equal(token_cache_new(&tc), 0);
    assert_int_equal(token_cache_get(tc, "k", 0, &v, NULL), -ENOENT);
    assert_null(v);
    assert_int_equal(token_cache_set(tc, "k", "one", 100, 0), 0);
    assert_int_equal(token_cache_get(tc, "k", 50, &v, &expires), 0);
    assert_string_equal(v, "one");
    assert_true(expires == 100);
    free(v);
    /* valid up to its expiry time, as tempauth's "expires < time()" */
    assert_int_equal(token_cache_get(tc, "k", 100, &v, NULL), 0);
    free(v);
    assert_int_equal(token_cache_set(tc, "k", "two", 200, 100), 0);
    assert_int_equal(token_cache_get(tc, "k", 150, &v, NULL), 0);
    assert_string_equal(v, "two");
    free(v);
    assert_int_equal(token_cache_get(tc, "k", 200.5, &v, NULL), -ENOENT);
    assert_int_equal(token_cache_get(tc, "k", 0, &v, NULL), -ENOENT);
    token_cache_free(tc);
    token_cache_free(NULL);
}

/* Many short-lived entries: old ones vanish and are freed (ASan checks
 * nothing leaks or is used after free while sweeps run). */
static void test_many_entries_sweep(void **state)
{
    struct token_cache *tc;
    char key[32], *v;
    int i;

    (void)state;
    assert_int_equal(token_cache_new(&tc), 0);
    for (i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "token/%d", i);
        assert_int_equal(token_cache_set(tc, key, "g", i + 10, i), 0);
    }
    assert_int_equal(token_cache_get(tc, "token/0", 20000, &v, NULL), -ENOENT);
    assert_int_equal(token_cache_get(tc, "token/19999", 20000, &v, NULL), 0);
    assert_string_equal(v, "g");
    free(v);
    token_cache_free(tc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_set_expiry),
        cmocka_unit_test(test_many_entries_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
