/* Description: container ACL cleaning, parsing and Referer matching, with
 * the values and messages of swift.common.middleware.acl (Swift 2.30). */
#include "proxy/acl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static void expect_clean(const char *header, const char *value,
                         const char *want)
{
    char *out, *msg;

    assert_int_equal(acl_clean(header, value, &out, &msg), 0);
    assert_null(msg);
    assert_string_equal(out, want);
    free(out);
}

static void expect_error(const char *header, const char *value,
                         const char *want)
{
    char *out, *msg;

    assert_int_equal(acl_clean(header, value, &out, &msg), -EINVAL);
    assert_null(out);
    assert_string_equal(msg, want);
    free(msg);
}

static void test_clean_normalizes(void **state)
{
    (void)state;
    expect_clean("X-Container-Read", "bob, sue", "bob,sue");
    expect_clean("X-Container-Read", "bob , sue", "bob,sue");
    expect_clean("X-Container-Read", "bob,,,sue", "bob,sue");
    expect_clean("X-Container-Read", ".referrer : *", ".r:*");
    expect_clean("X-Container-Read", ".ref:*.example.com", ".r:.example.com");
    expect_clean("X-Container-Read", ".r:*, .rlistings", ".r:*,.rlistings");
    expect_clean("X-Container-Read", ".r: - .bad.com", ".r:-.bad.com");
    expect_clean("X-Container-Read", ".r:it's", ".r:it's");
    expect_clean("X-Container-Read", ":x,a:b:c, .r : -*", ":x,a:b:c,.r:-*");
    expect_clean("X-Container-Read", "", "");
    expect_clean("X-Container-Write", "test:tester, *:admin",
                 "test:tester,*:admin");
    /* \xa0 is whitespace to Python's str.strip() on a WSGI string */
    expect_clean("X-Container-Read", ".r:\xc3\xa9\xa0", ".r:\xc3\xa9");
}

static void test_clean_errors(void **state)
{
    (void)state;
    expect_error("X-Container-Write", ".r:*",
                 "Referrers not allowed in write ACL: '.r:*'");
    expect_error("x-container-write", "a, .referrer:x",
                 "Referrers not allowed in write ACL: '.referrer:x'");
    expect_error("X-Container-Read", ".r:",
                 "No host/domain value after referrer designation in ACL: "
                 "'.r:'");
    expect_error("X-Container-Read", ".r:-",
                 "No host/domain value after referrer designation in ACL: "
                 "'.r:-'");
    expect_error("X-Container-Read", ".r:*.",
                 "No host/domain value after referrer designation in ACL: "
                 "'.r:*.'");
    expect_error("X-Container-Read", ".bogus:x",
                 "Unknown designator '.bogus' in ACL: '.bogus:x'");
    expect_error("X-Container-Read", ".rlistings:x",
                 "Unknown designator '.rlistings' in ACL: '.rlistings:x'");
    /* repr() quoting and escapes, as Python prints them */
    expect_error("X-Container-Read", ".x:it's",
                 "Unknown designator '.x' in ACL: \".x:it's\"");
    expect_error("X-Container-Read", ".x:\x01\\\xe9\x85\x7f",
                 "Unknown designator '.x' in ACL: "
                 "'.x:\\x01\\\\\xc3\xa9\\x85\\x7f'");
}

static void test_parse(void **state)
{
    struct acl acl;

    (void)state;
    assert_int_equal(acl_parse(".r:*,.rlistings,a%3Ab,test:tester", &acl), 0);
    assert_int_equal(acl.n_referrers, 1);
    assert_string_equal(acl.referrers[0], "*");
    assert_int_equal(acl.n_groups, 3);
    assert_string_equal(acl.groups[0], ".rlistings");
    assert_string_equal(acl.groups[1], "a:b");
    assert_string_equal(acl.groups[2], "test:tester");
    assert_true(acl_has_group(&acl, "test:tester"));
    assert_false(acl_has_group(&acl, "test"));
    acl_release(&acl);
    assert_int_equal(acl.n_groups, 0);
    assert_int_equal(acl_parse(NULL, &acl), 0);
    assert_int_equal(acl.n_groups + acl.n_referrers, 0);
    acl_release(&acl);
}

static bool allowed(const char *referrer, const char *acl_string)
{
    struct acl acl;
    bool r;

    assert_int_equal(acl_parse(acl_string, &acl), 0);
    r = acl_referrer_allowed(referrer, &acl);
    acl_release(&acl);
    return r;
}

static void test_referrer_allowed(void **state)
{
    (void)state;
    assert_true(allowed("http://www.example.com/x", ".r:.example.com"));
    assert_false(allowed("http://example.com/", ".r:.example.com"));
    assert_false(allowed("http://thief.example.com",
                         ".r:.example.com,.r:-thief.example.com"));
    assert_true(allowed(NULL, ".r:*"));
    assert_true(allowed("", ".r:*"));
    assert_true(allowed("bogus", ".r:unknown"));
    assert_true(allowed("//Host.COM:80/p", ".r:host.com"));
    assert_false(allowed("http://u:p@Bad.com:8080/", ".r:*,.r:-bad.com"));
    assert_true(allowed("http://[::1]:80/", ".r:::1"));
    assert_true(allowed("HTTP://a.b", ".r:a.b"));
    assert_false(allowed("a.b/c", ".r:a.b"));
    assert_true(allowed(" http://x.y/", ".r:x.y"));
    assert_true(allowed("http://x\t.y/", ".r:x.y"));
    assert_false(allowed("http://x.y/", "x.y"));
    assert_false(allowed("http://x.y/", NULL));
}

static void expect_account_error(const char *value, const char *reason)
{
    char *msg, want[512];

    snprintf(want, sizeof(want),
             "X-Account-Access-Control invalid: %s\n\nInput: %s\n", reason,
             value);
    assert_int_equal(acl_account_check(value, &msg), -EINVAL);
    assert_string_equal(msg, want);
    free(msg);
}

/* Reasons from tempauth's extract_acl_and_report_errors(). */
static void test_account_acl_check(void **state)
{
    char *msg;

    (void)state;
    assert_int_equal(acl_account_check("", &msg), 0);
    assert_int_equal(acl_account_check("{\"admin\":[\"a:b\"]}", &msg), 0);
    assert_null(msg);
    expect_account_error("{\"admin\":[\"x\"]",
                         "Syntax error in input ('{\"admin\":[\"x\"]')");
    expect_account_error("[1]", "Syntax error in input ('[1]')");
    expect_account_error("{\"foo\":[]}", "Key \"foo\" not recognized");
    expect_account_error("{\"admin\":\"x\"}",
                         "Value for key \"admin\" must be a list");
    expect_account_error("{\"read-only\":[1]}",
                         "Elements of \"read-only\" list must be strings");
}

static void test_account_acl_match(void **state)
{
    const char *stored = "{\"admin\":[\"a:admin\"],\"read-write\":[\"b\"],"
                         "\"read-only\":[\"b\",\"c:u\"]}";

    (void)state;
    assert_int_equal(acl_account_match(stored, "a,a:admin"), ACL_ACCOUNT_ADMIN);
    assert_int_equal(acl_account_match(stored, "b,b:u"),
                     ACL_ACCOUNT_READ_WRITE | ACL_ACCOUNT_READ_ONLY);
    assert_int_equal(acl_account_match(stored, "c,c:u"), ACL_ACCOUNT_READ_ONLY);
    assert_int_equal(acl_account_match(stored, "c"), 0);
    assert_int_equal(acl_account_match(stored, NULL), 0);
    assert_int_equal(acl_account_match(NULL, "a:admin"), 0);
    assert_int_equal(acl_account_match("{bad", "a:admin"), 0);
}

/* Expected values from format_acl(version=2, ...). */
static void test_account_acl_format(void **state)
{
    char *out;

    (void)state;
    assert_int_equal(
        acl_account_format(
            "{\"read-only\": [\"a\\u001f/\xc3\xa9\xf0\x9f\xa5\x94\", "
            "\"b\"], \"admin\": [\"x\\\"y\"]}",
            &out),
        0);
    assert_string_equal(out,
                        "{\"admin\":[\"x\\\"y\"],\"read-only\":[\"a\\u001f/"
                        "\\u00e9\\ud83e\\udd54\",\"b\"]}");
    free(out);
    assert_int_equal(acl_account_format("{}", &out), 0);
    assert_null(out);
    assert_int_equal(acl_account_format("[1]", &out), 0);
    assert_null(out);
    assert_int_equal(acl_account_format(NULL, &out), 0);
    assert_null(out);
}

/* Random bytes biased to the characters ACLs and URLs care about: no
 * crash, no leak (ASan), and a cleaned ACL cleans to itself. */
static void test_random_input(void **state)
{
    static const char alphabet[] = ".r:*-,/ @[]%3A\t\xa0\x85'\"\\ab\xc3\x01";
    char in[64], *out, *again, *msg;
    struct acl acl;
    unsigned int seed = 42;
    int i, j, n;

    (void)state;
    for (i = 0; i < 20000; i++) {
        n = (int)(rand_r(&seed) % (sizeof(in) - 1));
        for (j = 0; j < n; j++)
            in[j] = alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
        in[n] = '\0';
        if (acl_clean("X-Container-Read", in, &out, &msg) == 0) {
            assert_int_equal(acl_clean("X-Container-Read", out, &again, &msg),
                             0);
            assert_string_equal(again, out);
            free(again);
            free(out);
        } else {
            free(msg);
        }
        assert_int_equal(acl_parse(in, &acl), 0);
        (void)acl_referrer_allowed(in, &acl);
        acl_release(&acl);
        if (acl_account_check(in, &msg))
            free(msg);
        (void)acl_account_match(in, in);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_normalizes),
        cmocka_unit_test(test_clean_errors),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_referrer_allowed),
        cmocka_unit_test(test_account_acl_check),
        cmocka_unit_test(test_account_acl_match),
        cmocka_unit_test(test_account_acl_format),
        cmocka_unit_test(test_random_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
