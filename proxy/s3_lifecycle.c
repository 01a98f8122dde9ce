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
 * are NotImplemented, never stored and ignored. Objects already in the
 * bucket when a rule is put get no X-Delete-At: the container servers'
 * lifecycle pass (storage/cont_lifecycle.c) expires them, by the same
 * arithmetic (common/lifecycle_rules.c).
 */
#include "proxy/s3_lifecycle.h"
#include "common/lifecycle_rules.h"
#include "proxy/s3_bucket_doc.h"
#include "proxy/s3req.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define LIFECYCLE_SYSMETA "X-Container-Sysmeta-S3api-Lifecycle"
#define MAX_LIFECYCLE_BODY (64 * 1024)

/* The stored JSON of a LifecycleConfiguration body, or an error answered
 * (1), or -ENOMEM. */
static int parse_rules(struct preq *pr, const char *body, size_t len,
                       char **stored)
{
    const char *why;
    int rc = s3_lifecycle_parse(body, len, stored, &why);

    switch (rc) {
    case S3_LIFECYCLE_OK: return 0;
    case S3_LIFECYCLE_UNSUPPORTED:
        rc = s3_error(pr, S3_ERR_NOT_IMPLEMENTED, why, NULL, 0);
        break;
    case S3_LIFECYCLE_MALFORMED:
        rc = s3_error(pr, S3_ERR_MALFORMED_XML, NULL, NULL, 0);
        break;
    case S3_LIFECYCLE_TOO_LARGE:
        rc = s3_error(pr, S3_ERR_INVALID_REQUEST,
                      "The lifecycle configuration is too large to keep", NULL,
                      0);
        break;
    default: return rc;
    }
    return rc ? rc : 1;
}

static int post_rules(struct preq *pr, const char *stored)
{
    return s3_bucket_doc_post(pr, LIFECYCLE_SYSMETA, stored);
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

/* The bucket's stored rules (malloc()ed), or NULL. */
static char *bucket_rules_stored(struct preq *pr)
{
    return s3_bucket_doc_stored(pr, pr->s3->user.account_id, pr->s3->bucket,
                                LIFECYCLE_SYSMETA);
}

/* The bucket's rules (a JSON array), or NULL. */
static json_t *bucket_rules(struct preq *pr)
{
    char *stored = bucket_rules_stored(pr);
    json_t *rules = stored ? json_loads(stored, 0, NULL) : NULL;

    free(stored);
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
    static const struct s3_bucket_doc doc = {
        LIFECYCLE_SYSMETA, OP_PUT_LIFECYCLE, MAX_LIFECYCLE_BODY, get_rules,
        NULL,
    };

    return s3_bucket_doc_op(pr, m, &doc);
}

int s3_lifecycle_apply(struct preq *pr, const char *key, struct hlist *h)
{
    struct lifecycle_rules rs;
    char *stored = bucket_rules_stored(pr);
    long long at = 0;
    int rc = 0;

    if (!stored)
        return 0;
    /* the earliest expiry among the enabled rules that match, as S3;
     * the container servers' lifecycle pass reckons the same
     * (lifecycle_rules.h) */
    if (!lifecycle_rules_parse(stored, &rs))
        at = lifecycle_rules_due(&rs, key, (long long)(time_t)pr->now);
    lifecycle_rules_release(&rs);
    free(stored);
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
