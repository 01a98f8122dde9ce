/*
 * slo.c - reading static large objects, as Swift's SLO middleware serves
 * them: an object stored with "X-Static-Large-Object: True" holds a
 * manifest (Swift's stored form, a JSON list of {"name": "/<container>/
 * <object>", "bytes", "hash"[, "range"]}) and a GET of it answers the
 * segments' bytes one after another. What a GET or HEAD gives:
 *   - Content-Length: the sum of the segments; Etag: the MD5 of their
 *     hashes, quoted (Swift's SLO etag); the manifest's other headers.
 *   - If-Match / If-None-Match against that Etag (412 / 304).
 *   - One byte range (206, or 416); several ranges are served whole
 *     (RFC 9110 lets a server ignore Range).
 *   - Each segment is read with If-Match on its hash, so a segment that
 *     changed under the manifest ends the body short instead of sending
 *     other bytes. Segments are read with the reader's rights: the read
 *     ACL of every segment container is checked before the first byte.
 *   - A segment that is an SLO itself ("sub_slo") is replaced by its own
 *     segments, its manifest read as the reader; inline "data" segments
 *     are served from the manifest.
 * ?multipart-manifest=get returns the manifest itself (obj_ctl.c).
 * Manifests are written by the Swift API's ?multipart-manifest=put
 * (slo_put.c) and the S3 API's CompleteMultipartUpload (s3_multipart.c);
 * ?multipart-manifest=delete is slo_delete.c's.
 */
#include "proxy/obj_ctl.h"

#include "common/http.h"
#include "common/log.h"
#include "proxy/slo.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct slo_seg {
    char *container, *object; /* decoded; NULL for inline data */
    uint64_t start, len;      /* the bytes of the segment object used */
    char hash[33];
    bool sub_slo;        /* the segment is an SLO itself */
    unsigned char *data; /* inline data (base64 in the manifest), whole */
};

struct slo_stream {
    struct proxy *p;
    char txn[TXN_ID_LEN * 2 + 1];
    char *account;
    struct slo_seg *segs;
    size_t n_segs;
    /* what is left to send: from segment 'cur' at 'off' (relative to its
     * start), 'left' bytes in all */
    size_t cur;
    uint64_t off, left;
    struct http_client_call *call; /* the segment being read */
    uint64_t call_left;            /* of that segment's range */
    const char *data;
    size_t data_left;
};

static void segs_free(struct slo_seg *segs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(segs[i].container);
        free(segs[i].object);
        free(segs[i].data);
    }
    free(segs);
}

static void stream_free(void *arg)
{
    struct slo_stream *s = arg;

    http_client_end(s->call);
    segs_free(s->segs, s->n_segs);
    free(s->account);
    free(s);
}

/* "/<container>/<object>" (decoded, as Swift stores it) into a segment. */
static int parse_name(const char *name, struct slo_seg *seg)
{
    const char *slash;

    if (name[0] != '/' || !(slash = strchr(name + 1, '/')) ||
        slash == name + 1 || !slash[1])
        return -EINVAL;
    seg->container = strndup(name + 1, (size_t)(slash - name - 1));
    seg->object = strdup(slash + 1);
    return seg->container && seg->object ? 0 : -ENOMEM;
}

/* An inline data segment: its bytes, and their MD5 in the SLO etag. */
static int data_segment(const json_t *v, struct slo_seg *seg, EVP_MD_CTX *md5)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    size_t len;

    if (!json_is_string(v) ||
        slo_b64decode(json_string_value(v), &seg->data, &len) || !len)
        return -EINVAL;
    seg->start = 0;
    seg->len = len;
    EVP_Digest(seg->data, len, md, &mdlen, EVP_md5(), NULL);
    for (unsigned int k = 0; k < 16; k++)
        snprintf(seg->hash + 2 * k, 3, "%02x", md[k]);
    EVP_DigestUpdate(md5, seg->hash, 32);
    return 0;
}

/* A sub-SLO row of an older manifest may carry its size in its content
 * type's swift_bytes (Swift's override_bytes_from_content_type()). */
static void sub_slo_bytes(json_t *row, json_t **bytes)
{
    const char *ct = json_string_value(json_object_get(row, "content_type"));
    const char *sb = ct ? strstr(ct, ";swift_bytes=") : NULL;
    char *end;
    long long v;

    if (!sb)
        return;
    v = strtoll(sb + 13, &end, 10);
    if (end != sb + 13 && v >= 0 &&
        !json_object_set_new(row, "bytes", json_integer(v)))
        *bytes = json_object_get(row, "bytes");
}

/* Swift's stored manifest into segments; the total size and the SLO etag
 * (MD5 of the segments' hashes, with "range" as Swift mixes it in). */
static int parse_manifest(const char *body, size_t len, struct slo_seg **out,
                          size_t *n_out, uint64_t *total, char etag[33])
{
    json_t *doc = json_loadb(body, len, 0, NULL), *row;
    EVP_MD_CTX *md5 = EVP_MD_CTX_new();
    struct slo_seg *segs = NULL;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    size_t i, n = 0;
    int rc = 0;

    *total = 0;
    if (!md5)
        rc = -ENOMEM;
    else if (!json_is_array(doc))
        rc = -EINVAL;
    else if (json_array_size(doc) &&
             !(segs = calloc(json_array_size(doc), sizeof(*segs))))
        rc = -ENOMEM;
    if (!rc)
        EVP_DigestInit_ex(md5, EVP_md5(), NULL);
    json_array_foreach(doc, i, row)
    {
        json_t *name = json_object_get(row, "name");
        json_t *bytes = json_object_get(row, "bytes");
        json_t *hash = json_object_get(row, "hash");
        json_t *range = json_object_get(row, "range");
        struct slo_seg *seg = &segs[n];
        json_int_t b;

        if (rc)
            break;
        if (json_object_get(row, "data")) {
            rc = data_segment(json_object_get(row, "data"), seg, md5);
            n++;
            if (rc)
                break;
            *total += seg->len;
            continue;
        }
        if (json_is_true(json_object_get(row, "sub_slo")))
            sub_slo_bytes(row, &bytes);
        if (!json_is_string(name) || !json_is_integer(bytes) ||
            !json_is_string(hash) || (b = json_integer_value(bytes)) < 0 ||
            strlen(json_string_value(hash)) != 32) {
            rc = -EINVAL;
            break;
        }
        rc = parse_name(json_string_value(name), seg);
        n++;
        if (rc)
            break;
        snprintf(seg->hash, sizeof(seg->hash), "%s", json_string_value(hash));
        seg->sub_slo = json_is_true(json_object_get(row, "sub_slo"));
        seg->start = 0;
        seg->len = (uint64_t)b;
        EVP_DigestUpdate(md5, seg->hash, 32);
        if (json_is_string(range)) {
            unsigned long long a, z;
            char tail;
            const char *r = json_string_value(range);

            if (sscanf(r, "%llu-%llu%c", &a, &z, &tail) != 2 || z < a ||
                z >= (unsigned long long)b) {
                rc = -EINVAL;
                break;
            }
            seg->start = a;
            seg->len = z - a + 1;
            EVP_DigestUpdate(md5, ":", 1);
            EVP_DigestUpdate(md5, r, strlen(r));
            EVP_DigestUpdate(md5, ";", 1);
        }
        *total += seg->len;
    }
    if (!rc) {
        EVP_DigestFinal_ex(md5, md, &mdlen);
        for (unsigned int k = 0; k < 16; k++)
            snprintf(etag + 2 * k, 3, "%02x", md[k]);
        *out = segs;
        *n_out = n;
    } else {
        segs_free(segs, n);
    }
    EVP_MD_CTX_free(md5);
    json_decref(doc);
    return rc;
}

/* Opens the GET of segment 'seg' for bytes [from, from + len) of what
 * the manifest uses of it, on the first node that serves it. */
static int open_segment(struct slo_stream *s, const struct slo_seg *seg,
                        uint64_t from, uint64_t len)
{
    struct hlist h = {0};
    struct nodes n;
    char *tail = backend_tail(s->account, seg->container, seg->object);
    char range[64];
    const struct ring_dev *d;
    int rc = -EIO;

    snprintf(range, sizeof(range), "bytes=%llu-%llu",
             (unsigned long long)(seg->start + from),
             (unsigned long long)(seg->start + from + len - 1));
    if (!tail || hlist_add(&h, "X-Trans-Id", s->txn) ||
        hlist_add(&h, "Range", range) || hlist_add(&h, "If-Match", seg->hash) ||
        nodes_init(s->p, s->p->object_ring, s->account, seg->container,
                   seg->object, &n)) {
        free(tail);
        hlist_release(&h);
        return -ENOMEM;
    }
    while ((d = nodes_next(s->p, &n))) {
        struct http_client_req r = {0};
        char *path = backend_path(d, n.part, tail);
        int st;

        if (!path) {
            rc = -ENOMEM;
            break;
        }
        r.host = d->ip;
        r.port = (unsigned int)d->port;
        r.method = "GET";
        r.path = path;
        r.headers = h.v;
        r.n_headers = h.n;
        r.conn_timeout_ms = (unsigned int)(s->p->conf->conn_timeout * 1000);
        r.node_timeout_ms = (unsigned int)(s->p->conf->node_timeout * 1000);
        st = http_client_request(s->p->client, &r, &s->call);
        free(path);
        if (st == 206 || st == 200) {
            rc = 0;
            break;
        }
        http_client_end(s->call);
        s->call = NULL;
        if (st == 412) {
            log_txn(LOG_ERR, s->txn,
                    "SLO segment /%s/%s/%s does not match "
                    "its manifest's etag %s",
                    s->account, seg->container, seg->object, seg->hash);
            break;
        }
    }
    nodes_release(&n);
    hlist_release(&h);
    free(tail);
    if (rc == -EIO && !s->call)
        log_txn(LOG_ERR, s->txn, "SLO segment /%s/%s/%s: no node serves it",
                s->account, seg->container, seg->object);
    return rc;
}

static ssize_t stream_read(void *arg, uint64_t pos, char *buf, size_t max)
{
    struct slo_stream *s = arg;

    (void)pos;
    while (!s->data_left) {
        const void *data;
        size_t len;
        int rc;

        if (!s->left)
            return 0;
        if (!s->call) {
            const struct slo_seg *seg = &s->segs[s->cur];
            uint64_t want = seg->len - s->off;

            if (!want) { /* an empty segment */
                s->cur++;
                s->off = 0;
                continue;
            }

            if (want > s->left)
                want = s->left;
            if (seg->data) { /* inline: all of it at once */
                s->data = (const char *)seg->data + seg->start + s->off;
                s->data_left = want;
                s->cur++;
                s->off = 0;
                break;
            }
            rc = open_segment(s, seg, s->off, want);
            if (rc)
                return rc;
            s->call_left = want;
        }
        rc = http_client_read(s->call, &data, &len);
        if (rc)
            return rc;
        if (!len || len > s->call_left) {
            /* the segment ended early, or sent more than its range */
            if (len || s->call_left)
                return -EIO;
            http_client_end(s->call);
            s->call = NULL;
            s->cur++;
            s->off = 0;
            continue;
        }
        s->call_left -= len;
        s->data = data;
        s->data_left = len;
    }
    if (max > s->data_left)
        max = s->data_left;
    memcpy(buf, s->data, max);
    s->data += max;
    s->data_left -= max;
    s->left -= max;
    if (!s->data_left && !s->call_left && s->call) {
        http_client_end(s->call);
        s->call = NULL;
        s->cur++;
        s->off = 0;
    }
    return (ssize_t)max;
}

/* One "bytes=a-b", "a-" or "-n" range over 'size' bytes. 1 with
 * [*from, *from + *len), 0 to serve the whole object (no Range, several
 * ranges, or one Swift ignores), -1 unsatisfiable. */
static int one_range(const char *h, uint64_t size, uint64_t *from,
                     uint64_t *len)
{
    unsigned long long a, z;
    char tail, *end;

    if (!h || strncasecmp(h, "bytes=", 6) || strchr(h, ','))
        return 0;
    h += 6;
    if (sscanf(h, "-%llu%c", &z, &tail) == 1) {
        if (!z)
            return -1;
        *len = z < size ? z : size;
        *from = size - *len;
        return size ? 1 : -1;
    }
    if (!isdigit((unsigned char)*h))
        return 0;
    a = strtoull(h, &end, 10);
    if (*end != '-')
        return 0;
    if (!end[1]) /* "a-": to the end */
        z = size ? size - 1 : 0;
    else if (sscanf(end + 1, "%llu%c", &z, &tail) != 1 ||
             !isdigit((unsigned char)end[1]) || z < a)
        return 0;
    if (a >= size)
        return -1;
    if (z >= size)
        z = size - 1;
    *from = a;
    *len = z - a + 1;
    return 1;
}

static bool etag_listed(const char *list, const char *etag)
{
    char tok[128];
    size_t k;

    while (list && *list) {
        while (*list == ' ' || *list == ',')
            list++;
        k = strcspn(list, ",");
        snprintf(tok, sizeof(tok), "%.*s", (int)k, list);
        for (char *e = tok + strlen(tok); e > tok && e[-1] == ' ';)
            *--e = '\0';
        if (!strcmp(tok, "*"))
            return true;
        {
            const char *t = tok[0] == '"' ? tok + 1 : tok;

            if (!strncmp(t, etag, 32) &&
                (t[32] == '\0' || (t[32] == '"' && !t[33])))
                return true;
        }
        list += k;
    }
    return false;
}

/* The reader may read every segment container. 0 yes, 1 answered. */
static int authorize_segments(struct preq *pr, const struct slo_seg *segs,
                              size_t n)
{
    char *own = pr->container;
    int rc = 0;

    for (size_t i = 0; !rc && i < n; i++) {
        struct info ci;
        bool seen = false;

        if (!segs[i].container) /* inline data */
            continue;
        for (size_t k = 0; k < i && !seen; k++)
            seen = segs[k].container &&
                   !strcmp(segs[k].container, segs[i].container);
        if (seen || !strcmp(segs[i].container, own))
            continue;
        pr->container = segs[i].container;
        rc = obj_container(pr, &ci);
        if (!rc)
            rc = obj_authorize(pr, &ci, false);
        info_release(&ci);
    }
    pr->container = own;
    return rc;
}

/* The manifest's headers a reader gets: metadata and content headers,
 * not its own length and etag. */
static bool header_kept(const char *name)
{
    return strcasecmp(name, "Content-Length") && strcasecmp(name, "Etag") &&
           strcasecmp(name, "Content-Range") &&
           strcasecmp(name, "Accept-Ranges") &&
           strcasecmp(name, "X-Trans-Id") &&
           strcasecmp(name, "X-Openstack-Request-Id") &&
           strcasecmp(name, "Date") && strcasecmp(name, "Connection") &&
           strcasecmp(name, "Transfer-Encoding");
}

/* The manifest of a/c/o, fetched whole (?multipart-manifest=get, as the
 * request's user), parsed (with 'flat', its sub-SLOs replaced by their
 * segments), and its segment containers authorized. 0 with
 * *sr (the manifest's answer, to release), the segments, the total and
 * the SLO etag; 1 when answered; -errno. */
static int fetch(struct preq *pr, const char *a, const char *c, const char *o,
                 struct subreq_resp *sr)
{
    return slo_subreq(pr, "GET", a, c, o, "multipart-manifest=get", NULL, 0,
                      NULL, 0, sr);
}

int slo_subreq(struct preq *pr, const char *method, const char *a,
               const char *c, const char *o, const char *query,
               const struct http_header *h, size_t n_h, const void *body,
               size_t len, struct subreq_resp *out)
{
    char *tail = backend_tail(a, c, o), *path = NULL;
    int rc;

    if (!tail || asprintf(&path, "/v1%s", tail) < 0)
        path = NULL;
    free(tail);
    if (!path)
        return -ENOMEM;
    rc = subreq_run(pr, method, path, query, h, n_h, body, len, out);
    free(path);
    return rc;
}

/* Segments a GET may expand sub-SLOs into, all levels counted: each
 * sub-manifest is read before the first byte, so a manifest naming one
 * sub-SLO many times, itself naming one many times, must stop somewhere
 * (Swift reads them one at a time as it streams). */
#define SLO_MAX_FLAT_SEGMENTS 100000

static int append_seg(struct slo_seg **v, size_t *n, size_t *cap,
                      struct slo_seg *seg, size_t *budget)
{
    if (!*budget)
        return -E2BIG;
    --*budget;
    if (*n == *cap) {
        size_t grown = *cap ? *cap * 2 : 16;
        struct slo_seg *g = realloc(*v, grown * sizeof(*g));

        if (!g)
            return -ENOMEM;
        *v = g;
        *cap = grown;
    }
    (*v)[(*n)++] = *seg;
    memset(seg, 0, sizeof(*seg)); /* the list owns it now */
    return 0;
}

static int flatten(struct preq *pr, const char *a, struct slo_seg *segs,
                   size_t n, int depth, size_t *budget, struct slo_seg **out,
                   size_t *n_out);

/* The segments of sub-SLO 'seg' (its manifest read as the user), cut to
 * the bytes of it 'seg' uses, appended to the list. */
static int expand_sub(struct preq *pr, const char *a, const struct slo_seg *seg,
                      int depth, size_t *budget, struct slo_seg **v, size_t *n,
                      size_t *cap)
{
    struct subreq_resp sr;
    struct slo_seg *sub = NULL, *flat = NULL;
    size_t n_sub = 0, n_flat = 0;
    uint64_t total, pos = 0, from = seg->start, to = seg->start + seg->len;
    char etag[33];
    int rc;

    if (depth >= SLO_MAX_RECURSION_DEPTH)
        return -ELOOP;
    rc = fetch(pr, a, seg->container, seg->object, &sr);
    if (rc)
        return rc;
    if (sr.status != 200 || !hlist_get(&sr.headers, "X-Static-Large-Object"))
        rc = -EIO;
    else
        rc = parse_manifest(sr.body ? sr.body : "", sr.body_len, &sub, &n_sub,
                            &total, etag);
    subreq_resp_release(&sr);
    if (!rc)
        rc = flatten(pr, a, sub, n_sub, depth + 1, budget, &flat, &n_flat);
    for (size_t i = 0; !rc && i < n_flat; i++) {
        struct slo_seg *f = &flat[i];
        uint64_t end = pos + f->len;

        if (end > from && pos < to) {
            uint64_t cut = from > pos ? from - pos : 0;

            f->start += cut;
            f->len = (to < end ? to : end) - pos - cut;
            rc = append_seg(v, n, cap, f, budget);
        }
        pos = end;
    }
    segs_free(flat, n_flat);
    return rc;
}

/* 'segs' (taken) with every sub-SLO replaced by its segments: the list a
 * GET streams. */
static int flatten(struct preq *pr, const char *a, struct slo_seg *segs,
                   size_t n, int depth, size_t *budget, struct slo_seg **out,
                   size_t *n_out)
{
    struct slo_seg *v = NULL;
    size_t nv = 0, cap = 0;
    int rc = 0;

    for (size_t i = 0; !rc && i < n; i++)
        rc = segs[i].sub_slo
                 ? expand_sub(pr, a, &segs[i], depth, budget, &v, &nv, &cap)
                 : append_seg(&v, &nv, &cap, &segs[i], budget);
    segs_free(segs, n);
    if (rc) {
        segs_free(v, nv);
        v = NULL;
        nv = 0;
    }
    *out = v;
    *n_out = nv;
    return rc;
}

static int load(struct preq *pr, const char *a, const char *c, const char *o,
                bool flat, struct subreq_resp *sr, struct slo_seg **segs,
                size_t *n, uint64_t *total, char etag[33])
{
    int rc = fetch(pr, a, c, o, sr);

    if (rc)
        return rc;
    if (sr->status != 200) {
        unsigned int st = sr->status;

        subreq_resp_release(sr);
        return preq_error(pr, st == 404 ? 404 : 503) < 0 ? -ENOMEM : 1;
    }
    rc = parse_manifest(sr->body ? sr->body : "", sr->body_len, segs, n, total,
                        etag);
    if (rc == -EINVAL) {
        req_log(pr->req, LOG_ERR, "SLO manifest /%s/%s/%s is not valid", a, c,
                o);
        subreq_resp_release(sr);
        return preq_error(pr, 500) < 0 ? -ENOMEM : 1;
    }
    if (!rc && flat) {
        size_t budget = SLO_MAX_FLAT_SEGMENTS;

        rc = flatten(pr, a, *segs, *n, 0, &budget, segs, n);
        if (rc && rc != -ENOMEM) {
            /* Swift's answer when the first segment cannot be had */
            req_log(pr->req, LOG_ERR,
                    "SLO /%s/%s/%s: a sub-SLO cannot be read: %s", a, c, o,
                    strerror(-rc));
            subreq_resp_release(sr);
            return preq_error(pr, 409) < 0 ? -ENOMEM : 1;
        }
    }
    if (!rc) {
        char *own = pr->container;

        pr->container = (char *)c;
        rc = authorize_segments(pr, *segs, *n);
        pr->container = own;
        if (rc)
            segs_free(*segs, *n);
    }
    if (rc) {
        subreq_resp_release(sr);
        return rc < 0 ? rc : 1;
    }
    return 0;
}

static struct slo_stream *stream_new(struct preq *pr, const char *account,
                                     struct slo_seg *segs, size_t n,
                                     uint64_t from, uint64_t len)
{
    struct slo_stream *s = calloc(1, sizeof(*s));

    if (!s || !(s->account = strdup(account))) {
        free(s);
        segs_free(segs, n);
        return NULL;
    }
    s->p = pr->p;
    snprintf(s->txn, sizeof(s->txn), "%s", req_txn(pr->req));
    s->segs = segs;
    s->n_segs = n;
    s->left = len;
    /* find the segment holding byte 'from' */
    while (s->cur < n && from >= segs[s->cur].len) {
        from -= segs[s->cur].len;
        s->cur++;
    }
    s->off = from;
    return s;
}

int slo_open(struct preq *pr, const char *a, const char *c, const char *o,
             struct slo_stream **out, uint64_t *size)
{
    struct subreq_resp sr;
    struct slo_seg *segs = NULL;
    char etag[33];
    size_t n = 0;
    uint64_t total = 0, from = 0;
    int rc = load(pr, a, c, o, true, &sr, &segs, &n, &total, etag), range;

    *out = NULL;
    if (rc)
        return rc;
    subreq_resp_release(&sr);
    /* a copy of a range of the object (Swift's copy middleware) */
    range = one_range(req_header(pr->req, "Range"), total, &from, size);
    if (range < 0) {
        segs_free(segs, n);
        return preq_error(pr, 416) < 0 ? -ENOMEM : 1;
    }
    if (!range) {
        from = 0;
        *size = total;
    }
    *out = stream_new(pr, a, segs, n, from, *size);
    return *out ? 0 : -ENOMEM;
}

ssize_t slo_stream_read(struct slo_stream *s, char *buf, size_t max)
{
    return stream_read(s, 0, buf, max);
}

void slo_stream_free(struct slo_stream *s)
{
    if (s)
        stream_free(s);
}

int slo_respond(struct preq *pr)
{
    struct subreq_resp sr;
    struct slo_seg *segs = NULL;
    struct slo_stream *s;
    char etag[33], quoted[40], cr[96];
    uint64_t total = 0, from = 0, len = 0;
    size_t n = 0;
    unsigned int status = 200;
    const char *im, *inm;
    int rc, range;

    rc =
        load(pr, pr->account, pr->container, pr->object,
             !strcmp(req_method(pr->req), "GET"), &sr, &segs, &n, &total, etag);
    if (rc)
        return rc < 0 ? rc : 0;
    snprintf(quoted, sizeof(quoted), "\"%s\"", etag);
    im = req_header(pr->req, "If-Match");
    inm = req_header(pr->req, "If-None-Match");
    if (im && !etag_listed(im, etag))
        status = 412;
    else if (inm && etag_listed(inm, etag))
        status = 304;
    range = status == 200
                ? one_range(req_header(pr->req, "Range"), total, &from, &len)
                : 0;
    if (status == 200 && pr->part_number) {
        /* the S3 API's partNumber: one segment, as a range of the whole */
        range = pr->part_number <= n ? 1 : -1;
        from = 0;
        for (size_t i = 0; range > 0 && i + 1 < pr->part_number; i++)
            from += segs[i].len;
        if (range > 0)
            len = segs[pr->part_number - 1].len;
    }
    if (range < 0)
        status = 416;
    else if (range > 0)
        status = 206;
    rc = preq_add_txn_headers(pr);
    if (!rc && pr->part_number) {
        snprintf(cr, sizeof(cr), "%zu", n);
        rc = req_add_header(pr->req, "X-Parts-Count", cr);
    }
    for (size_t i = 0; !rc && i < sr.headers.n; i++) {
        const char *name = sr.headers.v[i].name, *v = sr.headers.v[i].value;

        if (!header_kept(name))
            continue;
        /* the S3 API's own etag of a multipart upload, for it alone */
        if (!strncasecmp(name, "X-Object-Sysmeta-", 17) &&
            !(pr->s3 && !strcasecmp(name, "X-Object-Sysmeta-S3api-Etag")))
            continue;
        /* what the manifest's subrequest saw that a client may not */
        if (!strncasecmp(name, "X-Object-Transient-Sysmeta-", 27) &&
            !req_origin(pr->req))
            continue;
        if (!strcasecmp(name, "Content-Type")) {
            /* a stored ";swift_bytes=" is the listing's, not the reader's */
            const char *sb = strstr(v, ";swift_bytes=");
            char ct[512];

            snprintf(ct, sizeof(ct), "%.*s",
                     (int)(sb ? (size_t)(sb - v) : strlen(v)), v);
            rc = req_add_header(pr->req, name, ct);
        } else {
            rc = req_add_header(pr->req, name, *v ? v : " ");
        }
        if (rc == -EINVAL)
            rc = 0;
    }
    if (!rc)
        rc = req_add_header(pr->req, "Etag", quoted);
    if (!rc)
        rc = req_add_header(pr->req, "Accept-Ranges", "bytes");
    subreq_resp_release(&sr);
    if (!rc && status == 206) {
        snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu",
                 (unsigned long long)from, (unsigned long long)(from + len - 1),
                 (unsigned long long)total);
        rc = req_add_header(pr->req, "Content-Range", cr);
    } else if (!rc && status == 416) {
        snprintf(cr, sizeof(cr), "bytes */%llu", (unsigned long long)total);
        rc = req_add_header(pr->req, "Content-Range", cr);
    }
    if (rc || status == 304 || status == 412 || status == 416) {
        segs_free(segs, n);
        if (rc)
            return rc;
        if (status == 416)
            return req_respond_error(pr->req, 416);
        return req_respond(pr->req, status, "", 0);
    }
    if (status == 200) {
        from = 0;
        len = total;
    }
    s = stream_new(pr, pr->account, segs, n, from, len);
    if (!s)
        return -ENOMEM;
    return req_respond_stream(pr->req, status, len, stream_read, s,
                              stream_free);
}
