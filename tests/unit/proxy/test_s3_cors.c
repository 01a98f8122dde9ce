/* Description: S3 CORSConfiguration bodies (s3_cors_xml.c) into the JSON
 * kept in the bucket's sysmeta: good rules, AWS's refusals (unsupported
 * methods, two wildcards, 101 rules, long IDs), malformed and
 * DOCTYPE-bearing bodies; and the matching of origins, methods and
 * requested headers against the rules, first rule first. */
#include "proxy/s3_cors.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define NS "http://s3.amazonaws.com/doc/2006-03-01/"

/* Parses 'body' and returns the result; *stored as it came. */
static int parse(const char *body, char **stored, char why[S3_CORS_WHY_LEN])
{
    return s3_cors_parse(body, strlen(body), stored, why);
}

static void test_parse_good(void **state)
{
    const char *body =
        "<CORSConfiguration xmlns=\"" NS "\">\n"
        "  <CORSRule>\n"
        "    <ID> app </ID>\n"
        "    <AllowedOrigin>https://app.example</AllowedOrigin>\n"
        "    <AllowedOrigin>https://*.app.example</AllowedOrigin>\n"
        "    <AllowedMethod>GET</AllowedMethod>\n"
        "    <AllowedMethod>PUT</AllowedMethod>\n"
        "    <AllowedHeader>x-amz-*</AllowedHeader>\n"
        "    <ExposeHeader>ETag</ExposeHeader>\n"
        "    <MaxAgeSeconds>600</MaxAgeSeconds>\n"
        "  </CORSRule>\n"
        "  <CORSRule><AllowedOrigin>*</AllowedOrigin>"
        "<AllowedMethod>HEAD</AllowedMethod></CORSRule>\n"
        "</CORSConfiguration>";
    char why[S3_CORS_WHY_LEN], *stored = NULL;

    (void)state;
    assert_int_equal(parse(body, &stored, why), S3_CORS_OK);
    assert_string_equal(
        stored, "[{\"id\":\"app\",\"origins\":[\"https://app.example\","
                "\"https://*.app.example\"],\"methods\":[\"GET\",\"PUT\"],"
                "\"headers\":[\"x-amz-*\"],\"expose\":[\"ETag\"],"
                "\"max_age\":600},{\"origins\":[\"*\"],\"methods\":"
                "[\"HEAD\"]}]");
    free(stored);
}

static void test_parse_refusals(void **state)
{
    static const char *const malformed[] = {
        "",
        "<CORSConfiguration/>",
        "<CORSConfiguration>",
        "not xml",
        "<Other><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET"
        "</AllowedMethod></CORSRule></Other>",
        /* no origin, no method */
        "<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod>"
        "</CORSRule></CORSConfiguration>",
        "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>"
        "</CORSRule></CORSConfiguration>",
        /* an element the schema has not, at any depth */
        "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>"
        "<AllowedMethod>GET</AllowedMethod><Bogus/></CORSRule>"
        "</CORSConfiguration>",
        "<CORSConfiguration><Bogus/></CORSConfiguration>",
        "<CORSConfiguration><CORSRule><AllowedOrigin><x/></AllowedOrigin>"
        "<AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>",
        /* MaxAgeSeconds not a number, twice; two IDs */
        "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>"
        "<AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>1s"
        "</MaxAgeSeconds></CORSRule></CORSConfiguration>",
        "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>"
        "<AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>1</MaxAgeSeconds>"
        "<MaxAgeSeconds>2</MaxAgeSeconds></CORSRule></CORSConfiguration>",
        "<CORSConfiguration><CORSRule><ID>a</ID><ID>b</ID><AllowedOrigin>*"
        "</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"
        "</CORSConfiguration>",
        /* no entity expansion */
        "<!DOCTYPE x [<!ENTITY a \"GET\">]><CORSConfiguration><CORSRule>"
        "<AllowedOrigin>*</AllowedOrigin><AllowedMethod>&a;</AllowedMethod>"
        "</CORSRule></CORSConfiguration>",
    };
    char why[S3_CORS_WHY_LEN], *stored = NULL;

    (void)state;
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
        assert_int_equal(parse(malformed[i], &stored, why), S3_CORS_MALFORMED);
        assert_null(stored);
    }
    assert_int_equal(
        parse("<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>"
              "<AllowedMethod>GET</AllowedMethod><AllowedMethod>PATCH"
              "</AllowedMethod></CORSRule></CORSConfiguration>",
              &stored, why),
        S3_CORS_INVALID);
    assert_string_equal(why, "Found unsupported HTTP method in CORS config. "
                             "Unsupported method is PATCH");
    assert_int_equal(
        parse("<CORSConfiguration><CORSRule><AllowedOrigin>*.a.*"
              "</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"
              "</CORSConfiguration>",
              &stored, why),
        S3_CORS_INVALID);
    assert_string_equal(
        why, "AllowedOrigin \"*.a.*\" can not have more than one wildcard.");
    assert_int_equal(
        parse("<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>"
              "<AllowedMethod>GET</AllowedMethod><AllowedHeader>**"
              "</AllowedHeader></CORSRule></CORSConfiguration>",
              &stored, why),
        S3_CORS_INVALID);
    assert_null(stored);
}

/* 'n' rules of 'rule' in a CORSConfiguration (malloc'ed). */
static char *rules_body(size_t n, const char *rule)
{
    size_t len = strlen(rule), total = 64 + n * len;
    char *body = malloc(total), *p = body;

    assert_non_null(body);
    p += sprintf(p, "<CORSConfiguration>");
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%s", rule);
    sprintf(p, "</CORSConfiguration>");
    return body;
}

static void test_parse_limits(void **state)
{
    const char *rule = "<CORSRule><AllowedOrigin>*</AllowedOrigin>"
                       "<AllowedMethod>GET</AllowedMethod></CORSRule>";
    char why[S3_CORS_WHY_LEN], *stored = NULL, *body, id[300];

    (void)state;
    body = rules_body(100, rule);
    assert_int_equal(parse(body, &stored, why), S3_CORS_OK);
    free(stored);
    free(body);
    body = rules_body(101, rule);
    assert_int_equal(parse(body, &stored, why), S3_CORS_MALFORMED);
    free(body);
    /* an ID of 255 characters, not 256 */
    memset(id, 'i', sizeof(id));
    for (size_t n = 255; n <= 256; n++) {
        char buf[600];

        snprintf(buf, sizeof(buf),
                 "<CORSConfiguration><CORSRule><ID>%.*s</ID><AllowedOrigin>*"
                 "</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
                 "</CORSRule></CORSConfiguration>",
                 (int)n, id);
        assert_int_equal(parse(buf, &stored, why),
                         n == 255 ? S3_CORS_OK : S3_CORS_MALFORMED);
        free(stored);
        stored = NULL;
    }
    /* rules that would not fit in one sysmeta header */
    body = rules_body(100, "<CORSRule><AllowedOrigin>https://a-long-origin-"
                           "name.example.com</AllowedOrigin><AllowedMethod>"
                           "GET</AllowedMethod></CORSRule>");
    assert_int_equal(parse(body, &stored, why), S3_CORS_TOO_LARGE);
    assert_null(stored);
    free(body);
    /* over 64 KiB whatever it holds */
    body = calloc(1, S3_CORS_MAX_BODY + 2);
    assert_non_null(body);
    memset(body, ' ', S3_CORS_MAX_BODY + 1);
    assert_int_equal(
        s3_cors_parse(body, S3_CORS_MAX_BODY + 1, &stored, why),
        S3_CORS_MALFORMED);
    free(body);
}

static void test_wildcards(void **state)
{
    (void)state;
    assert_true(s3_cors_wildcard_match("*", "", false));
    assert_true(s3_cors_wildcard_match("*", "anything", false));
    assert_true(s3_cors_wildcard_match("https://*.a.example",
                                       "https://x.y.a.example", false));
    assert_false(s3_cors_wildcard_match("https://*.a.example",
                                        "https://a.example", false));
    assert_true(s3_cors_wildcard_match("x-amz-*", "X-Amz-Date", true));
    assert_false(s3_cors_wildcard_match("x-amz-*", "X-Amz-Date", false));
    assert_true(s3_cors_wildcard_match("*-id", "x-request-id", false));
    assert_false(s3_cors_wildcard_match("ab*ba", "aba", false));
    assert_true(s3_cors_wildcard_match("ab*ba", "abba", false));
    assert_false(s3_cors_wildcard_match("exact", "exactly", false));
}

static void test_match(void **state)
{
    json_t *rules = json_loads(
        "[{\"origins\":[\"https://app.example\"],\"methods\":[\"PUT\"],"
        "\"headers\":[\"content-type\",\"x-amz-*\"]},"
        "{\"origins\":[\"*\"],\"methods\":[\"GET\",\"HEAD\"]}]",
        0, NULL);
    json_t *first, *second;

    (void)state;
    assert_non_null(rules);
    first = json_array_get(rules, 0);
    second = json_array_get(rules, 1);
    assert_ptr_equal(s3_cors_match(rules, "https://app.example", "PUT",
                                   "Content-Type, x-amz-date"),
                     first);
    assert_ptr_equal(
        s3_cors_match(rules, "https://app.example", "PUT", " , "), first);
    /* a header the first rule does not allow: no rule allows PUT */
    assert_null(s3_cors_match(rules, "https://app.example", "PUT",
                              "content-type, x-other"));
    /* origins are case-sensitive; methods exact */
    assert_null(s3_cors_match(rules, "HTTPS://APP.EXAMPLE", "PUT", NULL));
    assert_null(s3_cors_match(rules, "https://app.example", "put", NULL));
    /* the second rule: any origin, no header allowed */
    assert_ptr_equal(s3_cors_match(rules, "http://x", "GET", NULL), second);
    assert_ptr_equal(s3_cors_match(rules, "http://x", "GET", ""), second);
    assert_null(s3_cors_match(rules, "http://x", "GET", "x-amz-date"));
    assert_null(s3_cors_match(rules, "http://x", "DELETE", NULL));
    assert_null(s3_cors_match(rules, NULL, "GET", NULL));
    json_decref(rules);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_refusals),
        cmocka_unit_test(test_parse_limits),
        cmocka_unit_test(test_wildcards),
        cmocka_unit_test(test_match),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
