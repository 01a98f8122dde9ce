/*
 * s3_lifecycle.h - S3 LifecycleConfiguration bodies (s3_lifecycle_xml.c),
 * parsed apart from any request so that a fuzz target can drive the
 * parser alone. s3_lifecycle.c applies the rules.
 */
#ifndef PROXY_S3_LIFECYCLE_H
#define PROXY_S3_LIFECYCLE_H

#include <stddef.h>

#define S3_LIFECYCLE_MAX_RULES 100
#define S3_LIFECYCLE_MAX_STORED 6144 /* a header value the container keeps */

enum s3_lifecycle_result {
    S3_LIFECYCLE_OK,          /* *stored is the rules' compact JSON */
    S3_LIFECYCLE_MALFORMED,   /* MalformedXML */
    S3_LIFECYCLE_UNSUPPORTED, /* NotImplemented, *why says what */
    S3_LIFECYCLE_TOO_LARGE,   /* the JSON would not fit in sysmeta */
};

/* Parses a LifecycleConfiguration body into the JSON array stored in the
 * bucket's sysmeta: [{"id", "prefix", "enabled", "days", "date"}, ...],
 * one line, at most S3_LIFECYCLE_MAX_STORED bytes. Returns a result
 * above (*stored malloc()ed on OK, else NULL; *why static on
 * UNSUPPORTED), or -ENOMEM. */
int s3_lifecycle_parse(const char *body, size_t len, char **stored,
                       const char **why);

#endif /* PROXY_S3_LIFECYCLE_H */
