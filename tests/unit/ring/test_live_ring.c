/* Description: the live ring picks up a changed file, keeps the old ring
 * when the new file is bad, and readers in other threads never see a
 * half-loaded or freed ring. */
#include "ring/live_ring.h"

#include <pthread.h>
#include <stdatomic.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/unit/ring/ring_fixture.h"

#define N_3Z (sizeof(FIXTURE_DEVS_3Z) / sizeof(FIXTURE_DEVS_3Z[0]))

static char path[256];

static int setup(void **state)
{
    (void)state;
    fixture_path(path, sizeof(path), "live.ring.gz");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

/* Writes a ring of 2^part_power partitions to 'path'. */
static void write_ring(unsigned part_power)
{
    struct ring_data rd;
    char err[RINGFILE_ERRLEN];

    assert_int_equal(fixture_ring(&rd, part_power, 3, 0, FIXTURE_DEVS_3Z, N_3Z),
                     0);
    assert_int_equal(ringfile_write(path, &rd, err), 0);
    ring_data_release(&rd);
}

static void write_garbage(void)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs("this is not a ring\n", f);
    fclose(f);
}

static unsigned power_now(struct live_ring *lr)
{
    struct ring *ring = live_ring_get(lr);
    unsigned power = ring_part_power(ring);

    ring_free(ring);
    return power;
}

static void test_first_load_must_succeed(void **state)
{
    struct live_ring *lr;
    char err[RINGFILE_ERRLEN];

    (void)state;
    assert_int_equal(live_ring_new(path, 0, &lr, err), -ENOENT);
    assert_null(lr);
    write_garbage();
    assert_int_equal(live_ring_new(path, 0, &lr, err), -EINVAL);
    assert_null(lr);
    live_ring_free(NULL);
}

static void test_picks_up_changed_file(void **state)
{
    struct live_ring *lr;
    struct ring *old;
    char err[RINGFILE_ERRLEN];

    (void)state;
    write_ring(6);
    assert_int_equal(live_ring_new(path, 0, &lr, err), 0);
    old = live_ring_get(lr);
    assert_int_equal(ring_part_power(old), 6);
    write_ring(7);
    assert_int_equal(power_now(lr), 7);
    /* the reference taken before the swap still works */
    assert_int_equal(ring_partition_count(old), 64);
    ring_free(old);
    assert_int_equal(live_ring_reload(lr, err), 0); /* unchanged */
    assert_int_equal(live_ring_last_error(lr, err), 0);
    live_ring_free(lr);
}

static void test_keeps_old_ring_on_bad_file(void **state)
{
    struct live_ring *lr;
    char err[RINGFILE_ERRLEN];

    (void)state;
    write_ring(6);
    assert_int_equal(live_ring_new(path, 0, &lr, err), 0);
    write_garbage();
    assert_int_equal(power_now(lr), 6);
    assert_int_equal(live_ring_last_error(lr, err), -EINVAL);
    assert_non_null(strstr(err, "gzip"));
    /* the same bad file is not loaded again */
    assert_int_equal(live_ring_reload(lr, err), 0);
    unlink(path);
    assert_int_equal(live_ring_reload(lr, err), -ENOENT);
    assert_int_equal(power_now(lr), 6);
    write_ring(8);
    assert_int_equal(live_ring_reload(lr, err), 1);
    assert_int_equal(power_now(lr), 8);
    assert_int_equal(live_ring_last_error(lr, err), 0);
    assert_string_equal(err, "");
    live_ring_free(lr);
}

static void test_waits_for_reload_time(void **state)
{
    struct live_ring *lr;
    char err[RINGFILE_ERRLEN];

    (void)state;
    write_ring(6);
    assert_int_equal(live_ring_new(path, 3600, &lr, err), 0);
    write_ring(7);
    assert_int_equal(power_now(lr), 6); /* not due for an hour */
    assert_int_equal(live_ring_reload(lr, err), 1);
    assert_int_equal(power_now(lr), 7);
    live_ring_free(lr);
}

struct reader {
    struct live_ring *lr;
    atomic_bool *stop;
    unsigned long lookups;
    int bad;
};

static void *read_loop(void *arg)
{
    struct reader *rd = arg;
    unsigned char digest[16] = {0};

    while (!atomic_load(rd->stop)) {
        struct ring *ring = live_ring_get(rd->lr);
        const struct ring_dev *nodes[3];
        struct ring_handoff_iter *it;
        uint32_t part;

        digest[0] = (unsigned char)rd->lookups;
        part = ring_get_part(ring, digest);
        if (ring_get_part_nodes(ring, part, nodes, 3) != 3 ||
            ring_handoff_iter_new(ring, part, &it) != 0) {
            rd->bad++;
        } else {
            if (!ring_handoff_iter_next(it))
                rd->bad++;
            ring_handoff_iter_free(it);
        }
        ring_free(ring);
        rd->lookups++;
    }
    return NULL;
}

static void test_readers_during_reloads(void **state)
{
    enum { N_READERS = 4 };
    struct reader readers[N_READERS];
    pthread_t threads[N_READERS];
    atomic_bool stop;
    struct live_ring *lr;
    char err[RINGFILE_ERRLEN];

    (void)state;
    write_ring(6);
    assert_int_equal(live_ring_new(path, 0, &lr, err), 0);
    atomic_init(&stop, false);
    for (int i = 0; i < N_READERS; i++) {
        readers[i] = (struct reader){.lr = lr, .stop = &stop};
        assert_int_equal(
            pthread_create(&threads[i], NULL, read_loop, &readers[i]), 0);
    }
    for (int round = 0; round < 40; round++) {
        if (round % 5 == 4)
            write_garbage();
        else
            write_ring(6 + round % 3);
        usleep(2000);
    }
    atomic_store(&stop, true);
    for (int i = 0; i < N_READERS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(readers[i].bad, 0);
        assert_true(readers[i].lookups > 0);
    }
    live_ring_free(lr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_first_load_must_succeed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_picks_up_changed_file, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_keeps_old_ring_on_bad_file, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_waits_for_reload_time, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_readers_during_reloads, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
