/*
 * cont_ctl.c - the container controller: GET and HEAD from the first
 * container replica that has the DB, then tempauth with its read ACL;
 * PUT, POST and DELETE to every replica with the account replica each
 * one updates, answered by quorum. Also Swift's transfer_headers(), which
 * the account controller shares.
 */
#include "proxy/obj_ctl.h"

#include "proxy/acl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool has_prefix(const char *s, const char *prefix)
{
    return !strncasecmp(s, prefix, strlen(prefix));
}

struct transfer {
    struct hlist *h;
    const char *type; /* "container", "account" */
    const char *const *pass;
    bool internal; /* the proxy's own subrequest: may set sysmeta */
    int err;
};

static int transfer_one(const char *name, const char *value, void *arg)
{
    struct transfer *t = arg;
    char meta[64], remove[64], rmeta[64], sysmeta[64];

    snprintf(sysmeta, sizeof(sysmeta), "x-%s-sysmeta-", t->type);
    if (t->internal && has_prefix(name, sysmeta))
        return hlist_add(t->h, name, value);
    snprintf(meta, sizeof(meta), "x-%s-meta-", t->type);
    snprintf(remove, sizeof(remove), "x-remove-%s-", t->type);
    snprintf(rmeta, sizeof(rmeta), "x-remove-%s-meta-", t->type);
    if (has_prefix(name, meta))
        return hlist_add(t->h, name, value);
    if (has_prefix(name, rmeta) || (has_prefix(name, remove) && t->pass)) {
        /* X-Remove-Container-Meta-Color -> X-Container-Meta-Color: "" */
        char out[512];
        bool passed = has_prefix(name, rmeta);

        snprintf(out, sizeof(out), "X-%s-%s", t->type, name + strlen(remove));
        for (size_t i = 0; !passed && t->pass && t->pass[i]; i++)
            passed = !strcasecmp(out, t->pass[i]);
        return passed ? hlist_set(t->h, out, "") : 0;
    }
    for (size_t i = 0; t->pass && t->pass[i]; i++)
        if (!strcasecmp(name, t->pass[i]))
            return hlist_add(t->h, name, value);
    return 0;
}

int transfer_headers(struct preq *pr, const char *type, const char *const *pass,
                     struct hlist *h)
{
    struct transfer t = {.h = h,
                         .type = type,
                         .pass = pass,
                         .internal = req_origin(pr->req) != NULL};

    return req_foreach_header(pr->req, transfer_one, &t);
}

static const char *const container_pass[] = {
    "x-container-read",
    "x-container-write",
    "x-container-sync-key",
    "x-container-sync-to",
    "x-versions-location",
    "x-history-location",
    NULL,
};

/* The account's stored ACL for tempauth; NULL when none. */
static char *stored_account_acl(struct preq *pr, const struct info *ai)
{
    const char *v =
        hlist_get(&ai->headers, "X-Account-Sysmeta-Core-Access-Control");

    (void)pr;
    return v ? strdup(v) : NULL;
}

static int authorize(struct preq *pr, const char *acl)
{
    struct info ai;
    char *aacl = NULL;
    int rc;

    if (pr->p->auth) {
        info_get(pr, pr->account, NULL, &ai);
        aacl = stored_account_acl(pr, &ai);
        info_release(&ai);
    }
    rc = preq_authorize(pr, acl, aacl);
    free(aacl);
    return rc;
}

/* ---- GET and HEAD ---- */

int db_response_headers(struct preq *pr, struct hlist *h)
{
    /* what Swift's proxy makes of a container or account server's
     * answer: no X-Put-Timestamp, byte ranges and Vary as its
     * listing_formats sets them */
    hlist_del(h, "X-Put-Timestamp");
    if (hlist_set(h, "Accept-Ranges", "bytes"))
        return -ENOMEM;
    /* with format= in the query the answer does not vary with Accept */
    if (!req_param(pr->req, "format") && hlist_set(h, "Vary", "Accept"))
        return -ENOMEM;
    return 0;
}

static int add_read_header(const char *name, const char *value, void *arg)
{
    if (!strcasecmp(name, "Accept"))
        return hlist_add(arg, name, value);
    return 0;
}

/* ---- listing bodies, relayed as they arrive ---- */

/* A container GET's 200 keeps its backend call open: the listing (a few
 * MiB at 10,000 rows) goes on to the client piece by piece as it comes,
 * never whole in the proxy's memory, so the client's first bytes leave
 * before the last arrive and no fresh pages are faulted in for it. */
struct listing_relay {
    struct http_client_call *call;
    const char *data; /* unsent part of the last piece */
    size_t left;
};

static ssize_t relay_read(void *arg, uint64_t pos, char *buf, size_t max)
{
    struct listing_relay *s = arg;

    (void)pos;
    while (!s->left) {
        const void *data;
        size_t len;
        int rc = http_client_read(s->call, &data, &len);

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

static void relay_free(void *arg)
{
    struct listing_relay *s = arg;

    http_client_end(s->call);
    free(s);
}

/* preq_relay() for a response whose body is still in 'call' (taken). */
static int relay_call(struct preq *pr, const struct bresp *r,
                      struct http_client_call *call, uint64_t size)
{
    struct listing_relay *s;
    int rc = preq_add_txn_headers(pr);

    for (size_t i = 0; !rc && i < r->headers.n; i++) {
        const struct http_header *h = &r->headers.v[i];

        if (response_header_allowed(pr, h->name) &&
            req_add_header(pr->req, h->name, *h->value ? h->value : " ") ==
                -ENOMEM)
            rc = -ENOMEM;
    }
    s = rc ? NULL : calloc(1, sizeof(*s));
    if (!s) {
        http_client_end(call);
        return -ENOMEM;
    }
    s->call = call;
    return req_respond_stream(pr->req, (unsigned int)r->status, size,
                              relay_read, s, relay_free);
}

/* The body's length when it can be streamed: a GET's 200 or 2xx with a
 * Content-Length and a body; HTTP_SIZE_UNKNOWN otherwise. */
static uint64_t streamable(struct preq *pr, struct http_client_call *call,
                           int status)
{
    const char *cl = http_client_header(call, "Content-Length");
    unsigned long long v;
    char *end;

    if (status / 100 != 2 || status == 204 || !cl ||
        strcmp(req_method(pr->req), "GET"))
        return HTTP_SIZE_UNKNOWN;
    v = strtoull(cl, &end, 10);
    if (end == cl || *end || v == 0)
        return HTTP_SIZE_UNKNOWN;
    return v;
}

/* backend_call() that stops after the headers of a streamable answer:
 * then *call is the open call and r->body is NULL. */
static int start_call(struct preq *pr, const struct ring_dev *d,
                      const char *path, const struct hlist *h, struct bresp *r,
                      struct http_client_call **call, uint64_t *size)
{
    struct http_client_req q = {
        .host = d->ip,
        .port = (unsigned int)d->port,
        .method = req_method(pr->req),
        .path = path,
        .headers = h->v,
        .n_headers = h->n,
        .body_mode = HTTP_CLIENT_BODY_NONE,
        .conn_timeout_ms = (unsigned int)(pr->p->conf->conn_timeout * 1000),
        .node_timeout_ms = (unsigned int)(pr->p->conf->node_timeout * 1000),
    };
    int st;

    memset(r, 0, sizeof(*r));
    r->dev = d;
    *call = NULL;
    *size = HTTP_SIZE_UNKNOWN;
    st = http_client_request(pr->p->client, &q, call);
    if (st >= 0 && hlist_from_call(&r->headers, *call))
        st = -ENOMEM;
    if (st >= 0 && (*size = streamable(pr, *call, st)) != HTTP_SIZE_UNKNOWN)
        return r->status = st;
    if (st >= 0)
        st = http_client_read_all(*call, BACKEND_BODY_MAX, &r->body, &r->len);
    if (st == 0)
        st = http_client_status(*call);
    http_client_end(*call);
    *call = NULL;
    r->status = st;
    backend_failed(pr, d, st);
    return st;
}

static int read_container(struct preq *pr)
{
    struct hlist h = {0};
    struct nodes n;
    struct bresp last = {.status = -EHOSTUNREACH}, r;
    struct http_client_call *call = NULL;
    uint64_t size = HTTP_SIZE_UNKNOWN;
    char *tail = backend_tail(pr->account, pr->container, NULL);
    const char *query = req_raw_query(pr->req);
    const struct ring_dev *d;
    int rc = -ENOMEM;

    if (!tail || backend_base_headers(pr, NULL, &h) ||
        req_foreach_header(pr->req, add_read_header, &h) ||
        nodes_init(pr->p, pr->p->container_ring, pr->account, pr->container,
                   NULL, &n)) {
        free(tail);
        hlist_release(&h);
        return -ENOMEM;
    }
    while ((d = nodes_next(pr->p, &n))) {
        char *path = backend_path(d, n.part, tail), *full = NULL;
        int st;

        if (path && query && *query &&
            asprintf(&full, "%s?%s", path, query) < 0)
            full = NULL;
        if (!path || (query && *query && !full)) {
            free(path);
            break;
        }
        st = start_call(pr, d, full ? full : path, &h, &r, &call, &size);
        free(full);
        free(path);
        if (backend_failed(pr, d, st)) {
            bresp_release(&r);
            continue;
        }
        bresp_release(&last);
        last = r;
        if (st != 404)
            break;
    }
    nodes_release(&n);
    hlist_release(&h);
    free(tail);
    if (last.status / 100 == 2) {
        rc = authorize(pr, hlist_get(&last.headers, "X-Container-Read"));
        if (rc == 0) {
            if (hlist_get(&last.headers, "X-Backend-Storage-Policy-Index"))
                hlist_add(&last.headers, "X-Storage-Policy", "Policy-0");
            db_response_headers(pr, &last.headers);
            rc = call ? relay_call(pr, &last, call, size)
                      : preq_relay(pr, &last);
            call = NULL;
        } else if (rc > 0) {
            rc = 0;
        }
    } else if (last.status > 0) {
        /* a 404 is only told to those who may know, with Swift's page */
        rc = authorize(pr, NULL);
        if (rc == 0 && last.status == 404)
            rc = preq_error(pr, 404);
        else if (rc == 0) /* 400, 406, 412: the server's own words */
            rc = preq_relay(pr, &last);
        else if (rc > 0)
            rc = 0;
    } else {
        rc = preq_error(pr, 503);
    }
    http_client_end(call);
    bresp_release(&last);
    return rc;
}

/* ---- writes ---- */

static int write_all(struct preq *pr, const char *method, struct hlist *h)
{
    struct bresp best;
    int rc;

    if (backend_container_write(pr, pr->account, pr->container, method, h,
                                &best))
        return -ENOMEM;
    info_invalidate(pr->p, pr->account, NULL);
    rc = best.status > 0 ? preq_relay(pr, &best) : preq_error(pr, 503);
    bresp_release(&best);
    return rc;
}

/* Metadata limits and ACL syntax for PUT and POST: 0, 1 when answered,
 * -errno. The cleaned ACLs replace what the client sent in 'h'. */
static int check_write(struct preq *pr, struct hlist *h)
{
    static const char *const acls[] = {"X-Container-Read", "X-Container-Write",
                                       NULL};
    struct constraints_header *ch = NULL;
    struct constraints_error cerr = {0};
    size_t nch = 0;
    int rc = obj_collect_headers(pr, &ch, &nch);

    if (!rc)
        rc = constraints_check_metadata(&pr->p->limits, ch, nch,
                                        CONSTRAINTS_CONTAINER, &cerr);
    free(ch);
    if (rc > 0)
        return preq_refuse(pr, &cerr) < 0 ? -ENOMEM : 1;
    if (rc < 0)
        return rc;
    for (size_t i = 0; acls[i]; i++) {
        const char *v = req_header(pr->req, acls[i]);
        char *clean = NULL, *msg = NULL;

        if (!v)
            continue;
        rc = acl_clean(acls[i], v, &clean, &msg);
        if (rc == -EINVAL) {
            rc = preq_html(pr, 400, msg ? msg : "");
            free(msg);
            return rc < 0 ? rc : 1;
        }
        if (!rc)
            rc = hlist_set(h, acls[i], clean);
        free(clean);
        free(msg);
        if (rc)
            return rc;
    }
    {
        const char *policy = req_header(pr->req, "X-Storage-Policy");

        if (policy && strcasecmp(policy, "Policy-0")) {
            char body[512];

            snprintf(body, sizeof(body), "Invalid %s '%s'", "X-Storage-Policy",
                     policy);
            return preq_html(pr, 400, body) < 0 ? -ENOMEM : 1;
        }
    }
    return 0;
}

/* The account must exist; with account_autocreate it is made. 0, 1 when
 * answered (404, 503), -errno. */
int ensure_account(struct preq *pr, bool create)
{
    struct info ai;
    int st;

    info_get(pr, pr->account, NULL, &ai);
    st = ai.status;
    info_release(&ai);
    if (st / 100 == 2)
        return 0;
    if (st == 404 && create && pr->p->conf->account_autocreate) {
        struct nodes an;
        struct bresp rs[PROXY_MAX_REPLICAS];
        struct hlist h = {0};
        char ts[32], *tail = backend_tail(pr->account, NULL, NULL);
        size_t got;
        int best;

        preq_new_timestamp(ts);
        if (!tail || backend_base_headers(pr, ts, &h) ||
            nodes_init(pr->p, pr->p->account_ring, pr->account, NULL, NULL,
                       &an)) {
            free(tail);
            hlist_release(&h);
            return -ENOMEM;
        }
        got = backend_fanout(pr, &an, "PUT", tail, NULL, &h, NULL, NULL, rs);
        best = backend_best(rs, got, an.n_prim);
        st = best < 0 ? 503 : rs[best].status;
        for (size_t i = 0; i < got; i++)
            bresp_release(&rs[i]);
        nodes_release(&an);
        hlist_release(&h);
        free(tail);
        info_invalidate(pr->p, pr->account, NULL);
        if (st / 100 == 2)
            return 0;
        req_log(pr->req, LOG_ERR, "could not autocreate account %s: %d",
                pr->account, st);
    }
    return preq_error(pr, st == 404 ? 404 : 503) < 0 ? -ENOMEM : 1;
}

static int write_container(struct preq *pr, const char *method)
{
    struct hlist h = {0};
    struct constraints_error cerr = {0};
    char ts[32];
    int rc;

    if (!strcmp(method, "PUT")) {
        rc =
            constraints_check_name_length(&pr->p->limits, CONSTRAINTS_CONTAINER,
                                          pr->account, pr->container, &cerr);
        if (rc)
            return rc > 0 ? preq_refuse_html(pr, &cerr) : rc;
    }
    preq_new_timestamp(ts);
    rc = backend_base_headers(pr, ts, &h);
    if (!rc && strcmp(method, "DELETE"))
        rc = transfer_headers(pr, "container", container_pass, &h);
    if (!rc && strcmp(method, "DELETE"))
        rc = check_write(pr, &h);
    if (!rc)
        rc = authorize(pr, NULL);
    if (!rc)
        rc = ensure_account(pr, !strcmp(method, "PUT"));
    if (!rc)
        rc = write_all(pr, method, &h);
    hlist_release(&h);
    return rc < 0 ? rc : 0;
}

int container_request(struct preq *pr)
{
    const char *m = req_method(pr->req);

    if (!strcmp(m, "GET") || !strcmp(m, "HEAD"))
        return read_container(pr);
    if (!strcmp(m, "PUT") || !strcmp(m, "POST") || !strcmp(m, "DELETE"))
        return write_container(pr, m);
    if (!strcmp(m, "OPTIONS")) {
        struct info ci;
        int rc;

        info_get(pr, pr->account, pr->container, &ci);
        rc = cors_preflight(pr, ci.status / 100 == 2 ? &ci : NULL);
        info_release(&ci);
        return rc;
    }
    preq_add_txn_headers(pr);
    req_add_header(pr->req, "Allow", "HEAD, GET, PUT, POST, DELETE, OPTIONS");
    return req_respond_error(pr->req, 405);
}
