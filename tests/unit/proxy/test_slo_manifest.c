/* Description: the forms of an SLO manifest and the bulk answers around
 * it, byte for byte as Swift 2.30's Python writes them (expected values
 * printed by json.dumps, swob's Accept and bulk's get_response_body). */
#include "proxy/slo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static void test_json_dump_as_python(void **state)
{
    json_t *v = json_pack("[{s:s, s:i, s:b, s:n}]", "name",
                          "/c/\xc3\xa9\xf0\x9f\x98\x80\"\\\n\x7f", "bytes", 3,
                          "sub_slo", 1, "x");
    char *out = NULL;
    size_t len = 0;

    (void)state;
    assert_non_null(v);
    assert_int_equal(slo_json_dump(v, false, &out, &len), 0);
    assert_string_equal(out, "[{\"name\": \"/c/\\u00e9\\ud83d\\ude00\\\"\\\\\\n"
                             "\\u007f\", \"bytes\": 3, \"sub_slo\": true, "
                             "\"x\": null}]");
    assert_int_equal(len, strlen(out));
    free(out);
    json_decref(v);
}

static void test_raw_manifest_sorted(void **state)
{
    const char *stored = "[{\"name\": \"/c/o\", \"bytes\": 5, \"hash\": \"e\", "
                         "\"content_type\": \"text/plain\", \"last_modified\": "
                         "\"2024-01-01T00:00:00.000000\", \"range\": \"1-2\", "
                         "\"sub_slo\": true}, {\"data\": \"YWJj\"}]";
    char *out = NULL;
    size_t len = 0;

    (void)state;
    assert_int_equal(slo_raw_manifest(stored, strlen(stored), &out, &len), 0);
    assert_string_equal(out,
                        "[{\"etag\": \"e\", \"path\": \"/c/o\", \"range\": "
                        "\"1-2\", \"size_bytes\": 5}, {\"data\": "
                        "\"YWJj\"}]");
    free(out);
    /* what Swift cannot parse it gives as an empty list */
    assert_int_equal(slo_raw_manifest("nope", 4, &out, &len), 0);
    assert_string_equal(out, "[]");
    free(out);
}

static void test_b64_strict(void **state)
{
    unsigned char *out;
    size_t len;
    char *enc;

    (void)state;
    assert_int_equal(slo_b64decode("aGVsbG8=", &out, &len), 0);
    assert_int_equal(len, 5);
    assert_memory_equal(out, "hello", 5);
    free(out);
    assert_int_equal(slo_b64decode("aGVsbG8", &out, &len), -EINVAL);
    assert_int_equal(slo_b64decode("aGV sbG8=", &out, &len), -EINVAL);
    assert_int_equal(slo_b64decode("not base64!", &out, &len), -EINVAL);
    assert_int_equal(slo_b64decode("", &out, &len), 0);
    assert_int_equal(len, 0);
    free(out);
    enc = slo_b64encode((const unsigned char *)"hello", 5);
    assert_string_equal(enc, "aGVsbG8=");
    free(enc);
}

static void test_accept_as_swob(void **state)
{
    (void)state;
    assert_string_equal(slo_accept_format(NULL), "text/plain");
    assert_string_equal(slo_accept_format("application/json"),
                        "application/json");
    assert_string_equal(
        slo_accept_format("text/*;q=0.5, application/json;q=0.9"),
        "application/json");
    assert_string_equal(slo_accept_format("*/*"), "text/plain");
    assert_string_equal(slo_accept_format("application/xml;q=0.1, text/xml"),
                        "text/xml");
    assert_string_equal(slo_accept_format("*/*;q=0.1, application/json"),
                        "application/json");
    assert_null(slo_accept_format("image/png"));
    assert_null(slo_accept_format("bogus"));
    assert_null(slo_accept_format("text/xml;q=x"));
}

static void test_bulk_bodies(void **state)
{
    const char *keys[] = {"Response Status", "Response Body", "Number Deleted",
                          "Number Not Found"};
    const char *names[] = {"/c/a&b"}, *statuses[] = {"403 Forbidden"};
    json_t *v[] = {json_string("200 OK"), json_string(""), json_integer(2),
                   json_integer(0)};
    const json_t *values[] = {v[0], v[1], v[2], v[3]};
    char *out;
    size_t len;

    (void)state;
    assert_int_equal(slo_bulk_body("application/json", keys, values, 4, names,
                                   statuses, 1, "delete", &out, &len),
                     0);
    assert_string_equal(out, "{\"Response Status\": \"200 OK\", \"Response "
                             "Body\": \"\", \"Number Deleted\": 2, \"Number "
                             "Not Found\": 0, \"Errors\": [[\"/c/a&b\", "
                             "\"403 Forbidden\"]]}");
    free(out);
    assert_int_equal(slo_bulk_body("text/xml", keys, values, 4, names, statuses,
                                   1, "delete", &out, &len),
                     0);
    assert_string_equal(
        out, "<delete>\n<number_deleted>2</number_deleted>\n"
             "<number_not_found>0</number_not_found>\n"
             "<response_body></response_body>\n"
             "<response_status>200 OK</response_status>\n<errors>\n"
             "<object><name>/c/a&amp;b</name><status>403 Forbidden</status>"
             "</object>\n</errors>\n</delete>\n");
    free(out);
    assert_int_equal(slo_bulk_body("text/plain", keys, values, 4, names,
                                   statuses, 1, "delete", &out, &len),
                     0);
    assert_string_equal(out, "Number Deleted: 2\nNumber Not Found: 0\n"
                             "Response Body: \nResponse Status: 200 OK\n"
                             "Errors:\n/c/a&b, 403 Forbidden\n");
    free(out);
    for (size_t i = 0; i < 4; i++)
        json_decref(v[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_dump_as_python),
        cmocka_unit_test(test_raw_manifest_sorted),
        cmocka_unit_test(test_b64_strict),
        cmocka_unit_test(test_accept_as_swob),
        cmocka_unit_test(test_bulk_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
