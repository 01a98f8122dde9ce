/*
 * listing_format.h - listing bodies byte for byte as Swift 2.30's servers
 * write them: json (json.dumps, ASCII only), xml (ElementTree and
 * listing_formats.to_xml) and plain text (one name per line).
 */
#ifndef STORAGE_LISTING_FORMAT_H
#define STORAGE_LISTING_FORMAT_H

#include <stddef.h>

#include "storage/dbenc.h"
#include "storage/listing.h"

enum listing_fmt { LISTING_PLAIN, LISTING_JSON, LISTING_XML };

/* Container listing: json entries {"bytes", "hash", "name",
 * "content_type", "last_modified"} or {"subdir"}; the swift_bytes
 * content-type parameter replaces bytes, as Swift's
 * override_bytes_from_content_type. 'name' roots the xml. On success
 * returns 0 and sets *out to a malloc()ed body (free with free()) of
 * *len bytes, NUL-terminated; -ENOMEM otherwise. An empty listing in
 * plain text is an empty body (the server answers 204). */
int listing_format_container(const struct listing *l, enum listing_fmt fmt,
                             const char *name, char **out, size_t *len);

/* Account listing: json {"name", "count", "bytes", "last_modified"}. */
int listing_format_account(const struct listing *l, enum listing_fmt fmt,
                           const char *name, char **out, size_t *len);

/* Swift's extract_swift_bytes: the content type with its parameters
 * rewritten as parse_content_type() reads them (";k=v", no spaces) minus
 * swift_bytes, appended to 'ct_out'; *sb (length *sblen) is the last
 * swift_bytes value in 'ct' or NULL. */
void listing_extract_swift_bytes(const char *ct, struct dbenc *ct_out,
                                 const char **sb, size_t *sblen);

#endif
