/* Description: S3 request signatures (proxy/s3_sig.c) against AWS's own
 * documented examples (SigV4: GET and PUT Object, GET Bucket lifecycle
 * and list, the presigned URL, the aws-chunked seed; SigV2: the
 * johnsmith examples), plus what must fail: flipped bits, wrong secret,
 * wrong region or service, skew, expiry, malformed and hostile input. */
#include "proxy/s3_sig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define AKID "AKIAIOSFODNN7EXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define T20130524 1369353600 /* 20130524T000000Z */
#define EMPTY_SHA                                                              \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define CRED "Credential=" AKID "/20130524/us-east-1/s3/aws4_request"

/* A request: headers as a NULL-terminated list of name, value. */
struct fake {
    const char *const *h;
};

static const char *fake_header(void *arg, const char *name)
{
    const struct fake *f = arg;
    size_t i;

    for (i = 0; f->h[i]; i += 2)
        if (!strcasecmp(f->h[i], name))
            return f->h[i + 1];
    return NULL;
}

static int
fake_foreach(void *arg,
             int (*fn)(const char *name, const char *value, void *fa), void *fa)
{
    const struct fake *f = arg;
    size_t i;
    int rc;

    for (i = 0; f->h[i]; i += 2) {
        rc = fn(f->h[i], f->h[i + 1], fa);
        if (rc)
            return rc;
    }
    return 0;
}

static struct s3_sig_request request(struct fake *f, const char *method,
                                     const char *path, const char *query,
                                     int64_t now)
{
    struct s3_sig_request r = {
        .method = method,
        .raw_path = path,
        .raw_query = query,
        .header = fake_header,
        .foreach_header = fake_foreach,
        .arg = f,
        .now = now,
    };
    return r;
}

static const struct s3_sig_conf conf = {"us-east-1", 900};

/* parse and verify must both pass */
static void expect_valid(const struct s3_sig_request *r, const char *secret,
                         struct s3_sig *sig, struct s3_sig_seed *seed)
{
    struct s3_sig_error err;
    int rc = s3_sig_parse(&conf, r, sig, &err);

    if (rc != 1)
        fail_msg("parse: %d %s: %s", rc, err.code, err.message);
    rc = s3_sig_verify(sig, r, secret, seed, &err);
    if (rc)
        fail_msg("verify: %d %s: %s", rc, err.code, err.message);
}

static void expect_parse_error(const struct s3_sig_request *r, const char *code,
                               unsigned int status, const char *message)
{
    struct s3_sig sig;
    struct s3_sig_error err;

    assert_int_equal(s3_sig_parse(&conf, r, &sig, &err), -EINVAL);
    assert_string_equal(err.code, code);
    assert_int_equal(err.status, status);
    if (message)
        assert_string_equal(err.message, message);
}

static void expect_mismatch(const struct s3_sig_request *r, const char *secret)
{
    struct s3_sig sig;
    struct s3_sig_seed seed;
    struct s3_sig_error err;

    assert_int_equal(s3_sig_parse(&conf, r, &sig, &err), 1);
    assert_int_equal(s3_sig_verify(&sig, r, secret, &seed, &err), -EINVAL);
    assert_string_equal(err.code, "SignatureDoesNotMatch");
    assert_int_equal(err.status, 403);
    assert_string_equal(err.message,
                        "The request signature we calculated does not match "
                        "the signature you provided. Check your key and "
                        "signing method.");
}

/* ---- SigV4, AWS's examples ---- */

#define GET_OBJECT_AUTH                                                        \
    "AWS4-HMAC-SHA256 " CRED ",SignedHeaders=host;range;x-amz-content-"        \
    "sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170"   \
    "aba48dd91039c6036bdb41"

static void test_v4_get_object(void **state)
{
    const char *h[] = {"Host",
                       "examplebucket.s3.amazonaws.com",
                       "Range",
                       "bytes=0-9",
                       "x-amz-content-sha256",
                       EMPTY_SHA,
                       "x-amz-date",
                       "20130524T000000Z",
                       "Authorization",
                       GET_OBJECT_AUTH,
                       NULL};
    struct fake f = {h};
    struct s3_sig_request r = request(&f, "GET", "/test.txt", "", T20130524);
    struct s3_sig sig;
    struct s3_sig_seed seed;
    struct s3_sig_error err;
    char *cr, *sts;

    (void)state;
    expect_valid(&r, SECRET, &sig, &seed);
    assert_int_equal(sig.kind, S3_SIG_V4_HEADER);
    assert_string_equal(sig.access_key, AKID);
    assert_string_equal(sig.amz_date, "20130524T000000Z");
    assert_string_equal(sig.scope, "20130524/us-east-1/s3/aws4_request");
    assert_string_equal(sig.signed_headers,
                        "host;range;x-amz-content-sha256;x-amz-date");
    assert_int_equal(sig.payload, S3_PAYLOAD_SIGNED);
    assert_string_equal(sig.payload_sha256, EMPTY_SHA);
    assert_int_equal(sig.date, T20130524);
    assert_int_equal(sig.decoded_length, -1);
    assert_string_equal(seed.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd4"
                                        "4f0170aba48dd91039c6036bdb41");

    assert_int_equal(s3_sig_canonical(&sig, &r, &cr, &sts, &err), 0);
    assert_string_equal(
        cr, "GET\n/test.txt\n\n"
            "host:examplebucket.s3.amazonaws.com\n"
            "range:bytes=0-9\n"
            "x-amz-content-sha256:" EMPTY_SHA "\n"
            "x-amz-date:20130524T000000Z\n\n"
            "host;range;x-amz-content-sha256;x-amz-date\n" EMPTY_SHA);
    assert_string_equal(sts, "AWS4-HMAC-SHA256\n20130524T000000Z\n"
                             "20130524/us-east-1/s3/aws4_request\n"
                             "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c4"
                             "8bbb2dc43964946972");
    free(cr);
    free(sts);

    /* anything else is a mismatch: the secret, a signed value, the path */
    expect_mismatch(&r, SECRET "x");
    h[3] = "bytes=0-8";
    expect_mismatch(&r, SECRET);
    h[3] = "bytes=0-9";
    r.raw_path = "/test.txT";
    expect_mismatch(&r, SECRET);
    r.raw_path = "/test.txt";
    r.method = "HEAD";
    expect_mismatch(&r, SECRET);
}

static void test_v4_signature_bit_flips(void **state)
{
    char auth[sizeof(GET_OBJECT_AUTH)];
    const char *h[] = {"Host",
                       "examplebucket.s3.amazonaws.com",
                       "Range",
                       "bytes=0-9",
                       "x-amz-content-sha256",
                       EMPTY_SHA,
                       "x-amz-date",
                       "20130524T000000Z",
                       "Authorization",
                       auth,
                       NULL};
    struct fake f = {h};
    struct s3_sig_request r = request(&f, "GET", "/test.txt", "", T20130524);
    size_t at = strlen(GET_OBJECT_AUTH) - 64, i;

    (void)state;
    for (i = at; i < at + 64; i++) {
        memcpy(auth, GET_OBJECT_AUTH, sizeof(auth));
        auth[i] ^= 1;
        expect_mismatch(&r, SECRET);
    }
    /* upper case hex, short, long: still just a mismatch */
    memcpy(auth, GET_OBJECT_AUTH, sizeof(auth));
    auth[at] = 'F';
    expect_mismatch(&r, SECRET);
    auth[sizeof(auth) - 2] = '\0';
    expect_mismatch(&r, SECRET);
}

static void test_v4_put_object(void **state)
{
    const char *h[] = {
        "Host",
        "examplebucket.s3.amazonaws.com",
        "Date",
        "Fri, 24 May 2013 00:00:00 GMT",
        "Authorization",
        "AWS4-HMAC-SHA256 " CRED
        ",SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-"
        "storage-class,Signature=98ad721746da40c64f1a55b78f14c238d841ea1380"
        "cd77a1b5971af0ece108bd",
        "x-amz-date",
        "20130524T000000Z",
        "x-amz-storage-class",
        "REDUCED_REDUNDANCY",
        "x-amz-content-sha256",
        "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
        NULL};
    struct fake f = {h};
    struct s3_sig_request r =
        request(&f, "PUT", "/test%24file.text", "", T20130524 + 60);
    struct s3_sig sig;
    struct s3_sig_payload *p;
    struct s3_sig_error err;

    (void)state;
    expect_valid(&r, SECRET, &sig, NULL);
    assert_int_equal(sig.payload, S3_PAYLOAD_SIGNED);

    /* the body's hash, whole and in pieces, then a wrong body */
    assert_int_equal(s3_sig_payload_new(sig.payload_sha256, &p), 0);
    s3_sig_payload_update(p, "Welcome to ", 11);
    s3_sig_payload_update(p, "Amazon S3.", 10);
    assert_int_equal(s3_sig_payload_finish(p, &err), 0);
    s3_sig_payload_free(p);
    assert_int_equal(s3_sig_payload_new(sig.payload_sha256, &p), 0);
    s3_sig_payload_update(p, "Welcome to Amazon S3!", 21);
    assert_int_equal(s3_sig_payload_finish(p, &err), -EINVAL);
    assert_string_equal(err.code, "XAmzContentSHA256Mismatch");
    assert_int_equal(err.status, 400);
    s3_sig_payload_free(p);
    s3_sig_payload_free(NULL);

    /* the path as sent: decoded, it is another request */
    r.raw_path = "/test$file.text";
    expect_mismatch(&r, SECRET);
}

static void test_v4_bucket_lifecycle_and_list(void **state)
{
    const char *h[] = {"Host",
                       "examplebucket.s3.amazonaws.com",
                       "x-amz-date",
                       "20130524T000000Z",
                       "x-amz-content-sha256",
                       EMPTY_SHA,
                       "Authorization",
                       "AWS4-HMAC-SHA256 " CRED
                       ",SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
                       "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f"
                       "91ac7a200a0136783543",
                       NULL};
    struct fake f = {h};
    struct s3_sig_request r = request(&f, "GET", "/", "lifecycle", T20130524);
    struct s3_sig sig;

    (void)state;
    expect_valid(&r, SECRET, &sig, NULL);
    r.raw_query = "lifecycle=";
    expect_valid(&r, SECRET, &sig, NULL);
    r.raw_query = "lifecycle=x";
    expect_mismatch(&r, SECRET);

    h[7] = "AWS4-HMAC-SHA256 " CRED
           ",SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
           "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed571"
           "1ef69dc6f7";
    r.raw_query = "max-keys=2&prefix=J";
    expect_valid(&r, SECRET, &sig, NULL);
    /* the order sent does not matter, the values do */
    r.raw_query = "prefix=J&max-keys=2";
    expect_valid(&r, SECRET, &sig, NULL);
    r.raw_query = "prefix=%4A&max-keys=2&";
    expect_valid(&r, SECRET, &sig, NULL);
    r.raw_query = "max-keys=3&prefix=J";
    expect_mismatch(&r, SECRET);
    /* an empty path is "/" */
    r.raw_query = "max-keys=2&prefix=J";
    r.raw_path = "";
    expect_valid(&r, SECRET, &sig, NULL);
}

#define PRESIGNED_QUERY                                                        \
    "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" AKID                  \
    "%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z"  \
    "&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature="           \
    "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"

static void test_v4_presigned(void **state)
{
    const char *h[] = {"Host", "examplebucket.s3.amazonaws.com", NULL};
    struct fake f = {h};
    struct s3_sig_request r =
        request(&f, "GET", "/test.txt", PRESIGNED_QUERY, T20130524 + 3600);
    struct s3_sig sig;
    char q[sizeof(PRESIGNED_QUERY)];
    size_t i;

    (void)state;
    expect_valid(&r, SECRET, &sig, NULL);
    assert_int_equal(sig.kind, S3_SIG_V4_QUERY);
    assert_int_equal(sig.expires, 86400);
    assert_int_equal(sig.payload, S3_PAYLOAD_NONE);
    assert_string_equal(sig.access_key, AKID);

    /* valid to the last second, then expired */
    r.now = T20130524 + 86400;
    expect_valid(&r, SECRET, &sig, NULL);
    r.now = T20130524 + 86401;
    expect_parse_error(&r, "AccessDenied", 403, "Request has expired");
    /* not valid long before its date */
    r.now = T20130524 - 901;
    expect_parse_error(&r, "AccessDenied", 403, "Request is not valid yet");

    r.now = T20130524;
    for (i = strlen(PRESIGNED_QUERY) - 64; i < strlen(PRESIGNED_QUERY); i++) {
        memcpy(q, PRESIGNED_QUERY, sizeof(q));
        q[i] ^= 2;
        r.raw_query = q;
        expect_mismatch(&r, SECRET);
    }
    /* another parameter is signed too */
    r.raw_query = PRESIGNED_QUERY "&x=y";
    expect_mismatch(&r, SECRET);
    r.raw_query = "a=b&" PRESIGNED_QUERY;
    expect_mismatch(&r, SECRET);
}

static void test_v4_presigned_errors(void **state)
{
    const char *h[] = {"Host", "examplebucket.s3.amazonaws.com", NULL};
    struct fake f = {h};
    struct s3_sig_request r = request(&f, "GET", "/test.txt", "", T20130524);
    const char *base = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" AKID
                       "%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date="
                       "20130524T000000Z&X-Amz-SignedHeaders=host&X-Amz-"
                       "Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c"
                       "265957d157751f604d404";
    char q[1024];

    (void)state;
    r.raw_query = q;
    snprintf(q, sizeof(q), "%s&X-Amz-Expires=604801", base);
    expect_parse_error(&r, "AuthorizationQueryParametersError", 400,
                       "X-Amz-Expires must be less than a week (in "
                       "seconds); that is, the given X-Amz-Expires must be "
                       "less than 604800 seconds");
    snprintf(q, sizeof(q), "%s&X-Amz-Expires=-1", base);
    expect_parse_error(&r, "AuthorizationQueryParametersError", 400,
                       "X-Amz-Expires must be non-negative");
    snprintf(q, sizeof(q), "%s&X-Amz-Expires=1e3", base);
    expect_parse_error(&r, "AuthorizationQueryParametersError", 400,
                       "X-Amz-Expires should be a number");
    snprintf(q, sizeof(q), "%s&X-Amz-Expires=99999999999999999999999", base);
    expect_parse_error(&r, "AuthorizationQueryParametersError", 400,
                       "X-Amz-Expires should be a number");
    snprintf(q, sizeof(q), "%s", base);
    expect_parse_error(&r, "AuthorizationQueryParametersError", 400, NULL);
    snprintf(q, sizeof(q), "%s&X-Amz-Expires=60&X-Amz-Expires=60", base);
    expect_parse_error(&r, "AuthorizationQueryParametersError", 400, NULL);
    snprintf(q, sizeof(q), "%s&X-Amz-Expires=60&X-Amz-Date=20130524T000000Z",
             base);
    expect_parse_error(&r, "AuthorizationQueryParametersError", 400, NULL);

    /* the scope */
    snprintf(q, sizeof(q),
             "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" AKID
             "/20130524/eu-west-1/s3/aws4_request&X-Amz-Date=20130524T000000Z"
             "&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00");
    expect_parse_error(&r, "AuthorizationQueryParametersError", 400,
                       "Error parsing the X-Amz-Credential parameter; the "
                       "region 'eu-west-1' is wrong; expecting 'us-east-1'");
    snprintf(q, sizeof(q),
             "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" AKID
             "/20130524/us-east-1/ec2/aws4_request&X-Amz-Date=20130524T000000Z"
             "&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00");
    expect_parse_error(&r, "AuthorizationQueryParametersError", 400,
                       "Error parsing the X-Amz-Credential parameter; "
                       "incorrect service \"ec2\". This endpoint belongs to "
                       "\"s3\".");
    snprintf(q, sizeof(q),
             "X-Amz-Algorithm=AWS4-HMAC-SHA1&X-Amz-Credential=" AKID
             "/20130524/us-east-1/s3/aws4_request&X-Amz-Date=20130524T000000Z"
             "&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00");
    expect_parse_error(&r, "InvalidArgument", 400, "Invalid Argument.");
    snprintf(q, sizeof(q),
             "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" AKID
             "/20130524/us-east-1/s3/aws4_request&X-Amz-Date=20130524T000000"
             "&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00");
    expect_parse_error(&r, "AccessDenied", 403,
                       "AWS authentication requires a valid Date or "
                       "x-amz-date header");
    /* an unsigned x-amz-meta-* with a presigned URL */
    snprintf(q, sizeof(q), "%s&X-Amz-Expires=60", base);
    h[2] = NULL;
    {
        const char *h2[] = {"Host", "examplebucket.s3.amazonaws.com",
                            "X-Amz-Meta-Color", "red", NULL};
        struct fake f2 = {h2};

        r.arg = &f2;
        expect_parse_error(&r, "AccessDenied", 403,
                           "There were headers present in the request which "
                           "were not signed");
        r.arg = &f;
    }
    /* both a query and a header */
    {
        const char *h3[] = {"Authorization", "AWS a:b", NULL};
        struct fake f3 = {h3};

        r.arg = &f3;
        expect_parse_error(&r, "InvalidArgument", 400, NULL);
        r.arg = &f;
    }
}

/* The example's headers with 'auth' as Authorization and the scope check
 * at 'now'. */
static void expect_header_error(const char *auth, const char *code,
                                const char *message)
{
    const char *h[] = {"Host",
                       "examplebucket.s3.amazonaws.com",
                       "x-amz-content-sha256",
                       EMPTY_SHA,
                       "x-amz-date",
                       "20130524T000000Z",
                       "Authorization",
                       auth,
                       NULL};
    struct fake f = {h};
    struct s3_sig_request r = request(&f, "GET", "/test.txt", "", T20130524);

    expect_parse_error(&r, code, code[0] == 'A' && code[1] == 'c' ? 403 : 400,
                       message);
}

static void test_v4_header_errors(void **state)
{
    static const char malformed[] =
        "The authorization header is malformed; the authorization header "
        "requires three components: Credential, SignedHeaders, and "
        "Signature.";
    char big[8192];

    (void)state;
    expect_header_error("AWS4-HMAC-SHA256 " CRED ",SignedHeaders=host",
                        "AuthorizationHeaderMalformed", malformed);
    expect_header_error("AWS4-HMAC-SHA256 " CRED ",Signature=00",
                        "AuthorizationHeaderMalformed", malformed);
    expect_header_error("AWS4-HMAC-SHA256 SignedHeaders=host,Signature=00",
                        "AuthorizationHeaderMalformed", malformed);
    expect_header_error("AWS4-HMAC-SHA256 " CRED
                        ",SignedHeaders=host,Signature=00,Signature=00",
                        "AuthorizationHeaderMalformed", malformed);
    expect_header_error("AWS4-HMAC-SHA256 " CRED
                        ",SignedHeaders=host,Signature",
                        "AuthorizationHeaderMalformed", malformed);
    expect_header_error("AWS4-HMAC-SHA256 " CRED
                        ",SignedHeaders=host,Signature=",
                        "AuthorizationHeaderMalformed", malformed);
    expect_header_error("AWS4-HMAC-SHA256 " CRED
                        ",SignedHeaders=host;;range,Signature=00",
                        "AuthorizationHeaderMalformed", malformed);
    expect_header_error("AWS4-HMAC-SHA256 " CRED
                        ",SignedHeaders=host,Signature=00,Extra=1",
                        "AuthorizationHeaderMalformed", malformed);
    expect_header_error("AWS4-HMAC-SHA256 ", "AuthorizationHeaderMalformed",
                        malformed);
    expect_header_error(
        "AWS4-HMAC-SHA256 Credential=" AKID
        "/20130524/us-east-1/s3,SignedHeaders=host,Signature=00",
        "AuthorizationHeaderMalformed",
        "The authorization header is malformed; the Credential is "
        "mal-formed; expecting "
        "\"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".");
    expect_header_error(
        "AWS4-HMAC-SHA256 Credential=/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=host,Signature=00",
        "AuthorizationHeaderMalformed", NULL);
    expect_header_error("AWS4-HMAC-SHA256 Credential=" AKID
                        "/20130524/us-west-2/s3/aws4_request,"
                        "SignedHeaders=host,Signature=00",
                        "AuthorizationHeaderMalformed",
                        "The authorization header is malformed; the region "
                        "'us-west-2' is wrong; expecting 'us-east-1'");
    expect_header_error("AWS4-HMAC-SHA256 Credential=" AKID
                        "/20130525/us-east-1/s3/aws4_request,"
                        "SignedHeaders=host,Signature=00",
                        "AuthorizationHeaderMalformed",
                        "Invalid credential date \"20130525\". This date is "
                        "not the same as X-Amz-Date: \"20130524\".");
    expect_header_error("AWS4-HMAC-SHA256 Credential=" AKID
                        "/20130524/us-east-1/sqs/aws4_request,"
                        "SignedHeaders=host,Signature=00",
                        "AuthorizationHeaderMalformed",
                        "The authorization header is malformed; incorrect "
                        "service \"sqs\". This endpoint belongs to \"s3\".");
    expect_header_error("AWS4-HMAC-SHA256 Credential=" AKID
                        "/20130524/us-east-1/s3/aws5_request,"
                        "SignedHeaders=host,Signature=00",
                        "AuthorizationHeaderMalformed",
                        "The authorization header is malformed; incorrect "
                        "terminal \"aws5_request\". This endpoint uses "
                        "\"aws4_request\".");
    expect_header_error("AWS4-HMAC-SHA512 x", "AccessDenied", "Access Denied.");
    expect_header_error("Bearer abc", "AccessDenied", "Access Denied.");
    expect_header_error("AWS nocolon", "AccessDenied", "Access Denied.");

    /* over-long fields */
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    memcpy(big, "AWS4-HMAC-SHA256 Credential=", 28);
    expect_header_error(big, "AuthorizationHeaderMalformed", NULL);
    memcpy(big, "AWS4-HMAC-SHA256 " CRED ",Signature=00,SignedHeaders=",
           strlen("AWS4-HMAC-SHA256 " CRED ",Signature=00,SignedHeaders="));
    expect_header_error(big, "AuthorizationHeaderMalformed", malformed);
    memcpy(big, "AWS ", 4);
    expect_header_error(big, "AccessDenied", NULL);
}

static void test_v4_dates_and_skew(void **state)
{
    const char *h[] = {"Host",
                       "examplebucket.s3.amazonaws.com",
                       "Range",
                       "bytes=0-9",
                       "x-amz-content-sha256",
                       EMPTY_SHA,
                       "x-amz-date",
                       "20130524T000000Z",
                       "Authorization",
                       GET_OBJECT_AUTH,
                       NULL};
    static const char *const bad_dates[] = {
        "20130524T000000",  "20130524T000000ZZ",
        "2013052aT000000Z", "20130230T000000Z",
        "20131324T000000Z", "20130524T250000Z",
        "20130524X000000Z", ""};
    struct fake f = {h};
    struct s3_sig_request r = request(&f, "GET", "/test.txt", "", T20130524);
    struct s3_sig sig;
    size_t i;

    (void)state;
    r.now = T20130524 + 900;
    expect_valid(&r, SECRET, &sig, NULL);
    r.now = T20130524 - 900;
    expect_valid(&r, SECRET, &sig, NULL);
    r.now = T20130524 + 901;
    expect_parse_error(&r, "RequestTimeTooSkewed", 403,
                       "The difference between the request time and the "
                       "current time is too large.");
    r.now = T20130524 - 901;
    expect_parse_error(&r, "RequestTimeTooSkewed", 403, NULL);

    r.now = T20130524;
    for (i = 0; i < sizeof(bad_dates) / sizeof(bad_dates[0]); i++) {
        h[7] = bad_dates[i];
        if (!*bad_dates[i]) /* empty: no date at all */
            h[6] = "x-ignored";
        expect_parse_error(&r, "AccessDenied", 403,
                           "AWS authentication requires a valid Date or "
                           "x-amz-date header");
    }
}

static void test_v4_content_sha256(void **state)
{
    const char *h[] = {"Host",
                       "examplebucket.s3.amazonaws.com",
                       "x-amz-date",
                       "20130524T000000Z",
                       "Authorization",
                       "AWS4-HMAC-SHA256 " CRED
                       ",SignedHeaders=host;x-amz-date,Signature=00",
                       "x-amz-content-sha256",
                       NULL,
                       "x-amz-decoded-content-length",
                       NULL,
                       NULL};
    struct fake f = {h};
    struct s3_sig_request r = request(&f, "PUT", "/o", "", T20130524);
    struct s3_sig sig;
    struct s3_sig_error err;

    (void)state;
    h[6] = NULL; /* no x-amz-content-sha256 */
    expect_parse_error(&r, "InvalidRequest", 400,
                       "Missing required header for this request: "
                       "x-amz-content-sha256");
    h[6] = "x-amz-content-sha256";
    h[7] = "UNSIGNED-PAYLOAD";
    h[8] = NULL;
    assert_int_equal(s3_sig_parse(&conf, &r, &sig, &err), 1);
    assert_int_equal(sig.payload, S3_PAYLOAD_UNSIGNED);
    h[7] = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
    assert_int_equal(s3_sig_parse(&conf, &r, &sig, &err), 1);
    assert_int_equal(sig.payload, S3_PAYLOAD_SIGNED);
    assert_string_equal(sig.payload_sha256, EMPTY_SHA);
    h[7] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85";
    expect_parse_error(&r, "InvalidArgument", 400, NULL);
    h[7] = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
    expect_parse_error(&r, "NotImplemented", 501, NULL);
    h[7] = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
    expect_parse_error(&r, "MissingContentLength", 411, NULL);
    h[8] = "x-amz-decoded-content-length";
    h[9] = "12x";
    expect_parse_error(&r, "MissingContentLength", 411, NULL);
    h[9] = "-5";
    expect_parse_error(&r, "InvalidArgument", 400, NULL);
    h[9] = "66560";
    assert_int_equal(s3_sig_parse(&conf, &r, &sig, &err), 1);
    assert_int_equal(sig.payload, S3_PAYLOAD_STREAMING);
    assert_int_equal(sig.decoded_length, 66560);
}

static void test_v4_chunked_seed(void **state)
{
    const char *h[] = {
        "Host",
        "s3.amazonaws.com",
        "x-amz-date",
        "20130524T000000Z",
        "x-amz-storage-class",
        "REDUCED_REDUNDANCY",
        "Authorization",
        "AWS4-HMAC-SHA256 " CRED
        ",SignedHeaders=content-encoding;content-length;host;x-amz-content-"
        "sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,"
        "Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa"
        "80a0a9",
        "x-amz-content-sha256",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "Content-Encoding",
        "aws-chunked",
        "x-amz-decoded-content-length",
        "66560",
        "Content-Length",
        "66824",
        NULL};
    struct fake f = {h};
    struct s3_sig_request r =
        request(&f, "PUT", "/examplebucket/chunkObject.txt", "", T20130524);
    struct s3_sig sig;
    struct s3_sig_seed seed;
    static const unsigned char zero[32];

    (void)state;
    expect_valid(&r, SECRET, &sig, &seed);
    assert_int_equal(sig.payload, S3_PAYLOAD_STREAMING);
    assert_int_equal(sig.decoded_length, 66560);
    assert_string_equal(seed.signature, "4f232c4386841ef735655705268965c44a0e"
                                        "4690baa4adea153f7db9fa80a0a9");
    assert_string_equal(seed.amz_date, "20130524T000000Z");
    assert_string_equal(seed.scope, "20130524/us-east-1/s3/aws4_request");
    assert_memory_not_equal(seed.key, zero, sizeof(zero));
    /* a missing signed header is a mismatch */
    h[14] = NULL;
    expect_mismatch(&r, SECRET);
}

/* Header values: trimmed, blanks collapsed, repeats joined; the query
 * decoded and re-encoded. Signature computed with botocore's SigV4Auth. */
static void test_v4_canonical_forms(void **state)
{
    const char *h[] = {"Host",
                       "bucket.example.com",
                       "X-Amz-Meta-A",
                       "  one   two\t three  ",
                       "x-amz-meta-a",
                       "four",
                       "x-amz-date",
                       "20130524T000000Z",
                       "x-amz-content-sha256",
                       "UNSIGNED-PAYLOAD",
                       "Authorization",
                       NULL,
                       NULL};
    struct fake f = {h};
    struct s3_sig_request r =
        request(&f, "GET", "/a%20b/c~d", "b=2&a=%7e+x%2fy&a=1&empty&c=%zz&d=é",
                T20130524);
    struct s3_sig sig;
    struct s3_sig_error err;
    char *cr, *sts;

    (void)state;
    h[11] = "AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host;x-amz-content-"
            "sha256;x-amz-date;x-amz-meta-a, Signature=0";
    assert_int_equal(s3_sig_parse(&conf, &r, &sig, &err), 1);
    assert_int_equal(s3_sig_canonical(&sig, &r, &cr, &sts, &err), 0);
    assert_string_equal(cr, "GET\n/a%20b/c~d\n"
                            "a=1&a=~%20x%2Fy&b=2&c=%25zz&d=%C3%A9&empty=\n"
                            "host:bucket.example.com\n"
                            "x-amz-content-sha256:UNSIGNED-PAYLOAD\n"
                            "x-amz-date:20130524T000000Z\n"
                            "x-amz-meta-a:one two three,four\n\n"
                            "host;x-amz-content-sha256;x-amz-date;x-amz-meta-"
                            "a\nUNSIGNED-PAYLOAD");
    free(cr);
    free(sts);
}

/* Vectors made with botocore 1.29 (S3SigV4Auth, S3SigV4QueryAuth) for
 * an account:user key: blanks in a header value, a repeated parameter,
 * UTF-8 in the path and the query, a Host with a port. */
#define T20261204 1796422337 /* 20261204T221217Z */
#define BOTO_CRED "test:tester/20261204/us-east-1/s3/aws4_request"

static void test_v4_botocore_vectors(void **state)
{
    const char *h[] = {
        "Host",
        "bucket.example.com",
        "X-Amz-Meta-A",
        "  one   two\t three  ",
        "Content-Type",
        "text/plain",
        "X-Amz-Date",
        "20261204T221217Z",
        "X-Amz-Content-SHA256",
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
        "Authorization",
        "AWS4-HMAC-SHA256 Credential=" BOTO_CRED ", SignedHeaders=content-"
        "type;host;x-amz-content-sha256;x-amz-date;x-amz-meta-a, Signature="
        "22b79e6572be7f3c8cede006e7dac934d526c40510601086bb36c11c9a489c07",
        NULL};
    const char *hq[] = {"Host", "127.0.0.1:8080", NULL};
    struct fake f = {h}, fq = {hq};
    struct s3_sig_request r =
        request(&f, "PUT", "/a%20b/c~d",
                "b=2&a=~%20x%2Fy&a=1&empty=&d=%C3%A9&list-type=2", T20261204);
    struct s3_sig sig;

    (void)state;
    expect_valid(&r, "testing", &sig, NULL);
    assert_string_equal(sig.access_key, "test:tester");
    expect_mismatch(&r, "testinG");
    h[3] = "one two three";
    expect_valid(&r, "testing", &sig, NULL);
    h[3] = "one two  three4";
    expect_mismatch(&r, "testing");

    r = request(&fq, "PUT", "/bucket/k%C3%A9y",
                "partNumber=1&uploadId=abc&X-Amz-Algorithm=AWS4-HMAC-SHA256&"
                "X-Amz-Credential=test%3Atester%2F20261204%2Fus-east-1%2Fs3%2F"
                "aws4_request&X-Amz-Date=20261204T221217Z&X-Amz-Expires=3600&"
                "X-Amz-SignedHeaders=host&X-Amz-Signature=959397dcaa08884c5878"
                "a6c9a1f0611860a8c8e0af05148843e527bdc276a856",
                T20261204 + 3600);
    expect_valid(&r, "testing", &sig, NULL);
    assert_int_equal(sig.kind, S3_SIG_V4_QUERY);
    r.raw_path = "/bucket/k%c3%a9y"; /* the path is signed as sent */
    expect_mismatch(&r, "testing");
}

/* ---- SigV2, AWS's examples (johnsmith) ---- */

static void test_v2_header_examples(void **state)
{
    const char *h[] = {"Host",
                       "johnsmith.s3.amazonaws.com",
                       "Date",
                       "Tue, 27 Mar 2007 19:36:42 +0000",
                       "Authorization",
                       "AWS " AKID ":bWq2s1WEIj+Ydj0vQ697zp+IXMU=",
                       NULL};
    struct fake f = {h};
    struct s3_sig_request r =
        request(&f, "GET", "/photos/puppy.jpg", "", 1175024202);
    struct s3_sig sig;
    struct s3_sig_error err;
    char *cr, *sts;

    (void)state;
    r.bucket_in_host = "johnsmith";
    expect_valid(&r, SECRET, &sig, NULL);
    assert_int_equal(sig.kind, S3_SIG_V2_HEADER);
    assert_string_equal(sig.access_key, AKID);
    assert_int_equal(s3_sig_canonical(&sig, &r, &cr, &sts, &err), 0);
    assert_null(cr);
    assert_string_equal(sts, "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n"
                             "/johnsmith/photos/puppy.jpg");
    free(sts);
    expect_mismatch(&r, SECRET "x");
    /* path style: the same resource */
    r.bucket_in_host = NULL;
    r.raw_path = "/johnsmith/photos/puppy.jpg";
    expect_valid(&r, SECRET, &sig, NULL);

    /* the list: only sub-resources are signed */
    h[3] = "Tue, 27 Mar 2007 19:42:41 +0000";
    h[5] = "AWS " AKID ":htDYFYduRNen8P9ZfE/s9SuKy0U=";
    r.now = 1175024561;
    r.bucket_in_host = "johnsmith";
    r.raw_path = "/";
    r.raw_query = "prefix=photos&max-keys=50&marker=puppy";
    expect_valid(&r, SECRET, &sig, NULL);
    h[3] = "Tue, 27 Mar 2007 19:44:46 +0000";
    h[5] = "AWS " AKID ":c2WLPFtWHVgbEmeEG93a4cG37dM=";
    r.now = 1175024686;
    r.raw_query = "acl";
    expect_valid(&r, SECRET, &sig, NULL);
    r.raw_query = "acl&x=1";
    expect_valid(&r, SECRET, &sig, NULL);
    r.raw_query = "acl=1";
    expect_mismatch(&r, SECRET);

    /* a key that holds ':' (account:user) */
    h[5] = "AWS test:tester:c2WLPFtWHVgbEmeEG93a4cG37dM=";
    assert_int_equal(s3_sig_parse(&conf, &r, &sig, &err), 1);
    assert_string_equal(sig.access_key, "test:tester");
}

static void test_v2_amz_headers(void **state)
{
    const char *h[] = {"Host",
                       "static.johnsmith.net:8080",
                       "Date",
                       "Tue, 27 Mar 2007 21:06:08 +0000",
                       "x-amz-acl",
                       "public-read",
                       "content-type",
                       "application/x-download",
                       "Content-MD5",
                       "4gJE4saaMU4BqNR0kLY+lw==",
                       "X-Amz-Meta-ReviewedBy",
                       "joe@johnsmith.net",
                       "X-Amz-Meta-ReviewedBy",
                       "jane@johnsmith.net",
                       "X-Amz-Meta-FileChecksum",
                       "0x02661779",
                       "X-Amz-Meta-ChecksumAlgorithm",
                       "crc32",
                       "Content-Disposition",
                       "attachment; filename=database.dat",
                       "Authorization",
                       "AWS " AKID ":ilyl83RwaSoYIEdixDQcA4OnAnc=",
                       NULL};
    const char *d[] = {"Date",
                       "Tue, 27 Mar 2007 21:20:27 +0000",
                       "x-amz-date",
                       "Tue, 27 Mar 2007 21:20:26 +0000",
                       "Authorization",
                       "AWS " AKID ":R4dJ53KECjStyBO5iTBJZ4XVOaI=",
                       NULL};
    struct fake f = {h}, fd = {d};
    struct s3_sig_request r =
        request(&f, "PUT", "/db-backup.dat.gz", "", 1175029568);
    struct s3_sig sig;

    (void)state;
    r.bucket_in_host = "static.johnsmith.net";
    expect_valid(&r, SECRET, &sig, NULL);
    h[13] = "jane@johnsmith.net ";
    expect_valid(&r, SECRET, &sig, NULL);
    h[13] = "jane@johnsmith.org";
    expect_mismatch(&r, SECRET);

    /* with x-amz-date the Date line is empty (Swift, botocore) */
    r = request(&fd, "DELETE", "/johnsmith/photos/puppy.jpg", "", 1175030426);
    expect_valid(&r, SECRET, &sig, NULL);
}

static void test_v2_query(void **state)
{
    const char *h[] = {"Host", "johnsmith.s3.amazonaws.com", NULL};
    struct fake f = {h};
    struct s3_sig_request r =
        request(&f, "GET", "/photos/puppy.jpg",
                "AWSAccessKeyId=" AKID "&Expires=1175139620&Signature="
                "NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D",
                1175139620);
    struct s3_sig sig;

    (void)state;
    r.bucket_in_host = "johnsmith";
    expect_valid(&r, SECRET, &sig, NULL);
    assert_int_equal(sig.kind, S3_SIG_V2_QUERY);
    assert_int_equal(sig.expires, 1175139620);
    r.now = 1175139621;
    expect_parse_error(&r, "AccessDenied", 403, "Request has expired");
    r.now = 1175139620;
    r.raw_query = "AWSAccessKeyId=" AKID "&Expires=1175139620&Signature="
                  "NpgCjnDzrM%2BWFzoENXmpNDUsSn9%3D";
    expect_mismatch(&r, SECRET);
    r.raw_query = "AWSAccessKeyId=" AKID "&Expires=1175139621&Signature="
                  "NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D";
    expect_mismatch(&r, SECRET);
    r.raw_query = "AWSAccessKeyId=" AKID "&Signature=x";
    expect_parse_error(&r, "AccessDenied", 403, "Access Denied.");
    r.raw_query = "AWSAccessKeyId=" AKID "&Expires=abc&Signature=x";
    expect_parse_error(&r, "AccessDenied", 403, "Access Denied.");
    r.raw_query = "AWSAccessKeyId=" AKID "&Expires=4294967296&Signature=x";
    expect_parse_error(&r, "AccessDenied", 403,
                       "Invalid date (should be seconds since epoch): "
                       "4294967296");
    r.raw_query = "AWSAccessKeyId=&Expires=1175139620&Signature=x";
    expect_parse_error(&r, "AccessDenied", 403, "Access Denied.");
}

static void test_v2_dates(void **state)
{
    const char *h[] = {"Date", "Tue, 27 Mar 2007 19:36:42 GMT", "Authorization",
                       "AWS a:b", NULL};
    struct fake f = {h};
    struct s3_sig_request r = request(&f, "GET", "/", "", 1175024202);
    struct s3_sig sig;
    struct s3_sig_error err;

    (void)state;
    assert_int_equal(s3_sig_parse(&conf, &r, &sig, &err), 1);
    assert_int_equal(sig.date, 1175024202);
    h[1] = "Tue, 27 Mar 2007 21:36:42 +0200";
    assert_int_equal(s3_sig_parse(&conf, &r, &sig, &err), 1);
    assert_int_equal(sig.date, 1175024202);
    r.now += 901;
    expect_parse_error(&r, "RequestTimeTooSkewed", 403, NULL);
    h[1] = "yesterday";
    expect_parse_error(&r, "AccessDenied", 403,
                       "AWS authentication requires a valid Date or "
                       "x-amz-date header");
    h[0] = "X-Other";
    expect_parse_error(&r, "AccessDenied", 403,
                       "AWS authentication requires a valid Date or "
                       "x-amz-date header");
}

static void test_not_s3(void **state)
{
    const char *h[] = {"Host", "h", "X-Auth-Token", "AUTH_tk", NULL};
    struct fake f = {h};
    struct s3_sig_request r =
        request(&f, "GET", "/v1/AUTH_test", "format=json&X-Amz-Date=1", 0);
    struct s3_sig sig;
    struct s3_sig_error err;

    (void)state;
    assert_int_equal(s3_sig_parse(&conf, &r, &sig, &err), 0);
    assert_int_equal(sig.kind, S3_SIG_NONE);
}

/* Garbled queries and headers: errors, never a crash (ASan watches). */
static void test_hostile_queries(void **state)
{
    static const char *const queries[] = {
        "X-Amz-Credential",
        "X-Amz-Credential=&&&&",
        "X-Amz-Credential=%",
        "X-Amz-Credential=%4",
        "X-Amz-Credential=%00",
        "X-Amz-Cred%65ntial=a/b/c/d/e",
        "%58-Amz-Credential=x&X-Amz-Credential=y",
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a%2F20130524%2Fus-"
        "east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-"
        "Expires=1&X-Amz-SignedHeaders=&X-Amz-Signature=x",
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a/20130524/us-"
        "east-1/s3/aws4_request/x&X-Amz-Date=20130524T000000Z&X-Amz-"
        "Expires=1&X-Amz-SignedHeaders=host&X-Amz-Signature=x",
        "AWSAccessKeyId",
        "AWSAccessKeyId=a&Expires=1.&Signature=b",
        "AWSAccessKeyId=a&Expires=-1&Signature=b",
        "AWSAccessKeyId=a&AWSAccessKeyId=b&Expires=1&Signature=b",
    };
    const char *h[] = {"Host", "h", NULL};
    struct fake f = {h};
    struct s3_sig_request r = request(&f, "GET", "/", "", T20130524);
    struct s3_sig sig;
    struct s3_sig_error err;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
        r.raw_query = queries[i];
        if (s3_sig_parse(&conf, &r, &sig, &err) != -EINVAL)
            fail_msg("query '%s' parsed", queries[i]);
        assert_non_null(err.code);
        assert_int_equal(sig.kind == S3_SIG_NONE, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v4_get_object),
        cmocka_unit_test(test_v4_signature_bit_flips),
        cmocka_unit_test(test_v4_put_object),
        cmocka_unit_test(test_v4_bucket_lifecycle_and_list),
        cmocka_unit_test(test_v4_presigned),
        cmocka_unit_test(test_v4_presigned_errors),
        cmocka_unit_test(test_v4_header_errors),
        cmocka_unit_test(test_v4_dates_and_skew),
        cmocka_unit_test(test_v4_content_sha256),
        cmocka_unit_test(test_v4_chunked_seed),
        cmocka_unit_test(test_v4_canonical_forms),
        cmocka_unit_test(test_v4_botocore_vectors),
        cmocka_unit_test(test_v2_header_examples),
        cmocka_unit_test(test_v2_amz_headers),
        cmocka_unit_test(test_v2_query),
        cmocka_unit_test(test_v2_dates),
        cmocka_unit_test(test_not_s3),
        cmocka_unit_test(test_hostile_queries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
