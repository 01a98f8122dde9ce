/*
 * s3_registry.h - the names of buckets reachable without credentials:
 * CORS preflights (s3_cors.c) and anonymous reads of public buckets.
 *
 * A bucket is a container of the signing user's account, and an unsigned
 * request names no account: the registry says whose bucket a name is. It
 * holds a name while its account's bucket has CORS rules or grants
 * AllUsers READ (".r:*" in X-Container-Read): the registration is live.
 * Names of registered buckets are thereby unique across the cluster; one
 * whose bucket is gone, or neither public nor with rules, is stale and
 * taken over by the next account that registers the name.
 *
 * Functions taking a preq work on the request's bucket (pr->s3->bucket)
 * and account (pr->s3->user.account_id). Those that "answer" made the
 * request's S3 response themselves. For use inside the S3 API only.
 */
#ifndef PROXY_S3_REGISTRY_H
#define PROXY_S3_REGISTRY_H

#include <stdbool.h>

struct preq;

/* Whether a request without S3 credentials is the S3 API's (proxy.c),
 * outside Swift's paths (/v1, /v1.0, /info, the auth prefix): an OPTIONS
 * (a CORS preflight); one whose Host names a bucket (virtual-hosted
 * style); one whose first path segment is a registered bucket; one from
 * an AWS SDK (amz-sdk-* or x-amz-* headers). Others stay the Swift API's,
 * whose answers to paths outside /v1 are Swift's. */
bool s3_registry_claims(struct preq *pr, const char *path);

/* The account the registry names for 'bucket': 1 with *owner (malloc'ed),
 * 0 none, -1 the servers failed, -ENOMEM. 'fresh' skips the info cache. */
int s3_registry_owner(struct preq *pr, const char *bucket, bool fresh,
                      char **owner);

/* Whether a container read ACL grants AllUsers READ (has ".r:*"). */
bool s3_registry_public(const char *read_acl);

/* Before a change that leaves the bucket 'reachable' (CORS rules, public
 * read): 0 go on, 1 answered (409 BucketAlreadyExists when another
 * account's registration of the name is live, 503 when the registry
 * cannot be read), -ENOMEM. Nothing to do when not 'reachable'. */
int s3_registry_before(struct preq *pr, bool reachable);

/* Once the change is made: registers the bucket when 'reachable', else
 * removes its registration unless still live. 0 go on, 1 answered: 503
 * (the registry write failed) or 409 when another account registered
 * the name at the same moment and its write came later; then 'undo' ran
 * first to take the change back (it returns 0, 1 when it answered a
 * failure itself, or -errno). -ENOMEM. */
int s3_registry_after(struct preq *pr, bool reachable,
                      int (*undo)(struct preq *pr, void *arg), void *arg);

/* Removes the bucket's registration if it is the account's and no longer
 * live (DeleteBucket, DeleteBucketCors). 0 or -ENOMEM: a failure is
 * logged, not answered (the registration is stale, harmless). */
int s3_registry_forget(struct preq *pr);

/* A request without credentials (s3api.c): a GetObject, HeadObject
 * (partNumber allowed), ListObjects (v1, v2) or HeadBucket ('sub' the
 * S3 sub-resource it names, or NULL) of a registered bucket runs as an
 * anonymous Swift request in the registered account, so the container's
 * ACLs decide. 0 go on (pr->s3->user.account_id and pr->id set), 1
 * answered (AccessDenied for anything else, 503), -errno. */
int s3_registry_anonymous(struct preq *pr, const char *sub);

#endif /* PROXY_S3_REGISTRY_H */
