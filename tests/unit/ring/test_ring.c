/* Description: partition lookup, primaries and handoff order, against
 * values Swift 2.30's Ring computes for the same rings (the fixture
 * formula of ring_fixture.h, built in Python with RingData and read back
 * with swift.common.ring.Ring). */
#include "ring/ring.h"

#include "ring/hash_path.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/unit/ring/ring_fixture.h"

#define N_3Z (sizeof(FIXTURE_DEVS_3Z) / sizeof(FIXTURE_DEVS_3Z[0]))
#define N_2R (sizeof(FIXTURE_DEVS_2R) / sizeof(FIXTURE_DEVS_2R[0]))

struct expect {
    uint32_t part;
    size_t n_primaries;
    int primaries[4];
    size_t n_handoffs;
    int handoffs[16];
};

/* 3 zones, part power 6, 3 replicas */
static const struct expect expect_3z[] = {
    {0, 3, {0, 5, 4}, 3, {2, 1, 3}},  {1, 3, {1, 0, 5}, 3, {3, 4, 2}},
    {5, 3, {0, 5, 4}, 3, {3, 2, 1}},  {17, 3, {4, 3, 2}, 3, {1, 0, 5}},
    {63, 3, {0, 5, 4}, 3, {2, 1, 3}},
};

/* 2 regions, part power 8, 2.5 replicas */
static const struct expect expect_2r_frac[] = {
    {0, 3, {0, 5, 10}, 13, {14, 3, 12, 9, 7, 1, 4, 11, 2, 15, 6, 8, 13}},
    {3, 3, {6, 11, 0}, 13, {15, 2, 8, 13, 5, 7, 10, 1, 12, 14, 3, 4, 9}},
    {127, 3, {3, 8, 13}, 13, {7, 10, 15, 1, 5, 2, 6, 0, 12, 14, 11, 4, 9}},
    {128, 2, {10, 15}, 14, {1, 6, 8, 13, 2, 5, 11, 0, 7, 12, 14, 3, 4, 9}},
    {200, 2, {10, 15}, 14, {1, 6, 12, 3, 8, 4, 13, 2, 7, 9, 14, 0, 5, 11}},
    {255, 2, {14, 3}, 14, {6, 11, 12, 1, 8, 4, 7, 0, 13, 2, 9, 10, 15, 5}},
};

/* 2 regions, part power 17 (the walk steps by 2), 3 replicas */
static const struct expect expect_2r_big[] = {
    {0, 3, {0, 5, 10}, 13, {14, 3, 8, 13, 7, 2, 12, 1, 6, 15, 4, 9, 11}},
    {1, 3, {7, 12, 1}, 13, {10, 2, 15, 4, 9, 13, 6, 14, 3, 8, 11, 0, 5}},
    {4242, 3, {4, 9, 14}, 13, {3, 13, 7, 0, 10, 8, 2, 12, 5, 15, 1, 6, 11}},
    {131071, 3, {3, 8, 13}, 13, {7, 1, 10, 15, 4, 2, 12, 6, 9, 14, 11, 0, 5}},
};

/* 3 zones with part 0's second replica on its first's device, and an
 * unassigned device 6 in region 2 */
static const struct expect expect_dedup[] = {
    {0, 2, {0, 4}, 4, {2, 1, 3, 5}},
    {1, 3, {1, 0, 5}, 3, {3, 4, 2}},
};

static struct ring *make_ring(unsigned part_power, size_t n_replicas,
                              size_t last_parts, const struct fixture_dev *devs,
                              size_t n_devs)
{
    struct ring_data rd;
    struct ring *ring;

    assert_int_equal(
        fixture_ring(&rd, part_power, n_replicas, last_parts, devs, n_devs), 0);
    assert_int_equal(ring_from_data(&rd, &ring), 0);
    assert_null(rd.devs); /* taken */
    return ring;
}

static void check_expect(const struct ring *ring, const struct expect *e,
                         size_t n)
{
    for (size_t i = 0; i < n; i++, e++) {
        const struct ring_dev *nodes[4];
        struct ring_handoff_iter *it;
        const struct ring_dev *dev;
        size_t got;

        got = ring_get_part_nodes(ring, e->part, nodes, 4);
        assert_int_equal(got, e->n_primaries);
        for (size_t k = 0; k < got; k++)
            assert_int_equal(nodes[k]->id, e->primaries[k]);
        assert_int_equal(ring_handoff_iter_new(ring, e->part, &it), 0);
        for (got = 0; (dev = ring_handoff_iter_next(it)); got++) {
            assert_true(got < e->n_handoffs);
            if (dev->id != e->handoffs[got])
                fail_msg("part %u handoff %zu: device %d, Swift says %d",
                         e->part, got, dev->id, e->handoffs[got]);
        }
        assert_int_equal(got, e->n_handoffs);
        assert_null(ring_handoff_iter_next(it)); /* stays exhausted */
        ring_handoff_iter_free(it);
    }
}

static void test_basic_properties(void **state)
{
    struct ring *ring = make_ring(6, 3, 0, FIXTURE_DEVS_3Z, N_3Z);

    (void)state;
    assert_int_equal(ring_part_power(ring), 6);
    assert_int_equal(ring_partition_count(ring), 64);
    assert_true(ring_replica_count(ring) == 3.0);
    assert_int_equal(ring_replica_arrays(ring), 3);
    assert_int_equal(ring_dev_slots(ring), 6);
    assert_int_equal(ring_device_count(ring), 6);
    assert_string_equal(ring_get_dev(ring, 5)->ip, "10.0.0.6");
    assert_null(ring_get_dev(ring, 6));
    ring_free(ring);
    ring_free(NULL);
}

static void test_get_part(void **state)
{
    struct ring *ring = make_ring(6, 3, 0, FIXTURE_DEVS_3Z, N_3Z);
    struct hash_path_conf hc;
    unsigned char digest[16];
    unsigned char ones[16];

    (void)state;
    assert_int_equal(hash_path_conf_set(&hc, "kuraPre", "kuraSuf"), 0);
    assert_int_equal(hash_path(&hc, "AUTH_test", "photos", "cat.jpg", digest),
                     0);
    assert_int_equal(ring_get_part(ring, digest), 39); /* Swift: 39 */
    memset(ones, 0xff, sizeof(ones));
    assert_int_equal(ring_get_part(ring, ones), 63);
    hash_path_conf_release(&hc);
    ring_free(ring);
}

static void test_nodes_match_swift(void **state)
{
    struct ring *ring;

    (void)state;
    ring = make_ring(6, 3, 0, FIXTURE_DEVS_3Z, N_3Z);
    check_expect(ring, expect_3z, sizeof(expect_3z) / sizeof(expect_3z[0]));
    ring_free(ring);
}

static void test_fractional_replicas_match_swift(void **state)
{
    struct ring *ring;

    (void)state;
    ring = make_ring(8, 3, 128, FIXTURE_DEVS_2R, N_2R);
    assert_true(ring_replica_count(ring) == 2.5);
    check_expect(ring, expect_2r_frac,
                 sizeof(expect_2r_frac) / sizeof(expect_2r_frac[0]));
    ring_free(ring);
}

static void test_large_ring_walk_matches_swift(void **state)
{
    struct ring *ring;

    (void)state;
    ring = make_ring(17, 3, 0, FIXTURE_DEVS_2R, N_2R);
    check_expect(ring, expect_2r_big,
                 sizeof(expect_2r_big) / sizeof(expect_2r_big[0]));
    ring_free(ring);
}

static void test_dedup_and_unassigned_device(void **state)
{
    struct ring_data rd;
    struct ring *ring;
    struct ring_dev extra = {
        .id = 6,
        .region = 2,
        .zone = 1,
        .ip = (char *)"10.9.9.9",
        .port = 6200,
        .device = (char *)"sdz",
        .meta = (char *)"",
    };
    const struct ring_dev *nodes[1];

    (void)state;
    assert_int_equal(fixture_ring(&rd, 6, 3, 0, FIXTURE_DEVS_3Z, N_3Z), 0);
    rd.devs = realloc(rd.devs, 7 * sizeof(*rd.devs));
    rd.devs[6] = calloc(1, sizeof(*rd.devs[6]));
    assert_int_equal(ring_dev_copy(rd.devs[6], &extra), 0);
    rd.n_devs = 7;
    rd.replica2part2dev[1][0] = rd.replica2part2dev[0][0];
    assert_int_equal(ring_from_data(&rd, &ring), 0);
    assert_int_equal(ring_device_count(ring), 7);
    check_expect(ring, expect_dedup,
                 sizeof(expect_dedup) / sizeof(expect_dedup[0]));
    /* a short buffer still counts every primary */
    assert_int_equal(ring_get_part_nodes(ring, 1, nodes, 1), 3);
    assert_int_equal(nodes[0]->id, 1);
    /* no primaries for a partition out of range, handoffs still work */
    assert_int_equal(ring_get_part_nodes(ring, 64, nodes, 1), 0);
    ring_free(ring);
}

static void test_from_data_rejects_bad_ids(void **state)
{
    struct ring_data rd;
    struct ring *ring;

    (void)state;
    assert_int_equal(fixture_ring(&rd, 4, 2, 0, FIXTURE_DEVS_3Z, N_3Z), 0);
    rd.replica2part2dev[1][3] = 6;
    assert_int_equal(ring_from_data(&rd, &ring), -EINVAL);
    assert_null(ring);
    assert_null(rd.devs); /* released */
}

static void test_load_and_refcount(void **state)
{
    struct ring_data rd;
    struct ring *ring, *again;
    char path[256], err[RINGFILE_ERRLEN];

    (void)state;
    fixture_path(path, sizeof(path), "ring.ring.gz");
    assert_int_equal(fixture_ring(&rd, 6, 3, 0, FIXTURE_DEVS_3Z, N_3Z), 0);
    assert_int_equal(ringfile_write(path, &rd, err), 0);
    ring_data_release(&rd);
    assert_int_equal(ring_load(path, &ring, err), 0);
    check_expect(ring, expect_3z, 1);
    again = ring_ref(ring);
    ring_free(ring);
    check_expect(again, expect_3z, 1); /* still alive */
    ring_free(again);
    assert_int_equal(ring_load("/nonexistent.ring.gz", &ring, err), -ENOENT);
    assert_null(ring);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_properties),
        cmocka_unit_test(test_get_part),
        cmocka_unit_test(test_nodes_match_swift),
        cmocka_unit_test(test_fractional_replicas_match_swift),
        cmocka_unit_test(test_large_ring_walk_matches_swift),
        cmocka_unit_test(test_dedup_and_unassigned_device),
        cmocka_unit_test(test_from_data_rejects_bad_ids),
        cmocka_unit_test(test_load_and_refcount),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
