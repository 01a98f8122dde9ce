/* Description: the expirer queue's names (storage/obj_expiring.c) against
 * Swift 2.30's get_expirer_container(), build_task_obj() and
 * parse_task_obj(); expected strings come from Swift itself (hash path
 * prefix "pre", suffix "suf"). */
#include "storage/obj_expiring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static void test_container_is_swifts(void **state)
{
    struct hash_path_conf hc = {0};
    char name[OBJ_EXPIRING_NAME_SIZE];

    (void)state;
    assert_int_equal(hash_path_conf_set(&hc, "pre", "suf"), 0);
    assert_int_equal(
        obj_expiring_container(&hc, 1700000123, "AUTH_test", "c", "o", name),
        0);
    assert_string_equal(name, "1699919966");
    /* before the first day less the shard: clamped to zero, as Swift */
    assert_int_equal(obj_expiring_container(&hc, 5, "a", "c", "o/x y", name),
                     0);
    assert_string_equal(name, "0000000000");
    hash_path_conf_release(&hc);
}

static void test_task_name_round_trip(void **state)
{
    struct obj_expiring_task t;
    char *name = obj_expiring_task_name(1700000123, "AUTH_test", "c", "o/p");

    (void)state;
    assert_string_equal(name, "1700000123-AUTH_test/c/o/p");
    assert_int_equal(obj_expiring_task_parse(name, &t), 0);
    assert_int_equal(t.delete_at, 1700000123);
    assert_string_equal(t.account, "AUTH_test");
    assert_string_equal(t.container, "c");
    assert_string_equal(t.object, "o/p");
    obj_expiring_task_release(&t);
    free(name);
    /* Swift's high-precision names */
    assert_int_equal(obj_expiring_task_parse("1700000123.12345-a/c/o", &t), 0);
    assert_int_equal(t.delete_at, 1700000123);
    obj_expiring_task_release(&t);
}

static void test_parse_refuses_what_is_not_a_task(void **state)
{
    static const char *const bad[] = {
        "",
        "1700000123",
        "1700000123-",
        "1700000123-a",
        "1700000123-a/c",
        "1700000123-a/c/",
        "1700000123-/c/o",
        "1700000123-a//o",
        "x-a/c/o",
        "-a/c/o",
    };
    struct obj_expiring_task t;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(obj_expiring_task_parse(bad[i], &t), -EINVAL);
        assert_null(t.account);
    }
}

static void test_at_reads_only_integers(void **state)
{
    (void)state;
    assert_int_equal(obj_expiring_at("1700000123"), 1700000123);
    assert_int_equal(obj_expiring_at(NULL), 0);
    assert_int_equal(obj_expiring_at(""), 0);
    assert_int_equal(obj_expiring_at("12x"), 0);
    assert_int_equal(obj_expiring_at("-5"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_container_is_swifts),
        cmocka_unit_test(test_task_name_round_trip),
        cmocka_unit_test(test_parse_refuses_what_is_not_a_task),
        cmocka_unit_test(test_at_reads_only_integers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
