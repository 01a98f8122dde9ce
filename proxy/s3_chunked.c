/*
 * s3_chunked.c - decodes an aws-chunked body and checks every chunk
 * signature (AWS's "Signature Calculations for the Authorization Header:
 * Transferring Payload in Multiple Chunks"), as a push parser: the bytes
 * come in whatever pieces the socket gives, data goes out at once, and
 * only the current header line (at most S3_CHUNKED_LINE_MAX bytes) and a
 * running SHA-256 are kept.
 *
 * A chunk's string to sign is
 *   AWS4-HMAC-SHA256-PAYLOAD \n <amz date> \n <scope> \n
 *   <previous signature> \n <sha256 of ""> \n <sha256 of the data>
 * signed with the request's V4 signing key. The framing errors are Swift
 * s3api's (StreamingInput): IncompleteBody for anything malformed or
 * short, SignatureDoesNotMatch for a bad signature, InvalidChunkSizeError
 * for a short chunk that is not the last.
 */
#include "proxy/s3_chunked.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EMPTY_SHA256                                                           \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define MSG_TERMINATED "The request body terminated unexpectedly"
#define MSG_SHORT                                                              \
    "You did not provide the number of bytes specified by the "                \
    "Content-Length HTTP header."

enum state {
    ST_LINE,     /* reading "<hex>;chunk-signature=<sig>\r\n" */
    ST_DATA,     /* 'remaining' bytes of data */
    ST_DATA_CR,  /* the CRLF after the data */
    ST_DATA_LF,  /* */
    ST_FINAL_CR, /* the CRLF after the final chunk's header */
    ST_FINAL_LF, /* */
    ST_DONE,     /* nothing more may come */
    ST_FAILED,   /* 'error' says why */
};

struct s3_chunked {
    struct s3_sig_seed seed; /* key, date, scope; .signature: previous */
    int64_t decoded_length;  /* -1: unchecked */
    int64_t decoded;
    int64_t remaining; /* of the current chunk's data */
    int64_t last_size; /* of the previous chunk, -1 before the first */
    enum state state;
    EVP_MD_CTX *md;                  /* of the current chunk's data */
    char sig[S3_SIG_SHA256_HEX + 1]; /* the current chunk's, as sent */
    bool sig_ok_len;                 /* 'sig' is 64 characters */
    size_t line_len;
    char line[S3_CHUNKED_LINE_MAX];
    struct s3_sig_error error;
};

static void assert_s3_chunked_ok(const struct s3_chunked *dec)
{
#ifndef NDEBUG
    if (dec->line_len > sizeof(dec->line) || dec->remaining < 0 ||
        (dec->decoded_length >= 0 && dec->decoded > dec->decoded_length))
        abort();
#else
    (void)dec;
#endif
}

int s3_chunked_new(const struct s3_sig_seed *seed, int64_t decoded_length,
                   struct s3_chunked **out)
{
    struct s3_chunked *dec = calloc(1, sizeof(*dec));

    *out = NULL;
    if (!dec)
        return -ENOMEM;
    dec->md = EVP_MD_CTX_new();
    if (!dec->md) {
        free(dec);
        return -ENOMEM;
    }
    dec->seed = *seed;
    dec->seed.signature[S3_SIG_SHA256_HEX] = '\0';
    dec->decoded_length = decoded_length < 0 ? -1 : decoded_length;
    dec->last_size = -1;
    dec->state = ST_LINE;
    *out = dec;
    return 0;
}

void s3_chunked_free(struct s3_chunked *dec)
{
    if (!dec)
        return;
    EVP_MD_CTX_free(dec->md);
    OPENSSL_cleanse(dec, sizeof(*dec));
    free(dec);
}

int64_t s3_chunked_decoded(const struct s3_chunked *dec)
{
    return dec->decoded;
}

static int failed(struct s3_chunked *dec, const char *code, unsigned int status,
                  const char *msg, struct s3_sig_error *err)
{
    s3_sig_set_error(&dec->error, code, status, "%s", msg);
    dec->state = ST_FAILED;
    *err = dec->error;
    return -EINVAL;
}

static int bad_signature(struct s3_chunked *dec, struct s3_sig_error *err)
{
    return failed(dec, "SignatureDoesNotMatch", 403,
                  "The request signature we calculated does not match the "
                  "signature you provided. Check your key and signing "
                  "method.",
                  err);
}

/* The current chunk is complete: check its signature, which becomes the
 * previous one of the next chunk. */
static int end_chunk(struct s3_chunked *dec, struct s3_sig_error *err)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE], mac[32];
    unsigned int mdlen = 0;
    char sts[512], want[S3_SIG_SHA256_HEX + 1];
    int n, i;

    if (!EVP_DigestFinal_ex(dec->md, md, &mdlen))
        return failed(dec, "InternalError", 500,
                      "We encountered an internal error. Please try again.",
                      err);
    n = snprintf(sts, sizeof(sts),
                 "AWS4-HMAC-SHA256-PAYLOAD\n%s\n%s\n%s\n" EMPTY_SHA256 "\n",
                 dec->seed.amz_date, dec->seed.scope, dec->seed.signature);
    if (n < 0 || (size_t)n + 2 * 32 >= sizeof(sts))
        return bad_signature(dec, err);
    for (i = 0; i < 32; i++) {
        sts[n + 2 * i] = digits[md[i] >> 4];
        sts[n + 2 * i + 1] = digits[md[i] & 15];
    }
    n += 64;
    if (s3_sig_hmac_sha256(dec->seed.key, sizeof(dec->seed.key), sts, (size_t)n,
                           mac))
        return failed(dec, "InternalError", 500,
                      "We encountered an internal error. Please try again.",
                      err);
    for (i = 0; i < 32; i++) {
        want[2 * i] = digits[mac[i] >> 4];
        want[2 * i + 1] = digits[mac[i] & 15];
    }
    want[64] = '\0';
    if (!dec->sig_ok_len || CRYPTO_memcmp(want, dec->sig, 64))
        return bad_signature(dec, err);
    memcpy(dec->seed.signature, want, sizeof(want));
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Takes the signature out of ";chunk-signature=<sig>" (Swift: a missing
 * or empty value is an incomplete body, another name a bad signature). */
static int parse_params(struct s3_chunked *dec, const char *p, const char *end,
                        struct s3_sig_error *err)
{
    const char *eq = memchr(p, '=', (size_t)(end - p));
    const char *name_end = eq ? eq : end;
    static const char name[] = "chunk-signature";

    while (p < name_end && (*p == ' ' || *p == '\t'))
        p++;
    while (name_end > p && (name_end[-1] == ' ' || name_end[-1] == '\t'))
        name_end--;
    if ((size_t)(name_end - p) != sizeof(name) - 1 ||
        memcmp(p, name, sizeof(name) - 1))
        return bad_signature(dec, err);
    if (!eq) /* "chunk-signature" alone: no value */
        return failed(dec, "IncompleteBody", 400, MSG_TERMINATED, err);
    p = eq + 1;
    if (memchr(p, ';', (size_t)(end - p)))
        return failed(dec, "IncompleteBody", 400, MSG_TERMINATED, err);
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (p == end)
        return failed(dec, "IncompleteBody", 400, MSG_TERMINATED, err);
    dec->sig_ok_len = end - p == S3_SIG_SHA256_HEX;
    if (dec->sig_ok_len)
        memcpy(dec->sig, p, S3_SIG_SHA256_HEX);
    dec->sig[dec->sig_ok_len ? S3_SIG_SHA256_HEX : 0] = '\0';
    return 0;
}

/* A complete header line is in dec->line (CRLF included). */
static int end_line(struct s3_chunked *dec, struct s3_sig_error *err)
{
    const char *p = dec->line, *end = dec->line + dec->line_len - 2;
    int64_t size = 0;
    int rc;

    if (dec->line_len < 2 || end[0] != '\r')
        return failed(dec, "IncompleteBody", 400, MSG_TERMINATED, err);
    if (p == end || hexval(*p) < 0)
        return failed(dec, "IncompleteBody", 400, MSG_TERMINATED, err);
    for (; p < end && hexval(*p) >= 0; p++) {
        size = size * 16 + hexval(*p);
        if (size > S3_CHUNKED_MAX_CHUNK)
            return failed(dec, "EntityTooLarge", 400,
                          "Your proposed upload exceeds the maximum "
                          "allowed object size.",
                          err);
    }
    if (p == end || *p != ';')
        return failed(dec, "IncompleteBody", 400, MSG_TERMINATED, err);
    if (dec->last_size >= 0 && dec->last_size < S3_CHUNKED_MIN_CHUNK &&
        size != 0)
        return failed(dec, "InvalidChunkSizeError", 403,
                      "Only the last chunk is allowed to have a size less "
                      "than 8192 bytes",
                      err);
    if (dec->decoded_length >= 0 && size > dec->decoded_length - dec->decoded)
        return failed(dec, "IncompleteBody", 400, MSG_SHORT, err);
    rc = parse_params(dec, p + 1, end, err);
    if (rc)
        return rc;
    dec->last_size = size;
    dec->line_len = 0;
    if (!EVP_DigestInit_ex(dec->md, s3_sig_sha256(), NULL))
        return failed(dec, "InternalError", 500,
                      "We encountered an internal error. Please try again.",
                      err);
    if (size > 0) {
        dec->remaining = size;
        dec->state = ST_DATA;
        return 0;
    }
    rc = end_chunk(dec, err);
    if (rc)
        return rc;
    if (dec->decoded_length >= 0 && dec->decoded != dec->decoded_length)
        return failed(dec, "IncompleteBody", 400, MSG_SHORT, err);
    dec->state = ST_FINAL_CR;
    return 0;
}

/* One byte of framing: 'want' or the body is malformed. */
static int expect(struct s3_chunked *dec, char c, char want, enum state next,
                  struct s3_sig_error *err)
{
    if (c != want)
        return failed(dec, "IncompleteBody", 400, MSG_TERMINATED, err);
    dec->state = next;
    return 0;
}

int s3_chunked_feed(struct s3_chunked *dec, const char *data, size_t len,
                    s3_chunked_emit_fn emit, void *arg,
                    struct s3_sig_error *err)
{
    int rc = 0;

    while (len && !rc) {
        assert_s3_chunked_ok(dec);
        switch (dec->state) {
        case ST_LINE:
            if (dec->line_len == sizeof(dec->line))
                return failed(dec, "IncompleteBody", 400, MSG_TERMINATED, err);
            dec->line[dec->line_len++] = *data;
            if (*data == '\n')
                rc = end_line(dec, err);
            data++;
            len--;
            break;
        case ST_DATA: {
            size_t n =
                (uint64_t)dec->remaining < len ? (size_t)dec->remaining : len;

            EVP_DigestUpdate(dec->md, data, n);
            dec->remaining -= (int64_t)n;
            dec->decoded += (int64_t)n;
            rc = emit(arg, data, n);
            if (rc) {
                s3_sig_set_error(&dec->error, "InternalError", 500,
                                 "We encountered an internal error. Please "
                                 "try again.");
                dec->state = ST_FAILED;
                return rc;
            }
            data += n;
            len -= n;
            if (!dec->remaining) {
                rc = end_chunk(dec, err);
                dec->state = rc ? ST_FAILED : ST_DATA_CR;
            }
            break;
        }
        case ST_DATA_CR:
            rc = expect(dec, *data++, '\r', ST_DATA_LF, err);
            len--;
            break;
        case ST_DATA_LF:
            rc = expect(dec, *data++, '\n', ST_LINE, err);
            len--;
            break;
        case ST_FINAL_CR:
            rc = expect(dec, *data++, '\r', ST_FINAL_LF, err);
            len--;
            break;
        case ST_FINAL_LF:
            rc = expect(dec, *data++, '\n', ST_DONE, err);
            len--;
            break;
        case ST_DONE: /* trailing garbage */
            return failed(dec, "IncompleteBody", 400, MSG_TERMINATED, err);
        case ST_FAILED: *err = dec->error; return -EINVAL;
        }
    }
    return rc;
}

int s3_chunked_finish(struct s3_chunked *dec, struct s3_sig_error *err)
{
    switch (dec->state) {
    case ST_DONE:
    case ST_FINAL_CR: /* Swift reads the closing CRLF only if it is there */
        return 0;
    case ST_FAILED: *err = dec->error; return -EINVAL;
    default: return failed(dec, "IncompleteBody", 400, MSG_TERMINATED, err);
    }
}
