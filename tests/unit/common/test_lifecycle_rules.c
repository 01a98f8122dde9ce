/* Description: S3 lifecycle due times from the rules' stored JSON. */
#include "common/lifecycle_rules.h"

#include <errno.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define DAY 86400LL
/* 2026-12-05T10:30:00Z */
#define CREATED 1796466600LL
#define MIDNIGHT (CREATED / DAY * DAY)

static void test_days_round_up_to_next_midnight(void **state)
{
    struct lifecycle_rules rs;

    (void)state;
    assert_int_equal(
        lifecycle_rules_parse(
            "[{\"id\":\"a\",\"prefix\":\"logs/\",\"enabled\":true,\"days\":1}]",
            &rs),
        0);
    assert_int_equal(rs.n, 1);
    assert_int_equal(lifecycle_rules_due(&rs, "logs/x", CREATED),
                     MIDNIGHT + 2 * DAY);
    /* created exactly at midnight: still the next midnight after + days */
    assert_int_equal(lifecycle_rules_due(&rs, "logs/x", MIDNIGHT),
                     MIDNIGHT + 2 * DAY);
    assert_int_equal(lifecycle_rules_due(&rs, "data/x", CREATED), 0);
    assert_int_equal(lifecycle_rules_due(&rs, "logs", CREATED), 0);
    lifecycle_rules_release(&rs);
    assert_null(rs.v);
}

static void test_date_is_due_whatever_the_age(void **state)
{
    struct lifecycle_rules rs;

    (void)state;
    assert_int_equal(
        lifecycle_rules_parse("[{\"prefix\":\"old/\",\"enabled\":true,"
                              "\"date\":\"2020-01-01T00:00:00.000Z\"}]",
                              &rs),
        0);
    assert_int_equal(lifecycle_rules_due(&rs, "old/a", CREATED), 1577836800LL);
    assert_int_equal(lifecycle_rules_due(&rs, "old/a", 0), 1577836800LL);
    lifecycle_rules_release(&rs);
}

static void test_earliest_enabled_match_wins(void **state)
{
    struct lifecycle_rules rs;

    (void)state;
    assert_int_equal(
        lifecycle_rules_parse(
            "[{\"prefix\":\"\",\"enabled\":true,\"days\":30},"
            "{\"prefix\":\"a/\",\"enabled\":true,\"days\":2},"
            "{\"prefix\":\"a/b\",\"enabled\":false,\"days\":1},"
            "{\"prefix\":\"a/\",\"enabled\":true,\"date\":\"junk\"}]",
            &rs),
        0);
    assert_int_equal(rs.n, 4);
    assert_true(lifecycle_rules_any_enabled(&rs));
    assert_int_equal(lifecycle_rules_due(&rs, "a/b", CREATED),
                     MIDNIGHT + 3 * DAY);
    assert_int_equal(lifecycle_rules_due(&rs, "z", CREATED),
                     MIDNIGHT + 31 * DAY);
    /* a rule without a usable Days or Date never makes anything due */
    assert_int_equal(lifecycle_rule_due(&rs.v[3], CREATED), 0);
    lifecycle_rules_release(&rs);
}

static void test_disabled_rules_do_nothing(void **state)
{
    struct lifecycle_rules rs;

    (void)state;
    assert_int_equal(
        lifecycle_rules_parse("[{\"prefix\":\"old/\",\"enabled\":false,"
                              "\"date\":\"2020-01-01T00:00:00.000Z\"}]",
                              &rs),
        0);
    assert_false(lifecycle_rules_any_enabled(&rs));
    assert_int_equal(lifecycle_rules_due(&rs, "old/a", CREATED), 0);
    lifecycle_rules_release(&rs);
}

static void test_bad_json_is_einval(void **state)
{
    struct lifecycle_rules rs;

    (void)state;
    assert_int_equal(lifecycle_rules_parse("{\"prefix\":\"a\"}", &rs), -EINVAL);
    assert_int_equal(rs.n, 0);
    lifecycle_rules_release(&rs);
    assert_int_equal(lifecycle_rules_parse("[", &rs), -EINVAL);
    lifecycle_rules_release(&rs);
    assert_int_equal(lifecycle_rules_parse(NULL, &rs), -EINVAL);
    lifecycle_rules_release(&rs);
    /* entries that are not objects are skipped */
    assert_int_equal(lifecycle_rules_parse("[1, \"x\", null]", &rs), 0);
    assert_int_equal(rs.n, 0);
    assert_false(lifecycle_rules_any_enabled(&rs));
    lifecycle_rules_release(&rs);
    assert_int_equal(lifecycle_rules_parse("[]", &rs), 0);
    lifecycle_rules_release(&rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_days_round_up_to_next_midnight),
        cmocka_unit_test(test_date_is_due_whatever_the_age),
        cmocka_unit_test(test_earliest_enabled_match_wins),
        cmocka_unit_test(test_disabled_rules_do_nothing),
        cmocka_unit_test(test_bad_json_is_einval),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
