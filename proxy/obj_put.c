/*
 * obj_put.c - object uploads: the client's body (or a copy source's)
 * streamed to every replica at once, with Expect: 100-continue so a
 * replica that cannot take it (507, a newer object, If-None-Match) says
 * so before any byte goes out, a handoff in place of each primary that
 * cannot be reached, and 201 once a quorum of replicas answered 2xx with
 * the MD5 of the body.
 *
 * The body's MD5 is computed once, here, as it streams: each replica gets
 * the body in Swift's metadata-footer form (X-Backend-Obj-Metadata-Footer,
 * a chunked MIME document: the data, then a JSON footer with the Etag,
 * doc/proxy.md), and X-Backend-Kura-Footer-Etag-Trusted tells a Kura
 * object server that this Etag is the MD5 of exactly the data sent, so it
 * stores it without hashing again (Swift's object servers ignore the
 * header and check the footer against their own MD5). A client's ETag is
 * checked here before the footer goes: on a mismatch the replica streams
 * are cut before it, so no replica can commit, and the client gets 422.
 * A replica that does not answer "X-Obj-Metadata-Footer: yes" in its 100
 * Continue would store the MIME document as the object: it is treated as
 * a failed node. Memory stays at one piece of the body whatever the
 * object's size.
 *
 * Copies (COPY with Destination, PUT with X-Copy-From) are uploads whose
 * body comes from a GET of the source, pumped here in the request's own
 * thread; the source's metadata carries over unless X-Fresh-Metadata.
 */
#include "proxy/obj_ctl.h"

#include "common/http.h"
#include "common/timestamp.h"
#include "proxy/mimetypes.h"
#include "proxy/slo.h"
#include "ring/hash_path.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

struct obj_put {
    struct nodes n, cn;
    size_t slots; /* replicas to write: n.n_prim */
    struct http_client_call *calls[PROXY_MAX_REPLICAS];
    const struct ring_dev *devs[PROXY_MAX_REPLICAS];
    int status[PROXY_MAX_REPLICAS]; /* 100 while the body goes, or final */
    struct hlist headers;           /* common to every replica */
    char *tail;
    bool chunked;
    uint64_t length;
    uint64_t sent;
    char ts[32];
    /* extra response headers (copies) */
    struct hlist reply;
    /* the MIME document every replica gets */
    EVP_MD_CTX *md5;   /* of the data, as it goes out */
    char boundary[65]; /* 64 hex digits, as Swift's proxy */
    bool doc_started;  /* the data part's head went out */
    bool ended;        /* the footer and the body's end went out */
    char etag[33];     /* the body's MD5, once it is all here */
    /* ?multipart-manifest=put: the body is the manifest, kept here whole
     * (up to SLO_MAX_MANIFEST_SIZE, as Swift reads it) for slo_put() */
    bool manifest;
    char *body;
    size_t body_len;
};

void object_put_free(struct obj_put *put)
{
    if (!put)
        return;
    for (size_t i = 0; i < put->slots; i++)
        http_client_end(put->calls[i]);
    nodes_release(&put->n);
    nodes_release(&put->cn);
    hlist_release(&put->headers);
    hlist_release(&put->reply);
    EVP_MD_CTX_free(put->md5);
    free(put->tail);
    free(put->body);
    free(put);
}

static bool live(const struct obj_put *put, size_t i)
{
    return put->calls[i] && put->status[i] == 100;
}

static size_t live_count(const struct obj_put *put)
{
    size_t n = 0;

    for (size_t i = 0; i < put->slots; i++)
        n += live(put, i);
    return n;
}

static void fill_req(struct preq *pr, struct http_client_req *r,
                     const struct ring_dev *d, const char *path,
                     const struct hlist *h)
{
    memset(r, 0, sizeof(*r));
    r->host = d->ip;
    r->port = (unsigned int)d->port;
    r->method = "PUT";
    r->path = path;
    r->headers = h->v;
    r->n_headers = h->n;
    r->body_mode = HTTP_CLIENT_BODY_CHUNKED; /* a MIME document */
    r->expect_continue = 1;
    r->conn_timeout_ms = (unsigned int)(pr->p->conf->conn_timeout * 1000);
    r->node_timeout_ms = (unsigned int)(pr->p->conf->node_timeout * 1000);
}

/* The headers of replica slot i: the common ones and its container
 * updates. */
static int slot_headers(struct preq *pr, struct obj_put *put, size_t i,
                        struct hlist *h)
{
    for (size_t k = 0; k < put->headers.n; k++)
        if (hlist_add(h, put->headers.v[k].name, put->headers.v[k].value))
            return -ENOMEM;
    return obj_update_headers(pr, &put->cn, i, put->slots, h);
}

/* Whether slot i's answer to the headers lets the body go; records the
 * final status otherwise. */
static bool continued(struct preq *pr, struct obj_put *put, size_t i, int st)
{
    if (st == 100) {
        const char *f =
            http_client_continue_header(put->calls[i], "X-Obj-Metadata-Footer");

        if (f && !strcasecmp(f, "yes")) {
            put->status[i] = 100;
            return true;
        }
        /* Swift's FooterNotSupported: a node error, try a handoff */
        req_log(pr->req, LOG_ERR,
                "object PUT: %s:%d/%s does not take "
                "metadata footers",
                put->devs[i]->ip, put->devs[i]->port, put->devs[i]->device);
        st = -EPROTO;
    }
    backend_failed(pr, put->devs[i], st);
    http_client_end(put->calls[i]);
    put->calls[i] = NULL;
    put->status[i] = st;
    return false;
}

/* Slot i's node failed: its handoffs, one at a time. */
static int replace(struct preq *pr, struct obj_put *put, size_t i)
{
    const struct ring_dev *d;

    while ((d = nodes_next(pr->p, &put->n))) {
        struct http_client_req r;
        struct hlist h = {0};
        char *path = backend_path(d, put->n.part, put->tail);
        int st;

        if (!path || slot_headers(pr, put, i, &h)) {
            free(path);
            hlist_release(&h);
            return -ENOMEM;
        }
        fill_req(pr, &r, d, path, &h);
        put->devs[i] = d;
        st = http_client_start(pr->p->client, &r, &put->calls[i]);
        if (!st)
            st = http_client_wait_continue(put->calls[i]);
        free(path);
        hlist_release(&h);
        if (continued(pr, put, i, st))
            return 0;
        if (st > 0 && st < 500 && st != 507)
            return 0; /* an answer about the object, not the node */
    }
    return 0;
}

static int connect_all(struct preq *pr, struct obj_put *put)
{
    struct http_client_req reqs[PROXY_MAX_REPLICAS];
    struct hlist hs[PROXY_MAX_REPLICAS];
    char *paths[PROXY_MAX_REPLICAS];
    int errs[PROXY_MAX_REPLICAS];
    size_t slot_of[PROXY_MAX_REPLICAS], nreq = 0;
    int rc = 0;

    memset(hs, 0, sizeof(hs));
    memset(reqs, 0, sizeof(reqs));
    for (size_t i = 0; i < put->slots; i++) {
        const struct ring_dev *d = nodes_next(pr->p, &put->n);

        put->status[i] = -EHOSTUNREACH;
        if (!d)
            continue;
        paths[nreq] = backend_path(d, put->n.part, put->tail);
        if (!paths[nreq] || slot_headers(pr, put, i, &hs[nreq])) {
            free(paths[nreq]);
            hlist_release(&hs[nreq]);
            rc = -ENOMEM;
            break;
        }
        put->devs[i] = d;
        fill_req(pr, &reqs[nreq], d, paths[nreq], &hs[nreq]);
        slot_of[nreq++] = i;
    }
    if (!rc) {
        struct http_client_call *calls[PROXY_MAX_REPLICAS];

        http_client_start_multi(pr->p->client, reqs, nreq, calls, errs);
        for (size_t k = 0; k < nreq; k++) {
            size_t i = slot_of[k];

            put->calls[i] = calls[k];
            continued(pr, put, i,
                      calls[k] ? http_client_wait_continue(calls[k]) : errs[k]);
        }
    }
    for (size_t k = 0; k < nreq; k++) {
        free(paths[k]);
        hlist_release(&hs[k]);
    }
    for (size_t i = 0; !rc && i < put->slots; i++) {
        int st = put->status[i];

        if (st != 100 && (st < 0 || st >= 500))
            rc = replace(pr, put, i);
    }
    return rc;
}

/* The answer when fewer than a quorum of replicas would take the body:
 * what the replicas said about the object, or 503. */
static int refuse_early(struct preq *pr, struct obj_put *put)
{
    for (size_t i = 0; i < put->slots; i++) {
        int st = put->status[i];

        if (st == 412 || st == 413 || st == 422 || st == 400)
            return preq_error(pr, (unsigned int)st);
    }
    for (size_t i = 0; i < put->slots; i++)
        if (put->status[i] == 409) /* a newer object is there already */
            return preq_error(pr, 202);
    return preq_error(pr, 503);
}

/* Sends a piece of the MIME document, made of 'n' buffers, to every
 * live replica in one chunk (and with 'end', the body's end in the same
 * write); replicas that fail are dropped. Returns 0, or after answering
 * 503 (or the replicas' verdict) when fewer than a quorum are left. */
static int send_all(struct preq *pr, struct obj_put *put,
                    const struct iovec *iov, int n, bool end)
{
    struct http_client_call *calls[PROXY_MAX_REPLICAS];
    int errs[PROXY_MAX_REPLICAS];
    size_t quorum = quorum_size(put->slots);

    for (size_t i = 0; i < put->slots; i++)
        calls[i] = live(put, i) ? put->calls[i] : NULL;
    http_client_sendv_multi(calls, put->slots, iov, n, end, errs);
    for (size_t i = 0; i < put->slots; i++) {
        if (!calls[i] || !errs[i])
            continue;
        if (errs[i] == -ECONNABORTED) {
            /* the replica answered early (422, 507...): its verdict */
            put->status[i] = http_client_response(put->calls[i]);
        } else {
            put->status[i] = errs[i];
        }
        backend_failed(pr, put->devs[i], put->status[i]);
        http_client_end(put->calls[i]);
        put->calls[i] = NULL;
    }
    if (live_count(put) < quorum) {
        req_log(pr->req, LOG_ERR,
                "object PUT: fewer than %zu replicas left "
                "after %llu bytes",
                quorum, (unsigned long long)put->sent);
        return refuse_early(pr, put);
    }
    return 0;
}

/* The footer part and the closing boundary, as Swift's MIMEPutter sends
 * them: the JSON's own MD5 goes in Content-MD5. Returns its length. */
static int footer_part(const struct obj_put *put, char *part, size_t size)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char json[64], jmd5[33];
    int n = snprintf(json, sizeof(json), "{\"Etag\": \"%s\"}", put->etag);

    if (!EVP_Digest(json, (size_t)n, md, &mdlen, EVP_md5(), NULL))
        return -ENOMEM;
    hash_path_hex(md, jmd5);
    return snprintf(part, size,
                    "\r\n--%s\r\nX-Document: object metadata\r\n"
                    "Content-MD5: %s\r\n\r\n%s\r\n--%s--\r\n",
                    put->boundary, jmd5, json, put->boundary);
}

/* Sends the next piece of the MIME document: the data part's head before
 * the first byte, 'len' bytes of data, and when 'last' the footer and the
 * body's end. They go in one write per replica, so a small object reaches
 * each object server as one segment after its 100 Continue. */
static int send_doc(struct preq *pr, struct obj_put *put, const char *data,
                    size_t len, bool last)
{
    char head[128], part[512];
    struct iovec iov[3];
    int n = 0;

    if (!put->doc_started) {
        put->doc_started = true;
        iov[n].iov_base = head;
        iov[n++].iov_len = (size_t)snprintf(
            head, sizeof(head), "--%s\r\nX-Document: object body\r\n\r\n",
            put->boundary);
    }
    if (len)
        iov[n++] = (struct iovec){.iov_base = (void *)data, .iov_len = len};
    if (last) {
        int k = footer_part(put, part, sizeof(part));

        if (k < 0)
            return k;
        put->ended = true;
        iov[n++] = (struct iovec){.iov_base = part, .iov_len = (size_t)k};
    }
    return send_all(pr, put, iov, n, last);
}

/* Whether the client sent an ETag (quoted or not, any case) that is not
 * the body's MD5. */
static bool etag_mismatch(struct preq *pr, const char *md5)
{
    const char *v = req_header(pr->req, "Etag");
    size_t n;

    if (!v || !*v)
        return false;
    n = strlen(v);
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
        v++;
        n -= 2;
    }
    return n != 32 || strncasecmp(v, md5, 32) != 0;
}

/* Ends every replica's stream without its footer: the object servers see
 * a client that went away and keep nothing. */
static void abort_replicas(struct obj_put *put)
{
    for (size_t i = 0; i < put->slots; i++) {
        http_client_end(put->calls[i]);
        put->calls[i] = NULL;
        if (put->status[i] == 100)
            put->status[i] = 499;
    }
}

void object_put_abort(struct preq *pr)
{
    if (pr->put)
        abort_replicas(pr->put);
}

/* The body is all here ('data' is its last piece, maybe empty): the
 * client's ETag is checked, then the rest of the document goes with the
 * footer, or no replica gets a footer and the client 422. */
static int finish_body(struct preq *pr, struct obj_put *put, const char *data,
                       size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    EVP_DigestFinal_ex(put->md5, md, &mdlen);
    hash_path_hex(md, put->etag);
    if (etag_mismatch(pr, put->etag)) {
        /* no footer: no replica may commit */
        abort_replicas(put);
        return preq_error(pr, 422);
    }
    return send_doc(pr, put, data, len, true);
}

/* A piece of a manifest's body; what passes the limit is dropped. */
static int keep_manifest(struct obj_put *put, const char *data, size_t len)
{
    char *grown;

    if (put->body_len + len > SLO_MAX_MANIFEST_SIZE)
        len = SLO_MAX_MANIFEST_SIZE - put->body_len;
    if (!len)
        return 0;
    grown = realloc(put->body, put->body_len + len + 1);
    if (!grown)
        return -ENOMEM;
    memcpy(grown + put->body_len, data, len);
    put->body = grown;
    put->body_len += len;
    put->body[put->body_len] = '\0';
    return 0;
}

int object_put_body(struct preq *pr, const char *data, size_t len)
{
    struct obj_put *put = pr->put;

    if (req_status(pr->req) || !len)
        return 0; /* answered already: the rest is dropped */
    if (put->manifest)
        return keep_manifest(put, data, len);
    put->sent += len;
    EVP_DigestUpdate(put->md5, data, len);
    if (!put->chunked && put->sent == put->length)
        return finish_body(pr, put, data, len); /* the last piece */
    return send_doc(pr, put, data, len, false);
}

static int respond_created(struct preq *pr, struct obj_put *put,
                           const char *etag, unsigned int status)
{
    struct timestamp ts;
    char date[TIMESTAMP_HTTP_SIZE];
    int rc = preq_add_txn_headers(pr);

    if (!rc && timestamp_parse(put->ts, &ts) == 0)
        rc = req_add_header(pr->req, "Last-Modified",
                            timestamp_http_date(&ts, date));
    if (!rc)
        rc = req_add_header(pr->req, "Etag", etag);
    for (size_t i = 0; !rc && i < put->reply.n; i++)
        rc = req_add_header(pr->req, put->reply.v[i].name,
                            put->reply.v[i].value);
    if (rc == -EINVAL)
        rc = 0;
    return rc ? rc : req_respond(pr->req, status, "", 0);
}

/* A 2xx replica that stored other bytes than we sent (its ETag is not
 * the MD5) counts as a failure: 500. */
static void check_etags(struct preq *pr, struct obj_put *put, struct bresp *rs,
                        char (*etags)[33], const char *md5)
{
    for (size_t i = 0; i < put->slots; i++) {
        if (rs[i].status / 100 != 2 || !strcmp(etags[i], md5))
            continue;
        req_log(pr->req, LOG_ERR, "object PUT: %s:%d/%s etag %s, sent %s",
                put->devs[i]->ip, put->devs[i]->port, put->devs[i]->device,
                etags[i], md5);
        rs[i].status = 500;
    }
}

int object_put_end(struct preq *pr)
{
    struct obj_put *put = pr->put;
    struct bresp rs[PROXY_MAX_REPLICAS];
    char etags[PROXY_MAX_REPLICAS][33];
    const char *etag = put->etag;
    bool ended[PROXY_MAX_REPLICAS] = {false};
    int best, rc;

    if (req_status(pr->req))
        return 0;
    if (put->manifest)
        return slo_put(pr, put->body ? put->body : "", put->body_len, NULL,
                       NULL);
    /* chunked or empty bodies end here; a Content-Length one ended with
     * its last piece */
    rc = put->ended ? 0 : finish_body(pr, put, NULL, 0);
    if (rc || req_status(pr->req))
        return rc;
    memset(rs, 0, sizeof(rs));
    memset(etags, 0, sizeof(etags));
    /* every replica got the body's end before any answer is awaited:
     * they commit (fsync, rename, fsync) at the same time, not one after
     * another */
    for (size_t i = 0; i < put->slots; i++) {
        rs[i].status = put->status[i] == 100 ? 0 : put->status[i];
        ended[i] = live(put, i); /* a failure is counted already */
    }
    for (size_t i = 0; i < put->slots; i++) {
        if (!ended[i])
            continue;
        if (!rs[i].status)
            rs[i].status = http_client_response(put->calls[i]);
        if (rs[i].status == -ECONNABORTED)
            rs[i].status = http_client_response(put->calls[i]);
        if (rs[i].status / 100 == 2) {
            const char *e = http_client_header(put->calls[i], "Etag");

            if (e && e[0] == '"')
                e++;
            for (size_t k = 0; e && k < 32 && isxdigit((unsigned char)e[k]);
                 k++)
                etags[i][k] = (char)tolower((unsigned char)e[k]);
        }
        http_client_end(put->calls[i]);
        put->calls[i] = NULL;
    }
    check_etags(pr, put, rs, etags, etag);
    for (size_t i = 0; i < put->slots; i++)
        if (ended[i])
            backend_failed(pr, put->devs[i], rs[i].status);
    best = backend_best(rs, put->slots, put->slots);
    if (best < 0)
        return preq_error(pr, 503);
    if (rs[best].status / 100 == 2)
        return respond_created(pr, put, etag, 201);
    if (rs[best].status == 409)
        return preq_error(pr, 202);
    return preq_error(pr, (unsigned int)rs[best].status);
}

/* ---- starting ---- */

/* The body goes as Swift's proxy sends it with footers (MIMEPutter): the
 * data's size in X-Backend-Obj-Content-Length (when known), a random
 * boundary; the client's ETag stays here (the footer's is what replicas
 * check). */
static int footer_headers(struct obj_put *put)
{
    unsigned char rnd[32];
    char len[24];

    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        return -errno;
    for (size_t i = 0; i < sizeof(rnd); i++)
        snprintf(put->boundary + 2 * i, 3, "%02x", rnd[i]);
    put->md5 = EVP_MD_CTX_new();
    if (!put->md5 || !EVP_DigestInit_ex(put->md5, EVP_md5(), NULL))
        return -ENOMEM;
    hlist_del(&put->headers, "Etag");
    snprintf(len, sizeof(len), "%llu", (unsigned long long)put->length);
    if (hlist_set(&put->headers, "X-Backend-Obj-Metadata-Footer", "yes") ||
        hlist_set(&put->headers, "X-Backend-Obj-Multipart-Mime-Boundary",
                  put->boundary) ||
        hlist_set(&put->headers, "X-Backend-Kura-Footer-Etag-Trusted", "yes") ||
        (!put->chunked &&
         hlist_set(&put->headers, "X-Backend-Obj-Content-Length", len)))
        return -ENOMEM;
    return 0;
}

/* Checks the request and builds what every replica gets. Returns 0, 1
 * after answering a refusal, -errno. 'length' < 0: chunked. */
static int prepare(struct preq *pr, struct obj_put *put, bool copy,
                   int64_t length)
{
    struct constraints_header *ch = NULL;
    struct constraints_error cerr = {0};
    const char *ctype = req_header(pr->req, "Content-Type");
    size_t nch = 0;
    int64_t delete_at = -1;
    int rc;

    {
        const char *inm = req_header(pr->req, "If-None-Match");

        if (inm && strcmp(inm, "*"))
            return preq_text(pr, 400, "If-None-Match only supports *") < 0
                       ? -ENOMEM
                       : 1;
    }
    rc = obj_collect_headers(pr, &ch, &nch);
    if (rc)
        return rc;
    if (!ctype || obj_header_true(req_header(pr->req, "X-Detect-Content-Type")))
        ctype = copy ? NULL : mimetype_guess(pr->object);
    if (!copy) {
        /* check_object_creation() sees the guessed type, as in Swift */
        struct constraints_header *grown = realloc(ch, (nch + 1) * sizeof(*ch));

        if (!grown) {
            free(ch);
            return -ENOMEM;
        }
        ch = grown;
        for (size_t i = 0; i < nch; i++)
            if (!strcasecmp(ch[i].name, "Content-Type"))
                ch[i].value = ctype;
        ch[nch].name = "Content-Type";
        ch[nch++].value = ctype;
        rc = constraints_check_object_creation(
            &pr->p->limits, ch, nch, pr->object, pr->now, &delete_at, &cerr);
    } else {
        rc = constraints_check_metadata(&pr->p->limits, ch, nch,
                                        CONSTRAINTS_OBJECT, &cerr);
        if (!rc)
            rc = constraints_check_delete_headers(ch, nch, pr->now, &delete_at,
                                                  &cerr);
    }
    /* the proxy's own subrequests may set swift_bytes (an SLO manifest's
     * size for its container row), as Swift's content_type_overridden */
    if (!rc && !req_origin(pr->req) &&
        constraints_check_content_type(ch, nch, &cerr) > 0) {
        free(ch);
        return preq_refuse_html(pr, &cerr) < 0 ? -ENOMEM : 1;
    }
    free(ch);
    if (rc > 0)
        return preq_refuse(pr, &cerr) < 0 ? -ENOMEM : 1;
    if (rc < 0)
        return rc;
    rc = obj_timestamp(pr, put->ts);
    if (rc)
        return rc;
    put->tail = backend_tail(pr->account, pr->container, pr->object);
    if (!put->tail || backend_base_headers(pr, put->ts, &put->headers) ||
        obj_forward_headers(pr, &put->headers) ||
        (ctype && hlist_set(&put->headers, "Content-Type", ctype)))
        return -ENOMEM;
    if (delete_at >= 0) {
        char at[32];

        snprintf(at, sizeof(at), "%lld", (long long)delete_at);
        if (hlist_set(&put->headers, "X-Delete-At", at))
            return -ENOMEM;
    }
    put->chunked = length < 0;
    put->length = length < 0 ? 0 : (uint64_t)length;
    rc = footer_headers(put);
    if (rc)
        return rc;
    if (nodes_init(pr->p, pr->p->object_ring, pr->account, pr->container,
                   pr->object, &put->n) ||
        nodes_init(pr->p, pr->p->container_ring, pr->account, pr->container,
                   NULL, &put->cn))
        return -ENOMEM;
    put->slots = put->n.n_prim;
    return 0;
}

/* Opens the replicas; 0 when a quorum takes the body, 1 after answering
 * otherwise. */
static int open_replicas(struct preq *pr, struct obj_put *put)
{
    int rc = connect_all(pr, put);

    if (rc)
        return rc;
    if (live_count(put) >= quorum_size(put->slots))
        return 0;
    rc = refuse_early(pr, put);
    return rc < 0 ? rc : 1;
}

/* ---- copies ---- */

/* What a copy of a static large object reads at a time. */
#define SLO_COPY_PIECE (256 * 1024)

struct source {
    struct http_client_call *call;
    int status;
    struct bresp failed; /* the answer to pass on when there is no source */
};

static int open_source(struct preq *pr, const char *a, const char *c,
                       const char *o, struct source *src)
{
    struct hlist h = {0};
    struct nodes n;
    char *tail = backend_tail(a, c, o);
    const struct ring_dev *d;

    memset(src, 0, sizeof(*src));
    src->failed.status = 503;
    if (!tail || backend_base_headers(pr, NULL, &h) ||
        nodes_init(pr->p, pr->p->object_ring, a, c, o, &n)) {
        free(tail);
        hlist_release(&h);
        return -ENOMEM;
    }
    {
        const char *v;

        if ((v = req_header(pr->req, "X-Copy-From-If-Match")) ||
            (v = req_header(pr->req, "If-Match")))
            hlist_add(&h, "If-Match", v);
        /* a range of the source is copied, as Swift's copy middleware
         * does (the S3 API's UploadPartCopy) */
        if ((v = req_header(pr->req, "Range")))
            hlist_add(&h, "Range", v);
        if ((v = req_header(pr->req, "If-None-Match")))
            hlist_add(&h, "If-None-Match", v);
        if ((v = req_header(pr->req, "If-Modified-Since")))
            hlist_add(&h, "If-Modified-Since", v);
        if ((v = req_header(pr->req, "If-Unmodified-Since")))
            hlist_add(&h, "If-Unmodified-Since", v);
    }
    while ((d = nodes_next(pr->p, &n))) {
        struct http_client_req r = {0};
        char *path = backend_path(d, n.part, tail);
        int st;

        if (!path)
            break;
        r.host = d->ip;
        r.port = (unsigned int)d->port;
        r.method = "GET";
        r.path = path;
        r.headers = h.v;
        r.n_headers = h.n;
        r.conn_timeout_ms = (unsigned int)(pr->p->conf->conn_timeout * 1000);
        r.node_timeout_ms = (unsigned int)(pr->p->conf->node_timeout * 1000);
        st = http_client_request(pr->p->client, &r, &src->call);
        free(path);
        if (backend_failed(pr, d, st)) {
            http_client_end(src->call);
            src->call = NULL;
            continue;
        }
        if (st == 200 || st == 206) {
            src->status = st;
            break;
        }
        bresp_release(&src->failed);
        src->failed.status = st;
        hlist_from_call(&src->failed.headers, src->call);
        http_client_read_all(src->call, BACKEND_BODY_MAX, &src->failed.body,
                             &src->failed.len);
        http_client_end(src->call);
        src->call = NULL;
        if (st != 404)
            break;
    }
    nodes_release(&n);
    hlist_release(&h);
    free(tail);
    return 0;
}

static bool is_user_meta(const char *name)
{
    return !strncasecmp(name, "x-object-meta-", 14);
}

/* The source's metadata the copy keeps, under what the request sets. */
static int merge_source_headers(struct preq *pr, struct obj_put *put,
                                struct http_client_call *src)
{
    static const char *const kept[] = {
        "content-encoding",  "content-disposition", "content-language",
        "x-object-manifest", "x-delete-at",         NULL,
    };
    bool fresh = obj_header_true(req_header(pr->req, "X-Fresh-Metadata"));
    size_t n = http_client_header_count(src);

    for (size_t i = 0; i < n; i++) {
        struct http_header h = http_client_header_at(src, i);
        bool keep = !fresh && is_user_meta(h.name);

        for (size_t k = 0; !fresh && kept[k]; k++)
            if (!strcasecmp(h.name, kept[k]))
                keep = true;
        if (!strcasecmp(h.name, "content-type") ||
            !strncasecmp(h.name, "x-object-sysmeta-", 17))
            keep = true;
        if (keep && !hlist_get(&put->headers, h.name) &&
            hlist_add(&put->headers, h.name, h.value))
            return -ENOMEM;
    }
    /* the copy's user metadata is in the response too, as Swift's */
    for (size_t i = 0; i < put->headers.n; i++)
        if (is_user_meta(put->headers.v[i].name) &&
            hlist_add(&put->reply, put->headers.v[i].name,
                      put->headers.v[i].value))
            return -ENOMEM;
    return 0;
}

/* A copy of a static large object is an ordinary object: none of the
 * manifest's marks (its SLO and S3 sysmeta, its listing overrides, the
 * swift_bytes of its Content-Type) go with it. */
static int flatten_headers(struct obj_put *put)
{
    const char *ct, *sb;

    for (size_t i = 0; i < put->headers.n;) {
        const char *name = put->headers.v[i].name;
        char *copy;

        if (strncasecmp(name, "x-object-sysmeta-slo-", 21) &&
            strncasecmp(name, "x-object-sysmeta-s3api-", 23) &&
            strncasecmp(name, "x-object-sysmeta-container-update-", 34)) {
            i++;
            continue;
        }
        /* hlist_del() frees the entry's name as it goes */
        if (!(copy = strdup(name)))
            return -ENOMEM;
        hlist_del(&put->headers, copy);
        free(copy);
    }
    ct = hlist_get(&put->headers, "Content-Type");
    sb = ct ? strstr(ct, ";swift_bytes=") : NULL;
    if (sb) {
        char *plain = strndup(ct, (size_t)(sb - ct));
        int rc =
            plain ? hlist_set(&put->headers, "Content-Type", plain) : -ENOMEM;

        free(plain);
        return rc;
    }
    return 0;
}

/* X-Copied-From, -Account and -Last-Modified of a copy's answer. */
static int copied_from(struct hlist *reply, const char *a, const char *c,
                       const char *o, struct http_client_call *src)
{
    const char *lm = http_client_header(src, "Last-Modified");
    char *joined = NULL, *qsrc = NULL, *qa = http_quote(a);
    int rc = qa ? 0 : -ENOMEM;

    if (!rc && asprintf(&joined, "%s/%s", c, o) < 0)
        rc = -ENOMEM;
    if (!rc && !(qsrc = http_quote(joined)))
        rc = -ENOMEM;
    if (!rc)
        rc = hlist_add(reply, "X-Copied-From", qsrc);
    if (!rc)
        rc = hlist_add(reply, "X-Copied-From-Account", qa);
    if (!rc && lm)
        rc = hlist_add(reply, "X-Copied-From-Last-Modified", lm);
    free(joined);
    free(qsrc);
    free(qa);
    return rc;
}

static int add_header(const char *name, const char *value, void *arg)
{
    return hlist_add(arg, name, value);
}

/* A copy of an SLO's manifest (?multipart-manifest=get), as Swift's copy
 * middleware makes it: the source's manifest in the form a PUT takes,
 * PUT again with ?multipart-manifest=put, so the copy is an SLO of the
 * same segments, checked as any new manifest. Takes src->call. */
static int copy_manifest(struct preq *pr, struct source *src, const char *a,
                         const char *c, const char *o)
{
    bool fresh = obj_header_true(req_header(pr->req, "X-Fresh-Metadata"));
    struct hlist meta = {0}, reply = {0};
    size_t len = 0, n = http_client_header_count(src->call), rlen = 0;
    char *body = NULL, *raw = NULL;
    int rc = http_client_read_all(src->call, BACKEND_BODY_MAX, &body, &len);

    if (!rc)
        rc = slo_raw_manifest(body ? body : "", len, &raw, &rlen);
    /* the request's headers win over the source's */
    if (!rc)
        rc = req_foreach_header(pr->req, add_header, &meta);
    for (size_t i = 0; !rc && i < n; i++) {
        struct http_header h = http_client_header_at(src->call, i);
        bool keep = !fresh && (is_user_meta(h.name) ||
                               !strcasecmp(h.name, "content-encoding") ||
                               !strcasecmp(h.name, "content-disposition") ||
                               !strcasecmp(h.name, "content-language") ||
                               !strcasecmp(h.name, "x-delete-at"));

        if (!strcasecmp(h.name, "content-type")) {
            const char *sb = strstr(h.value, ";swift_bytes=");
            char *plain =
                strndup(h.value, sb ? (size_t)(sb - h.value) : strlen(h.value));

            if (!plain)
                rc = -ENOMEM;
            else if (!hlist_get(&meta, "Content-Type"))
                rc = hlist_add(&meta, "Content-Type", plain);
            free(plain);
            continue;
        }
        if (keep && !hlist_get(&meta, h.name))
            rc = hlist_add(&meta, h.name, h.value);
    }
    if (!rc)
        rc = copied_from(&reply, a, c, o, src->call);
    http_client_end(src->call);
    src->call = NULL;
    free(body);
    if (!rc)
        rc = slo_put(pr, raw, rlen, &meta, &reply);
    else if (rc == -EIO || rc == -EPROTO || rc == -EINVAL)
        rc = preq_error(pr, 503);
    free(raw);
    hlist_release(&meta);
    hlist_release(&reply);
    return rc;
}

/* A copy: the destination is pr's object; the source is given. */
static int copy_object(struct preq *pr, struct obj_put *put,
                       const char *src_account, const char *src_container,
                       const char *src_object)
{
    struct source src;
    struct slo_stream *slo = NULL;
    const char *cl, *mm = req_param(pr->req, "multipart-manifest");
    char *end, *buf = NULL;
    unsigned long long length;
    int rc;

    rc = open_source(pr, src_account, src_container, src_object, &src);
    if (rc)
        return rc;
    if (!src.call) {
        rc = src.failed.status > 0 ? preq_relay(pr, &src.failed)
                                   : preq_error(pr, 503);
        bresp_release(&src.failed);
        return rc;
    }
    if (obj_header_true(http_client_header(src.call, "X-Static-Large-Object")) &&
        mm && !strcmp(mm, "get"))
        return copy_manifest(pr, &src, src_account, src_container, src_object);
    if (obj_header_true(http_client_header(src.call, "X-Static-Large-Object"))) {
        /* a static large object is copied whole, as one object */
        uint64_t size = 0;

        rc = slo_open(pr, src_account, src_container, src_object, &slo, &size);
        if (rc) {
            http_client_end(src.call);
            return rc < 0 ? rc : 0;
        }
        length = size;
    } else {
        cl = http_client_header(src.call, "Content-Length");
        length = cl ? strtoull(cl, &end, 10) : 0;
        if (!cl || end == cl || *end) {
            http_client_end(src.call);
            return preq_error(pr, 503);
        }
    }
    if (length > (unsigned long long)pr->p->limits.max_file_size) {
        http_client_end(src.call);
        slo_stream_free(slo);
        return preq_error(pr, 413);
    }
    rc = prepare(pr, put, true, (int64_t)length);
    if (!rc)
        rc = merge_source_headers(pr, put, src.call);
    if (!rc && slo)
        rc = flatten_headers(put);
    if (!rc && !hlist_get(&put->headers, "Content-Type"))
        rc = hlist_add(&put->headers, "Content-Type",
                       "application/octet-stream");
    if (!rc)
        rc = copied_from(&put->reply, src_account, src_container, src_object,
                         src.call);
    if (!rc)
        rc = open_replicas(pr, put);
    if (!rc && slo && !(buf = malloc(SLO_COPY_PIECE)))
        rc = -ENOMEM;
    while (!rc && !req_status(pr->req)) {
        const void *data;
        size_t len;

        if (slo) {
            ssize_t got = slo_stream_read(slo, buf, SLO_COPY_PIECE);

            rc = got < 0 ? (int)got : 0;
            data = buf;
            len = got > 0 ? (size_t)got : 0;
        } else {
            rc = http_client_read(src.call, &data, &len);
        }
        if (rc) {
            req_log(pr->req, LOG_ERR, "copy: source read failed: %s",
                    strerror(-rc));
            rc = preq_error(pr, 503);
            break;
        }
        if (!len) {
            rc = object_put_end(pr);
            break;
        }
        rc = object_put_body(pr, data, len);
    }
    http_client_end(src.call);
    slo_stream_free(slo);
    free(buf);
    return rc < 0 ? rc : 0;
}

/* X-Copy-From / Destination: "<container>/<object>", URL-encoded. */
static int parse_copy_path(struct preq *pr, const char *header, char **c,
                           char **o)
{
    struct constraints_error cerr = {0};
    int rc = constraints_check_path_header(header, req_header(pr->req, header),
                                           c, o, &cerr);

    if (rc > 0) {
        /* Swift's copy middleware sends these under text/html */
        rc = preq_html(pr, cerr.status, cerr.body ? cerr.body : "");
        constraints_error_release(&cerr);
        return rc < 0 ? rc : 1;
    }
    return rc;
}

static int put_from_copy_header(struct preq *pr, struct obj_put *put)
{
    const char *acct = req_header(pr->req, "X-Copy-From-Account");
    char *c = NULL, *o = NULL;
    int rc;

    if (pr->body_length > 0 || pr->body_chunked)
        return preq_text(pr, 400, "Copy requests require a zero byte body");
    rc = parse_copy_path(pr, "X-Copy-From", &c, &o);
    if (rc) {
        free(c);
        free(o);
        return rc < 0 ? rc : 0;
    }
    {
        /* the source must be readable by this user */
        char *dc = pr->container, *dobj = pr->object, *da = pr->account;
        struct info sci;

        pr->container = c;
        pr->object = o;
        if (acct)
            pr->account = (char *)acct;
        rc = obj_container(pr, &sci);
        if (!rc)
            rc = obj_authorize(pr, &sci, false);
        info_release(&sci);
        pr->container = dc;
        pr->object = dobj;
        pr->account = da;
    }
    if (!rc)
        rc = copy_object(pr, put, acct ? acct : pr->account, c, o);
    free(c);
    free(o);
    return rc < 0 ? rc : 0;
}

static int copy_to_destination(struct preq *pr, struct obj_put *put,
                               const struct info *src_ci)
{
    const char *dacct = req_header(pr->req, "Destination-Account");
    char *c = NULL, *o = NULL, *sa = pr->account, *sc = pr->container,
         *so = pr->object;
    struct info dci;
    int rc;

    if (!req_header(pr->req, "Destination"))
        return preq_html(pr, 412, "Destination header required");
    rc = obj_authorize(pr, src_ci, false);
    if (rc)
        return rc < 0 ? rc : 0;
    rc = parse_copy_path(pr, "Destination", &c, &o);
    if (rc) {
        free(c);
        free(o);
        return rc < 0 ? rc : 0;
    }
    /* from here on the request is about the destination */
    pr->container = c;
    pr->object = o;
    if (dacct) {
        pr->account = strdup(dacct);
        if (!pr->account) {
            pr->account = sa;
            free(c);
            free(o);
            pr->container = sc;
            pr->object = so;
            return -ENOMEM;
        }
    }
    rc = obj_container(pr, &dci);
    if (!rc)
        rc = obj_authorize(pr, &dci, true);
    info_release(&dci);
    if (!rc)
        rc = copy_object(pr, put, sa, sc, so);
    /* pr owns the destination's names now; the source's go */
    if (dacct)
        free(sa);
    free(sc);
    free(so);
    return rc < 0 ? rc : 0;
}

int object_put_start(struct preq *pr, const struct info *ci)
{
    struct obj_put *put = calloc(1, sizeof(*put));
    int64_t length;
    int rc;

    if (!put)
        return -ENOMEM;
    pr->put = put;
    if (!strcmp(req_method(pr->req), "COPY"))
        return copy_to_destination(pr, put, ci);
    {
        const char *mm = req_param(pr->req, "multipart-manifest");

        if (mm && !strcmp(mm, "put")) {
            /* the manifest is read whole, then slo_put() */
            rc = slo_put_check(pr);
            put->manifest = true;
            return rc < 0 ? rc : 0;
        }
    }
    if (req_header(pr->req, "X-Copy-From"))
        return put_from_copy_header(pr, put);
    length = pr->body_chunked ? -1 : pr->body_length;
    rc = prepare(pr, put, false, length);
    if (!rc)
        rc = open_replicas(pr, put);
    return rc < 0 ? rc : 0;
}
