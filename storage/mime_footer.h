/*
 * mime_footer.h - the body of a PUT with a metadata footer, as Swift's
 * proxy sends it (X-Backend-Obj-Metadata-Footer: yes): a multipart MIME
 * document whose first part is the object's data and whose second part is
 * JSON metadata (the ETag among it) known only once the data was sent.
 *
 *     --<boundary>\r\n
 *     X-Document: object body\r\n
 *     \r\n
 *     <object data>\r\n
 *     --<boundary>\r\n
 *     X-Document: object metadata\r\n
 *     Content-MD5: <md5 of the JSON>\r\n
 *     \r\n
 *     {"Etag": "<md5 of the data>"}\r\n
 *     --<boundary>--\r\n
 *
 * A streaming parser: the document is fed in pieces of any size, object
 * data goes to the caller's callback as it is found (no copy, except for
 * the few bytes at a piece's end that might begin a boundary), and memory
 * stays bounded (the part headers and the footer, both capped) whatever
 * the object's size. What it accepts is what Swift 2.30's
 * iter_multipart_mime_documents() and its object server's
 * _read_metadata_footer() accept (doc/object-server.md): blank lines
 * before the first boundary, part headers ending at the first blank line,
 * any two bytes after a boundary that is not the last, a footer that runs
 * to the end of the stream, parts after the footer ignored.
 *
 * Errors are -errno; mime_footer_error() then says why in Swift's words:
 *   -EINVAL   malformed document or footer (answer 400 with the reason)
 *   -EBADMSG  the footer's Content-MD5 does not match it (422)
 *   -EMSGSIZE part headers or footer over their cap (400)
 * A callback's own error is returned as it is. After an error the parser
 * takes no more input.
 */
#ifndef STORAGE_MIME_FOOTER_H
#define STORAGE_MIME_FOOTER_H

#include <jansson.h>
#include <stddef.h>

/* Longest boundary taken (Swift's proxy sends 64 hex digits). */
#define MIME_FOOTER_MAX_BOUNDARY 256
/* Caps, against a broken or hostile sender: the header block of one part
 * and the footer's JSON (Swift's encryption footers are under 2 KiB). */
#define MIME_FOOTER_MAX_HEADERS 8192
#define MIME_FOOTER_MAX_FOOTER 65536

struct mime_footer; /* opaque */

/* Called with each run of object data, in order; a non-zero return stops
 * the parse and is returned by mime_footer_feed(). */
typedef int (*mime_footer_data_fn)(void *arg, const char *data, size_t len);

/* A parser for the document with this boundary (without the leading
 * dashes). Returns 0 and sets *out (free with mime_footer_free()),
 * -EINVAL for an empty boundary or one over MIME_FOOTER_MAX_BOUNDARY,
 * -ENOMEM. */
int mime_footer_new(const char *boundary, struct mime_footer **out);
void mime_footer_free(struct mime_footer *mf); /* NULL is fine */

/* Parses the next 'len' bytes of the document, calling 'data' with the
 * object data they hold. Returns 0, a callback's error or -errno. */
int mime_footer_feed(struct mime_footer *mf, const char *buf, size_t len,
                     mime_footer_data_fn data, void *arg);

/* The document is complete: the held-back end of the data goes to 'data',
 * then the footer is checked (a footer part, its Content-MD5, JSON
 * object). Returns 0 and sets *footer to the footer's JSON object (the
 * caller's reference: json_decref() it), or -errno with *footer NULL. */
int mime_footer_finish(struct mime_footer *mf, mime_footer_data_fn data,
                       void *arg, json_t **footer);

/* Why the last call failed, as Swift's object server says it ("couldn't
 * find footer MIME doc", ...); "" when it did not. */
const char *mime_footer_error(const struct mime_footer *mf);

#endif /* STORAGE_MIME_FOOTER_H */
