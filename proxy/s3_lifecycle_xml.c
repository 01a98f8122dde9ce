/*
 * s3_lifecycle_xml.c - LifecycleConfiguration bodies on expat
 * (s3_lifecycle.h). Only what X-Delete-At can carry is taken: Expiration
 * by Days or Date with a Prefix filter; transitions, noncurrent-version
 * and delete-marker actions, tag and size filters and
 * AbortIncompleteMultipartUpload are reported unsupported. A DOCTYPE is
 * refused (no entity expansion).
 */
#include "proxy/s3_lifecycle.h"

#include "proxy/s3_expat.h"
#include "proxy/s3_sysmeta_doc.h"

#include <ctype.h>
#include <errno.h>
#include <expat.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct rule {
    char id[256];
    char prefix[1025];
    bool enabled;
    long days;     /* > 0, or 0 with a date */
    char date[32]; /* "2027-01-01T00:00:00.000Z" */
    bool has_status, has_expiration;
};

struct parse {
    struct s3_expat x; /* first: the handlers' user data */
    json_t *rules;
    struct rule r;
    int depth;
    bool in_rule, in_expiration, in_filter, bad;
    const char *unsupported;
    char path[64]; /* the innermost element's local name */
    char text[1100];
    size_t text_len;
};

static const char *local(const char *name)
{
    const char *c = strrchr(name, ':');

    return c ? c + 1 : name;
}

static void stop(struct parse *ps, bool bad, const char *unsupported)
{
    if (bad)
        ps->bad = true;
    if (unsupported && !ps->unsupported)
        ps->unsupported = unsupported;
    XML_StopParser(ps->x.p, XML_FALSE);
}

static void on_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
    struct parse *ps = arg;
    const char *n = local(name);

    (void)attrs;
    ps->text_len = 0;
    snprintf(ps->path, sizeof(ps->path), "%s", n);
    if (++ps->depth > 6) {
        stop(ps, true, NULL);
        return;
    }
    if (!strcmp(n, "Rule")) {
        memset(&ps->r, 0, sizeof(ps->r));
        ps->in_rule = true;
    } else if (!strcmp(n, "Expiration")) {
        ps->in_expiration = true;
        ps->r.has_expiration = true;
    } else if (!strcmp(n, "Filter")) {
        ps->in_filter = true;
    } else if (!strcmp(n, "Transition") ||
               !strcmp(n, "NoncurrentVersionTransition") ||
               !strcmp(n, "NoncurrentVersionExpiration") ||
               !strcmp(n, "AbortIncompleteMultipartUpload")) {
        stop(ps, false, "Only Expiration rules map onto X-Delete-At");
    } else if (ps->in_filter && (!strcmp(n, "Tag") || !strcmp(n, "And") ||
                                 !strncmp(n, "ObjectSize", 10))) {
        stop(ps, false, "Only Prefix filters are supported");
    } else if (ps->in_expiration && !strcmp(n, "ExpiredObjectDeleteMarker")) {
        stop(ps, false, "Buckets are not versioned: no delete markers");
    }
}

static void on_text(void *arg, const XML_Char *s, int len)
{
    struct parse *ps = arg;

    if (ps->text_len + (size_t)len >= sizeof(ps->text)) {
        stop(ps, true, NULL);
        return;
    }
    memcpy(ps->text + ps->text_len, s, (size_t)len);
    ps->text_len += (size_t)len;
}

/* An xsd:int of days, 1 or more. */
static long parse_days(const char *s)
{
    char *end;
    long v;

    while (isspace((unsigned char)*s))
        s++;
    v = strtol(s, &end, 10);
    while (isspace((unsigned char)*end))
        end++;
    return *end || end == s || v < 1 || v > 100000 ? -1 : v;
}

/* An ISO 8601 date at midnight UTC, as S3 requires. */
static bool parse_date(const char *s, char out[32])
{
    struct tm tm = {0};
    const char *end;

    while (isspace((unsigned char)*s))
        s++;
    end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end || tm.tm_hour || tm.tm_min || tm.tm_sec)
        return false;
    if (*end == '.')
        end += 1 + strspn(end + 1, "0123456789");
    if (strcmp(end, "Z") && strcmp(end, "+00:00") && *end)
        return false;
    strftime(out, 32, "%Y-%m-%dT00:00:00.000Z", &tm);
    return true;
}

static void on_end(void *arg, const XML_Char *name)
{
    struct parse *ps = arg;
    const char *n = local(name);
    struct rule *r = &ps->r;

    ps->depth--;
    ps->text[ps->text_len] = '\0';
    if (ps->in_rule && !strcmp(n, "ID")) {
        if (ps->text_len >= sizeof(r->id)) /* S3: 255 characters at most */
        {
            stop(ps, true, NULL);
            return;
        }
        memcpy(r->id, ps->text, ps->text_len + 1);
    } else if (ps->in_rule && !strcmp(n, "Prefix")) {
        if (ps->text_len >= sizeof(r->prefix)) {
            stop(ps, true, NULL);
            return;
        }
        memcpy(r->prefix, ps->text, ps->text_len + 1);
    } else if (ps->in_rule && !strcmp(n, "Status")) {
        r->has_status = true;
        if (!strcmp(ps->text, "Enabled"))
            r->enabled = true;
        else if (strcmp(ps->text, "Disabled")) {
            stop(ps, true, NULL);
            return;
        }
    } else if (ps->in_expiration && !strcmp(n, "Days")) {
        if ((r->days = parse_days(ps->text)) < 0) {
            stop(ps, true, NULL);
            return;
        }
    } else if (ps->in_expiration && !strcmp(n, "Date")) {
        if (!parse_date(ps->text, r->date)) {
            stop(ps, true, NULL);
            return;
        }
    } else if (!strcmp(n, "Expiration")) {
        ps->in_expiration = false;
    } else if (!strcmp(n, "Filter")) {
        ps->in_filter = false;
    } else if (!strcmp(n, "Rule")) {
        json_t *j;

        ps->in_rule = false;
        if (!r->has_status || !r->has_expiration ||
            (r->days > 0) == (r->date[0] != '\0') ||
            json_array_size(ps->rules) >= S3_LIFECYCLE_MAX_RULES) {
            stop(ps, true, NULL);
            return;
        }
        j = json_pack("{s:s, s:s, s:b, s:I, s:s}", "id", r->id, "prefix",
                      r->prefix, "enabled", r->enabled, "days",
                      (json_int_t)r->days, "date", r->date);
        if (!j || json_array_append_new(ps->rules, j)) {
            stop(ps, true, NULL);
            return;
        }
    }
}

int s3_lifecycle_parse(const char *body, size_t len, char **stored,
                       const char **why)
{
    struct parse ps = {0};
    int ok, rc;

    *stored = NULL;
    *why = NULL;
    ps.rules = json_array();
    if (!ps.rules)
        return -ENOMEM;
    ok = s3_expat_parse(&ps.x, body, len, on_start, on_end, on_text);
    if (ok < 0) {
        json_decref(ps.rules);
        return ok;
    }
    if (ps.unsupported) {
        *why = ps.unsupported;
        rc = S3_LIFECYCLE_UNSUPPORTED;
    } else if (!ok || ps.bad || !json_array_size(ps.rules)) {
        rc = S3_LIFECYCLE_MALFORMED;
    } else {
        rc = s3_sysmeta_doc_dump(ps.rules, S3_LIFECYCLE_MAX_STORED, stored);
        if (rc >= 0)
            rc = rc ? S3_LIFECYCLE_TOO_LARGE : S3_LIFECYCLE_OK;
    }
    json_decref(ps.rules);
    return rc;
}
