/*
 * s3_acl.h - S3 bucket ACLs as Swift container ACLs, as logic without
 * HTTP: canned ACLs, x-amz-grant-* header values and AccessControlPolicy
 * bodies become the X-Container-Read and X-Container-Write a container
 * would need to grant the same. What Swift ACLs cannot say is reported,
 * not dropped (the caller answers NotImplemented).
 */
#ifndef PROXY_S3_ACL_H
#define PROXY_S3_ACL_H

#include <stddef.h>

/* The ACLs being built. Set 'owner' (the bucket owner's S3 id,
 * "<account>:<user>", whose own grants say nothing) before adding to a
 * zeroed struct; release with s3_acl_release(). */
struct s3_acl {
    const char *owner;
    char *read, *write;      /* comma-separated Swift ACLs, NULL for none */
    const char *unsupported; /* why Swift ACLs cannot say it, or NULL */
    int err;                 /* -ENOMEM, sticky */
};

/* A canned ACL: private, public-read (.r:*,.rlistings), public-read-write
 * (and write .r:*); another sets 'unsupported'. Returns a->err. */
int s3_acl_canned(struct s3_acl *a, const char *canned);

/* An x-amz-grant-<permission> value ('id="a:b", uri="..."'), with
 * 'permission' "READ", "WRITE", "FULL_CONTROL", "READ_ACP" or
 * "WRITE_ACP". Returns a->err. */
int s3_acl_grant_header(struct s3_acl *a, const char *value,
                        const char *permission);

/* An AccessControlPolicy document ('len' bytes, no DTD allowed). Returns
 * 0, 1 when it is malformed, or -ENOMEM. */
int s3_acl_policy(struct s3_acl *a, const char *body, size_t len);

void s3_acl_release(struct s3_acl *a);

#endif /* PROXY_S3_ACL_H */
