/*
 * obj_ctl.c - the object controller: GET and HEAD (streamed from the
 * first node that has the object, X-Newest asking every primary), POST
 * and DELETE (every replica, quorum); PUT and COPY are obj_put.c's.
 */
#include "proxy/obj_ctl.h"

#include "common/conn_pool.h"
#include "common/http.h"
#include "common/timestamp.h"
#include "proxy/acl.h"
#include "proxy/slo.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool has_prefix(const char *s, const char *prefix)
{
    return !strncasecmp(s, prefix, strlen(prefix));
}

/* Client headers that never reach a storage server: hop-by-hop ones, the
 * ones the proxy sets itself, credentials, and what Swift's gatekeeper
 * strips (sysmeta, backend headers). */
static bool request_header_forwarded(const char *name)
{
    static const char *const dropped[] = {
        "host",
        "content-length",
        "transfer-encoding",
        "expect",
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "upgrade",
        "x-auth-token",
        "x-storage-token",
        "x-timestamp",
        "x-trans-id",
        "x-openstack-request-id",
        "x-copy-from",
        "x-copy-from-account",
        "destination",
        "destination-account",
        "x-delete-after",
        "x-delete-at",
        "x-newest",
        "x-fresh-metadata",
        "user-agent",
        "referer",
        "authorization",
        "cookie",
        "origin",
        NULL,
    };

    for (size_t i = 0; dropped[i]; i++)
        if (!strcasecmp(name, dropped[i]))
            return false;
    return !has_prefix(name, "x-backend-") &&
           !has_prefix(name, "x-object-sysmeta-") &&
           !has_prefix(name, "x-object-transient-sysmeta-") &&
           !has_prefix(name, "x-container-sysmeta-") &&
           !has_prefix(name, "x-account-sysmeta-") &&
           !has_prefix(name, "x-container-") &&
           !has_prefix(name, "x-account-") &&
           !has_prefix(name, "x-delete-at-") && !has_prefix(name, "proxy-");
}

struct forward {
    struct hlist *h;
    bool internal; /* a subrequest of the proxy's own (subreq.c) */
    bool s3;       /* the S3 API's rewrite, which set its own */
};

static int add_forwarded(const char *name, const char *value, void *arg)
{
    struct forward *f = arg;

    /* what only the proxy itself may set: object sysmeta and the SLO
     * marker (Swift's SLO middleware refuses the latter from clients) */
    if (f->internal && (has_prefix(name, "x-object-sysmeta-") ||
                        !strcasecmp(name, "x-static-large-object")))
        return hlist_add(f->h, name, value);
    /* transient sysmeta (what a POST may change: the S3 API's tags) is
     * the proxy's too; the S3 API drops any a client sent */
    if ((f->internal || f->s3) &&
        has_prefix(name, "x-object-transient-sysmeta-"))
        return hlist_add(f->h, name, value);
    if (!request_header_forwarded(name) ||
        !strcasecmp(name, "x-static-large-object"))
        return 0;
    return hlist_add(f->h, name, value);
}

int obj_forward_headers(struct preq *pr, struct hlist *h)
{
    struct forward f = {h, req_origin(pr->req) != NULL, pr->s3 != NULL};

    return req_foreach_header(pr->req, add_forwarded, &f);
}

int obj_container(struct preq *pr, struct info *ci)
{
    int rc;

    info_get(pr, pr->account, pr->container, ci);
    if (ci->status / 100 == 2)
        return 0;
    /* as Swift: who may not know gets 401/403, not the 404 */
    rc = obj_authorize(pr, ci, false);
    if (rc)
        return rc;
    if (ci->status == 404)
        return preq_error(pr, 404) < 0 ? -ENOMEM : 1;
    return preq_error(pr, 503) < 0 ? -ENOMEM : 1;
}

/* The account's stored ACL, for tempauth (NULL when none). */
static char *account_acl(struct preq *pr)
{
    struct info ai;
    char *acl = NULL;
    const char *v;

    if (!pr->p->auth)
        return NULL;
    info_get(pr, pr->account, NULL, &ai);
    v = hlist_get(&ai.headers, "X-Account-Sysmeta-Core-Access-Control");
    if (v)
        acl = strdup(v);
    info_release(&ai);
    return acl;
}

int obj_authorize(struct preq *pr, const struct info *ci, bool write)
{
    const char *acl = hlist_get(&ci->headers, write ? "X-Container-Write"
                                                    : "X-Container-Read");
    char *aacl = account_acl(pr);
    int rc = preq_authorize(pr, acl, aacl);

    free(aacl);
    return rc;
}

/* Swift's expirer queue: the account (auto_create_account_prefix +
 * expiring_objects_account_name) and the span of X-Delete-At times one of
 * its containers holds (expiring_objects_container_divisor), at Swift's
 * defaults. */
#define EXPIRING_OBJECTS_ACCOUNT ".expiring_objects"
#define EXPIRING_OBJECTS_DIVISOR 86400

/* Swift's get_expirer_container(): the queue container of an object that
 * expires at 'delete_at', shifted back by 0..99 seconds by the hash of
 * its path to spread a busy day over 100 containers, "%010d". */
static int expirer_container(struct preq *pr, long long delete_at,
                             char name[16])
{
    unsigned char digest[16];
    long long at, shard = 0;
    int rc =
        hash_path(&pr->p->hc, pr->account, pr->container, pr->object, digest);

    if (rc)
        return rc;
    for (size_t k = 0; k < sizeof(digest); k++) /* int(hex, 16) % 100 */
        shard = (shard * 256 + digest[k]) % 100;
    at =
        delete_at / EXPIRING_OBJECTS_DIVISOR * EXPIRING_OBJECTS_DIVISOR - shard;
    snprintf(name, 16, "%010lld",
             at < 0              ? 0
             : at > 9999999999LL ? 9999999999LL
                                 : at);
    return 0;
}

/* X-Delete-At-Container/-Partition/-Host/-Device for object replica 'i'
 * of 'n_obj' when the write carries X-Delete-At: the expirer queue
 * container replicas it enters the object in. Swift's _backend_requests()
 * hands queue replica k to the object replica that updates container
 * replica k, counted from the other end. */
static int delete_at_headers(struct preq *pr, size_t i, size_t n_cont,
                             size_t n_obj, struct hlist *h)
{
    const char *v = hlist_get(h, "X-Delete-At");
    char name[16], hosts[1024] = "", devs[1024] = "", part[16];
    struct nodes dn;
    char *end;
    long long at;
    int rc;

    if (!v)
        return 0;
    at = strtoll(v, &end, 10);
    if (end == v || *end)
        return 0; /* checked before: cannot happen */
    rc = expirer_container(pr, at, name);
    if (!rc)
        rc = nodes_init(pr->p, pr->p->container_ring, EXPIRING_OBJECTS_ACCOUNT,
                        name, NULL, &dn);
    if (rc)
        return rc;
    for (size_t k = n_obj - 1 - i; dn.n_prim && k < n_cont; k += n_obj) {
        const struct ring_dev *d = dn.prim[k % dn.n_prim];
        size_t hl = strlen(hosts), dl = strlen(devs);

        snprintf(hosts + hl, sizeof(hosts) - hl, "%s%s:%d", hl ? "," : "",
                 d->ip, d->port);
        snprintf(devs + dl, sizeof(devs) - dl, "%s%s", dl ? "," : "",
                 d->device);
    }
    snprintf(part, sizeof(part), "%u", dn.part);
    nodes_release(&dn);
    if (!*hosts)
        return 0;
    if (hlist_set(h, "X-Delete-At-Container", name) ||
        hlist_set(h, "X-Delete-At-Partition", part) ||
        hlist_set(h, "X-Delete-At-Host", hosts) ||
        hlist_set(h, "X-Delete-At-Device", devs))
        return -ENOMEM;
    return 0;
}

int obj_update_headers(struct preq *pr, const struct nodes *cn, size_t i,
                       size_t n_obj, struct hlist *h)
{
    if (delete_at_headers(pr, i, cn->n_prim, n_obj, h) ||
        /* an object server that drops an old X-Delete-At takes the object
         * out of the expirer queue only when told to: two of them do, as
         * Swift's n_desired_queue_updates */
        hlist_set(h, "X-Backend-Clean-Expiring-Object-Queue",
                  i < 2 ? "t" : "f"))
        return -ENOMEM;
    /* container replica j is updated by object replica j % n_obj */
    return backend_update_headers(cn, i, n_obj, "Container", h);
}

struct update_arg {
    struct nodes *cn;
    size_t n_obj;
};

static int per_node_update(struct preq *pr, size_t i, struct hlist *h,
                           void *arg)
{
    struct update_arg *ua = arg;

    return obj_update_headers(pr, ua->cn, i, ua->n_obj, h);
}

int obj_timestamp(struct preq *pr, char ts[32])
{
    const char *v = req_header(pr->req, "X-Timestamp");
    struct timestamp t;
    char internal[TIMESTAMP_INTERNAL_SIZE], body[600];

    if (!v) {
        preq_new_timestamp(ts);
        return 0;
    }
    if (timestamp_parse(v, &t) == 0) {
        snprintf(ts, 32, "%s", timestamp_internal(&t, internal));
        return 0;
    }
    /* Python's %r of the value, as Swift words it */
    snprintf(body, sizeof(body),
             strchr(v, '\'') && !strchr(v, '"')
                 ? "X-Timestamp should be a UNIX timestamp float value; "
                   "was \"%.500s\""
                 : "X-Timestamp should be a UNIX timestamp float value; "
                   "was '%.500s'",
             v);
    return preq_text(pr, 400, body) < 0 ? -ENOMEM : 1;
}

/* ---- GET and HEAD ---- */

/* A GET body on its way to the client. When the node serving a whole
 * object (200) fails mid-body, the rest is asked of the next node with
 * "Range: bytes=<pos>-" and "If-Match: <etag>", as Swift's proxy resumes:
 * the client sees one unbroken body. */
struct stream {
    struct http_client_call *call;
    const char *data; /* unread part of the last piece */
    size_t left;
    /* for resuming; 'resumable' only for a 200 with an ETag */
    bool resumable;
    struct proxy *p;
    struct nodes n;
    struct hlist headers;
    char *tail, *etag, txn[TXN_ID_LEN + 1];
};

static void stream_release(struct stream *s)
{
    http_client_end(s->call);
    if (s->resumable)
        nodes_release(&s->n);
    hlist_release(&s->headers);
    free(s->tail);
    free(s->etag);
    free(s);
}

/* The next node's answer for the bytes from 'pos' on: 0 with s->call
 * replaced, or -errno when no node can give them. */
static int resume(struct stream *s, uint64_t pos)
{
    const struct ring_dev *d;
    char range[48];

    snprintf(range, sizeof(range), "bytes=%llu-", (unsigned long long)pos);
    if (hlist_set(&s->headers, "Range", range) ||
        hlist_set(&s->headers, "If-Match", s->etag))
        return -ENOMEM;
    http_client_end(s->call);
    s->call = NULL;
    while ((d = nodes_next(s->p, &s->n))) {
        struct http_client_req r = {0};
        char *path = backend_path(d, s->n.part, s->tail);
        const char *cr;
        int st;

        if (!path)
            return -ENOMEM;
        r.host = d->ip;
        r.port = (unsigned int)d->port;
        r.method = "GET";
        r.path = path;
        r.headers = s->headers.v;
        r.n_headers = s->headers.n;
        r.conn_timeout_ms = (unsigned int)(s->p->conf->conn_timeout * 1000);
        r.node_timeout_ms = (unsigned int)(s->p->conf->node_timeout * 1000);
        st = http_client_request(s->p->client, &r, &s->call);
        free(path);
        cr = st == 206 ? http_client_header(s->call, "Content-Range") : NULL;
        if (cr && !strncmp(cr, "bytes ", 6) &&
            strtoull(cr + 6, NULL, 10) == pos) {
            log_txn(LOG_WARNING, s->txn,
                    "GET resumed at byte %llu on "
                    "%s:%d/%s",
                    (unsigned long long)pos, d->ip, d->port, d->device);
            return 0;
        }
        http_client_end(s->call);
        s->call = NULL;
    }
    return -EIO;
}

static ssize_t stream_read(void *arg, uint64_t pos, char *buf, size_t max)
{
    struct stream *s = arg;

    while (!s->left) {
        const void *data;
        size_t len;
        int rc = s->call ? http_client_read(s->call, &data, &len) : -EIO;

        if (rc && s->resumable && resume(s, pos) == 0)
            continue;
        if (rc)
            return rc;
        if (!len)
            return 0;
        s->data = data;
        s->left = len;
    }
    if (max > s->left)
        max = s->left;
    memcpy(buf, s->data, max);
    s->data += max;
    s->left -= max;
    return (ssize_t)max;
}

static void stream_free(void *arg)
{
    stream_release(arg);
}

/* Passes a started GET/HEAD response on, streaming its body. Takes
 * 'call', and the nodes, headers and tail for resuming (zeroed here). */
static int relay_stream(struct preq *pr, struct http_client_call *call,
                        int status, struct nodes *n, struct hlist *h,
                        char **tail, const char *ctype)
{
    struct stream *s;
    const char *cl = http_client_header(call, "Content-Length");
    const char *etag = http_client_header(call, "Etag");
    uint64_t size = HTTP_SIZE_UNKNOWN;
    size_t count = http_client_header_count(call);
    int rc = preq_add_txn_headers(pr);

    if (!rc && status == 412) {
        /* Swift's 412: its own empty page, with what identifies the
         * object */
        static const char *const kept[] = {"Etag", "Last-Modified",
                                           "X-Timestamp", NULL};

        for (size_t i = 0; !rc && kept[i]; i++) {
            const char *v = http_client_header(call, kept[i]);
            char bare[128];

            if (!v)
                continue;
            if (v[0] == '"') {
                snprintf(bare, sizeof(bare), "%.*s", (int)strcspn(v + 1, "\""),
                         v + 1);
                v = bare;
            }
            rc = req_add_header(pr->req, kept[i], v) == -ENOMEM ? -ENOMEM : 0;
        }
        http_client_end(call);
        return rc ? rc : req_respond(pr->req, 412, "", 0);
    }
    for (size_t i = 0; !rc && i < count; i++) {
        struct http_header hd = http_client_header_at(call, i);

        if (!response_header_allowed(pr, hd.name))
            continue;
        if (!strcasecmp(hd.name, "Etag") && hd.value[0] == '"') {
            /* Swift's proxy hands out bare hex ETags */
            char bare[128];

            snprintf(bare, sizeof(bare), "%.*s",
                     (int)strcspn(hd.value + 1, "\""), hd.value + 1);
            rc =
                req_add_header(pr->req, hd.name, bare) == -ENOMEM ? -ENOMEM : 0;
        } else if (ctype && !strcasecmp(hd.name, "Content-Type")) {
            rc = req_add_header(pr->req, hd.name, ctype) == -ENOMEM ? -ENOMEM
                                                                    : 0;
        } else if (req_add_header(pr->req, hd.name,
                                  *hd.value ? hd.value : " ") == -ENOMEM) {
            rc = -ENOMEM;
        }
    }
    /* Swift's proxy adds it to every object it serves (get_working_response);
     * Swift's object server does not send it */
    if (!rc && !http_client_header(call, "Accept-Ranges") &&
        req_add_header(pr->req, "Accept-Ranges", "bytes") == -ENOMEM)
        rc = -ENOMEM;
    if (!rc) {
        struct hlist all = {0};

        rc = hlist_from_call(&all, call);
        if (!rc)
            rc = cors_add_headers(pr, all.v, all.n);
        hlist_release(&all);
    }
    if (rc) {
        http_client_end(call);
        return rc;
    }
    if (cl) {
        char *end;
        unsigned long long v = strtoull(cl, &end, 10);

        if (end != cl && !*end)
            size = v;
    }
    if (status == 204 || status == 304) {
        http_client_end(call);
        return req_respond(pr->req, (unsigned int)status, "", 0);
    }
    s = calloc(1, sizeof(*s));
    if (!s) {
        http_client_end(call);
        return -ENOMEM;
    }
    s->call = call;
    s->p = pr->p;
    snprintf(s->txn, sizeof(s->txn), "%s", req_txn(pr->req));
    if (status == 200 && etag && size != HTTP_SIZE_UNKNOWN &&
        strcmp(req_method(pr->req), "HEAD") && (s->etag = strdup(etag))) {
        s->resumable = true;
        s->n = *n;
        memset(n, 0, sizeof(*n));
        s->headers = *h;
        memset(h, 0, sizeof(*h));
        hlist_del(&s->headers, "If-None-Match");
        hlist_del(&s->headers, "If-Modified-Since");
        hlist_del(&s->headers, "If-Unmodified-Since");
        s->tail = *tail;
        *tail = NULL;
    }
    return req_respond_stream(pr->req, (unsigned int)status, size, stream_read,
                              s, stream_free);
}

static int add_get_header(const char *name, const char *value, void *arg)
{
    static const char *const passed[] = {
        "range",
        "if-match",
        "if-none-match",
        "if-modified-since",
        "if-unmodified-since",
        "x-newest",
        NULL,
    };
    struct hlist *h = arg;

    for (size_t i = 0; passed[i]; i++)
        if (!strcasecmp(name, passed[i]))
            return hlist_add(h, name, value);
    return 0;
}

static bool good_read(int st)
{
    return (st >= 200 && st < 300) || st == 304 || st == 416 || st == 412;
}

bool obj_header_true(const char *v)
{
    return v && (!strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
                 !strcasecmp(v, "on") || !strcasecmp(v, "1") ||
                 !strcasecmp(v, "t") || !strcasecmp(v, "y"));
}

/* Whether a GET/HEAD answer is an SLO manifest the client wants the
 * object of (not ?multipart-manifest=get). */
static bool slo_wanted(struct preq *pr, struct http_client_call *call)
{
    const char *mm = req_param(pr->req, "multipart-manifest");

    return obj_header_true(http_client_header(call, "X-Static-Large-Object")) &&
           !(mm && !strcmp(mm, "get"));
}

/* ?multipart-manifest=get of an SLO: the stored manifest. */
static bool slo_manifest_wanted(struct preq *pr, struct http_client_call *call)
{
    const char *mm = req_param(pr->req, "multipart-manifest");

    return obj_header_true(http_client_header(call, "X-Static-Large-Object")) &&
           mm && !strcmp(mm, "get");
}

/* The stored manifest a HEAD's answer has no body of, read through the
 * proxy (as the user, who may read it): a HEAD of the raw form gives the
 * length and Etag its GET would. (Swift 2.30 answers 500 there.) */
static int head_manifest(struct preq *pr, char **body, size_t *len)
{
    struct subreq_resp sr;
    int rc = slo_subreq(pr, "GET", pr->account, pr->container, pr->object,
                        "multipart-manifest=get", NULL, 0, NULL, 0, &sr);

    if (rc)
        return rc;
    if (sr.status != 200) {
        subreq_resp_release(&sr);
        return -EIO;
    }
    *body = sr.body;
    *len = sr.body_len;
    sr.body = NULL;
    subreq_resp_release(&sr);
    return 0;
}

/* ?multipart-manifest=get&format=raw: the manifest in the form a PUT
 * takes (path, etag, size_bytes[, range]), with its own length and MD5
 * as Swift's SLO middleware answers. Takes 'call'. */
static int slo_raw_respond(struct preq *pr, struct http_client_call *call,
                           int status)
{
    size_t count = http_client_header_count(call), len = 0, rlen = 0;
    char *body = NULL, *raw = NULL, md5[33];
    int rc = strcmp(req_method(pr->req), "HEAD")
                 ? http_client_read_all(call, BACKEND_BODY_MAX, &body, &len)
                 : head_manifest(pr, &body, &len);

    if (!rc)
        rc = slo_raw_manifest(body ? body : "", len, &raw, &rlen);
    if (!rc) {
        unsigned char md[16];
        unsigned int mdlen = 0;

        EVP_Digest(raw, rlen, md, &mdlen, EVP_md5(), NULL);
        hash_path_hex(md, md5);
        rc = preq_add_txn_headers(pr);
    }
    for (size_t i = 0; !rc && i < count; i++) {
        struct http_header hd = http_client_header_at(call, i);
        const char *v = hd.value;
        char ct[512];

        if (!response_header_allowed(pr, hd.name))
            continue;
        if (!strcasecmp(hd.name, "Etag")) {
            v = md5;
        } else if (!strcasecmp(hd.name, "Content-Type")) {
            /* the proxy's clean_content_type(): no swift_bytes */
            const char *sb = strstr(v, ";swift_bytes=");

            snprintf(ct, sizeof(ct), "%.*s",
                     (int)(sb ? (size_t)(sb - v) : strlen(v)), v);
            v = ct;
        }
        rc = req_add_header(pr->req, hd.name, *v ? v : " ") == -ENOMEM ? -ENOMEM
                                                                       : 0;
    }
    if (!rc && !http_client_header(call, "Accept-Ranges"))
        rc = req_add_header(pr->req, "Accept-Ranges", "bytes");
    http_client_end(call);
    free(body);
    if (rc == -EIO || rc == -EPROTO || rc == -EINVAL) {
        free(raw);
        return preq_error(pr, 503);
    }
    if (!rc)
        rc = req_respond(pr->req, (unsigned int)status, raw, rlen);
    free(raw);
    return rc;
}

static int get_or_head(struct preq *pr)
{
    const char *method = req_method(pr->req);
    bool newest = obj_header_true(req_header(pr->req, "X-Newest"));
    struct hlist h = {0};
    struct nodes n;
    char *tail = backend_tail(pr->account, pr->container, pr->object);
    const struct ring_dev *d;
    struct bresp last = {.status = -EHOSTUNREACH};
    struct http_client_call *best = NULL;
    struct timestamp best_ts = {0};
    const char *fmt;
    int best_st = 0, rc = 0;

    if (!tail || backend_base_headers(pr, NULL, &h) ||
        req_foreach_header(pr->req, add_get_header, &h) ||
        nodes_init(pr->p, pr->p->object_ring, pr->account, pr->container,
                   pr->object, &n)) {
        free(tail);
        hlist_release(&h);
        return -ENOMEM;
    }
    while ((d = nodes_next(pr->p, &n))) {
        struct http_client_req r = {0};
        struct http_client_call *call = NULL;
        char *path = backend_path(d, n.part, tail);
        int st;

        if (!path) {
            rc = -ENOMEM;
            break;
        }
        r.host = d->ip;
        r.port = (unsigned int)d->port;
        r.method = method;
        r.path = path;
        r.headers = h.v;
        r.n_headers = h.n;
        r.conn_timeout_ms = (unsigned int)(pr->p->conf->conn_timeout * 1000);
        r.node_timeout_ms = (unsigned int)(pr->p->conf->node_timeout * 1000);
        st = http_client_request(pr->p->client, &r, &call);
        free(path);
        if (backend_failed(pr, d, st)) {
            http_client_end(call);
            continue;
        }
        if (good_read(st)) {
            struct timestamp ts = {0};
            const char *xts = http_client_header(call, "X-Timestamp");

            if (!newest) {
                best = call;
                best_st = st;
                break;
            }
            if (xts)
                timestamp_parse(xts, &ts);
            if (!best || timestamp_cmp(&ts, &best_ts) > 0) {
                http_client_end(best);
                best = call;
                best_st = st;
                best_ts = ts;
            } else {
                http_client_end(call);
            }
            if (n.next_prim >= n.n_prim)
                break; /* X-Newest asks the primaries only */
            continue;
        }
        /* 404 or another client error: remember it, ask the next node */
        bresp_release(&last);
        last.status = st;
        last.dev = d;
        hlist_from_call(&last.headers, call);
        http_client_read_all(call, BACKEND_BODY_MAX, &last.body, &last.len);
        http_client_end(call);
        if (st != 404)
            break;
    }
    if (rc) {
        http_client_end(best);
    } else if (best && slo_wanted(pr, best)) {
        http_client_end(best);
        rc = slo_respond(pr);
    } else if (best && best_st == 200 && slo_manifest_wanted(pr, best) &&
               (fmt = req_param(pr->req, "format")) && !strcmp(fmt, "raw")) {
        rc = slo_raw_respond(pr, best, best_st);
    } else if (best && slo_manifest_wanted(pr, best) &&
               !((fmt = req_param(pr->req, "format")) && !strcmp(fmt, "raw")) &&
               !req_origin(pr->req)) {
        /* (the proxy's own reads of a manifest, slo.c's, want its type) */
        rc = relay_stream(pr, best, best_st, &n, &h, &tail,
                          "application/json; charset=utf-8");
    } else if (best && pr->part_number > 1) {
        /* an object of one part has no part 2 */
        http_client_end(best);
        rc = preq_error(pr, 416);
    } else if (best) {
        rc = relay_stream(pr, best, best_st, &n, &h, &tail, NULL);
    } else if (last.status > 0) {
        rc = preq_error(pr, (unsigned int)last.status); /* Swift's page */
    } else {
        rc = preq_error(pr, 503);
    }
    if (n.ring)
        nodes_release(&n);
    hlist_release(&h);
    free(tail);
    bresp_release(&last);
    return rc;
}

/* ---- POST and DELETE ---- */

static int write_all(struct preq *pr, const char *method, struct hlist *h)
{
    struct nodes n, cn;
    struct bresp rs[PROXY_MAX_REPLICAS];
    char *tail = backend_tail(pr->account, pr->container, pr->object);
    struct update_arg ua;
    size_t got;
    int best, rc;

    if (!tail)
        return -ENOMEM;
    if (nodes_init(pr->p, pr->p->object_ring, pr->account, pr->container,
                   pr->object, &n)) {
        free(tail);
        return -ENOMEM;
    }
    if (nodes_init(pr->p, pr->p->container_ring, pr->account, pr->container,
                   NULL, &cn)) {
        nodes_release(&n);
        free(tail);
        return -ENOMEM;
    }
    ua.cn = &cn;
    ua.n_obj = n.n_prim;
    got =
        backend_fanout(pr, &n, method, tail, NULL, h, per_node_update, &ua, rs);
    best = backend_best(rs, got, n.n_prim);
    rc = best < 0 ? preq_error(pr, 503) : preq_relay(pr, &rs[best]);
    for (size_t i = 0; i < got; i++)
        bresp_release(&rs[i]);
    nodes_release(&cn);
    nodes_release(&n);
    free(tail);
    return rc;
}

static int collect_headers(struct preq *pr, struct constraints_header **out,
                           size_t *n);

static int post(struct preq *pr)
{
    struct constraints_header *ch = NULL;
    struct constraints_error cerr = {0};
    struct hlist h = {0};
    size_t nch = 0;
    int64_t delete_at = -1;
    char ts[32], at[32];
    int rc;

    rc = collect_headers(pr, &ch, &nch);
    if (!rc)
        rc = constraints_check_metadata(&pr->p->limits, ch, nch,
                                        CONSTRAINTS_OBJECT, &cerr);
    if (!rc)
        rc = constraints_check_delete_headers(ch, nch, pr->now, &delete_at,
                                              &cerr);
    if (!rc && constraints_check_content_type(ch, nch, &cerr) > 0) {
        free(ch);
        return preq_refuse_html(pr, &cerr);
    }
    free(ch);
    if (rc > 0)
        return preq_refuse(pr, &cerr);
    if (rc < 0)
        return rc;
    preq_new_timestamp(ts);
    if (backend_base_headers(pr, ts, &h) || obj_forward_headers(pr, &h))
        rc = -ENOMEM;
    if (!rc && delete_at >= 0) {
        snprintf(at, sizeof(at), "%lld", (long long)delete_at);
        rc = hlist_set(&h, "X-Delete-At", at);
    }
    if (!rc)
        rc = write_all(pr, "POST", &h);
    hlist_release(&h);
    return rc;
}

static int delete (struct preq *pr)
{
    struct hlist h = {0};
    char ts[32];
    int rc;

    rc = obj_timestamp(pr, ts);
    if (rc)
        return rc < 0 ? rc : 0;
    rc = backend_base_headers(pr, ts, &h);
    if (!rc)
        rc = write_all(pr, "DELETE", &h);
    hlist_release(&h);
    return rc;
}

static int add_constraint_header(const char *name, const char *value, void *arg)
{
    struct {
        struct constraints_header *v;
        size_t n, cap;
    } *c = arg;

    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 32;
        struct constraints_header *g = realloc(c->v, cap * sizeof(*g));

        if (!g)
            return -ENOMEM;
        c->v = g;
        c->cap = cap;
    }
    c->v[c->n].name = name;
    c->v[c->n].value = value;
    c->n++;
    return 0;
}

/* The request's headers as the constraints checks take them (borrowed
 * from the request; free() the array). */
static int collect_headers(struct preq *pr, struct constraints_header **out,
                           size_t *n)
{
    struct {
        struct constraints_header *v;
        size_t n, cap;
    } c = {0};
    int rc = req_foreach_header(pr->req, add_constraint_header, &c);

    if (rc) {
        free(c.v);
        return -ENOMEM;
    }
    *out = c.v;
    *n = c.n;
    return 0;
}

int obj_collect_headers(struct preq *pr, struct constraints_header **out,
                        size_t *n)
{
    return collect_headers(pr, out, n);
}

int object_request(struct preq *pr)
{
    const char *m = req_method(pr->req);
    const char *mm = req_param(pr->req, "multipart-manifest");
    bool read = !strcmp(m, "GET") || !strcmp(m, "HEAD");
    struct info ci;
    int rc;

    if (!read && strcmp(m, "PUT") && strcmp(m, "POST") && strcmp(m, "DELETE") &&
        strcmp(m, "COPY") && strcmp(m, "OPTIONS")) {
        preq_add_txn_headers(pr);
        req_add_header(pr->req, "Allow",
                       "HEAD, GET, PUT, POST, DELETE, OPTIONS");
        return req_respond_error(pr->req, 405);
    }
    if (!read && !req_origin(pr->req) && !pr->s3 &&
        req_header(pr->req, "X-Static-Large-Object") &&
        !(!strcmp(m, "PUT") && mm && !strcmp(mm, "put")))
        return preq_html(pr, 400,
                         "X-Static-Large-Object is a reserved header. To "
                         "create a static large object add query param "
                         "multipart-manifest=put.");
    /* as Swift's SLO middleware, before any check of the proxy's: each
     * subrequest it makes (the segments' HEADs and DELETEs, the
     * manifest's PUT) is authorized on its own */
    if (!strcmp(m, "DELETE") && mm && !strcmp(mm, "delete"))
        return slo_delete(pr);
    if (!strcmp(m, "PUT") && mm && !strcmp(mm, "put"))
        return object_put_start(pr, NULL);
    if (!strcmp(m, "OPTIONS")) {
        info_get(pr, pr->account, pr->container, &ci);
        rc = cors_preflight(pr, ci.status / 100 == 2 ? &ci : NULL);
        info_release(&ci);
        return rc;
    }
    rc = obj_container(pr, &ci);
    if (rc) {
        info_release(&ci);
        return rc < 0 ? rc : 0;
    }
    if (read && cors_note_origin(pr, &ci)) {
        info_release(&ci);
        return -ENOMEM;
    }
    rc = obj_authorize(pr, &ci, !read);
    if (rc) {
        info_release(&ci);
        return rc < 0 ? rc : 0;
    }
    if (read)
        rc = get_or_head(pr);
    else if (!strcmp(m, "POST"))
        rc = post(pr);
    else if (!strcmp(m, "DELETE"))
        rc = delete (pr);
    else
        rc = object_put_start(pr, &ci);
    info_release(&ci);
    return rc;
}
