/* Description: Swift's best_response() quorum choice (backend_best()) and
 * quorum_size(), checked against Swift 2.30's
 * swift/proxy/controllers/base.py _compute_quorum_response() and
 * swift/common/utils.py quorum_size(). Rows where Kura differs from Swift
 * say so; the 'swift' column is what Swift 2.30 answers. */
#include "proxy/preq.h"

#include <errno.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define MAX_RESP 8
#define END 0 /* ends a row's statuses */

/* Swift 2.30: quorum_size(n) = (n + 1) // 2. */
static size_t swift_quorum(size_t n)
{
    return (n + 1) / 2;
}

/* Statuses (a negative errno where no node answered; Swift's
 * make_requests() puts a 503 there), replicas, the index backend_best()
 * returns (-1: 503) and the index Swift returns. */
static const struct {
    int status[MAX_RESP];
    size_t replicas;
    int want, swift;
} rows[] = {
    /* three replicas, quorum 2 in both */
    {{201, 201, 503}, 3, 0, 0},
    {{404, 404, 204}, 3, 0, 0},
    {{503, 503, 201}, 3, -1, -1},
    {{204, 404, 404}, 3, 1, 1},
    {{201, 202, 500}, 3, 1, 1},          /* the highest of the class */
    {{507, -ETIMEDOUT, 201}, 3, -1, -1}, /* no answer counts for nothing */
    {{-ECONNREFUSED, -ECONNREFUSED, -ETIMEDOUT}, 3, -1, -1},
    {{202, 201, 202}, 3, 0, 0}, /* the first of equals, as max() */
    {{200, 200, 200}, 3, 0, 0},
    {{301, 302, 404}, 3, 1, 1},
    {{404, 409, 404}, 3, 1, 1},
    {{412, 404, 409}, 3, 0, 0},
    {{499, 404, 200}, 3, 0, 0},
    {{503, 503, 503}, 3, -1, -1},
    {{201, 201}, 3, 0, 0}, /* fewer answers than replicas */
    {{201}, 3, -1, -1},
    /* 1xx: only 2xx, 3xx, 4xx are tried (have_quorum() counts 1xx,
     * best_response() does not) */
    {{100, 100, 503}, 3, -1, -1},
    /* one replica */
    {{201}, 1, 0, 0},
    {{503}, 1, -1, -1},
    /* two replicas: quorum 1 */
    {{201, 201}, 2, 0, 0},
    {{503, 503}, 2, -1, -1},
    {{201, 503}, 2, 0, 0},
    {{404, 201}, 2, 1, 1},
    /* four replicas: quorum 2 */
    {{201, 201, 201, 503}, 4, 0, 0},
    {{201, 201, 503, 503}, 4, 0, 0},
    {{404, 404, 201, 201}, 4, 2, 2},
    /* five replicas, quorum 3 in both */
    {{201, 201, 503, 503, 503}, 5, -1, -1},
    {{201, 201, 201, 503, 503}, 5, 0, 0},
    {{404, 201, 404, 201, 404}, 5, 0, 0},
    {{200, 404, 202, 404, 201}, 5, 2, 2},
};

static void test_best_response(void **state)
{
    int failed = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct bresp r[MAX_RESP];
        size_t n = 0;
        int got;

        memset(r, 0, sizeof(r));
        while (n < MAX_RESP && rows[i].status[n] != END) {
            r[n].status = rows[i].status[n];
            n++;
        }
        got = backend_best(r, n, rows[i].replicas);
        if (got != rows[i].want) {
            print_error("row %zu: got %d, want %d\n", i, got, rows[i].want);
            failed++;
        }
        if (rows[i].want != rows[i].swift)
            print_message("row %zu: Kura %d, Swift 2.30 %d\n", i, rows[i].want,
                          rows[i].swift);
    }
    assert_int_equal(failed, 0);
}

static void test_no_responses(void **state)
{
    (void)state;
    assert_int_equal(backend_best(NULL, 0, 3), -1);
}

/* Swift 2.30's (n + 1) / 2: a majority for odd n, half for even n (1 of
 * 2, 2 of 4), as Swift's proxy decides. */
static void test_quorum_size(void **state)
{
    (void)state;
    assert_int_equal(quorum_size(1), 1);
    assert_int_equal(quorum_size(2), 1);
    assert_int_equal(quorum_size(3), 2);
    assert_int_equal(quorum_size(4), 2);
    assert_int_equal(quorum_size(5), 3);
    assert_int_equal(quorum_size(6), 3);
    for (size_t n = 1; n <= PROXY_MAX_REPLICAS; n++)
        assert_int_equal(quorum_size(n), swift_quorum(n));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_best_response),
        cmocka_unit_test(test_no_responses),
        cmocka_unit_test(test_quorum_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
