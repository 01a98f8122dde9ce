/*
 * lifecycle_rules.c - S3 lifecycle expiration times (lifecycle_rules.h).
 * What a rule says is the proxy's to parse from XML (s3_lifecycle_xml.c);
 * this file only reads the JSON it stored and does S3's arithmetic.
 */
#include "common/lifecycle_rules.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SECS_PER_DAY 86400LL

/* "2027-01-01T00:00:00.000Z" (what s3_lifecycle_xml.c stores) as Unix
 * time; 0 when it does not read. */
static long long parse_date(const char *s)
{
    struct tm tm = {0};

    if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
        return 0;
    return (long long)timegm(&tm);
}

static int parse_rule(const json_t *j, struct lifecycle_rule *r)
{
    const char *prefix = json_string_value(json_object_get(j, "prefix"));
    json_int_t days = json_integer_value(json_object_get(j, "days"));

    r->prefix = strdup(prefix ? prefix : "");
    if (!r->prefix)
        return -ENOMEM;
    r->enabled = json_is_true(json_object_get(j, "enabled"));
    r->days = days > 0 ? (long long)days : 0;
    if (!r->days)
        r->date = parse_date(json_string_value(json_object_get(j, "date")));
    return 0;
}

int lifecycle_rules_parse(const char *json, struct lifecycle_rules *out)
{
    json_t *doc = json ? json_loads(json, 0, NULL) : NULL, *j;
    size_t i;
    int err = 0;

    *out = (struct lifecycle_rules){0};
    if (!json_is_array(doc)) {
        json_decref(doc);
        return -EINVAL;
    }
    if (json_array_size(doc)) {
        out->v = calloc(json_array_size(doc), sizeof(*out->v));
        if (!out->v)
            err = -ENOMEM;
    }
    json_array_foreach(doc, i, j)
    {
        if (err)
            break;
        if (!json_is_object(j))
            continue; /* not a rule the proxy wrote: ignored */
        err = parse_rule(j, &out->v[out->n]);
        if (!err)
            out->n++;
    }
    json_decref(doc);
    return err;
}

void lifecycle_rules_release(struct lifecycle_rules *rs)
{
    for (size_t i = 0; i < rs->n; i++)
        free(rs->v[i].prefix);
    free(rs->v);
    *rs = (struct lifecycle_rules){0};
}

bool lifecycle_rules_any_enabled(const struct lifecycle_rules *rs)
{
    for (size_t i = 0; i < rs->n; i++)
        if (rs->v[i].enabled)
            return true;
    return false;
}

long long lifecycle_rule_due(const struct lifecycle_rule *r, long long created)
{
    if (r->days > 0) {
        if (created < 0)
            created = 0;
        /* S3: creation + days, rounded up to the next midnight UTC */
        return (created / SECS_PER_DAY + r->days + 1) * SECS_PER_DAY;
    }
    return r->date > 0 ? r->date : 0;
}

long long lifecycle_rules_due(const struct lifecycle_rules *rs, const char *key,
                              long long created)
{
    long long at = 0;

    for (size_t i = 0; i < rs->n; i++) {
        const struct lifecycle_rule *r = &rs->v[i];
        long long t;

        if (!r->enabled || strncmp(key, r->prefix, strlen(r->prefix)))
            continue;
        t = lifecycle_rule_due(r, created);
        if (t > 0 && (!at || t < at))
            at = t;
    }
    return at;
}
