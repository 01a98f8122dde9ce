/*
 * direct_delete.c - an object's DELETE sent straight to its object
 * servers, the outcome of their answers, and an S3 multipart object's
 * manifest read and parts deleted (direct_delete.h). When an object is
 * due, which timestamp its DELETE carries and what is done with the
 * outcome are the callers' (kura-expirer, the lifecycle pass).
 *
 * Invariant: a part is deleted only when it is named by the manifest of
 * an S3 multipart object and lies under that object's own
 * "<bucket>+segments/<key>/", and only by a caller whose DELETE of that
 * manifest was DONE; segments of manifests made through the Swift API
 * are never touched.
 */
#include "storage/direct_delete.h"

#include "common/conf.h"
#include "common/http.h"
#include "common/log.h"
#include "common/timestamp.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a manifest of 10,000 parts at ~200 bytes of JSON each, with room */
#define MANIFEST_MAX_BYTES (4u << 20)
/* X-Timestamp, X-Trans-Id, policy, three container headers */
#define OWN_HEADERS 6
#define MAX_EXTRA 4

int direct_delete_place(const struct hash_path_conf *hc,
                        const struct ring *ring, const char *a, const char *c,
                        const char *o, struct direct_place *p)
{
    unsigned char digest[16];
    int err = hash_path(hc, a, c, o, digest);

    if (err)
        return err;
    p->part = ring_get_part(ring, digest);
    p->n = ring_get_part_nodes(ring, p->part, p->nodes,
                               DIRECT_DELETE_MAX_REPLICAS);
    return p->n ? 0 : -ENOENT;
}

char *direct_delete_node_path(const struct ring_dev *d, uint32_t part,
                              const char *qname)
{
    char *qdev = http_quote(d->device), *path = NULL;

    if (qdev && asprintf(&path, "/%s/%" PRIu32 "%s", qdev, part, qname) < 0)
        path = NULL;
    free(qdev);
    return path;
}

void direct_delete_container_headers(const struct direct_place *cp, size_t i,
                                     size_t n_obj, char *hosts, char *devs,
                                     size_t cap)
{
    size_t hl = 0, dl = 0;

    hosts[0] = devs[0] = '\0';
    for (size_t j = i; n_obj && j < cp->n; j += n_obj) {
        const struct ring_dev *d = cp->nodes[j];
        int a = snprintf(hosts + hl, cap - hl, "%s%s:%d", hl ? "," : "", d->ip,
                         d->port);
        int b = snprintf(devs + dl, cap - dl, "%s%s", dl ? "," : "", d->device);

        if (a < 0 || b < 0 || (size_t)a >= cap - hl || (size_t)b >= cap - dl) {
            /* a replica that does not fit: none of it, not half */
            hosts[hl] = devs[dl] = '\0';
            break;
        }
        hl += (size_t)a;
        dl += (size_t)b;
    }
}

/* "/a/c[/o]" quoted, malloc()ed, or NULL. */
static char *quoted_name(const char *a, const char *c, const char *o)
{
    char *name = NULL, *q;

    if ((o ? asprintf(&name, "/%s/%s/%s", a, c, o)
           : asprintf(&name, "/%s/%s", a, c)) < 0)
        return NULL;
    q = http_quote(name);
    free(name);
    return q;
}

/* Whether the object servers' answer is one the callers expect: deleted,
 * gone already, or kept (a newer version, another X-Delete-At). */
static bool expected(int s)
{
    return (s >= 200 && s < 300) || s == 404 || s == 409 || s == 412;
}

int direct_delete_object(const struct direct_delete *dd,
                         const struct direct_delete_target *t, const char *ts,
                         const struct http_header *extra, size_t n_extra,
                         int status[DIRECT_DELETE_MAX_REPLICAS], size_t *n)
{
    enum { H_TS, H_TXN, H_POLICY, H_CHOST, H_CDEV, H_CPART };
    struct http_client_req reqs[DIRECT_DELETE_MAX_REPLICAS];
    struct http_client_call *calls[DIRECT_DELETE_MAX_REPLICAS];
    struct http_header hdrs[DIRECT_DELETE_MAX_REPLICAS]
                           [OWN_HEADERS + MAX_EXTRA];
    char hosts[DIRECT_DELETE_MAX_REPLICAS][512];
    char devs[DIRECT_DELETE_MAX_REPLICAS][512];
    char *paths[DIRECT_DELETE_MAX_REPLICAS] = {0};
    int errs[DIRECT_DELETE_MAX_REPLICAS];
    size_t slot[DIRECT_DELETE_MAX_REPLICAS]; /* request k is primary slot[k] */
    char cpart[16], spolicy[16], *qname;
    struct direct_place op;
    size_t k = 0;
    int err;

    *n = 0;
    if (n_extra > MAX_EXTRA)
        return -EINVAL;
    err = direct_delete_place(dd->hc, t->oring, t->account, t->container,
                              t->object, &op);
    if (err)
        return err;
    qname = quoted_name(t->account, t->container, t->object);
    if (!qname)
        return -ENOMEM;
    snprintf(cpart, sizeof(cpart), "%" PRIu32, t->cp->part);
    snprintf(spolicy, sizeof(spolicy), "%" PRIu32, t->policy);
    for (size_t i = 0; i < op.n; i++) {
        struct http_header *h = hdrs[k];
        size_t nh;

        /* a replica whose path could not be made counts as not answering */
        status[i] = -ENOMEM;
        paths[k] = direct_delete_node_path(op.nodes[i], op.part, qname);
        if (!paths[k])
            continue;
        direct_delete_container_headers(t->cp, i, op.n, hosts[k], devs[k],
                                        sizeof(hosts[k]));
        h[H_TS] = (struct http_header){"X-Timestamp", ts};
        h[H_TXN] = (struct http_header){"X-Trans-Id", t->txn};
        h[H_POLICY] =
            (struct http_header){"X-Backend-Storage-Policy-Index", spolicy};
        nh = H_CHOST;
        if (hosts[k][0]) {
            h[H_CHOST] = (struct http_header){"X-Container-Host", hosts[k]};
            h[H_CDEV] = (struct http_header){"X-Container-Device", devs[k]};
            h[H_CPART] = (struct http_header){"X-Container-Partition", cpart};
            nh = OWN_HEADERS;
        }
        for (size_t x = 0; x < n_extra; x++)
            h[nh++] = extra[x];
        reqs[k] = (struct http_client_req){
            .host = op.nodes[i]->ip,
            .port = (unsigned int)op.nodes[i]->port,
            .method = "DELETE",
            .path = paths[k],
            .headers = h,
            .n_headers = nh,
        };
        slot[k++] = i;
    }
    http_client_start_multi(dd->client, reqs, k, calls, errs);
    for (size_t j = 0; j < k; j++) {
        int s = calls[j] ? http_client_response(calls[j]) : errs[j];
        const void *data;
        size_t len;

        while (s > 0 && !http_client_read(calls[j], &data, &len) && len)
            ;
        http_client_end(calls[j]);
        if (!expected(s))
            log_txn(LOG_WARNING, t->txn, "DELETE %s:%u%s: %s", reqs[j].host,
                    reqs[j].port, paths[j],
                    s < 0 ? strerror(-s) : http_reason((unsigned int)s));
        status[slot[j]] = s;
        free(paths[j]);
    }
    free(qname);
    *n = op.n;
    return 0;
}

enum direct_delete_outcome direct_delete_outcome(const int *status, size_t n)
{
    size_t done = 0;

    for (size_t i = 0; i < n; i++) {
        if (status[i] == 409 || status[i] == 412)
            return DIRECT_DELETE_REFUSED;
        if ((status[i] >= 200 && status[i] < 300) || status[i] == 404)
            done++;
    }
    return n && done >= n / 2 + 1 ? DIRECT_DELETE_DONE : DIRECT_DELETE_FAILED;
}

bool direct_delete_is_s3_multipart(const char *static_large_object,
                                   const char *s3api_etag)
{
    bool slo = false;

    return static_large_object && !conf_parse_bool(static_large_object, &slo) &&
           slo && s3api_etag && *s3api_etag;
}

/* Whether the headers of 'call' are those of the version meant: any with
 * 'delete_at' 0, else the one whose X-Delete-At is it. */
static bool is_version(struct http_client_call *call, int64_t delete_at)
{
    const char *v = http_client_header(call, "X-Delete-At");
    struct timestamp have;

    if (!delete_at)
        return true;
    return v && !timestamp_parse(v, &have) &&
           have.ticks == (uint64_t)delete_at * TIMESTAMP_TICKS_PER_SEC &&
           !have.offset;
}

static bool is_s3_multipart(struct http_client_call *call)
{
    return direct_delete_is_s3_multipart(
        http_client_header(call, "X-Static-Large-Object"),
        http_client_header(call, "X-Object-Sysmeta-S3api-Etag"));
}

/* One primary's answer for the manifest: 1 with *out set (a JSON array,
 * or NULL: not an S3 multipart object), 0 when this primary has not the
 * version (or answered nothing usable), -ENOMEM. */
static int manifest_from(const struct direct_delete *dd,
                         const struct direct_delete_target *t,
                         const struct ring_dev *d, const char *path,
                         int64_t delete_at, json_t **out)
{
    char spolicy[16];
    const struct http_header h[] = {
        {"X-Trans-Id", t->txn},
        {"X-Backend-Storage-Policy-Index", spolicy},
        /* a version past its X-Delete-At answers too (open_expired) */
        {"X-Backend-Replication", "true"},
    };
    struct http_client_req req = {
        .host = d->ip,
        .port = (unsigned int)d->port,
        .method = "HEAD",
        .path = path,
        .headers = h,
        .n_headers = sizeof(h) / sizeof(h[0]),
    };
    struct http_client_call *call = NULL;
    char *body = NULL;
    size_t len;
    int rc = 0;

    *out = NULL;
    snprintf(spolicy, sizeof(spolicy), "%" PRIu32, t->policy);
    /* a HEAD first: reading a plain object to find out would cost its
     * size */
    if (http_client_request(dd->client, &req, &call) != 200 ||
        !is_version(call, delete_at))
        goto out;
    if (!is_s3_multipart(call)) {
        rc = 1;
        goto out;
    }
    http_client_end(call);
    call = NULL;
    req.method = "GET";
    /* the same checks again: the version may have changed since */
    if (http_client_request(dd->client, &req, &call) != 200 ||
        !is_version(call, delete_at) || !is_s3_multipart(call))
        goto out;
    rc = http_client_read_all(call, MANIFEST_MAX_BYTES, &body, &len);
    if (rc) {
        rc = rc == -ENOMEM ? rc : 0;
        goto out;
    }
    *out = json_loadb(body, len, 0, NULL);
    if (!json_is_array(*out)) {
        log_txn(LOG_WARNING, t->txn,
                "%s:%d%s: the manifest is not a JSON array", d->ip, d->port,
                path);
        json_decref(*out);
        *out = NULL;
        goto out;
    }
    rc = 1;
out:
    http_client_end(call);
    free(body);
    return rc;
}

int direct_delete_get_manifest(const struct direct_delete *dd,
                               const struct direct_delete_target *t,
                               int64_t delete_at, json_t **out)
{
    struct direct_place op;
    char *qname;
    int rc = 0;

    *out = NULL;
    if (direct_delete_place(dd->hc, t->oring, t->account, t->container,
                            t->object, &op))
        return -ENOENT;
    qname = quoted_name(t->account, t->container, t->object);
    if (!qname)
        return -ENOMEM;
    for (size_t i = 0; !rc && i < op.n; i++) {
        char *path = direct_delete_node_path(op.nodes[i], op.part, qname);

        rc = path ? manifest_from(dd, t, op.nodes[i], path, delete_at, out)
                  : -ENOMEM;
        free(path);
    }
    free(qname);
    return rc > 0 ? 0 : rc ? rc : -ENOENT;
}

const char *direct_delete_part_name(const char *container, const char *object,
                                    const char *name)
{
    size_t cl = strlen(container), sl = strlen(DIRECT_DELETE_SEGMENTS_SUFFIX);
    size_t ol = strlen(object);
    const char *p = name;

    /* "/<container>+segments/<object>/<upload id>/<N>" */
    if (*p++ != '/' || strncmp(p, container, cl))
        return NULL;
    p += cl;
    if (strncmp(p, DIRECT_DELETE_SEGMENTS_SUFFIX, sl) || p[sl] != '/')
        return NULL;
    p += sl + 1;
    if (strncmp(p, object, ol) || p[ol] != '/' || !p[ol + 1])
        return NULL;
    return p; /* "<object>/<upload id>/<N>" */
}

void direct_delete_parts(const struct direct_delete *dd,
                         const struct direct_delete_target *t,
                         const struct ring *cring, json_t *manifest)
{
    char ts[TIMESTAMP_INTERNAL_SIZE], *segs = NULL;
    struct direct_delete_target part = *t;
    struct timestamp now;
    struct direct_place cp;
    size_t i;
    json_t *row;

    timestamp_now(&now);
    timestamp_internal(&now, ts);
    if (asprintf(&segs, "%s%s", t->container, DIRECT_DELETE_SEGMENTS_SUFFIX) <
        0) {
        log_txn(LOG_WARNING, t->txn,
                "out of memory: the parts of '/%s/%s/%s' "
                "stay",
                t->account, t->container, t->object);
        return;
    }
    if (direct_delete_place(dd->hc, cring, t->account, segs, NULL, &cp)) {
        log_txn(LOG_WARNING, t->txn, "cannot place '/%s/%s': its parts stay",
                t->account, segs);
        free(segs);
        return;
    }
    part.container = segs;
    part.cp = &cp;
    json_array_foreach(manifest, i, row)
    {
        const char *name = json_string_value(json_object_get(row, "name"));
        int status[DIRECT_DELETE_MAX_REPLICAS];
        size_t n;

        if (!name || !(part.object = direct_delete_part_name(t->container,
                                                             t->object, name)))
            continue;
        if (direct_delete_object(dd, &part, ts, NULL, 0, status, &n) ||
            direct_delete_outcome(status, n) == DIRECT_DELETE_FAILED)
            log_txn(LOG_WARNING, t->txn,
                    "cannot delete part '%s' of '/%s/%s/%s'", name, t->account,
                    t->container, t->object);
    }
    free(segs);
}
