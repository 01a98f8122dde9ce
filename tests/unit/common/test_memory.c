/* Description: a daemon's malloc settings and its stop-signal wait, which
 * trims freed memory while it waits. */
#include "common/memory.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static void block(int sig, sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, sig);
    assert_int_equal(pthread_sigmask(SIG_BLOCK, set, NULL), 0);
}

static void test_setup_takes_defaults_and_zeroes(void **state)
{
    struct memory_conf none = {0};
    struct memory_conf c = {.malloc_arena_max = 0,
                            .malloc_mmap_threshold = 131072,
                            .malloc_trim_interval = 1};
    void *p;

    (void)state;
    memory_setup(&none); /* glibc's own settings but one arena per core */
    memory_setup(&c);
    p = malloc(1 << 20); /* past the threshold: a mapping of its own */
    assert_non_null(p);
    free(p);
    memory_trim();
}

static void test_sigwait_returns_pending_signal(void **state)
{
    struct memory_conf c = {.malloc_trim_interval = 1};
    sigset_t set;

    (void)state;
    block(SIGUSR1, &set);
    assert_int_equal(raise(SIGUSR1), 0); /* pending: the thread blocks it */
    assert_int_equal(memory_sigwait(&set, &c), SIGUSR1);
}

static void *signal_later(void *arg)
{
    struct timespec t = {1, 300 * 1000 * 1000}; /* past one trim */

    (void)arg;
    nanosleep(&t, NULL);
    kill(getpid(), SIGUSR2);
    return NULL;
}

static void test_sigwait_trims_until_the_signal(void **state)
{
    struct memory_conf c = {.malloc_trim_interval = 1};
    void *blocks[64];
    pthread_t t;
    sigset_t set;

    (void)state;
    block(SIGUSR2, &set); /* before the thread: it inherits the mask */
    for (int i = 0; i < 64; i++)
        assert_non_null(blocks[i] = malloc(16384));
    for (int i = 0; i < 64; i += 2) /* holes for malloc_trim() */
        free(blocks[i]);
    assert_int_equal(pthread_create(&t, NULL, signal_later, NULL), 0);
    assert_int_equal(memory_sigwait(&set, &c), SIGUSR2);
    pthread_join(t, NULL);
    for (int i = 1; i < 64; i += 2)
        free(blocks[i]);
}

static void test_sigwait_without_trimming(void **state)
{
    struct memory_conf c = {.malloc_trim_interval = 0};
    sigset_t set;

    (void)state;
    block(SIGUSR1, &set);
    assert_int_equal(raise(SIGUSR1), 0);
    assert_int_equal(memory_sigwait(&set, &c), SIGUSR1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_setup_takes_defaults_and_zeroes),
        cmocka_unit_test(test_sigwait_returns_pending_signal),
        cmocka_unit_test(test_sigwait_trims_until_the_signal),
        cmocka_unit_test(test_sigwait_without_trimming),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
