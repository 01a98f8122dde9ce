/* Description: the S3 XML writer (exact bytes, escaping, URL encoding),
 * the error table and error documents, and the request-body parsers on
 * good, malformed, oversized, namespaced and DOCTYPE-bearing input. */
#include "proxy/s3_xml.h"

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
#define BIG (1 << 20)

/* Finishes 'x' and checks the document is exactly 'want'. */
static void assert_doc(struct s3_xml *x, const char *want)
{
    char *doc;
    size_t len;

    assert_int_equal(s3_xml_finish(x, &doc, &len), 0);
    assert_string_equal(doc, want);
    assert_int_equal(len, strlen(want));
    assert_null(x->data);
    free(doc);
}

/* ---- writer ---- */

static void test_writer_document(void **state)
{
    struct s3_xml x = {0};

    (void)state;
    assert_int_equal(s3_xml_declaration(&x), 0);
    assert_int_equal(s3_xml_root(&x, "ListAllMyBucketsResult"), 0);
    s3_xml_open(&x, "Owner");
    s3_xml_elem(&x, "ID", "test:tester");
    s3_xml_elem(&x, "DisplayName", NULL);
    s3_xml_close(&x);
    s3_xml_elemf(&x, "MaxKeys", "%d", 1000);
    s3_xml_open(&x, "Buckets"); /* left open: finish closes it */
    assert_doc(&x, DECL "<ListAllMyBucketsResult xmlns=\"" NS "\">"
                        "<Owner><ID>test:tester</ID><DisplayName>"
                        "</DisplayName></Owner><MaxKeys>1000</MaxKeys>"
                        "<Buckets></Buckets></ListAllMyBucketsResult>");
}

static void test_writer_escapes(void **state)
{
    struct s3_xml x = {0};

    (void)state;
    s3_xml_elem(&x, "K", "a&b<c>d\"e'f\rg\nh\ti");
    s3_xml_elem(&x, "K", "\x01x\x1f\x7f");
    s3_xml_elem(&x, "K", "\xef\xbf\xbf\xef\xbf\xbe"); /* U+FFFF U+FFFE */
    s3_xml_elem(&x, "K", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    assert_doc(&x, "<K>a&amp;b&lt;c&gt;d&quot;e&apos;f&#13;g\nh\ti</K>"
                   "<K>&#x1;x&#x1F;\x7f</K><K>&#xFFFF;&#xFFFE;</K>"
                   "<K>\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80</K>");
}

static void test_writer_refuses_invalid_utf8(void **state)
{
    static const char *const bad[] = {
        "\xff",         "a\xc3",
        "\xc0\xaf",                                         /* overlong */
        "\xed\xa0\x80", /* surrogate */ "\xf4\x90\x80\x80", /* > 10FFFF */
        "\xe0\x80\xaf", "\x80",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct s3_xml x = {0};
        char *doc = (char *)"x";
        size_t len = 1;

        s3_xml_elem(&x, "Ok", "fine");
        assert_int_equal(s3_xml_elem(&x, "Key", bad[i]), -EILSEQ);
        assert_int_equal(s3_xml_elem(&x, "Next", "sticky"), -EILSEQ);
        assert_int_equal(s3_xml_finish(&x, &doc, &len), -EILSEQ);
        assert_null(doc);
        assert_int_equal(len, 0);
        assert_false(s3_xml_utf8_valid(bad[i]));
    }
    assert_true(s3_xml_utf8_valid("\xf4\x8f\xbf\xbf plain"));
}

static void test_writer_depth_and_close(void **state)
{
    struct s3_xml x = {0};
    char *doc;
    size_t len;

    (void)state;
    assert_int_equal(s3_xml_close(&x), -EINVAL);
    s3_xml_release(&x);
    for (int i = 0; i < S3_XML_MAX_DEPTH; i++)
        assert_int_equal(s3_xml_open(&x, "A"), 0);
    assert_int_equal(s3_xml_open(&x, "A"), -EINVAL);
    assert_int_equal(s3_xml_finish(&x, &doc, &len), -EINVAL);
    assert_null(doc);

    /* an empty document is "" */
    assert_int_equal(s3_xml_finish(&x, &doc, &len), 0);
    assert_string_equal(doc, "");
    assert_int_equal(len, 0);
    free(doc);
}

static void test_writer_grows(void **state)
{
    struct s3_xml x = {0};
    char *doc;
    size_t len;

    (void)state;
    s3_xml_open(&x, "R");
    for (int i = 0; i < 10000; i++)
        s3_xml_elemf(&x, "N", "%d", i);
    assert_int_equal(s3_xml_finish(&x, &doc, &len), 0);
    assert_int_equal(len, strlen(doc));
    assert_non_null(strstr(doc, "<N>0</N><N>1</N>"));
    assert_non_null(strstr(doc, "<N>9999</N></R>"));
    free(doc);
}

static void test_grantee(void **state)
{
    struct s3_xml x = {0};

    (void)state;
    s3_xml_open(&x, "Grant");
    s3_xml_grantee(&x, "a&b");
    s3_xml_close(&x);
    s3_xml_grantee_group(&x, "http://acs.amazonaws.com/groups/global/"
                             "AllUsers");
    assert_doc(&x, "<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/"
                   "XMLSchema-instance\" xsi:type=\"CanonicalUser\"><ID>"
                   "a&amp;b</ID><DisplayName>a&amp;b</DisplayName></Grantee>"
                   "</Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/"
                   "XMLSchema-instance\" xsi:type=\"Group\"><URI>http://"
                   "acs.amazonaws.com/groups/global/AllUsers</URI>"
                   "</Grantee>");
}

static void test_url_encode(void **state)
{
    char *s;
    struct s3_xml x = {0};

    (void)state;
    s = s3_xml_url_encode("a b+c/d~e_f.g-h%&\x01\xc3\xa9Z9");
    assert_string_equal(s, "a%20b%2Bc/d~e_f.g-h%25%26%01%C3%A9Z9");
    free(s);
    s = s3_xml_url_encode("");
    assert_string_equal(s, "");
    free(s);
    /* bytes that are not UTF-8 are fine once encoded */
    s3_xml_elem_url(&x, "Key", "\xff<k>");
    s3_xml_elem_url(&x, "Prefix", NULL);
    assert_doc(&x, "<Key>%FF%3Ck%3E</Key><Prefix></Prefix>");
}

/* ---- errors ---- */

static void test_error_table(void **state)
{
    static const struct {
        enum s3_err err;
        const char *code;
        unsigned int status;
    } rows[] = {
        {S3_ERR_ACCESS_DENIED, "AccessDenied", 403},
        {S3_ERR_AUTHORIZATION_QUERY_PARAMETERS_ERROR,
         "AuthorizationQueryParametersError", 400},
        {S3_ERR_BUCKET_NOT_EMPTY, "BucketNotEmpty", 409},
        {S3_ERR_INVALID_CHUNK_SIZE, "InvalidChunkSizeError", 403},
        {S3_ERR_INVALID_RANGE, "InvalidRange", 416},
        {S3_ERR_KEY_TOO_LONG, "KeyTooLongError", 400},
        {S3_ERR_METHOD_NOT_ALLOWED, "MethodNotAllowed", 405},
        {S3_ERR_MISSING_CONTENT_LENGTH, "MissingContentLength", 411},
        {S3_ERR_MISSING_REQUEST_BODY, "MissingRequestBodyError", 400},
        {S3_ERR_NO_SUCH_KEY, "NoSuchKey", 404},
        {S3_ERR_NO_SUCH_CORS_CONFIGURATION, "NoSuchCORSConfiguration", 404},
        {S3_ERR_NOT_IMPLEMENTED, "NotImplemented", 501},
        {S3_ERR_NOT_MODIFIED, "NotModified", 304},
        {S3_ERR_PRECONDITION_FAILED, "PreconditionFailed", 412},
        {S3_ERR_REQUEST_TIME_TOO_SKEWED, "RequestTimeTooSkewed", 403},
        {S3_ERR_INTERNAL_ERROR, "InternalError", 500},
        {S3_ERR_SERVICE_UNAVAILABLE, "ServiceUnavailable", 503},
        {S3_ERR_SLOW_DOWN, "SlowDown", 503},
        {S3_ERR_INVALID_OBJECT_STATE, "InvalidObjectState", 403},
        {S3_ERR_X_AMZ_CONTENT_SHA256_MISMATCH, "XAmzContentSHA256Mismatch",
         400},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        assert_string_equal(s3_err_code(rows[i].err), rows[i].code);
        assert_int_equal(s3_err_status(rows[i].err), rows[i].status);
    }
    assert_string_equal(s3_err_message(S3_ERR_NO_SUCH_BUCKET),
                        "The specified bucket does not exist.");
    /* every code has a name, a status and a message, and is found by its
     * name */
    for (int e = 1; e < S3_ERR_COUNT; e++) {
        assert_true(strlen(s3_err_message((enum s3_err)e)) > 0);
        assert_true(s3_err_status((enum s3_err)e) >= 300);
        assert_int_equal(s3_err_from_code(s3_err_code((enum s3_err)e)), e);
    }
    assert_int_equal(s3_err_from_code("NoSuchThing"), S3_OK);
    assert_int_equal(s3_err_from_code("nosuchkey"), S3_OK);
    assert_string_equal(s3_err_code(S3_ERR_COUNT), "InternalError");
    assert_int_equal(s3_err_status((enum s3_err) - 1), 500);
}

static void test_error_doc(void **state)
{
    const struct s3_xml_field fields[] = {
        {"Key", "a/<b>&"},
        {"VersionId", NULL},
        {"Resource", "/bucket/a/%3Cb%3E&"},
    };
    char *doc;
    size_t len;

    (void)state;
    assert_int_equal(s3_xml_error_doc(S3_ERR_NO_SUCH_KEY, NULL, fields, 3,
                                      "txabc-0065", "host1", &doc, &len),
                     0);
    assert_string_equal(doc, DECL "<Error><Code>NoSuchKey</Code><Message>"
                                  "The specified key does not exist."
                                  "</Message><Key>a/&lt;b&gt;&amp;</Key>"
                                  "<Resource>/bucket/a/%3Cb%3E&amp;"
                                  "</Resource><RequestId>txabc-0065"
                                  "</RequestId><HostId>host1</HostId>"
                                  "</Error>");
    assert_int_equal(len, strlen(doc));
    free(doc);

    assert_int_equal(s3_xml_error_doc(S3_ERR_INVALID_ARGUMENT,
                                      "Part number must be an integer", NULL, 0,
                                      NULL, NULL, &doc, &len),
                     0);
    assert_string_equal(doc, DECL "<Error><Code>InvalidArgument</Code>"
                                  "<Message>Part number must be an integer"
                                  "</Message></Error>");
    free(doc);
}

static void test_error_doc_not_modified_and_bad_strings(void **state)
{
    const struct s3_xml_field fields[] = {{"Key", "bad\xff"}};
    char *doc = (char *)"x";
    size_t len = 9;

    (void)state;
    assert_int_equal(s3_xml_error_doc(S3_ERR_NOT_MODIFIED, NULL, NULL, 0, "tx",
                                      NULL, &doc, &len),
                     0);
    assert_null(doc);
    assert_int_equal(len, 0);

    assert_int_equal(s3_xml_error_doc(S3_ERR_NO_SUCH_KEY, "\xc0", fields, 1,
                                      "tx\xfe", NULL, &doc, &len),
                     0);
    assert_string_equal(doc, DECL "<Error><Code>NoSuchKey</Code><Message>"
                                  "The specified key does not exist."
                                  "</Message><Key>(invalid string)</Key>"
                                  "<RequestId>(invalid string)</RequestId>"
                                  "</Error>");
    free(doc);
}

/* ---- DeleteObjects ---- */

static int parse_delete(const char *body, struct s3_xml_delete *d)
{
    return s3_xml_parse_delete(body, strlen(body), BIG, 1000, d);
}

static void test_delete_good(void **state)
{
    struct s3_xml_delete d;

    (void)state;
    assert_int_equal(
        parse_delete("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<Delete xmlns=\"" NS "\">\n"
                     "  <Object><Key> sp &amp; &#x263A; </Key></Object>\n"
                     "  <Quiet> true </Quiet>\n"
                     "  <Object><VersionId>v1</VersionId>"
                     "<Key><![CDATA[a<b]]></Key></Object>\n"
                     "</Delete>",
                     &d),
        0);
    assert_true(d.quiet);
    assert_int_equal(d.n_keys, 2);
    assert_string_equal(d.keys[0].key, " sp & \xe2\x98\xba ");
    assert_null(d.keys[0].version_id);
    assert_string_equal(d.keys[1].key, "a<b");
    assert_string_equal(d.keys[1].version_id, "v1");
    s3_xml_delete_release(&d);
    assert_null(d.keys);

    assert_int_equal(parse_delete("<Delete><Quiet>0</Quiet><Object><Key>k"
                                  "</Key></Object></Delete>",
                                  &d),
                     0);
    assert_false(d.quiet);
    assert_int_equal(d.n_keys, 1);
    s3_xml_delete_release(&d);
}

static void test_delete_namespaces(void **state)
{
    static const char *const ok[] = {
        "<s3:Delete xmlns:s3=\"" NS "\"><s3:Object><s3:Key>k</s3:Key>"
        "</s3:Object></s3:Delete>",
        /* s3api strips any default namespace */
        "<Delete xmlns=\"urn:other\"><Object><Key>k</Key></Object>"
        "</Delete>",
        "<Delete xmlns:o=\"urn:other\" o:attr=\"x\"><Object><Key>k</Key>"
        "</Object></Delete>",
    };
    static const char *const bad[] = {
        /* a prefixed foreign namespace is another element */
        "<o:Delete xmlns:o=\"urn:other\"><Object><Key>k</Key></Object>"
        "</o:Delete>",
        "<Delete xmlns:o=\"urn:other\"><Object><o:Key>k</o:Key></Object>"
        "</Delete>",
        /* an unbound prefix is not well-formed */
        "<x:Delete><Object><Key>k</Key></Object></x:Delete>",
    };
    struct s3_xml_delete d;

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(parse_delete(ok[i], &d), 0);
        assert_int_equal(d.n_keys, 1);
        assert_string_equal(d.keys[0].key, "k");
        s3_xml_delete_release(&d);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(parse_delete(bad[i], &d), S3_ERR_MALFORMED_XML);
        assert_int_equal(d.n_keys, 0);
        assert_null(d.keys);
    }
}

static void test_delete_malformed(void **state)
{
    static const char *const bad[] = {
        "<Delete></Delete>",                  /* no Object */
        "<Delete><Object></Object></Delete>", /* no Key */
        "<Delete><Object><Key>a</Key><Key>b</Key></Object></Delete>",
        "<Delete><Object><Key>a</Key><Size>1</Size></Object></Delete>",
        "<Delete>text<Object><Key>a</Key></Object></Delete>",
        "<Delete><Object><Key>a<b/></Key></Object></Delete>",
        "<Delete><Quiet>yes</Quiet><Object><Key>a</Key></Object></Delete>",
        "<Delete><Quiet>True</Quiet><Object><Key>a</Key></Object></Delete>",
        "<Delete><Quiet>true</Quiet><Quiet>true</Quiet><Object><Key>a"
        "</Key></Object></Delete>",
        "<Remove><Object><Key>a</Key></Object></Remove>",
        "<Delete><Object><Key>a</Key></Object>", /* cut short */
        "<Delete><Object><Key>a</Key></Object></Delete><Delete/>",
        "<Delete><Object><Key>&undefined;</Key></Object></Delete>",
        "<Delete><Object><Key>a</Key></Object></Delete>\x01",
        " ",
    };
    struct s3_xml_delete d;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(parse_delete(bad[i], &d), S3_ERR_MALFORMED_XML);
        assert_null(d.keys);
    }
    assert_int_equal(s3_xml_parse_delete("", 0, BIG, 1000, &d),
                     S3_ERR_MISSING_REQUEST_BODY);
}

static void test_delete_refuses_doctype(void **state)
{
    static const char *const bad[] = {
        "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n"
        " <!ENTITY lol \"lol\">\n"
        " <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
        " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
        "]>\n<Delete><Object><Key>&lol3;</Key></Object></Delete>",
        "<!DOCTYPE Delete SYSTEM \"file:///etc/passwd\">"
        "<Delete><Object><Key>k</Key></Object></Delete>",
        "<!DOCTYPE Delete><Delete><Object><Key>k</Key></Object></Delete>",
    };
    struct s3_xml_delete d;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(parse_delete(bad[i], &d), S3_ERR_MALFORMED_XML);
}

/* A Delete of 'n' keys: key/1, key/2 ... */
static char *delete_body(size_t n)
{
    size_t cap = 64 + n * 48, len;
    char *s = malloc(cap);

    assert_non_null(s);
    len = (size_t)snprintf(s, cap, "<Delete>");
    for (size_t i = 1; i <= n; i++)
        len += (size_t)snprintf(s + len, cap - len,
                                "<Object><Key>key/%zu</Key></Object>", i);
    snprintf(s + len, cap - len, "</Delete>");
    return s;
}

static void test_delete_limits(void **state)
{
    struct s3_xml_delete d;
    char *body;

    (void)state;
    body = delete_body(1000);
    assert_int_equal(parse_delete(body, &d), 0);
    assert_int_equal(d.n_keys, 1000);
    assert_string_equal(d.keys[999].key, "key/1000");
    s3_xml_delete_release(&d);
    /* the size cap: one byte short */
    assert_int_equal(
        s3_xml_parse_delete(body, strlen(body), strlen(body) - 1, 1000, &d),
        S3_ERR_MALFORMED_XML);
    free(body);

    body = delete_body(1001);
    assert_int_equal(parse_delete(body, &d), S3_ERR_MALFORMED_XML);
    assert_null(d.keys);
    free(body);

    /* an empty key is UserKeyMustBeSpecified, and wins over the count
     * (s3api counts the keys last) */
    assert_int_equal(parse_delete("<Delete><Object><Key>a</Key></Object>"
                                  "<Object><Key></Key></Object>"
                                  "<Object><Key>b</Key></Object></Delete>",
                                  &d),
                     S3_ERR_USER_KEY_MUST_BE_SPECIFIED);
    assert_null(d.keys);
    assert_int_equal(
        s3_xml_parse_delete("<Delete><Object><Key/></Object><Object><Key>a"
                            "</Key></Object><Object><Key>b</Key></Object>"
                            "</Delete>",
                            strlen("<Delete><Object><Key/></Object><Object>"
                                   "<Key>a</Key></Object><Object><Key>b"
                                   "</Key></Object></Delete>"),
                            BIG, 2, &d),
        S3_ERR_USER_KEY_MUST_BE_SPECIFIED);
    /* but not over a later MalformedXML */
    assert_int_equal(parse_delete("<Delete><Object><Key></Key></Object>"
                                  "<Bogus/></Delete>",
                                  &d),
                     S3_ERR_MALFORMED_XML);
}

static void test_delete_deep_nesting(void **state)
{
    size_t n = 10000, len = 0;
    char *s = malloc(n * 7 + 64);
    struct s3_xml_delete d;

    (void)state;
    assert_non_null(s);
    len += (size_t)sprintf(s, "<Delete><Object><Key>k</Key></Object>");
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(s + len, "<a>");
    assert_int_equal(s3_xml_parse_delete(s, len, BIG, 1000, &d),
                     S3_ERR_MALFORMED_XML);
    free(s);
}

static void test_delete_utf16(void **state)
{
    /* "<Delete><Object><Key>k</Key></Object></Delete>" in UTF-16LE */
    const char *ascii = "<Delete><Object><Key>\xe9</Key></Object></Delete>";
    size_t n = strlen(ascii);
    char *body = calloc(1, 2 * n + 2);
    struct s3_xml_delete d;

    (void)state;
    assert_non_null(body);
    body[0] = '\xff';
    body[1] = '\xfe';
    for (size_t i = 0; i < n; i++)
        body[2 + 2 * i] = ascii[i];
    assert_int_equal(s3_xml_parse_delete(body, 2 * n + 2, BIG, 1000, &d), 0);
    assert_string_equal(d.keys[0].key, "\xc3\xa9"); /* é, now UTF-8 */
    s3_xml_delete_release(&d);
    free(body);
}

/* ---- CompleteMultipartUpload ---- */

#define ETAG1 "0123456789abcdef0123456789abcdef"
#define ETAG2 "fedcba9876543210fedcba9876543210"

static int parse_complete(const char *body, struct s3_xml_complete *c)
{
    return s3_xml_parse_complete(body, strlen(body), BIG, 10000, c);
}

static void test_complete_good(void **state)
{
    struct s3_xml_complete c;

    (void)state;
    assert_int_equal(parse_complete("<CompleteMultipartUpload xmlns=\"" NS
                                    "\">\n"
                                    " <Part><PartNumber> 1 </PartNumber>"
                                    "<ETag>\"" ETAG1 "\"</ETag></Part>\n"
                                    " <Part><ETag>&quot;" ETAG2 "&quot;</ETag>"
                                    "<ChecksumCRC32>AAAAAA==</ChecksumCRC32>"
                                    "<PartNumber>+3</PartNumber></Part>\n"
                                    " <Part><PartNumber>10000</PartNumber>"
                                    "<ETag>" ETAG1 "</ETag></Part>\n"
                                    "</CompleteMultipartUpload>",
                                    &c),
                     0);
    assert_int_equal(c.n_parts, 3);
    assert_int_equal(c.parts[0].number, 1);
    assert_string_equal(c.parts[0].etag, ETAG1);
    assert_int_equal(c.parts[1].number, 3);
    assert_string_equal(c.parts[1].etag, ETAG2);
    assert_int_equal(c.parts[2].number, 10000);
    s3_xml_complete_release(&c);
    assert_null(c.parts);
}

#define PART(n, etag)                                                          \
    "<Part><PartNumber>" n "</PartNumber><ETag>" etag "</ETag></Part>"
#define CMU(parts)                                                             \
    "<CompleteMultipartUpload>" parts "</CompleteMultipartUpload>"

static void test_complete_errors(void **state)
{
    static const struct {
        const char *body;
        int err;
        uint32_t bad_part;
    } cases[] = {
        {CMU(PART("2", ETAG1) PART("1", ETAG1)), S3_ERR_INVALID_PART_ORDER, 0},
        {CMU(PART("2", ETAG1) PART("2", ETAG1)), S3_ERR_INVALID_PART_ORDER, 0},
        {CMU(PART("0", ETAG1)), S3_ERR_INVALID_PART_ORDER, 0},
        {CMU(PART("-5", ETAG1)), S3_ERR_INVALID_PART_ORDER, 0},
        {CMU(PART("1", ETAG1) PART("2", "\"nothex\"")), S3_ERR_INVALID_PART, 2},
        {CMU(PART("7", "")), S3_ERR_INVALID_PART, 7},
        {CMU(PART("1", "0123456789ABCDEF0123456789ABCDEF")),
         S3_ERR_INVALID_PART, 1},
        {CMU(PART("1", ETAG1 "-2")), S3_ERR_INVALID_PART, 1},
        {CMU(PART("10001", ETAG1)), S3_ERR_INVALID_PART, 10001},
        /* order is checked before the etag, as s3api */
        {CMU(PART("3", ETAG1) PART("2", "bad")), S3_ERR_INVALID_PART_ORDER, 0},
        {CMU(""), S3_ERR_MALFORMED_XML, 0},
        {CMU(PART("abc", ETAG1)), S3_ERR_MALFORMED_XML, 0},
        {CMU(PART("1.0", ETAG1)), S3_ERR_MALFORMED_XML, 0},
        {CMU(PART("", ETAG1)), S3_ERR_MALFORMED_XML, 0},
        {CMU(PART("2147483648", ETAG1)), S3_ERR_MALFORMED_XML, 0},
        {CMU(PART("99999999999999999999999", ETAG1)), S3_ERR_MALFORMED_XML, 0},
        {CMU("<Part><PartNumber>1</PartNumber></Part>"), S3_ERR_MALFORMED_XML,
         0},
        {CMU("<Part><PartNumber>1</PartNumber><ETag>" ETAG1 "</ETag>"
             "<Size>5</Size></Part>"),
         S3_ERR_MALFORMED_XML, 0},
        /* a later MalformedXML wins over an earlier InvalidPartOrder */
        {CMU(PART("2", ETAG1) PART("1", ETAG1) "<Bogus/>"),
         S3_ERR_MALFORMED_XML, 0},
        {"<CompleteMultipartUpload>", S3_ERR_MALFORMED_XML, 0},
    };
    struct s3_xml_complete c;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = parse_complete(cases[i].body, &c);

        if (rc != cases[i].err)
            fail_msg("case %zu: %d, not %d", i, rc, cases[i].err);
        assert_int_equal(c.n_parts, 0);
        assert_null(c.parts);
        assert_int_equal(c.bad_part, cases[i].bad_part);
    }
    assert_int_equal(s3_xml_parse_complete("", 0, BIG, 10000, &c),
                     S3_ERR_INVALID_REQUEST);
    assert_int_equal(s3_xml_parse_complete(CMU(PART("1", ETAG1)),
                                           strlen(CMU(PART("1", ETAG1))), 10,
                                           10000, &c),
                     S3_ERR_MALFORMED_XML);
}

static void test_complete_10001_parts(void **state)
{
    size_t n = 10001, cap = 64 + n * 90, len = 0;
    char *s = malloc(cap);
    struct s3_xml_complete c;

    (void)state;
    assert_non_null(s);
    len += (size_t)snprintf(s, cap, "<CompleteMultipartUpload>");
    for (size_t i = 1; i <= n; i++)
        len += (size_t)snprintf(s + len, cap - len, PART("%zu", ETAG1), i);
    len += (size_t)snprintf(s + len, cap - len, "</CompleteMultipartUpload>");
    assert_int_equal(s3_xml_parse_complete(s, len, 2 * 1024 * 1024, 10000, &c),
                     S3_ERR_INVALID_PART);
    assert_int_equal(c.bad_part, 10001);
    assert_null(c.parts);

    /* the first 10,000 of them are fine */
    len = (size_t)(strstr(s, "<Part><PartNumber>10001<") - s);
    len += (size_t)sprintf(s + len, "</CompleteMultipartUpload>");
    assert_int_equal(s3_xml_parse_complete(s, len, 2 * 1024 * 1024, 10000, &c),
                     0);
    assert_int_equal(c.n_parts, 10000);
    assert_int_equal(c.parts[9999].number, 10000);
    s3_xml_complete_release(&c);
    free(s);
}

/* ---- CreateBucketConfiguration ---- */

static void test_create_bucket(void **state)
{
    char *loc = (char *)"x";
    const char *b;

    (void)state;
    assert_int_equal(s3_xml_parse_create_bucket("", 0, 10240, &loc), 0);
    assert_null(loc);
    b = "<CreateBucketConfiguration xmlns=\"" NS "\"><LocationConstraint>"
        "eu-west-1</LocationConstraint></CreateBucketConfiguration>";
    assert_int_equal(s3_xml_parse_create_bucket(b, strlen(b), 10240, &loc), 0);
    assert_string_equal(loc, "eu-west-1");
    free(loc);
    b = "<CreateBucketConfiguration/>";
    assert_int_equal(s3_xml_parse_create_bucket(b, strlen(b), 10240, &loc), 0);
    assert_null(loc);
    b = "<CreateBucketConfiguration><LocationConstraint/>"
        "</CreateBucketConfiguration>";
    assert_int_equal(s3_xml_parse_create_bucket(b, strlen(b), 10240, &loc), 0);
    assert_string_equal(loc, "");
    free(loc);

    b = "<CreateBucketConfiguration><LocationConstraint>a"
        "</LocationConstraint><LocationConstraint>b</LocationConstraint>"
        "</CreateBucketConfiguration>";
    assert_int_equal(s3_xml_parse_create_bucket(b, strlen(b), 10240, &loc),
                     S3_ERR_MALFORMED_XML);
    assert_null(loc);
    b = "<CreateBucketConfiguration><Location>a</Location>"
        "</CreateBucketConfiguration>";
    assert_int_equal(s3_xml_parse_create_bucket(b, strlen(b), 10240, &loc),
                     S3_ERR_MALFORMED_XML);
    b = "not xml";
    assert_int_equal(s3_xml_parse_create_bucket(b, strlen(b), 10240, &loc),
                     S3_ERR_MALFORMED_XML);
    b = "<CreateBucketConfiguration><LocationConstraint>eu-west-1"
        "</LocationConstraint></CreateBucketConfiguration>";
    assert_int_equal(s3_xml_parse_create_bucket(b, strlen(b), 20, &loc),
                     S3_ERR_MALFORMED_XML);
    assert_null(loc);
}

/* ---- Tagging ---- */

static int parse_tagging(const char *body, struct s3_xml_tagging *t)
{
    return s3_xml_parse_tagging(body, strlen(body), BIG, 10, t);
}

#define TAG(k, v) "<Tag><Key>" k "</Key><Value>" v "</Value></Tag>"
#define TAGGING(tags) "<Tagging><TagSet>" tags "</TagSet></Tagging>"
#define X10 "xxxxxxxxxx"
#define X128 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10 "xxxxxxxx"
#define X256 X128 X128

static void test_tagging_good(void **state)
{
    struct s3_xml_tagging t;

    (void)state;
    assert_int_equal(
        parse_tagging("<Tagging xmlns=\"" NS "\"><TagSet>" TAG(" a ", "1")
                          TAG("b", "") "<Tag><Value>v</Value><Key>" X128
                                       "</Key></Tag>" TAG(
                                           "c", X256) "</TagSet></Tagging>",
                      &t),
        0);
    assert_int_equal(t.n_tags, 4);
    assert_string_equal(t.tags[0].key, " a ");
    assert_string_equal(t.tags[0].value, "1");
    assert_string_equal(t.tags[1].value, "");
    assert_string_equal(t.tags[2].key, X128);
    assert_string_equal(t.message, "");
    s3_xml_tagging_release(&t);

    assert_int_equal(parse_tagging(TAGGING(""), &t), 0);
    assert_int_equal(t.n_tags, 0);
    s3_xml_tagging_release(&t);

    /* 128 characters of two bytes each are 128, not 256 */
#define E10                                                                    \
    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"         \
    "\xc3\xa9\xc3\xa9"
#define E128                                                                   \
    E10 E10 E10 E10 E10 E10 E10 E10 E10 E10 E10 E10                            \
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
    assert_int_equal(parse_tagging(TAGGING(TAG(E128, "v")), &t), 0);
    s3_xml_tagging_release(&t);
}

static void test_tagging_errors(void **state)
{
    static const struct {
        const char *body;
        int err;
        const char *message;
    } cases[] = {
        {TAGGING(TAG("", "v")), S3_ERR_INVALID_TAG,
         "The TagKey you have provided is invalid"},
        {TAGGING(TAG(X128 "x", "v")), S3_ERR_INVALID_TAG,
         "The TagKey you have provided is too long, max 128"},
        {TAGGING(TAG("k", X256 "x")), S3_ERR_INVALID_TAG,
         "The TagValue you have provided is too long, max 256"},
        {TAGGING(TAG("k", "1") TAG("j", "2") TAG("k", "3")), S3_ERR_INVALID_TAG,
         "Cannot provide multiple Tags with the same key"},
        {TAGGING(TAG("1", "") TAG("2", "") TAG("3", "") TAG("4", "")
                     TAG("5", "") TAG("6", "") TAG("7", "") TAG("8", "")
                         TAG("9", "") TAG("10", "") TAG("", "")),
         S3_ERR_BAD_REQUEST, "Object tags cannot be greater than 10"},
        {TAGGING("<Tag><Key>k</Key></Tag>"), S3_ERR_MALFORMED_XML, ""},
        {"<Tagging></Tagging>", S3_ERR_MALFORMED_XML, ""},
        {"<Tagging><TagSet/><TagSet/></Tagging>", S3_ERR_MALFORMED_XML, ""},
        {"<TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet>",
         S3_ERR_MALFORMED_XML, ""},
        {TAGGING(TAG("", "v") "<Bogus/>"), S3_ERR_MALFORMED_XML, ""},
    };
    struct s3_xml_tagging t;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = parse_tagging(cases[i].body, &t);

        if (rc != cases[i].err)
            fail_msg("case %zu: %d, not %d", i, rc, cases[i].err);
        assert_string_equal(t.message, cases[i].message);
        assert_null(t.tags);
        assert_int_equal(t.n_tags, 0);
    }
    assert_int_equal(s3_xml_parse_tagging("", 0, BIG, 10, &t),
                     S3_ERR_MALFORMED_XML);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writer_document),
        cmocka_unit_test(test_writer_escapes),
        cmocka_unit_test(test_writer_refuses_invalid_utf8),
        cmocka_unit_test(test_writer_depth_and_close),
        cmocka_unit_test(test_writer_grows),
        cmocka_unit_test(test_grantee),
        cmocka_unit_test(test_url_encode),
        cmocka_unit_test(test_error_table),
        cmocka_unit_test(test_error_doc),
        cmocka_unit_test(test_error_doc_not_modified_and_bad_strings),
        cmocka_unit_test(test_delete_good),
        cmocka_unit_test(test_delete_namespaces),
        cmocka_unit_test(test_delete_malformed),
        cmocka_unit_test(test_delete_refuses_doctype),
        cmocka_unit_test(test_delete_limits),
        cmocka_unit_test(test_delete_deep_nesting),
        cmocka_unit_test(test_delete_utf16),
        cmocka_unit_test(test_complete_good),
        cmocka_unit_test(test_complete_errors),
        cmocka_unit_test(test_complete_10001_parts),
        cmocka_unit_test(test_create_bucket),
        cmocka_unit_test(test_tagging_good),
        cmocka_unit_test(test_tagging_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
