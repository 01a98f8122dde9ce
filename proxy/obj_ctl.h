/*
 * obj_ctl.h - what the object controller (obj_ctl.c), uploads and copies
 * (obj_put.c) and CORS (cors.c) share. Inside the proxy only.
 */
#ifndef PROXY_OBJ_CTL_H
#define PROXY_OBJ_CTL_H

#include "proxy/preq.h"

/* The client's headers a storage server may see (Swift's gatekeeper and
 * the proxy's own headers removed), appended to 'h'. */
int obj_forward_headers(struct preq *pr, struct hlist *h);

/* The request's headers for the constraints checks, borrowed from the
 * request; free() the array. */
int obj_collect_headers(struct preq *pr, struct constraints_header **out,
                        size_t *n);

/* Whether a header's value is true as Swift's config_true_value() has
 * it (true, 1, yes, on, t, y, any case); NULL is false. */
bool obj_header_true(const char *v);

/* The container of the request, which must exist: 0 with *ci filled, 1
 * after answering 404 or 503, -errno. Release *ci in every case. */
int obj_container(struct preq *pr, struct info *ci);

/* The write's X-Timestamp: the client's (container sync, migrations),
 * as Swift's _update_x_timestamp(), or now. 0, 1 after answering 400
 * for a malformed one, -errno. */
int obj_timestamp(struct preq *pr, char ts[32]);

/* tempauth with the container's read or write ACL: 0 to go on, 1 when
 * answered (401, 403), -errno. */
int obj_authorize(struct preq *pr, const struct info *ci, bool write);

/* X-Container-Host/-Device/-Partition for object replica 'i' of 'n_obj':
 * the container replicas it updates; with an X-Delete-At in 'h', the
 * X-Delete-At-Container/-Partition/-Host/-Device of the expirer queue, and
 * X-Backend-Clean-Expiring-Object-Queue, as Swift's proxy sends them. */
int obj_update_headers(struct preq *pr, const struct nodes *cn, size_t i,
                       size_t n_obj, struct hlist *h);

/* PUT (streamed from the client) or COPY / X-Copy-From (from the source
 * object); obj_put.c. 'ci', the container's info, is what a COPY's read
 * is authorized with; NULL for a PUT ?multipart-manifest=put, which
 * slo_put() writes through a subrequest authorized on its own. */
int object_put_start(struct preq *pr, const struct info *ci);

/* OPTIONS: Swift's CORS preflight against the container's
 * X-Container-Meta-Access-Control-* (cors.c). */
int cors_preflight(struct preq *pr, const struct info *ci);

/* An actual request with an Origin the container allows: notes it on
 * 'pr' for cors_add_headers(). */
int cors_note_origin(struct preq *pr, const struct info *ci);
/* Access-Control-Allow-Origin, -Expose-Headers (Swift's simple headers,
 * the response's user metadata, the container's extra ones) and Vary. */
int cors_add_headers(struct preq *pr, const struct http_header *h, size_t n);

#endif /* PROXY_OBJ_CTL_H */
