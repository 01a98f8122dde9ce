/*
 * s3_cors.c - S3 bucket CORS, as AWS S3 behaves: Put/Get/DeleteBucketCors
 * (the rules in the bucket's container sysmeta X-Container-Sysmeta-S3api-
 * Cors, compact JSON, s3_cors.h), the browser's preflight (an unsigned
 * OPTIONS) and the Access-Control-* headers of actual signed requests.
 *
 * A preflight carries no credentials, and a bucket is a container of the
 * signing user's account: the preflight alone cannot tell which account's
 * bucket it names. So PutBucketCors also records the bucket's account in
 * a registry users cannot reach: a container named for the bucket in the
 * reserved account ".s3api_cors" (a leading '.' is no reseller prefix, so
 * tempauth lets no user at it), its sysmeta naming the account. The proxy
 * writes it straight to the container servers, not through the Swift
 * controllers. A preflight reads it through the info cache (as container
 * info: recheck_container_existence seconds), then the bucket's rules.
 * A bucket name is thereby unique among CORS-enabled buckets: an account
 * whose bucket name another account has registered gets 409
 * BucketAlreadyExists, unless that registration is stale (its bucket gone
 * or without rules), which is taken over. DeleteBucketCors and
 * DeleteBucket remove the account's own registration.
 */
#include "proxy/s3_cors.h"
#include "proxy/s3req.h"

#include "common/conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CORS_SYSMETA "X-Container-Sysmeta-S3api-Cors"
#define REGISTRY_ACCOUNT ".s3api_cors"
#define REGISTRY_SYSMETA "X-Container-Sysmeta-S3api-Cors-Account"
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

/* ---- which OPTIONS are S3's ---- */

bool s3_cors_claims(const struct s3api *api, const struct request *req,
                    const char *path)
{
    const char *host = req_header(req, "Host");
    const char *dom = api->storage_domain;
    size_t seg;

    if (strcmp(req_method(req), "OPTIONS") || path[0] != '/')
        return false;
    if (*dom && host) { /* virtual-hosted style: the Host names a bucket */
        size_t hl = strcspn(host, ":"), dl = strlen(dom);

        if (hl > dl + 1 && host[hl - dl - 1] == '.' &&
            !strncasecmp(host + hl - dl, dom, dl))
            return true;
    }
    /* Swift's own paths stay Swift's (cors.c) */
    seg = strcspn(path + 1, "/");
    if (!seg || !strcmp(path, "/info"))
        return false;
    return !((seg == 2 && !strncmp(path + 1, "v1", 2)) ||
             (seg == 4 && !strncmp(path + 1, "v1.0", 4)));
}

/* ---- the stored rules ---- */

/* The rules of 'account'/'bucket' (a JSON array), or NULL: none, or the
 * container is not there. */
static json_t *bucket_rules(struct preq *pr, const char *account,
                            const char *bucket)
{
    struct info ci;
    const char *v;
    json_t *rules = NULL;

    info_get(pr, account, bucket, &ci);
    v = ci.status / 100 == 2 ? hlist_get(&ci.headers, CORS_SYSMETA) : NULL;
    if (v && *v)
        rules = json_loads(v, 0, NULL);
    info_release(&ci);
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

/* ---- the registry of CORS-enabled buckets ---- */

/* The account the registry names for 'bucket': 1 with *owner (malloc'ed),
 * 0 none, -1 the servers failed, -ENOMEM. 'fresh' skips the cache. */
static int registry_owner(struct preq *pr, const char *bucket, bool fresh,
                          char **owner)
{
    struct info ci;
    const char *v;
    int rc;

    *owner = NULL;
    if (fresh)
        info_invalidate(pr->p, REGISTRY_ACCOUNT, bucket);
    info_get(pr, REGISTRY_ACCOUNT, bucket, &ci);
    v = ci.status / 100 == 2 ? hlist_get(&ci.headers, REGISTRY_SYSMETA) : NULL;
    if (v && *v)
        rc = (*owner = strdup(v)) ? 1 : -ENOMEM;
    else
        rc = ci.status / 100 == 2 || ci.status == 404 ? 0 : -1;
    info_release(&ci);
    return rc;
}

/* X-Account-Host/-Device/-Partition, as the container controller sends
 * them: container replica i updates account replica i (i + n...). The
 * account server makes a '.' account when its first container comes. */
struct reg_nodes {
    struct nodes an, cn;
};

static int account_update(struct preq *pr, size_t i, struct hlist *h,
                          void *arg)
{
    struct reg_nodes *rn = arg;
    char hosts[1024] = "", devs[1024] = "", part[16];

    (void)pr;
    for (size_t j = i; rn->cn.n_prim && j < rn->an.n_prim; j += rn->cn.n_prim) {
        const struct ring_dev *d = rn->an.prim[j];
        size_t hl = strlen(hosts), dl = strlen(devs);

        snprintf(hosts + hl, sizeof(hosts) - hl, "%s%s:%d", hl ? "," : "",
                 d->ip, d->port);
        snprintf(devs + dl, sizeof(devs) - dl, "%s%s", dl ? "," : "",
                 d->device);
    }
    if (!*hosts)
        return 0;
    snprintf(part, sizeof(part), "%u", rn->an.part);
    if (hlist_set(h, "X-Account-Host", hosts) ||
        hlist_set(h, "X-Account-Device", devs) ||
        hlist_set(h, "X-Account-Partition", part))
        return -ENOMEM;
    return 0;
}

/* PUTs (with 'account') or DELETEs the registry's container for
 * 'bucket' on the container servers: the status a quorum gave (503 when
 * none), or -ENOMEM. */
static int registry_write(struct preq *pr, const char *bucket,
                          const char *account)
{
    const char *method = account ? "PUT" : "DELETE";
    struct bresp rs[PROXY_MAX_REPLICAS];
    struct reg_nodes rn;
    struct hlist h = {0};
    char ts[32], *tail = backend_tail(REGISTRY_ACCOUNT, bucket, NULL);
    size_t got;
    int best, st;

    preq_new_timestamp(ts);
    if (!tail || backend_base_headers(pr, ts, &h) ||
        (account && hlist_add(&h, REGISTRY_SYSMETA, account))) {
        free(tail);
        hlist_release(&h);
        return -ENOMEM;
    }
    if (nodes_init(pr->p, pr->p->account_ring, REGISTRY_ACCOUNT, NULL, NULL,
                   &rn.an)) {
        free(tail);
        hlist_release(&h);
        return -ENOMEM;
    }
    if (nodes_init(pr->p, pr->p->container_ring, REGISTRY_ACCOUNT, bucket,
                   NULL, &rn.cn)) {
        nodes_release(&rn.an);
        free(tail);
        hlist_release(&h);
        return -ENOMEM;
    }
    got = backend_fanout(pr, &rn.cn, method, tail, NULL, &h, account_update,
                         &rn, rs);
    info_invalidate(pr->p, REGISTRY_ACCOUNT, bucket);
    best = backend_best(rs, got, rn.cn.n_prim);
    st = best < 0 ? 503 : rs[best].status;
    for (size_t i = 0; i < got; i++)
        bresp_release(&rs[i]);
    nodes_release(&rn.cn);
    nodes_release(&rn.an);
    hlist_release(&h);
    free(tail);
    if (st / 100 != 2 && !(!account && st == 404))
        req_log(pr->req, LOG_ERR, "S3 CORS registry %s %s: %d", method, bucket,
                st);
    return st;
}

/* Whether another account's registration of the bucket still stands:
 * its bucket is there with rules. */
static bool registration_live(struct preq *pr, const char *owner,
                              const char *bucket)
{
    json_t *rules;

    info_invalidate(pr->p, owner, bucket);
    rules = bucket_rules(pr, owner, bucket);
    json_decref(rules);
    return rules != NULL;
}

/* Removes the request's bucket from the registry if it is this
 * account's. 0 or -ENOMEM; a failure is logged, not answered: the
 * registration is stale and the next PutBucketCors elsewhere takes it. */
static int registry_forget(struct preq *pr)
{
    struct s3req *r = pr->s3;
    char *owner;
    int rc = registry_owner(pr, r->bucket, true, &owner);

    if (rc == 1 && !strcmp(owner, r->user.account_id))
        rc = registry_write(pr, r->bucket, NULL);
    free(owner);
    return rc == -ENOMEM ? rc : 0;
}

int s3_cors_forget(struct preq *pr)
{
    return pr->s3 && pr->s3->bucket && pr->s3->user.account_id
               ? registry_forget(pr)
               : 0;
}

/* ---- Put/Get/DeleteBucketCors ---- */

static int post_rules(struct preq *pr, const char *stored)
{
    struct http_header h = {CORS_SYSMETA, stored ? stored : ""};

    return s3_post_bucket(pr, &h, 1);
}

/* 409: the bucket's name is another account's among CORS buckets. */
static int name_taken(struct preq *pr)
{
    struct s3_xml_field f = {"BucketName", pr->s3->bucket};

    return s3_error(pr, S3_ERR_BUCKET_ALREADY_EXISTS,
                    "Another account has CORS on a bucket of this name: the "
                    "names of buckets with CORS are unique across the "
                    "cluster.",
                    &f, 1);
}

/* Records the request's bucket as its account's: 0, 1 when answered
 * (503; 409 when another account registered the name at the same time
 * and its write came later: the rules just stored go again), -ENOMEM. */
static int register_bucket(struct preq *pr)
{
    struct s3req *r = pr->s3;
    char *owner = NULL;
    int rc = registry_write(pr, r->bucket, r->user.account_id);

    if (rc < 0)
        return rc;
    if (rc / 100 != 2) {
        rc = s3_error(pr, S3_ERR_SERVICE_UNAVAILABLE, NULL, NULL, 0);
        return rc ? rc : 1;
    }
    /* of two registrations at once, the later write stands */
    rc = registry_owner(pr, r->bucket, true, &owner);
    if (rc == 1 && strcmp(owner, r->user.account_id)) {
        free(owner);
        rc = post_rules(pr, NULL);
        if (!rc)
            rc = name_taken(pr);
        return rc < 0 ? rc : 1;
    }
    free(owner);
    return rc == -ENOMEM ? rc : 0;
}

int s3_cors_put(struct preq *pr)
{
    struct s3req *r = pr->s3;
    char why[S3_CORS_WHY_LEN], *stored = NULL, *owner = NULL;
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
    rc = registry_owner(pr, r->bucket, true, &owner);
    if (rc == 1 && strcmp(owner, r->user.account_id) &&
        registration_live(pr, owner, r->bucket)) {
        free(owner);
        free(stored);
        return name_taken(pr);
    }
    if (rc < 0) {
        free(stored);
        return rc == -ENOMEM
                   ? rc
                   : s3_error(pr, S3_ERR_SERVICE_UNAVAILABLE, NULL, NULL, 0);
    }
    /* the rules first: this POST is what checks the user may change the
     * bucket */
    rc = post_rules(pr, stored);
    free(stored);
    if (!rc && (!owner || strcmp(owner, r->user.account_id)))
        rc = register_bucket(pr);
    free(owner);
    if (!rc)
        rc = s3_respond_empty(pr, 200);
    return rc < 0 ? rc : 0;
}

int s3_cors_op(struct preq *pr, const char *m)
{
    struct s3req *r = pr->s3;
    int rc, ex = s3_bucket_exists(pr);

    if (ex <= 0)
        return ex ? s3_error(pr, S3_ERR_SERVICE_UNAVAILABLE, NULL, NULL, 0)
                  : s3_no_such_bucket(pr);
    if (!strcmp(m, "GET"))
        return get_cors(pr);
    if (!strcmp(m, "PUT")) {
        r->op = OP_PUT_BUCKET_CORS;
        r->xml_max = S3_CORS_MAX_BODY;
        if (pr->body_length > S3_CORS_MAX_BODY)
            return s3_error(pr, S3_ERR_MALFORMED_XML, NULL, NULL, 0);
        return 0; /* done when the body is in: s3_cors_put() */
    }
    if (!strcmp(m, "DELETE")) {
        rc = post_rules(pr, NULL);
        if (!rc)
            rc = registry_forget(pr);
        if (!rc)
            rc = s3_respond_empty(pr, 204);
        return rc < 0 ? rc : 0;
    }
    return s3_error(pr, S3_ERR_METHOD_NOT_ALLOWED, NULL, NULL, 0);
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
    rc = r->bucket ? registry_owner(pr, r->bucket, false, &owner) : 0;
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
