/* Description: the aws-chunked decoder (proxy/s3_chunked.c) on AWS's
 * documented upload (seed 4f232c43..., 64 KiB + 1 KiB chunks) fed whole,
 * byte by byte and in odd pieces; tampered signatures and data, bodies cut
 * short, bad framing, trailing garbage, wrong decoded lengths, short
 * chunks before the last. */
#include "proxy/s3_chunked.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define SIG1 "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
#define SIG2 "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
#define SIG3 "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"
#define DECODED 66560
#define ENCODED 66824

/* ---- the seed, from the example's request through s3_sig ---- */

static const char *const example_headers[] = {
    "Host",
    "s3.amazonaws.com",
    "x-amz-date",
    "20130524T000000Z",
    "x-amz-storage-class",
    "REDUCED_REDUNDANCY",
    "Authorization",
    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
    "aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-"
    "content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-"
    "class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7d"
    "b9fa80a0a9",
    "x-amz-content-sha256",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "Content-Encoding",
    "aws-chunked",
    "x-amz-decoded-content-length",
    "66560",
    "Content-Length",
    "66824",
    NULL};

static const char *header(void *arg, const char *name)
{
    const char *const *h = arg;

    for (; *h; h += 2)
        if (!strcasecmp(h[0], name))
            return h[1];
    return NULL;
}

static int foreach_header(void *arg,
                          int (*fn)(const char *name, const char *value,
                                    void *fa),
                          void *fa)
{
    const char *const *h = arg;
    int rc;

    for (; *h; h += 2) {
        rc = fn(h[0], h[1], fa);
        if (rc)
            return rc;
    }
    return 0;
}

static struct s3_sig_seed seed;

static int setup_seed(void **state)
{
    const struct s3_sig_conf conf = {"us-east-1", 900};
    struct s3_sig_request r = {
        .method = "PUT",
        .raw_path = "/examplebucket/chunkObject.txt",
        .raw_query = "",
        .header = header,
        .foreach_header = foreach_header,
        .arg = (void *)example_headers,
        .now = 1369353600,
    };
    struct s3_sig sig;
    struct s3_sig_error err;

    (void)state;
    if (s3_sig_parse(&conf, &r, &sig, &err) != 1 ||
        s3_sig_verify(&sig, &r, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                      &seed, &err))
        return -1;
    return 0;
}

/* ---- bodies ---- */

struct body {
    char *p;
    size_t len;
};

static void body_add(struct body *b, const void *data, size_t len)
{
    b->p = realloc(b->p, b->len + len + 1);
    assert_non_null(b->p);
    memcpy(b->p + b->len, data, len);
    b->len += len;
}

static void body_adds(struct body *b, const char *s)
{
    body_add(b, s, strlen(s));
}

/* AWS's example body: 65536 and 1024 bytes of 'a', then the end. */
static struct body example_body(void)
{
    struct body b = {0};
    char *a = malloc(65536);

    assert_non_null(a);
    memset(a, 'a', 65536);
    body_adds(&b, "10000;chunk-signature=" SIG1 "\r\n");
    body_add(&b, a, 65536);
    body_adds(&b, "\r\n400;chunk-signature=" SIG2 "\r\n");
    body_add(&b, a, 1024);
    body_adds(&b, "\r\n0;chunk-signature=" SIG3 "\r\n\r\n");
    free(a);
    assert_int_equal(b.len, ENCODED);
    return b;
}

/* Signs chunks as a client would, chaining from 'prev' (updated). */
static void add_chunk(struct body *b, char prev[65], const char *data,
                      size_t len)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char md[32], mac[32];
    unsigned int n = 32;
    char sts[512], hexmd[65], line[128];
    int i;

    EVP_Digest(data, len, md, NULL, EVP_sha256(), NULL);
    for (i = 0; i < 32; i++) {
        hexmd[2 * i] = digits[md[i] >> 4];
        hexmd[2 * i + 1] = digits[md[i] & 15];
    }
    hexmd[64] = '\0';
    snprintf(sts, sizeof(sts),
             "AWS4-HMAC-SHA256-PAYLOAD\n%s\n%s\n%s\ne3b0c44298fc1c149afbf4c8"
             "996fb92427ae41e4649b934ca495991b7852b855\n%s",
             seed.amz_date, seed.scope, prev, hexmd);
    HMAC(EVP_sha256(), seed.key, 32, (unsigned char *)sts, strlen(sts), mac,
         &n);
    for (i = 0; i < 32; i++) {
        prev[2 * i] = digits[mac[i] >> 4];
        prev[2 * i + 1] = digits[mac[i] & 15];
    }
    prev[64] = '\0';
    snprintf(line, sizeof(line), "%zx;chunk-signature=%s\r\n", len, prev);
    body_adds(b, line);
    body_add(b, data, len);
    body_adds(b, "\r\n"); /* after the data, or closing the body */
}

/* ---- decoding ---- */

struct sink {
    int64_t n;
    bool all_a;
    int stop_after; /* calls; 0: never */
    int calls;
};

static int collect(void *arg, const char *data, size_t len)
{
    struct sink *s = arg;
    size_t i;

    assert_true(len > 0);
    for (i = 0; i < len; i++)
        if (data[i] != 'a')
            s->all_a = false;
    s->n += (int64_t)len;
    if (s->stop_after && ++s->calls == s->stop_after)
        return -ENOSPC;
    return 0;
}

/* Feeds 'b' in pieces of 'piece' bytes; returns feed's first error or
 * finish's result, with the error in *err. */
static int decode(const struct body *b, int64_t decoded_length, size_t piece,
                  struct sink *s, struct s3_sig_error *err)
{
    struct s3_chunked *dec;
    size_t at;
    int rc = 0;

    s->n = 0;
    s->all_a = true;
    assert_int_equal(s3_chunked_new(&seed, decoded_length, &dec), 0);
    for (at = 0; at < b->len && !rc; at += piece) {
        size_t n = b->len - at < piece ? b->len - at : piece;

        rc = s3_chunked_feed(dec, b->p + at, n, collect, s, err);
    }
    if (!rc)
        rc = s3_chunked_finish(dec, err);
    if (!rc)
        assert_int_equal(s3_chunked_decoded(dec), s->n);
    s3_chunked_free(dec);
    return rc;
}

static void expect_error(const struct body *b, int64_t decoded_length,
                         const char *code, unsigned int status)
{
    struct s3_sig_error err;
    struct sink s = {0};
    size_t pieces[] = {1, 7, 4096, b->len};
    size_t i;

    for (i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
        if (decode(b, decoded_length, pieces[i], &s, &err) != -EINVAL)
            fail_msg("decoded in pieces of %zu", pieces[i]);
        assert_string_equal(err.code, code);
        assert_int_equal(err.status, status);
    }
}

static void test_example_whole_and_split(void **state)
{
    struct body b = example_body();
    struct s3_sig_error err;
    struct sink s = {0};
    size_t piece;

    (void)state;
    assert_string_equal(seed.signature, "4f232c4386841ef735655705268965c44a0e"
                                        "4690baa4adea153f7db9fa80a0a9");
    for (piece = 1; piece <= 89; piece += 11) {
        assert_int_equal(decode(&b, DECODED, piece, &s, &err), 0);
        assert_int_equal(s.n, DECODED);
        assert_true(s.all_a);
    }
    assert_int_equal(decode(&b, DECODED, b.len, &s, &err), 0);
    assert_int_equal(decode(&b, -1, 65537, &s, &err), 0);
    assert_int_equal(s.n, DECODED);
    /* the closing CRLF may be missing (Swift reads it only if there) */
    b.len -= 2;
    assert_int_equal(decode(&b, DECODED, 1, &s, &err), 0);
    b.len -= 1; /* but not half of it */
    body_adds(&b, "\r");
    expect_error(&b, DECODED, "IncompleteBody", 400);
    free(b.p);
}

static void test_example_byte_by_byte_emits_at_once(void **state)
{
    struct body b = example_body();
    struct s3_chunked *dec;
    struct s3_sig_error err;
    struct sink s = {.all_a = true};
    size_t i, header = strlen("10000;chunk-signature=" SIG1 "\r\n");

    (void)state;
    assert_int_equal(s3_chunked_new(&seed, DECODED, &dec), 0);
    for (i = 0; i < b.len; i++) {
        assert_int_equal(s3_chunked_feed(dec, b.p + i, 1, collect, &s, &err),
                         0);
        /* data is handed on as it comes, not held for the whole chunk */
        if (i == header + 99)
            assert_int_equal(s.n, 100);
    }
    assert_int_equal(s3_chunked_finish(dec, &err), 0);
    assert_int_equal(s3_chunked_decoded(dec), DECODED);
    s3_chunked_free(dec);
    s3_chunked_free(NULL);
    free(b.p);
}

static void test_tampered_signatures_and_data(void **state)
{
    struct body b = example_body();
    const char *sigs[] = {SIG1, SIG2, SIG3};
    size_t i, k;

    (void)state;
    for (k = 0; k < 3; k++) {
        char *at = memmem(b.p, b.len, sigs[k], 64);

        assert_non_null(at);
        for (i = 0; i < 64; i += 9) {
            at[i] ^= 1;
            expect_error(&b, DECODED, "SignatureDoesNotMatch", 403);
            at[i] ^= 1;
        }
        at[0] = at[0] == 'a' ? 'A' : (char)(at[0] ^ 0x20);
        expect_error(&b, DECODED, "SignatureDoesNotMatch", 403);
        at[0] = sigs[k][0];
    }
    /* a flipped data byte in either chunk */
    b.p[100] ^= 1;
    expect_error(&b, DECODED, "SignatureDoesNotMatch", 403);
    b.p[100] ^= 1;
    b.p[b.len - 200] ^= 1;
    expect_error(&b, DECODED, "SignatureDoesNotMatch", 403);
    b.p[b.len - 200] ^= 1;
    /* the chunks' order matters: the signatures chain */
    {
        struct body c = {0};
        char *a = malloc(65536);
        char prev[65];

        memset(a, 'a', 65536);
        memcpy(prev, seed.signature, 65);
        body_adds(&c, "400;chunk-signature=" SIG2 "\r\n");
        body_add(&c, a, 1024);
        body_adds(&c, "\r\n");
        expect_error(&c, -1, "SignatureDoesNotMatch", 403);
        free(a);
        free(c.p);
    }
    free(b.p);
}

static void test_truncated(void **state)
{
    struct body b = example_body();
    struct s3_sig_error err;
    struct sink s = {0};
    size_t cut;

    (void)state;
    for (cut = 0; cut < b.len - 2;
         cut += cut < 200 || cut > b.len - 200 ? 1 : 997) {
        struct body t = {b.p, cut};

        if (decode(&t, DECODED, 4096, &s, &err) != -EINVAL)
            fail_msg("a body cut at %zu decoded", cut);
        assert_string_equal(err.code, "IncompleteBody");
        assert_string_equal(err.message,
                            "The request body terminated unexpectedly");
    }
    free(b.p);
}

static void test_trailing_garbage(void **state)
{
    struct body b = example_body();

    (void)state;
    body_adds(&b, "x");
    expect_error(&b, DECODED, "IncompleteBody", 400);
    b.len--;
    body_adds(&b, "0;chunk-signature=" SIG3 "\r\n\r\n");
    expect_error(&b, DECODED, "IncompleteBody", 400);
    free(b.p);
}

static void test_decoded_length(void **state)
{
    struct body b = example_body();

    (void)state;
    expect_error(&b, DECODED + 1, "IncompleteBody", 400);
    expect_error(&b, DECODED - 1, "IncompleteBody", 400);
    expect_error(&b, 0, "IncompleteBody", 400);
    free(b.p);
}

/* A body made of a header line and nothing else must fail cleanly. */
static void expect_bad_line(const char *line, const char *code,
                            unsigned int status)
{
    struct body b = {0};

    body_adds(&b, line);
    expect_error(&b, -1, code, status);
    free(b.p);
}

static void test_bad_framing(void **state)
{
    char longline[S3_CHUNKED_LINE_MAX + 10];

    (void)state;
    expect_bad_line("zz;chunk-signature=" SIG1 "\r\n", "IncompleteBody", 400);
    expect_bad_line(";chunk-signature=" SIG1 "\r\n", "IncompleteBody", 400);
    expect_bad_line("-1;chunk-signature=" SIG1 "\r\n", "IncompleteBody", 400);
    expect_bad_line("10000\r\n", "IncompleteBody", 400);
    expect_bad_line("10000 ;chunk-signature=" SIG1 "\r\n", "IncompleteBody",
                    400);
    expect_bad_line("10000;chunk-signature=" SIG1 "\n", "IncompleteBody", 400);
    expect_bad_line("10000;chunk-signature=\r\n", "IncompleteBody", 400);
    expect_bad_line("10000;chunk-signature=" SIG1 ";x=y\r\n", "IncompleteBody",
                    400);
    expect_bad_line("10000;chunk-sig=" SIG1 "\r\n", "SignatureDoesNotMatch",
                    403);
    expect_bad_line("10000;chunk-signature\r\n", "IncompleteBody", 400);
    expect_bad_line("0;chunk-signature=" SIG1 "00\r\n", "SignatureDoesNotMatch",
                    403);
    expect_bad_line("0;chunk-signature=abc\r\n", "SignatureDoesNotMatch", 403);
    expect_bad_line("140000001;chunk-signature=" SIG1 "\r\n", "EntityTooLarge",
                    400);
    expect_bad_line("FFFFFFFFFFFFFFFFFFFFFFFFFFFF;chunk-signature=" SIG1 "\r\n",
                    "EntityTooLarge", 400);
    expect_bad_line("\r\n", "IncompleteBody", 400);
    expect_bad_line("\n", "IncompleteBody", 400);
    memset(longline, '0', sizeof(longline));
    longline[sizeof(longline) - 1] = '\0';
    expect_bad_line(longline, "IncompleteBody", 400);
    expect_bad_line("", "IncompleteBody", 400); /* an empty body */
}

static void test_signed_bodies(void **state)
{
    char prev[65], *data = malloc(9000);
    struct s3_sig_error err;
    struct sink s = {0};
    struct body b = {0};

    (void)state;
    memset(data, 'a', 9000);
    /* only the final chunk: an empty object */
    memcpy(prev, seed.signature, 65);
    add_chunk(&b, prev, "", 0);
    assert_int_equal(decode(&b, 0, 1, &s, &err), 0);
    assert_int_equal(s.n, 0);
    free(b.p);

    /* a short last chunk is fine, a short chunk before it is not */
    memset(&b, 0, sizeof(b));
    memcpy(prev, seed.signature, 65);
    add_chunk(&b, prev, data, 8192);
    add_chunk(&b, prev, data, 5);
    add_chunk(&b, prev, "", 0);
    assert_int_equal(decode(&b, 8197, 3, &s, &err), 0);
    assert_int_equal(s.n, 8197);
    free(b.p);

    memset(&b, 0, sizeof(b));
    memcpy(prev, seed.signature, 65);
    add_chunk(&b, prev, data, 8191);
    add_chunk(&b, prev, data, 9000);
    add_chunk(&b, prev, "", 0);
    expect_error(&b, -1, "InvalidChunkSizeError", 403);
    free(b.p);

    /* data not followed by CRLF */
    memset(&b, 0, sizeof(b));
    memcpy(prev, seed.signature, 65);
    add_chunk(&b, prev, data, 9000);
    b.p[b.len - 2] = 'x';
    add_chunk(&b, prev, "", 0);
    expect_error(&b, -1, "IncompleteBody", 400);
    free(b.p);
    free(data);
}

static void test_errors_stick_and_emit_stops(void **state)
{
    struct body b = example_body();
    struct s3_chunked *dec;
    struct s3_sig_error err;
    struct sink s = {.stop_after = 2};

    (void)state;
    assert_int_equal(s3_chunked_new(&seed, DECODED, &dec), 0);
    assert_int_equal(s3_chunked_feed(dec, "zz\r\n", 4, collect, &s, &err),
                     -EINVAL);
    assert_int_equal(s3_chunked_feed(dec, b.p, b.len, collect, &s, &err),
                     -EINVAL);
    assert_string_equal(err.code, "IncompleteBody");
    assert_int_equal(s3_chunked_finish(dec, &err), -EINVAL);
    s3_chunked_free(dec);

    assert_int_equal(s3_chunked_new(&seed, DECODED, &dec), 0);
    assert_int_equal(s3_chunked_feed(dec, b.p, 200, collect, &s, &err), 0);
    assert_int_equal(s3_chunked_feed(dec, b.p + 200, 200, collect, &s, &err),
                     -ENOSPC);
    assert_int_equal(s3_chunked_finish(dec, &err), -EINVAL);
    s3_chunked_free(dec);
    free(b.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_whole_and_split),
        cmocka_unit_test(test_example_byte_by_byte_emits_at_once),
        cmocka_unit_test(test_tampered_signatures_and_data),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_trailing_garbage),
        cmocka_unit_test(test_decoded_length),
        cmocka_unit_test(test_bad_framing),
        cmocka_unit_test(test_signed_bodies),
        cmocka_unit_test(test_errors_stick_and_emit_stops),
    };
    return cmocka_run_group_tests(tests, setup_seed, NULL);
}
