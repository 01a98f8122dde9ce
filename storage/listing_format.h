/*
 * listing_format.h - listing bodies byte for byte as Swift 2.30's servers
 * write them: json (json.dumps, ASCII only), xml (ElementTree and
 * listing_formats.to_xml) and plain text (one name per line).
 *
 * A server formats while it scans: a struct listing_writer attached to an
 * empty struct listing (listing.h) writes each entry into the body as the
 * scan finds it, so no entry is kept, and the body is a struct
 * listing_body whose memory is reused by the next listing (see
 * listing_body_free()). listing_format_container() and
 * listing_format_account() format a listing that kept its entries.
 * Thread-safe: writers share nothing but the body pool, which locks.
 */
#ifndef STORAGE_LISTING_FORMAT_H
#define STORAGE_LISTING_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "storage/dbenc.h"
#include "storage/listing.h"

enum listing_fmt { LISTING_PLAIN, LISTING_JSON, LISTING_XML };

/* A finished body: 'len' bytes at 'p'. Free with listing_body_free(). */
struct listing_body {
    char *p;
    size_t len, cap;
};

/* A body being written. Private fields; init, attach, then finish or
 * release. */
struct listing_writer {
    char *p;
    size_t len, cap;
    int err;
    enum listing_fmt fmt;
    bool account;
    size_t n;
    const char *root; /* "container" or "account" */
    struct dbenc ct;  /* content type without swift_bytes */
    uint64_t iso_day; /* the day of iso_date, UINT64_MAX: none */
    char iso_date[DB_ISO_LEN];
};

/* Starts the body of a container (account = false) or account listing
 * 'name' (it roots the xml) of at most 'limit' entries (a size hint).
 * Container entries are json {"bytes", "hash", "name", "content_type",
 * "last_modified"} or {"subdir"}, the swift_bytes content-type parameter
 * replacing bytes as Swift's override_bytes_from_content_type; account
 * entries {"name", "count", "bytes", "last_modified"}. */
void listing_writer_init(struct listing_writer *w, enum listing_fmt fmt,
                         bool account, const char *name, size_t limit);

/* Makes the empty listing 'l' hand its entries to 'w'. */
void listing_writer_attach(struct listing_writer *w, struct listing *l);

/* Writes one entry; a listing_emit_fn. Returns 0 or -ENOMEM. */
int listing_writer_entry(void *w, const struct listing_entry *e,
                         const char *name, const char *ctype, const char *etag);

/* Ends the body and releases 'w'. On success returns 0 and sets *out to
 * the body (an empty listing in plain text is an empty body: the server
 * answers 204); -ENOMEM otherwise. */
int listing_writer_finish(struct listing_writer *w, struct listing_body **out);

/* Drops an unfinished body. Idempotent. */
void listing_writer_release(struct listing_writer *w);

/* Gives the body's memory back for the next listing: a 10,000-row body is
 * a few MiB, and writing into pages that are already mapped is many
 * times quicker here than faulting fresh ones in (a small pool of bodies
 * of at most 16 MiB stays allocated). Takes a void * to serve as the
 * free function of a streamed response. NULL is fine. */
void listing_body_free(void *body);

/* Copies up to 'max' bytes of the body from 'pos' into 'buf'; returns
 * how many (0 at the end). A streamed response's read function. */
ssize_t listing_body_read(void *body, uint64_t pos, char *buf, size_t max);

/* Formats a listing that kept its entries. On success returns 0 and sets
 * *out to a malloc()ed body (free with free()) of *len bytes,
 * NUL-terminated; -ENOMEM otherwise. */
int listing_format_container(const struct listing *l, enum listing_fmt fmt,
                             const char *name, char **out, size_t *len);
int listing_format_account(const struct listing *l, enum listing_fmt fmt,
                           const char *name, char **out, size_t *len);

/* Swift's extract_swift_bytes: the content type with its parameters
 * rewritten as parse_content_type() reads them (";k=v", no spaces) minus
 * swift_bytes, appended to 'ct_out'; *sb (length *sblen) is the last
 * swift_bytes value in 'ct' or NULL. */
void listing_extract_swift_bytes(const char *ct, struct dbenc *ct_out,
                                 const char **sb, size_t *sblen);

#endif
