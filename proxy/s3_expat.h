/*
 * s3_expat.h - one expat parse of a small S3 request body, as each of the
 * S3 API's body parsers runs it (ACL policies, lifecycle and CORS rules):
 * the whole body in one call, and no DTD: a DOCTYPE stops the parse, so
 * no entity is ever declared or expanded (no "billion laughs").
 */
#ifndef PROXY_S3_EXPAT_H
#define PROXY_S3_EXPAT_H

#include <expat.h>
#include <stdbool.h>
#include <stddef.h>

/* The first member of a parser's state: the handlers get a pointer to
 * that state as their user data, and may stop the parse with
 * XML_StopParser(x.p, XML_FALSE). */
struct s3_expat {
    XML_Parser p; /* during s3_expat_parse() only */
    bool doctype; /* a DOCTYPE was refused */
};

/* Parses 'body' ('len' bytes) with the handlers: 1 when it is well-formed
 * XML that no handler stopped, 0 when not (malformed, a DOCTYPE, stopped),
 * -ENOMEM. */
int s3_expat_parse(struct s3_expat *x, const char *body, size_t len,
                   XML_StartElementHandler start, XML_EndElementHandler end,
                   XML_CharacterDataHandler text);

#endif /* PROXY_S3_EXPAT_H */
