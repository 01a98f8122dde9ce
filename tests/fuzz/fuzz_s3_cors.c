/* Description: libFuzzer target: S3 CORSConfiguration bodies
 * (s3_cors_xml.c on expat) on arbitrary bytes never crash, and what they
 * accept is a JSON array that fits the bucket's sysmeta header: one line,
 * at most S3_CORS_MAX_STORED bytes, 1..S3_CORS_MAX_RULES rules each with
 * origins and methods (GET, PUT, POST, DELETE, HEAD) and at most one '*'
 * in an origin or allowed header. The rules accepted are then matched
 * against a request made of the input's tail. */
#include "proxy/s3_cors.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool one_star_at_most(const json_t *a)
{
    json_t *v;
    size_t i;

    json_array_foreach(a, i, v)
    {
        const char *s = json_string_value(v);

        if (!s || (strchr(s, '*') && strchr(s, '*') != strrchr(s, '*')))
            return false;
    }
    return true;
}

static void check_rules(const char *stored, const char *origin)
{
    json_t *rules, *r;
    size_t i, j;

    if (strlen(stored) > S3_CORS_MAX_STORED || strpbrk(stored, "\r\n"))
        abort();
    rules = json_loads(stored, 0, NULL);
    if (!json_is_array(rules) || !json_array_size(rules) ||
        json_array_size(rules) > S3_CORS_MAX_RULES)
        abort();
    json_array_foreach(rules, i, r)
    {
        json_t *m;

        if (!json_array_size(json_object_get(r, "origins")) ||
            !json_array_size(json_object_get(r, "methods")) ||
            !one_star_at_most(json_object_get(r, "origins")) ||
            !one_star_at_most(json_object_get(r, "headers")))
            abort();
        json_array_foreach(json_object_get(r, "methods"), j, m)
        {
            const char *s = json_string_value(m);

            if (!s || (strcmp(s, "GET") && strcmp(s, "PUT") &&
                       strcmp(s, "POST") && strcmp(s, "DELETE") &&
                       strcmp(s, "HEAD")))
                abort();
        }
    }
    /* whatever the request, a match is one of the rules */
    r = s3_cors_match(rules, origin, "GET", origin);
    if (r && !json_array_size(json_object_get(r, "origins")))
        abort();
    json_decref(rules);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[S3_CORS_WHY_LEN], *stored = NULL, *origin;
    int rc;

    if (size > S3_CORS_MAX_BODY + 1)
        return 0;
    rc = s3_cors_parse((const char *)data, size, &stored, why);
    if (rc == S3_CORS_OK) {
        /* the last 64 bytes as an origin and a list of header names */
        size_t n = size < 64 ? size : 64;

        origin = strndup((const char *)data + size - n, n);
        if (origin)
            check_rules(stored, origin);
        free(origin);
    } else if (stored || (rc == S3_CORS_INVALID && !why[0]) ||
               (rc != S3_CORS_MALFORMED && rc != S3_CORS_INVALID &&
                rc != S3_CORS_TOO_LARGE && rc != -ENOMEM)) {
        abort();
    }
    free(stored);
    return 0;
}
