/*
 * s3_list.h - S3's listing documents made from Swift's JSON listings:
 * ListAllMyBucketsResult from an account GET, ListBucketResult (ListObjects
 * v1 and v2) from a container GET, as Swift 2.30's s3api builds them
 * (controllers/service.py and bucket.py). Also the v2 continuation token.
 *
 * The input is the body of a Swift GET with format=json: an array of
 * {"name", "hash", "bytes", "content_type", "last_modified"} rows, and
 * {"subdir": "a/"} rows when a delimiter was given. It is input: a row
 * without a string name (or subdir), or with a field of the wrong type or
 * shape, is left out of the document; a body that is not a JSON array is
 * -EINVAL. Pure functions, thread-safe.
 */
#ifndef PROXY_S3_LIST_H
#define PROXY_S3_LIST_H

#include "proxy/s3_xml.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The CreationDate of a bucket whose listing row has no last_modified:
 * s3api's made-up date (s3cmd needs one). */
#define S3_LIST_DEFAULT_DATE "2009-02-03T16:45:09.000Z"

/* Starts a ListAllMyBucketsResult in 'x' (declaration, root, Owner with
 * ID and DisplayName 'owner', then an open Buckets), for listings that
 * take several account GETs. Returns the writer's sticky error. */
int s3_list_buckets_begin(struct s3_xml *x, const char *owner);

/* Adds a Bucket (Name, CreationDate) for each row of the account listing
 * 'json' for which visible(name, arg) is true (NULL: all). s3api hides
 * the containers that are not valid bucket names, among them its
 * "<bucket>+segments" containers: pass that check. CreationDate is the
 * row's last_modified truncated to the second ("2026-12-04T21:59:50.000Z",
 * s3api's S3Timestamp.s3xmlformat), S3_LIST_DEFAULT_DATE without one.
 * Sets *n_rows to the rows the listing held (to tell the last page) and,
 * when 'last' is not NULL, *last to a malloc'ed copy of the last row's
 * name (the next GET's marker; NULL when none). Returns 0, -EINVAL (not a
 * JSON array; nothing added), -ENOMEM or the writer's sticky error.
 * s3_xml_finish() closes the document. */
int s3_list_buckets_add(struct s3_xml *x, const char *json, size_t len,
                        bool (*visible)(const char *name, void *arg), void *arg,
                        size_t *n_rows, char **last);

/* The whole document from one account listing: begin, add, finish.
 * Returns 0 with a malloc'ed document in *out (free()), or -EINVAL or
 * -ENOMEM with *out NULL. */
int s3_list_buckets(const char *owner, const char *json, size_t len,
                    bool (*visible)(const char *name, void *arg), void *arg,
                    char **out, size_t *out_len);

/* A ListObjects request, as the caller validated it. Strings are borrowed;
 * NULL means the parameter was not in the query (which is not the same as
 * empty: "delimiter=" still writes <Delimiter></Delimiter>). */
struct s3_list_query {
    const char *bucket;
    int version;                    /* 1, 2 for list-type=2, S3_LIST_VERSIONS */
    const char *prefix;             /* prefix */
    const char *delimiter;          /* delimiter */
    const char *marker;             /* v1: marker */
    const char *continuation_token; /* v2: continuation-token, as sent */
    const char *start_after;        /* v2: start-after */
    bool url;                       /* encoding-type=url */
    bool fetch_owner;               /* v2: fetch-owner=true */
    const char *owner;              /* ID and DisplayName of Owner */
    uint64_t max_keys; /* <MaxKeys>: the client's max-keys or the default */
    uint64_t limit;    /* rows to show: min(max_keys, max_bucket_listing);
                          Swift was asked for limit + 1 (limit=...) */
};

/* ListObjectVersions of a bucket that was never versioned: a
 * ListVersionsResult whose Version rows are the objects, each its "null"
 * version and the latest (KeyMarker is q->marker). */
#define S3_LIST_VERSIONS 3

/* Writes the ListBucketResult for the container listing 'json':
 *   v1: Name, Prefix, Marker, NextMarker (only when truncated and a
 *       delimiter was given: the last row shown), MaxKeys, Delimiter,
 *       EncodingType, IsTruncated, then Contents (with Owner), then
 *       CommonPrefixes;
 *   v2: Name, Prefix, NextContinuationToken (when truncated: base64 of
 *       the last row shown), ContinuationToken, StartAfter, KeyCount
 *       (Contents plus CommonPrefixes), MaxKeys, Delimiter, EncodingType,
 *       IsTruncated, Contents (Owner only with fetch_owner),
 *       CommonPrefixes.
 * IsTruncated is true when the listing holds more than q->limit rows and
 * q->limit is not 0 (max-keys=0 lists nothing and is not truncated, as in
 * s3api); the rows past q->limit are dropped. Each Contents has Key,
 * LastModified (last_modified truncated to milliseconds:
 * "2026-12-04T21:59:50.739Z"), ETag (quoted; a hash carrying s3api's
 * "; s3_etag=<etag>" parameter or an "s3_etag" field gives that etag, an
 * SLO's "slo_etag" gives "<etag>-N", as s3api), Size and StorageClass
 * STANDARD. With q->url, Key, Prefix (and CommonPrefixes' Prefix),
 * Delimiter, Marker, NextMarker and StartAfter are URL-encoded
 * (s3_xml_url_encode). Returns 0 with a malloc'ed document in *out
 * (free()), -EINVAL (not a JSON array), -EILSEQ (a query string that is
 * not valid UTF-8, without q->url) or -ENOMEM, with *out NULL. */
int s3_list_objects(const struct s3_list_query *q, const char *json, size_t len,
                    char **out, size_t *out_len);

/* The v2 continuation token for the last name of a page: its base64, as
 * s3api makes it. Returns a malloc'ed string or NULL (no memory). */
char *s3_list_token_encode(const char *name);

/* The marker in a continuation-token: 0 with a malloc'ed *name, or
 * S3_ERR_INVALID_ARGUMENT (not base64, or not UTF-8: "The continuation
 * token provided is incorrect", with ArgumentName continuation-token), or
 * -ENOMEM. */
int s3_list_token_decode(const char *token, char **name);

#endif
