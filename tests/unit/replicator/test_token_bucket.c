/* Description: the replicator's shared byte rate limit: a second's burst,
 * then waits that keep the average at the rate, debts queued in order. */
#include "replicator/token_bucket.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* a bucket on a fake clock starting at 0 */
static void bucket_at_zero(struct token_bucket *tb, uint64_t rate)
{
    assert_int_equal(token_bucket_init(tb, rate), 0);
    tb->last = 0;
}

static void test_unlimited_never_waits(void **state)
{
    struct token_bucket tb;

    (void)state;
    bucket_at_zero(&tb, 0);
    assert_true(token_bucket_take(&tb, 0, 1u << 30) == 0);
    assert_true(token_bucket_take(&tb, 0, 1u << 30) == 0);
    token_bucket_release(&tb);
}

static void test_burst_then_rate(void **state)
{
    struct token_bucket tb;

    (void)state;
    bucket_at_zero(&tb, 1000);
    /* a full bucket: one second's bytes at once */
    assert_true(token_bucket_take(&tb, 0, 1000) == 0);
    /* then a debt: half a second, and the next waits behind it */
    assert_float_equal(token_bucket_take(&tb, 0, 500), 0.5, 1e-9);
    assert_float_equal(token_bucket_take(&tb, 0, 500), 1.0, 1e-9);
    /* once paid and a second idle, the bucket is full again, not fuller */
    assert_true(token_bucket_take(&tb, 10, 1000) == 0);
    assert_float_equal(token_bucket_take(&tb, 10, 100), 0.1, 1e-9);
    token_bucket_release(&tb);
}

static void test_average_holds(void **state)
{
    struct token_bucket tb;
    double t = 0;

    (void)state;
    bucket_at_zero(&tb, 1000);
    /* a sender that sleeps what it is told sends 10 s of bytes (after the
     * first second's burst) in 10 s */
    for (int i = 0; i < 110; i++)
        t += token_bucket_take(&tb, t, 100);
    assert_float_equal(t, 10.0, 1e-6);
    token_bucket_release(&tb);
}

static void test_clock_going_back_is_ignored(void **state)
{
    struct token_bucket tb;

    (void)state;
    bucket_at_zero(&tb, 1000);
    tb.last = 5;
    assert_true(token_bucket_take(&tb, 1, 1000) == 0);
    assert_float_equal(token_bucket_take(&tb, 1, 1000), 1.0, 1e-9);
    token_bucket_release(&tb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unlimited_never_waits),
        cmocka_unit_test(test_burst_then_rate),
        cmocka_unit_test(test_average_holds),
        cmocka_unit_test(test_clock_going_back_is_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
