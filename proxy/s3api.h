/*
 * s3api.h - the S3 API on kura-proxy, as Swift's s3api middleware puts it
 * in front of Swift's proxy: a bucket is a container of the signing
 * user's account, an object is an object, and the access key is
 * tempauth's "<account>:<user>" with the user's key as secret.
 *
 * A request signed the S3 way (s3api_claims()) is authenticated here
 * (s3_sig.h), then either rewritten into the Swift request it stands for
 * and run through the Swift controllers, whose response is turned into
 * S3's on its way out (headers, status, XML errors), or served here from
 * subrequests (listings, multi-object delete). proxy.c calls
 * s3api_respond() after each of the request's callbacks with what the
 * S3 callback returned. doc/s3api.md has the mapping.
 */
#ifndef PROXY_S3API_H
#define PROXY_S3API_H

#include <stdbool.h>

#include "common/conf.h"
#include "common/http_server.h"

struct preq;
struct s3api;
struct s3req;
struct tempauth;

/* Reads [filter:s3api] (location, storage_domain, allowable_clock_skew,
 * max_bucket_listing, max_multi_delete_objects,
 * dns_compliant_bucket_names; Swift's names and defaults). The users are
 * tempauth's ('auth', borrowed). Returns 0 or -errno with a line in
 * 'err'. */
int s3api_new(const struct conf *conf, struct tempauth *auth,
              struct s3api **out, char err[CONF_ERR_LEN]);
void s3api_free(struct s3api *s3); /* NULL is fine */

/* Whether the request carries S3 authentication (an AWS or AWS4
 * Authorization header, or a presigned query). */
bool s3api_claims(const struct s3api *s3, const struct request *req);

/* The request's callbacks; each returns 0 or -errno. */
int s3api_on_headers(struct preq *pr);
int s3api_on_body(struct preq *pr, const char *data, size_t len);
int s3api_on_end(struct preq *pr);
/* After each callback, with its return code: a response the Swift
 * controllers made is turned into S3's, a failure into S3's
 * InternalError. Returns 0, or -errno when even that failed. */
int s3api_respond(struct preq *pr, int rc);

void s3req_free(struct s3req *r); /* NULL is fine */

#endif /* PROXY_S3API_H */
