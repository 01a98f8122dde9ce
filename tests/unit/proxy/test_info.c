/* Description: the /info document, byte for byte as Swift 2.30's
 * get_swift_info() serializes it (json.dumps, compact separators). */
#include "proxy/info.h"

#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static char *dump(const struct info_opts *o)
{
    struct constraints c;
    json_t *info;
    char *s;

    constraints_default(&c);
    assert_int_equal(info_new(&c, o, &info), 0);
    s = json_dumps(info, JSON_PRESERVE_ORDER | JSON_COMPACT);
    json_decref(info);
    assert_non_null(s);
    return s;
}

static void test_default_info(void **state)
{
    struct info_opts o = {
        .version = "2.30.1", .strict_cors_mode = true, .tempauth = true};
    char *s = dump(&o);

    (void)state;
    assert_string_equal(
        s, "{\"swift\":{\"version\":\"2.30.1\",\"strict_cors_mode\":true,"
           "\"policies\":[{\"name\":\"Policy-0\",\"aliases\":\"Policy-0\","
           "\"default\":true}],\"allow_account_management\":false,"
           "\"account_autocreate\":false,\"max_file_size\":5368709122,"
           "\"max_meta_name_length\":128,\"max_meta_value_length\":256,"
           "\"max_meta_count\":90,\"max_meta_overall_size\":4096,"
           "\"max_header_size\":8192,\"max_object_name_length\":1024,"
           "\"container_listing_limit\":10000,\"account_listing_limit\":"
           "10000,\"max_account_name_length\":256,"
           "\"max_container_name_length\":256,\"extra_header_count\":0},"
           "\"slo\":{\"max_manifest_segments\":1000,"
           "\"max_manifest_size\":8388608,\"yield_frequency\":10,"
           "\"min_segment_size\":1,\"allow_async_delete\":false},"
           "\"tempauth\":{\"account_acls\":true}}");
    free(s);
}

static void test_disallowed_sections(void **state)
{
    struct info_opts o = {
        .version = "2.30.1",
        .strict_cors_mode = true,
        .tempauth = true,
        .disallowed_sections =
            "tempauth, swift.policies.x ,swift.max_file_size,nope.x"};
    char *s = dump(&o);

    (void)state;
    assert_string_equal(
        s, "{\"swift\":{\"version\":\"2.30.1\",\"strict_cors_mode\":true,"
           "\"policies\":[{\"name\":\"Policy-0\",\"aliases\":\"Policy-0\","
           "\"default\":true}],\"allow_account_management\":false,"
           "\"account_autocreate\":false,"
           "\"max_meta_name_length\":128,\"max_meta_value_length\":256,"
           "\"max_meta_count\":90,\"max_meta_overall_size\":4096,"
           "\"max_header_size\":8192,\"max_object_name_length\":1024,"
           "\"container_listing_limit\":10000,\"account_listing_limit\":"
           "10000,\"max_account_name_length\":256,"
           "\"max_container_name_length\":256,"
           "\"valid_api_versions\":[\"v1\",\"v1.0\"],"
           "\"extra_header_count\":0,\"auto_create_account_prefix\":\".\"},"
           "\"slo\":{\"max_manifest_segments\":1000,"
           "\"max_manifest_size\":8388608,\"yield_frequency\":10,"
           "\"min_segment_size\":1,\"allow_async_delete\":false}}");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_info),
        cmocka_unit_test(test_disallowed_sections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
