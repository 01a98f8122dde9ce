/* Description: S3 listing documents from Swift JSON listings - exact
 * bytes of ListAllMyBucketsResult and ListBucketResult v1/v2, truncation
 * and max-keys=0, v2 tokens, encoding-type=url, ETag forms, timestamps,
 * and rows that are not what they should be. */
#include "proxy/s3_list.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define DECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define NS "http://s3.amazonaws.com/doc/2006-03-01/"
#define LBR "<ListBucketResult xmlns=\"" NS "\">"
#define OWNER "<Owner><ID>t:u</ID><DisplayName>t:u</DisplayName></Owner>"

#define ROW(name, lm)                                                          \
    "{\"name\": \"" name "\", \"hash\": \"0123456789abcdef0123456789abcdef\"," \
    " \"bytes\": 5, \"content_type\": \"text/plain\", \"last_modified\": "     \
    "\"" lm "\"}"
#define LM "2026-12-04T21:59:50.739678"
#define ETAG "<ETag>&quot;0123456789abcdef0123456789abcdef&quot;</ETag>"

static char *objects(const struct s3_list_query *q, const char *json)
{
    char *doc;
    size_t len;

    assert_int_equal(s3_list_objects(q, json, strlen(json), &doc, &len), 0);
    assert_int_equal(len, strlen(doc));
    return doc;
}

static void assert_objects(const struct s3_list_query *q, const char *json,
                           const char *want)
{
    char *doc = objects(q, json);

    assert_string_equal(doc, want);
    free(doc);
}

/* ---- buckets ---- */

static bool not_segments(const char *name, void *arg)
{
    (void)arg;
    return !strstr(name, "+segments");
}

static void test_buckets(void **state)
{
    const char *json =
        "[{\"name\": \"a&b\", \"count\": 1, \"bytes\": 5, \"last_modified\": "
        "\"2026-12-04T21:59:50.739678\"},"
        " {\"name\": \"a&b+segments\", \"count\": 0, \"bytes\": 0},"
        " {\"name\": 7}, [], {\"name\": \"old\"},"
        " {\"name\": \"odd\", \"last_modified\": \"yesterday\"}]";
    char *doc;
    size_t len;

    (void)state;
    assert_int_equal(s3_list_buckets("t:u", json, strlen(json), not_segments,
                                     NULL, &doc, &len),
                     0);
    assert_string_equal(doc, DECL
                        "<ListAllMyBucketsResult xmlns=\"" NS "\">" OWNER
                        "<Buckets><Bucket><Name>a&amp;b</Name><CreationDate>"
                        "2026-12-04T21:59:50.000Z</CreationDate></Bucket>"
                        "<Bucket><Name>old</Name><CreationDate>"
                        "2009-02-03T16:45:09.000Z</CreationDate></Bucket>"
                        "<Bucket><Name>odd</Name><CreationDate>"
                        "2009-02-03T16:45:09.000Z</CreationDate></Bucket>"
                        "</Buckets></ListAllMyBucketsResult>");
    assert_int_equal(len, strlen(doc));
    free(doc);

    assert_int_equal(s3_list_buckets("t:u", "[]", 2, NULL, NULL, &doc, &len),
                     0);
    assert_string_equal(doc, DECL "<ListAllMyBucketsResult xmlns=\"" NS
                                  "\">" OWNER "<Buckets></Buckets>"
                                  "</ListAllMyBucketsResult>");
    free(doc);

    assert_int_equal(s3_list_buckets("t:u", "{}", 2, NULL, NULL, &doc, &len),
                     -EINVAL);
    assert_null(doc);
    assert_int_equal(s3_list_buckets("t:u", "[{", 2, NULL, NULL, &doc, &len),
                     -EINVAL);
    assert_null(doc);
}

static void test_buckets_pages(void **state)
{
    struct s3_xml x = {0};
    const char *json;
    char *doc, *last;
    size_t len, n;

    (void)state;
    s3_list_buckets_begin(&x, "o");
    json = "[{\"name\": \"b1\"}, {\"name\": \"b2+segments\"}]";
    assert_int_equal(s3_list_buckets_add(&x, json, strlen(json), not_segments,
                                         NULL, &n, &last),
                     0);
    assert_int_equal(n, 2);
    assert_string_equal(last, "b2+segments"); /* the next marker */
    free(last);
    assert_int_equal(s3_list_buckets_add(&x, "[{\"name\": \"b3\"}]", 16, NULL,
                                         NULL, &n, &last),
                     0);
    assert_int_equal(n, 1);
    free(last);
    assert_int_equal(s3_list_buckets_add(&x, "[]", 2, NULL, NULL, &n, &last),
                     0);
    assert_int_equal(n, 0);
    assert_null(last);
    assert_int_equal(s3_xml_finish(&x, &doc, &len), 0);
    assert_string_equal(
        doc, DECL "<ListAllMyBucketsResult xmlns=\"" NS "\"><Owner><ID>o</ID>"
                  "<DisplayName>o</DisplayName></Owner><Buckets><Bucket>"
                  "<Name>b1</Name><CreationDate>2009-02-03T16:45:09.000Z"
                  "</CreationDate></Bucket><Bucket><Name>b3</Name>"
                  "<CreationDate>2009-02-03T16:45:09.000Z</CreationDate>"
                  "</Bucket></Buckets></ListAllMyBucketsResult>");
    free(doc);
}

/* ---- ListObjects v1 ---- */

static void test_v1_small(void **state)
{
    struct s3_list_query q = {.bucket = "bkt",
                              .version = 1,
                              .owner = "t:u",
                              .max_keys = 1000,
                              .limit = 1000};

    (void)state;
    assert_objects(&q, "[" ROW("a<&>\\\"'", LM) "]",
                   DECL LBR "<Name>bkt</Name><Prefix></Prefix><Marker>"
                            "</Marker><MaxKeys>1000</MaxKeys><IsTruncated>"
                            "false</IsTruncated><Contents><Key>a&lt;&amp;"
                            "&gt;&quot;&apos;</Key><LastModified>"
                            "2026-12-04T21:59:50.739Z</LastModified>" ETAG
                            "<Size>5</Size>" OWNER "<StorageClass>STANDARD"
                            "</StorageClass></Contents></ListBucketResult>");
    assert_objects(&q, "[]",
                   DECL LBR "<Name>bkt</Name><Prefix></Prefix><Marker>"
                            "</Marker><MaxKeys>1000</MaxKeys><IsTruncated>"
                            "false</IsTruncated></ListBucketResult>");
}

static void test_v1_delimiter_truncated(void **state)
{
    struct s3_list_query q = {.bucket = "b",
                              .version = 1,
                              .owner = "t:u",
                              .prefix = "p/",
                              .delimiter = "/",
                              .marker = "p/0",
                              .max_keys = 2,
                              .limit = 2};
    const char *json =
        "[" ROW("p/a", LM) ", {\"subdir\": \"p/d/\"}, " ROW("p/z", LM) "]";

    (void)state;
    assert_objects(&q, json,
                   DECL LBR "<Name>b</Name><Prefix>p/</Prefix><Marker>p/0"
                            "</Marker><NextMarker>p/d/</NextMarker><MaxKeys>"
                            "2</MaxKeys><Delimiter>/</Delimiter><IsTruncated>"
                            "true</IsTruncated><Contents><Key>p/a</Key>"
                            "<LastModified>2026-12-04T21:59:50.739Z"
                            "</LastModified>" ETAG "<Size>5</Size>" OWNER
                            "<StorageClass>STANDARD</StorageClass></Contents>"
                            "<CommonPrefixes><Prefix>p/d/</Prefix>"
                            "</CommonPrefixes></ListBucketResult>");

    /* without a delimiter, no NextMarker even when truncated */
    q.delimiter = NULL;
    q.limit = q.max_keys = 1;
    {
        char *doc = objects(&q, json);

        assert_null(strstr(doc, "NextMarker"));
        assert_null(strstr(doc, "Delimiter"));
        assert_non_null(strstr(doc, "<IsTruncated>true</IsTruncated>"));
        assert_non_null(strstr(doc, "<Key>p/a</Key>"));
        assert_null(strstr(doc, "p/d/"));
        free(doc);
    }
    /* exactly limit rows: not truncated */
    q.limit = q.max_keys = 3;
    q.delimiter = "/";
    {
        char *doc = objects(&q, json);

        assert_null(strstr(doc, "NextMarker"));
        assert_non_null(strstr(doc, "<IsTruncated>false</IsTruncated>"));
        assert_non_null(strstr(doc, "<Key>p/z</Key>"));
        free(doc);
    }
}

static void test_max_keys_zero(void **state)
{
    struct s3_list_query q = {.bucket = "b",
                              .version = 1,
                              .owner = "o",
                              .delimiter = "/",
                              .max_keys = 0,
                              .limit = 0};
    const char *json = "[" ROW("a", LM) "]";

    (void)state;
    assert_objects(&q, json,
                   DECL LBR "<Name>b</Name><Prefix></Prefix><Marker></Marker>"
                            "<MaxKeys>0</MaxKeys><Delimiter>/</Delimiter>"
                            "<IsTruncated>false</IsTruncated>"
                            "</ListBucketResult>");
    q.version = 2;
    assert_objects(&q, json,
                   DECL LBR "<Name>b</Name><Prefix></Prefix><KeyCount>0"
                            "</KeyCount><MaxKeys>0</MaxKeys><Delimiter>/"
                            "</Delimiter><IsTruncated>false</IsTruncated>"
                            "</ListBucketResult>");
}

static void test_max_keys_over_listing_limit(void **state)
{
    /* max-keys=5000 with max_bucket_listing=2: MaxKeys says 5000, two
     * rows are shown */
    struct s3_list_query q = {.bucket = "b",
                              .version = 1,
                              .owner = "o",
                              .max_keys = 5000,
                              .limit = 2};
    char *doc =
        objects(&q, "[" ROW("a", LM) "," ROW("b", LM) "," ROW("c", LM) "]");

    (void)state;
    assert_non_null(strstr(doc, "<MaxKeys>5000</MaxKeys>"));
    assert_non_null(strstr(doc, "<IsTruncated>true</IsTruncated>"));
    assert_non_null(strstr(doc, "<Key>b</Key>"));
    assert_null(strstr(doc, "<Key>c</Key>"));
    free(doc);
}

/* ---- ListObjects v2 ---- */

static void test_v2(void **state)
{
    struct s3_list_query q = {.bucket = "b",
                              .version = 2,
                              .owner = "t:u",
                              .delimiter = "/",
                              .max_keys = 2,
                              .limit = 2,
                              .continuation_token = "cC8w",
                              .start_after = "p/0"};
    const char *json = "[" ROW("p/a", LM) ", {\"subdir\": \"p/\xc3\xa9/\"}, "
                                          "{\"subdir\": \"q/\"}]";
    char *token, *name;

    (void)state;
    /* NextContinuationToken is base64("p/é/"), KeyCount counts both kinds,
     * no Owner without fetch-owner */
    assert_objects(&q, json,
                   DECL LBR "<Name>b</Name><Prefix></Prefix>"
                            "<NextContinuationToken>cC/DqS8="
                            "</NextContinuationToken><ContinuationToken>cC8w"
                            "</ContinuationToken><StartAfter>p/0</StartAfter>"
                            "<KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>"
                            "<Delimiter>/</Delimiter><IsTruncated>true"
                            "</IsTruncated><Contents><Key>p/a</Key>"
                            "<LastModified>2026-12-04T21:59:50.739Z"
                            "</LastModified>" ETAG "<Size>5</Size>"
                            "<StorageClass>STANDARD</StorageClass></Contents>"
                            "<CommonPrefixes><Prefix>p/\xc3\xa9/</Prefix>"
                            "</CommonPrefixes></ListBucketResult>");
    assert_int_equal(s3_list_token_decode("cC/DqS8=", &name), 0);
    assert_string_equal(name, "p/\xc3\xa9/");
    free(name);

    q.fetch_owner = true;
    q.continuation_token = NULL;
    q.start_after = NULL;
    q.limit = q.max_keys = 1;
    token = objects(&q, json);
    assert_non_null(strstr(token, OWNER));
    assert_non_null(strstr(token, "<NextContinuationToken>cC9h"
                                  "</NextContinuationToken><KeyCount>1"));
    assert_null(strstr(token, "ContinuationToken>cC8w"));
    assert_null(strstr(token, "StartAfter"));
    free(token);
}

static void test_tokens(void **state)
{
    static const char *const names[] = {
        "", "a", "ab", "abc", "abcd", "key/\xe2\x98\xba with space"};
    static const char *const bad[] = {"abc",
                                      "a===",
                                      "ab=c",
                                      "a*cd",
                                      "/w==", /* 0xff: not UTF-8 */
                                      "AA==", /* a NUL */
                                      "YR==", /* stray bits */
                                      "YWI="
                                      "x"};
    char *token, *name = (char *)"x";

    (void)state;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        token = s3_list_token_encode(names[i]);
        assert_int_equal(s3_list_token_decode(token, &name), 0);
        assert_string_equal(name, names[i]);
        free(name);
        free(token);
    }
    token = s3_list_token_encode("abcd");
    assert_string_equal(token, "YWJjZA==");
    free(token);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(s3_list_token_decode(bad[i], &name),
                         S3_ERR_INVALID_ARGUMENT);
        assert_null(name);
    }
}

/* ---- encoding-type=url ---- */

static void test_url_encoding(void **state)
{
    struct s3_list_query q = {.bucket = "b",
                              .version = 1,
                              .owner = "t:u",
                              .url = true,
                              .prefix = "a b/",
                              .delimiter = "+",
                              .marker = "a b/\x01",
                              .max_keys = 1,
                              .limit = 1};
    const char *json = "[" ROW("a b/c+d\\u0001\\u00e9", LM) ","
                                                            "{\"subdir\": "
                                                            "\"a b/x+\"}]";

    (void)state;
    assert_objects(&q, json,
                   DECL LBR "<Name>b</Name><Prefix>a%20b/</Prefix><Marker>"
                            "a%20b/%01</Marker><NextMarker>a%20b/c%2Bd%01"
                            "%C3%A9</NextMarker><MaxKeys>1</MaxKeys>"
                            "<Delimiter>%2B</Delimiter><EncodingType>url"
                            "</EncodingType><IsTruncated>true</IsTruncated>"
                            "<Contents><Key>a%20b/c%2Bd%01%C3%A9</Key>"
                            "<LastModified>2026-12-04T21:59:50.739Z"
                            "</LastModified>" ETAG "<Size>5</Size>" OWNER
                            "<StorageClass>STANDARD</StorageClass></Contents>"
                            "</ListBucketResult>");

    q.version = 2;
    q.start_after = "s a";
    q.limit = q.max_keys = 2;
    {
        char *doc = objects(&q, json);

        assert_non_null(strstr(doc, "<StartAfter>s%20a</StartAfter>"));
        assert_non_null(strstr(doc, "<CommonPrefixes><Prefix>a%20b/x%2B"
                                    "</Prefix></CommonPrefixes>"));
        free(doc);
    }
}

static void test_control_characters_without_url(void **state)
{
    struct s3_list_query q = {
        .bucket = "b", .version = 2, .owner = "o", .max_keys = 9, .limit = 9};
    char *doc = objects(&q, "[" ROW("a\\u0001\\r\\n", LM) "]");

    (void)state;
    assert_non_null(strstr(doc, "<Key>a&#x1;&#13;\n</Key>"));
    free(doc);
}

/* ---- rows ---- */

static void test_etags(void **state)
{
    struct s3_list_query q = {
        .bucket = "b", .version = 2, .owner = "o", .max_keys = 9, .limit = 9};
    const char *json =
        "[{\"name\": \"mpu\", \"hash\": \"d41d8cd98f00b204e9800998ecf8427e; "
        "s3_etag=0123456789abcdef0123456789abcdef-3\", \"bytes\": 1,"
        " \"last_modified\": \"" LM "\"},"
        " {\"name\": \"slo\", \"hash\": \"aaa; slo_etag=\\\"bbb\\\"\","
        " \"bytes\": 1, \"last_modified\": \"" LM "\"},"
        " {\"name\": \"both\", \"hash\": \"aaa; slo_etag=bbb; s3_etag=ccc-2\","
        " \"bytes\": 1, \"last_modified\": \"" LM "\"},"
        " {\"name\": \"field\", \"hash\": \"aaa\", \"s3_etag\": "
        "\"\\\"ddd-4\\\"\","
        " \"bytes\": 1, \"last_modified\": \"" LM "\"},"
        " {\"name\": \"slofield\", \"hash\": \"aaa\", \"slo_etag\": \"eee\","
        " \"bytes\": 1, \"last_modified\": \"" LM "\"},"
        " {\"name\": \"params\", \"hash\": \"fff; swift_bytes=7\","
        " \"bytes\": 1, \"last_modified\": \"" LM "\"}]";
    char *doc = objects(&q, json);

    (void)state;
    assert_non_null(strstr(doc, "<Key>mpu</Key><LastModified>"
                                "2026-12-04T21:59:50.739Z</LastModified>"
                                "<ETag>&quot;0123456789abcdef0123456789abcdef"
                                "-3&quot;</ETag>"));
    assert_non_null(strstr(doc, "<ETag>&quot;bbb-N&quot;</ETag>"));
    assert_non_null(strstr(doc, "<ETag>&quot;ccc-2&quot;</ETag>"));
    assert_non_null(strstr(doc, "<ETag>&quot;ddd-4&quot;</ETag>"));
    assert_non_null(strstr(doc, "<ETag>&quot;eee-N&quot;</ETag>"));
    assert_non_null(strstr(doc, "<ETag>&quot;fff&quot;</ETag>"));
    assert_non_null(strstr(doc, "<KeyCount>6</KeyCount>"));
    free(doc);
}

static void test_timestamps(void **state)
{
    struct s3_list_query q = {
        .bucket = "b", .version = 2, .owner = "o", .max_keys = 9, .limit = 9};
    char *doc = objects(
        &q,
        "[" ROW("a", "2026-12-04T21:59:50") "," ROW("b", "2026-12-04T21:59:50."
                                                         "5") "," ROW("c", "202"
                                                                           "6-"
                                                                           "12-"
                                                                           "04T"
                                                                           "21:"
                                                                           "59:"
                                                                           "50."
                                                                           "999"
                                                                           "99"
                                                                           "9") "," ROW(
            "d", "2026-12-04 21:59:50.000000") "," ROW("e", "2026-12-04T21:59:"
                                                            "50.") "," ROW("f",
                                                                           "202"
                                                                           "6-"
                                                                           "12-"
                                                                           "04T"
                                                                           "21:"
                                                                           "59:"
                                                                           "50."
                                                                           "12"
                                                                           "x") "]");

    (void)state;
    assert_non_null(strstr(doc, "<Key>a</Key><LastModified>"
                                "2026-12-04T21:59:50.000Z</LastModified>"));
    assert_non_null(strstr(doc, "<Key>b</Key><LastModified>"
                                "2026-12-04T21:59:50.500Z</LastModified>"));
    /* truncated, never rounded up into the next second */
    assert_non_null(strstr(doc, "<Key>c</Key><LastModified>"
                                "2026-12-04T21:59:50.999Z</LastModified>"));
    assert_null(strstr(doc, "<Key>d</Key>"));
    assert_null(strstr(doc, "<Key>e</Key>"));
    assert_null(strstr(doc, "<Key>f</Key>"));
    assert_non_null(strstr(doc, "<KeyCount>3</KeyCount>"));
    free(doc);
}

static void test_bad_rows(void **state)
{
    struct s3_list_query q = {.bucket = "b",
                              .version = 1,
                              .owner = "o",
                              .delimiter = "/",
                              .max_keys = 8,
                              .limit = 8};
    const char *json =
        "[1, \"x\", null, [], {},"
        " {\"name\": 5, \"hash\": \"h\", \"bytes\": 1, \"last_modified\": "
        "\"" LM "\"},"
        " {\"name\": \"nohash\", \"bytes\": 1, \"last_modified\": \"" LM "\"},"
        " {\"name\": \"strbytes\", \"hash\": \"h\", \"bytes\": \"1\","
        " \"last_modified\": \"" LM "\"},"
        " {\"name\": \"neg\", \"hash\": \"h\", \"bytes\": -1,"
        " \"last_modified\": \"" LM "\"},"
        " {\"subdir\": 3}]";
    char *doc = objects(&q, json);
    char *out;
    size_t len;

    (void)state;
    assert_null(strstr(doc, "<Contents>"));
    assert_null(strstr(doc, "<CommonPrefixes>"));
    /* ten rows, eight shown: truncated; the marker is the last name seen */
    assert_non_null(strstr(doc, "<NextMarker>strbytes</NextMarker>"));
    free(doc);

    assert_int_equal(s3_list_objects(&q, "{\"name\": \"a\"}", 13, &out, &len),
                     -EINVAL);
    assert_null(out);
    assert_int_equal(s3_list_objects(&q, "[", 1, &out, &len), -EINVAL);
    assert_null(out);
    assert_int_equal(s3_list_objects(&q, "", 0, &out, &len), -EINVAL);
}

static void test_bad_query_strings(void **state)
{
    struct s3_list_query q = {.bucket = "b",
                              .version = 1,
                              .owner = "o",
                              .prefix = "\xff",
                              .max_keys = 8,
                              .limit = 8};
    char *out = (char *)"x";
    size_t len;

    (void)state;
    assert_int_equal(s3_list_objects(&q, "[]", 2, &out, &len), -EILSEQ);
    assert_null(out);
    q.url = true;
    out = objects(&q, "[]");
    assert_non_null(strstr(out, "<Prefix>%FF</Prefix>"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buckets),
        cmocka_unit_test(test_buckets_pages),
        cmocka_unit_test(test_v1_small),
        cmocka_unit_test(test_v1_delimiter_truncated),
        cmocka_unit_test(test_max_keys_zero),
        cmocka_unit_test(test_max_keys_over_listing_limit),
        cmocka_unit_test(test_v2),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_url_encoding),
        cmocka_unit_test(test_control_characters_without_url),
        cmocka_unit_test(test_etags),
        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_bad_rows),
        cmocka_unit_test(test_bad_query_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
