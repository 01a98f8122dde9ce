/*
 * fuzz_s3_chunked.c - libFuzzer target for S3 authentication: the
 * aws-chunked body decoder (proxy/s3_chunked.c) and the Authorization
 * header and presigned query parsing and signing (proxy/s3_sig.c), all of
 * it what any client can send.
 *
 * Input: a byte of piece size (1 + b % 64), a byte of flags (bit 0: check
 * the decoded length against x-amz-decoded-content-length), then six
 * lines: Authorization, the raw query, the raw path, X-Amz-Date,
 * x-amz-content-sha256, x-amz-decoded-content-length; the rest is the
 * body. The request is parsed (at 20130524T000000Z) and, when it parses,
 * signed with a fixed secret; the body is decoded twice, whole and in
 * pieces, and both decodes must agree on the result, the error and every
 * byte of data, which is never longer than the body.
 */
#include "proxy/s3_chunked.h"
#include "proxy/s3_sig.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* CHECK() is gone under NDEBUG: a finding must abort in every build */
#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            abort();                                                           \
    } while (0)

#define N_LINES 6

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Authorization, X-Amz-Date, x-amz-content-sha256, decoded length, and
 * always a Host; NULL values are left out. */
struct req {
    const char *names[5];
    const char *values[5];
};

static const char *header(void *arg, const char *name)
{
    const struct req *q = arg;
    size_t i;

    for (i = 0; i < 5; i++)
        if (q->values[i] && !strcasecmp(q->names[i], name))
            return q->values[i];
    return NULL;
}

static int foreach_header(void *arg,
                          int (*fn)(const char *name, const char *value,
                                    void *fa),
                          void *fa)
{
    const struct req *q = arg;
    size_t i;
    int rc;

    for (i = 0; i < 5; i++) {
        if (!q->values[i])
            continue;
        rc = fn(q->names[i], q->values[i], fa);
        if (rc)
            return rc;
    }
    return 0;
}

static void check_error(const struct s3_sig_error *err)
{
    CHECK(err->code && err->code[0]);
    CHECK(err->status >= 400 && err->status <= 501);
    CHECK(memchr(err->message, '\0', sizeof(err->message)));
}

static void fuzz_sig(char *lines[N_LINES])
{
    const struct s3_sig_conf conf = {"us-east-1", 900};
    struct req q = {
        {"Authorization", "X-Amz-Date", "x-amz-content-sha256",
         "x-amz-decoded-content-length", "Host"},
        {lines[0][0] ? lines[0] : NULL, lines[3][0] ? lines[3] : NULL,
         lines[4][0] ? lines[4] : NULL, lines[5][0] ? lines[5] : NULL,
         "examplebucket.s3.amazonaws.com"},
    };
    struct s3_sig_request r = {
        .method = "PUT",
        .raw_path = lines[2],
        .raw_query = lines[1],
        .header = header,
        .foreach_header = foreach_header,
        .arg = &q,
        .bucket_in_host = "examplebucket",
        .now = 1369353600,
    };
    struct s3_sig sig;
    struct s3_sig_seed seed;
    struct s3_sig_error err;
    char *cr, *sts;
    int rc;

    rc = s3_sig_parse(&conf, &r, &sig, &err);
    CHECK(rc == 0 || rc == 1 || rc == -EINVAL);
    if (rc == -EINVAL)
        check_error(&err);
    if (rc != 1)
        return;
    CHECK(sig.kind != S3_SIG_NONE);
    rc = s3_sig_verify(&sig, &r, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                       &seed, &err);
    CHECK(rc == 0 || rc == -EINVAL);
    if (rc)
        check_error(&err);
    rc = s3_sig_canonical(&sig, &r, &cr, &sts, &err);
    CHECK(rc == 0 || rc == -EINVAL);
    CHECK(rc || sts);
    free(cr);
    free(sts);
}

struct sink {
    char *data;
    size_t len, cap;
};

static int collect(void *arg, const char *data, size_t len)
{
    struct sink *s = arg;

    CHECK(len > 0);
    CHECK(s->len + len <= s->cap);
    memcpy(s->data + s->len, data, len);
    s->len += len;
    return 0;
}

static int decode(const uint8_t *body, size_t len, size_t piece,
                  int64_t decoded_length, struct sink *s,
                  struct s3_sig_error *err)
{
    struct s3_sig_seed seed = {
        .key = {1, 2, 3},
        .amz_date = "20130524T000000Z",
        .scope = "20130524/us-east-1/s3/aws4_request",
        .signature = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7d"
                     "b9fa80a0a9",
    };
    struct s3_chunked *dec;
    int rc = 0;

    if (s3_chunked_new(&seed, decoded_length, &dec))
        abort();
    for (size_t at = 0; at < len && !rc; at += piece) {
        size_t n = len - at < piece ? len - at : piece;

        rc = s3_chunked_feed(dec, (const char *)body + at, n, collect, s, err);
    }
    if (!rc)
        rc = s3_chunked_finish(dec, err);
    CHECK(s3_chunked_decoded(dec) == (int64_t)s->len);
    s3_chunked_free(dec);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *lines[N_LINES];
    const uint8_t *p, *end = data + size;
    struct s3_sig_error e1 = {0}, e2 = {0};
    struct sink whole = {0}, cut = {0};
    int64_t decoded_length;
    size_t piece, i;
    int r1, r2;

    if (size < 2)
        return 0;
    piece = 1 + data[0] % 64;
    p = data + 2;
    for (i = 0; i < N_LINES; i++) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p);

        lines[i] = strndup((const char *)p, n);
        if (!lines[i])
            abort();
        p = nl ? nl + 1 : end;
    }
    fuzz_sig(lines);

    decoded_length = -1;
    if (data[1] & 1)
        decoded_length = strtoll(lines[5], NULL, 10);
    whole.cap = cut.cap = (size_t)(end - p);
    whole.data = malloc(whole.cap + 1);
    cut.data = malloc(cut.cap + 1);
    if (!whole.data || !cut.data)
        abort();
    r1 = decode(p, (size_t)(end - p), (size_t)(end - p) + 1, decoded_length,
                &whole, &e1);
    r2 = decode(p, (size_t)(end - p), piece, decoded_length, &cut, &e2);
    CHECK(r1 == r2);
    CHECK(r1 == 0 || r1 == -EINVAL);
    if (r1) {
        check_error(&e1);
        CHECK(!strcmp(e1.code, e2.code));
    }
    /* both runs saw the same bytes in the same order */
    CHECK(whole.len == cut.len && !memcmp(whole.data, cut.data, cut.len));
    free(whole.data);
    free(cut.data);
    for (i = 0; i < N_LINES; i++)
        free(lines[i]);
    return 0;
}
