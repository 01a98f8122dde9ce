/*
 * s3_bucket_doc.c - the get, put and delete plumbing of a bucket
 * sub-resource kept in container sysmeta, which lifecycle, CORS and
 * bucket tagging share; each keeps its own body parser and answers.
 */
#include "proxy/s3_bucket_doc.h"

#include <stdlib.h>
#include <string.h>

int s3_bucket_doc_op(struct preq *pr, const char *m,
                     const struct s3_bucket_doc *d)
{
    struct s3req *r = pr->s3;
    int rc, ex = s3_bucket_exists(pr);

    if (ex <= 0)
        return ex ? s3_error(pr, S3_ERR_SERVICE_UNAVAILABLE, NULL, NULL, 0)
                  : s3_no_such_bucket(pr);
    if (!strcmp(m, "GET"))
        return d->get(pr);
    if (!strcmp(m, "PUT")) {
        r->op = d->put_op;
        r->xml_max = d->max_body;
        if (pr->body_length > (int64_t)d->max_body)
            return s3_error(pr, S3_ERR_MALFORMED_XML, NULL, NULL, 0);
        return 0; /* done when the body is in */
    }
    if (!strcmp(m, "DELETE")) {
        rc = s3_bucket_doc_post(pr, d->sysmeta, NULL);
        if (!rc && d->deleted)
            rc = d->deleted(pr);
        if (!rc)
            rc = s3_respond_empty(pr, 204);
        return rc < 0 ? rc : 0;
    }
    return s3_error(pr, S3_ERR_METHOD_NOT_ALLOWED, NULL, NULL, 0);
}

int s3_bucket_doc_post(struct preq *pr, const char *sysmeta,
                       const char *stored)
{
    struct http_header h = {sysmeta, stored ? stored : ""};

    return s3_post_bucket(pr, &h, 1);
}

char *s3_bucket_doc_stored(struct preq *pr, const char *account,
                           const char *bucket, const char *sysmeta)
{
    struct info ci;
    const char *v;
    char *stored = NULL;

    info_get(pr, account, bucket, &ci);
    v = ci.status / 100 == 2 ? hlist_get(&ci.headers, sysmeta) : NULL;
    if (v && *v)
        stored = strdup(v);
    info_release(&ci);
    return stored;
}
