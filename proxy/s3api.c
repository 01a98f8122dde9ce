/*
 * s3api.c - the S3 API's way through a request: authentication, the
 * operation the method, path and sub-resources name, the Swift request
 * that carries it out, and the S3 response made of Swift's.
 *
 * Operations that are one Swift request (object GET/HEAD/PUT/DELETE and
 * copy, bucket HEAD/PUT/DELETE) rewrite the client's request (path,
 * query, headers: x-amz-meta-* to X-Object-Meta-*, x-amz-copy-source to
 * X-Copy-From, Content-MD5 to ETag...) and run the Swift controllers on
 * it, body streaming as for Swift; the response is converted in
 * s3api_respond(). The others (service and bucket listings, multi-object
 * delete, sub-resources) are answered here from subrequests (subreq.c).
 * Bodies signed with SigV4 are checked as they stream: the aws-chunked
 * signatures (s3_chunked.h) or the SHA-256 of x-amz-content-sha256, and
 * an upload whose body fails is cut before its end, so no replica
 * commits it.
 */
#include "proxy/s3api.h"

#include "common/http.h"
#include "proxy/preq.h"
#include "proxy/s3_acl.h"
#include "proxy/s3_chunked.h"
#include "proxy/s3_list.h"
#include "proxy/s3_registry.h"
#include "proxy/s3_sig.h"
#include "proxy/s3_xml.h"
#include "proxy/s3req.h"
#include "proxy/tempauth.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Swift's s3api limits on request bodies it parses. */
#define MAX_PUT_BUCKET_BODY_SIZE 10240
#define MAX_MULTI_DELETE_BODY_SIZE (1024 * 1024)
#define MAX_ACL_BODY_SIZE (200 * 1024)

static bool valid_bucket(const struct s3api *s3, const char *b);
static int save_overrides(struct preq *pr);

/* ---- configuration ---- */

static int conf_uint(const struct conf *conf, const char *key, unsigned int def,
                     unsigned int *out, char err[CONF_ERR_LEN])
{
    const char *v = conf_get(conf, "filter:s3api", key, NULL);
    char *end;
    unsigned long n;

    *out = def;
    if (!v)
        return 0;
    errno = 0;
    n = strtoul(v, &end, 10);
    if (errno || end == v || *end || n > 1000000000UL || *v == '-') {
        snprintf(err, CONF_ERR_LEN,
                 "%s: [filter:s3api] %s = '%s' is not a "
                 "number",
                 conf_path(conf), key, v);
        return -EINVAL;
    }
    *out = (unsigned int)n;
    return 0;
}

int s3api_new(const struct conf *conf, struct tempauth *auth,
              struct s3api **out, char err[CONF_ERR_LEN])
{
    struct s3api *s3 = calloc(1, sizeof(*s3));
    const char *v;
    unsigned int skew = 0;
    int rc;

    *out = NULL;
    if (!s3)
        return -ENOMEM;
    s3->auth = auth;
    v = conf_get(conf, "filter:s3api", "location", NULL);
    s3->location = strdup(v && *v ? v : "us-east-1");
    v = conf_get(conf, "filter:s3api", "storage_domain", NULL);
    s3->storage_domain = strdup(v ? v : "");
    s3->dns_compliant_bucket_names = true;
    v = conf_get(conf, "filter:s3api", "dns_compliant_bucket_names", NULL);
    rc = s3->location && s3->storage_domain ? 0 : -ENOMEM;
    if (!rc && v && conf_parse_bool(v, &s3->dns_compliant_bucket_names)) {
        snprintf(err, CONF_ERR_LEN,
                 "%s: [filter:s3api] dns_compliant_bucket_names = '%s' is "
                 "not a boolean",
                 conf_path(conf), v);
        rc = -EINVAL;
    }
    if (!rc)
        rc = conf_uint(conf, "allowable_clock_skew", S3_SIG_DEFAULT_SKEW, &skew,
                       err);
    if (!rc)
        rc = conf_uint(conf, "max_bucket_listing", 1000,
                       &s3->max_bucket_listing, err);
    if (!rc)
        rc = conf_uint(conf, "max_multi_delete_objects", 1000,
                       &s3->max_multi_delete_objects, err);
    if (!rc)
        rc = s3_cors_conf(s3, conf, err);
    s3->clock_skew = skew;
    if (rc) {
        s3api_free(s3);
        return rc;
    }
    *out = s3;
    return 0;
}

void s3api_free(struct s3api *s3)
{
    if (!s3)
        return;
    free(s3->location);
    free(s3->storage_domain);
    free(s3->cors_allow_origin);
    free(s3);
}

void s3req_free(struct s3req *r)
{
    if (!r)
        return;
    tempauth_s3_user_release(&r->user);
    s3_chunked_free(r->chunked);
    s3_sig_payload_free(r->payload);
    free(r->bucket);
    free(r->key);
    hlist_release(&r->overrides);
    free(r->xml);
    free(r);
}

/* ---- recognising S3 ---- */

bool s3api_claims(const struct s3api *s3, const struct request *req)
{
    const char *a = req_header(req, "Authorization");

    (void)s3;
    if (a && (!strncmp(a, "AWS ", 4) || !strncmp(a, "AWS4-", 5)))
        return true;
    return req_param(req, "X-Amz-Credential") ||
           req_param(req, "X-Amz-Algorithm") ||
           req_param(req, "AWSAccessKeyId");
}

static const char *sig_header(void *arg, const char *name)
{
    return req_header(arg, name);
}

static int sig_foreach(void *arg,
                       int (*fn)(const char *name, const char *value, void *fa),
                       void *fa)
{
    return req_foreach_header(arg, fn, fa);
}

/* ---- answering in S3's words ---- */

int s3_add_ids(struct preq *pr)
{
    const char *txn = req_txn(pr->req);
    int rc = req_add_header(pr->req, "x-amz-request-id", txn);

    if (!rc)
        rc = req_add_header(pr->req, "x-amz-id-2", txn);
    if (!rc)
        rc = req_add_header(pr->req, "X-Trans-Id", txn);
    if (!rc)
        rc = req_add_header(pr->req, "X-Openstack-Request-Id", txn);
    if (!rc)
        rc = s3_cors_actual(pr);
    return rc;
}

/* Drops a response made already (a controller's), to make S3's. */
static void drop_response(struct preq *pr)
{
    struct req_response rs;

    if (!req_response_take(pr->req, &rs))
        req_response_release(&rs);
}

/* Answers with S3's error document: 'message' NULL for the default. */
int s3_error(struct preq *pr, enum s3_err e, const char *message,
             const struct s3_xml_field *fields, size_t n_fields)
{
    char *doc = NULL;
    size_t len = 0;
    int rc;

    if (pr->s3)
        pr->s3->converted = true;
    drop_response(pr);
    rc = s3_xml_error_doc(e, message, fields, n_fields, req_txn(pr->req),
                          req_txn(pr->req), &doc, &len);
    if (!rc)
        rc = s3_add_ids(pr);
    if (!rc && doc)
        rc = req_add_header(pr->req, "Content-Type", "application/xml");
    if (!rc)
        rc = req_respond(pr->req, s3_err_status(e), doc ? doc : "", len);
    free(doc);
    return rc;
}

int s3_sig_error_respond(struct preq *pr, const struct s3_sig_error *err)
{
    enum s3_err e = s3_err_from_code(err->code);
    struct s3_xml_field f[2] = {
        {"ArgumentName", err->argument_name},
        {"ArgumentValue", err->argument_name ? err->argument_value : NULL},
    };

    if (e == S3_OK)
        e = S3_ERR_ACCESS_DENIED;
    return s3_error(pr, e, err->message[0] ? err->message : NULL, f, 2);
}

int s3_no_such_bucket(struct preq *pr)
{
    struct s3_xml_field f = {"BucketName", pr->s3->bucket};

    return s3_error(pr, S3_ERR_NO_SUCH_BUCKET, NULL, &f, 1);
}

static int no_such_key(struct preq *pr)
{
    struct s3_xml_field f = {"Key", pr->s3->key};

    return s3_error(pr, S3_ERR_NO_SUCH_KEY, NULL, &f, 1);
}

/* An XML document of ours, 200. */
int s3_respond_xml(struct preq *pr, unsigned int status, char *doc, size_t len)
{
    int rc;

    pr->s3->converted = true;
    drop_response(pr);
    rc = s3_add_ids(pr);
    if (!rc)
        rc = req_add_header(pr->req, "Content-Type", "application/xml");
    if (!rc)
        rc = req_respond(pr->req, status, doc, len);
    free(doc);
    return rc;
}

int s3_respond_empty(struct preq *pr, unsigned int status)
{
    int rc;

    pr->s3->converted = true;
    drop_response(pr);
    rc = s3_add_ids(pr);
    return rc ? rc : req_respond(pr->req, status, "", 0);
}

/* ---- the Swift side ---- */

/* Whether the request's bucket exists, as a Swift HEAD would say: 1
 * yes, 0 no (404), -1 unknown (the storage servers failed). */
int s3_bucket_exists(struct preq *pr)
{
    struct info ci;
    int st;

    info_get(pr, pr->s3->user.account_id, pr->s3->bucket, &ci);
    st = ci.status;
    info_release(&ci);
    if (st / 100 == 2)
        return 1;
    return st == 404 ? 0 : -1;
}

/* The Swift path of the request: "/v1/<account>[/<bucket>[/<key>]]",
 * decoded, into pr->path. */
int s3_set_swift_path(struct preq *pr, bool with_key)
{
    struct s3req *r = pr->s3;
    char *path = NULL;
    int n;

    if (with_key && r->key)
        n = asprintf(&path, "/v1/%s/%s/%s", r->user.account_id, r->bucket,
                     r->key);
    else if (r->bucket)
        n = asprintf(&path, "/v1/%s/%s", r->user.account_id, r->bucket);
    else
        n = asprintf(&path, "/v1/%s", r->user.account_id);
    if (n < 0)
        return -ENOMEM;
    free(pr->path);
    pr->path = path;
    pr->path_len = (size_t)n;
    return 0;
}

int s3_post_bucket(struct preq *pr, const struct http_header *h, size_t n)
{
    struct subreq_resp sr;
    char *path = s3_swift_quoted(pr->s3, NULL);
    int rc;

    if (!path)
        return -ENOMEM;
    rc = subreq_run(pr, "POST", path, NULL, h, n, NULL, 0, &sr);
    free(path);
    if (rc)
        return rc;
    rc = sr.status;
    subreq_resp_release(&sr);
    if (rc / 100 == 2)
        return 0;
    rc = s3_error(pr,
                  rc == 404                ? S3_ERR_NO_SUCH_BUCKET
                  : rc == 401 || rc == 403 ? S3_ERR_ACCESS_DENIED
                                           : S3_ERR_SERVICE_UNAVAILABLE,
                  NULL, NULL, 0);
    return rc ? rc : 1;
}

/* "/v1/<account>/<bucket>[/<key>]" quoted, for a subrequest. */
char *s3_swift_quoted(const struct s3req *r, const char *key)
{
    char *qa = http_quote(r->user.account_id);
    char *qb = r->bucket ? http_quote(r->bucket) : NULL;
    char *qk = key ? http_quote(key) : NULL;
    char *out = NULL;

    if (qa && (!r->bucket || qb) && (!key || qk)) {
        if (asprintf(&out, "/v1/%s%s%s%s%s", qa, qb ? "/" : "", qb ? qb : "",
                     qk ? "/" : "", qk ? qk : "") < 0)
            out = NULL;
    }
    free(qa);
    free(qb);
    free(qk);
    return out;
}

/* Appends "&name=<quoted value>" to a query being built. */
void s3_query_add(FILE *f, const char *name, const char *value)
{
    char *q = http_quote(value);

    if (q) {
        fprintf(f, "&%s=", name);
        for (const char *p = q; *p; p++) /* http_quote() keeps '/' */
            if (*p == '/')
                fputs("%2F", f);
            else
                fputc(*p, f);
    }
    free(q);
}

/* ---- header translation ---- */

static bool meta_name_ok(const char *s)
{
    /* AWS ignores user metadata names with these (s3api likewise) */
    return !strpbrk(s, " \"),/;<=>?@[\\]{}");
}

/* The names of the request's headers that start with a prefix (any
 * case), copied: the list changes as they are rewritten. */
struct prefixed {
    const char *prefix;
    char **names;
    size_t n;
    int rc;
};

static int collect_prefixed(const char *name, const char *value, void *arg)
{
    struct prefixed *d = arg;
    char **grown;

    (void)value;
    if (strncasecmp(name, d->prefix, strlen(d->prefix)))
        return 0;
    grown = reallocarray(d->names, d->n + 1, sizeof(*grown));
    if (!grown || !(grown[d->n] = strdup(name))) {
        if (grown)
            d->names = grown;
        return d->rc = -ENOMEM;
    }
    d->names = grown;
    d->n++;
    return 0;
}

static int prefixed_collect(struct preq *pr, struct prefixed *d)
{
    return req_foreach_header(pr->req, collect_prefixed, d) ? d->rc : 0;
}

static void prefixed_release(struct prefixed *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->names[i]);
    free(d->names);
}

/* x-amz-meta-<name> becomes X-Object-Meta-<name>; raw Swift metadata
 * headers sent to the S3 API are dropped. s3api stores '_' as "=5F"
 * because WSGI cannot tell '_' from '-' in a header name; Kura's headers
 * keep their bytes, and '=' is not allowed in a header name, so '_'
 * stays '_' (a "=5F" of s3api's is turned back on the way out). */
static int translate_meta(struct preq *pr, bool keep)
{
    struct prefixed d = {.prefix = "x-amz-meta-"};
    int rc = prefixed_collect(pr, &d);

    for (size_t i = 0; !rc && i < d.n; i++) {
        const char *v = req_header(pr->req, d.names[i]);
        char *val = v ? strdup(v) : NULL;
        char name[512];

        if (v && !val) {
            rc = -ENOMEM;
            break;
        }
        rc = req_set_header(pr->req, d.names[i], NULL);
        if (!rc && keep && val && meta_name_ok(d.names[i] + 11)) {
            snprintf(name, sizeof(name), "X-Object-Meta-%s", d.names[i] + 11);
            rc = req_set_header(pr->req, name, val);
        }
        free(val);
    }
    prefixed_release(&d);
    return rc;
}

/* Removes every request header starting with 'prefix'. */
static int drop_headers_with(struct preq *pr, const char *prefix)
{
    struct prefixed d = {.prefix = prefix};
    int rc = prefixed_collect(pr, &d);

    for (size_t i = 0; !rc && i < d.n; i++)
        rc = req_set_header(pr->req, d.names[i], NULL);
    prefixed_release(&d);
    return rc;
}

/* Content-MD5 (base64 of 16 bytes) as hex; 1 when absent, 0 done, -1
 * malformed (InvalidDigest). */
static int content_md5_hex(struct preq *pr, char hex[33])
{
    const char *v = req_header(pr->req, "Content-MD5");
    unsigned char raw[64];
    size_t len;
    int n;

    if (!v)
        return 1;
    len = strlen(v);
    if (len != 24)
        return -1;
    n = EVP_DecodeBlock(raw, (const unsigned char *)v, (int)len);
    if (n != 18 || v[22] != '=' || v[23] != '=')
        return -1;
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    return 0;
}

/* ---- the operations ---- */

/* Containers that are not valid bucket names (s3api's "+segments" among
 * them) are not buckets. */
static bool bucket_visible(const char *name, void *arg)
{
    return valid_bucket(arg, name);
}

static int op_list_buckets(struct preq *pr)
{
    struct s3req *r = pr->s3;
    struct s3_xml x = {0};
    struct subreq_resp sr;
    char *path = s3_swift_quoted(r, NULL), *doc = NULL, *marker = NULL;
    size_t len = 0, n = 0;
    int rc = path ? s3_list_buckets_begin(&x, r->sig.access_key) : -ENOMEM;

    /* every container, page by page */
    while (!rc) {
        char *query = NULL, *q = marker ? http_quote(marker) : NULL;

        if (asprintf(&query, "format=json%s%s", q ? "&marker=" : "",
                     q ? q : "") < 0)
            query = NULL;
        free(q);
        if (!query) {
            rc = -ENOMEM;
            break;
        }
        rc = subreq_run(pr, "GET", path, query, NULL, 0, NULL, 0, &sr);
        free(query);
        if (rc)
            break;
        if (sr.status / 100 != 2) {
            unsigned int st = sr.status;

            subreq_resp_release(&sr);
            rc = s3_error(pr,
                          st == 403 || st == 401 ? S3_ERR_ACCESS_DENIED
                                                 : S3_ERR_SERVICE_UNAVAILABLE,
                          NULL, NULL, 0);
            goto out;
        }
        free(marker);
        marker = NULL;
        n = 0;
        if (sr.status == 200)
            rc = s3_list_buckets_add(&x, sr.body, sr.body_len, bucket_visible,
                                     r->api, &n, &marker);
        subreq_resp_release(&sr);
        if (rc || n < 10000 || !marker)
            break;
    }
    if (!rc)
        rc = s3_xml_finish(&x, &doc, &len);
    if (!rc)
        rc = s3_respond_xml(pr, 200, doc, len);
out:
    s3_xml_release(&x);
    free(marker);
    free(path);
    return rc;
}

/* An integer parameter in [0, 2^31-1], as s3api's get_validated_param():
 * 0 with *out (default when absent), else answered. */
static int int_param(struct preq *pr, const char *name, uint64_t def,
                     uint64_t *out, bool *answered)
{
    const char *v = req_param(pr->req, name);
    char *end;
    unsigned long long n;

    *answered = false;
    *out = def;
    if (!v)
        return 0;
    errno = 0;
    n = strtoull(v, &end, 10);
    if (!*v || *end || errno || n > 2147483647ULL ||
        !isdigit((unsigned char)*v)) {
        struct s3_xml_field f[2] = {{"ArgumentName", name},
                                    {"ArgumentValue", v}};

        *answered = true;
        return s3_error(pr, S3_ERR_INVALID_ARGUMENT,
                        "Provided max-keys not an integer or within integer "
                        "range",
                        f, 2);
    }
    *out = n;
    return 0;
}

static int op_list_objects(struct preq *pr, bool versions)
{
    struct s3req *r = pr->s3;
    struct s3_list_query q = {0};
    struct subreq_resp sr;
    const char *lt = req_param(pr->req, "list-type");
    const char *enc = req_param(pr->req, "encoding-type");
    const char *fo = req_param(pr->req, "fetch-owner");
    char *path = NULL, *query = NULL, *doc = NULL, *token_marker = NULL;
    const char *swift_marker;
    size_t qlen = 0, len = 0;
    bool answered;
    FILE *f;
    int rc;

    q.bucket = r->bucket;
    q.version = versions ? S3_LIST_VERSIONS : lt && !strcmp(lt, "2") ? 2 : 1;
    if (versions)
        lt = NULL;
    if (lt && strcmp(lt, "2") && strcmp(lt, "1")) {
        struct s3_xml_field fl[2] = {{"ArgumentName", "list-type"},
                                     {"ArgumentValue", lt}};

        return s3_error(pr, S3_ERR_INVALID_ARGUMENT, "Invalid List Type", fl,
                        2);
    }
    if (enc && strcmp(enc, "url")) {
        struct s3_xml_field fl[2] = {{"ArgumentName", "encoding-type"},
                                     {"ArgumentValue", enc}};

        return s3_error(pr, S3_ERR_INVALID_ARGUMENT,
                        "Invalid Encoding Method specified in Request", fl, 2);
    }
    rc = int_param(pr, "max-keys", r->api->max_bucket_listing, &q.max_keys,
                   &answered);
    if (rc || answered)
        return rc;
    q.limit = q.max_keys < r->api->max_bucket_listing
                  ? q.max_keys
                  : r->api->max_bucket_listing;
    q.prefix = req_param(pr->req, "prefix");
    q.delimiter = req_param(pr->req, "delimiter");
    q.url = enc != NULL;
    q.fetch_owner = fo && !strcasecmp(fo, "true");
    q.owner = r->sig.access_key;
    if (q.version == 2) {
        q.continuation_token = req_param(pr->req, "continuation-token");
        q.start_after = req_param(pr->req, "start-after");
        if (q.continuation_token) {
            rc = s3_list_token_decode(q.continuation_token, &token_marker);
            if (rc > 0) {
                struct s3_xml_field fl[2] = {
                    {"ArgumentName", "continuation-token"},
                    {"ArgumentValue", q.continuation_token}};

                return s3_error(pr, S3_ERR_INVALID_ARGUMENT,
                                "The continuation token provided is "
                                "incorrect",
                                fl, 2);
            }
            if (rc)
                return rc;
        }
        swift_marker = token_marker ? token_marker : q.start_after;
    } else {
        q.marker = req_param(pr->req, versions ? "key-marker" : "marker");
        swift_marker = q.marker;
    }
    path = s3_swift_quoted(r, NULL);
    f = path ? open_memstream(&query, &qlen) : NULL;
    if (!f) {
        rc = -ENOMEM;
        goto out;
    }
    fprintf(f, "format=json&limit=%llu", (unsigned long long)q.limit + 1);
    if (q.prefix)
        s3_query_add(f, "prefix", q.prefix);
    if (q.delimiter)
        s3_query_add(f, "delimiter", q.delimiter);
    if (swift_marker)
        s3_query_add(f, "marker", swift_marker);
    rc = fclose(f) ? -ENOMEM : 0;
    if (!rc)
        rc = subreq_run(pr, "GET", path, query, NULL, 0, NULL, 0, &sr);
    if (rc)
        goto out;
    if (sr.status / 100 != 2) {
        unsigned int st = sr.status;

        subreq_resp_release(&sr);
        if (st == 404)
            rc = s3_no_such_bucket(pr);
        else
            rc = s3_error(pr,
                          st == 401 || st == 403 ? S3_ERR_ACCESS_DENIED
                                                 : S3_ERR_SERVICE_UNAVAILABLE,
                          NULL, NULL, 0);
        goto out;
    }
    rc = s3_list_objects(&q, sr.status == 200 ? sr.body : "[]",
                         sr.status == 200 ? sr.body_len : 2, &doc, &len);
    subreq_resp_release(&sr);
    if (rc == -EILSEQ)
        rc = s3_error(pr, S3_ERR_INVALID_ARGUMENT,
                      "Request parameters are not valid UTF-8", NULL, 0);
    else if (!rc)
        rc = s3_respond_xml(pr, 200, doc, len);
out:
    free(token_marker);
    free(path);
    free(query);
    return rc;
}

/* A sub-resource answered from what Swift has without storing anything
 * of S3's: the bucket must exist. Returns 1 when it does, else answers. */
static int need_bucket(struct preq *pr, int *rc)
{
    int ex = s3_bucket_exists(pr);

    if (ex > 0)
        return 1;
    *rc = ex ? s3_error(pr, S3_ERR_SERVICE_UNAVAILABLE, NULL, NULL, 0)
             : s3_no_such_bucket(pr);
    return 0;
}

static int op_location(struct preq *pr)
{
    const char *loc = pr->s3->api->location;
    char *doc = NULL;
    int rc = 0, n;

    if (!need_bucket(pr, &rc))
        return rc;
    /* us-east-1 is the empty constraint, as S3 answers it */
    if (!strcmp(loc, "us-east-1"))
        n = asprintf(&doc, S3_XML_DECLARATION
                     "<LocationConstraint xmlns=\"" S3_XML_NS "\"/>");
    else
        n = asprintf(&doc,
                     S3_XML_DECLARATION "<LocationConstraint xmlns=\"" S3_XML_NS
                                        "\">%s</LocationConstraint>",
                     loc);
    if (n < 0)
        return -ENOMEM;
    return s3_respond_xml(pr, 200, doc, (size_t)n);
}

/* The grants a Swift container ACL makes: AllUsers for .r:*, a user or
 * account for its name; referrer rules and .rlistings say nothing more. */
static int acl_grants(struct s3_xml *x, const char *acl, const char *perm)
{
    static const char all_users[] =
        "http://acs.amazonaws.com/groups/global/AllUsers";
    int rc = 0;

    while (!rc && acl && *acl) {
        size_t n = strcspn(acl, ",");
        char entry[256];

        snprintf(entry, sizeof(entry), "%.*s", (int)n, acl);
        acl += n + (acl[n] == ',');
        if (strcmp(entry, ".r:*") && entry[0] == '.')
            continue;
        if (!entry[0])
            continue;
        rc = s3_xml_open(x, "Grant");
        if (!rc)
            rc = !strcmp(entry, ".r:*") ? s3_xml_grantee_group(x, all_users)
                                        : s3_xml_grantee(x, entry);
        if (!rc)
            rc = s3_xml_elem(x, "Permission", perm);
        if (!rc)
            rc = s3_xml_close(x);
    }
    return rc;
}

/* A bucket's (or its object's) ACL from the container's Swift ACLs, as
 * s3api without s3_acl maps them: the owner has FULL_CONTROL, AllUsers
 * READ when the container is readable by all (.r:*), WRITE when writable
 * by all. */
static int op_get_acl(struct preq *pr, bool object)
{
    const char *owner = pr->s3->sig.access_key, *rd, *wr;
    struct s3_xml x = {0};
    struct info ci;
    char *doc = NULL;
    size_t len = 0;
    int rc = 0;

    if (!need_bucket(pr, &rc))
        return rc;
    if (object) {
        struct subreq_resp sr;
        char *path = s3_swift_quoted(pr->s3, pr->s3->key);

        rc = path ? subreq_run(pr, "HEAD", path, NULL, NULL, 0, NULL, 0, &sr)
                  : -ENOMEM;
        free(path);
        if (rc)
            return rc;
        rc = sr.status;
        subreq_resp_release(&sr);
        if (rc / 100 != 2)
            return rc == 404
                       ? no_such_key(pr)
                       : s3_error(pr, S3_ERR_ACCESS_DENIED, NULL, NULL, 0);
        rc = 0;
    }
    info_get(pr, pr->s3->user.account_id, pr->s3->bucket, &ci);
    rd = hlist_get(&ci.headers, "X-Container-Read");
    wr = hlist_get(&ci.headers, "X-Container-Write");
    rc = s3_xml_declaration(&x);
    if (!rc)
        rc = s3_xml_root(&x, "AccessControlPolicy");
    if (!rc)
        rc = s3_xml_open(&x, "Owner");
    if (!rc)
        rc = s3_xml_elem(&x, "ID", owner);
    if (!rc)
        rc = s3_xml_elem(&x, "DisplayName", owner);
    if (!rc)
        rc = s3_xml_close(&x);
    if (!rc)
        rc = s3_xml_open(&x, "AccessControlList");
    if (!rc)
        rc = s3_xml_open(&x, "Grant");
    if (!rc)
        rc = s3_xml_grantee(&x, owner);
    if (!rc)
        rc = s3_xml_elem(&x, "Permission", "FULL_CONTROL");
    if (!rc)
        rc = s3_xml_close(&x);
    if (!rc)
        rc = acl_grants(&x, rd, "READ");
    if (!rc && !object)
        rc = acl_grants(&x, wr, "WRITE");
    info_release(&ci);
    if (!rc)
        rc = s3_xml_finish(&x, &doc, &len);
    s3_xml_release(&x);
    return rc ? rc : s3_respond_xml(pr, 200, doc, len);
}

/* A bucket's ACLs as they were, put back when its public name was lost
 * to another account (s3_registry_after()). */
struct old_acls {
    char *rd, *wr;
};

static int keep_acls(struct preq *pr, struct old_acls *old)
{
    struct info ci;
    const char *rd, *wr;

    info_get(pr, pr->s3->user.account_id, pr->s3->bucket, &ci);
    rd = hlist_get(&ci.headers, "X-Container-Read");
    wr = hlist_get(&ci.headers, "X-Container-Write");
    old->rd = strdup(rd ? rd : "");
    old->wr = strdup(wr ? wr : "");
    info_release(&ci);
    return old->rd && old->wr ? 0 : -ENOMEM;
}

static int restore_acls(struct preq *pr, void *arg)
{
    struct old_acls *old = arg;
    struct http_header h[2] = {{"X-Container-Read", old->rd},
                               {"X-Container-Write", old->wr}};

    return s3_post_bucket(pr, h, 2);
}

/* PutBucketAcl, once its body (if any) is in: the canned ACL, grant
 * headers or AccessControlPolicy as the container's Swift ACLs
 * (s3_acl.c), set by a POST; what they do not grant is taken away. A
 * public-read bucket is registered for anonymous reads, 409 when another
 * account's public bucket has the name (nothing changed). */
static int op_put_bucket_acl(struct preq *pr)
{
    struct s3req *r = pr->s3;
    struct http_header h[2] = {{"X-Container-Read", ""},
                               {"X-Container-Write", ""}};
    struct old_acls old = {0};
    char *rd = NULL, *wr = NULL;
    bool pub;
    int rc = 0;

    if (r->xml_over)
        return s3_error(pr, S3_ERR_MALFORMED_ACL, NULL, NULL, 0);
    if (!need_bucket(pr, &rc))
        return rc;
    rc = s3_acl_from_request(pr, r->xml, r->xml_len, &rd, &wr);
    if (rc)
        return rc > 0 ? 0 : rc;
    if (rd)
        h[0].value = rd;
    if (wr)
        h[1].value = wr;
    pub = s3_registry_public(rd);
    rc = s3_registry_before(pr, pub);
    if (!rc && pub && !r->registry_mine)
        rc = keep_acls(pr, &old);
    if (!rc)
        rc = s3_post_bucket(pr, h, 2);
    if (!rc)
        rc = s3_registry_after(pr, pub, restore_acls, &old);
    if (!rc) /* multipart objects' parts follow */
        rc = s3_multipart_share_read_acl(pr, rd);
    free(rd);
    free(wr);
    free(old.rd);
    free(old.wr);
    if (rc)
        return rc < 0 ? rc : 0;
    return s3_respond_empty(pr, 200);
}

/* An empty document with only its root (versioning, logging...). */
static int op_empty_doc(struct preq *pr, const char *root)
{
    struct s3_xml x = {0};
    char *doc = NULL;
    size_t len = 0;
    int rc = 0;

    if (!need_bucket(pr, &rc))
        return rc;
    s3_xml_declaration(&x);
    s3_xml_root(&x, root);
    s3_xml_close(&x);
    rc = s3_xml_finish(&x, &doc, &len);
    s3_xml_release(&x);
    return rc ? rc : s3_respond_xml(pr, 200, doc, len);
}

/* One DeleteObjects result, into the document. */
static int delete_one(struct preq *pr, const struct s3_xml_delete_key *k,
                      bool quiet, struct s3_xml *x)
{
    struct subreq_resp sr;
    char *path;
    int rc;
    enum s3_err e = S3_OK;

    if (k->version_id && strcmp(k->version_id, "null"))
        e = S3_ERR_NOT_IMPLEMENTED;
    else if (!*k->key || strlen(k->key) > 1024)
        e = S3_ERR_KEY_TOO_LONG;
    if (e == S3_OK) {
        path = s3_swift_quoted(pr->s3, k->key);
        if (!path)
            return -ENOMEM;
        rc = subreq_run(pr, "DELETE", path, NULL, NULL, 0, NULL, 0, &sr);
        free(path);
        if (rc == -ENOMEM)
            return rc;
        if (rc)
            e = S3_ERR_INTERNAL_ERROR;
        else if (sr.status == 401 || sr.status == 403)
            e = S3_ERR_ACCESS_DENIED;
        else if (sr.status / 100 != 2 && sr.status != 404)
            e = sr.status == 503 ? S3_ERR_SERVICE_UNAVAILABLE
                                 : S3_ERR_INTERNAL_ERROR;
        if (!rc)
            subreq_resp_release(&sr);
    }
    if (e == S3_OK) {
        if (quiet)
            return 0;
        rc = s3_xml_open(x, "Deleted");
        if (!rc)
            rc = s3_xml_elem(x, "Key", k->key);
        if (!rc && k->version_id)
            rc = s3_xml_elem(x, "VersionId", k->version_id);
        return rc ? rc : s3_xml_close(x);
    }
    rc = s3_xml_open(x, "Error");
    if (!rc)
        rc = s3_xml_elem(x, "Key", k->key);
    if (!rc && k->version_id)
        rc = s3_xml_elem(x, "VersionId", k->version_id);
    if (!rc)
        rc = s3_xml_elem(x, "Code", s3_err_code(e));
    if (!rc)
        rc = s3_xml_elem(x, "Message", s3_err_message(e));
    return rc ? rc : s3_xml_close(x);
}

int s3_check_body_md5(struct preq *pr, bool required, bool *answered)
{
    struct s3req *r = pr->s3;
    char want[33], got[33];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int st = content_md5_hex(pr, want);

    *answered = false;
    if (st < 0) {
        *answered = true;
        return s3_error(pr, S3_ERR_INVALID_DIGEST, NULL, NULL, 0);
    }
    if (st > 0) {
        if (!required)
            return 0;
        *answered = true;
        return s3_error(pr, S3_ERR_INVALID_REQUEST,
                        "Missing required header for this request: "
                        "Content-MD5",
                        NULL, 0);
    }
    if (!EVP_Digest(r->xml ? r->xml : "", r->xml_len, md, &mdlen, EVP_md5(),
                    NULL))
        return -ENOMEM;
    for (unsigned int i = 0; i < 16; i++)
        snprintf(got + 2 * i, 3, "%02x", md[i]);
    if (strcmp(want, got)) {
        *answered = true;
        return s3_error(pr, S3_ERR_BAD_DIGEST, NULL, NULL, 0);
    }
    return 0;
}

static int op_multi_delete(struct preq *pr)
{
    struct s3req *r = pr->s3;
    struct s3_xml_delete d = {0};
    struct s3_xml x = {0};
    char *doc = NULL;
    size_t len = 0;
    bool answered;
    int rc, ex;

    rc = s3_check_body_md5(pr, true, &answered);
    if (rc || answered)
        return rc;
    if (r->xml_over)
        return s3_error(pr, S3_ERR_MALFORMED_XML, NULL, NULL, 0);
    rc = s3_xml_parse_delete(r->xml ? r->xml : "", r->xml_len,
                             MAX_MULTI_DELETE_BODY_SIZE,
                             r->api->max_multi_delete_objects, &d);
    if (rc > 0)
        return s3_error(pr, (enum s3_err)rc, NULL, NULL, 0);
    if (rc)
        return rc;
    ex = s3_bucket_exists(pr);
    if (ex <= 0) {
        s3_xml_delete_release(&d);
        return ex ? s3_error(pr, S3_ERR_SERVICE_UNAVAILABLE, NULL, NULL, 0)
                  : s3_no_such_bucket(pr);
    }
    rc = s3_xml_declaration(&x);
    if (!rc)
        rc = s3_xml_root(&x, "DeleteResult");
    for (size_t i = 0; !rc && i < d.n_keys; i++)
        rc = delete_one(pr, &d.keys[i], d.quiet, &x);
    if (!rc)
        rc = s3_xml_close(&x);
    if (!rc)
        rc = s3_xml_finish(&x, &doc, &len);
    s3_xml_release(&x);
    s3_xml_delete_release(&d);
    return rc ? rc : s3_respond_xml(pr, 200, doc, len);
}

/* The ACL a request asks for, as Swift's (s3req.h). */
int s3_acl_from_request(struct preq *pr, const char *body, size_t len,
                        char **read_acl, char **write_acl)
{
    static const char *const grants[][2] = {
        {"x-amz-grant-read", "READ"},
        {"x-amz-grant-write", "WRITE"},
        {"x-amz-grant-full-control", "FULL_CONTROL"},
        {"x-amz-grant-read-acp", "READ_ACP"},
        {"x-amz-grant-write-acp", "WRITE_ACP"},
    };
    struct s3_acl a = {.owner = pr->s3->sig.access_key};
    const char *canned = req_header(pr->req, "x-amz-acl");
    bool any_grant = false;
    int rc = 0;

    *read_acl = *write_acl = NULL;
    for (size_t i = 0; i < sizeof(grants) / sizeof(grants[0]); i++) {
        const char *v = req_header(pr->req, grants[i][0]);

        if (v) {
            any_grant = true;
            s3_acl_grant_header(&a, v, grants[i][1]);
        }
    }
    if ((canned ? 1 : 0) + (any_grant ? 1 : 0) + (len ? 1 : 0) > 1) {
        s3_acl_release(&a);
        rc = s3_error(pr, S3_ERR_INVALID_REQUEST,
                      "Specifying both Canned ACLs and Header Grants or a "
                      "body is not allowed",
                      NULL, 0);
        return rc ? rc : 1;
    }
    if (canned) {
        s3_acl_canned(&a, canned);
    } else if (len) {
        rc = s3_acl_policy(&a, body, len);
        if (rc) {
            s3_acl_release(&a);
            if (rc < 0)
                return rc;
            rc = s3_error(pr, S3_ERR_MALFORMED_ACL, NULL, NULL, 0);
            return rc ? rc : 1;
        }
    } else if (!any_grant) {
        rc = s3_error(pr, S3_ERR_MISSING_SECURITY_HEADER,
                      "Your request was missing a required header", NULL, 0);
        return rc ? rc : 1;
    }
    if (a.err) {
        rc = a.err;
    } else if (a.unsupported) {
        rc = s3_error(pr, S3_ERR_NOT_IMPLEMENTED, a.unsupported, NULL, 0);
        rc = rc ? rc : 1;
    }
    if (rc) {
        s3_acl_release(&a);
        return rc;
    }
    *read_acl = a.read;
    *write_acl = a.write;
    return 0;
}

/* A CreateBucket's canned ACL or grants as the container's Swift ACLs.
 * 0, 1 when answered, -errno. */
static int create_acls(struct preq *pr)
{
    char *rd = NULL, *wr = NULL;
    int rc = 0;

    if (!req_header(pr->req, "x-amz-acl") &&
        !req_header(pr->req, "x-amz-grant-read") &&
        !req_header(pr->req, "x-amz-grant-write") &&
        !req_header(pr->req, "x-amz-grant-full-control") &&
        !req_header(pr->req, "x-amz-grant-read-acp") &&
        !req_header(pr->req, "x-amz-grant-write-acp"))
        return 0;
    rc = s3_acl_from_request(pr, NULL, 0, &rd, &wr);
    if (!rc && rd)
        rc = req_set_header(pr->req, "X-Container-Read", rd);
    if (!rc && wr)
        rc = req_set_header(pr->req, "X-Container-Write", wr);
    free(rd);
    free(wr);
    return rc;
}

/* Whether a CreateBucket makes its bucket public-read. */
static bool created_public(struct preq *pr)
{
    return s3_registry_public(req_header(pr->req, "X-Container-Read"));
}

/* A public CreateBucket whose name another account registered at the
 * same moment: a bucket it made goes again (Swift's 201), one that was
 * there (202) is left private. */
static int undo_create(struct preq *pr, void *arg)
{
    static const struct http_header h[2] = {{"X-Container-Read", ""},
                                            {"X-Container-Write", ""}};
    struct subreq_resp sr;
    char *path;
    int rc;

    if (*(const unsigned int *)arg != 201)
        return s3_post_bucket(pr, h, 2);
    path = s3_swift_quoted(pr->s3, NULL);
    rc = path ? subreq_run(pr, "DELETE", path, NULL, NULL, 0, NULL, 0, &sr)
              : -ENOMEM;
    free(path);
    if (rc)
        return rc;
    if (sr.status / 100 != 2)
        req_log(pr->req, LOG_ERR, "cannot delete bucket '%s' again: %u",
                pr->s3->bucket, sr.status);
    subreq_resp_release(&sr);
    return 0;
}

static int op_bucket_put(struct preq *pr)
{
    struct s3req *r = pr->s3;
    char *location = NULL;
    int rc;

    if (r->xml_over)
        return s3_error(pr, S3_ERR_MALFORMED_XML, NULL, NULL, 0);
    if (r->xml_len) {
        rc = s3_xml_parse_create_bucket(r->xml, r->xml_len,
                                        MAX_PUT_BUCKET_BODY_SIZE, &location);
        if (rc > 0)
            return s3_error(pr, (enum s3_err)rc, NULL, NULL, 0);
        if (rc)
            return rc;
        if (location && strcasecmp(location, r->api->location)) {
            free(location);
            return s3_error(pr, S3_ERR_INVALID_LOCATION_CONSTRAINT, NULL, NULL,
                            0);
        }
        free(location);
    }
    rc = create_acls(pr);
    if (!rc) /* public read: the name must be free for anonymous reads */
        rc = s3_registry_before(pr, created_public(pr));
    if (rc)
        return rc > 0 ? 0 : rc;
    /* the Swift PUT has no body */
    pr->body_length = 0;
    pr->body_chunked = false;
    rc = s3_set_swift_path(pr, false);
    return rc ? rc : preq_route_identified(pr);
}

/* What PUT and COPY of an object take from S3's headers. */
static int object_put_headers(struct preq *pr, bool copy)
{
    char md5[33];
    const char *v;
    int st, rc;

    st = content_md5_hex(pr, md5);
    if (st < 0)
        return s3_error(pr, S3_ERR_INVALID_DIGEST, NULL, NULL, 0), 1;
    rc = req_set_header(pr->req, "ETag", st == 0 ? md5 : NULL);
    v = req_header(pr->req, "x-amz-storage-class");
    if (!rc && v && strcmp(v, "STANDARD"))
        return s3_error(pr, S3_ERR_INVALID_STORAGE_CLASS, NULL, NULL, 0), 1;
    if (!rc && req_header(pr->req, "x-amz-server-side-encryption"))
        return s3_error(pr, S3_ERR_NOT_IMPLEMENTED, NULL, NULL, 0), 1;
    if (!rc)
        rc = s3_object_acl_header(pr);
    if (rc)
        return rc;
    /* nothing of Swift's own the client may slip in */
    if (!rc)
        rc = drop_headers_with(pr, "X-Object-Meta-");
    if (!rc)
        rc = drop_headers_with(pr, "X-Copy-From");
    if (!rc)
        rc = drop_headers_with(pr, "X-Delete-");
    if (!rc)
        rc = drop_headers_with(pr, "X-Fresh-Metadata");
    if (!rc)
        rc = drop_headers_with(pr, "X-Object-Manifest");
    if (!rc)
        rc = drop_headers_with(pr, "X-Static-Large-Object");
    if (!rc)
        rc = drop_headers_with(pr, "X-Object-Transient-Sysmeta-");
    if (!rc && !copy)
        rc = s3_tagging_header(pr);
    if (!rc) {
        /* aws-chunked is how the body came, not what it is */
        v = req_header(pr->req, "Content-Encoding");
        if (v && !strncasecmp(v, "aws-chunked", 11)) {
            const char *rest = v + 11;

            while (*rest == ',' || *rest == ' ')
                rest++;
            rc = req_set_header(pr->req, "Content-Encoding",
                                *rest ? rest : NULL);
        }
    }
    if (!rc && copy) {
        v = req_header(pr->req, "x-amz-metadata-directive");
        if (v && strcmp(v, "COPY") && strcmp(v, "REPLACE"))
            return s3_error(pr, S3_ERR_INVALID_ARGUMENT,
                            "Unknown metadata directive.", NULL, 0),
                   1;
        if (v && !strcmp(v, "REPLACE")) {
            rc = req_set_header(pr->req, "X-Fresh-Metadata", "True");
            if (!rc)
                rc = translate_meta(pr, true);
        } else {
            /* COPY: the source's, whatever else was sent */
            static const char *const exclude[] = {"Content-Disposition",
                                                  "Content-Encoding",
                                                  "Content-Language",
                                                  "Content-Type",
                                                  "Expires",
                                                  "Cache-Control",
                                                  "X-Robots-Tag",
                                                  NULL};

            for (size_t i = 0; !rc && exclude[i]; i++)
                rc = req_set_header(pr->req, exclude[i], NULL);
            if (!rc)
                rc = translate_meta(pr, false);
        }
    } else if (!rc) {
        rc = translate_meta(pr, true);
    }
    return rc;
}

/* x-amz-copy-source-if-* and -range become the conditions and the Range
 * of the Swift copy's source GET; the client's own If-* and Range, which
 * S3 does not apply to a copy, go. Returns 0, 1 when answered. */
static int copy_conditions(struct preq *pr)
{
    static const char *const map[][2] = {
        {"x-amz-copy-source-if-match", "If-Match"},
        {"x-amz-copy-source-if-none-match", "If-None-Match"},
        {"x-amz-copy-source-if-modified-since", "If-Modified-Since"},
        {"x-amz-copy-source-if-unmodified-since", "If-Unmodified-Since"},
        {"x-amz-copy-source-range", "Range"},
    };
    int rc = 0;

    for (size_t i = 0; !rc && i < sizeof(map) / sizeof(map[0]); i++) {
        const char *v = req_header(pr->req, map[i][0]);
        char *copy = v ? strdup(v) : NULL;

        if (v && !copy)
            return -ENOMEM;
        if (copy && i == 4 && strncmp(copy, "bytes=", 6)) {
            struct s3_xml_field f[2] = {
                {"ArgumentName", "x-amz-copy-source-range"},
                {"ArgumentValue", copy}};

            rc = s3_error(pr, S3_ERR_INVALID_ARGUMENT,
                          "The x-amz-copy-source-range value must be of the "
                          "form bytes=first-last where first and last are the "
                          "zero-based offsets of the first and last bytes to "
                          "copy",
                          f, 2);
            free(copy);
            return rc ? rc : 1;
        }
        rc = req_set_header(pr->req, map[i][1], copy);
        if (!rc && copy)
            rc = req_set_header(pr->req, map[i][0], NULL);
        free(copy);
    }
    return rc;
}

int s3_object_copy(struct preq *pr)
{
    const char *src = req_header(pr->req, "x-amz-copy-source");
    char *decoded = NULL, *q;
    const char *s;
    int rc;

    q = strstr(src, "?versionId=");
    if (q && strcmp(q + 11, "null"))
        return s3_error(pr, S3_ERR_NOT_IMPLEMENTED, NULL, NULL, 0);
    if (http_unquote(src, q ? (size_t)(q - src) : strlen(src), false, &decoded))
        return s3_error(pr, S3_ERR_INVALID_ARGUMENT,
                        "Copy Source must mention the source bucket and key: "
                        "sourcebucket/sourcekey",
                        NULL, 0);
    s = decoded[0] == '/' ? decoded + 1 : decoded;
    if (!strchr(s, '/') || strchr(s, '/') == s || !strchr(s, '/')[1]) {
        free(decoded);
        return s3_error(pr, S3_ERR_INVALID_ARGUMENT,
                        "Copy Source must mention the source bucket and key: "
                        "sourcebucket/sourcekey",
                        NULL, 0);
    }
    if (pr->body_length > 0 || pr->body_chunked) {
        free(decoded);
        return s3_error(pr, S3_ERR_INVALID_REQUEST,
                        "The request included a body. Requests of this type "
                        "must not include a non-empty body.",
                        NULL, 0);
    }
    rc = object_put_headers(pr, true);
    if (!rc)
        rc = copy_conditions(pr);
    if (!rc && pr->s3->op == OP_OBJECT_COPY)
        rc = s3_tagging_copy(pr, s);
    if (!rc && pr->s3->op == OP_OBJECT_COPY)
        rc = s3_lifecycle_apply(pr, pr->s3->key, NULL);
    if (!rc) {
        char *qs = http_quote(s);

        rc = qs ? req_set_header(pr->req, "X-Copy-From", qs) : -ENOMEM;
        free(qs);
    }
    free(decoded);
    if (!rc)
        rc = req_set_header(pr->req, "x-amz-copy-source", NULL);
    if (!rc)
        rc = s3_set_swift_path(pr, true);
    if (rc)
        return rc > 0 ? 0 : rc;
    pr->body_length = 0;
    pr->body_chunked = false;
    return preq_route_identified(pr);
}

int s3_object_put(struct preq *pr)
{
    struct s3req *r = pr->s3;
    int rc;

    if (!pr->body_chunked && pr->body_length < 0)
        return s3_error(pr, S3_ERR_MISSING_CONTENT_LENGTH, NULL, NULL, 0);
    if (r->sig.payload == S3_PAYLOAD_STREAMING) {
        rc = s3_chunked_new(&r->seed, r->sig.decoded_length, &r->chunked);
        if (rc)
            return rc;
        /* the decoded body goes to the replicas with its end held back
         * until the last signature checked */
        pr->body_length = -1;
        pr->body_chunked = true;
    } else if (r->payload) {
        pr->body_length = -1;
        pr->body_chunked = true;
    }
    rc = object_put_headers(pr, false);
    /* a part is not an object: the upload's rules apply at completion */
    if (!rc && r->op == OP_OBJECT_PUT)
        rc = s3_lifecycle_apply(pr, r->key, NULL);
    if (!rc)
        rc = s3_set_swift_path(pr, true);
    if (rc)
        return rc > 0 ? 0 : rc;
    return preq_route_identified(pr);
}

/* ---- routing ---- */

static bool valid_bucket(const struct s3api *s3, const char *b)
{
    size_t n = strlen(b);

    if (!s3->dns_compliant_bucket_names)
        return n >= 1 && n <= 255 && !strchr(b, '/');
    if (n < 3 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)b[i]) || isdigit((unsigned char)b[i]) ||
              b[i] == '.' || b[i] == '-'))
            return false;
    if (!isalnum((unsigned char)b[0]) || !isalnum((unsigned char)b[n - 1]))
        return false;
    if (strstr(b, "..") || strstr(b, ".-") || strstr(b, "-."))
        return false;
    {
        unsigned int a, c, d, e;
        char tail;

        if (sscanf(b, "%u.%u.%u.%u%c", &a, &c, &d, &e, &tail) == 4)
            return false; /* like an IP address */
    }
    return true;
}

/* Bucket and key from Host (virtual-hosted style) or the path. Returns
 * 0, 1 when answered (a bad name), -errno. */
static int find_target(struct preq *pr)
{
    struct s3req *r = pr->s3;
    const char *host = req_header(pr->req, "Host");
    const char *path = pr->path;
    const char *dom = r->api->storage_domain;

    if (memchr(pr->path, '\0', pr->path_len) || path[0] != '/')
        return s3_error(pr, S3_ERR_INVALID_URI, NULL, NULL, 0), 1;
    path++;
    if (*dom && host) {
        size_t hl = strcspn(host, ":"), dl = strlen(dom);

        if (hl > dl + 1 && host[hl - dl - 1] == '.' &&
            !strncasecmp(host + hl - dl, dom, dl)) {
            r->bucket = strndup(host, hl - dl - 1);
            if (!r->bucket)
                return -ENOMEM;
            for (char *p = r->bucket; *p; p++)
                *p = (char)tolower((unsigned char)*p);
            if (*path && !(r->key = strdup(path)))
                return -ENOMEM;
        }
    }
    if (!r->bucket && *path) {
        size_t bl = strcspn(path, "/");

        r->bucket = strndup(path, bl);
        if (!r->bucket)
            return -ENOMEM;
        if (path[bl] == '/' && path[bl + 1] &&
            !(r->key = strdup(path + bl + 1)))
            return -ENOMEM;
    }
    if (r->bucket && !valid_bucket(r->api, r->bucket)) {
        struct s3_xml_field f = {"BucketName", r->bucket};

        return s3_error(pr, S3_ERR_INVALID_BUCKET_NAME, NULL, &f, 1), 1;
    }
    if (r->key && strlen(r->key) > 1024)
        return s3_error(pr, S3_ERR_KEY_TOO_LONG, NULL, NULL, 0), 1;
    return 0;
}

/* Sub-resources that name an operation (S3's list, as s3api routes). */
static const char *subresource(const struct request *req)
{
    static const char *const names[] = {"acl",
                                        "cors",
                                        "delete",
                                        "lifecycle",
                                        "location",
                                        "logging",
                                        "notification",
                                        "partNumber",
                                        "policy",
                                        "requestPayment",
                                        "restore",
                                        "tagging",
                                        "torrent",
                                        "uploadId",
                                        "uploads",
                                        "versioning",
                                        "versions",
                                        "website",
                                        "replication",
                                        "encryption",
                                        "object-lock",
                                        "retention",
                                        "legal-hold",
                                        "accelerate",
                                        "analytics",
                                        "inventory",
                                        "metrics",
                                        "ownershipControls",
                                        "publicAccessBlock",
                                        "intelligent-tiering",
                                        "attributes",
                                        "policyStatus",
                                        "select",
                                        NULL};

    for (size_t i = 0; names[i]; i++)
        if (req_param(req, names[i]))
            return names[i];
    return NULL;
}

static int buffer_body(struct preq *pr, size_t max)
{
    pr->s3->xml_max = max;
    if (pr->body_length > (int64_t)max)
        return s3_error(pr, S3_ERR_MALFORMED_XML, NULL, NULL, 0);
    return 0;
}

static int bucket_op(struct preq *pr, const char *m, const char *sub)
{
    struct s3req *r = pr->s3;

    if (sub) {
        if (!strcmp(sub, "location") && !strcmp(m, "GET"))
            return op_location(pr);
        if (!strcmp(sub, "acl") && !strcmp(m, "GET"))
            return op_get_acl(pr, false);
        if (!strcmp(sub, "acl") && !strcmp(m, "PUT")) {
            r->op = OP_PUT_BUCKET_ACL;
            return buffer_body(pr, MAX_ACL_BODY_SIZE);
        }
        if (!strcmp(sub, "versioning") && !strcmp(m, "GET"))
            return op_empty_doc(pr, "VersioningConfiguration");
        if (!strcmp(sub, "uploads") && !strcmp(m, "GET"))
            return s3_multipart_list_uploads(pr);
        if (!strcmp(sub, "versions") && !strcmp(m, "GET"))
            return op_list_objects(pr, true);
        if (!strcmp(sub, "logging") && !strcmp(m, "GET"))
            return op_empty_doc(pr, "BucketLoggingStatus");
        if (!strcmp(sub, "tagging"))
            return s3_bucket_tagging_op(pr, m);
        if (!strcmp(sub, "lifecycle"))
            return s3_lifecycle_op(pr, m);
        if (!strcmp(sub, "cors"))
            return s3_cors_op(pr, m);
        if (!strcmp(sub, "delete") && !strcmp(m, "POST")) {
            r->op = OP_MULTI_DELETE;
            return buffer_body(pr, MAX_MULTI_DELETE_BODY_SIZE);
        }
        if (!strcmp(m, "GET")) {
            enum s3_err e = S3_ERR_NOT_IMPLEMENTED;
            int ex;

            if (!strcmp(sub, "lifecycle"))
                e = S3_ERR_NO_SUCH_LIFECYCLE_CONFIGURATION;
            else if (!strcmp(sub, "policy"))
                e = S3_ERR_NO_SUCH_BUCKET_POLICY;
            if (e != S3_ERR_NOT_IMPLEMENTED) {
                ex = s3_bucket_exists(pr);
                if (ex <= 0)
                    return ex ? s3_error(pr, S3_ERR_SERVICE_UNAVAILABLE, NULL,
                                         NULL, 0)
                              : s3_no_such_bucket(pr);
                {
                    struct s3_xml_field f = {"BucketName", r->bucket};

                    return s3_error(pr, e, NULL, &f, 1);
                }
            }
        }
        return s3_error(pr, S3_ERR_NOT_IMPLEMENTED, NULL, NULL, 0);
    }
    if (!strcmp(m, "GET")) {
        r->op = OP_LIST_OBJECTS;
        return op_list_objects(pr, false);
    }
    if (!strcmp(m, "HEAD")) {
        int rc;

        r->op = OP_BUCKET_HEAD;
        rc = s3_set_swift_path(pr, false);
        return rc ? rc : preq_route_identified(pr);
    }
    if (!strcmp(m, "PUT")) {
        r->op = OP_BUCKET_PUT;
        return buffer_body(pr, MAX_PUT_BUCKET_BODY_SIZE);
    }
    if (!strcmp(m, "DELETE")) {
        int rc;

        r->op = OP_BUCKET_DELETE;
        rc = s3_set_swift_path(pr, false);
        return rc ? rc : preq_route_identified(pr);
    }
    return s3_error(pr, S3_ERR_METHOD_NOT_ALLOWED, NULL, NULL, 0);
}

static int object_op(struct preq *pr, const char *m, const char *sub)
{
    struct s3req *r = pr->s3;
    const char *vid = req_param(pr->req, "versionId");
    const char *part = req_param(pr->req, "partNumber");
    int rc;

    if (vid && strcmp(vid, "null"))
        return s3_error(pr, S3_ERR_NOT_IMPLEMENTED, NULL, NULL, 0);
    if (req_param(pr->req, "uploadId") || req_param(pr->req, "uploads"))
        return s3_multipart_op(pr, m);
    /* one part of a multipart object (slo.c serves it; any other object
     * is its own part 1) */
    if (sub && !strcmp(sub, "partNumber") &&
        (!strcmp(m, "GET") || !strcmp(m, "HEAD"))) {
        char *end;
        unsigned long n = strtoul(part, &end, 10);

        if (!isdigit((unsigned char)*part) || *end || n < 1 || n > 10000) {
            struct s3_xml_field f[2] = {{"ArgumentName", "partNumber"},
                                        {"ArgumentValue", part}};

            return s3_error(pr, S3_ERR_INVALID_ARGUMENT,
                            "Part number must be an integer between 1 and "
                            "10000, inclusive",
                            f, 2);
        }
        pr->part_number = (unsigned int)n;
        sub = NULL;
    }
    if (sub && !strcmp(sub, "acl") && !strcmp(m, "GET"))
        return op_get_acl(pr, true);
    if (sub && !strcmp(sub, "acl") && !strcmp(m, "PUT")) {
        r->op = OP_PUT_OBJECT_ACL;
        return buffer_body(pr, MAX_ACL_BODY_SIZE);
    }
    if (sub && !strcmp(sub, "tagging"))
        return s3_tagging_op(pr, m);
    if (sub)
        return s3_error(pr, S3_ERR_NOT_IMPLEMENTED, NULL, NULL, 0);
    if (!strcmp(m, "GET") || !strcmp(m, "HEAD")) {
        r->op = OP_OBJECT_GET;
        rc = save_overrides(pr);
        if (!rc)
            rc = s3_set_swift_path(pr, true);
        /* the query is S3's: none of it is Swift's */
        if (!rc)
            rc = req_rewrite(pr->req, NULL, "");
        return rc ? rc : preq_route_identified(pr);
    }
    if (!strcmp(m, "PUT")) {
        if (req_header(pr->req, "x-amz-copy-source")) {
            r->op = OP_OBJECT_COPY;
            return s3_object_copy(pr);
        }
        r->op = OP_OBJECT_PUT;
        return s3_object_put(pr);
    }
    if (!strcmp(m, "DELETE")) {
        r->op = OP_OBJECT_DELETE;
        /* a multipart object's parts go with it, as in s3api */
        rc = s3_multipart_delete_parts(pr);
        if (!rc && !req_status(pr->req))
            rc = s3_set_swift_path(pr, true);
        if (!rc)
            rc = req_rewrite(pr->req, NULL, "");
        return rc ? rc : preq_route_identified(pr);
    }
    return s3_error(pr, S3_ERR_METHOD_NOT_ALLOWED, NULL, NULL, 0);
}

/* A V2-signed request to a bucket's root, path style ("/bucket"). */
static bool bucket_root_v2(const struct preq *pr,
                           const struct s3_sig_request *sr)
{
    const struct s3req *r = pr->s3;
    const char *p = sr->raw_path;

    return (r->sig.kind == S3_SIG_V2_HEADER ||
            r->sig.kind == S3_SIG_V2_QUERY) &&
           !sr->bucket_in_host && p[0] == '/' && p[1] && !strchr(p + 1, '/');
}

/* The operation the method, target and sub-resource name. */
static int dispatch(struct preq *pr, const char *m, const char *sub)
{
    struct s3req *r = pr->s3;

    if (!r->bucket) {
        if (strcmp(m, "GET") || sub)
            return s3_error(pr, S3_ERR_METHOD_NOT_ALLOWED, NULL, NULL, 0);
        r->op = OP_LIST_BUCKETS;
        return op_list_buckets(pr);
    }
    if (!r->key)
        return bucket_op(pr, m, sub);
    return object_op(pr, m, sub);
}

int s3api_on_headers(struct preq *pr)
{
    struct s3api *api = pr->p->s3;
    struct s3req *r = calloc(1, sizeof(*r));
    struct s3_sig_conf sc;
    struct s3_sig_request sr = {0};
    struct s3_sig_error err = {0};
    const char *m = req_method(pr->req), *sub;
    int rc;

    if (!r)
        return -ENOMEM;
    r->api = api;
    pr->s3 = r;
    sc.region = api->location;
    sc.max_skew = api->clock_skew;
    sr.method = m;
    sr.raw_path = req_raw_path(pr->req);
    sr.raw_query = req_raw_query(pr->req);
    sr.header = sig_header;
    sr.foreach_header = sig_foreach;
    sr.arg = pr->req;
    sr.now = (int64_t)pr->now;
    /* a preflight is unsigned: browsers send no credentials with it */
    if (!strcmp(m, "OPTIONS") && (rc = s3_cors_preflight_global(pr)))
        return rc > 0 ? 0 : rc;
    rc = find_target(pr);
    if (rc)
        return rc > 0 ? 0 : rc;
    if (!strcmp(m, "OPTIONS"))
        return s3_cors_preflight(pr);
    if (r->bucket && r->api->storage_domain[0]) {
        const char *host = req_header(pr->req, "Host");

        if (host && strncasecmp(host, r->bucket, strlen(r->bucket)) == 0 &&
            host[strlen(r->bucket)] == '.')
            sr.bucket_in_host = r->bucket;
    }
    rc = s3_sig_parse(&sc, &sr, &r->sig, &err);
    if (rc < 0)
        return s3_sig_error_respond(pr, &err);
    if (rc == 0) { /* no credentials: reads of public buckets only */
        sub = subresource(pr->req);
        rc = s3_registry_anonymous(pr, sub);
        if (rc)
            return rc > 0 ? 0 : rc;
        return dispatch(pr, m, sub);
    }
    rc = tempauth_s3_user(api->auth, r->sig.access_key, &r->user);
    if (rc == -ENOENT)
        return s3_error(pr, S3_ERR_INVALID_ACCESS_KEY_ID, NULL, NULL, 0);
    if (rc)
        return rc;
    rc = s3_sig_verify(&r->sig, &sr, r->user.secret, &r->seed, &err);
    if (rc == -EINVAL && bucket_root_v2(pr, &sr)) {
        /* botocore signs a path-style bucket's V2 resource as "/bucket/"
         * while it requests "/bucket"; S3 takes either */
        char *slashed = NULL;

        if (asprintf(&slashed, "%s/", sr.raw_path) < 0)
            return -ENOMEM;
        sr.raw_path = slashed;
        rc = s3_sig_verify(&r->sig, &sr, r->user.secret, &r->seed, &err);
        free(slashed);
    }
    if (rc == -ENOMEM)
        return rc;
    if (rc)
        return s3_sig_error_respond(pr, &err);
    /* a body signed by its SHA-256 is checked whatever the operation */
    if (r->sig.payload == S3_PAYLOAD_SIGNED &&
        (rc = s3_sig_payload_new(r->sig.payload_sha256, &r->payload)))
        return rc;
    pr->id.groups = strdup(r->user.groups);
    if (!pr->id.groups)
        return -ENOMEM;
    pr->id.authoritative = true;
    pr->id.reseller_request = strstr(r->user.groups, ".reseller_admin");
    pr->reseller = pr->id.reseller_request;
    return dispatch(pr, m, subresource(pr->req));
}

/* ---- the body ---- */

static int emit_decoded(void *arg, const char *data, size_t len)
{
    struct preq *pr = arg;

    if (!pr->put || req_status(pr->req))
        return 0;
    return object_put_body(pr, data, len);
}

/* A body that failed its check: no replica may commit. */
static int body_failed(struct preq *pr, const struct s3_sig_error *err)
{
    object_put_abort(pr);
    return s3_sig_error_respond(pr, err);
}

int s3api_on_body(struct preq *pr, const char *data, size_t len)
{
    struct s3req *r = pr->s3;
    struct s3_sig_error err = {0};
    int rc;

    if (req_status(pr->req))
        return 0;
    if (r->xml_max) {
        if (r->payload)
            s3_sig_payload_update(r->payload, data, len);
        if (r->xml_len + len > r->xml_max) {
            r->xml_over = true;
            return 0;
        }
        {
            char *grown = realloc(r->xml, r->xml_len + len + 1);

            if (!grown)
                return -ENOMEM;
            memcpy(grown + r->xml_len, data, len);
            r->xml = grown;
            r->xml_len += len;
            r->xml[r->xml_len] = '\0';
        }
        return 0;
    }
    if (r->chunked) {
        rc = s3_chunked_feed(r->chunked, data, len, emit_decoded, pr, &err);
        if (rc == -EINVAL)
            return body_failed(pr, &err);
        return rc;
    }
    if (r->payload)
        s3_sig_payload_update(r->payload, data, len);
    if (pr->put)
        return object_put_body(pr, data, len);
    return 0;
}

int s3api_on_end(struct preq *pr)
{
    struct s3req *r = pr->s3;
    struct s3_sig_error err = {0};
    int rc;

    if (req_status(pr->req))
        return 0;
    if (r->xml_max && r->payload) {
        rc = s3_sig_payload_finish(r->payload, &err);
        if (rc)
            return rc == -EINVAL ? s3_sig_error_respond(pr, &err) : rc;
    }
    if (r->op == OP_MULTI_DELETE)
        return op_multi_delete(pr);
    if (r->op == OP_BUCKET_PUT)
        return op_bucket_put(pr);
    if (r->op == OP_COMPLETE_UPLOAD)
        return s3_multipart_complete(pr);
    if (r->op == OP_PUT_TAGGING)
        return s3_tagging_put(pr);
    if (r->op == OP_PUT_BUCKET_ACL)
        return op_put_bucket_acl(pr);
    if (r->op == OP_PUT_OBJECT_ACL)
        return s3_object_acl_put(pr);
    if (r->op == OP_PUT_BUCKET_TAGGING)
        return s3_bucket_tagging_put(pr);
    if (r->op == OP_PUT_LIFECYCLE)
        return s3_lifecycle_put(pr);
    if (r->op == OP_PUT_BUCKET_CORS)
        return s3_cors_put(pr);
    if (r->chunked) {
        rc = s3_chunked_finish(r->chunked, &err);
        if (rc == -EINVAL)
            return body_failed(pr, &err);
        if (rc)
            return rc;
    }
    if (r->payload) {
        rc = s3_sig_payload_finish(r->payload, &err);
        if (rc == -EINVAL)
            return body_failed(pr, &err);
        if (rc)
            return rc;
    }
    if (pr->put && !req_status(pr->req))
        return object_put_end(pr);
    return 0;
}

/* ---- Swift's response, S3's way ---- */

/* Swift's response headers an S3 client gets (s3api's
 * translate_swift_to_s3()). */
static int pass_header(struct preq *pr, const char *name, const char *value)
{
    static const char *const keep[] = {"Content-Type",
                                       "Content-Range",
                                       "Content-Encoding",
                                       "Content-Disposition",
                                       "Content-Language",
                                       "Last-Modified",
                                       "X-Robots-Tag",
                                       "Cache-Control",
                                       "Expires",
                                       "Accept-Ranges",
                                       NULL};

    if (!strcasecmp(name, "X-Parts-Count"))
        return req_add_header(pr->req, "x-amz-mp-parts-count", value);
    if (!strncasecmp(name, "X-Object-Meta-", 14)) {
        char meta[600];
        size_t o = (size_t)snprintf(meta, sizeof(meta), "x-amz-meta-");

        for (const char *p = name + 14; *p && o + 1 < sizeof(meta); p++) {
            if (!strncasecmp(p, "=5F", 3)) {
                meta[o++] = '_';
                p += 2;
            } else {
                meta[o++] = (char)tolower((unsigned char)*p);
            }
        }
        meta[o] = '\0';
        return req_add_header(pr->req, meta, value);
    }
    if (!strcasecmp(name, "Etag")) {
        char quoted[80];

        if (value[0] == '"')
            return req_add_header(pr->req, "ETag", value);
        snprintf(quoted, sizeof(quoted), "\"%s\"", value);
        return req_add_header(pr->req, "ETag", quoted);
    }
    for (size_t i = 0; keep[i]; i++)
        if (!strcasecmp(name, keep[i]))
            return req_add_header(pr->req, name, value);
    return 0;
}

/* GET's response-* parameters override the stored headers; kept before
 * the query is rewritten for Swift. */
static int save_overrides(struct preq *pr)
{
    static const char *const map[][2] = {
        {"response-content-type", "Content-Type"},
        {"response-content-language", "Content-Language"},
        {"response-expires", "Expires"},
        {"response-cache-control", "Cache-Control"},
        {"response-content-disposition", "Content-Disposition"},
        {"response-content-encoding", "Content-Encoding"},
    };
    int rc = 0;

    for (size_t i = 0; !rc && i < sizeof(map) / sizeof(map[0]); i++) {
        const char *v = req_param(pr->req, map[i][0]);

        if (v && !strpbrk(v, "\r\n"))
            rc = hlist_add(&pr->s3->overrides, map[i][1], v);
    }
    return rc;
}

/* An HTTP date ("Fri, 04 Dec 2026 21:59:50 GMT") as S3's ISO 8601
 * ("2026-12-04T21:59:50.000Z"). */
static void iso_date(const char *http_date, char out[32])
{
    struct tm tm = {0};

    if (http_date && strptime(http_date, "%a, %d %b %Y %H:%M:%S GMT", &tm))
        strftime(out, 32, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
    else
        snprintf(out, 32, "1970-01-01T00:00:00.000Z");
}

static int copy_result(struct preq *pr, const struct req_response *rs,
                       const char *root)
{
    struct s3_xml x = {0};
    const char *etag = req_response_header(rs, "Etag");
    char date[32], quoted[80];
    char *doc = NULL;
    size_t len = 0;
    int rc;

    iso_date(req_response_header(rs, "Last-Modified"), date);
    snprintf(quoted, sizeof(quoted), "\"%s\"", etag ? etag : "");
    s3_xml_declaration(&x);
    s3_xml_root(&x, root);
    s3_xml_elem(&x, "LastModified", date);
    s3_xml_elem(&x, "ETag", quoted);
    s3_xml_close(&x);
    rc = s3_xml_finish(&x, &doc, &len);
    s3_xml_release(&x);
    return rc ? rc : s3_respond_xml(pr, 200, doc, len);
}

static int convert_success(struct preq *pr, struct req_response *rs)
{
    const char *s3_etag;
    struct s3req *r = pr->s3;
    unsigned int status = rs->status;
    int rc = 0;

    switch (r->op) {
    case OP_BUCKET_PUT:
        if (created_public(pr)) {
            rc = s3_registry_after(pr, true, undo_create, &status);
            if (rc)
                return rc < 0 ? rc : 0;
        }
        if (req_header(pr->req, "X-Container-Read")) {
            /* new grants: the parts of multipart objects follow (a 202
             * took them too; a 201 may find an older bucket's parts) */
            rc = s3_multipart_share_read_acl(
                pr, req_header(pr->req, "X-Container-Read"));
            if (rc)
                return rc < 0 ? rc : 0;
        }
        if (status == 202) {
            struct s3_xml_field f = {"BucketName", r->bucket};

            return s3_error(pr, S3_ERR_BUCKET_ALREADY_OWNED_BY_YOU, NULL, &f,
                            1);
        }
        {
            char loc[300];

            snprintf(loc, sizeof(loc), "/%s", r->bucket);
            rc = s3_add_ids(pr);
            if (!rc)
                rc = req_add_header(pr->req, "Location", loc);
            return rc ? rc : req_respond(pr->req, 200, "", 0);
        }
    case OP_BUCKET_HEAD:
        rc = s3_add_ids(pr);
        return rc ? rc : req_respond(pr->req, 200, "", 0);
    case OP_BUCKET_DELETE:
        rc = s3_registry_forget(pr); /* its registration goes with it */
        return rc ? rc : s3_respond_empty(pr, 204);
    case OP_OBJECT_DELETE: return s3_respond_empty(pr, 204);
    case OP_OBJECT_COPY: return copy_result(pr, rs, "CopyObjectResult");
    case OP_UPLOAD_PART_COPY: return copy_result(pr, rs, "CopyPartResult");
    default: break;
    }
    /* a multipart upload's object has S3's etag (slo.c passes it) */
    s3_etag = req_response_header(rs, "X-Object-Sysmeta-S3api-Etag");
    rc = s3_add_ids(pr);
    for (size_t i = 0; !rc && i < rs->n_headers; i++) {
        const char *name = rs->headers[i].name, *v = rs->headers[i].value;
        bool overridden =
            (status == 200 || status == 206) && hlist_get(&r->overrides, name);

        if (s3_etag && !strcasecmp(name, "Etag"))
            v = s3_etag;
        if (!overridden)
            rc = pass_header(pr, name, v);
    }
    if (r->op == OP_OBJECT_PUT || r->op == OP_UPLOAD_PART)
        /* S3 says 200 where Swift 201 */
        return rc ? rc : req_respond(pr->req, 200, "", 0);
    for (size_t i = 0;
         !rc && (status == 200 || status == 206) && i < r->overrides.n; i++)
        rc = req_add_header(pr->req, r->overrides.v[i].name,
                            r->overrides.v[i].value);
    if (rc)
        return rc;
    if (rs->read) {
        rc = req_respond_stream(pr->req, status, rs->size, rs->read, rs->arg,
                                rs->free_arg);
        rs->read = NULL; /* handed on, freed by the request */
        return rc;
    }
    return req_respond(pr->req, status, rs->body ? rs->body : "", rs->body_len);
}

static int convert_error(struct preq *pr, struct req_response *rs)
{
    struct s3req *r = pr->s3;
    unsigned int st = rs->status;
    bool object = r->key != NULL;
    enum s3_err e;

    switch (st) {
    case 401:
    case 403: e = S3_ERR_ACCESS_DENIED; break;
    case 404:
        if (!object)
            return s3_no_such_bucket(pr);
        if (r->op == OP_OBJECT_PUT) /* the copy's 404 is its source's */
            return s3_no_such_bucket(pr);
        {
            int ex = s3_bucket_exists(pr);

            if (ex == 0)
                return s3_no_such_bucket(pr);
            if (r->op == OP_OBJECT_DELETE) /* gone already: success */
                return s3_respond_empty(pr, 204);
            return no_such_key(pr);
        }
    case 409:
        e = r->op == OP_BUCKET_DELETE ? S3_ERR_BUCKET_NOT_EMPTY
                                      : S3_ERR_INTERNAL_ERROR;
        if (r->op == OP_BUCKET_DELETE) {
            struct s3_xml_field f = {"BucketName", r->bucket};

            return s3_error(pr, e, NULL, &f, 1);
        }
        break;
    case 408:
    case 499: e = S3_ERR_REQUEST_TIMEOUT; break;
    case 411: e = S3_ERR_MISSING_CONTENT_LENGTH; break;
    case 412: e = S3_ERR_PRECONDITION_FAILED; break;
    case 413: e = S3_ERR_ENTITY_TOO_LARGE; break;
    case 416: e = S3_ERR_INVALID_RANGE; break;
    case 422: e = S3_ERR_BAD_DIGEST; break;
    case 429:
    case 498: e = S3_ERR_SLOW_DOWN; break;
    case 503:
    case 507: e = S3_ERR_SERVICE_UNAVAILABLE; break;
    case 400: {
        /* Swift's reason, in its text */
        char msg[400];
        size_t n =
            rs->body_len < sizeof(msg) - 1 ? rs->body_len : sizeof(msg) - 1;

        memcpy(msg, rs->body ? rs->body : "", n);
        msg[n] = '\0';
        if (strstr(msg, "Metadata") || strstr(msg, "metadata"))
            return s3_error(pr, S3_ERR_METADATA_TOO_LARGE, NULL, NULL, 0);
        if (strstr(msg, "name length"))
            return s3_error(pr, S3_ERR_KEY_TOO_LONG, NULL, NULL, 0);
        return s3_error(pr, S3_ERR_INVALID_ARGUMENT,
                        n && !strchr(msg, '<') ? msg : NULL, NULL, 0);
    }
    default: e = S3_ERR_INTERNAL_ERROR;
    }
    return s3_error(pr, e, NULL, NULL, 0);
}

int s3api_respond(struct preq *pr, int rc)
{
    struct s3req *r = pr->s3;
    struct req_response rs;
    int err;

    if (!r)
        return rc;
    if (rc < 0 && !req_status(pr->req)) {
        req_log(pr->req, LOG_ERR, "S3 %s %s: %s", req_method(pr->req),
                req_raw_path(pr->req), strerror(-rc));
        return s3_error(pr, S3_ERR_INTERNAL_ERROR, NULL, NULL, 0);
    }
    if (!req_status(pr->req) || r->converted)
        return rc;
    err = req_response_take(pr->req, &rs);
    if (err)
        return err == -EALREADY ? 0 : err;
    r->converted = true;
    /* a copy's source condition failing is 412 in S3, even If-None-Match */
    if (rs.status == 304 &&
        (r->op == OP_OBJECT_COPY || r->op == OP_UPLOAD_PART_COPY))
        rs.status = 412;
    if ((rs.status / 100 == 2) || rs.status == 304)
        err = convert_success(pr, &rs);
    else
        err = convert_error(pr, &rs);
    req_response_release(&rs);
    return err;
}
