/*
 * s3_sig.h - S3 request authentication as logic, without HTTP: finds and
 * checks the signature of a request (AWS Signature Version 4 in the
 * Authorization header or a presigned URL, Version 2 likewise) and
 * verifies it with the user's secret key, as AWS S3 and Swift's s3api
 * (swift/common/middleware/s3api/s3request.py) do.
 *
 * A request meets this file twice: s3_sig_parse() when it arrives (is it
 * S3? whose key? well-formed, in time, in our region?), then, once the
 * caller has looked up the secret of sig.access_key (tempauth's key of
 * "account:user"), s3_sig_verify(). A V4 request whose body is
 * aws-chunked goes on to proxy/s3_chunked.h with the seed verify filled.
 *
 * Every failure comes with the S3 error to send (struct s3_sig_error:
 * Code, HTTP status, Message). Pure functions over the caller's request,
 * thread-safe; nothing is logged (signatures are never logged).
 */
#ifndef PROXY_S3_SIG_H
#define PROXY_S3_SIG_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest values accepted (bytes, NUL excluded); longer is malformed. */
#define S3_SIG_ACCESS_KEY_MAX 256
#define S3_SIG_SIGNATURE_MAX 128
#define S3_SIG_REGION_MAX 64
#define S3_SIG_SCOPE_MAX (8 + 1 + S3_SIG_REGION_MAX + 1 + 2 + 1 + 12)
#define S3_SIG_SIGNED_HEADERS_MAX 2048
#define S3_SIG_AMZ_DATE_SIZE 17 /* "20130524T000000Z" and its NUL */
#define S3_SIG_SHA256_HEX 64
#define S3_SIG_MAX_EXPIRES 604800 /* a presigned V4 URL lives a week */
#define S3_SIG_DEFAULT_SKEW 900   /* Swift's allowable_clock_skew */

/* What was received, as sent on the wire; all borrowed for the call. */
struct s3_sig_request {
    const char *method;    /* "GET" */
    const char *raw_path;  /* as sent, still percent-encoded, no query */
    const char *raw_query; /* as sent, without '?'; "" when none */
    /* The first value of header 'name' (any case), NULL if absent. */
    const char *(*header)(void *arg, const char *name);
    /* Calls fn for every header as received (Host and Content-Length
     * included), in order, stopping at and returning fn's first
     * non-zero return; returns 0 when all were seen. */
    int (*foreach_header)(void *arg,
                          int (*fn)(const char *name, const char *value,
                                    void *fa),
                          void *fa);
    void *arg;
    /* virtual-hosted style: the bucket taken from Host, else NULL (V2's
     * resource starts with it; V4 signs the path as sent) */
    const char *bucket_in_host;
    int64_t now; /* Unix seconds */
};

/* An S3 error: 'code' ("SignatureDoesNotMatch", a static string), the
 * HTTP status to send and the Message. InvalidArgument also names the
 * argument (ArgumentName, ArgumentValue in the XML); other codes leave
 * them empty. */
struct s3_sig_error {
    const char *code;
    unsigned int status;
    char message[512];
    const char *argument_name; /* static, or NULL */
    char argument_value[256];
};

struct s3_sig_conf {
    const char *region; /* "us-east-1" (Swift's location) */
    int64_t max_skew;   /* seconds; 0 means S3_SIG_DEFAULT_SKEW */
};

enum s3_sig_kind {
    S3_SIG_NONE,
    S3_SIG_V2_HEADER, /* Authorization: AWS <key>:<signature> */
    S3_SIG_V2_QUERY,  /* ?AWSAccessKeyId=&Expires=&Signature= */
    S3_SIG_V4_HEADER, /* Authorization: AWS4-HMAC-SHA256 Credential=... */
    S3_SIG_V4_QUERY,  /* ?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-... */
};

/* What x-amz-content-sha256 says of the body. */
enum s3_payload {
    S3_PAYLOAD_NONE,      /* no header (V2, presigned V4): body unchecked */
    S3_PAYLOAD_SIGNED,    /* the hex SHA-256 of the body: check it */
    S3_PAYLOAD_UNSIGNED,  /* UNSIGNED-PAYLOAD */
    S3_PAYLOAD_STREAMING, /* STREAMING-AWS4-HMAC-SHA256-PAYLOAD: the body
                             is aws-chunked (s3_chunked.h) */
};

/* What s3_sig_parse() found. A value type: no cleanup. */
struct s3_sig {
    enum s3_sig_kind kind;
    char access_key[S3_SIG_ACCESS_KEY_MAX + 1]; /* "test:tester" */
    char signature[S3_SIG_SIGNATURE_MAX + 1];   /* as sent */
    int64_t date; /* the request's time (Unix s); V2 query: 0 */
    /* V4 only */
    char amz_date[S3_SIG_AMZ_DATE_SIZE]; /* "20130524T000000Z" */
    char region[S3_SIG_REGION_MAX + 1];  /* of the scope, as sent */
    char scope[S3_SIG_SCOPE_MAX + 1]; /* "20130524/us-east-1/s3/aws4_request" */
    char signed_headers[S3_SIG_SIGNED_HEADERS_MAX + 1]; /* "host;range" */
    /* V4 query: X-Amz-Expires (seconds after date); V2 query: Expires
     * (Unix time); else 0 */
    int64_t expires;
    enum s3_payload payload;
    char payload_sha256[S3_SIG_SHA256_HEX + 1]; /* S3_PAYLOAD_SIGNED,
                                                   lowercased */
    /* S3_PAYLOAD_STREAMING: x-amz-decoded-content-length; else -1 */
    int64_t decoded_length;
};

/* What an aws-chunked body's chunk signatures chain from (s3_chunked.h):
 * filled by s3_sig_verify() for V4. */
struct s3_sig_seed {
    unsigned char key[32]; /* the V4 signing key of the scope */
    char amz_date[S3_SIG_AMZ_DATE_SIZE];
    char scope[S3_SIG_SCOPE_MAX + 1];
    char signature[S3_SIG_SHA256_HEX + 1]; /* the request's, the first
                                              "previous signature" */
};

/* Finds the S3 authentication of a request and checks all of it that
 * needs no secret. Returns 0 when the request carries none (neither an
 * Authorization header nor X-Amz-Credential / AWSAccessKeyId in the
 * query: not an S3 request, or an anonymous one); 1 with *out filled; or
 * -EINVAL with *err set for a request that is S3 but unacceptable:
 *   AuthorizationHeaderMalformed (400): V4 header without Credential,
 *     SignedHeaders or Signature, bad credential; scope date not that of
 *     X-Amz-Date, wrong region ("... the region 'x' is wrong; expecting
 *     'us-east-1'"), service or terminal.
 *   AuthorizationQueryParametersError (400): the same for a presigned V4
 *     URL, and a missing parameter or bad X-Amz-Expires (over 604800).
 *   AccessDenied (403): no valid Date / X-Amz-Date, "Request has
 *     expired", "Request is not valid yet" (a presigned URL dated past
 *     the allowed skew), malformed V2 credentials, x-amz-acl, -grant-*,
 *     -meta-*, -copy-* headers present but not signed.
 *   RequestTimeTooSkewed (403): Date or X-Amz-Date further than
 *     conf->max_skew from r->now (header forms).
 *   InvalidRequest (400): V4 header auth without x-amz-content-sha256.
 *   InvalidArgument (400): a bad x-amz-content-sha256, X-Amz-Algorithm or
 *     x-amz-decoded-content-length; both header and query credentials.
 *   MissingContentLength (411): STREAMING without a decoded length.
 *   NotImplemented (501): other STREAMING-* forms (trailers, ECDSA), and
 *     STREAMING with anything but V4 header authentication.
 * Any input is hostile: over-long, duplicated or garbled fields give an
 * error, never a read outside the strings. */
int s3_sig_parse(const struct s3_sig_conf *conf, const struct s3_sig_request *r,
                 struct s3_sig *out, struct s3_sig_error *err);

/* Verifies the signature s3_sig_parse() found in 'r' with the user's
 * secret key, comparing in constant time. Returns 0; -EINVAL with *err =
 * SignatureDoesNotMatch (403); or -ENOMEM (*err = InternalError). For V4
 * fills *seed (may be NULL) for an aws-chunked body. */
int s3_sig_verify(const struct s3_sig *sig, const struct s3_sig_request *r,
                  const char *secret, struct s3_sig_seed *seed,
                  struct s3_sig_error *err);

/* What s3_sig_verify() signs, for a SignatureDoesNotMatch body
 * (CanonicalRequest, StringToSign) and for tests: V4's canonical request
 * and string to sign, V2's string to sign (*canonical is then NULL).
 * Returns 0 with malloc'ed strings (free() them); -EINVAL with *err =
 * SignatureDoesNotMatch when a signed header is absent; -ENOMEM. */
int s3_sig_canonical(const struct s3_sig *sig, const struct s3_sig_request *r,
                     char **canonical, char **string_to_sign,
                     struct s3_sig_error *err);

/* The body check of S3_PAYLOAD_SIGNED: the SHA-256 of the body must be
 * the hex in x-amz-content-sha256. Opaque; feed it every body byte. */
struct s3_sig_payload;

/* Returns 0 and *out (free with s3_sig_payload_free()), or -ENOMEM. */
int s3_sig_payload_new(const char *expected_hex, struct s3_sig_payload **out);
void s3_sig_payload_update(struct s3_sig_payload *p, const void *data,
                           size_t len);
/* At the end of the body: 0, or -EINVAL with *err =
 * XAmzContentSHA256Mismatch (400). */
int s3_sig_payload_finish(struct s3_sig_payload *p, struct s3_sig_error *err);
void s3_sig_payload_free(struct s3_sig_payload *p); /* NULL is fine */

/* SHA-256 fetched from OpenSSL once: EVP_sha256() looks the algorithm up
 * again on every use (OpenSSL 3), a cost per request here. */
const EVP_MD *s3_sig_sha256(void);

/* HMAC-SHA256 of 'data' under 'key' into 'out': 0 or -ENOMEM. */
int s3_sig_hmac_sha256(const void *key, size_t klen, const void *data,
                       size_t dlen, unsigned char out[32]);

/* Sets *err (for callers sharing the error shape, as s3_chunked.c). */
void s3_sig_set_error(struct s3_sig_error *err, const char *code,
                      unsigned int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif /* PROXY_S3_SIG_H */
