/* Description: Range headers as swob reads them; the expected answers were
 * taken from Swift 2.30's swob.Range(...).ranges_for_length(). */
#include "storage/byte_range.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* Parses 'hdr' for 'length' and checks the result against 'want' pairs
 * (start, end) ending with UINT64_MAX; 'err' is the expected return. */
static void check(const char *hdr, uint64_t length, int err,
                  const uint64_t *want)
{
    struct byte_range *r = NULL;
    size_t n = 99, i;

    assert_int_equal(byte_range_parse(hdr, length, &r, &n), err);
    if (err) {
        assert_null(r);
        return;
    }
    for (i = 0; want && want[2 * i] != UINT64_MAX; i++) {
        assert_true(i < n);
        assert_int_equal(r[i].start, want[2 * i]);
        assert_int_equal(r[i].end, want[2 * i + 1]);
    }
    assert_int_equal(n, i);
    free(r);
}

#define END UINT64_MAX

static void test_single_ranges(void **state)
{
    (void)state;
    check("bytes=0-9", 100, 0, (uint64_t[]){0, 10, END});
    check("bytes=90-200", 100, 0, (uint64_t[]){90, 100, END});
    check("bytes=-5", 100, 0, (uint64_t[]){95, 100, END});
    check("bytes=-500", 100, 0, (uint64_t[]){0, 100, END});
    check("bytes=50-", 100, 0, (uint64_t[]){50, 100, END});
    check("Bytes = 1 - 2", 100, 0, (uint64_t[]){1, 3, END});
    check("bytes=-5", 0, 0, (uint64_t[]){0, 0, END});
}

static void test_ignored_headers(void **state)
{
    (void)state;
    check("bytes=5-3", 100, 0, NULL);
    check("bytes=-", 100, 0, NULL);
    check("bytes=a-3", 100, 0, NULL);
    check("bytes=1-2,", 100, 0, NULL);
    check("bytes=45", 100, 0, NULL);
    check("items=1-2", 100, 0, NULL);
    check("bytes=1-2,x", 100, 0, NULL);
}

static void test_unsatisfiable(void **state)
{
    (void)state;
    check("bytes=100-", 100, -ERANGE, NULL);
    check("bytes=-0", 100, -ERANGE, NULL);
    check("bytes=0-", 0, -ERANGE, NULL);
    check("bytes=200-300,400-", 100, -ERANGE, NULL);
}

static void test_multiple_and_limits(void **state)
{
    (void)state;
    check("bytes=0-1,10-12,200-", 100, 0, (uint64_t[]){0, 2, 10, 13, END});
    check("bytes=10-12,0-1", 100, 0, (uint64_t[]){10, 13, 0, 2, END});
    /* three overlapping pairs: egregious */
    check("bytes=0-10,5-15,8-20", 100, -ERANGE, NULL);
    check("bytes=0-10,5-15", 100, 0, (uint64_t[]){0, 11, 5, 16, END});
    /* eight ranges out of order */
    check("bytes=70-71,60-61,50-51,40-41,30-31,20-21,10-11,0-1", 100,
          -ERANGE, NULL);
    check("bytes=0-1,10-11,20-21,30-31,40-41,50-51,60-61,70-71", 100, 0,
          (uint64_t[]){0, 2, 10, 12, 20, 22, 30, 32, 40, 42, 50, 52, 60, 62,
                       70, 72, END});
}

static void test_too_many_ranges(void **state)
{
    char hdr[1024] = "bytes=";
    char *p = hdr + 6;
    int i;

    (void)state;
    for (i = 0; i < 51; i++)
        p += sprintf(p, "%s%d-%d", i ? "," : "", i * 2, i * 2);
    check(hdr, 1000, -ERANGE, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_ranges),
        cmocka_unit_test(test_ignored_headers),
        cmocka_unit_test(test_unsatisfiable),
        cmocka_unit_test(test_multiple_and_limits),
        cmocka_unit_test(test_too_many_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
