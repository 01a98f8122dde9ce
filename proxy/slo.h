/*
 * slo.h - the Swift API's static large objects beyond reading them
 * (slo.c, declared in preq.h): writing a manifest
 * (?multipart-manifest=put, slo_put.c), deleting one with its segments
 * (?multipart-manifest=delete, slo_delete.c), and the manifest's forms
 * (slo_manifest.c). Inside the proxy only.
 */
#ifndef PROXY_SLO_H
#define PROXY_SLO_H

#include "proxy/preq.h"

#include <jansson.h>

/* Swift's defaults (slo.py): object-backed segments per manifest, and
 * the size of the manifest a client may send. */
#define SLO_MAX_MANIFEST_SEGMENTS 1000
#define SLO_MAX_MANIFEST_SIZE (8 * 1024 * 1024)
/* sub-SLOs within SLOs a GET follows, as Swift's max_slo_recursion_depth */
#define SLO_MAX_RECURSION_DEPTH 10

/* ---- subrequests (slo.c) ---- */

/* subreq_run() of 'method' on a/c/o (quoted into its /v1 path): how the
 * manifest is read and written as the request's user. */
int slo_subreq(struct preq *pr, const char *method, const char *a,
               const char *c, const char *o, const char *query,
               const struct http_header *h, size_t n_h, const void *body,
               size_t len, struct subreq_resp *out);

/* ---- the manifest's forms (slo_manifest.c) ---- */

/* 'v' as Python's json.dumps() writes it (", " and ": " separators,
 * non-ASCII as lowercase \uXXXX), with the objects' keys in insertion
 * order or sorted. 0 with *out (free()) and its length, -ENOMEM,
 * -EINVAL for what json.dumps would not write (reals are not used). */
int slo_json_dump(const json_t *v, bool sort_keys, char **out, size_t *len);

/* Python's strict_b64decode(): standard alphabet, '=' only as padding,
 * nothing else. 0 with *out (free()) and *len, -EINVAL, -ENOMEM. */
int slo_b64decode(const char *in, unsigned char **out, size_t *len);
/* Standard base64 with padding; free() the result. NULL: no memory. */
char *slo_b64encode(const unsigned char *in, size_t len);

/* The stored manifest 'stored' in the form a PUT takes (Swift's
 * ?multipart-manifest=get&format=raw): path, etag, size_bytes[, range]
 * or data, keys sorted. 0 with *out (free()), -EINVAL, -ENOMEM. */
int slo_raw_manifest(const char *stored, size_t len, char **out,
                     size_t *out_len);

/* Swift's req.accept.best_match() over the bulk formats (text/plain,
 * application/json, application/xml, text/xml): the first when no
 * Accept, NULL when none is acceptable or the header is malformed. */
const char *slo_accept_format(const char *accept);

/* Swift's bulk get_response_body(): 'keys'/'values' (n of them, keys
 * sorted already) then the errors ('names'/'statuses', n_err), as
 * text/plain, JSON or XML under 'root'. 0 with *out (free()). */
int slo_bulk_body(const char *format, const char *const *keys,
                  const json_t *const *values, size_t n,
                  const char *const *names, const char *const *statuses,
                  size_t n_err, const char *root, char **out, size_t *len);

/* ---- writing (slo_put.c) ---- */

/* A PUT with ?multipart-manifest=put, checked before its body comes:
 * 0 to read the body, 1 when answered (405 for a copy, 411, 413). */
int slo_put_check(struct preq *pr);

/* The manifest 'body' (the client's, PUT-able form) checked segment by
 * segment with HEADs as the request's user, then stored at pr's object
 * in Swift's stored form with 'meta' (the headers the manifest object
 * takes, NULL: the request's own) and 'reply' (more response headers,
 * or NULL). Answers the client in every case: 0, or -errno. */
int slo_put(struct preq *pr, const char *body, size_t len,
            const struct hlist *meta, const struct hlist *reply);

/* ---- deleting (slo_delete.c) ---- */

/* DELETE with ?multipart-manifest=delete: every segment (sub-SLOs'
 * too) then the manifest, each as the request's user, answered in bulk
 * delete's format (200, per-object errors in the body). */
int slo_delete(struct preq *pr);

/* The manifest at 'path' (quoted), read as the request's user: a HEAD
 * with ?multipart-manifest=get, then its GET when 'want' says yes to the
 * HEAD (NULL: any 2xx SLO). 0 with *out (the GET's answer, else the
 * HEAD's; release it), -errno. */
int slo_manifest_get(struct preq *pr, const char *path,
                     bool (*want)(const struct subreq_resp *head),
                     struct subreq_resp *out);

#endif /* PROXY_SLO_H */
