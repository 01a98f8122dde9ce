/* Description: the footer PUT's MIME document, fed whole, split at every
 * byte position (once and twice) and byte by byte; the variants Swift
 * 2.30's iter_multipart_mime_documents() and _read_metadata_footer()
 * accept (checked against its object server) and the malformed ones. */
#include "storage/mime_footer.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define B "b0undary"

struct sink {
    char data[4096];
    size_t len;
    int fail_at; /* the callback fails at this call, -1 never */
    int calls;
};

static int collect(void *arg, const char *data, size_t len)
{
    struct sink *s = arg;

    assert_true(len > 0);
    if (s->calls++ == s->fail_at)
        return -ENOSPC;
    assert_true(s->len + len <= sizeof(s->data));
    memcpy(s->data + s->len, data, len);
    s->len += len;
    return 0;
}

static void md5_hex(const char *s, size_t n, char out[33])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len;

    EVP_Digest(s, n, md, &len, EVP_md5(), NULL);
    for (unsigned int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* A footer part for 'json': "\r\n--B\r\n", headers, the JSON, then 'tail'. */
static char *footer_part(const char *json, const char *tail)
{
    char md5[33], *out;

    md5_hex(json, strlen(json), md5);
    assert_true(asprintf(&out,
                         "\r\n--" B "\r\nX-Document: object metadata\r\n"
                         "Content-MD5: %s\r\n\r\n%s%s",
                         md5, json, tail) > 0);
    return out;
}

/* The document Swift's MIMEPutter sends for 'data' and 'json'. */
static char *document(const char *data, const char *json)
{
    char *f = footer_part(json, "\r\n--" B "--\r\n"), *out;

    assert_true(asprintf(&out,
                         "--" B "\r\nX-Document: object body\r\n\r\n"
                         "%s%s",
                         data, f) > 0);
    free(f);
    return out;
}

/* Parses 'doc' fed in the pieces that the cut points 'cuts' (ascending,
 * ending with SIZE_MAX) make; returns finish's result, the data in *s and
 * the footer's "Etag" in 'etag' ("" if none). */
static int parse_cut(const char *doc, size_t len, const size_t *cuts,
                     struct sink *s, char *etag, const char **why)
{
    struct mime_footer *mf;
    json_t *footer = NULL;
    size_t at = 0;
    int err = 0;

    memset(s, 0, sizeof(*s));
    s->fail_at = -1;
    etag[0] = '\0';
    assert_int_equal(mime_footer_new(B, &mf), 0);
    for (size_t i = 0; !err; i++) {
        size_t to = cuts[i] < len ? cuts[i] : len;

        err = mime_footer_feed(mf, doc + at, to - at, collect, s);
        at = to;
        if (at == len)
            break;
    }
    if (!err)
        err = mime_footer_finish(mf, collect, s, &footer);
    if (footer) {
        const char *e = json_string_value(json_object_get(footer, "Etag"));

        snprintf(etag, 64, "%s", e ? e : "");
    }
    if (why) {
        static char msg[64];

        snprintf(msg, sizeof(msg), "%s", mime_footer_error(mf));
        *why = msg;
    }
    if (err)
        assert_null(footer);
    json_decref(footer);
    mime_footer_free(mf);
    return err;
}

/* 'doc' must give 'data' and Etag 'want' however it is cut in two or
 * three pieces, and byte by byte. */
static void check_every_cut(const char *doc, const char *data, const char *want)
{
    size_t len = strlen(doc);
    struct sink s;
    char etag[64];

    for (size_t i = 0; i <= len; i++) {
        for (size_t j = i; j <= len; j++) {
            size_t cuts[] = {i, j, SIZE_MAX};

            assert_int_equal(parse_cut(doc, len, cuts, &s, etag, NULL), 0);
            assert_int_equal(s.len, strlen(data));
            assert_memory_equal(s.data, data, s.len);
            assert_string_equal(etag, want);
        }
    }
    {
        size_t cuts[4096];

        for (size_t i = 0; i < len; i++)
            cuts[i] = i + 1;
        cuts[len] = SIZE_MAX;
        assert_int_equal(parse_cut(doc, len, cuts, &s, etag, NULL), 0);
        assert_int_equal(s.len, strlen(data));
        assert_memory_equal(s.data, data, s.len);
    }
}

static void test_swift_document_every_cut(void **state)
{
    char *doc =
        document("hello", "{\"Etag\": \"5d41402abc4b2a76b9719d911017c592\"}");

    (void)state;
    check_every_cut(doc, "hello", "5d41402abc4b2a76b9719d911017c592");
    free(doc);
}

/* Data that looks like the delimiter's start, or holds it with one byte
 * changed, is data. */
static void test_data_like_the_boundary(void **state)
{
    static const char *const datas[] = {
        "\r\n--b0undar",
        "\r\n--b0undarx\r\n--b0undar",
        "\r",
        "\r\n",
        "\r\n-",
        "\r\r\n\r\n--\r\n--b0undarZ",
        "--" B "--",
        "x\r\n--B0UNDARY\r\n",
        "",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(datas) / sizeof(datas[0]); i++) {
        char *doc = document(datas[i], "{\"Etag\": \"x\"}");

        check_every_cut(doc, datas[i], "x");
        free(doc);
    }
}

/* What Swift accepts besides its own proxy's form. */
static void test_variants_swift_accepts(void **state)
{
    char *f = footer_part("{\"Etag\": \"e\"}", "\r\n--" B "--\r\n");
    char *nof = footer_part("{\"Etag\": \"e\"}", "");
    char *bare = footer_part("{\"Etag\": \"e\"}", "\r\n--" B "--");
    struct {
        const char *head, *data, *foot;
    } cases[] = {
        /* blank lines before the first boundary */
        {"\r\n\r\n--" B "\r\n\r\n", "abc", f},
        /* the first boundary line ending in LF, or with blanks */
        {"--" B "\n\r\n", "abc", f},
        /* (Swift reads 12 bytes there: the CRLF is the blank line) */
        {"  --" B "\r\n", "\r\nabc", f},
        /* no headers in the data part */
        {"--" B "\r\n\r\n", "abc", f},
        /* several headers, one with a bare LF */
        {"--" B "\r\nA: b\nC: d\r\nE: f\r\n\r\n", "abc", f},
        /* the footer runs to the end of the stream */
        {"--" B "\r\n\r\n", "abc", nof},
        /* the closing boundary without its CRLF */
        {"--" B "\r\n\r\n", "abc", bare},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *doc;

        assert_true(asprintf(&doc, "%s%s%s", cases[i].head, cases[i].data,
                             cases[i].foot) > 0);
        check_every_cut(doc, cases[i].data, "e");
        free(doc);
    }
    free(f);
    free(nof);
    free(bare);
}

/* Any two bytes after the data's boundary; parts after the footer are
 * ignored; data headers that run into the boundary mean empty data. */
static void test_odd_framing(void **state)
{
    char md5[33], *doc;
    const char *json = "{\"Etag\": \"e\"}";

    (void)state;
    md5_hex(json, strlen(json), md5);
    assert_true(asprintf(&doc,
                         "--" B "\r\n\r\nabc\r\n--" B "zzContent-MD5: %s\r\n"
                         "\r\n%s\r\n--" B "\r\nX: y\r\n\r\njunk\r\n--" B
                         "--\r\nepilogue",
                         md5, json) > 0);
    check_every_cut(doc, "abc", "e");
    free(doc);
    assert_true(asprintf(&doc,
                         "--" B "\r\nX-Document: object body\r\n--" B
                         "\r\nContent-MD5: %s\r\n\r\n%s",
                         md5, json) > 0);
    check_every_cut(doc, "", "e");
    free(doc);
}

static void check_bad(const char *doc, int want, const char *why,
                      const char *data)
{
    struct sink s;
    char etag[64];
    const char *msg;
    size_t len = strlen(doc);

    for (size_t i = 0; i <= len; i++) {
        size_t cuts[] = {i, SIZE_MAX};

        assert_int_equal(parse_cut(doc, len, cuts, &s, etag, &msg), want);
        assert_string_equal(msg, why);
        if (data) {
            assert_int_equal(s.len, strlen(data));
            assert_memory_equal(s.data, data, s.len);
        }
    }
}

static void test_malformed(void **state)
{
    char *f = footer_part("{\"Etag\": \"e\"}", "\r\n--" B "--\r\n");
    char *list = footer_part("[1]", "");
    char *badjson = footer_part("{x", "");
    char *doc;

    (void)state;
    check_bad("", -EINVAL, "invalid starting boundary", "");
    check_bad("\r\n", -EINVAL, "invalid starting boundary", "");
    check_bad("--b0undarx\r\n\r\nabc", -EINVAL, "invalid starting boundary",
              "");
    check_bad("\n--" B "\r\n\r\nabc", -EINVAL, "invalid starting boundary", "");
    check_bad("--" B "x\r\n\r\nabc", -EINVAL, "invalid starting boundary", "");
    /* no footer: the data's boundary is the last, or never comes */
    check_bad("--" B "\r\n\r\nabc\r\n--" B "--", -EINVAL,
              "couldn't find footer MIME doc", "abc");
    check_bad("--" B "\r\n\r\nabc\r\n--" B "--\r\nmore", -EINVAL,
              "couldn't find footer MIME doc", "abc");
    check_bad("--" B "\r\n\r\nabc\r\n--" B "-", -EINVAL,
              "no Content-MD5 in footer", "abc");
    check_bad("--" B "\r\n\r\nabc\r\n--b0un", -EINVAL,
              "couldn't find footer MIME doc", "abc\r\n--b0un");
    check_bad("--" B "\r\nX-Document: obj", -EINVAL,
              "couldn't find footer MIME doc", "");
    /* the footer part: Content-MD5, its value, JSON */
    check_bad("--" B "\r\n\r\nabc\r\n--" B "\r\n\r\n{}\r\n--" B "--", -EINVAL,
              "no Content-MD5 in footer", "abc");
    check_bad("--" B "\r\n\r\nabc\r\n--" B, -EINVAL, "no Content-MD5 in footer",
              "abc");
    check_bad("--" B "\r\n\r\nabc\r\n--" B "\r\nContent-MD5: abc\r\n\r\n{}",
              -EBADMSG, "footer MD5 mismatch", "abc");
    assert_true(asprintf(&doc, "--" B "\r\n\r\nabc%s", list) > 0);
    check_bad(doc, -EINVAL, "invalid JSON for footer doc", "abc");
    free(doc);
    assert_true(asprintf(&doc, "--" B "\r\n\r\nabc%s", badjson) > 0);
    check_bad(doc, -EINVAL, "invalid JSON for footer doc", "abc");
    free(doc);
    /* a footer whose MD5 covers other bytes than sent */
    assert_true(asprintf(&doc, "--" B "\r\n\r\nabc%s", f) > 0);
    doc[strlen(doc) - 20] ^= 1;
    check_bad(doc, -EBADMSG, "footer MD5 mismatch", "abc");
    free(doc);
    free(f);
    free(list);
    free(badjson);
}

static void test_caps(void **state)
{
    struct mime_footer *mf;
    struct sink s = {.fail_at = -1};
    char *big = malloc(MIME_FOOTER_MAX_FOOTER + 1024);
    char boundary[MIME_FOOTER_MAX_BOUNDARY + 2];
    int err = 0;

    (void)state;
    assert_int_equal(mime_footer_new("", &mf), -EINVAL);
    assert_null(mf);
    memset(boundary, 'a', sizeof(boundary) - 1);
    boundary[sizeof(boundary) - 1] = '\0';
    assert_int_equal(mime_footer_new(boundary, &mf), -EINVAL);
    boundary[MIME_FOOTER_MAX_BOUNDARY] = '\0';
    assert_int_equal(mime_footer_new(boundary, &mf), 0);
    mime_footer_free(mf);
    mime_footer_free(NULL);

    /* part headers without an end */
    assert_int_equal(mime_footer_new(B, &mf), 0);
    memset(big, 'h', MIME_FOOTER_MAX_FOOTER + 1024);
    err = mime_footer_feed(mf, "--" B "\r\n", strlen(B) + 4, collect, &s);
    assert_int_equal(err, 0);
    for (size_t i = 0; i < 4 && !err; i++)
        err =
            mime_footer_feed(mf, big, MIME_FOOTER_MAX_HEADERS / 2, collect, &s);
    assert_int_equal(err, -EMSGSIZE);
    assert_string_equal(mime_footer_error(mf), "MIME headers too large");
    assert_int_equal(mime_footer_feed(mf, "x", 1, collect, &s), -EINVAL);
    mime_footer_free(mf);

    /* a footer over its cap */
    assert_int_equal(mime_footer_new(B, &mf), 0);
    err = mime_footer_feed(mf, "--" B "\r\n\r\nabc\r\n--" B "\r\n\r\n",
                           2 * strlen(B) + 17, collect, &s);
    assert_int_equal(err, 0);
    err = mime_footer_feed(mf, big, MIME_FOOTER_MAX_FOOTER + 1024, collect, &s);
    assert_int_equal(err, -EMSGSIZE);
    assert_string_equal(mime_footer_error(mf), "footer too large");
    mime_footer_free(mf);
    free(big);
}

/* The data callback's error stops the parse and comes back as it is. */
static void test_callback_error(void **state)
{
    char *doc = document("0123456789", "{}");
    struct mime_footer *mf;
    struct sink s = {.fail_at = 0};
    json_t *footer;

    (void)state;
    assert_int_equal(mime_footer_new(B, &mf), 0);
    assert_int_equal(mime_footer_feed(mf, doc, strlen(doc), collect, &s),
                     -ENOSPC);
    assert_int_equal(mime_footer_feed(mf, "x", 1, collect, &s), -EINVAL);
    assert_int_equal(mime_footer_finish(mf, collect, &s, &footer), -EINVAL);
    assert_null(footer);
    mime_footer_free(mf);
    free(doc);
}

/* A large body in big pieces: every byte of data arrives, once, in
 * order. */
struct expect {
    const char *want;
    size_t got;
};

static int compare(void *arg, const char *data, size_t len)
{
    struct expect *e = arg;

    assert_memory_equal(data, e->want + e->got, len);
    e->got += len;
    return 0;
}

static void test_large_body(void **state)
{
    size_t n = 1 << 20, piece = 65536 + 7, len, at = 0;
    const char *head = "--" B "\r\nX-Document: object body\r\n\r\n";
    const char *alphabet = "\r\n-" B "x";
    char *f = footer_part("{\"Etag\": \"e\"}", "\r\n--" B "--\r\n");
    char *body = malloc(n);
    char *doc = malloc(n + strlen(head) + strlen(f));
    struct expect e = {body, 0};
    struct mime_footer *mf;
    json_t *footer;

    (void)state;
    for (size_t i = 0; i < n; i++) /* plenty of CRs, LFs and dashes */
        body[i] = alphabet[(i * 7 + i / 13) % strlen(alphabet)];
    memcpy(doc, head, strlen(head));
    len = strlen(head);
    memcpy(doc + len, body, n);
    len += n;
    memcpy(doc + len, f, strlen(f));
    len += strlen(f);
    assert_int_equal(mime_footer_new(B, &mf), 0);
    for (; at < len; at += piece) {
        size_t k = len - at < piece ? len - at : piece;

        assert_int_equal(mime_footer_feed(mf, doc + at, k, compare, &e), 0);
    }
    assert_int_equal(mime_footer_finish(mf, compare, &e, &footer), 0);
    assert_int_equal(e.got, n);
    assert_string_equal(json_string_value(json_object_get(footer, "Etag")),
                        "e");
    json_decref(footer);
    mime_footer_free(mf);
    free(body);
    free(f);
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_swift_document_every_cut),
        cmocka_unit_test(test_data_like_the_boundary),
        cmocka_unit_test(test_variants_swift_accepts),
        cmocka_unit_test(test_odd_framing),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_callback_error),
        cmocka_unit_test(test_large_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
