/* Description: the storage policies of swift.conf as the account and
 * container servers read them. */
#include "storage/policies.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static void write_swift_conf(const char *dir, const char *text)
{
    char path[PATH_MAX];
    FILE *f;

    snprintf(path, sizeof(path), "%s/swift.conf", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void remove_dir(const char *dir)
{
    char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/swift.conf", dir);
    unlink(path);
    rmdir(dir);
}

static void test_sections_and_names(void **state)
{
    char dir[] = "/tmp/kura-policies-XXXXXX";
    struct policies p;

    (void)state;
    assert_non_null(mkdtemp(dir));
    write_swift_conf(dir, "[swift-hash]\nswift_hash_path_suffix = x\n"
                          "[storage-policy:0]\n"
                          "[storage-policy:1]\nname = gold\n"
                          "[storage-policy:x]\nname = bad\n"
                          "[storage-policy:4294967296]\nname = big\n"
                          "[storage-policy:2]\n");
    assert_int_equal(policies_load(dir, &p), 0);
    assert_int_equal(p.n, 3);
    assert_string_equal(policies_get(&p, 0)->name, "Policy-0");
    assert_string_equal(policies_get(&p, 1)->name, "gold");
    assert_non_null(policies_get(&p, 2));
    assert_null(policies_get(&p, 2)->name); /* Swift refuses it; we list it */
    assert_null(policies_get(&p, 3));
    assert_null(policies_get(&p, 4294967296ull));
    policies_release(&p);
    assert_int_equal(p.n, 0);
    remove_dir(dir);
}

static void test_no_file_is_policy_0(void **state)
{
    struct policies p;

    (void)state;
    assert_int_equal(policies_load("/nonexistent-kura-dir", &p), 0);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.items[0].index, 0);
    assert_string_equal(p.items[0].name, "Policy-0");
    policies_release(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sections_and_names),
        cmocka_unit_test(test_no_file_is_policy_0),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
