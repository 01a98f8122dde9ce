/* Description: timestamps (Swift's internal and iso forms), varints and
 * the decoder's bounds checks. */
#include <errno.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "storage/dbenc.h"

static void test_timestamps(void **state)
{
    static const struct {
        const char *in, *internal, *iso;
    } ok[] = {
        {"1700000000.12345", "1700000000.12345", "2023-11-14T22:13:20.123450"},
        {"1700000000.1", "1700000000.10000", "2023-11-14T22:13:20.100000"},
        {"1", "0000000001.00000", "1970-01-01T00:00:01.000000"},
        {"0", "0000000000.00000", "1970-01-01T00:00:00.000000"},
        {"1700000000.00000_000000000000000a",
         "1700000000.00000_000000000000000a", "2023-11-14T22:13:20.000000"},
        {".5", "0000000000.50000", "1970-01-01T00:00:00.500000"},
        /* Swift computes in floating point: a microsecond off */
        {"9014274575.21341", "9014274575.21341", "2255-08-26T21:09:35.213409"},
        {"951782400", "0951782400.00000", "2000-02-29T00:00:00.000000"},
        {"9999999999.99999", "9999999999.99999", "2286-11-20T17:46:39.999990"},
    };
    static const char *const bad[] = {
        "",      "abc",   "1.123456", "1_",
        "1_xyz", "1.2.3", "-1",       "1_00000000000000000"};
    char buf[DB_TS_LEN], iso[DB_ISO_LEN];
    struct db_ts t, u;

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(db_ts_parse(ok[i].in, &t), 0);
        db_ts_format(&t, buf);
        assert_string_equal(buf, ok[i].internal);
        db_ts_isoformat(&t, iso);
        assert_string_equal(iso, ok[i].iso);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(db_ts_parse(bad[i], &t), -EINVAL);
    db_ts_parse("5", &t);
    db_ts_parse("5_01", &u);
    assert_true(db_ts_cmp(&t, &u) < 0);
    assert_int_equal(db_ts_cmp(&u, &u), 0);
}

static void test_round_trip(void **state)
{
    struct dbenc e = {0};
    struct dbdec d;
    struct db_ts t = {.raw = 170000000012345, .offset = 3}, t2;
    const char *s;

    (void)state;
    dbenc_varint(&e, 0);
    dbenc_varint(&e, UINT64_MAX);
    dbenc_svarint(&e, -5);
    dbenc_svarint(&e, INT64_MIN);
    dbenc_be64(&e, 0x0102030405060708ull);
    dbenc_str(&e, "abc", 3);
    dbenc_ts(&e, &t);
    assert_int_equal(e.err, 0);
    dbdec_init(&d, e.p, e.len);
    assert_int_equal(dbdec_varint(&d), 0);
    assert_true(dbdec_varint(&d) == UINT64_MAX);
    assert_int_equal(dbdec_svarint(&d), -5);
    assert_true(dbdec_svarint(&d) == INT64_MIN);
    assert_true(dbdec_be64(&d) == 0x0102030405060708ull);
    assert_int_equal(dbdec_str(&d, &s), 3);
    assert_memory_equal(s, "abc", 3);
    dbdec_ts(&d, &t2);
    assert_int_equal(db_ts_cmp(&t, &t2), 0);
    assert_int_equal(d.err, 0);
    assert_int_equal(dbdec_u8(&d), 0); /* past the end */
    assert_int_equal(d.err, -EINVAL);
    dbenc_release(&e);
}

static void test_truncated_input(void **state)
{
    const unsigned char longer[] = {5, 'a'}; /* says 5 bytes, has 1 */
    const unsigned char endless[] = {0x80, 0x80};
    struct dbdec d;
    const char *s;

    (void)state;
    dbdec_init(&d, longer, sizeof(longer));
    assert_int_equal(dbdec_str(&d, &s), 0);
    assert_int_equal(d.err, -EINVAL);
    dbdec_init(&d, endless, sizeof(endless));
    dbdec_varint(&d);
    assert_int_equal(d.err, -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_truncated_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
