/*
 * backend.c - the proxy's side of Swift's backend protocol: which nodes to
 * ask (primaries, then handoffs, skipping error-limited ones), asking one
 * or all of them, and choosing the answer a quorum agrees on.
 */
#include "proxy/preq.h"

#include "common/conn_pool.h"
#include "common/http.h"
#include "proxy/error_limit.h"
#include "ring/ring.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ---- header lists ---- */

/* A header's name and value share one allocation (the name's): two
 * mallocs per header were a fifth of the proxy's malloc calls. */
int hlist_add(struct hlist *h, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    char *n;

    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 16;
        struct http_header *grown = realloc(h->v, cap * sizeof(*grown));

        if (!grown)
            return -ENOMEM;
        h->v = grown;
        h->cap = cap;
    }
    n = malloc(nl + vl + 2);
    if (!n)
        return -ENOMEM;
    memcpy(n, name, nl + 1);
    memcpy(n + nl + 1, value, vl + 1);
    h->v[h->n].name = n;
    h->v[h->n].value = n + nl + 1;
    h->n++;
    return 0;
}

void hlist_del(struct hlist *h, const char *name)
{
    size_t i = 0;

    while (i < h->n) {
        if (!strcasecmp(h->v[i].name, name)) {
            free((char *)h->v[i].name);
            memmove(&h->v[i], &h->v[i + 1], (h->n - i - 1) * sizeof(h->v[0]));
            h->n--;
        } else {
            i++;
        }
    }
}

int hlist_set(struct hlist *h, const char *name, const char *value)
{
    hlist_del(h, name);
    return hlist_add(h, name, value);
}

const char *hlist_get(const struct hlist *h, const char *name)
{
    for (size_t i = 0; i < h->n; i++)
        if (!strcasecmp(h->v[i].name, name))
            return h->v[i].value;
    return NULL;
}

void hlist_release(struct hlist *h)
{
    for (size_t i = 0; i < h->n; i++)
        free((char *)h->v[i].name); /* and the value: one allocation */
    free(h->v);
    memset(h, 0, sizeof(*h));
}

int hlist_from_call(struct hlist *h, struct http_client_call *call)
{
    size_t n = http_client_header_count(call);

    for (size_t i = 0; i < n; i++) {
        struct http_header hd = http_client_header_at(call, i);

        if (hlist_add(h, hd.name, hd.value))
            return -ENOMEM;
    }
    return 0;
}

/* ---- nodes ---- */

int nodes_init(struct proxy *p, struct live_ring *lr, const char *a,
               const char *c, const char *o, struct nodes *n)
{
    unsigned char digest[16];
    size_t replicas, total;
    int rc;

    memset(n, 0, sizeof(*n));
    rc = hash_path(&p->hc, a, c, o, digest);
    if (rc)
        return rc;
    n->ring = live_ring_get(lr);
    n->part = ring_get_part(n->ring, digest);
    n->n_prim =
        ring_get_part_nodes(n->ring, n->part, n->prim, PROXY_MAX_REPLICAS);
    replicas = ring_replica_arrays(n->ring);
    total = p->node_count_mult * replicas + p->node_count_add;
    n->handoffs_left = total > n->n_prim ? total - n->n_prim : 0;
    return 0;
}

const struct ring_dev *nodes_next(struct proxy *p, struct nodes *n)
{
    double now = conn_pool_now_ms() / 1000.0;

    while (n->next_prim < n->n_prim) {
        const struct ring_dev *d = n->prim[n->next_prim++];

        if (!error_limited(p->errors, d, now))
            return d;
    }
    while (n->handoffs_left) {
        const struct ring_dev *d;

        if (!n->handoffs &&
            ring_handoff_iter_new(n->ring, n->part, &n->handoffs))
            return NULL;
        d = ring_handoff_iter_next(n->handoffs);
        if (!d)
            return NULL;
        n->handoffs_left--;
        if (!error_limited(p->errors, d, now))
            return d;
    }
    return NULL;
}

void nodes_release(struct nodes *n)
{
    ring_handoff_iter_free(n->handoffs);
    ring_free(n->ring);
    memset(n, 0, sizeof(*n));
}

/* ---- requests ---- */

void bresp_release(struct bresp *r)
{
    hlist_release(&r->headers);
    free(r->body);
    memset(r, 0, sizeof(*r));
}

char *backend_tail(const char *a, const char *c, const char *o)
{
    char *qa = http_quote(a), *qc = c ? http_quote(c) : NULL;
    char *qo = o ? http_quote(o) : NULL, *out = NULL;

    if (qa && (!c || qc) && (!o || qo) &&
        asprintf(&out, "/%s%s%s%s%s", qa, c ? "/" : "", c ? qc : "",
                 o ? "/" : "", o ? qo : "") < 0)
        out = NULL;
    free(qa);
    free(qc);
    free(qo);
    return out;
}

char *backend_path(const struct ring_dev *dev, uint32_t part, const char *tail)
{
    char *qd = http_quote(dev->device), *out = NULL;

    if (qd && asprintf(&out, "/%s/%u%s", qd, part, tail) < 0)
        out = NULL;
    free(qd);
    return out;
}

static char user_agent[64];
static pthread_once_t user_agent_once = PTHREAD_ONCE_INIT;

static void user_agent_init(void)
{
    snprintf(user_agent, sizeof(user_agent), "proxy-server %d", (int)getpid());
}

int backend_base_headers(struct preq *pr, const char *ts, struct hlist *h)
{
    const char *ua = user_agent;

    /* once: a getpid() per backend request is a system call for nothing */
    pthread_once(&user_agent_once, user_agent_init);
    if (hlist_add(h, "X-Trans-Id", req_txn(pr->req)) ||
        hlist_add(h, "User-Agent", ua) ||
        (ts && hlist_add(h, "X-Timestamp", ts)))
        return -ENOMEM;
    return 0;
}

bool backend_failed(struct preq *pr, const struct ring_dev *dev, int status)
{
    double now = conn_pool_now_ms() / 1000.0;

    if (status == 507) {
        req_log(pr->req, LOG_ERR, "%s:%d/%s: 507 Insufficient Storage", dev->ip,
                dev->port, dev->device);
        error_limit_now(pr->p->errors, dev, now);
        return true;
    }
    if (status < 0 || status >= 500) {
        if (status < 0)
            req_log(pr->req, LOG_ERR, "%s:%d/%s: %s", dev->ip, dev->port,
                    dev->device, strerror(-status));
        else
            req_log(pr->req, LOG_ERR, "%s:%d/%s: status %d", dev->ip, dev->port,
                    dev->device, status);
        error_limit_occurred(pr->p->errors, dev, now);
        return true;
    }
    return false;
}

static void fill_req(struct preq *pr, struct http_client_req *r,
                     const struct ring_dev *dev, const char *method,
                     const char *path, const struct hlist *headers,
                     const void *body, size_t len)
{
    memset(r, 0, sizeof(*r));
    r->host = dev->ip;
    r->port = (unsigned int)dev->port;
    r->method = method;
    r->path = path;
    r->headers = headers->v;
    r->n_headers = headers->n;
    r->body_mode = HTTP_CLIENT_BODY_NONE;
    r->body = body;
    r->body_len = len;
    r->conn_timeout_ms = (unsigned int)(pr->p->conf->conn_timeout * 1000);
    r->node_timeout_ms = (unsigned int)(pr->p->conf->node_timeout * 1000);
}

static char *full_path(const struct ring_dev *dev, uint32_t part,
                       const char *tail, const char *query)
{
    char *path = backend_path(dev, part, tail), *out;

    if (!path || !query || !*query)
        return path;
    if (asprintf(&out, "%s?%s", path, query) < 0)
        out = NULL;
    free(path);
    return out;
}

/* Reads the response of a started call into *out and ends the call. */
static int finish_call(struct http_client_call *call, int status,
                       struct bresp *out)
{
    int rc;

    if (status < 0) {
        http_client_end(call);
        return out->status = status;
    }
    out->status = status;
    rc = hlist_from_call(&out->headers, call);
    if (!rc)
        rc =
            http_client_read_all(call, BACKEND_BODY_MAX, &out->body, &out->len);
    http_client_end(call);
    if (rc)
        out->status = rc;
    return out->status;
}

int backend_call(struct preq *pr, const struct ring_dev *dev, uint32_t part,
                 const char *method, const char *tail, const char *query,
                 const struct hlist *headers, const void *body, size_t len,
                 struct bresp *out)
{
    struct http_client_req r;
    struct http_client_call *call = NULL;
    char *path = full_path(dev, part, tail, query);
    int st;

    memset(out, 0, sizeof(*out));
    out->dev = dev;
    if (!path)
        return out->status = -ENOMEM;
    fill_req(pr, &r, dev, method, path, headers, body, len);
    st = http_client_request(pr->p->client, &r, &call);
    st = finish_call(call, st, out);
    free(path);
    backend_failed(pr, dev, st);
    return st;
}

size_t backend_fanout(struct preq *pr, struct nodes *n, const char *method,
                      const char *tail, const char *query,
                      const struct hlist *headers,
                      backend_node_headers_fn per_node, void *arg,
                      struct bresp *out)
{
    struct http_client_req reqs[PROXY_MAX_REPLICAS];
    struct http_client_call *calls[PROXY_MAX_REPLICAS];
    struct hlist hs[PROXY_MAX_REPLICAS];
    char *paths[PROXY_MAX_REPLICAS];
    const struct ring_dev *devs[PROXY_MAX_REPLICAS];
    int errs[PROXY_MAX_REPLICAS];
    size_t slots = n->n_prim, nreq = 0;
    size_t slot_of[PROXY_MAX_REPLICAS];

    memset(out, 0, slots * sizeof(*out));
    memset(hs, 0, sizeof(hs));
    memset(reqs, 0, sizeof(reqs));
    /* the first wave: each slot's first usable node, all at once */
    for (size_t i = 0; i < slots; i++) {
        const struct ring_dev *d = nodes_next(pr->p, n);

        out[i].status = -EHOSTUNREACH;
        if (!d)
            continue;
        for (size_t k = 0; k < headers->n; k++)
            if (hlist_add(&hs[i], headers->v[k].name, headers->v[k].value))
                out[i].status = -ENOMEM;
        if (per_node && per_node(pr, i, &hs[i], arg))
            out[i].status = -ENOMEM;
        paths[nreq] = full_path(d, n->part, tail, query);
        if (out[i].status == -ENOMEM || !paths[nreq]) {
            free(paths[nreq]);
            out[i].status = -ENOMEM;
            continue;
        }
        devs[nreq] = d;
        slot_of[nreq] = i;
        fill_req(pr, &reqs[nreq], d, method, paths[nreq], &hs[i], NULL, 0);
        nreq++;
    }
    http_client_start_multi(pr->p->client, reqs, nreq, calls, errs);
    for (size_t k = 0; k < nreq; k++) {
        struct bresp *o = &out[slot_of[k]];
        int st = calls[k] ? http_client_response(calls[k]) : errs[k];

        o->dev = devs[k];
        st = finish_call(calls[k], st, o);
        free(paths[k]);
        if (!backend_failed(pr, devs[k], st))
            continue;
        /* this slot's node failed: its handoffs, one at a time */
        for (;;) {
            const struct ring_dev *d = nodes_next(pr->p, n);

            if (!d)
                break;
            bresp_release(o);
            if (!backend_failed(pr, d,
                                backend_call(pr, d, n->part, method, tail,
                                             query, &hs[slot_of[k]], NULL, 0,
                                             o)))
                break;
        }
    }
    for (size_t i = 0; i < slots; i++)
        hlist_release(&hs[i]);
    return slots;
}

size_t quorum_size(size_t n_replicas)
{
    return (n_replicas + 1) / 2; /* Swift 2.30: 2 of 3, 1 of 2, 2 of 4 */
}

int backend_best(const struct bresp *r, size_t n, size_t n_replicas)
{
    size_t quorum = quorum_size(n_replicas);

    for (int hundred = 200; hundred <= 400; hundred += 100) {
        size_t count = 0;
        int best = -1;

        for (size_t i = 0; i < n; i++) {
            if (r[i].status >= hundred && r[i].status < hundred + 100) {
                count++;
                if (best < 0 || r[i].status > r[best].status)
                    best = (int)i;
            }
        }
        if (count >= quorum)
            return best;
    }
    return -1;
}

int backend_update_headers(const struct nodes *n, size_t i, size_t stride,
                           const char *kind, struct hlist *h)
{
    char hosts[1024] = "", devs[1024] = "", part[16], name[64];

    for (size_t j = i; stride && j < n->n_prim; j += stride) {
        const struct ring_dev *d = n->prim[j];
        size_t hl = strlen(hosts), dl = strlen(devs);

        snprintf(hosts + hl, sizeof(hosts) - hl, "%s%s:%d", hl ? "," : "",
                 d->ip, d->port);
        snprintf(devs + dl, sizeof(devs) - dl, "%s%s", dl ? "," : "",
                 d->device);
    }
    if (!*hosts)
        return 0;
    snprintf(part, sizeof(part), "%u", n->part);
    snprintf(name, sizeof(name), "X-%s-Host", kind);
    if (hlist_set(h, name, hosts))
        return -ENOMEM;
    snprintf(name, sizeof(name), "X-%s-Device", kind);
    if (hlist_set(h, name, devs))
        return -ENOMEM;
    snprintf(name, sizeof(name), "X-%s-Partition", kind);
    if (hlist_set(h, name, part))
        return -ENOMEM;
    return 0;
}

/* The account and container nodes of a container write. */
struct cont_write_nodes {
    struct nodes an, cn;
};

/* Container replica i updates account replica i (and i + n, i + 2n...
 * when there are more account replicas). */
static int account_update(struct preq *pr, size_t i, struct hlist *h,
                          void *arg)
{
    struct cont_write_nodes *wn = arg;

    (void)pr;
    return backend_update_headers(&wn->an, i, wn->cn.n_prim, "Account", h);
}

int backend_container_write(struct preq *pr, const char *a, const char *c,
                            const char *method, const struct hlist *h,
                            struct bresp *best)
{
    struct cont_write_nodes wn;
    struct bresp rs[PROXY_MAX_REPLICAS];
    char *tail = backend_tail(a, c, NULL);
    size_t got;
    int b;

    memset(best, 0, sizeof(*best));
    if (!tail)
        return -ENOMEM;
    if (nodes_init(pr->p, pr->p->account_ring, a, NULL, NULL, &wn.an)) {
        free(tail);
        return -ENOMEM;
    }
    if (nodes_init(pr->p, pr->p->container_ring, a, c, NULL, &wn.cn)) {
        nodes_release(&wn.an);
        free(tail);
        return -ENOMEM;
    }
    got = backend_fanout(pr, &wn.cn, method, tail, NULL, h,
                         strcmp(method, "POST") ? account_update : NULL, &wn,
                         rs);
    info_invalidate(pr->p, a, c);
    b = backend_best(rs, got, wn.cn.n_prim);
    for (size_t i = 0; i < got; i++) {
        if ((int)i == b)
            *best = rs[i]; /* the caller's now */
        else
            bresp_release(&rs[i]);
    }
    nodes_release(&wn.cn);
    nodes_release(&wn.an);
    free(tail);
    return 0;
}

/* ---- relaying a response ---- */

static bool has_prefix(const char *s, const char *prefix)
{
    return !strncasecmp(s, prefix, strlen(prefix));
}

/* Headers only the account's owner sees (Swift's swift_owner_headers). */
static const char *const owner_headers[] = {
    "x-container-read",
    "x-container-write",
    "x-container-sync-key",
    "x-container-sync-to",
    "x-account-meta-temp-url-key",
    "x-account-meta-temp-url-key-2",
    "x-container-meta-temp-url-key",
    "x-container-meta-temp-url-key-2",
    "x-account-access-control",
    NULL,
};

bool response_header_allowed(const struct preq *pr, const char *name)
{
    static const char *const hop[] = {
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-length",
        "date",
        "server",
        "x-trans-id",
        "x-openstack-request-id",
        "te",
        "trailer",
        "upgrade",
        NULL,
    };

    for (size_t i = 0; hop[i]; i++)
        if (!strcasecmp(name, hop[i]))
            return false;
    if (has_prefix(name, "x-backend-"))
        return false;
    if (has_prefix(name, "x-object-transient-sysmeta-"))
        return req_origin(pr->req) != NULL;
    /* sysmeta is the proxy's: its own subrequests see it (subreq.c) */
    if ((has_prefix(name, "x-account-sysmeta-") ||
         has_prefix(name, "x-container-sysmeta-") ||
         has_prefix(name, "x-object-sysmeta-")))
        return req_origin(pr->req) != NULL;
    if (!pr->owner)
        for (size_t i = 0; owner_headers[i]; i++)
            if (!strcasecmp(name, owner_headers[i]))
                return false;
    return true;
}

int preq_relay(struct preq *pr, const struct bresp *r)
{
    int rc = preq_add_txn_headers(pr);

    for (size_t i = 0; !rc && i < r->headers.n; i++) {
        const struct http_header *h = &r->headers.v[i];

        /* an empty value goes out as one space, which reads as empty
         * to every client (RFC 9110 trims it); CR/LF are dropped */
        if (response_header_allowed(pr, h->name) &&
            req_add_header(pr->req, h->name, *h->value ? h->value : " ") ==
                -ENOMEM)
            rc = -ENOMEM;
    }
    if (rc)
        return rc;
    return req_respond(pr->req, (unsigned int)r->status, r->body, r->len);
}
