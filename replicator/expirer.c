/*
 * expirer.c - kura-expirer's pass over the expirer queue (expirer.h).
 *
 * Owns the walk of the queue (account listing, container listings, paged
 * by marker), the share of rows this expirer takes, what each object's
 * DELETE carries, when a row is settled, when an S3 multipart object's
 * parts go, and the row's removal. The queue's names are obj_expiring's;
 * sending the DELETEs, reading a manifest and deleting parts are
 * direct_delete.c's (shared with the lifecycle pass); what a DELETE with
 * X-If-Delete-At does to an object, and the container update it sends,
 * are the object server's.
 *
 * Invariants:
 * 1. A row leaves the queue only after its object is settled (see
 *    expirer.h), so an object with a delete-at is deleted or found
 *    changed before its row goes; a failure anywhere leaves the row for
 *    the next pass.
 * 2. An S3 multipart object's parts are deleted only after its manifest's
 *    DELETE settled with no replica refusing it (409, 412), and only the
 *    parts of the manifest version whose X-Delete-At the row names: an
 *    object overwritten or given another delete-at keeps its parts.
 */
#include "replicator/expirer.h"

#include "common/http.h"
#include "common/http_client.h"
#include "common/recon.h"
#include "common/timestamp.h"
#include "ring/live_ring.h"
#include "storage/direct_delete.h"
#include "storage/obj_expiring.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Rows (containers) asked for per listing request. */
#define PAGE_LIMIT 1000
/* A listing page's body: 1000 rows of at most ~1.3 KiB of JSON each. */
#define PAGE_MAX_BYTES (4u << 20)
#define MAX_REPLICAS DIRECT_DELETE_MAX_REPLICAS
/* Threads deleting rows at once, at most (the concurrency option). */
#define MAX_CONCURRENCY 64

const struct conf_option expirer_options[] = {
    LOG_CONF_OPTIONS(struct expirer_conf, log, "object-expirer"),
    CONF_STR("swift_dir", struct expirer_conf, swift_dir, "/etc/swift"),
    CONF_DOUBLE("interval", struct expirer_conf, interval, 300, 0, 86400 * 7),
    CONF_STR("expiring_objects_account_name", struct expirer_conf,
             expiring_objects_account_name, "expiring_objects"),
    CONF_UINT("concurrency", struct expirer_conf, concurrency, 1, 1,
              MAX_CONCURRENCY),
    CONF_UINT("processes", struct expirer_conf, processes, 0, 0, UINT_MAX),
    CONF_UINT("process", struct expirer_conf, process, 0, 0, UINT_MAX),
    CONF_DOUBLE("conn_timeout", struct expirer_conf, conn_timeout, 0.5, 0.001,
                3600),
    CONF_DOUBLE("node_timeout", struct expirer_conf, node_timeout, 10, 0.001,
                3600),
    CONF_UINT("reclaim_age", struct expirer_conf, reclaim_age, 604800, 0,
              UINT_MAX),
    CONF_STR("recon_cache_path", struct expirer_conf, recon_cache_path,
             RECON_DEFAULT_CACHE_PATH),
    CONF_END,
};

struct expirer {
    const struct expirer_conf *c;
    const struct hash_path_conf *hc;
    struct live_ring *account_ring, *container_ring, *object_ring;
    struct http_client *client;
    char *account; /* ".expiring_objects" */
};

static int place_of(const struct expirer *e, const struct ring *ring,
                    const char *a, const char *c, const char *o,
                    struct direct_place *p)
{
    return direct_delete_place(e->hc, ring, a, c, o, p);
}

/* Sends 'n' requests at once and collects each status (or -errno) into
 * 'status', reading and dropping the bodies. */
static void run_all(struct expirer *e, const struct http_client_req *reqs,
                    size_t n, int *status)
{
    struct http_client_call *calls[MAX_REPLICAS];
    int errs[MAX_REPLICAS];

    http_client_start_multi(e->client, reqs, n, calls, errs);
    for (size_t i = 0; i < n; i++) {
        const void *data;
        size_t len;

        status[i] = calls[i] ? http_client_response(calls[i]) : errs[i];
        while (status[i] > 0 && !http_client_read(calls[i], &data, &len) && len)
            ;
        http_client_end(calls[i]);
    }
}

/* Sends DELETE of the quoted '/a/c/o' 'qname' to every node of 'p' with
 * 'hdrs', logging the answers that are neither 2xx nor 404. */
static void delete_everywhere(struct expirer *e, const struct direct_place *p,
                              const char *qname, const struct http_header *hdrs,
                              size_t n_hdrs)
{
    struct http_client_req reqs[MAX_REPLICAS];
    char *paths[MAX_REPLICAS];
    int status[MAX_REPLICAS];
    size_t n = 0;

    for (size_t i = 0; i < p->n; i++) {
        paths[n] = direct_delete_node_path(p->nodes[i], p->part, qname);
        if (!paths[n])
            continue;
        reqs[n] = (struct http_client_req){
            .host = p->nodes[i]->ip,
            .port = (unsigned int)p->nodes[i]->port,
            .method = "DELETE",
            .path = paths[n],
            .headers = hdrs,
            .n_headers = n_hdrs,
        };
        n++;
    }
    run_all(e, reqs, n, status);
    for (size_t i = 0; i < n; i++) {
        if (status[i] != 404 && (status[i] < 200 || status[i] >= 300))
            log_warning(
                "DELETE %s:%u%s: %s", reqs[i].host, reqs[i].port, paths[i],
                status[i] < 0 ? strerror(-status[i]) : http_reason(status[i]));
        free(paths[i]);
    }
}

void expirer_names_release(struct expirer_names *ns)
{
    for (size_t i = 0; i < ns->n; i++)
        free(ns->v[i]);
    free(ns->v);
    *ns = (struct expirer_names){0};
}

static int names_add(struct expirer_names *ns, const char *name)
{
    if (ns->n == ns->cap) {
        size_t cap = ns->cap ? 2 * ns->cap : 256;
        char **v = realloc(ns->v, cap * sizeof(*v));

        if (!v)
            return -ENOMEM;
        ns->v = v;
        ns->cap = cap;
    }
    ns->v[ns->n] = strdup(name);
    return ns->v[ns->n] ? (ns->n++, 0) : -ENOMEM;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int expirer_merge_pages(json_t *const *pages, size_t n, size_t limit,
                        struct expirer_names *out, bool *more)
{
    const char *bound = NULL;
    size_t i, k;
    json_t *v;
    int err = 0;

    *more = false;
    *out = (struct expirer_names){0};
    /* past the smallest last name of a full page, that replica has more
     * names still to come: the page ends there */
    for (i = 0; i < n; i++) {
        size_t len = json_array_size(pages[i]);
        const char *last = json_string_value(
            json_object_get(json_array_get(pages[i], len - 1), "name"));

        if (len >= limit && last && (!bound || strcmp(last, bound) < 0))
            bound = last;
    }
    for (i = 0; !err && i < n; i++) {
        json_array_foreach(pages[i], k, v)
        {
            const char *name = json_string_value(json_object_get(v, "name"));

            if (name && (!bound || strcmp(name, bound) <= 0) &&
                (err = names_add(out, name)))
                break;
        }
    }
    if (err) {
        expirer_names_release(out);
        return err;
    }
    if (out->n) {
        size_t w = 1;

        qsort(out->v, out->n, sizeof(*out->v), cmp_name);
        for (i = 1; i < out->n; i++) {
            if (strcmp(out->v[i], out->v[w - 1]))
                out->v[w++] = out->v[i];
            else
                free(out->v[i]);
        }
        out->n = w;
    }
    *more = bound != NULL;
    return 0;
}

/* One replica's JSON listing page of the quoted '/a[/c]' 'qname' after
 * the quoted 'qmarker' into *out (an empty array for 204 or 404). Returns
 * 0 or -errno (logged). */
static int get_page(struct expirer *e, const struct ring_dev *d, uint32_t part,
                    const char *qname, const char *qmarker, json_t **out)
{
    const struct http_header accept = {"Accept", "application/json"};
    struct http_client_call *call = NULL;
    char *base = direct_delete_node_path(d, part, qname), *path = NULL,
         *body = NULL;
    struct http_client_req req = {
        .host = d->ip,
        .port = (unsigned int)d->port,
        .method = "GET",
        .headers = &accept,
        .n_headers = 1,
    };
    size_t len;
    int status, err;

    *out = NULL;
    if (!base || asprintf(&path, "%s?format=json&limit=%d&marker=%s", base,
                          PAGE_LIMIT, qmarker) < 0) {
        free(base);
        return -ENOMEM;
    }
    req.path = path;
    status = http_client_request(e->client, &req, &call);
    if (status == 200) {
        err = http_client_read_all(call, PAGE_MAX_BYTES, &body, &len);
        if (!err) {
            *out = json_loads(body, 0, NULL);
            if (!json_is_array(*out))
                err = -EPROTO;
        }
    } else if (status == 204 || status == 404) {
        *out = json_array();
        err = *out ? 0 : -ENOMEM;
    } else {
        err = status < 0 ? status : -EIO;
    }
    if (err) {
        log_warning("GET %s:%d%s: %s", d->ip, d->port, path,
                    status > 0 && status != 200 ? http_reason(status)
                                                : strerror(-err));
        json_decref(*out);
        *out = NULL;
    }
    http_client_end(call);
    free(body);
    free(path);
    free(base);
    return err;
}

/* One page of the names the replicas of 'p' list under the quoted
 * '/a[/c]' 'qname' after 'marker': expirer_merge_pages() of the pages of
 * every replica that answers. Returns 0, -EIO when none answered, or
 * -ENOMEM. */
static int list_page(struct expirer *e, const struct direct_place *p,
                     const char *qname, const char *marker,
                     struct expirer_names *out, bool *more)
{
    char *qmarker = http_quote(marker);
    json_t *pages[MAX_REPLICAS];
    size_t n = 0;
    int err = -EIO;

    *more = false;
    *out = (struct expirer_names){0};
    for (size_t i = 0; qmarker && i < p->n; i++)
        if (!get_page(e, p->nodes[i], p->part, qname, qmarker, &pages[n]))
            n++;
    if (!qmarker)
        err = -ENOMEM;
    else if (n)
        err = expirer_merge_pages(pages, n, PAGE_LIMIT, out, more);
    for (size_t i = 0; i < n; i++)
        json_decref(pages[i]);
    free(qmarker);
    return err;
}

/* ---- one row ---- */

/* Swift's hash_mod(): md5 of the name as a big number, mod 'n'. */
static unsigned int hash_mod(const char *name, unsigned int n)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    uint64_t r = 0;

    EVP_Digest(name, strlen(name), md, &mdlen, EVP_md5(), NULL);
    for (unsigned int k = 0; k < mdlen; k++)
        r = (r * 256 + md[k]) % n;
    return (unsigned int)r;
}

static bool is_mine(const struct expirer *e, const char *cont, const char *row)
{
    char *name;
    bool mine;

    if (!e->c->processes)
        return true;
    if (asprintf(&name, "%s/%s", cont, row) < 0)
        return true; /* doing a row twice is harmless; missing it is not */
    mine = hash_mod(name, e->c->processes) == e->c->process;
    free(name);
    return mine;
}

bool expirer_row_settled(const int *status, size_t n, int64_t delete_at,
                         unsigned int reclaim_age, int64_t now)
{
    size_t answered = 0;
    bool not_404 = false;

    for (size_t i = 0; i < n; i++) {
        int s = status[i];

        if (s == 404) {
            answered++;
        } else if ((s >= 200 && s < 300) || s == 409 || s == 412) {
            answered++;
            not_404 = true;
        }
    }
    if (!n || answered < n / 2 + 1)
        return false;
    /* every replica says 404: the object may be on handoffs still, so
     * Swift 2.30 retries until reclaim_age */
    return not_404 || delete_at + (int64_t)reclaim_age < now;
}

/* DELETE with X-If-Delete-At to every replica of the object, and after
 * it the parts of an S3 multipart object; returns whether the row is
 * settled (expirer.h). */
static bool delete_object(struct expirer *e, struct ring *cring,
                          struct ring *oring, const struct obj_expiring_task *t,
                          const char *txn)
{
    const struct direct_delete dd = {.client = e->client, .hc = e->hc};
    char at[32];
    const struct http_header extra[] = {
        {"X-If-Delete-At", at},
        /* the row is ours to remove: no async pending to remove it */
        {"X-Backend-Clean-Expiring-Object-Queue", "no"},
    };
    struct direct_place cp;
    const struct direct_delete_target dt = {
        .account = t->account,
        .container = t->container,
        .object = t->object,
        .policy = 0,
        .oring = oring,
        .cp = &cp,
        .txn = txn,
    };
    int status[MAX_REPLICAS];
    json_t *manifest = NULL;
    bool settled;
    size_t n;

    if (place_of(e, cring, t->account, t->container, NULL, &cp))
        return false;
    snprintf(at, sizeof(at), "%010lld.00000", (long long)t->delete_at);
    /* read before the DELETE: no replica serves the manifest after it.
     * Only the version that expires now (its X-Delete-At is the row's)
     * counts; a plain object answers a HEAD and nothing more. */
    if (direct_delete_get_manifest(&dd, &dt, t->delete_at, &manifest) ==
            -ENOMEM ||
        direct_delete_object(&dd, &dt, at, extra, 2, status, &n)) {
        json_decref(manifest);
        return false;
    }
    settled = expirer_row_settled(status, n, t->delete_at, e->c->reclaim_age,
                                  (int64_t)time(NULL));
    /* its parts only when no replica refused: a 409 or 412 says the
     * object was overwritten or its X-Delete-At changed, and the parts
     * may be the live object's */
    if (manifest && settled &&
        direct_delete_outcome(status, n) == DIRECT_DELETE_DONE)
        direct_delete_parts(&dd, &dt, cring, manifest);
    json_decref(manifest);
    return settled;
}

/* Removes 'row' from every replica of queue container 'cont'. */
static void pop_row(struct expirer *e, struct ring *cring, const char *cont,
                    const char *row, const char *txn)
{
    struct timestamp now;
    char ts[TIMESTAMP_INTERNAL_SIZE], *name = NULL, *qname;
    struct direct_place p;

    timestamp_now(&now);
    timestamp_internal(&now, ts);
    if (place_of(e, cring, e->account, cont, NULL, &p) ||
        asprintf(&name, "/%s/%s/%s", e->account, cont, row) < 0)
        return;
    qname = http_quote(name);
    if (qname) {
        const struct http_header h[] = {
            {"X-Timestamp", ts},
            {"X-Trans-Id", txn},
            {"X-Backend-Storage-Policy-Index", "0"},
        };

        delete_everywhere(e, &p, qname, h, 3);
    }
    free(qname);
    free(name);
}

/* Deletes the object of 'row' and removes the row once settled. Returns
 * whether it was. */
static bool expire_row(struct expirer *e, struct ring *cring,
                       struct ring *oring, const char *cont, const char *row)
{
    struct obj_expiring_task t;
    char txn[TXN_ID_LEN + 1];
    bool done;

    if (obj_expiring_task_parse(row, &t)) {
        log_err("unexpected row '%s' in queue container '%s'", row, cont);
        return false;
    }
    txn_id_new(txn);
    done = delete_object(e, cring, oring, &t, txn);
    if (done)
        pop_row(e, cring, cont, row, txn);
    else
        log_txn(LOG_INFO, txn, "'%s/%s/%s' not settled yet, retried next pass",
                t.account, t.container, t.object);
    obj_expiring_task_release(&t);
    return done;
}

/* ---- a page of rows, by 'concurrency' threads ---- */

struct batch {
    struct expirer *e;
    struct ring *cring, *oring;
    const char *cont;
    const char **rows;
    size_t n;
    atomic_size_t next;
    atomic_uint_fast64_t expired, errors;
};

static void *batch_worker(void *arg)
{
    struct batch *b = arg;
    size_t i;

    while ((i = atomic_fetch_add(&b->next, 1)) < b->n) {
        if (expire_row(b->e, b->cring, b->oring, b->cont, b->rows[i]))
            atomic_fetch_add(&b->expired, 1);
        else
            atomic_fetch_add(&b->errors, 1);
    }
    return NULL;
}

static void run_batch(struct batch *b, unsigned int concurrency)
{
    pthread_t th[MAX_CONCURRENCY];
    size_t n_th = 0;

    while (n_th + 1 < concurrency && n_th + 1 < b->n &&
           !pthread_create(&th[n_th], NULL, batch_worker, b))
        n_th++;
    batch_worker(b); /* this thread works too */
    for (size_t i = 0; i < n_th; i++)
        pthread_join(th[i], NULL);
}

/* Deletes the empty queue container 'cont' from every replica, each
 * telling its account replica (as the proxy shares them out), as Swift's
 * expirer does once a container has no rows left. A container that got a
 * row meanwhile answers 409 and stays. */
static void delete_queue_container(struct expirer *e, struct ring *cring,
                                   const char *cont)
{
    struct ring *aring = live_ring_get(e->account_ring);
    struct http_client_req reqs[MAX_REPLICAS];
    struct http_header hdrs[MAX_REPLICAS][6];
    char hosts[MAX_REPLICAS][300], apart[16];
    char *paths[MAX_REPLICAS], *name = NULL, *qname = NULL;
    int status[MAX_REPLICAS];
    struct timestamp now;
    char ts[TIMESTAMP_INTERNAL_SIZE];
    struct direct_place ap, cp;
    size_t n = 0;

    timestamp_now(&now);
    timestamp_internal(&now, ts);
    if (place_of(e, aring, e->account, NULL, NULL, &ap) ||
        place_of(e, cring, e->account, cont, NULL, &cp) ||
        asprintf(&name, "/%s/%s", e->account, cont) < 0 ||
        !(qname = http_quote(name)))
        goto out;
    snprintf(apart, sizeof(apart), "%u", ap.part);
    for (size_t i = 0; i < cp.n; i++) {
        const struct ring_dev *ad = ap.nodes[i % ap.n];
        struct http_header *h = hdrs[n];

        paths[n] = direct_delete_node_path(cp.nodes[i], cp.part, qname);
        if (!paths[n])
            continue;
        snprintf(hosts[n], sizeof(hosts[n]), "%s:%d", ad->ip, ad->port);
        h[0] = (struct http_header){"X-Timestamp", ts};
        h[1] = (struct http_header){"X-Account-Host", hosts[n]};
        h[2] = (struct http_header){"X-Account-Device", ad->device};
        h[3] = (struct http_header){"X-Account-Partition", apart};
        h[4] = (struct http_header){"X-Backend-Storage-Policy-Index", "0"};
        reqs[n] = (struct http_client_req){
            .host = cp.nodes[i]->ip,
            .port = (unsigned int)cp.nodes[i]->port,
            .method = "DELETE",
            .path = paths[n],
            .headers = h,
            .n_headers = 5,
        };
        n++;
    }
    run_all(e, reqs, n, status);
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
out:
    free(qname);
    free(name);
    ring_free(aring);
}

/* The leading time of a name ("1700000000" or "1700000000-a/c/o"), or
 * -1 when it has none. */
static int64_t name_time(const char *name)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(name, &end, 10);
    if (errno || end == name || (*end && *end != '-' && *end != '.'))
        return -1;
    return v;
}

/* Expires the due rows of queue container 'cont'; deletes it when it has
 * no rows at all. */
static void expire_container(struct expirer *e, const char *cont, int64_t now,
                             struct expirer_stats *st)
{
    struct ring *cring = live_ring_get(e->container_ring);
    struct ring *oring = live_ring_get(e->object_ring);
    char *marker = strdup(""), *name = NULL, *qname = NULL;
    bool first = true, more = true;
    struct direct_place p;

    if (!marker || asprintf(&name, "/%s/%s", e->account, cont) < 0 ||
        !(qname = http_quote(name)) ||
        place_of(e, cring, e->account, cont, NULL, &p))
        more = false;
    while (more) {
        struct batch b = {.e = e, .cring = cring, .oring = oring, .cont = cont};
        struct expirer_names page;
        const char **rows = NULL;

        if (list_page(e, &p, qname, marker, &page, &more) ||
            !(rows = calloc(page.n + 1, sizeof(*rows)))) {
            expirer_names_release(&page);
            st->errors++;
            break;
        }
        if (first && !page.n)
            delete_queue_container(e, cring, cont);
        first = false;
        for (size_t i = 0; i < page.n; i++) {
            if (name_time(page.v[i]) > now) {
                more = false; /* rows are in time order: the rest wait */
                break;
            }
            if (is_mine(e, cont, page.v[i]))
                rows[b.n++] = page.v[i];
        }
        b.rows = rows;
        run_batch(&b, e->c->concurrency);
        st->expired += b.expired;
        st->errors += b.errors;
        free(marker);
        marker = more ? strdup(page.v[page.n - 1]) : NULL;
        more = more && marker;
        free(rows);
        expirer_names_release(&page);
    }
    free(marker);
    free(qname);
    free(name);
    ring_free(cring);
    ring_free(oring);
}

/* ---- the pass ---- */

void expirer_pass(struct expirer *e, struct expirer_stats *out)
{
    struct expirer_stats st = {0};
    struct timespec t0, t1;
    struct ring *aring = live_ring_get(e->account_ring);
    char *marker = strdup(""), *qname = NULL, *name = NULL;
    char path[4096];
    bool more = true;
    struct direct_place p;
    json_t *patch;
    int64_t now = (int64_t)time(NULL);
    int err;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (!marker || asprintf(&name, "/%s", e->account) < 0 ||
        !(qname = http_quote(name)) ||
        place_of(e, aring, e->account, NULL, NULL, &p)) {
        st.errors++;
        more = false;
    }
    while (more) {
        struct expirer_names page;

        if (list_page(e, &p, qname, marker, &page, &more)) {
            log_err("cannot list the containers of '%s'", e->account);
            st.errors++;
            break;
        }
        for (size_t i = 0; i < page.n; i++) {
            const char *cont = page.v[i];

            if (name_time(cont) < 0)
                continue; /* not a queue container: not ours to touch */
            if (name_time(cont) > now) {
                more = false; /* names are times, in order */
                break;
            }
            expire_container(e, cont, now, &st);
        }
        free(marker);
        marker = more ? strdup(page.v[page.n - 1]) : NULL;
        more = more && marker;
        expirer_names_release(&page);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    st.elapsed = (double)(t1.tv_sec - t0.tv_sec) +
                 (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    log_info("Pass completed in %ds; %" PRIu64 " objects expired, %" PRIu64
             " errors",
             (int)st.elapsed, st.expired, st.errors);
    patch = json_pack("{s:f, s:I}", "object_expiration_pass", st.elapsed,
                      "expired_last_pass", (json_int_t)st.expired);
    err = recon_path(path, sizeof(path), e->c->recon_cache_path, "object");
    if (!err)
        err = patch ? recon_update(path, patch) : -ENOMEM;
    if (err)
        log_err("cannot write recon cache '%s': %s", path, strerror(-err));
    json_decref(patch);
    free(marker);
    free(qname);
    free(name);
    ring_free(aring);
    if (out)
        *out = st;
}

/* ---- life cycle ---- */

static int load_ring(const struct expirer_conf *c, const char *kind,
                     struct live_ring **out)
{
    char path[4096], err[RINGFILE_ERRLEN] = "";
    int rc;

    snprintf(path, sizeof(path), "%s/%s.ring.gz", c->swift_dir, kind);
    rc = live_ring_new(path, LIVE_RING_DEFAULT_RELOAD_TIME, out, err);
    if (rc)
        log_err("cannot load ring '%s': %s", path,
                err[0] ? err : strerror(-rc));
    return rc;
}

int expirer_new(const struct expirer_conf *c, const struct hash_path_conf *hc,
                struct expirer **out)
{
    struct expirer *e;
    struct http_client_conf hcc;
    int err;

    *out = NULL;
    if (c->processes && c->process >= c->processes) {
        log_err("process (%u) must be less than processes (%u)", c->process,
                c->processes);
        return -EINVAL;
    }
    e = calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    e->c = c;
    e->hc = hc;
    hcc = (struct http_client_conf){
        .conn_timeout_ms = (unsigned int)(c->conn_timeout * 1000),
        .node_timeout_ms = (unsigned int)(c->node_timeout * 1000),
    };
    err = load_ring(c, "account", &e->account_ring);
    if (!err)
        err = load_ring(c, "container", &e->container_ring);
    if (!err)
        err = load_ring(c, "object", &e->object_ring);
    if (!err &&
        asprintf(&e->account, ".%s", c->expiring_objects_account_name) < 0) {
        e->account = NULL;
        err = -ENOMEM;
    }
    if (!err)
        err = http_client_new(&hcc, &e->client);
    if (err) {
        expirer_free(e);
        return err;
    }
    *out = e;
    return 0;
}

void expirer_free(struct expirer *e)
{
    if (!e)
        return;
    http_client_free(e->client);
    live_ring_free(e->account_ring);
    live_ring_free(e->container_ring);
    live_ring_free(e->object_ring);
    free(e->account);
    free(e);
}
