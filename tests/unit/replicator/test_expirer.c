/* Description: when kura-expirer takes a row out of the queue: a quorum of
 * the object's replicas answered, and not only 404s unless the row is
 * reclaim_age old (expirer_row_settled()); how the replicas' listing pages
 * make one page (expirer_merge_pages()). */
#include "replicator/expirer.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

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

/* A page of {"name": ...} for a space-separated list of names. */
static json_t *page_of(const char *names)
{
    json_t *page = json_array();
    char buf[256], *save = NULL;

    snprintf(buf, sizeof(buf), "%s", names);
    for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
        json_array_append_new(page, json_pack("{s:s}", "name", t));
    return page;
}

static void check_merge(const char *a, const char *b, size_t limit,
                        const char *want, bool want_more)
{
    json_t *pages[2] = {page_of(a), page_of(b)};
    struct expirer_names ns;
    char got[256] = "";
    bool more;

    assert_int_equal(expirer_merge_pages(pages, 2, limit, &ns, &more), 0);
    for (size_t i = 0; i < ns.n; i++)
        snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s",
                 i ? " " : "", ns.v[i]);
    assert_string_equal(got, want);
    assert_int_equal(more, want_more);
    expirer_names_release(&ns);
    json_decref(pages[0]);
    json_decref(pages[1]);
}

static void test_merge_is_the_union_up_to_the_first_full_page_end(void **state)
{
    (void)state;
    /* short pages: everything, once, sorted; no next page */
    check_merge("1 3", "2 3 4", 5, "1 2 3 4", false);
    check_merge("", "", 3, "", false);
    /* a full page alone: all of it, and a next page may follow */
    check_merge("1 3", "2 3 4", 3, "1 2 3 4", true);
    /* a replica that missed row 2 hides nothing */
    check_merge("1 3", "1 2 3", 5, "1 2 3", false);
    /* full pages: cut at the smaller last name, the rest comes next */
    check_merge("1 2 3", "1 4 5", 3, "1 2 3", true);
    check_merge("1 4 5", "2", 3, "1 2 4 5", true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deleted_or_changed_is_settled),
        cmocka_unit_test(test_without_a_quorum_the_row_stays),
        cmocka_unit_test(test_only_404_waits_for_reclaim_age),
        cmocka_unit_test(test_merge_is_the_union_up_to_the_first_full_page_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
