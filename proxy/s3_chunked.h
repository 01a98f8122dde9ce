/*
 * s3_chunked.h - the aws-chunked body of a V4 request whose
 * x-amz-content-sha256 is STREAMING-AWS4-HMAC-SHA256-PAYLOAD:
 *
 *   <hex size>;chunk-signature=<64 hex>\r\n<size bytes>\r\n ...
 *   0;chunk-signature=<64 hex>\r\n\r\n
 *
 * Each chunk's signature signs its data and chains from the previous
 * one, the first from the request's own (struct s3_sig_seed from
 * s3_sig_verify()). The decoder takes the body in pieces of any size
 * (one byte at a time works), hands the data on as it comes and keeps
 * only a hash and a header line: memory is bounded whatever the chunk
 * sizes.
 *
 * Data is handed on before its chunk's signature has been checked (that
 * happens at the chunk's end): a caller that stores it keeps nothing
 * until s3_chunked_finish() returns 0. One decoder per request; not
 * thread-safe.
 */
#ifndef PROXY_S3_CHUNKED_H
#define PROXY_S3_CHUNKED_H

#include "proxy/s3_sig.h"

#include <stddef.h>
#include <stdint.h>

/* A header line ("<hex>;chunk-signature=<64 hex>\r\n" is 84 bytes with a
 * 16-digit size) longer than this is refused. */
#define S3_CHUNKED_LINE_MAX 256
/* S3 refuses single PUTs over 5 GiB: so is a chunk (EntityTooLarge). */
#define S3_CHUNKED_MAX_CHUNK ((int64_t)5 << 30)
/* Every chunk but the last is at least this long (InvalidChunkSizeError). */
#define S3_CHUNKED_MIN_CHUNK 8192

struct s3_chunked; /* opaque */

/* A decoder chaining from 'seed' (copied). 'decoded_length' is
 * x-amz-decoded-content-length (struct s3_sig.decoded_length), or -1 not
 * to check it. Returns 0 and *out (free with s3_chunked_free()), or
 * -ENOMEM. */
int s3_chunked_new(const struct s3_sig_seed *seed, int64_t decoded_length,
                   struct s3_chunked **out);
void s3_chunked_free(struct s3_chunked *dec); /* NULL is fine */

/* Receives decoded data ('len' > 0); a non-zero return stops the feed
 * and is returned by s3_chunked_feed(). */
typedef int (*s3_chunked_emit_fn)(void *arg, const char *data, size_t len);

/* Parses the next 'len' bytes of the body, calling 'emit' with the data
 * they hold. Returns 0; emit's non-zero return; or -EINVAL with *err set
 * (and every later call fails the same way):
 *   SignatureDoesNotMatch (403): a chunk signature is wrong or missing;
 *   IncompleteBody (400): bad framing (size not hex, missing CRLF or
 *     chunk-signature, a header line over S3_CHUNKED_LINE_MAX), more data
 *     than x-amz-decoded-content-length, bytes after the final chunk;
 *   InvalidChunkSizeError (403): a chunk under 8 KiB before the last;
 *   EntityTooLarge (400): a chunk over S3_CHUNKED_MAX_CHUNK. */
int s3_chunked_feed(struct s3_chunked *dec, const char *data, size_t len,
                    s3_chunked_emit_fn emit, void *arg,
                    struct s3_sig_error *err);

/* At the end of the body: 0 when the final 0-size chunk arrived with a
 * good signature (its closing CRLF may be missing, as Swift allows) and
 * the data came to decoded_length; else -EINVAL with *err =
 * IncompleteBody (or the error a feed already returned). */
int s3_chunked_finish(struct s3_chunked *dec, struct s3_sig_error *err);

/* Bytes of data decoded so far. */
int64_t s3_chunked_decoded(const struct s3_chunked *dec);

#endif /* PROXY_S3_CHUNKED_H */
