/* Description: rebalance honours weights, tiers and min_part_hours, and
 * moves no more than it must. */
#include "ring/builder.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static struct builder *make(int pp, double replicas, int mph)
{
    char err[BUILDER_ERRLEN];
    struct builder *b;

    assert_int_equal(builder_new(pp, replicas, mph, &b, err), 0);
    return b;
}

static int add(struct builder *b, int region, int zone, const char *ip,
               const char *dev, double weight)
{
    char err[BUILDER_ERRLEN], ipbuf[64], name[64];
    struct ring_dev d = {.id = -1,
                         .region = region,
                         .zone = zone,
                         .port = 6200,
                         .replication_port = 6200,
                         .weight = weight,
                         .meta = ""};
    int id;

    snprintf(ipbuf, sizeof(ipbuf), "%s", ip);
    snprintf(name, sizeof(name), "%s", dev);
    d.ip = ipbuf;
    d.replication_ip = ipbuf;
    d.device = name;
    assert_int_equal(builder_add_dev(b, &d, &id, err), 0);
    return id;
}

static void rebalance(struct builder *b, struct rebalance_result *res)
{
    char err[BUILDER_ERRLEN];

    assert_int_equal(builder_rebalance(b, 7, res, err), 0);
    assert_int_equal(builder_validate(b, err), 0);
}

/* 3 zones x 2 servers x 2 devices */
static struct builder *three_zones(int pp)
{
    struct builder *b = make(pp, 3, 0);
    char ip[32], dev[16];

    for (int z = 1; z <= 3; z++)
        for (int s = 1; s <= 2; s++)
            for (int d = 0; d < 2; d++) {
                snprintf(ip, sizeof(ip), "10.0.%d.%d", z, s);
                snprintf(dev, sizeof(dev), "sd%c", 'a' + d);
                add(b, 1, z, ip, dev, 100);
            }
    return b;
}

static void test_initial_balance_and_dispersion(void **state)
{
    struct builder *b = three_zones(10);
    struct rebalance_result res;

    (void)state;
    rebalance(b, &res);
    assert_int_equal(res.changed_parts, 3 * 1024);
    assert_true(res.balance < 1.0);
    assert_true(b->dispersion == 0.0);
    for (size_t i = 0; i < b->n_devs; i++)
        assert_true(labs(b->devs[i]->parts - 256) <= 1);
    builder_free(b);
}

static void test_remove_moves_only_the_removed_parts(void **state)
{
    struct builder *b = three_zones(10);
    struct rebalance_result res;
    char err[BUILDER_ERRLEN];
    long had;

    (void)state;
    rebalance(b, &res);
    had = b->devs[0]->parts;
    assert_int_equal(builder_remove_dev(b, 0, err), 0);
    rebalance(b, &res);
    assert_int_equal(res.removed_devs, 1);
    assert_null(b->devs[0]);
    /* the removed device's replicas must move; a handful more may
     * for the rounding of the new per-device targets */
    assert_true(res.changed_parts >= had);
    assert_true(res.changed_parts <= had + had / 20);
    builder_free(b);
}

static void test_add_moves_about_its_share(void **state)
{
    struct builder *b = three_zones(12);
    struct rebalance_result res;
    int id;

    (void)state;
    rebalance(b, &res);
    id = add(b, 1, 2, "10.0.2.3", "sda", 100);
    rebalance(b, &res);
    /* 13 devices: the new one should get about 3 * 4096 / 13 */
    assert_true(labs(b->devs[id]->parts - 3 * 4096 / 13) <= 2);
    assert_true(res.changed_parts <= b->devs[id]->parts * 105 / 100);
    assert_true(res.balance < 1.0);
    builder_free(b);
}

static void test_min_part_hours_limits_moves(void **state)
{
    struct builder *b = three_zones(10);
    struct rebalance_result res;
    char err[BUILDER_ERRLEN];

    (void)state;
    assert_int_equal(builder_set_min_part_hours(b, 1, err), 0);
    rebalance(b, &res);
    assert_int_equal(builder_set_dev_weight(b, 1, 50, err), 0);
    rebalance(b, &res);
    assert_int_equal(res.changed_parts, 0); /* all moved < 1 hour ago */
    builder_pretend_min_part_hours_passed(b);
    rebalance(b, &res);
    assert_true(res.changed_parts > 0);
    /* at most one replica of a partition moves per rebalance */
    assert_true(res.changed_parts <= 1024);
    builder_free(b);
}

static void test_too_few_devices_fails_cleanly(void **state)
{
    struct builder *b = make(8, 3, 0);
    struct rebalance_result res;
    char err[BUILDER_ERRLEN];

    (void)state;
    add(b, 1, 1, "10.0.0.1", "sda", 100);
    add(b, 1, 1, "10.0.0.1", "sdb", 100);
    assert_int_equal(builder_rebalance(b, 1, &res, err), -EINVAL);
    assert_non_null(strstr(err, "requires more than 2 devices"));
    assert_null(b->replica2part2dev);
    builder_free(b);
}

static void test_fractional_replicas(void **state)
{
    struct builder *b = three_zones(10);
    struct rebalance_result res;
    char err[BUILDER_ERRLEN];

    (void)state;
    assert_int_equal(builder_set_replicas(b, 2.5, err), 0);
    rebalance(b, &res);
    assert_int_equal(b->n_replica_arrays, 3);
    assert_int_equal(b->replica_parts[2], 512);
    assert_true(b->dispersion == 0.0);
    builder_free(b);
}

static void test_save_load_round_trip(void **state)
{
    struct builder *b = three_zones(8), *c;
    struct rebalance_result res;
    char err[BUILDER_ERRLEN], path[] = "/tmp/kura-test-builder-XXXXXX";
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    rebalance(b, &res);
    assert_int_equal(builder_save(b, path, err), 0);
    assert_int_equal(builder_load(path, &c, err), 0);
    assert_int_equal(c->version, b->version);
    assert_string_equal(c->id, b->id);
    for (size_t r = 0; r < 3; r++)
        assert_memory_equal(c->replica2part2dev[r], b->replica2part2dev[r],
                            256 * 2);
    builder_free(c);
    builder_free(b);
    unlink(path);
}

static void test_load_rejects_inconsistent_file(void **state)
{
    char err[BUILDER_ERRLEN], path[] = "/tmp/kura-test-builder-XXXXXX";
    const char *text = "{\"format\": \"kura-ring-builder\", "
                       "\"format_version\": 1, \"part_power\": 40}";
    struct builder *b;
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (int)strlen(text));
    close(fd);
    assert_int_equal(builder_load(path, &b, err), -EINVAL);
    assert_null(b);
    assert_non_null(strstr(err, "part_power"));
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_initial_balance_and_dispersion),
        cmocka_unit_test(test_remove_moves_only_the_removed_parts),
        cmocka_unit_test(test_add_moves_about_its_share),
        cmocka_unit_test(test_min_part_hours_limits_moves),
        cmocka_unit_test(test_too_few_devices_fails_cleanly),
        cmocka_unit_test(test_fractional_replicas),
        cmocka_unit_test(test_save_load_round_trip),
        cmocka_unit_test(test_load_rejects_inconsistent_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
