/*
 * slo_delete.c - DELETE ?multipart-manifest=delete, as Swift 2.30's SLO
 * middleware serves it with its bulk deleter: the manifest is read, its
 * segments are deleted (a segment that is an SLO has its own segments
 * deleted first, then itself), then the manifest. Every read and delete
 * is a subrequest as the client, so each segment container's write ACL
 * decides. As bulk delete, the answer is 200 whatever happened, with the
 * counts, the final status and the failures in the body (text/plain,
 * JSON or XML as Accept asks); an object that is not an SLO is left
 * alone and reported as "Not an SLO manifest".
 */
#include "proxy/slo.h"

#include "common/http.h"
#include "proxy/obj_ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Bulk's max_failed_deletes: past it the rest is not tried. */
#define SLO_MAX_FAILED_DELETES 1000

/* What is left to delete, in Swift's order: a manifest is expanded into
 * its segments and goes back to the end of the queue behind them. */
struct item {
    char *name; /* "/container/object", decoded */
    bool sub_slo;
    unsigned int err; /* why it cannot be deleted: 0 none */
    const char *err_msg;
};

struct queue {
    struct item *v;
    size_t head, n, cap;
};

struct result {
    long long deleted, not_found;
    char **names;
    const char **statuses;
    char **owned; /* statuses allocated here */
    size_t n_failed, cap;
    unsigned int status; /* of the whole: 400 or 502 when some failed */
    const char *status_body;
};

static int push(struct queue *q, const char *name, bool sub_slo)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 64;
        struct item *g = realloc(q->v, cap * sizeof(*g));

        if (!g)
            return -ENOMEM;
        q->v = g;
        q->cap = cap;
    }
    memset(&q->v[q->n], 0, sizeof(q->v[q->n]));
    q->v[q->n].name = strdup(name);
    q->v[q->n].sub_slo = sub_slo;
    if (!q->v[q->n].name)
        return -ENOMEM;
    q->n++;
    return 0;
}

static void queue_release(struct queue *q)
{
    for (size_t i = q->head; i < q->n; i++)
        free(q->v[i].name);
    free(q->v);
}

static int fail(struct result *r, const char *name, const char *status,
                bool own)
{
    char *q = http_quote(name);

    if (r->n_failed == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        char **a = realloc(r->names, cap * sizeof(*a));
        const char **b = a ? realloc(r->statuses, cap * sizeof(*b)) : NULL;
        char **c = b ? realloc(r->owned, cap * sizeof(*c)) : NULL;

        if (a)
            r->names = a;
        if (b)
            r->statuses = b;
        if (!c) {
            free(q);
            return -ENOMEM;
        }
        r->owned = c;
        r->cap = cap;
    }
    if (!q)
        return -ENOMEM;
    r->names[r->n_failed] = q;
    r->owned[r->n_failed] = own ? (char *)status : NULL;
    r->statuses[r->n_failed++] = status;
    if (!r->status)
        r->status = 400;
    return 0;
}

static void result_release(struct result *r)
{
    for (size_t i = 0; i < r->n_failed; i++) {
        free(r->names[i]);
        free(r->owned[i]);
    }
    free(r->names);
    free(r->statuses);
    free(r->owned);
}

/* "/v1/<account>/<name without its leading '/'>", quoted. */
static char *object_path(struct preq *pr, const char *name)
{
    char *qa = http_quote(pr->account), *qn, *path = NULL;

    while (*name == '/')
        name++;
    qn = http_quote(name);
    if (!qa || !qn || asprintf(&path, "/v1/%s/%s", qa, qn) < 0)
        path = NULL;
    free(qa);
    free(qn);
    return path;
}

static bool any_manifest(const struct subreq_resp *head)
{
    return head->status / 100 == 2 &&
           obj_header_true(hlist_get(&head->headers, "X-Static-Large-Object"));
}

int slo_manifest_get(struct preq *pr, const char *path,
                     bool (*want)(const struct subreq_resp *head),
                     struct subreq_resp *out)
{
    int rc;

    /* a HEAD first: a plain object is not read for nothing */
    rc = subreq_run(pr, "HEAD", path, "multipart-manifest=get", NULL, 0, NULL,
                    0, out);
    if (rc || !(want ? want : any_manifest)(out))
        return rc;
    subreq_resp_release(out);
    return subreq_run(pr, "GET", path, "multipart-manifest=get", NULL, 0, NULL,
                      0, out);
}

/* get_slo_segments(): the manifest 'it' names, its segments queued, or
 * it->err and it->err_msg set as Swift words them. */
static int expand(struct preq *pr, struct item *it, struct queue *q)
{
    struct subreq_resp sr;
    char *path = object_path(pr, it->name);
    json_t *doc, *row;
    size_t i;
    int rc;

    if (!path)
        return -ENOMEM;
    rc = slo_manifest_get(pr, path, NULL, &sr);
    free(path);
    if (rc)
        return rc;
    if (sr.status / 100 == 2 &&
        !obj_header_true(hlist_get(&sr.headers, "X-Static-Large-Object"))) {
        it->err = 400;
        it->err_msg = "Not an SLO manifest";
    } else if (sr.status == 404) {
        it->err = 404;
        it->err_msg = "SLO manifest not found";
    } else if (sr.status == 401) {
        it->err = 401;
        it->err_msg = "401 Unauthorized";
    } else if (sr.status / 100 != 2) {
        it->err = 500;
        it->err_msg = "Unable to load SLO manifest or segment.";
    }
    if (it->err) {
        subreq_resp_release(&sr);
        return 0;
    }
    doc = json_loadb(sr.body ? sr.body : "", sr.body_len, 0, NULL);
    subreq_resp_release(&sr);
    if (!json_is_array(doc)) {
        json_decref(doc);
        it->err = 500;
        it->err_msg = "Unable to load SLO manifest";
        return 0;
    }
    rc = 0;
    json_array_foreach(doc, i, row)
    {
        const char *name = json_string_value(json_object_get(row, "name"));
        json_t *sub = json_object_get(row, "sub_slo");

        if (rc || !name || json_object_get(row, "data"))
            continue; /* inline data has nothing to delete */
        rc = push(q, name,
                  json_is_true(sub) ||
                      (json_is_string(sub) &&
                       obj_header_true(json_string_value(sub))));
    }
    json_decref(doc);
    return rc;
}

static int delete_one(struct preq *pr, const char *name, struct result *r)
{
    struct subreq_resp sr;
    char *path = object_path(pr, name), *status = NULL;
    int rc;

    if (!path)
        return -ENOMEM;
    rc = subreq_run(pr, "DELETE", path, NULL, NULL, 0, NULL, 0, &sr);
    free(path);
    if (rc)
        return rc;
    if (sr.status / 100 == 2) {
        r->deleted++;
    } else if (sr.status == 404) {
        r->not_found++;
    } else {
        if (sr.status / 100 == 5)
            r->status = 502; /* bulk's HTTPBadGateway */
        if (asprintf(&status, "%u %s", sr.status, http_reason(sr.status)) < 0)
            status = NULL;
        rc = status ? fail(r, name, status, true) : -ENOMEM;
        if (rc)
            free(status);
        else
            req_log(pr->req, LOG_INFO, "SLO delete of %s: %u", name, sr.status);
    }
    subreq_resp_release(&sr);
    return rc;
}

/* The queue worked through; 1 with r->status_body set when bulk stops
 * (too many segments buffered, too many failures). */
static int run(struct preq *pr, struct queue *q, struct result *r)
{
    int rc = 0;

    while (!rc && q->head < q->n) {
        struct item it;

        if (q->n - q->head > (size_t)SLO_MAX_MANIFEST_SEGMENTS * 10) {
            r->status = 400;
            r->status_body = "Too many buffered slo segments to delete.";
            return 1;
        }
        it = q->v[q->head++];
        if (it.sub_slo) {
            rc = expand(pr, &it, q);
            /* the manifest goes after its segments */
            if (!rc)
                rc = push(q, it.name, false);
            if (!rc && it.err) {
                q->v[q->n - 1].err = it.err;
                q->v[q->n - 1].err_msg = it.err_msg;
            }
            free(it.name);
            continue;
        }
        if (it.err == 404)
            r->not_found++;
        else if (it.err)
            rc = fail(r, it.name, it.err_msg, false);
        else
            rc = delete_one(pr, it.name, r);
        free(it.name);
        if (!rc && r->n_failed >= SLO_MAX_FAILED_DELETES) {
            r->status = 400;
            r->status_body = "Max delete failures exceeded";
            return 1;
        }
    }
    return rc;
}

static int respond(struct preq *pr, const char *fmt, struct result *r)
{
    static const char *const keys[] = {"Response Status", "Response Body",
                                       "Number Deleted", "Number Not Found"};
    char status[64], *body = NULL;
    const json_t *values[4];
    json_t *v[4];
    size_t len = 0;
    int rc = 0;

    if (!r->status && !r->deleted && !r->not_found) {
        r->status = 400;
        r->status_body = "Invalid bulk delete.";
    }
    snprintf(status, sizeof(status), "%u %s", r->status ? r->status : 200,
             http_reason(r->status ? r->status : 200));
    v[0] = json_string(status);
    v[1] = json_string(r->status_body ? r->status_body : "");
    v[2] = json_integer(r->deleted);
    v[3] = json_integer(r->not_found);
    for (size_t i = 0; i < 4; i++) {
        values[i] = v[i];
        if (!v[i])
            rc = -ENOMEM;
    }
    if (!rc)
        rc = slo_bulk_body(fmt, keys, values, 4, (const char *const *)r->names,
                           r->statuses, r->n_failed, "delete", &body, &len);
    for (size_t i = 0; i < 4; i++)
        json_decref(v[i]);
    if (!rc)
        rc = preq_add_txn_headers(pr);
    if (!rc)
        rc = req_add_header(pr->req, "Content-Type",
                            fmt ? fmt : "text/html; charset=UTF-8");
    if (!rc)
        rc = req_respond(pr->req, 200, body, len);
    free(body);
    return rc;
}

int slo_delete(struct preq *pr)
{
    const char *fmt = slo_accept_format(req_header(pr->req, "Accept"));
    struct queue q = {0};
    struct result r = {0};
    char *name = NULL;
    char page[HTTP_ERROR_BODY_MAX];
    int rc = 0;

    if (!fmt) {
        /* bulk answers in its own body that it cannot */
        http_error_body(406, page);
        r.status = 406;
        r.status_body = page;
    } else if (asprintf(&name, "/%s/%s", pr->container, pr->object) < 0) {
        return -ENOMEM;
    } else {
        rc = push(&q, name, true);
        free(name);
        if (!rc)
            rc = run(pr, &q, &r);
    }
    if (rc >= 0)
        rc = respond(pr, fmt, &r);
    queue_release(&q);
    result_release(&r);
    return rc;
}
