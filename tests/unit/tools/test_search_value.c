/* Description: kura-ring's search, add and set_info value parsers accept
 * what Swift's parse_search_value, parse_add_value and
 * calculate_change_value accept, and nothing else. */
#include "tools/ring_cli/search_value.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>

static void test_search_value_full(void **state)
{
    char err[SEARCH_VALUE_ERRLEN];
    struct dev_spec s;

    (void)state;
    assert_int_equal(search_value_parse("d74r4z1-1.2.3.4:5678R5.6.7.8:910/"
                                        "sdb1_snet: x",
                                        &s, err),
                     0);
    assert_int_equal(s.id, 74);
    assert_int_equal(s.region, 4);
    assert_int_equal(s.zone, 1);
    assert_string_equal(s.ip, "1.2.3.4");
    assert_int_equal(s.port, 5678);
    assert_string_equal(s.replication_ip, "5.6.7.8");
    assert_int_equal(s.replication_port, 910);
    assert_string_equal(s.device, "sdb1");
    assert_string_equal(s.meta, "snet: x");
    assert_int_equal(s.set, 0x3ff & ~DEV_SPEC_WEIGHT);
}

static void test_search_value_parts(void **state)
{
    char err[SEARCH_VALUE_ERRLEN];
    struct dev_spec s;

    (void)state;
    assert_int_equal(search_value_parse("1.2.3.4", &s, err), 0);
    assert_int_equal(s.set, DEV_SPEC_IP);
    assert_int_equal(search_value_parse(":5678", &s, err), 0);
    assert_int_equal(s.set, DEV_SPEC_PORT);
    assert_int_equal(search_value_parse("R:5678", &s, err), 0);
    assert_int_equal(s.set, DEV_SPEC_REPLICATION_PORT);
    assert_int_equal(search_value_parse("z1-[::1]:5678", &s, err), 0);
    assert_string_equal(s.ip, "::1");
    assert_int_equal(search_value_parse("[0:0::0:1]", &s, err), 0);
    assert_string_equal(s.ip, "::1");
    assert_int_equal(search_value_parse("z1-", &s, err), 0);
    assert_int_equal(s.set, DEV_SPEC_ZONE);
    assert_int_equal(search_value_parse("/sdb/", &s, err), 0);
    assert_string_equal(s.device, "sdb/");
    assert_int_equal(search_value_parse("_", &s, err), 0);
    assert_string_equal(s.meta, "");
}

static void test_search_value_rejects(void **state)
{
    /* "" matches every device in Swift; we refuse it (see the doc) */
    static const char *bad[] = {"",      "q",        "d",   "d1x",
                                "1.2.3", "1.2.3.4:", "d1 ", "r1z1-[::g]",
                                "z1-x",  "R1.2.3.4:"};
    char err[SEARCH_VALUE_ERRLEN];
    struct dev_spec s;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(search_value_parse(bad[i], &s, err), -EINVAL);
        assert_true(err[0] != '\0');
    }
    search_value_parse("q", &s, err);
    assert_string_equal(err, "Invalid <search-value>: 'q'");
}

static void test_add_value(void **state)
{
    char err[SEARCH_VALUE_ERRLEN];
    struct dev_spec s;

    (void)state;
    assert_int_equal(
        add_value_parse("r2z3-10.0.0.1:6200R[FE80::1]:6300/sdb_m", &s, err), 0);
    assert_int_equal(s.region, 2);
    assert_int_equal(s.zone, 3);
    assert_string_equal(s.ip, "10.0.0.1");
    assert_string_equal(s.replication_ip, "fe80::1");
    assert_int_equal(s.replication_port, 6300);
    assert_string_equal(s.device, "sdb");
    assert_string_equal(s.meta, "m");
    assert_int_equal(add_value_parse("z1-[::1]:6200/sdc", &s, err), 0);
    assert_false(s.set & DEV_SPEC_REGION);
    assert_false(s.set & DEV_SPEC_REPLICATION_IP);
    assert_string_equal(s.meta, "");

    assert_int_equal(add_value_parse("r1-1.2.3.4:1/sdb", &s, err), -EINVAL);
    assert_string_equal(err, "Invalid add value: r1-1.2.3.4:1/sdb");
    assert_int_equal(add_value_parse("z1-1.2.3.4/sdb", &s, err), -EINVAL);
    assert_string_equal(err, "Invalid port in add value");
    assert_int_equal(add_value_parse("z1-1.2.3.4:x/sdb", &s, err), -EINVAL);
    assert_string_equal(err, "Invalid port :x in add value");
    assert_int_equal(add_value_parse("z1-host:1/sdb", &s, err), -EINVAL);
    assert_string_equal(err, "Invalid ip host");
    assert_int_equal(add_value_parse("z1-1.2.3.4:1/", &s, err), -EINVAL);
    assert_string_equal(err, "Invalid device name");
    assert_int_equal(add_value_parse("z1-1.2.3.4:1/ sdb", &s, err), -EINVAL);
}

static void test_change_value(void **state)
{
    char err[SEARCH_VALUE_ERRLEN];
    struct dev_spec s;

    (void)state;
    assert_int_equal(change_value_parse("1.2.3.4:5R:6/sdz_x", &s, err), 0);
    assert_int_equal(s.set, DEV_SPEC_IP | DEV_SPEC_PORT |
                                DEV_SPEC_REPLICATION_PORT | DEV_SPEC_DEVICE |
                                DEV_SPEC_META);
    assert_int_equal(change_value_parse("_snet: 5.6.7.8", &s, err), 0);
    assert_int_equal(s.set, DEV_SPEC_META);
    assert_int_equal(change_value_parse("junk", &s, err), -EINVAL);
    assert_string_equal(err, "Invalid set info change value: 'junk'");
    assert_int_equal(change_value_parse("", &s, err), -EINVAL);
}

static void test_match(void **state)
{
    struct ring_dev d = {.id = 3,
                         .region = 1,
                         .zone = 2,
                         .ip = "10.0.0.1",
                         .port = 6200,
                         .replication_ip = "10.0.0.1",
                         .replication_port = 6200,
                         .device = "sdb",
                         .weight = 100,
                         .meta = "fast disk"};
    char err[SEARCH_VALUE_ERRLEN];
    struct dev_spec s;

    (void)state;
    search_value_parse("d3r1z2-10.0.0.1:6200/sdb_fast", &s, err);
    assert_true(dev_spec_match(&s, &d));
    search_value_parse("_disk", &s, err);
    assert_true(dev_spec_match(&s, &d));
    search_value_parse("/sd", &s, err);
    assert_false(dev_spec_match(&s, &d));
    search_value_parse("z3", &s, err);
    assert_false(dev_spec_match(&s, &d));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_search_value_full),
        cmocka_unit_test(test_search_value_parts),
        cmocka_unit_test(test_search_value_rejects),
        cmocka_unit_test(test_add_value),
        cmocka_unit_test(test_change_value),
        cmocka_unit_test(test_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
