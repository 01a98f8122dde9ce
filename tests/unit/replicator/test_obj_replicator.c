/* Description: which partition jobs are primary and which are handoff
 * jobs, and the [object-replicator] option table's defaults. */
#include "replicator/obj_replicator.h"

#include "../ring/ring_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static const struct fixture_dev devs[] = {
    {1, 1, "127.0.0.1", "d1", 100},
    {1, 2, "127.0.0.1", "d2", 100},
    {1, 3, "127.0.0.1", "d3", 100},
    {1, 4, "127.0.0.1", "d4", 100},
};

static void test_primary_or_handoff(void **state)
{
    struct ring_data rd;
    struct ring *ring;

    (void)state;
    /* 4 partitions, 3 replicas: part p's devices are
     * (p * 7 + r * 5 + p / 3) % 4, so part 0 is on 0, 1, 2 and part 1 on
     * 3, 0, 1 */
    assert_int_equal(fixture_ring(&rd, 2, 3, 0, devs, 4), 0);
    assert_int_equal(ring_from_data(&rd, &ring), 0);
    assert_true(obj_replicator_is_primary(ring, 0, 0));
    assert_true(obj_replicator_is_primary(ring, 0, 2));
    assert_false(obj_replicator_is_primary(ring, 0, 3));
    assert_true(obj_replicator_is_primary(ring, 1, 3));
    assert_false(obj_replicator_is_primary(ring, 1, 2));
    /* a partition past the ring has no primaries */
    assert_false(obj_replicator_is_primary(ring, 4, 0));
    ring_free(ring);
}

static void test_defaults(void **state)
{
    struct obj_replicator_conf c = {0};
    struct conf *conf;
    static const char text[] = "[DEFAULT]\nbind_port = 6210\n\n"
                               "[object-replicator]\nconcurrency = 4\n";
    char path[] = "/tmp/kura-objrepl-conf-XXXXXX", err[CONF_ERR_LEN];
    int fd;

    (void)state;
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    assert_int_equal(conf_load(path, &conf, err), 0);
    unlink(path);
    assert_int_equal(
        conf_apply(conf, "object-replicator", obj_replicator_options, &c, err),
        0);
    assert_int_equal(c.bind_port, 6210);
    assert_int_equal(c.concurrency, 4);
    assert_int_equal(c.ssync_concurrency, 4);
    assert_int_equal(c.interval, 30);
    assert_int_equal(c.reclaim_age, 604800);
    assert_true(c.max_bytes_per_sec == 0);
    assert_false(c.handoffs_first);
    assert_true(c.mount_check);
    assert_float_equal(c.conn_timeout, 0.5, 1e-9);
    assert_float_equal(c.node_timeout, 10, 1e-9);
    assert_string_equal(c.recon_cache_path, "/var/cache/kura");
    conf_release(obj_replicator_options, &c);
    conf_free(conf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_primary_or_handoff),
        cmocka_unit_test(test_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
