/* Description: strict percent-decoding and Swift's status texts. */
#include "common/http.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static void test_unquote(void **state)
{
    char *out;

    (void)state;
    assert_int_equal(http_unquote("a%2Fb+c%41", 10, false, &out), 0);
    assert_string_equal(out, "a/b+cA");
    free(out);
    assert_int_equal(http_unquote("a%2fb+c%C3%A9", 13, true, &out), 0);
    assert_string_equal(out, "a/b c\xc3\xa9");
    free(out);
    assert_int_equal(http_unquote("", 0, true, &out), 0);
    assert_string_equal(out, "");
    free(out);
}

static void test_unquote_rejects(void **state)
{
    static const char *const bad[] = {"%",    "%4",   "%4g", "%g4",
                                      "a%00", "%%41", "abc%"};
    char *out = (char *)1;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(http_unquote(bad[i], strlen(bad[i]), false, &out),
                         -EINVAL);
        assert_null(out);
    }
    /* 'len' bounds the input: "%41" cut to "%4" is invalid */
    assert_int_equal(http_unquote("%41", 2, false, &out), -EINVAL);
}

static void test_swift_statuses(void **state)
{
    char body[HTTP_ERROR_BODY_MAX];
    size_t len;

    (void)state;
    assert_string_equal(http_reason(404), "Not Found");
    assert_string_equal(http_reason(507), "Insufficient Storage");
    assert_string_equal(http_reason(299), "");
    len = http_error_body(404, body);
    assert_int_equal(len, strlen(body));
    assert_string_equal(body, "<html><h1>Not Found</h1><p>The resource could "
                              "not be found.</p></html>");
    assert_int_equal(http_error_body(201, body), 0);
    assert_string_equal(body, "");
    assert_int_equal(http_error_body(299, body), 0);
    len = http_error_body(503, body);
    assert_int_equal(len, strlen(body));
    assert_true(strlen(body) < HTTP_ERROR_BODY_MAX - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unquote),
        cmocka_unit_test(test_unquote_rejects),
        cmocka_unit_test(test_swift_statuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
