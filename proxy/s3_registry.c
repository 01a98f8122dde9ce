/*
 * s3_registry.c - the names of buckets reachable without credentials
 * (s3_registry.h): which account a bucket name belongs to when a request
 * names no account, for CORS preflights and anonymous reads of public
 * buckets, and which unsigned requests are the S3 API's at all.
 *
 * The registry is a container named for the bucket in the reserved
 * account ".s3api_cors" (named when CORS was its only user; a leading
 * '.' is no reseller prefix, so tempauth lets no user at it), its sysmeta
 * naming the account. The proxy writes it straight to the container
 * servers, not through the Swift controllers, and reads it through the
 * info cache (as container info: recheck_container_existence seconds).
 *
 * A registration is live while its bucket exists with CORS rules or a
 * read ACL granting AllUsers (".r:*"); that is checked when another
 * account wants the name, never on the read path: an anonymous request
 * runs as an anonymous Swift request in the registered account, so the
 * container's ACLs alone decide what it may read, whatever the registry
 * says. Registering is write-then-read-back: of two accounts registering
 * a name at the same moment the later write stands, the other sees it
 * and takes its change back.
 */
#include "proxy/s3_registry.h"

#include "proxy/s3_cors.h"
#include "proxy/s3req.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define REGISTRY_ACCOUNT ".s3api_cors"
#define REGISTRY_SYSMETA "X-Container-Sysmeta-S3api-Cors-Account"

/* ---- which unsigned requests are S3's ---- */

/* Whether the request's Host names a bucket (virtual-hosted style). */
static bool host_names_bucket(const struct s3api *api,
                              const struct request *req)
{
    const char *host = req_header(req, "Host");
    const char *dom = api->storage_domain;
    size_t hl, dl;

    if (!*dom || !host)
        return false;
    hl = strcspn(host, ":");
    dl = strlen(dom);
    return hl > dl + 1 && host[hl - dl - 1] == '.' &&
           !strncasecmp(host + hl - dl, dom, dl);
}

/* The length of the decoded 'path''s first segment when the path is
 * "/<bucket>[/...]" and not Swift's (/v1, /v1.0, /info), else 0. */
static size_t bucket_segment(const char *path)
{
    size_t seg;

    if (path[0] != '/' || !strcmp(path, "/info"))
        return 0;
    seg = strcspn(path + 1, "/");
    if ((seg == 2 && !strncmp(path + 1, "v1", 2)) ||
        (seg == 4 && !strncmp(path + 1, "v1.0", 4)))
        return 0;
    return seg;
}

static int sdk_header(const char *name, const char *value, void *arg)
{
    (void)value;
    (void)arg;
    return !strncasecmp(name, "x-amz-", 6) || !strncasecmp(name, "amz-sdk-", 8);
}

bool s3_registry_claims(struct preq *pr, const char *path)
{
    const struct s3api *api = pr->p->s3;
    size_t seg = bucket_segment(path);
    char *bucket, *owner = NULL;
    int rc;

    if (!strcmp(req_method(pr->req), "OPTIONS") &&
        (host_names_bucket(api, pr->req) || seg))
        return true; /* a preflight: s3_cors.c */
    if (host_names_bucket(api, pr->req))
        return true;
    /* an AWS SDK's: answered in S3's words (AccessDenied for a
     * ListBuckets, an unknown bucket...) */
    if ((seg || !strcmp(path, "/")) &&
        req_foreach_header(pr->req, sdk_header, NULL))
        return true;
    /* a container name is at most 256 bytes: longer is no bucket */
    if (!seg || seg > 256)
        return false;
    bucket = strndup(path + 1, seg);
    if (!bucket)
        return false; /* the Swift API answers it */
    rc = s3_registry_owner(pr, bucket, false, &owner);
    free(bucket);
    free(owner);
    return rc == 1;
}

/* ---- the registry ---- */

int s3_registry_owner(struct preq *pr, const char *bucket, bool fresh,
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

/* PUTs (with 'account') or DELETEs the registry's container for
 * 'bucket' on the container servers, as the container controller writes
 * (the account server makes a '.' account when its first container
 * comes): the status a quorum gave (503 when none), or -ENOMEM. */
static int registry_write(struct preq *pr, const char *bucket,
                          const char *account)
{
    const char *method = account ? "PUT" : "DELETE";
    struct bresp best;
    struct hlist h = {0};
    char ts[32];
    int st;

    preq_new_timestamp(ts);
    if (backend_base_headers(pr, ts, &h) ||
        (account && hlist_add(&h, REGISTRY_SYSMETA, account)) ||
        backend_container_write(pr, REGISTRY_ACCOUNT, bucket, method, &h,
                                &best)) {
        hlist_release(&h);
        return -ENOMEM;
    }
    st = best.status > 0 ? best.status : 503;
    bresp_release(&best);
    hlist_release(&h);
    if (st / 100 != 2 && !(!account && st == 404))
        req_log(pr->req, LOG_ERR, "S3 bucket registry %s %s: %d", method,
                bucket, st);
    return st;
}

bool s3_registry_public(const char *read_acl)
{
    while (read_acl && *read_acl) {
        size_t n = strcspn(read_acl, ","), s = 0, e = n;

        while (s < e && isspace((unsigned char)read_acl[s]))
            s++;
        while (e > s && isspace((unsigned char)read_acl[e - 1]))
            e--;
        if (e - s == 4 && !strncmp(read_acl + s, ".r:*", 4))
            return true;
        read_acl += n + (read_acl[n] == ',');
    }
    return false;
}

/* Whether a CORS sysmeta value holds rules (a non-empty JSON array). */
static bool has_rules(const char *stored)
{
    json_t *rules = stored && *stored ? json_loads(stored, 0, NULL) : NULL;
    bool some = json_is_array(rules) && json_array_size(rules);

    json_decref(rules);
    return some;
}

/* Whether a registration of 'account'/'bucket' still stands: the bucket
 * is there with CORS rules or public read. Read past the cache. */
static bool registration_live(struct preq *pr, const char *account,
                              const char *bucket)
{
    struct info ci;
    bool live = false;

    info_invalidate(pr->p, account, bucket);
    info_get(pr, account, bucket, &ci);
    if (ci.status / 100 == 2)
        live = has_rules(hlist_get(&ci.headers, S3_CORS_SYSMETA)) ||
               s3_registry_public(hlist_get(&ci.headers, "X-Container-Read"));
    info_release(&ci);
    return live;
}

int s3_registry_forget(struct preq *pr)
{
    struct s3req *r = pr->s3;
    char *owner;
    int rc;

    if (!r || !r->bucket || !r->user.account_id)
        return 0;
    rc = s3_registry_owner(pr, r->bucket, true, &owner);
    if (rc == 1 && !strcmp(owner, r->user.account_id) &&
        !registration_live(pr, owner, r->bucket))
        rc = registry_write(pr, r->bucket, NULL);
    free(owner);
    return rc == -ENOMEM ? rc : 0;
}

/* 409: the name is another account's among buckets reachable without
 * credentials. */
static int name_taken(struct preq *pr)
{
    struct s3_xml_field f = {"BucketName", pr->s3->bucket};
    int rc = s3_error(pr, S3_ERR_BUCKET_ALREADY_EXISTS,
                      "Another account's bucket of this name is reachable "
                      "without credentials (CORS or public read): the names "
                      "of such buckets are unique across the cluster.",
                      &f, 1);

    return rc ? rc : 1;
}

static int unavailable(struct preq *pr)
{
    int rc = s3_error(pr, S3_ERR_SERVICE_UNAVAILABLE, NULL, NULL, 0);

    return rc ? rc : 1;
}

int s3_registry_before(struct preq *pr, bool reachable)
{
    struct s3req *r = pr->s3;
    char *owner = NULL;
    int rc;

    r->registry_mine = false;
    if (!reachable)
        return 0;
    /* another account's bucket of the same name would get our unsigned
     * requests, or we its */
    rc = s3_registry_owner(pr, r->bucket, true, &owner);
    if (rc == -ENOMEM)
        return rc;
    if (rc < 0)
        return unavailable(pr);
    if (rc == 1 && strcmp(owner, r->user.account_id) &&
        registration_live(pr, owner, r->bucket)) {
        free(owner);
        return name_taken(pr);
    }
    r->registry_mine = rc == 1 && !strcmp(owner, r->user.account_id);
    free(owner);
    return 0;
}

int s3_registry_after(struct preq *pr, bool reachable,
                      int (*undo)(struct preq *pr, void *arg), void *arg)
{
    struct s3req *r = pr->s3;
    char *owner = NULL;
    int rc;

    if (!reachable)
        return s3_registry_forget(pr);
    if (r->registry_mine)
        return 0;
    rc = registry_write(pr, r->bucket, r->user.account_id);
    if (rc < 0)
        return rc;
    if (rc / 100 != 2)
        return unavailable(pr);
    /* of two registrations at once, the later write stands */
    rc = s3_registry_owner(pr, r->bucket, true, &owner);
    if (rc == 1 && strcmp(owner, r->user.account_id)) {
        free(owner);
        rc = undo ? undo(pr, arg) : 0;
        return rc ? rc : name_taken(pr);
    }
    free(owner);
    r->registry_mine = rc == 1;
    return rc == -ENOMEM ? rc : 0;
}

/* ---- requests without credentials ---- */

/* What an anonymous request may be: reads of objects and listings, as a
 * public-read bucket grants them in AWS (s3:GetObject, s3:ListBucket). */
static bool anonymous_op(const struct s3req *r, const char *m,
                         const char *sub)
{
    if (!r->bucket || (strcmp(m, "GET") && strcmp(m, "HEAD")))
        return false;
    if (r->key)
        return !sub || !strcmp(sub, "partNumber");
    return !sub;
}

static int denied(struct preq *pr)
{
    int rc = s3_error(pr, S3_ERR_ACCESS_DENIED, NULL, NULL, 0);

    return rc ? rc : 1;
}

int s3_registry_anonymous(struct preq *pr, const char *sub)
{
    struct s3req *r = pr->s3;
    char *owner = NULL, *path = NULL;
    int rc;

    if (!anonymous_op(r, req_method(pr->req), sub))
        return denied(pr);
    rc = s3_registry_owner(pr, r->bucket, false, &owner);
    if (rc == -ENOMEM)
        return rc;
    if (rc < 0)
        return unavailable(pr);
    if (rc == 0) /* no bucket of that name is reachable unsigned */
        return denied(pr);
    r->user.account_id = owner;
    /* listings show the requester's access key as Owner (as s3api); an
     * anonymous requester's is the account's name */
    snprintf(r->sig.access_key, sizeof(r->sig.access_key), "%s", owner);
    /* tempauth meets it as any request without a token: authorize()
     * decides from the container's ACLs (.r:*, .rlistings, referrers) */
    if (asprintf(&path, "/v1/%s/%s", owner, r->bucket) < 0)
        return -ENOMEM;
    tempauth_identity_release(&pr->id);
    rc = tempauth_identify(r->api->auth, NULL, path, pr->now, &pr->id);
    free(path);
    return rc;
}
