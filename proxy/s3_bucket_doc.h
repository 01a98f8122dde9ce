/*
 * s3_bucket_doc.h - a bucket sub-resource kept in one container sysmeta
 * header (lifecycle, CORS, bucket tagging): its GET, PUT and DELETE on
 * the bucket, the document posted to the container and read back.
 */
#ifndef PROXY_S3_BUCKET_DOC_H
#define PROXY_S3_BUCKET_DOC_H

#include "proxy/s3req.h"

#include <stddef.h>

struct s3_bucket_doc {
    const char *sysmeta; /* the container header that keeps it */
    enum s3_op put_op;   /* a PUT's op: finished once its body is in */
    size_t max_body;     /* a longer PUT body is MalformedXML */
    int (*get)(struct preq *pr); /* answers a GET */
    /* after a DELETE took the document, before its 204; NULL: nothing */
    int (*deleted)(struct preq *pr);
};

/* Answers 'method' on the bucket's sub-resource 'd' (a PUT only sets
 * the op to wait for its body), NoSuchBucket when there is no bucket.
 * 0 or -errno. */
int s3_bucket_doc_op(struct preq *pr, const char *method,
                     const struct s3_bucket_doc *d);

/* Posts 'stored' into the bucket's 'sysmeta' header (NULL: empties it),
 * as s3_post_bucket(). */
int s3_bucket_doc_post(struct preq *pr, const char *sysmeta,
                       const char *stored);

/* The bucket's 'sysmeta' value (free() it), or NULL: none, empty, or the
 * container is not there. */
char *s3_bucket_doc_stored(struct preq *pr, const char *account,
                           const char *bucket, const char *sysmeta);

#endif /* PROXY_S3_BUCKET_DOC_H */
