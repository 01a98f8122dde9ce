/* Description: mount_check and device names; a missing device is never
 * created. */
#include "storage/devices.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static void test_names(void **state)
{
    (void)state;
    assert_true(devices_valid_name("sda1"));
    assert_false(devices_valid_name(""));
    assert_false(devices_valid_name("."));
    assert_false(devices_valid_name(".."));
    assert_false(devices_valid_name("a/b"));
    assert_int_equal(devices_check("/srv/node", "../etc", false), -EINVAL);
}

static void test_plain_directory_is_unmounted(void **state)
{
    char dir[] = "/tmp/kura-devices-XXXXXX", path[128];

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/sda", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    assert_int_equal(devices_check(dir, "sda", false), 0);
    assert_int_equal(devices_check(dir, "sda", true), -ENODEV);
    assert_false(devices_is_mount(path));
    /* missing: 507 either way, and nothing is created */
    assert_int_equal(devices_check(dir, "sdb", false), -ENODEV);
    assert_int_equal(devices_check(dir, "sdb", true), -ENODEV);
    snprintf(path, sizeof(path), "%s/sdb", dir);
    assert_int_equal(access(path, F_OK), -1);
    /* a file is not a device */
    assert_int_equal(mknod(path, S_IFREG | 0644, 0), 0);
    assert_int_equal(devices_check(dir, "sdb", false), -ENODEV);
    snprintf(path, sizeof(path), "rm -rf '%s'", dir);
    assert_int_equal(system(path), 0);
}

static void test_mount_point_is_mounted(void **state)
{
    (void)state;
    /* /proc is a mount point everywhere we run; / is its own root */
    if (!devices_is_mount("/proc"))
        skip();
    assert_int_equal(devices_check("/", "proc", true), 0);
    assert_true(devices_is_mount("/"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_plain_directory_is_unmounted),
        cmocka_unit_test(test_mount_point_is_mounted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
