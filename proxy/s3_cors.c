/*
 * s3_cors.c - S3 bucket CORS, as AWS S3 behaves: Put/Get/DeleteBucketCors
 * (the rules in the bucket's container sysmeta X-Container-Sysmeta-S3api-
 * Cors, compact JSON, s3_cors.h), the browser's preflight (an unsigned
 * OPTIONS) and the Access-Control-* headers of actual signed requests.
 *
 * A preflight carries no credentials, and a bucket is a container of the
 * signing user's account: the preflight alone cannot tell which account's
 * bucket it names. So PutBucketCors also records the bucket's account in
 * the registry of buckets reachable without credentials (s3_registry.h),
 * which a preflight reads first, then the bucket's rules. An account
 * whose bucket name another account has registered gets 409
 * BucketAlreadyExists, unless that registration is stale. DeleteBucketCors
 * removes the account's registration unless the bucket is public-read.
 */
#include "proxy/s3_cors.h"
#include "proxy/s3_bucket_doc.h"
#include "proxy/s3_registry.h"
#include "proxy/s3req.h"

#include "common/conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PREFLIGHT_VARY                                                         \
    "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
#define NOT_ALLOWED                                                            \
    "CORSResponse: This CORS request is not allowed. This is usually "         \
    "because the evalution of Origin, request method / "                       \
    "Access-Control-Request-Method or Access-Control-Request-Headers are "     \
    "not whitelisted by the resource's CORS spec."
#define NOT_ENABLED "CORSResponse: CORS is not enabled for this bucket."
#define SWIFT_ALLOW "GET, HEAD, PUT, POST, DELETE, OPTIONS"

/* ---- configuration: s3api's cors_preflight_allow_origin ---- */

int s3_cors_conf(struct s3api *api, const struct conf *conf,
                 char err[CONF_ERR_LEN])
{
    const char *v = conf_get(conf, "filter:s3api",
                             "cors_preflight_allow_origin", NULL);
    char *copy, *tok, *save = NULL;
    size_t n = 0;
    bool star = false;

    api->cors_allow_origin = NULL;
    if (!v)
        return 0;
    copy = strdup(v);
    api->cors_allow_origin = calloc(1, strlen(v) + 2);
    if (!copy || !api->cors_allow_origin) {
        free(copy);
        return -ENOMEM;
    }
    /* list_from_csv(): stripped, empty items dropped; kept as "a,b" */
    for (tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        char *e;

        while (isspace((unsigned char)*tok))
            tok++;
        e = tok + strlen(tok);
        while (e > tok && isspace((unsigned char)e[-1]))
            *--e = '\0';
        if (!*tok)
            continue;
        star = star || !strcmp(tok, "*");
        if (n++)
            strcat(api->cors_allow_origin, ",");
        strcat(api->cors_allow_origin, tok);
    }
    free(copy);
    if (star && n > 1) {
        snprintf(err, CONF_ERR_LEN,
                 "%s: [filter:s3api] cors_preflight_allow_origin: if it "
                 "should include all domains, * must be the only entry",
                 conf_path(conf));
        return -EINVAL;
    }
    return 0;
}

/* ---- the stored rules ---- */

/* The rules of 'account'/'bucket' (a JSON array), or NULL: none, or the
 * container is not there. */
static json_t *bucket_rules(struct preq *pr, const char *account,
                            const char *bucket)
{
    char *stored = s3_bucket_doc_stored(pr, account, bucket, S3_CORS_SYSMETA);
    json_t *rules = stored ? json_loads(stored, 0, NULL) : NULL;

    free(stored);
    if (rules && (!json_is_array(rules) || !json_array_size(rules))) {
        json_decref(rules);
        rules = NULL;
    }
    return rules;
}

static int xml_strings(struct s3_xml *x, const json_t *rule, const char *key,
                       const char *elem)
{
    const json_t *a = json_object_get(rule, key);
    json_t *v;
    size_t i;
    int rc = 0;

    json_array_foreach(a, i, v)
    {
        if (!rc && json_string_value(v))
            rc = s3_xml_elem(x, elem, json_string_value(v));
    }
    return rc;
}

static int get_cors(struct preq *pr)
{
    struct s3req *r = pr->s3;
    json_t *rules = bucket_rules(pr, r->user.account_id, r->bucket), *j;
    struct s3_xml x = {0};
    char *doc = NULL;
    size_t len = 0, i;
    int rc;

    if (!rules) {
        struct s3_xml_field f = {"BucketName", r->bucket};

        return s3_error(pr, S3_ERR_NO_SUCH_CORS_CONFIGURATION, NULL, &f, 1);
    }
    rc = s3_xml_declaration(&x);
    if (!rc)
        rc = s3_xml_root(&x, "CORSConfiguration");
    json_array_foreach(rules, i, j)
    {
        const char *id = json_string_value(json_object_get(j, "id"));
        json_t *age = json_object_get(j, "max_age");

        if (!rc)
            rc = s3_xml_open(&x, "CORSRule");
        if (!rc && id)
            rc = s3_xml_elem(&x, "ID", id);
        if (!rc)
            rc = xml_strings(&x, j, "headers", "AllowedHeader");
        if (!rc)
            rc = xml_strings(&x, j, "methods", "AllowedMethod");
        if (!rc)
            rc = xml_strings(&x, j, "origins", "AllowedOrigin");
        if (!rc)
            rc = xml_strings(&x, j, "expose", "ExposeHeader");
        if (!rc && json_is_integer(age))
            rc = s3_xml_elemf(&x, "MaxAgeSeconds", "%lld",
                              (long long)json_integer_value(age));
        if (!rc)
            rc = s3_xml_close(&x);
    }
    json_decref(rules);
    if (!rc)
        rc = s3_xml_finish(&x, &doc, &len);
    s3_xml_release(&x);
    return rc ? rc : s3_respond_xml(pr, 200, doc, len);
}

/* ---- Put/Get/DeleteBucketCors ---- */

static int post_rules(struct preq *pr, const char *stored)
{
    return s3_bucket_doc_post(pr, S3_CORS_SYSMETA, stored);
}

/* Takes back the rules just stored (the registry lost to another
 * account). */
static int undo_rules(struct preq *pr, void *arg)
{
    (void)arg;
    return post_rules(pr, NULL);
}

int s3_cors_put(struct preq *pr)
{
    struct s3req *r = pr->s3;
    char why[S3_CORS_WHY_LEN], *stored = NULL;
    bool answered;
    int rc;

    if (r->xml_over)
        return s3_error(pr, S3_ERR_MALFORMED_XML, NULL, NULL, 0);
    rc = s3_check_body_md5(pr, false, &answered);
    if (rc || answered)
        return rc;
    rc = s3_cors_parse(r->xml ? r->xml : "", r->xml_len, &stored, why);
    switch (rc) {
    case S3_CORS_OK: break;
    case S3_CORS_INVALID:
        return s3_error(pr, S3_ERR_INVALID_REQUEST, why, NULL, 0);
    case S3_CORS_TOO_LARGE:
        return s3_error(pr, S3_ERR_INVALID_REQUEST,
                        "The CORS configuration is too large to keep", NULL,
                        0);
    case S3_CORS_MALFORMED:
        return s3_error(pr, S3_ERR_MALFORMED_XML, NULL, NULL, 0);
    default: return rc;
    }
    /* another account's bucket of the same name would get our preflights */
    rc = s3_registry_before(pr, true);
    if (rc) {
        free(stored);
        return rc > 0 ? 0 : rc;
    }
    /* the rules first: this POST is what checks the user may change the
     * bucket */
    rc = post_rules(pr, stored);
    free(stored);
    if (!rc)
        rc = s3_registry_after(pr, true, undo_rules, NULL);
    if (!rc)
        rc = s3_respond_empty(pr, 200);
    return rc < 0 ? rc : 0;
}

int s3_cors_op(struct preq *pr, const char *m)
{
    /* after a DELETE the name stays registered while the bucket is
     * public */
    static const struct s3_bucket_doc doc = {
        S3_CORS_SYSMETA, OP_PUT_BUCKET_CORS, S3_CORS_MAX_BODY, get_cors,
        s3_registry_forget,
    };

    return s3_bucket_doc_op(pr, m, &doc);
}

/* ---- the answer's headers ---- */

/* "a, b, c" of a list of strings; NULL when empty or out of memory. */
static char *joined(const json_t *a)
{
    char *out = NULL;
    size_t len = 0, i;
    json_t *v;
    FILE *f;

    if (!json_array_size(a) || !(f = open_memstream(&out, &len)))
        return NULL;
    json_array_foreach(a, i, v)
    {
        fprintf(f, "%s%s", i ? ", " : "", json_string_value(v));
    }
    if (fclose(f)) {
        free(out);
        return NULL;
    }
    return out;
}

/* The origin to allow: '*' when the first of the rule's origins to match
 * is '*' itself, else the request's. */
static const char *allow_origin(const json_t *rule, const char *origin)
{
    const json_t *a = json_object_get(rule, "origins");
    json_t *v;
    size_t i;

    json_array_foreach(a, i, v)
    {
        const char *p = json_string_value(v);

        if (p && s3_cors_wildcard_match(p, origin, false))
            return strcmp(p, "*") ? origin : "*";
    }
    return origin;
}

/* The Access-Control-* headers 'rule' gives, as AWS sends them on both
 * preflights and actual requests; 'req_headers' the preflight's
 * Access-Control-Request-Headers (NULL: none, or an actual request). */
static int add_rule_headers(struct preq *pr, const json_t *rule,
                            const char *origin, const char *req_headers)
{
    const char *ao = allow_origin(rule, origin);
    char *methods = joined(json_object_get(rule, "methods"));
    char *expose = joined(json_object_get(rule, "expose"));
    json_t *age = json_object_get(rule, "max_age");
    int rc = req_add_header(pr->req, "Access-Control-Allow-Origin", ao);

    if (!rc && methods)
        rc = req_add_header(pr->req, "Access-Control-Allow-Methods", methods);
    if (!rc && req_headers && *req_headers)
        rc = req_add_header(pr->req, "Access-Control-Allow-Headers",
                            req_headers);
    if (!rc && expose)
        rc = req_add_header(pr->req, "Access-Control-Expose-Headers", expose);
    if (!rc && json_is_integer(age)) {
        char v[24];

        snprintf(v, sizeof(v), "%lld", (long long)json_integer_value(age));
        rc = req_add_header(pr->req, "Access-Control-Max-Age", v);
    }
    if (!rc && strcmp(ao, "*"))
        rc = req_add_header(pr->req, "Access-Control-Allow-Credentials",
                            "true");
    if (!rc)
        rc = req_add_header(pr->req, "Vary", PREFLIGHT_VARY);
    free(methods);
    free(expose);
    return rc;
}

int s3_cors_actual(struct preq *pr)
{
    struct s3req *r = pr->s3;
    const char *origin = req_header(pr->req, "Origin");
    const char *m = req_method(pr->req);
    json_t *rules, *rule;
    int rc = 0;

    /* a preflight has its own; before the user is known there is no
     * account to read the bucket in */
    if (!origin || !r || !r->bucket || !r->user.account_id ||
        !strcmp(m, "OPTIONS"))
        return 0;
    rules = bucket_rules(pr, r->user.account_id, r->bucket);
    rule = rules ? s3_cors_match(rules, origin, m, NULL) : NULL;
    if (rule)
        rc = add_rule_headers(pr, rule, origin, NULL);
    json_decref(rules);
    return rc;
}

/* ---- the preflight ---- */

static bool preflight_method(const char *m)
{
    static const char *const ok[] = {"GET", "PUT", "POST", "DELETE", "HEAD"};

    for (size_t i = 0; m && i < sizeof(ok) / sizeof(ok[0]); i++)
        if (!strcmp(m, ok[i]))
            return true;
    return false;
}

/* s3api's is_s3_cors_preflight(): an OPTIONS with an Origin that asks to
 * send Authorization (outside Swift's paths) or is presigned. */
static bool looks_s3(struct preq *pr)
{
    const char *acrh =
        req_header(pr->req, "Access-Control-Request-Headers");

    if (!req_header(pr->req, "Origin"))
        return false;
    if (acrh && strcasestr(acrh, "authorization") &&
        strncmp(pr->path, "/v1/", 4) && strncmp(pr->path, "/v1.0/", 6))
        return true;
    return req_param(pr->req, "AWSAccessKeyId") ||
           req_param(pr->req, "X-Amz-Credential");
}

/* The names of a comma-separated list, lower-cased, each once, in
 * "a, b" form (s3api answers the set of them). NULL: out of memory. */
static char *lowered_names(const char *list)
{
    json_t *seen = json_array();
    char *out = NULL;

    if (!seen)
        return NULL;
    while (*list) {
        size_t n = strcspn(list, ","), s = 0;
        char name[256];
        bool dup = false;
        json_t *v;
        size_t i;

        while (s < n && isspace((unsigned char)list[s]))
            s++;
        while (n > s && isspace((unsigned char)list[n - 1]))
            n--;
        if (n > s && n - s < sizeof(name)) {
            for (size_t k = 0; k < n - s; k++)
                name[k] = (char)tolower((unsigned char)list[s + k]);
            name[n - s] = '\0';
            json_array_foreach(seen, i, v)
            {
                dup = dup || !strcmp(json_string_value(v), name);
            }
            if (!dup)
                json_array_append_new(seen, json_string(name));
        }
        list += strcspn(list, ",");
        list += *list == ',';
    }
    out = json_array_size(seen) ? joined(seen) : strdup("");
    json_decref(seen);
    return out;
}

int s3_cors_preflight_global(struct preq *pr)
{
    const char *allow = pr->s3->api->cors_allow_origin;
    const char *origin = req_header(pr->req, "Origin");
    const char *acrh =
        req_header(pr->req, "Access-Control-Request-Headers");
    char *lower = NULL;
    int rc;

    if (!allow || !*allow || !looks_s3(pr))
        return 0;
    pr->s3->converted = true;
    rc = req_add_header(pr->req, "Allow", SWIFT_ALLOW);
    if (!rc && strcmp(allow, "*")) {
        size_t n = strlen(origin);
        const char *p = allow;
        bool listed = false;

        while (*p && !listed) {
            size_t len = strcspn(p, ",");

            listed = len == n && !strncmp(p, origin, n);
            p += len + (p[len] == ',');
        }
        if (!listed) {
            rc = req_respond(pr->req, 401, "", 0);
            return rc ? rc : 1;
        }
    }
    if (!rc)
        rc = req_add_header(pr->req, "Access-Control-Allow-Origin", origin);
    if (!rc)
        rc = req_add_header(pr->req, "Access-Control-Allow-Methods",
                            SWIFT_ALLOW);
    if (!rc)
        rc = req_add_header(pr->req, "Vary",
                            "Origin, Access-Control-Request-Headers");
    if (!rc && acrh && (lower = lowered_names(acrh)) && *lower)
        rc = req_add_header(pr->req, "Access-Control-Allow-Headers", lower);
    if (!rc && acrh && !lower)
        rc = -ENOMEM;
    free(lower);
    if (!rc)
        rc = req_respond(pr->req, 200, "", 0);
    return rc ? rc : 1;
}

static int preflight_refused(struct preq *pr, const char *message,
                             const char *method)
{
    struct s3_xml_field f[2] = {
        {"Method", method},
        {"ResourceType", pr->s3->key ? "OBJECT" : "BUCKET"},
    };

    return s3_error(pr, S3_ERR_ACCESS_FORBIDDEN, message, f, 2);
}

int s3_cors_preflight(struct preq *pr)
{
    struct s3req *r = pr->s3;
    const char *origin = req_header(pr->req, "Origin");
    const char *m = req_header(pr->req, "Access-Control-Request-Method");
    const char *acrh =
        req_header(pr->req, "Access-Control-Request-Headers");
    json_t *rules = NULL, *rule;
    char *owner = NULL;
    int rc;

    if (!origin)
        return s3_error(pr, S3_ERR_BAD_REQUEST,
                        "Insufficient information. Origin request header "
                        "needed.",
                        NULL, 0);
    if (!preflight_method(m)) {
        char msg[300];

        snprintf(msg, sizeof(msg), "Invalid Access-Control-Request-Method: %s",
                 m ? m : "null");
        return s3_error(pr, S3_ERR_BAD_REQUEST, msg, NULL, 0);
    }
    rc = r->bucket ? s3_registry_owner(pr, r->bucket, false, &owner) : 0;
    if (rc == -ENOMEM)
        return rc;
    if (rc < 0)
        return s3_error(pr, S3_ERR_SERVICE_UNAVAILABLE, NULL, NULL, 0);
    if (owner)
        rules = bucket_rules(pr, owner, r->bucket);
    free(owner);
    if (!rules)
        return preflight_refused(pr, NOT_ENABLED, m);
    rule = s3_cors_match(rules, origin, m, acrh);
    if (!rule) {
        json_decref(rules);
        return preflight_refused(pr, NOT_ALLOWED, m);
    }
    rc = add_rule_headers(pr, rule, origin, acrh);
    json_decref(rules);
    return rc ? rc : s3_respond_empty(pr, 200);
}
