/*
 * slo_put.c - PUT ?multipart-manifest=put, as Swift 2.30's SLO middleware
 * serves it: the client's manifest (a JSON list of {"path", "etag",
 * "size_bytes", "range"} or {"data": base64}) is checked entry by entry,
 * every object segment is HEADed as the client (so its ACLs apply, and a
 * segment that is an SLO answers with its own size and SLO etag), and
 * the manifest is stored in Swift's form with the marks a reader needs:
 *   X-Static-Large-Object: True, X-Object-Sysmeta-Slo-Etag/-Size,
 *   Content-Type ";swift_bytes=<total>" (the container row's size) and
 *   X-Object-Sysmeta-Container-Update-Override-Etag "<md5>; slo_etag=<e>"
 * through a subrequest of the proxy's own, which only the proxy may send
 * those headers in. Nothing is written unless every check passes.
 * Not served: heartbeat=on (the answer comes when the checks are done).
 */
#include "proxy/slo.h"

#include "common/http.h"
#include "proxy/mimetypes.h"
#include "proxy/obj_ctl.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* What the HEAD of a segment said. */
struct head {
    unsigned int status;
    uint64_t length;
    char *etag, *ctype, *last_modified; /* NULL: absent */
    bool slo;
};

/* One entry of the client's manifest. */
struct entry {
    bool data;
    unsigned char *raw; /* data segments: the decoded bytes */
    size_t raw_len;
    const char *path; /* borrowed from the parsed document */
    const char *etag; /* NULL: not checked */
    bool has_size;
    long long size;
    bool has_range;
    long long first, last; /* -1: "-N" (last = N) or "M-" */
    struct head *head;     /* shared by entries of one path */
    bool own_head;
};

struct problems {
    char **names, **statuses;
    size_t n, cap;
};

static int problem_add(struct problems *p, const char *path, const char *why)
{
    char *q, *w;

    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        char **a = realloc(p->names, cap * sizeof(*a));
        char **b = a ? realloc(p->statuses, cap * sizeof(*b)) : NULL;

        if (a)
            p->names = a;
        if (!b)
            return -ENOMEM;
        p->statuses = b;
        p->cap = cap;
    }
    q = http_quote(path);
    w = strdup(why);
    if (!q || !w) {
        free(q);
        free(w);
        return -ENOMEM;
    }
    p->names[p->n] = q;
    p->statuses[p->n++] = w;
    return 0;
}

static void problems_release(struct problems *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->names[i]);
        free(p->statuses[i]);
    }
    free(p->names);
    free(p->statuses);
}

static void head_free(struct head *h)
{
    if (!h)
        return;
    free(h->etag);
    free(h->ctype);
    free(h->last_modified);
    free(h);
}

static void entries_free(struct entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(e[i].raw);
        if (e[i].own_head)
            head_free(e[i].head);
    }
    free(e);
}

/* ---- the client's manifest ---- */

/* Python's int() of a size_bytes value: an integer, a real (truncated),
 * a boolean or a string of digits. */
static bool py_int(const json_t *v, long long *out)
{
    const char *s, *end;
    char *e;

    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    if (json_is_real(v)) {
        *out = (long long)json_real_value(v);
        return true;
    }
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return true;
    }
    if (!json_is_string(v))
        return false;
    s = json_string_value(v);
    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        end--;
    if (end == s)
        return false;
    for (const char *c = *s == '+' || *s == '-' ? s + 1 : s; c < end; c++)
        if (!isdigit((unsigned char)*c))
            return false;
    errno = 0;
    *out = strtoll(s, &e, 10);
    return !errno && e == end;
}

/* swob.Range of "bytes=<r>" (spaces dropped): 0 one range, 1 several,
 * -1 invalid. */
static int parse_range(const char *r, long long *first, long long *last)
{
    char buf[128];
    size_t k = 0;
    int count = 0;

    for (; *r && k + 1 < sizeof(buf); r++)
        if (*r != ' ')
            buf[k++] = *r;
    buf[k] = '\0';
    if (*r || !*buf)
        return -1;
    for (char *save = NULL, *spec = strtok_r(buf, ",", &save);; spec = NULL) {
        char *one = spec ? spec : strtok_r(NULL, ",", &save), *dash, *e;
        long long a = -1, z = -1;

        if (!one)
            break;
        dash = strchr(one, '-');
        if (!dash)
            return -1;
        *dash = '\0';
        if (*one) {
            errno = 0;
            a = strtoll(one, &e, 10);
            if (*e || errno || a < 0 || !isdigit((unsigned char)e[-1]))
                return -1;
        }
        if (dash[1]) {
            for (e = dash + 1; *e; e++)
                if (!isdigit((unsigned char)*e))
                    return -1;
            errno = 0;
            z = strtoll(dash + 1, NULL, 10);
            if (errno || (a >= 0 && z < a))
                return -1;
        } else if (a < 0) {
            return -1;
        }
        if (!count++) {
            *first = a;
            *last = z;
        }
    }
    if (!count)
        return -1;
    return count > 1;
}

/* swob's ranges_for_length() of one range: false when unsatisfiable,
 * else [*from, *to] (inclusive). */
static bool range_for_length(long long first, long long last,
                             unsigned long long length,
                             unsigned long long *from, unsigned long long *to)
{
    if (!length)
        return false;
    if (first < 0) { /* the last 'last' bytes */
        if (!last)
            return false;
        *from = (unsigned long long)last > length
                    ? 0
                    : length - (unsigned long long)last;
        *to = length - 1;
        return true;
    }
    if ((unsigned long long)first >= length)
        return false;
    *from = (unsigned long long)first;
    *to = last < 0 || (unsigned long long)last >= length
              ? length - 1
              : (unsigned long long)last;
    return true;
}

static int err_line(FILE *f, size_t i, const char *what)
{
    return fprintf(f, "Index %zu: %s\n", i, what) < 0 ? -ENOMEM : 0;
}

/* The checks of parse_and_validate_input() on entry i of n; a line in
 * 'f' for each problem. */
static int check_entry(struct preq *pr, const json_t *row, size_t i, size_t n,
                       struct entry *e, FILE *f)
{
    const char *key;
    json_t *v;
    char *extra = NULL;
    size_t elen = 0;
    FILE *ef;
    bool any = false;

    if (!json_is_object(row))
        return err_line(f, i, "not a JSON object");
    e->data = json_object_get(row, "data") != NULL;
    if (!e->data && !json_object_get(row, "path"))
        return err_line(f, i,
                        "expected keys to include one of 'data' or 'path'");
    /* the keys each kind may have, the others listed sorted */
    ef = open_memstream(&extra, &elen);
    if (!ef)
        return -ENOMEM;
    {
        const char *keys[64];
        size_t nk = 0;

        json_object_foreach((json_t *)row, key, v)
        {
            bool ok = e->data ? !strcmp(key, "data")
                              : !strcmp(key, "path") || !strcmp(key, "etag") ||
                                    !strcmp(key, "size_bytes") ||
                                    !strcmp(key, "range");

            if (!ok && nk < 64)
                keys[nk++] = key;
        }
        for (size_t a = 1; a < nk; a++)
            for (size_t b = a; b > 0 && strcmp(keys[b - 1], keys[b]) > 0; b--) {
                const char *t = keys[b];

                keys[b] = keys[b - 1];
                keys[b - 1] = t;
            }
        for (size_t k = 0; k < nk; k++) {
            json_t *s = json_string(keys[k]);
            char *q = NULL;
            size_t ql;

            if (s && !slo_json_dump(s, false, &q, &ql))
                fprintf(ef, "%s%s", k ? ", " : "", q);
            free(q);
            json_decref(s);
            any = true;
        }
    }
    if (fclose(ef)) {
        free(extra);
        return -ENOMEM;
    }
    if (any) {
        int rc = fprintf(f, "Index %zu: extraneous keys %s\n", i, extra) < 0
                     ? -ENOMEM
                     : 0;

        free(extra);
        return rc;
    }
    free(extra);
    if (e->data) {
        v = json_object_get(row, "data");
        if (!json_is_string(v) ||
            slo_b64decode(json_string_value(v), &e->raw, &e->raw_len))
            return err_line(f, i, "data must be valid base64");
        if (!e->raw_len)
            return err_line(f, i,
                            "too small; each segment must be at least 1 byte.");
        return 0;
    }
    v = json_object_get(row, "path");
    if (!json_is_string(v))
        return err_line(f, i, "\"path\" must be a string");
    e->path = json_string_value(v);
    v = json_object_get(row, "etag");
    if (v && !json_is_null(v) && !json_is_string(v))
        return err_line(f, i,
                        "\"etag\" must be a string or null (if provided)");
    e->etag = json_string_value(v);
    {
        const char *p = e->path, *end = p + strlen(p);

        while (*p == '/')
            p++;
        while (end > p && end[-1] == '/')
            end--;
        if (!memchr(p, '/', (size_t)(end - p)))
            return err_line(f, i,
                            "path does not refer to an object. Path must be "
                            "of the form /container/object.");
    }
    v = json_object_get(row, "size_bytes");
    if (v && !json_is_null(v)) {
        if (!py_int(v, &e->size))
            return err_line(f, i, "invalid size_bytes");
        e->has_size = true;
        if (e->size < 1 && i != n - 1)
            return err_line(f, i,
                            "too small; each segment must be at least 1 byte.");
    }
    {
        const char *p = e->path;
        size_t cl = strlen(pr->container);

        while (*p == '/')
            p++;
        if (!strncmp(p, pr->container, cl) && p[cl] == '/' &&
            !strcmp(p + cl + 1, pr->object))
            return err_line(f, i,
                            "manifest must not include itself as a segment");
    }
    v = json_object_get(row, "range");
    /* Python's truthiness: "", 0, null, [] and {} mean no range */
    if (v && !json_is_null(v) && !json_is_false(v) &&
        !(json_is_string(v) && !json_string_length(v)) &&
        !(json_is_integer(v) && !json_integer_value(v)) &&
        !(json_is_array(v) && !json_array_size(v)) &&
        !(json_is_object(v) && !json_object_size(v))) {
        int r = json_is_string(v)
                    ? parse_range(json_string_value(v), &e->first, &e->last)
                    : -1;
        unsigned long long a, z;

        if (r < 0)
            return err_line(f, i, "invalid range");
        if (r > 0)
            return err_line(f, i, "multiple ranges (only one allowed)");
        e->has_range = true;
        if (e->has_size &&
            (e->size < 0 ||
             !range_for_length(e->first, e->last, (unsigned long long)e->size,
                               &a, &z)))
            return err_line(f, i, "unsatisfiable range");
    }
    return 0;
}

/* The client's manifest into entries; 1 after answering 400 or 413. */
static int parse_input(struct preq *pr, const char *body, size_t len,
                       json_t **doc_out, struct entry **out, size_t *n_out)
{
    json_t *doc = json_loadb(body, len, JSON_DECODE_ANY, NULL), *row;
    struct entry *e = NULL;
    char *errs = NULL;
    size_t elen = 0, n, i, objects = 0;
    bool all_data = true;
    FILE *f;
    int rc = 0;

    *doc_out = NULL;
    if (!doc)
        return preq_html(pr, 400, "Manifest must be valid JSON.\n") < 0
                   ? -ENOMEM
                   : 1;
    if (!json_is_array(doc)) {
        json_decref(doc);
        return preq_html(pr, 400, "Manifest must be a list.\n") < 0 ? -ENOMEM
                                                                    : 1;
    }
    n = json_array_size(doc);
    e = calloc(n ? n : 1, sizeof(*e));
    f = e ? open_memstream(&errs, &elen) : NULL;
    if (!f) {
        free(e);
        json_decref(doc);
        return -ENOMEM;
    }
    json_array_foreach(doc, i, row)
    {
        if (!rc)
            rc = check_entry(pr, row, i, n, &e[i], f);
        if (!(json_is_object(row) && json_object_get(row, "data")))
            all_data = false;
        if (json_is_object(row) && !json_object_get(row, "data") &&
            json_object_get(row, "path"))
            objects++;
    }
    if (!rc && n && all_data)
        fputs("Inline data segments require at least one object-backed "
              "segment.\n",
              f);
    if (fclose(f))
        rc = -ENOMEM;
    if (!rc && elen)
        rc = preq_text(pr, 400, errs) < 0 ? -ENOMEM : 1;
    else if (!rc && objects > SLO_MAX_MANIFEST_SEGMENTS) {
        char msg[96];

        snprintf(msg, sizeof(msg),
                 "Number of object-backed segments must be <= %d",
                 SLO_MAX_MANIFEST_SEGMENTS);
        rc = preq_html(pr, 413, msg) < 0 ? -ENOMEM : 1;
    }
    free(errs);
    if (rc) {
        entries_free(e, n);
        json_decref(doc);
        return rc;
    }
    *doc_out = doc;
    *out = e;
    *n_out = n;
    return 0;
}

/* ---- the segments ---- */

static int head_segment(struct preq *pr, const char *path, struct head **out)
{
    struct subreq_resp sr;
    struct head *h = calloc(1, sizeof(*h));
    char *q = NULL, *full = NULL;
    const char *v;
    int rc;

    *out = NULL;
    while (*path == '/')
        path++;
    {
        char *qa = http_quote(pr->account);

        q = http_quote(path);
        if (!h || !qa || !q || asprintf(&full, "/v1/%s/%s", qa, q) < 0)
            full = NULL;
        free(qa);
        free(q);
    }
    if (!full) {
        free(h);
        return -ENOMEM;
    }
    rc = subreq_run(pr, "HEAD", full, NULL, NULL, 0, NULL, 0, &sr);
    free(full);
    if (rc) {
        free(h);
        return rc;
    }
    h->status = sr.status;
    if ((v = hlist_get(&sr.headers, "Content-Length")))
        h->length = strtoull(v, NULL, 10);
    if ((v = hlist_get(&sr.headers, "Etag"))) {
        /* swob's etag: the header without its quotes */
        size_t k = 0;

        h->etag = malloc(strlen(v) + 1);
        for (; h->etag && *v; v++)
            if (*v != '"')
                h->etag[k++] = *v;
        if (h->etag)
            h->etag[k] = '\0';
    }
    if ((v = hlist_get(&sr.headers, "Content-Type")))
        h->ctype = strndup(v, strcspn(v, ";"));
    if ((v = hlist_get(&sr.headers, "Last-Modified"))) {
        struct tm tm = {0};
        char iso[40];
        const char *end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);

        if (end && !*end &&
            strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S.000000", &tm))
            h->last_modified = strdup(iso);
    }
    if ((v = hlist_get(&sr.headers, "X-Static-Large-Object")))
        h->slo = !strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
                 !strcasecmp(v, "on") || !strcasecmp(v, "1") ||
                 !strcasecmp(v, "t") || !strcasecmp(v, "y");
    subreq_resp_release(&sr);
    if (!h->last_modified) { /* as Swift, now when there is none */
        time_t now = time(NULL);
        struct tm tm;
        char iso[40];

        gmtime_r(&now, &tm);
        strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S.000000", &tm);
        h->last_modified = strdup(iso);
    }
    *out = h;
    return 0;
}

/* HEADs each path once, in the order the manifest names them. */
static int head_all(struct preq *pr, struct entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t j;
        int rc;

        if (e[i].data)
            continue;
        for (j = 0; j < i; j++)
            if (!e[j].data && !strcmp(e[j].path, e[i].path))
                break;
        if (j < i) {
            e[i].head = e[j].head;
            continue;
        }
        rc = head_segment(pr, e[i].path, &e[i].head);
        if (rc)
            return rc;
        e[i].own_head = true;
    }
    return 0;
}

/* validate_seg_dict(): entry i against its HEAD, its stored row in *row
 * and the bytes it adds in *used. */
static int validate(struct entry *e, bool last, struct problems *p,
                    json_t **row, uint64_t *used)
{
    const struct head *h = e->head;
    char status[64], range[64] = "", *name = NULL;
    uint64_t length = h->length;
    int rc = 0;

    *row = NULL;
    *used = 0;
    if (h->status / 100 != 2) {
        snprintf(status, sizeof(status), "%u %s", h->status,
                 http_reason(h->status));
        return problem_add(p, e->path, status);
    }
    if (e->has_range) {
        unsigned long long a, z;

        if (!range_for_length(e->first, e->last, h->length, &a, &z))
            rc = problem_add(p, e->path, "Unsatisfiable Range");
        else if (a == 0 && z + 1 == h->length)
            e->has_range = false; /* the whole object: no range */
        else {
            snprintf(range, sizeof(range), "%llu-%llu", a, z);
            length = z - a + 1;
        }
    }
    if (!rc && length < 1 && !last)
        rc = problem_add(p, e->path,
                         "Too small; each segment must be at least 1 byte.");
    if (!rc && e->has_size && (e->size < 0 || (uint64_t)e->size != h->length))
        rc = problem_add(p, e->path, "Size Mismatch");
    if (!rc && e->etag && (!h->etag || strcmp(e->etag, h->etag)))
        rc = problem_add(p, e->path, "Etag Mismatch");
    if (rc)
        return rc;
    while (*e->path == '/')
        e->path++;
    if (asprintf(&name, "/%s", e->path) < 0)
        return -ENOMEM;
    *row = json_object();
    if (!*row || json_object_set_new(*row, "name", json_string(name)) ||
        json_object_set_new(*row, "bytes",
                            json_integer((json_int_t)h->length)) ||
        json_object_set_new(*row, "hash",
                            h->etag ? json_string(h->etag) : json_null()) ||
        json_object_set_new(*row, "content_type",
                            h->ctype ? json_string(h->ctype) : json_null()) ||
        json_object_set_new(*row, "last_modified",
                            json_string(h->last_modified)) ||
        (*range && json_object_set_new(*row, "range", json_string(range))) ||
        (h->slo && json_object_set_new(*row, "sub_slo", json_true())))
        rc = -ENOMEM;
    free(name);
    *used = length;
    return rc;
}

/* ---- the answer ---- */

static int respond_problems(struct preq *pr, const struct problems *p)
{
    const char *fmt = slo_accept_format(req_header(pr->req, "Accept"));
    char *body = NULL, ct[64];
    size_t len = 0;
    int rc;

    if (!fmt)
        fmt = "text/plain";
    rc = slo_bulk_body(fmt, NULL, NULL, 0, (const char *const *)p->names,
                       (const char *const *)p->statuses, p->n, "upload", &body,
                       &len);
    if (!rc)
        rc = preq_add_txn_headers(pr);
    snprintf(ct, sizeof(ct), "%s", fmt);
    if (!rc)
        rc = req_add_header(pr->req, "Content-Type", ct);
    if (!rc)
        rc = req_respond(pr->req, 400, body, len);
    free(body);
    return rc;
}

/* The client's headers the manifest object takes: all but those of the
 * transfer, the ones set here and what only the proxy may set (the
 * subrequest could). */
static bool meta_kept(const char *name)
{
    static const char *const dropped[] = {
        "host",
        "content-length",
        "transfer-encoding",
        "expect",
        "connection",
        "etag",
        "content-type",
        "x-auth-token",
        "x-storage-token",
        "x-copy-from",
        "x-copy-from-account",
        "x-static-large-object",
        "x-detect-content-type",
        "authorization",
        "destination",
        "destination-account",
        "x-fresh-metadata",
        /* a copy's conditions and range were about its source */
        "range",
        "if-match",
        "if-modified-since",
        "if-unmodified-since",
        NULL,
    };

    for (size_t i = 0; dropped[i]; i++)
        if (!strcasecmp(name, dropped[i]))
            return false;
    return strncasecmp(name, "x-object-sysmeta-", 17) &&
           strncasecmp(name, "x-object-transient-sysmeta-", 27) &&
           strncasecmp(name, "x-backend-", 10);
}

static int add_meta(const char *name, const char *value, void *arg)
{
    return meta_kept(name) ? hlist_add(arg, name, value) : 0;
}

/* The manifest object's headers: the caller's (or the client's), the
 * Content-Type with the total, and the SLO's marks. */
static int manifest_headers(struct preq *pr, const struct hlist *meta,
                            const char *slo_etag, uint64_t total,
                            const char *json_md5, struct hlist *h)
{
    const char *ct;
    char buf[600];
    int rc = 0;

    if (meta) {
        for (size_t i = 0; !rc && i < meta->n; i++)
            if (meta_kept(meta->v[i].name) ||
                !strcasecmp(meta->v[i].name, "Content-Type"))
                rc = hlist_add(h, meta->v[i].name, meta->v[i].value);
        ct = hlist_get(meta, "Content-Type");
    } else {
        rc = req_foreach_header(pr->req, add_meta, h);
        ct = req_header(pr->req, "Content-Type");
        if (obj_header_true(req_header(pr->req, "X-Detect-Content-Type")))
            ct = NULL;
    }
    if (!ct || !*ct)
        ct = mimetype_guess(pr->object);
    snprintf(buf, sizeof(buf), "%.500s;swift_bytes=%llu", ct,
             (unsigned long long)total);
    if (!rc)
        rc = hlist_set(h, "Content-Type", buf);
    if (!rc)
        rc = hlist_set(h, "X-Static-Large-Object", "True");
    if (!rc)
        rc = hlist_set(h, "X-Object-Sysmeta-Slo-Etag", slo_etag);
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)total);
    if (!rc)
        rc = hlist_set(h, "X-Object-Sysmeta-Slo-Size", buf);
    /* the container row lists the SLO's etag beside the manifest's */
    snprintf(buf, sizeof(buf), "%s; slo_etag=%s", json_md5, slo_etag);
    if (!rc)
        rc = hlist_set(h, "X-Object-Sysmeta-Container-Update-Override-Etag",
                       buf);
    return rc;
}

static void md5_hex(const void *data, size_t len, char out[33])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    EVP_Digest(data, len, md, &mdlen, EVP_md5(), NULL);
    for (unsigned int k = 0; k < 16; k++)
        snprintf(out + 2 * k, 3, "%02x", md[k]);
}

/* Swift's normalize_etag(): the client's Etag without its quotes. */
static bool etag_differs(const char *v, const char *etag)
{
    size_t n;

    if (!v || !*v)
        return false;
    n = strlen(v);
    if (v[0] == '"' && n >= 2 && v[n - 1] == '"') {
        v++;
        n -= 2;
    }
    return n != strlen(etag) || strncmp(v, etag, n);
}

/* Stores the manifest and answers with what the store answered, the SLO
 * etag in place of the manifest's. */
static int store(struct preq *pr, const char *json, size_t len,
                 const struct hlist *h, const char *slo_etag,
                 const struct hlist *reply)
{
    struct subreq_resp sr;
    struct bresp r = {0};
    char quoted[40];
    int rc = slo_subreq(pr, "PUT", pr->account, pr->container, pr->object, NULL,
                        h->v, h->n, json, len, &sr);

    if (rc)
        return rc;
    if (sr.status / 100 == 2) {
        snprintf(quoted, sizeof(quoted), "\"%s\"", slo_etag);
        rc = hlist_set(&sr.headers, "Etag", quoted);
        for (size_t i = 0; !rc && reply && i < reply->n; i++)
            rc = hlist_add(&sr.headers, reply->v[i].name, reply->v[i].value);
    } else {
        req_log(pr->req, LOG_INFO, "SLO manifest PUT /%s/%s/%s: %u",
                pr->account, pr->container, pr->object, sr.status);
    }
    r.status = (int)sr.status;
    r.headers = sr.headers;
    r.body = sr.body;
    r.len = sr.body_len;
    if (!rc)
        rc = preq_relay(pr, &r);
    subreq_resp_release(&sr);
    return rc;
}

/* ---- the request ---- */

int slo_put_check(struct preq *pr)
{
    char msg[64];

    if (req_header(pr->req, "X-Copy-From"))
        return preq_html(pr, 405,
                         "Multipart Manifest PUTs cannot be COPY requests") < 0
                   ? -ENOMEM
                   : 1;
    if (pr->body_length < 0 && !pr->body_chunked)
        return preq_error(pr, 411) < 0 ? -ENOMEM : 1;
    if (pr->body_length > SLO_MAX_MANIFEST_SIZE) {
        snprintf(msg, sizeof(msg), "Manifest File > %d bytes",
                 SLO_MAX_MANIFEST_SIZE);
        return preq_html(pr, 413, msg) < 0 ? -ENOMEM : 1;
    }
    return 0;
}

int slo_put(struct preq *pr, const char *body, size_t len,
            const struct hlist *meta, const struct hlist *reply)
{
    struct problems p = {0};
    struct entry *e = NULL;
    struct hlist h = {0};
    json_t *doc = NULL, *stored = NULL;
    EVP_MD_CTX *md5 = NULL;
    char slo_etag[33], json_md5[33], *json = NULL;
    size_t n = 0, jlen = 0;
    uint64_t total = 0;
    int rc;

    rc = parse_input(pr, body, len, &doc, &e, &n);
    if (rc)
        return rc < 0 ? rc : 0;
    stored = json_array();
    md5 = EVP_MD_CTX_new();
    if (!stored || !md5 || !EVP_DigestInit_ex(md5, EVP_md5(), NULL))
        rc = -ENOMEM;
    if (!rc)
        rc = head_all(pr, e, n);
    for (size_t i = 0; !rc && i < n; i++) {
        json_t *row = NULL;
        uint64_t used = 0;
        char hex[33], tag[128];

        if (e[i].data) {
            char *b = slo_b64encode(e[i].raw, e[i].raw_len);

            row = b ? json_pack("{s:s}", "data", b) : NULL;
            free(b);
            rc = row ? 0 : -ENOMEM;
            used = e[i].raw_len;
            md5_hex(e[i].raw, e[i].raw_len, hex);
            EVP_DigestUpdate(md5, hex, 32);
        } else {
            rc = validate(&e[i], i == n - 1, &p, &row, &used);
            if (row) {
                const char *hash =
                    json_string_value(json_object_get(row, "hash"));
                const char *range =
                    json_string_value(json_object_get(row, "range"));

                if (range)
                    snprintf(tag, sizeof(tag), "%s:%s;", hash ? hash : "None",
                             range);
                else
                    snprintf(tag, sizeof(tag), "%s", hash ? hash : "None");
                EVP_DigestUpdate(md5, tag, strlen(tag));
            }
        }
        total += used;
        if (!rc && row && json_array_append_new(stored, row))
            rc = -ENOMEM;
    }
    if (!rc && p.n) {
        rc = respond_problems(pr, &p);
        goto out;
    }
    if (!rc) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;

        EVP_DigestFinal_ex(md5, md, &mdlen);
        for (unsigned int k = 0; k < 16; k++)
            snprintf(slo_etag + 2 * k, 3, "%02x", md[k]);
        if (etag_differs(req_header(pr->req, "Etag"), slo_etag)) {
            rc = preq_error(pr, 422);
            goto out;
        }
        rc = slo_json_dump(stored, false, &json, &jlen);
    }
    if (!rc) {
        md5_hex(json, jlen, json_md5);
        rc = manifest_headers(pr, meta, slo_etag, total, json_md5, &h);
    }
    if (!rc)
        rc = store(pr, json, jlen, &h, slo_etag, reply);
out:
    free(json);
    hlist_release(&h);
    problems_release(&p);
    EVP_MD_CTX_free(md5);
    json_decref(stored);
    entries_free(e, n);
    json_decref(doc);
    return rc;
}
