/* Description: libFuzzer target: S3 LifecycleConfiguration bodies
 * (s3_lifecycle_xml.c on expat) on arbitrary bytes never crash, and what
 * they accept is a JSON array that fits the bucket's sysmeta header: one
 * line, at most S3_LIFECYCLE_MAX_STORED bytes, every rule with a prefix,
 * and exactly one of days > 0 or a date. */
#include "proxy/s3_lifecycle.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_rules(const char *stored)
{
    json_t *rules, *r;
    size_t i;

    if (strlen(stored) > S3_LIFECYCLE_MAX_STORED || strpbrk(stored, "\r\n"))
        abort();
    rules = json_loads(stored, 0, NULL);
    if (!json_is_array(rules) || !json_array_size(rules) ||
        json_array_size(rules) > S3_LIFECYCLE_MAX_RULES)
        abort();
    json_array_foreach(rules, i, r)
    {
        json_int_t days = json_integer_value(json_object_get(r, "days"));
        const char *date = json_string_value(json_object_get(r, "date"));

        if (!json_is_string(json_object_get(r, "prefix")) || !date ||
            (days > 0) == (*date != '\0') || days < 0)
            abort();
    }
    json_decref(rules);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *stored = NULL;
    const char *why = NULL;
    int rc;

    if (size > 64 * 1024)
        return 0;
    rc = s3_lifecycle_parse((const char *)data, size, &stored, &why);
    if (rc == S3_LIFECYCLE_OK)
        check_rules(stored);
    else if (stored || (rc == S3_LIFECYCLE_UNSUPPORTED && !why) ||
             (rc != S3_LIFECYCLE_MALFORMED && rc != S3_LIFECYCLE_UNSUPPORTED &&
              rc != S3_LIFECYCLE_TOO_LARGE && rc != -ENOMEM))
        abort();
    free(stored);
    return 0;
}
