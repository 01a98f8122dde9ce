/* Description: kura-ring prints floats, durations and strings as Python's
 * str() and repr() do, since swift-ring-builder's output is made of them. */
#include "tools/ring_cli/pyfmt.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

static void test_float(void **state)
{
    static const struct {
        double v;
        const char *want;
    } cases[] = {
        {100, "100.0"},      {0.1, "0.1"},
        {50.5, "50.5"},      {0, "0.0"},
        {1e-05, "1e-05"},    {0.0001, "0.0001"},
        {1e16, "1e+16"},     {1e15, "1000000000000000.0"},
        {1.5e16, "1.5e+16"}, {33.3, "33.3"},
        {-2.25, "-2.25"},    {1.0 / 3, "0.3333333333333333"},
    };
    char buf[PYFMT_FLOAT_LEN];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_string_equal(pyfmt_float(cases[i].v, buf), cases[i].want);
}

static void test_timedelta(void **state)
{
    char buf[PYFMT_TIMEDELTA_LEN];

    (void)state;
    assert_string_equal(pyfmt_timedelta(0, buf), "0:00:00");
    assert_string_equal(pyfmt_timedelta(3599, buf), "0:59:59");
    assert_string_equal(pyfmt_timedelta(86400 + 3723, buf), "1 day, 1:02:03");
    assert_string_equal(pyfmt_timedelta(2 * 86400, buf), "2 days, 0:00:00");
}

static void test_repr(void **state)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);

    (void)state;
    assert_non_null(f);
    pyfmt_repr(f, "abc");
    pyfmt_repr(f, "it's");
    pyfmt_repr(f, "a'\"\n");
    fclose(f);
    assert_string_equal(out, "'abc'\"it's\"'a\\'\"\\n'");
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_float),
        cmocka_unit_test(test_timedelta),
        cmocka_unit_test(test_repr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
