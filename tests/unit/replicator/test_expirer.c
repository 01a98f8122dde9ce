/* Description: when kura-expirer takes a row out of the queue: a quorum of
 * the object's replicas answered, and not only 404s unless the row is
 * reclaim_age old (replicator/expirer.c, expirer_row_settled()). */
#include "replicator/expirer.h"

#include <errno.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define AT 1700000000
#define AGE 604800
#define NOW (AT + 10)

static bool settled(int a, int b, int c)
{
    const int st[3] = {a, b, c};

    return expirer_row_settled(st, 3, AT, AGE, NOW);
}

static void test_deleted_or_changed_is_settled(void **state)
{
    (void)state;
    assert_true(settled(204, 204, 204));
    /* a newer write (409) or another delete-at (412): the row is stale */
    assert_true(settled(409, 409, 409));
    assert_true(settled(412, 412, 412));
    assert_true(settled(204, 404, 404));
    /* one replica down: the tombstones of the others reach it */
    assert_true(settled(204, 204, -ECONNREFUSED));
    assert_true(settled(204, 507, 404));
}

static void test_without_a_quorum_the_row_stays(void **state)
{
    (void)state;
    assert_false(settled(204, -ETIMEDOUT, -ECONNREFUSED));
    assert_false(settled(503, 500, 204));
    assert_false(expirer_row_settled(NULL, 0, AT, AGE, NOW));
}

static void test_only_404_waits_for_reclaim_age(void **state)
{
    const int st[3] = {404, 404, 404};

    (void)state;
    /* the object may be on a handoff still */
    assert_false(settled(404, 404, 404));
    assert_false(settled(404, 404, -ETIMEDOUT));
    assert_false(expirer_row_settled(st, 3, AT, AGE, AT + AGE));
    assert_true(expirer_row_settled(st, 3, AT, AGE, AT + AGE + 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deleted_or_changed_is_settled),
        cmocka_unit_test(test_without_a_quorum_the_row_stays),
        cmocka_unit_test(test_only_404_waits_for_reclaim_age),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
