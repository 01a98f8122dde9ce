/* Description: atomic replace leaves either the old or the new content and
 * no temp file behind. */
#include "common/atomic_file.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static char dir[] = "/tmp/kura-atomic-XXXXXX";

static int count_entries(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static void read_all(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    size_t n;

    assert_non_null(f);
    n = fread(buf, 1, len - 1, f);
    buf[n] = '\0';
    fclose(f);
}

static void test_replace_writes_new_content(void **state)
{
    char path[64], buf[64];

    (void)state;
    snprintf(path, sizeof(path), "%s/f", dir);
    assert_int_equal(atomic_file_replace(path, "old", 3), 0);
    assert_int_equal(atomic_file_replace(path, "new!", 4), 0);
    read_all(path, buf, sizeof(buf));
    assert_string_equal(buf, "new!");
    assert_int_equal(count_entries(), 1);
}

static void test_abort_leaves_target_untouched(void **state)
{
    struct atomic_file af;
    char path[64], buf[64];

    (void)state;
    snprintf(path, sizeof(path), "%s/g", dir);
    assert_int_equal(atomic_file_replace(path, "keep", 4), 0);
    assert_int_equal(atomic_file_open(&af, path), 0);
    assert_int_equal(atomic_file_write(&af, "junk", 4), 0);
    atomic_file_abort(&af);
    read_all(path, buf, sizeof(buf));
    assert_string_equal(buf, "keep");
    assert_int_equal(count_entries(), 2);
}

static void test_missing_directory_fails(void **state)
{
    (void)state;
    assert_int_equal(atomic_file_replace("/nonexistent-kura/x", "a", 1),
                     -ENOENT);
}

static void test_abort_on_zeroed_struct_is_safe(void **state)
{
    struct atomic_file af = {0};

    (void)state;
    atomic_file_abort(&af);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replace_writes_new_content),
        cmocka_unit_test(test_abort_leaves_target_untouched),
        cmocka_unit_test(test_missing_directory_fails),
        cmocka_unit_test(test_abort_on_zeroed_struct_is_safe),
    };
    int rc;

    assert_non_null(mkdtemp(dir));
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            rc = rc ? rc : 1;
    }
    return rc;
}
