/*
 * s3req.h - inside the S3 API (s3api.c, s3_multipart.c): the filter's
 * settings, one S3 request's state, and the answering helpers both files
 * use. Not for use outside the S3 API.
 */
#ifndef PROXY_S3REQ_H
#define PROXY_S3REQ_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/conf.h"
#include "proxy/preq.h"
#include "proxy/s3_chunked.h"
#include "proxy/s3_sig.h"
#include "proxy/s3_xml.h"
#include "proxy/tempauth.h"

/* Where multipart uploads keep their parts, as Swift's s3api: the
 * container "<bucket>+segments" ('+' keeps it out of bucket names). */
#define S3_SEGMENTS_SUFFIX "+segments"
/* S3's smallest part but the last (s3api's min_segment_size). */
#define S3_MIN_PART_SIZE (5 * 1024 * 1024)
#define S3_MAX_PARTS 10000
#define S3_MAX_COMPLETE_BODY (2 * 1024 * 1024)

struct s3api {
    struct tempauth *auth;
    char *location;       /* region: "us-east-1" */
    char *storage_domain; /* virtual-hosted style: "s3.example.com"; "" */
    int64_t clock_skew;
    unsigned int max_bucket_listing;
    unsigned int max_multi_delete_objects;
    bool dns_compliant_bucket_names;
    char *cors_allow_origin; /* cors_preflight_allow_origin, "a,b"; NULL */
};

enum s3_op {
    OP_NONE,
    OP_LIST_BUCKETS,
    OP_BUCKET_HEAD,
    OP_BUCKET_PUT,
    OP_BUCKET_DELETE,
    OP_LIST_OBJECTS,
    OP_MULTI_DELETE,
    OP_OBJECT_GET, /* and HEAD */
    OP_OBJECT_PUT,
    OP_OBJECT_COPY,
    OP_OBJECT_DELETE,
    OP_UPLOAD_PART, /* a PUT into an upload: as OP_OBJECT_PUT */
    OP_UPLOAD_PART_COPY,
    OP_COMPLETE_UPLOAD,
    OP_PUT_TAGGING,
    OP_PUT_BUCKET_ACL,
    OP_PUT_OBJECT_ACL,
    OP_PUT_BUCKET_TAGGING,
    OP_PUT_LIFECYCLE,
    OP_PUT_BUCKET_CORS,
};

struct s3req {
    struct s3api *api;
    enum s3_op op;
    struct s3_sig sig;
    struct s3_sig_seed seed;
    struct tempauth_s3_user user;
    char *bucket, *key;     /* decoded; NULL when absent */
    bool converted;         /* the response is S3's already */
    struct hlist overrides; /* GET's response-* parameters, as headers */
    /* the body */
    struct s3_chunked *chunked;     /* aws-chunked, signatures checked */
    struct s3_sig_payload *payload; /* x-amz-content-sha256 checked */
    char *xml;                      /* a body this file parses */
    size_t xml_len, xml_max;
    bool xml_over;
    /* the bucket's name is registered as its account's (s3_registry.h) */
    bool registry_mine;
};

/* ---- answering (s3api.c) ---- */
/* x-amz-request-id, x-amz-id-2 and Swift's transaction headers. */
int s3_add_ids(struct preq *pr);
/* S3's error document ('message' NULL: the default), made in place of any
 * response the Swift side made. */
int s3_error(struct preq *pr, enum s3_err e, const char *message,
             const struct s3_xml_field *fields, size_t n_fields);
int s3_sig_error_respond(struct preq *pr, const struct s3_sig_error *err);
int s3_no_such_bucket(struct preq *pr);
/* An XML document of ours ('doc' is taken and freed). */
int s3_respond_xml(struct preq *pr, unsigned int status, char *doc, size_t len);
int s3_respond_empty(struct preq *pr, unsigned int status);

/* ---- the Swift side (s3api.c) ---- */
/* 1 the bucket exists, 0 it does not (404), -1 the servers failed. */
int s3_bucket_exists(struct preq *pr);
/* pr->path as "/v1/<account>/<bucket>[/<key>]", decoded. */
int s3_set_swift_path(struct preq *pr, bool with_key);
/* "/v1/<account>/<bucket>[/<key>]" quoted, for a subrequest (malloc'ed). */
char *s3_swift_quoted(const struct s3req *r, const char *key);
/* POSTs headers to the bucket's container (its ACLs, its S3 sysmeta):
 * 0, 1 when it failed and was answered (NoSuchBucket, AccessDenied,
 * ServiceUnavailable), -errno. */
int s3_post_bucket(struct preq *pr, const struct http_header *h, size_t n);
/* Appends "&name=<quoted value>" to a query being built. */
void s3_query_add(FILE *f, const char *name, const char *value);
/* Whether the buffered body matches its Content-MD5: 0 yes (or no
 * header and not 'required'), else answered (*answered set). */
int s3_check_body_md5(struct preq *pr, bool required, bool *answered);

/* The request's canned ACL (x-amz-acl), grants (x-amz-grant-*) or
 * AccessControlPolicy 'body' as Swift container ACLs (s3_acl.c): 0 with
 * *read_acl and *write_acl (malloc'ed, NULL for none), 1 when answered
 * (NotImplemented for what Swift ACLs cannot say, MalformedACLError,
 * InvalidRequest for canned and grants together), -errno (s3api.c). */
int s3_acl_from_request(struct preq *pr, const char *body, size_t len,
                        char **read_acl, char **write_acl);

/* ---- object ACLs (s3_object_acl.c): taken when they grant reading to
 * the bucket's readers, NotImplemented otherwise ----
 * A PutObject's, CopyObject's or CreateMultipartUpload's ACL headers: 0
 * (none, or the bucket's), 1 when answered, -errno. */
int s3_object_acl_header(struct preq *pr);
/* PutObjectAcl once its body is in. */
int s3_object_acl_put(struct preq *pr);
/* The entries of the Swift read ACL 'read_acl' (NULL: none) that let
 * read objects, all but ".rlistings", comma-joined in their order:
 * malloc'ed ("" for none), NULL when out of memory. */
char *s3_object_acl_readers(const char *read_acl);

/* PutObject and CopyObject of the request's bucket and key (s3api.c), for
 * UploadPart and UploadPartCopy too. */
int s3_object_put(struct preq *pr);
int s3_object_copy(struct preq *pr);

/* ---- multipart uploads (s3_multipart.c) ----
 * Each returns 0 or -errno, answering the request itself. */
int s3_multipart_op(struct preq *pr, const char *method);
/* CompleteMultipartUpload once its body is in. */
int s3_multipart_complete(struct preq *pr);
/* After the bucket's read ACL became 'read_acl' (NULL: none), its
 * segments container, if there is one, takes the same readers without
 * .rlistings, so they can read a multipart object's parts by name:
 * 0, 1 when it failed and was answered (AccessDenied,
 * ServiceUnavailable), -errno. */
int s3_multipart_share_read_acl(struct preq *pr, const char *read_acl);
/* Before a DeleteObject: a multipart object's parts are deleted too. */
int s3_multipart_delete_parts(struct preq *pr);
/* ListMultipartUploads (GET ?uploads on a bucket). */
int s3_multipart_list_uploads(struct preq *pr);

/* ---- object tagging (s3_tagging.c) ----
 * Get/Put/DeleteObjectTagging (?tagging on an object); a PUT is done in
 * s3_tagging_put() once its body is in. */
int s3_tagging_op(struct preq *pr, const char *method);
int s3_tagging_put(struct preq *pr);
/* A PutObject's x-amz-tagging, checked and set for the Swift PUT: 0, 1
 * when answered (InvalidTag...), -errno. */
int s3_tagging_header(struct preq *pr);
/* A CopyObject's tags: the source's ("<bucket>/<key>", decoded) with
 * x-amz-tagging-directive COPY (the default), x-amz-tagging with
 * REPLACE. 0, 1 when answered, -errno. */
int s3_tagging_copy(struct preq *pr, const char *source);
/* Get/Put/DeleteBucketTagging, kept in the container's sysmeta; a PUT is
 * done in s3_bucket_tagging_put() once its body is in. */
int s3_bucket_tagging_op(struct preq *pr, const char *method);
int s3_bucket_tagging_put(struct preq *pr);

/* ---- lifecycle expiration (s3_lifecycle.c) ----
 * Get/Put/DeleteBucketLifecycle; a PUT is done in s3_lifecycle_put()
 * once its body is in. */
int s3_lifecycle_op(struct preq *pr, const char *method);
int s3_lifecycle_put(struct preq *pr);
/* The X-Delete-At the bucket's rules give an object 'key' written now:
 * set in 'h', or on the request's headers when 'h' is NULL; nothing when
 * no enabled rule matches. 0 or -ENOMEM. */
int s3_lifecycle_apply(struct preq *pr, const char *key, struct hlist *h);

/* ---- bucket CORS (s3_cors.c) ----
 * Reads cors_preflight_allow_origin of [filter:s3api]: 0 or -errno with
 * a line in 'err'. */
int s3_cors_conf(struct s3api *api, const struct conf *conf,
                 char err[CONF_ERR_LEN]);
/* Get/Put/DeleteBucketCors; a PUT is done in s3_cors_put() once its
 * body is in. */
int s3_cors_op(struct preq *pr, const char *method);
int s3_cors_put(struct preq *pr);
/* An OPTIONS answered from cors_preflight_allow_origin when it is set
 * and the request looks like S3's, as s3api: 1 answered, 0 not, -errno. */
int s3_cors_preflight_global(struct preq *pr);
/* A browser's preflight (OPTIONS) of the request's bucket and key. */
int s3_cors_preflight(struct preq *pr);
/* The Access-Control-* headers of an actual request whose Origin a rule
 * of the bucket allows for its method; nothing otherwise. 0 or -ENOMEM. */
int s3_cors_actual(struct preq *pr);

#endif /* PROXY_S3REQ_H */
