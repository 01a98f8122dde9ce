/*
 * s3_cors.h - S3 bucket CORS: CORSConfiguration bodies (s3_cors_xml.c)
 * and the matching of a request against a bucket's rules, apart from any
 * request so that unit tests and a fuzz target drive them alone.
 * s3_cors.c serves Put/Get/DeleteBucketCors, the preflight and the CORS
 * headers of actual requests (s3req.h).
 *
 * The rules are kept as a JSON array in the bucket's sysmeta:
 * [{"id": "...", "origins": [...], "methods": [...], "headers": [...],
 *   "expose": [...], "max_age": N}, ...], where "id", "headers",
 * "expose" and "max_age" are there only when the rule has them.
 */
#ifndef PROXY_S3_CORS_H
#define PROXY_S3_CORS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define S3_CORS_MAX_RULES 100
#define S3_CORS_MAX_BODY (64 * 1024)
/* What one sysmeta header can carry: the servers take 8192-byte header
 * lines, name included. */
#define S3_CORS_MAX_STORED 7168
/* The bucket's container sysmeta holding them. */
#define S3_CORS_SYSMETA "X-Container-Sysmeta-S3api-Cors"
#define S3_CORS_WHY_LEN 320

enum s3_cors_result {
    S3_CORS_OK,        /* *stored is the rules' compact JSON */
    S3_CORS_MALFORMED, /* MalformedXML */
    S3_CORS_INVALID,   /* InvalidRequest, 'why' says what */
    S3_CORS_TOO_LARGE, /* the JSON would not fit in sysmeta */
};

/* Parses a CORSConfiguration body into the JSON stored in the bucket's
 * sysmeta (one line, at most S3_CORS_MAX_STORED bytes). Returns a result
 * above (*stored malloc()ed on OK, else NULL; 'why' filled on INVALID),
 * or -ENOMEM. */
int s3_cors_parse(const char *body, size_t len, char **stored,
                  char why[S3_CORS_WHY_LEN]);

/* Whether 's' matches 'pattern', whose one '*' (if any) stands for any
 * run of characters; 'nocase' compares ASCII letters without case. */
bool s3_cors_wildcard_match(const char *pattern, const char *s, bool nocase);

/* The first rule of 'rules' (the stored JSON array) that allows 'origin'
 * (case-sensitive, wildcards), 'method' (exactly) and, when 'headers' is
 * not NULL, every name of that comma-separated list (case-insensitive,
 * wildcards). NULL when none does. The rule is borrowed from 'rules'. */
json_t *s3_cors_match(const json_t *rules, const char *origin,
                      const char *method, const char *headers);

#endif /* PROXY_S3_CORS_H */
