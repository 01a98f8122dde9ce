/*
 * preq.h - inside the proxy: the shared state (struct proxy), one client
 * request as the controllers see it (struct preq), and the helpers every
 * controller uses to answer it. Not for use outside proxy/.
 */
#ifndef PROXY_PREQ_H
#define PROXY_PREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/http_client.h"
#include "common/http_server.h"
#include "proxy/constraints.h"
#include "proxy/proxy.h"
#include "proxy/tempauth.h"
#include "ring/hash_path.h"
#include "ring/live_ring.h"

struct error_limit;
struct info_cache;
struct info_entry;
struct obj_put;
struct s3api;
struct s3req;

struct proxy {
    const struct proxy_conf *conf;
    struct hash_path_conf hc;
    struct live_ring *account_ring, *container_ring, *object_ring;
    struct http_client *client;
    struct tempauth *auth; /* NULL: no tempauth in the pipeline */
    struct constraints limits;
    struct error_limit *errors;
    struct info_cache *cache;
    char *info_json; /* the body of GET /info */
    /* request_node_count: handoffs = mult * replicas + add - replicas */
    unsigned int node_count_mult, node_count_add;
    struct s3api *s3;            /* NULL: no s3api in the pipeline */
    struct http_handler handler; /* ours, for subrequests */
};

/* One client request, from its headers to its end. */
struct preq {
    struct proxy *p;
    struct request *req;
    double now; /* Unix time when the request arrived */
    char *path; /* the path as Swift's WSGI decodes it: may hold NULs */
    size_t path_len;
    enum constraints_route route;
    char *version, *account, *container, *object; /* decoded; NULL absent */
    struct tempauth_identity id;
    bool owner;          /* swift_owner: the user owns the account */
    bool reseller;       /* .reseller_admin */
    struct obj_put *put; /* an object upload under way */
    char *listing_query; /* re-encoded listing parameters for backends */
    /* CORS on an actual request: the origin to allow ("*" or the
     * client's) and the container's extra exposed headers */
    char *cors_origin, *cors_expose;
    /* the body as the controllers take it: the client's Content-Length
     * (-1: none) and Transfer-Encoding, or what the S3 API decodes */
    int64_t body_length;
    bool body_chunked;
    struct s3req *s3; /* an S3 API request (s3api.c) */
    /* the S3 API's GET/HEAD ?partNumber: that segment of a static large
     * object (slo.c), or the whole of another object when 1; 0: none */
    unsigned int part_number;
};

/* ---- answering the client; each adds X-Trans-Id and
 * X-Openstack-Request-Id ---- */
int preq_add_txn_headers(struct preq *pr);
/* Swift's HTML page for 'status' (text/html; charset=UTF-8). */
int preq_error(struct preq *pr, unsigned int status);
/* 'body' with Content-Type text/plain (Swift's text errors from
 * constraints). */
int preq_text(struct preq *pr, unsigned int status, const char *body);
/* 'body' under Swift's default text/html; charset=UTF-8. */
int preq_html(struct preq *pr, unsigned int status, const char *body);
/* A constraints refusal: its status and body, text/plain (most of
 * check_object_creation's) or text/html (the name lengths, Content-Type
 * parameters: Swift sends those without a type). Releases 'err'. */
int preq_refuse(struct preq *pr, struct constraints_error *err);
int preq_refuse_html(struct preq *pr, struct constraints_error *err);

/* ---- a list of request or response headers (copies) ---- */
struct hlist {
    struct http_header *v;
    size_t n, cap;
};
int hlist_add(struct hlist *h, const char *name, const char *value);
/* Replaces every 'name' (case-insensitive) with one 'value'. */
int hlist_set(struct hlist *h, const char *name, const char *value);
void hlist_del(struct hlist *h, const char *name);
const char *hlist_get(const struct hlist *h, const char *name);
void hlist_release(struct hlist *h);
/* Copies every header of 'call' into 'h'. */
int hlist_from_call(struct hlist *h, struct http_client_call *call);

/* ---- the nodes of a partition: primaries, then handoffs ---- */
#define PROXY_MAX_REPLICAS 16

struct nodes {
    struct ring *ring; /* a reference */
    uint32_t part;
    const struct ring_dev *prim[PROXY_MAX_REPLICAS];
    size_t n_prim;
    size_t next_prim;
    struct ring_handoff_iter *handoffs;
    size_t handoffs_left;
};

/* The nodes of account 'a' / container 'c' / object 'o' (c and o may be
 * NULL) in ring 'lr'. Returns 0 or -ENOMEM. */
int nodes_init(struct proxy *p, struct live_ring *lr, const char *a,
               const char *c, const char *o, struct nodes *n);
/* The next node to try that is not error limited, NULL when none is left
 * (request_node_count reached). */
const struct ring_dev *nodes_next(struct proxy *p, struct nodes *n);
void nodes_release(struct nodes *n);

/* ---- talking to storage servers (backend.c) ---- */

/* A response read whole: status (or -errno when the node could not be
 * asked), headers and a body of at most BACKEND_BODY_MAX bytes. */
#define BACKEND_BODY_MAX (64 * 1024 * 1024)
struct bresp {
    int status;
    const struct ring_dev *dev;
    struct hlist headers;
    char *body;
    size_t len;
};
void bresp_release(struct bresp *r);

/* "/<device>/<part><tail>" with the device quoted; 'tail' is quoted
 * already ("/AUTH_test/c"). NULL when out of memory. */
char *backend_path(const struct ring_dev *dev, uint32_t part, const char *tail);
/* "/<a>[/<c>[/<o>]]", each part quoted. */
char *backend_tail(const char *a, const char *c, const char *o);

/* The headers every backend request carries: X-Trans-Id, X-Timestamp
 * (when 'ts' is not NULL), User-Agent, Referer-free. */
int backend_base_headers(struct preq *pr, const char *ts, struct hlist *h);

/* One request to one node, response read whole. Errors count against the
 * node (error limiting). Returns the status or -errno, and fills *out. */
int backend_call(struct preq *pr, const struct ring_dev *dev, uint32_t part,
                 const char *method, const char *tail, const char *query,
                 const struct hlist *headers, const void *body, size_t len,
                 struct bresp *out);

/* Whether a backend status means "try another node": no answer, 5xx or
 * 507. Records the error against 'dev'. */
bool backend_failed(struct preq *pr, const struct ring_dev *dev, int status);

/* Per-node headers for backend_fanout(): called for replica 'i'. */
typedef int (*backend_node_headers_fn)(struct preq *pr, size_t i,
                                       struct hlist *h, void *arg);

/* Sends the request to every primary of 'n' at once; a primary that
 * cannot be asked or fails (5xx, 507) is replaced by the next handoff.
 * Fills out[0 .. n->n_prim - 1] (status -errno where no node answered)
 * and returns n->n_prim. */
size_t backend_fanout(struct preq *pr, struct nodes *n, const char *method,
                      const char *tail, const char *query,
                      const struct hlist *headers,
                      backend_node_headers_fn per_node, void *arg,
                      struct bresp *out);

/* Swift's best_response(): the first status class (2xx, 3xx, 4xx) that
 * a quorum of 'n_replicas' answered wins, with its highest status (the
 * first of equals). Returns the index into 'r' of the response to pass
 * on, or -1 for 503. quorum_size() is Swift 2.30's (n + 1) / 2. */
int backend_best(const struct bresp *r, size_t n, size_t n_replicas);
size_t quorum_size(size_t n_replicas);

/* The X-<kind>-Host, -Device and -Partition headers ('kind' "Account"
 * or "Container") that tell replica 'i' of a write of 'stride' replicas
 * which primaries of 'n' to update: i, i + stride, i + 2 * stride...
 * Sets nothing where there are none. 0 or -ENOMEM. */
int backend_update_headers(const struct nodes *n, size_t i, size_t stride,
                           const char *kind, struct hlist *h);

/* Sends 'method' with 'h' for container 'a'/'c' to its primaries, a PUT
 * or DELETE with the account replicas each container replica updates,
 * and forgets the container's cached info. On success returns 0 and sets
 * *best to the response a quorum gave (status 0 where none did: a 503),
 * which the caller frees with bresp_release(). -ENOMEM. */
int backend_container_write(struct preq *pr, const char *a, const char *c,
                            const char *method, const struct hlist *h,
                            struct bresp *best);

/* Passes a backend response to the client: status, the headers a client
 * may see (filter_response_headers()), body. */
int preq_relay(struct preq *pr, const struct bresp *r);
/* Whether a backend response header goes on to the client. */
bool response_header_allowed(const struct preq *pr, const char *name);

/* ---- account and container info, cached ---- */
struct info {
    int status;                /* 2xx: exists, 404, or another failure */
    struct hlist headers;      /* read-only: may be the cache's own */
    struct info_entry *shared; /* the cache entry 'headers' belongs to */
};
/* The info of account 'a' (c NULL) or container 'a/c', from the cache or
 * a HEAD to the storage servers. Always fills *out (release it). */
void info_get(struct preq *pr, const char *a, const char *c, struct info *out);
void info_invalidate(struct proxy *p, const char *a, const char *c);
void info_release(struct info *in);

int info_cache_new(struct info_cache **out);
void info_cache_free(struct info_cache *ic);

/* ---- controllers ---- */
int account_request(struct preq *pr);
int container_request(struct preq *pr);
int object_request(struct preq *pr);
/* Object upload: body pieces and the end (obj_put.c). */
int object_put_body(struct preq *pr, const char *data, size_t len);
int object_put_end(struct preq *pr);
/* Cuts every replica's stream before the body's end: none commits. For a
 * body found bad by a filter (the S3 API's signatures) before its end. */
void object_put_abort(struct preq *pr);
void object_put_free(struct obj_put *put);

/* Swift's transfer_headers(): the client's X-<type>-Meta-* headers,
 * X-Remove-<type>-Meta-* as empty values, and the 'pass' headers (lower
 * case, NULL-terminated; their X-Remove- forms too). */
int transfer_headers(struct preq *pr, const char *type, const char *const *pass,
                     struct hlist *h);

/* A 2xx container or account GET/HEAD's headers as Swift's proxy sends
 * them on. */
int db_response_headers(struct preq *pr, struct hlist *h);

/* The request's account must exist; with 'create' and account_autocreate
 * it is made. 0, 1 when answered (404, 503), -errno. */
int ensure_account(struct preq *pr, bool create);

/* tempauth_authorize() for this request with container ACL 'acl' (NULL:
 * none) and the account's stored ACL; answers 401/403/... itself and
 * returns 1 when the request must stop, 0 to go on, -errno. */
int preq_authorize(struct preq *pr, const char *acl, const char *account_acl);

/* Routes the request at pr->path (decoded, "/v1/AUTH_test/c/o") to its
 * controller with the identity in pr->id, which the caller filled (the
 * S3 API, a subrequest): no token is looked up. */
int preq_route_identified(struct preq *pr);

/* ---- subrequests: the proxy asking itself (subreq.c) ----
 * An S3 operation made of several Swift ones (multi-object delete,
 * bucket listings) runs each through the proxy's own handler, in memory,
 * on the calling thread, as the user of 'pr': Swift's semantics (ACLs,
 * quorum, info cache) without a socket or a token. No access line is
 * logged for them; they carry pr's transaction id. */
struct subreq_resp {
    unsigned int status;
    struct hlist headers;
    char *body; /* NUL-terminated; body_len bytes before the NUL */
    size_t body_len;
};
/* 'path' quoted ("/v1/AUTH_test/c/o%20x"), 'query' without '?' or NULL.
 * Returns 0 with the answer in *out (release it), or -errno (-ENOMEM,
 * -EPROTO when the answer cannot be parsed). */
int subreq_run(struct preq *pr, const char *method, const char *path,
               const char *query, const struct http_header *headers,
               size_t n_headers, const void *body, size_t len,
               struct subreq_resp *out);
void subreq_resp_release(struct subreq_resp *r);

/* ---- static large objects (slo.c) ---- */
/* Answers a GET or HEAD of an object whose stored form is an SLO
 * manifest with the object the manifest describes. */
int slo_respond(struct preq *pr);
/* The object the SLO manifest a/c/o describes, as a stream (a copy's
 * source; the request's one byte Range, if any, of it): 0 with *out and
 * its *size, 1 when answered (no manifest, no access to a segment
 * container, 416), -errno. */
struct slo_stream;
int slo_open(struct preq *pr, const char *a, const char *c, const char *o,
             struct slo_stream **out, uint64_t *size);
/* Bytes read into buf (1..max), 0 at the end, -errno. */
ssize_t slo_stream_read(struct slo_stream *s, char *buf, size_t max);
void slo_stream_free(struct slo_stream *s); /* NULL is fine */

/* Swift's X-Timestamp for a write, "1700000000.12345". */
void preq_new_timestamp(char buf[32]);

#endif /* PROXY_PREQ_H */
