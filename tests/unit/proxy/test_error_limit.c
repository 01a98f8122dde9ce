/* Description: Swift's error limiting of storage nodes: more than 'limit'
 * errors close together limit a device until 'interval' after the last,
 * 507 limits at once, limits run out, devices are independent, and the
 * table takes concurrent callers. */
#include "proxy/error_limit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define DEV(ip_, port_, dev_)                                                  \
    {                                                                          \
        .ip = (ip_), .port = (port_), .device = (dev_)                         \
    }

static struct ring_dev sda = DEV("10.0.0.1", 6200, "sda");

static struct error_limit *new_el(double interval, unsigned int limit)
{
    struct error_limit *el = NULL;

    assert_int_equal(error_limit_new(interval, limit, &el), 0);
    assert_non_null(el);
    return el;
}

static void test_new_free(void **state)
{
    struct error_limit *el = new_el(60, 10);

    (void)state;
    assert_false(error_limited(el, &sda, 0));
    assert_false(error_limited(el, &sda, 1e9));
    error_limit_free(el);
    error_limit_free(NULL);
}

/* 'limit' errors are tolerated; one more limits the device until
 * 'interval' after that last error. */
static void test_limited_after_more_than_limit(void **state)
{
    struct error_limit *el = new_el(60, 3);

    (void)state;
    error_limit_occurred(el, &sda, 100);
    error_limit_occurred(el, &sda, 101);
    error_limit_occurred(el, &sda, 102);
    assert_false(error_limited(el, &sda, 102));
    assert_false(error_limited(el, &sda, 103));
    error_limit_occurred(el, &sda, 103);
    assert_true(error_limited(el, &sda, 103));
    assert_true(error_limited(el, &sda, 130));
    assert_true(error_limited(el, &sda, 162.9));
    /* (at exactly 163 Swift still limits: "last_error < now - interval"
     * is what frees it; we free it there) */
    assert_false(error_limited(el, &sda, 163.1));
    assert_false(error_limited(el, &sda, 500));
    error_limit_free(el);
}

/* An error while limited pushes the end of the limit out. */
static void test_error_while_limited_extends(void **state)
{
    struct error_limit *el = new_el(60, 1);

    (void)state;
    error_limit_occurred(el, &sda, 0);
    error_limit_occurred(el, &sda, 1);
    assert_true(error_limited(el, &sda, 2));
    error_limit_occurred(el, &sda, 50);
    assert_true(error_limited(el, &sda, 61.5));
    assert_true(error_limited(el, &sda, 109.9));
    assert_false(error_limited(el, &sda, 110.1));
    error_limit_free(el);
}

/* Only errors each within 'interval' of the last add up: a longer gap
 * starts the count again. */
static void test_spaced_errors_restart_count(void **state)
{
    struct error_limit *el = new_el(10, 2);
    double t;

    (void)state;
    for (t = 0; t < 200; t += 10.5) {
        error_limit_occurred(el, &sda, t);
        assert_false(error_limited(el, &sda, t));
    }
    /* with no error_limited() between them too (Swift would count these:
     * only its error_limited() forgets old errors; as the proxy asks it
     * before every request, the two agree in use) */
    for (t = 1000; t < 1200; t += 10.5)
        error_limit_occurred(el, &sda, t);
    assert_false(error_limited(el, &sda, t));
    /* a gap of exactly 'interval' is still within it, as in Swift */
    error_limit_occurred(el, &sda, 2000);
    error_limit_occurred(el, &sda, 2010);
    assert_false(error_limited(el, &sda, 2010));
    error_limit_occurred(el, &sda, 2020);
    assert_true(error_limited(el, &sda, 2020));
    assert_true(error_limited(el, &sda, 2029));
    assert_false(error_limited(el, &sda, 2030.5));
    error_limit_free(el);
}

/* 507: limited at once, for 'interval'; then forgotten, so a single new
 * error does not limit again. */
static void test_limit_now(void **state)
{
    struct error_limit *el = new_el(60, 10);

    (void)state;
    error_limit_now(el, &sda, 5);
    assert_true(error_limited(el, &sda, 5));
    assert_true(error_limited(el, &sda, 64.9));
    assert_false(error_limited(el, &sda, 65.1));
    error_limit_occurred(el, &sda, 66);
    assert_false(error_limited(el, &sda, 66));
    /* a limit of 0: the first error limits, as does error_limit_now() */
    error_limit_free(el);
    el = new_el(60, 0);
    error_limit_occurred(el, &sda, 1);
    assert_true(error_limited(el, &sda, 1));
    assert_false(error_limited(el, &sda, 61.5));
    error_limit_now(el, &sda, 100);
    assert_true(error_limited(el, &sda, 159));
    error_limit_free(el);
}

/* A limit that ran out is forgotten: the errors before it count no more
 * (Swift pops the node's stats). */
static void test_run_out_limit_forgotten(void **state)
{
    struct error_limit *el = new_el(10, 2);

    (void)state;
    for (int i = 0; i < 3; i++)
        error_limit_occurred(el, &sda, i);
    assert_true(error_limited(el, &sda, 5));
    assert_false(error_limited(el, &sda, 12.5));
    assert_false(error_limited(el, &sda, 12.5));
    error_limit_occurred(el, &sda, 13);
    error_limit_occurred(el, &sda, 14);
    assert_false(error_limited(el, &sda, 14));
    error_limit_occurred(el, &sda, 15);
    assert_true(error_limited(el, &sda, 15));
    error_limit_free(el);
}

/* A limit that ran out with nobody asking, then a new run of errors: the
 * new errors count from the first of them. */
static void test_new_errors_after_unchecked_limit(void **state)
{
    struct error_limit *el = new_el(10, 1);

    (void)state;
    error_limit_occurred(el, &sda, 0);
    error_limit_occurred(el, &sda, 1);  /* limited until 11 */
    error_limit_occurred(el, &sda, 20); /* a new count: 1 */
    assert_false(error_limited(el, &sda, 21));
    error_limit_occurred(el, &sda, 22); /* 2 errors 2 s apart: over 1 */
    /* the count restarted at 20 drops the run-out limit with it, so the
     * check at 21 cannot mistake it for a limit just expired */
    assert_true(error_limited(el, &sda, 22));
    assert_true(error_limited(el, &sda, 31.9));
    assert_false(error_limited(el, &sda, 32.1));
    error_limit_free(el);
}

/* Devices are "ip:port/device": changing any part is another device. */
static void test_devices_independent(void **state)
{
    struct ring_dev other_port = DEV("10.0.0.1", 6201, "sda");
    struct ring_dev other_dev = DEV("10.0.0.1", 6200, "sdb");
    struct ring_dev other_ip = DEV("10.0.0.2", 6200, "sda");
    struct ring_dev v6 = DEV("fe80::1", 6200, "sda");
    struct ring_dev same = DEV("10.0.0.1", 6200, "sda");
    struct error_limit *el = new_el(60, 1);

    (void)state;
    /* one error each: no device has two */
    error_limit_occurred(el, &sda, 1);
    error_limit_occurred(el, &other_port, 1);
    error_limit_occurred(el, &other_dev, 1);
    error_limit_occurred(el, &other_ip, 1);
    error_limit_occurred(el, &v6, 1);
    assert_false(error_limited(el, &sda, 2));
    assert_false(error_limited(el, &other_port, 2));
    assert_false(error_limited(el, &other_dev, 2));
    assert_false(error_limited(el, &other_ip, 2));
    assert_false(error_limited(el, &v6, 2));
    /* a second: only that device; an equal record is the same device */
    error_limit_occurred(el, &same, 3);
    assert_true(error_limited(el, &sda, 4));
    assert_false(error_limited(el, &other_port, 4));
    assert_false(error_limited(el, &other_dev, 4));
    assert_false(error_limited(el, &other_ip, 4));
    assert_false(error_limited(el, &v6, 4));
    error_limit_now(el, &other_dev, 5);
    assert_true(error_limited(el, &other_dev, 6));
    assert_false(error_limited(el, &other_port, 6));
    assert_false(error_limited(el, &other_ip, 6));
    error_limit_free(el);
}

/* ---- four threads at once, started together: each gives exactly
 * 'limit' errors to many devices of its own (so one more limits each, and
 * a lost or doubled update or entry shows), limits a few at once, and all
 * count errors of one shared device in two tables whose limits are one
 * either side of the total. ---- */
#define THREADS 4
#define DEVS 300
#define LIMIT 5
#define SHARED_PER_THREAD 20000
#define NOW 1000.0

static struct ring_dev shared = DEV("10.9.9.9", 6200, "shared");
static pthread_barrier_t start;

struct worker {
    struct error_limit *el, *below, *at;
    char names[DEVS][32];
    struct ring_dev devs[DEVS];
};

static void *hammer(void *arg)
{
    struct worker *w = arg;

    pthread_barrier_wait(&start);
    for (int e = 0; e < LIMIT; e++) {
        for (int i = 0; i < DEVS; i++) {
            if (i % 50 == 0)
                error_limit_now(w->el, &w->devs[i], NOW);
            else
                error_limit_occurred(w->el, &w->devs[i], NOW);
            (void)error_limited(w->el, &w->devs[(i * 7) % DEVS], NOW);
        }
    }
    for (int i = 0; i < SHARED_PER_THREAD; i++) {
        error_limit_occurred(w->below, &shared, NOW);
        error_limit_occurred(w->at, &shared, NOW);
        (void)error_limited(w->at, &shared, NOW);
    }
    return NULL;
}

static void test_threads(void **state)
{
    struct worker *w = calloc(THREADS, sizeof(*w));
    struct error_limit *el = new_el(60, LIMIT);
    struct error_limit *below = new_el(60, THREADS * SHARED_PER_THREAD - 1);
    struct error_limit *at = new_el(60, THREADS * SHARED_PER_THREAD);
    pthread_t t[THREADS];

    (void)state;
    assert_non_null(w);
    assert_int_equal(pthread_barrier_init(&start, NULL, THREADS), 0);
    for (int k = 0; k < THREADS; k++) {
        w[k].el = el;
        w[k].below = below;
        w[k].at = at;
        for (int i = 0; i < DEVS; i++) {
            snprintf(w[k].names[i], sizeof(w[k].names[i]), "d%d", i);
            w[k].devs[i] =
                (struct ring_dev)DEV("10.1.0.1", 6200 + k, w[k].names[i]);
        }
    }
    for (int k = 0; k < THREADS; k++)
        assert_int_equal(pthread_create(&t[k], NULL, hammer, &w[k]), 0);
    for (int k = 0; k < THREADS; k++)
        assert_int_equal(pthread_join(t[k], NULL), 0);
    pthread_barrier_destroy(&start);

    assert_true(error_limited(below, &shared, NOW));
    assert_false(error_limited(at, &shared, NOW));
    for (int k = 0; k < THREADS; k++) {
        for (int i = 0; i < DEVS; i++) {
            struct ring_dev *d = &w[k].devs[i];

            if (i % 50 == 0) {
                assert_true(error_limited(el, d, NOW));
                continue;
            }
            assert_false(error_limited(el, d, NOW));
            error_limit_occurred(el, d, NOW);
            assert_true(error_limited(el, d, NOW));
        }
    }
    error_limit_free(el);
    error_limit_free(below);
    error_limit_free(at);
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_free),
        cmocka_unit_test(test_limited_after_more_than_limit),
        cmocka_unit_test(test_error_while_limited_extends),
        cmocka_unit_test(test_spaced_errors_restart_count),
        cmocka_unit_test(test_limit_now),
        cmocka_unit_test(test_run_out_limit_forgotten),
        cmocka_unit_test(test_new_errors_after_unchecked_limit),
        cmocka_unit_test(test_devices_independent),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
