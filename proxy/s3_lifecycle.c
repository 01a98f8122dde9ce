/*
 * s3_lifecycle.c - S3 lifecycle expiration on Swift's X-Delete-At (beyond
 * Swift's s3api, which has no lifecycle). A bucket's rules live in its
 * container's sysmeta (X-Container-Sysmeta-S3api-Lifecycle, compact
 * JSON); an object written into the bucket (PutObject, CopyObject,
 * CompleteMultipartUpload) that an enabled rule matches by prefix gets
 * the X-Delete-At the rule gives: its Date, or creation plus Days rounded
 * up to the next midnight UTC, as S3 computes it. The object servers
 * refuse reads of an object past its X-Delete-At at once; the expirer
 * removes it and its listing row.
 *
 * Only what X-Delete-At can carry is taken: Expiration by Days or Date
 * with a Prefix filter. Transitions, noncurrent-version and
 * delete-marker actions, tag filters and AbortIncompleteMultipartUpload
 * are NotImplemented, never stored and ignored. Rules apply to objects
 * written after them, not to those already in the bucket.
 */
#include "proxy/s3req.h"

#include <ctype.h>
#include <errno.h>
#include <expat.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define LIFECYCLE_SYSMETA "X-Container-Sysmeta-S3api-Lifecycle"
#define MAX_LIFECYCLE_BODY (64 * 1024)
#define MAX_RULES 100
#define MAX_STORED 6144 /* a header value the container server keeps */

struct rule {
    char id[256];
    char prefix[1025];
    bool enabled;
    long days;     /* > 0, or 0 with a date */
    char date[32]; /* "2027-01-01T00:00:00.000Z" */
    bool has_status, has_expiration;
};

struct parse {
    XML_Parser p;
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
    XML_StopParser(ps->p, XML_FALSE);
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
            json_array_size(ps->rules) >= MAX_RULES) {
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

static void on_doctype(void *arg, const XML_Char *name, const XML_Char *sys,
                       const XML_Char *pub, int internal)
{
    (void)name;
    (void)sys;
    (void)pub;
    (void)internal;
    stop(arg, true, NULL);
}

/* The stored JSON of a LifecycleConfiguration body, or an error answered
 * (1), or -ENOMEM. */
static int parse_rules(struct preq *pr, const char *body, size_t len,
                       char **stored)
{
    struct parse ps = {0};
    int ok, rc = 0;

    *stored = NULL;
    ps.rules = json_array();
    ps.p = XML_ParserCreate(NULL);
    if (!ps.rules || !ps.p) {
        json_decref(ps.rules);
        if (ps.p)
            XML_ParserFree(ps.p);
        return -ENOMEM;
    }
    XML_SetUserData(ps.p, &ps);
    XML_SetElementHandler(ps.p, on_start, on_end);
    XML_SetCharacterDataHandler(ps.p, on_text);
    XML_SetStartDoctypeDeclHandler(ps.p, on_doctype);
    ok = XML_Parse(ps.p, body, (int)len, XML_TRUE) == XML_STATUS_OK;
    XML_ParserFree(ps.p);
    if (ps.unsupported) {
        rc = s3_error(pr, S3_ERR_NOT_IMPLEMENTED, ps.unsupported, NULL, 0);
        rc = rc ? rc : 1;
    } else if (!ok || ps.bad || !json_array_size(ps.rules)) {
        rc = s3_error(pr, S3_ERR_MALFORMED_XML, NULL, NULL, 0);
        rc = rc ? rc : 1;
    } else if (!(*stored = json_dumps(ps.rules, JSON_COMPACT))) {
        rc = -ENOMEM;
    } else if (strlen(*stored) > MAX_STORED || strpbrk(*stored, "\r\n")) {
        free(*stored);
        *stored = NULL;
        rc = s3_error(pr, S3_ERR_INVALID_REQUEST,
                      "The lifecycle configuration is too large to keep", NULL,
                      0);
        rc = rc ? rc : 1;
    }
    json_decref(ps.rules);
    return rc;
}

static int post_rules(struct preq *pr, const char *stored)
{
    struct http_header h = {LIFECYCLE_SYSMETA, stored ? stored : ""};

    return s3_post_bucket(pr, &h, 1);
}

int s3_lifecycle_put(struct preq *pr)
{
    struct s3req *r = pr->s3;
    char *stored = NULL;
    int rc;

    if (r->xml_over)
        return s3_error(pr, S3_ERR_MALFORMED_XML, NULL, NULL, 0);
    rc = parse_rules(pr, r->xml ? r->xml : "", r->xml_len, &stored);
    if (!rc)
        rc = post_rules(pr, stored);
    free(stored);
    if (!rc)
        rc = s3_respond_empty(pr, 200);
    return rc < 0 ? rc : 0;
}

/* The bucket's rules (a JSON array), or NULL. */
static json_t *bucket_rules(struct preq *pr)
{
    struct info ci;
    const char *v;
    json_t *rules = NULL;

    info_get(pr, pr->s3->user.account_id, pr->s3->bucket, &ci);
    v = ci.status / 100 == 2 ? hlist_get(&ci.headers, LIFECYCLE_SYSMETA) : NULL;
    if (v && *v)
        rules = json_loads(v, 0, NULL);
    info_release(&ci);
    if (rules && !json_is_array(rules)) {
        json_decref(rules);
        rules = NULL;
    }
    return rules;
}

static int get_rules(struct preq *pr)
{
    json_t *rules = bucket_rules(pr), *j;
    struct s3_xml x = {0};
    char *doc = NULL;
    size_t len = 0, i;
    int rc;

    if (!rules) {
        struct s3_xml_field f = {"BucketName", pr->s3->bucket};

        return s3_error(pr, S3_ERR_NO_SUCH_LIFECYCLE_CONFIGURATION, NULL, &f,
                        1);
    }
    s3_xml_declaration(&x);
    s3_xml_root(&x, "LifecycleConfiguration");
    json_array_foreach(rules, i, j)
    {
        const char *id = json_string_value(json_object_get(j, "id"));
        const char *prefix = json_string_value(json_object_get(j, "prefix"));
        const char *date = json_string_value(json_object_get(j, "date"));
        json_int_t days = json_integer_value(json_object_get(j, "days"));

        s3_xml_open(&x, "Rule");
        if (id && *id)
            s3_xml_elem(&x, "ID", id);
        s3_xml_open(&x, "Filter");
        s3_xml_elem(&x, "Prefix", prefix ? prefix : "");
        s3_xml_close(&x);
        s3_xml_elem(&x, "Status",
                    json_is_true(json_object_get(j, "enabled")) ? "Enabled"
                                                                : "Disabled");
        s3_xml_open(&x, "Expiration");
        if (days > 0)
            s3_xml_elemf(&x, "Days", "%lld", (long long)days);
        else
            s3_xml_elem(&x, "Date", date ? date : "");
        s3_xml_close(&x);
        s3_xml_close(&x);
    }
    json_decref(rules);
    rc = s3_xml_finish(&x, &doc, &len);
    return rc ? rc : s3_respond_xml(pr, 200, doc, len);
}

int s3_lifecycle_op(struct preq *pr, const char *m)
{
    struct s3req *r = pr->s3;
    int rc, ex = s3_bucket_exists(pr);

    if (ex <= 0)
        return ex ? s3_error(pr, S3_ERR_SERVICE_UNAVAILABLE, NULL, NULL, 0)
                  : s3_no_such_bucket(pr);
    if (!strcmp(m, "GET"))
        return get_rules(pr);
    if (!strcmp(m, "PUT")) {
        r->op = OP_PUT_LIFECYCLE;
        r->xml_max = MAX_LIFECYCLE_BODY;
        if (pr->body_length > MAX_LIFECYCLE_BODY)
            return s3_error(pr, S3_ERR_MALFORMED_XML, NULL, NULL, 0);
        return 0;
    }
    if (!strcmp(m, "DELETE")) {
        rc = post_rules(pr, NULL);
        if (!rc)
            rc = s3_respond_empty(pr, 204);
        return rc < 0 ? rc : 0;
    }
    return s3_error(pr, S3_ERR_METHOD_NOT_ALLOWED, NULL, NULL, 0);
}

/* The Unix time a rule expires an object created 'now' at. */
static long long expiry(const json_t *rule, time_t now)
{
    json_int_t days = json_integer_value(json_object_get(rule, "days"));
    const char *date = json_string_value(json_object_get(rule, "date"));
    struct tm tm = {0};

    if (days > 0) /* S3: creation + days, to the next midnight UTC */
        return ((long long)now / 86400 + days + 1) * 86400;
    if (date && strptime(date, "%Y-%m-%dT%H:%M:%S", &tm))
        return (long long)timegm(&tm);
    return 0;
}

int s3_lifecycle_apply(struct preq *pr, const char *key, struct hlist *h)
{
    json_t *rules = bucket_rules(pr), *j;
    long long at = 0;
    size_t i;
    int rc = 0;

    if (!rules)
        return 0;
    /* the earliest expiry among the enabled rules that match, as S3 */
    json_array_foreach(rules, i, j)
    {
        const char *prefix = json_string_value(json_object_get(j, "prefix"));
        long long t;

        if (!json_is_true(json_object_get(j, "enabled")) ||
            strncmp(key, prefix ? prefix : "", strlen(prefix ? prefix : "")))
            continue;
        t = expiry(j, (time_t)pr->now);
        if (t > 0 && (!at || t < at))
            at = t;
    }
    json_decref(rules);
    if (at > 0) {
        char v[32];

        /* a Date already past: the object goes as soon as may be */
        if (at <= (long long)pr->now)
            at = (long long)pr->now + 1;
        snprintf(v, sizeof(v), "%lld", at);
        rc = h ? hlist_set(h, "X-Delete-At", v)
               : req_set_header(pr->req, "X-Delete-At", v);
    }
    return rc;
}
