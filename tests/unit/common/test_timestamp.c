/* Description: Swift's Timestamp: parsing X-Timestamp values, the normal,
 * internal, short, isoformat and HTTP forms, and ordering. Expected strings
 * come from Swift 2.30's swift.common.utils.Timestamp. */
#include "common/timestamp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

struct swift_case {
    const char *in, *normal, *internal, *shortform, *iso;
    uint64_t ceil;
};

static const struct swift_case swift_cases[] = {
    {"1700000000.12345", "1700000000.12345", "1700000000.12345",
     "1700000000.12345", "2023-11-14T22:13:20.123450", 1700000001},
    {"1700000000", "1700000000.00000", "1700000000.00000", "1700000000.00000",
     "2023-11-14T22:13:20.000000", 1700000000},
    {"1700000000.12345_000000000000000a", "1700000000.12345",
     "1700000000.12345_000000000000000a", "1700000000.12345_a",
     "2023-11-14T22:13:20.123450", 1700000001},
    {"1.7e9", "1700000000.00000", "1700000000.00000", "1700000000.00000",
     "2023-11-14T22:13:20.000000", 1700000000},
    {"0.000005", "0000000000.00001", "0000000000.00001", "0000000000.00001",
     "1970-01-01T00:00:00.000010", 1},
    {"0.000015", "0000000000.00002", "0000000000.00002", "0000000000.00002",
     "1970-01-01T00:00:00.000020", 1},
    {"9999999999.99999", "9999999999.99999", "9999999999.99999",
     "9999999999.99999", "2286-11-20T17:46:39.999990", 10000000000ULL},
    {"1700000000.123455", "1700000000.12346", "1700000000.12346",
     "1700000000.12346", "2023-11-14T22:13:20.123460", 1700000001},
    {".5", "0000000000.50000", "0000000000.50000", "0000000000.50000",
     "1970-01-01T00:00:00.500000", 1},
    {"5.", "0000000005.00000", "0000000005.00000", "0000000005.00000",
     "1970-01-01T00:00:05.000000", 5},
    {"123_", "0000000123.00000", "0000000123.00000", "0000000123.00000",
     "1970-01-01T00:02:03.000000", 123},
    /* the float detour in Swift's isoformat loses a microsecond here */
    {"9876543210.12345", "9876543210.12345", "9876543210.12345",
     "9876543210.12345", "2282-12-22T20:13:30.123449", 9876543211ULL},
};

static void test_matches_swift(void **state)
{
    char normal[TIMESTAMP_NORMAL_SIZE], internal[TIMESTAMP_INTERNAL_SIZE];
    char shortform[TIMESTAMP_INTERNAL_SIZE], iso[TIMESTAMP_ISO_SIZE];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(swift_cases) / sizeof(swift_cases[0]); i++) {
        const struct swift_case *c = &swift_cases[i];
        struct timestamp ts;

        assert_int_equal(timestamp_parse(c->in, &ts), 0);
        assert_string_equal(timestamp_normal(&ts, normal), c->normal);
        assert_string_equal(timestamp_internal(&ts, internal), c->internal);
        assert_string_equal(timestamp_short(&ts, shortform), c->shortform);
        assert_string_equal(timestamp_isoformat(&ts, iso), c->iso);
        assert_int_equal(timestamp_ceil_secs(&ts), c->ceil);
    }
}

static void test_rejects_garbage(void **state)
{
    static const char *const bad[] = {
        "",
        "abc",
        "-1",
        "-0",
        "nan",
        "inf",
        "1e400",
        "10000000000",
        "9999999999.999996", /* "%.5f" rounds it to 10^10 */
        " 1",
        "1 ",
        "1..2",
        "1e",
        "0x10",
        "1_g",
        "1_2_3",
        "1_10000000000000000",
        ".",
        "+",
        "1,5",
        "12345678901234567890123456789012345678901234567890123456"
        "7890123",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct timestamp ts = {1, 1};

        assert_int_equal(timestamp_parse(bad[i], &ts), -EINVAL);
        assert_int_equal(ts.ticks, 0);
        assert_int_equal(ts.offset, 0);
    }
}

static void test_offset_limits(void **state)
{
    char buf[TIMESTAMP_INTERNAL_SIZE];
    struct timestamp ts;

    (void)state;
    assert_int_equal(timestamp_parse("1_ffffffffffffffff", &ts), 0);
    assert_true(ts.offset == UINT64_MAX);
    assert_string_equal(timestamp_internal(&ts, buf),
                        "0000000001.00000_ffffffffffffffff");
    assert_int_equal(timestamp_parse("1_00000000000000000001", &ts), 0);
    assert_int_equal(ts.offset, 1);
}

static void test_order_is_ticks_then_offset(void **state)
{
    struct timestamp a, b, c, d;

    (void)state;
    assert_int_equal(timestamp_parse("1700000000.00001", &a), 0);
    assert_int_equal(timestamp_parse("1700000000.00001_1", &b), 0);
    assert_int_equal(timestamp_parse("1700000000.00002", &c), 0);
    assert_int_equal(timestamp_parse("1700000000.000010", &d), 0);
    assert_true(timestamp_cmp(&a, &b) < 0);
    assert_true(timestamp_cmp(&b, &c) < 0);
    assert_true(timestamp_cmp(&c, &a) > 0);
    assert_int_equal(timestamp_cmp(&a, &d), 0);
}

static void test_now_is_current(void **state)
{
    struct timestamp ts;
    time_t before = time(NULL);

    (void)state;
    timestamp_now(&ts);
    assert_true(ts.ticks / TIMESTAMP_TICKS_PER_SEC >= (uint64_t)before);
    assert_true(ts.ticks / TIMESTAMP_TICKS_PER_SEC <= (uint64_t)time(NULL));
    assert_int_equal(ts.offset, 0);
}

static void test_http_date_rounds_up(void **state)
{
    char buf[TIMESTAMP_HTTP_SIZE];
    struct timestamp ts;
    time_t t;

    (void)state;
    assert_int_equal(timestamp_parse("1700000000.00001", &ts), 0);
    assert_string_equal(timestamp_http_date(&ts, buf),
                        "Tue, 14 Nov 2023 22:13:21 GMT");
    assert_int_equal(timestamp_from_secs(0, &ts), 0);
    assert_string_equal(timestamp_http_date(&ts, buf),
                        "Thu, 01 Jan 1970 00:00:00 GMT");
    assert_int_equal(timestamp_from_secs(TIMESTAMP_MAX_SECS, &ts), -EINVAL);

    assert_int_equal(
        timestamp_parse_http_date("Tue, 14 Nov 2023 22:13:21 GMT", &t), 0);
    assert_int_equal(t, 1700000001);
    assert_int_equal(
        timestamp_parse_http_date("Tuesday, 14-Nov-23 22:13:21 GMT", &t), 0);
    assert_int_equal(t, 1700000001);
    assert_int_equal(timestamp_parse_http_date("Tue Nov 14 22:13:21 2023", &t),
                     0);
    assert_int_equal(t, 1700000001);
    assert_int_equal(timestamp_parse_http_date("yesterday", &t), -EINVAL);
    assert_int_equal(
        timestamp_parse_http_date("Tue, 14 Nov 2023 22:13:21 GMT x", &t),
        -EINVAL);
}

/* Random strings over the characters that matter never crash the parser,
 * and whatever parses prints to a string that parses to the same value. */
static void test_random_input_round_trips(void **state)
{
    static const char alphabet[] = "0123456789._eE+-xafAF n";
    char in[24], buf[TIMESTAMP_INTERNAL_SIZE];
    unsigned int seed = 12345, ok = 0;
    int i, j;

    (void)state;
    for (i = 0; i < 200000; i++) {
        struct timestamp ts, again;
        int len = rand_r(&seed) % (int)(sizeof(in) - 1);

        for (j = 0; j < len; j++)
            in[j] = alphabet[rand_r(&seed) % (int)(sizeof(alphabet) - 1)];
        in[len] = '\0';
        if (timestamp_parse(in, &ts))
            continue;
        ok++;
        assert_int_equal(timestamp_parse(timestamp_internal(&ts, buf), &again),
                         0);
        assert_int_equal(timestamp_cmp(&ts, &again), 0);
    }
    assert_true(ok > 100); /* the alphabet does produce valid input */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_swift),
        cmocka_unit_test(test_rejects_garbage),
        cmocka_unit_test(test_offset_limits),
        cmocka_unit_test(test_order_is_ticks_then_offset),
        cmocka_unit_test(test_now_is_current),
        cmocka_unit_test(test_http_date_rounds_up),
        cmocka_unit_test(test_random_input_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
