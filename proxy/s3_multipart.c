/*
 * s3_multipart.c - S3 multipart uploads stored as Swift's s3api stores
 * them, so that a completed upload is one object to both APIs:
 *   <bucket>+segments/<key>/<upload id>       the upload's marker: its
 *                                             Content-Type and metadata
 *   <bucket>+segments/<key>/<upload id>/<N>   part N, an ordinary object
 *   <bucket>/<key>                            once completed: a static
 *                                             large object (slo.c) whose
 *                                             manifest names the parts
 * Every step is a Swift request (a subrequest, or the client's own
 * request rewritten for an UploadPart so the part streams), so ACLs,
 * quorum and durability are the object layer's. The S3 ETag of a
 * completed upload, the MD5 of the parts' MD5s and "-N", is kept in the
 * manifest's X-Object-Sysmeta-S3api-Etag and in its container row.
 */
#include "proxy/s3req.h"

#include "common/http.h"
#include "proxy/slo.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

/* One part as the segments container lists it. */
struct part {
    uint32_t number;
    uint64_t bytes;
    char etag[33];
    char last_modified[32];
};

static bool upload_id_ok(const char *id)
{
    size_t n = strlen(id);

    if (!n || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)id[i]) && id[i] != '-' && id[i] != '_')
            return false;
    return true;
}

/* 22 characters of base64url from 16 random bytes, as s3api's
 * unique_id(). */
static int upload_id_new(char out[23])
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
                              "vwxyz0123456789-_";
    unsigned char r[17] = {0};
    size_t o = 0;

    if (getrandom(r, 16, 0) != 16)
        return -EIO;
    for (size_t i = 0; i < 16; i += 3) {
        uint32_t v = (uint32_t)r[i] << 16 | (uint32_t)r[i + 1] << 8 |
                     (i + 2 < 17 ? r[i + 2] : 0);

        for (int k = 0; k < 4 && o < 22; k++)
            out[o++] = b64[(v >> (18 - 6 * k)) & 63];
    }
    out[22] = '\0';
    return 0;
}

/* "/v1/<account>/<bucket>+segments[/<name>]", quoted. */
static char *segments_path(const struct s3req *r, const char *name)
{
    char *seg = NULL, *qa = http_quote(r->user.account_id), *qs = NULL,
         *qn = name ? http_quote(name) : NULL, *cont = NULL;

    if (asprintf(&cont, "%s%s", r->bucket, S3_SEGMENTS_SUFFIX) >= 0)
        qs = http_quote(cont);
    if (qa && qs && (!name || qn) &&
        asprintf(&seg, "/v1/%s/%s%s%s", qa, qs, name ? "/" : "",
                 name ? qn : "") < 0)
        seg = NULL;
    free(cont);
    free(qa);
    free(qs);
    free(qn);
    return seg;
}

/* "<key>/<upload id>[/<n>]" */
static char *part_name(const struct s3req *r, const char *uid, uint32_t n)
{
    char *s = NULL;

    if ((n ? asprintf(&s, "%s/%s/%u", r->key, uid, n)
           : asprintf(&s, "%s/%s", r->key, uid)) < 0)
        return NULL;
    return s;
}

/* <bucket>+segments takes the bucket's readers: a multipart object's GET
 * reads the parts with the reader's rights (slo.c), so they must read
 * them by name. ".rlistings" is left out, since the listing would show
 * upload ids, and write grants are never copied. */
int s3_multipart_share_read_acl(struct preq *pr, const char *read_acl)
{
    struct http_header h = {"X-Container-Read", NULL};
    struct subreq_resp sr;
    char *path = segments_path(pr->s3, NULL);
    char *acl = s3_object_acl_readers(read_acl);
    int rc = -ENOMEM;

    h.value = acl;
    if (path && acl)
        rc = subreq_run(pr, "POST", path, NULL, &h, 1, NULL, 0, &sr);
    free(path);
    free(acl);
    if (rc)
        return rc;
    rc = sr.status;
    subreq_resp_release(&sr);
    if (rc / 100 == 2 || rc == 404) /* 404: no upload was ever made */
        return 0;
    rc = s3_error(pr,
                  rc == 401 || rc == 403 ? S3_ERR_ACCESS_DENIED
                                         : S3_ERR_SERVICE_UNAVAILABLE,
                  NULL, NULL, 0);
    return rc ? rc : 1;
}

static int no_such_upload(struct preq *pr, const char *uid)
{
    struct s3_xml_field f = {"UploadId", uid};

    return s3_error(pr, S3_ERR_NO_SUCH_UPLOAD, NULL, &f, 1);
}

/* HEADs the upload's marker: 1 it is there (*out filled when not NULL),
 * 0 answered (NoSuchUpload, ServiceUnavailable), -errno. */
static int find_upload(struct preq *pr, const char *uid,
                       struct subreq_resp *out)
{
    struct subreq_resp sr;
    char *name = part_name(pr->s3, uid, 0);
    char *path = name ? segments_path(pr->s3, name) : NULL;
    int rc;

    free(name);
    if (!path)
        return -ENOMEM;
    rc = subreq_run(pr, "HEAD", path, NULL, NULL, 0, NULL, 0, &sr);
    free(path);
    if (rc)
        return rc;
    if (sr.status / 100 == 2) {
        if (out)
            *out = sr;
        else
            subreq_resp_release(&sr);
        return 1;
    }
    rc = sr.status;
    subreq_resp_release(&sr);
    if (rc == 404)
        return no_such_upload(pr, uid);
    if (rc == 401 || rc == 403)
        return s3_error(pr, S3_ERR_ACCESS_DENIED, NULL, NULL, 0);
    return s3_error(pr, S3_ERR_SERVICE_UNAVAILABLE, NULL, NULL, 0);
}

static int cmp_part(const void *a, const void *b)
{
    const struct part *x = a, *y = b;

    return x->number < y->number ? -1 : x->number > y->number;
}

/* Every part of the upload, by number. */
static int list_parts(struct preq *pr, const char *uid, struct part **out,
                      size_t *n_out)
{
    struct subreq_resp sr;
    char *prefix = part_name(pr->s3, uid, 0),
         *path = segments_path(pr->s3, NULL);
    char *query = NULL;
    size_t qlen = 0, n = 0, i;
    FILE *f = NULL;
    json_t *rows, *row;
    struct part *parts = NULL;
    int rc = -ENOMEM;

    *out = NULL;
    *n_out = 0;
    if (prefix && path && (f = open_memstream(&query, &qlen))) {
        char *pfx = NULL;

        fprintf(f, "format=json&limit=%d", S3_MAX_PARTS);
        if (asprintf(&pfx, "%s/", prefix) >= 0) {
            s3_query_add(f, "prefix", pfx);
            free(pfx);
            rc = 0;
        }
        if (fclose(f))
            rc = -ENOMEM;
    }
    if (!rc)
        rc = subreq_run(pr, "GET", path, query, NULL, 0, NULL, 0, &sr);
    free(query);
    free(path);
    if (rc) {
        free(prefix);
        return rc;
    }
    rows = sr.status == 200 ? json_loadb(sr.body, sr.body_len, 0, NULL)
                            : json_array();
    subreq_resp_release(&sr);
    if (json_is_array(rows) && json_array_size(rows) &&
        !(parts = calloc(json_array_size(rows), sizeof(*parts))))
        rc = -ENOMEM;
    json_array_foreach(rows, i, row)
    {
        const char *name = json_string_value(json_object_get(row, "name"));
        const char *hash = json_string_value(json_object_get(row, "hash"));
        const char *lm =
            json_string_value(json_object_get(row, "last_modified"));
        json_t *bytes = json_object_get(row, "bytes");
        size_t pl = strlen(prefix);
        char *end;
        unsigned long num;

        if (rc || !name || !hash || !json_is_integer(bytes) ||
            strncmp(name, prefix, pl) || name[pl] != '/' ||
            !isdigit((unsigned char)name[pl + 1]))
            continue;
        num = strtoul(name + pl + 1, &end, 10);
        if (*end || !num || num > S3_MAX_PARTS)
            continue;
        parts[n].number = (uint32_t)num;
        parts[n].bytes = (uint64_t)json_integer_value(bytes);
        snprintf(parts[n].etag, sizeof(parts[n].etag), "%.32s", hash);
        snprintf(parts[n].last_modified, sizeof(parts[n].last_modified), "%s",
                 lm ? lm : "");
        n++;
    }
    json_decref(rows);
    free(prefix);
    if (rc) {
        free(parts);
        return rc;
    }
    qsort(parts, n, sizeof(*parts), cmp_part);
    *out = parts;
    *n_out = n;
    return 0;
}

/* Swift's "2026-12-04T21:59:50.739678" as S3's "...50.739Z". */
static void s3_date(const char *swift, char out[32])
{
    if (strlen(swift) >= 19)
        snprintf(out, 32, "%.19s.%.3sZ", swift,
                 strlen(swift) >= 23 ? swift + 20 : "000");
    else
        snprintf(out, 32, "1970-01-01T00:00:00.000Z");
}

/* ---- the operations ---- */

/* An upload's Initiator and Owner: the user who signed (the writer's
 * errors are sticky, so one check at the end is enough). */
static int initiator_owner(struct s3_xml *x, const char *id)
{
    s3_xml_open(x, "Initiator");
    s3_xml_elem(x, "ID", id);
    s3_xml_elem(x, "DisplayName", id);
    s3_xml_close(x);
    s3_xml_open(x, "Owner");
    s3_xml_elem(x, "ID", id);
    s3_xml_elem(x, "DisplayName", id);
    return s3_xml_close(x);
}

struct meta_headers {
    struct hlist *h;
    int rc;
};

static int copy_meta(const char *name, const char *value, void *arg)
{
    struct meta_headers *m = arg;
    char swift[300];

    if (strncasecmp(name, "x-amz-meta-", 11) || strlen(name) > 250)
        return 0;
    snprintf(swift, sizeof(swift), "X-Object-Meta-%s", name + 11);
    return m->rc = hlist_add(m->h, swift, value);
}

/* PUTs the segments container with the bucket's readers
 * (s3_multipart_share_read_acl()): 0 with *sr, -errno. */
static int segments_put(struct preq *pr, struct subreq_resp *sr)
{
    struct http_header h = {"X-Container-Read", NULL};
    struct info ci;
    char *path = segments_path(pr->s3, NULL), *acl;
    int rc = -ENOMEM;

    info_get(pr, pr->s3->user.account_id, pr->s3->bucket, &ci);
    acl = s3_object_acl_readers(hlist_get(&ci.headers, "X-Container-Read"));
    info_release(&ci);
    h.value = acl;
    if (path && acl)
        rc = subreq_run(pr, "PUT", path, NULL, &h, 1, NULL, 0, sr);
    free(path);
    free(acl);
    return rc;
}

static int initiate(struct preq *pr)
{
    struct s3req *r = pr->s3;
    struct subreq_resp sr;
    struct hlist h = {0};
    struct meta_headers mh = {&h, 0};
    struct s3_xml x = {0};
    const char *ct = req_header(pr->req, "Content-Type");
    char uid[23], *path, *name, *doc = NULL;
    size_t len = 0;
    int rc, ex = s3_bucket_exists(pr);

    if (ex <= 0)
        return ex ? s3_error(pr, S3_ERR_SERVICE_UNAVAILABLE, NULL, NULL, 0)
                  : s3_no_such_bucket(pr);
    rc = s3_object_acl_header(pr);
    if (rc)
        return rc < 0 ? rc : 0;
    rc = upload_id_new(uid);
    if (rc)
        return rc;
    /* the segments container, made once per bucket, readable by the
     * bucket's readers as it is now */
    rc = segments_put(pr, &sr);
    if (rc)
        return rc;
    rc = sr.status;
    subreq_resp_release(&sr);
    if (rc / 100 != 2)
        return s3_error(pr,
                        rc == 403 || rc == 401 ? S3_ERR_ACCESS_DENIED
                                               : S3_ERR_SERVICE_UNAVAILABLE,
                        NULL, NULL, 0);
    /* the marker keeps what the object will be given at completion */
    rc = hlist_add(&h, "Content-Type", ct ? ct : "binary/octet-stream");
    if (!rc)
        rc = req_foreach_header(pr->req, copy_meta, &mh) ? mh.rc : 0;
    name = part_name(r, uid, 0);
    path = name ? segments_path(r, name) : NULL;
    free(name);
    if (!rc && !path)
        rc = -ENOMEM;
    if (!rc)
        rc = subreq_run(pr, "PUT", path, NULL, h.v, h.n, NULL, 0, &sr);
    free(path);
    hlist_release(&h);
    if (rc)
        return rc;
    if (sr.status / 100 != 2) {
        unsigned int st = sr.status;

        subreq_resp_release(&sr);
        if (st == 400)
            return s3_error(pr, S3_ERR_METADATA_TOO_LARGE, NULL, NULL, 0);
        return s3_error(pr, S3_ERR_SERVICE_UNAVAILABLE, NULL, NULL, 0);
    }
    subreq_resp_release(&sr);
    s3_xml_declaration(&x);
    s3_xml_root(&x, "InitiateMultipartUploadResult");
    s3_xml_elem(&x, "Bucket", r->bucket);
    s3_xml_elem(&x, "Key", r->key);
    s3_xml_elem(&x, "UploadId", uid);
    rc = s3_xml_finish(&x, &doc, &len);
    s3_xml_release(&x);
    return rc ? rc : s3_respond_xml(pr, 200, doc, len);
}

/* The part number of an UploadPart: 1..10000, else answered. */
static int part_number(struct preq *pr, uint32_t *out)
{
    const char *v = req_param(pr->req, "partNumber");
    char *end;
    unsigned long n = v ? strtoul(v, &end, 10) : 0;

    if (!v || !*v || *end || !isdigit((unsigned char)*v) || n < 1 ||
        n > S3_MAX_PARTS) {
        struct s3_xml_field f[2] = {{"ArgumentName", "partNumber"},
                                    {"ArgumentValue", v ? v : ""}};

        s3_error(pr, S3_ERR_INVALID_ARGUMENT,
                 "Part number must be an integer between 1 and 10000, "
                 "inclusive",
                 f, 2);
        return 1;
    }
    *out = (uint32_t)n;
    return 0;
}

/* UploadPart (and UploadPartCopy): the client's PUT, rewritten to the
 * part's object, streams through the Swift controllers. */
static int upload_part(struct preq *pr, const char *uid)
{
    struct s3req *r = pr->s3;
    uint32_t n;
    char *bucket, *key;
    int rc;

    if (part_number(pr, &n))
        return 0;
    rc = find_upload(pr, uid, NULL);
    if (rc <= 0)
        return rc;
    if (asprintf(&bucket, "%s%s", r->bucket, S3_SEGMENTS_SUFFIX) < 0)
        return -ENOMEM;
    key = part_name(r, uid, n);
    if (!key) {
        free(bucket);
        return -ENOMEM;
    }
    free(r->bucket);
    free(r->key);
    r->bucket = bucket;
    r->key = key;
    if (req_header(pr->req, "x-amz-copy-source")) {
        r->op = OP_UPLOAD_PART_COPY;
        return s3_object_copy(pr);
    }
    r->op = OP_UPLOAD_PART;
    return s3_object_put(pr);
}

static int list_parts_op(struct preq *pr, const char *uid)
{
    struct s3req *r = pr->s3;
    struct part *parts = NULL;
    struct s3_xml x = {0};
    const char *mp = req_param(pr->req, "max-parts");
    const char *pm = req_param(pr->req, "part-number-marker");
    unsigned long max = mp ? strtoul(mp, NULL, 10) : 1000;
    unsigned long marker = pm ? strtoul(pm, NULL, 10) : 0;
    size_t n = 0, shown = 0, i;
    char *doc = NULL;
    size_t len = 0;
    int rc = find_upload(pr, uid, NULL);

    if (rc <= 0)
        return rc;
    if (max > 1000)
        max = 1000;
    rc = list_parts(pr, uid, &parts, &n);
    if (rc)
        return rc;
    rc = s3_xml_declaration(&x);
    if (!rc)
        rc = s3_xml_root(&x, "ListPartsResult");
    if (!rc)
        rc = s3_xml_elem(&x, "Bucket", r->bucket);
    if (!rc)
        rc = s3_xml_elem(&x, "Key", r->key);
    if (!rc)
        rc = s3_xml_elem(&x, "UploadId", uid);
    if (!rc)
        rc = initiator_owner(&x, r->sig.access_key);
    if (!rc)
        rc = s3_xml_elem(&x, "StorageClass", "STANDARD");
    if (!rc)
        rc = s3_xml_elemf(&x, "PartNumberMarker", "%lu", marker);
    for (i = 0; i < n && parts[i].number <= marker; i++)
        ;
    {
        size_t first = i, last = i;

        for (; last < n && shown < max; last++)
            shown++;
        if (!rc)
            rc = s3_xml_elemf(&x, "NextPartNumberMarker", "%u",
                              shown ? parts[last - 1].number : 0);
        if (!rc)
            rc = s3_xml_elemf(&x, "MaxParts", "%lu", max);
        if (!rc)
            rc = s3_xml_elem(&x, "IsTruncated", last < n ? "true" : "false");
        for (i = first; !rc && i < last; i++) {
            char date[32], etag[40];

            s3_date(parts[i].last_modified, date);
            snprintf(etag, sizeof(etag), "\"%s\"", parts[i].etag);
            rc = s3_xml_open(&x, "Part");
            if (!rc)
                rc = s3_xml_elemf(&x, "PartNumber", "%u", parts[i].number);
            if (!rc)
                rc = s3_xml_elem(&x, "LastModified", date);
            if (!rc)
                rc = s3_xml_elem(&x, "ETag", etag);
            if (!rc)
                rc = s3_xml_elemf(&x, "Size", "%llu",
                                  (unsigned long long)parts[i].bytes);
            if (!rc)
                rc = s3_xml_close(&x);
        }
    }
    free(parts);
    if (!rc)
        rc = s3_xml_finish(&x, &doc, &len);
    s3_xml_release(&x);
    return rc ? rc : s3_respond_xml(pr, 200, doc, len);
}

/* Deletes the parts and the marker of an upload. */
static int delete_upload(struct preq *pr, const char *uid, bool marker)
{
    struct part *parts = NULL;
    size_t n = 0;
    int rc = list_parts(pr, uid, &parts, &n);

    for (size_t i = 0; !rc && i <= n; i++) {
        struct subreq_resp sr;
        char *name, *path;

        if (i == n && !marker)
            break;
        name = part_name(pr->s3, uid, i < n ? parts[i].number : 0);
        path = name ? segments_path(pr->s3, name) : NULL;
        free(name);
        if (!path) {
            rc = -ENOMEM;
            break;
        }
        rc = subreq_run(pr, "DELETE", path, NULL, NULL, 0, NULL, 0, &sr);
        free(path);
        if (!rc)
            subreq_resp_release(&sr);
    }
    free(parts);
    return rc;
}

static int abort_upload(struct preq *pr, const char *uid)
{
    int rc = find_upload(pr, uid, NULL);

    if (rc <= 0)
        return rc;
    rc = delete_upload(pr, uid, true);
    return rc ? rc : s3_respond_empty(pr, 204);
}

int s3_multipart_op(struct preq *pr, const char *m)
{
    struct s3req *r = pr->s3;
    const char *uid = req_param(pr->req, "uploadId");

    if (!uid) {
        if (!strcmp(m, "POST") && req_param(pr->req, "uploads"))
            return initiate(pr);
        return s3_error(pr, S3_ERR_METHOD_NOT_ALLOWED, NULL, NULL, 0);
    }
    if (!upload_id_ok(uid))
        return no_such_upload(pr, uid);
    if (!strcmp(m, "PUT"))
        return upload_part(pr, uid);
    if (!strcmp(m, "GET"))
        return list_parts_op(pr, uid);
    if (!strcmp(m, "DELETE"))
        return abort_upload(pr, uid);
    if (!strcmp(m, "POST")) {
        r->op = OP_COMPLETE_UPLOAD;
        r->xml_max = S3_MAX_COMPLETE_BODY;
        if (pr->body_length > S3_MAX_COMPLETE_BODY)
            return s3_error(pr, S3_ERR_MALFORMED_XML, NULL, NULL, 0);
        return 0; /* completed when the body is in */
    }
    return s3_error(pr, S3_ERR_METHOD_NOT_ALLOWED, NULL, NULL, 0);
}

/* The manifest of the parts the client named, checked against what was
 * uploaded. 0 with *manifest, *total, the S3 ETag; 1 answered. */
static int build_manifest(struct preq *pr, const char *uid,
                          const struct s3_xml_complete *c,
                          const struct part *parts, size_t n, char **manifest,
                          uint64_t *total, char s3_etag[48], char slo_etag[33])
{
    struct s3req *r = pr->s3;
    json_t *list = json_array();
    EVP_MD_CTX *s3md = EVP_MD_CTX_new(), *slomd = EVP_MD_CTX_new();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    size_t k = 0;
    int rc = list && s3md && slomd ? 0 : -ENOMEM;

    *total = 0;
    if (!rc) {
        EVP_DigestInit_ex(s3md, EVP_md5(), NULL);
        EVP_DigestInit_ex(slomd, EVP_md5(), NULL);
    }
    for (size_t i = 0; !rc && i < c->n_parts; i++) {
        const struct s3_xml_part *want = &c->parts[i];
        unsigned char bin[16];
        char *name = NULL, pn[16];
        json_t *row;

        while (k < n && parts[k].number < want->number)
            k++;
        if (k == n || parts[k].number != want->number ||
            strcasecmp(parts[k].etag, want->etag)) {
            struct s3_xml_field f[3] = {
                {"UploadId", uid}, {"PartNumber", pn}, {"ETag", want->etag}};

            snprintf(pn, sizeof(pn), "%u", want->number);
            s3_error(pr, S3_ERR_INVALID_PART, NULL, f, 3);
            rc = 1;
            break;
        }
        if (i + 1 < c->n_parts && parts[k].bytes < S3_MIN_PART_SIZE) {
            char size[32], min[32];
            struct s3_xml_field f[4] = {{"ProposedSize", size},
                                        {"MinSizeAllowed", min},
                                        {"PartNumber", pn},
                                        {"ETag", want->etag}};

            snprintf(size, sizeof(size), "%llu",
                     (unsigned long long)parts[k].bytes);
            snprintf(min, sizeof(min), "%d", S3_MIN_PART_SIZE);
            snprintf(pn, sizeof(pn), "%u", want->number);
            s3_error(pr, S3_ERR_ENTITY_TOO_SMALL, NULL, f, 4);
            rc = 1;
            break;
        }
        for (int b = 0; b < 16; b++) {
            unsigned int v;

            sscanf(parts[k].etag + 2 * b, "%2x", &v);
            bin[b] = (unsigned char)v;
        }
        EVP_DigestUpdate(s3md, bin, 16);
        EVP_DigestUpdate(slomd, parts[k].etag, 32);
        *total += parts[k].bytes;
        if (asprintf(&name, "/%s%s/%s/%s/%u", r->bucket, S3_SEGMENTS_SUFFIX,
                     r->key, uid, want->number) < 0) {
            rc = -ENOMEM;
            break;
        }
        row = json_pack("{s:s, s:I, s:s, s:s, s:s}", "name", name, "bytes",
                        (json_int_t)parts[k].bytes, "hash", parts[k].etag,
                        "content_type", "application/octet-stream",
                        "last_modified", parts[k].last_modified);
        free(name);
        if (!row || json_array_append_new(list, row))
            rc = -ENOMEM;
    }
    if (!rc) {
        EVP_DigestFinal_ex(s3md, md, &mdlen);
        for (unsigned int b = 0; b < 16; b++)
            snprintf(s3_etag + 2 * b, 3, "%02x", md[b]);
        snprintf(s3_etag + 32, 16, "-%zu", c->n_parts);
        EVP_DigestFinal_ex(slomd, md, &mdlen);
        for (unsigned int b = 0; b < 16; b++)
            snprintf(slo_etag + 2 * b, 3, "%02x", md[b]);
        *manifest = json_dumps(list, JSON_COMPACT);
        if (!*manifest)
            rc = -ENOMEM;
    }
    json_decref(list);
    EVP_MD_CTX_free(s3md);
    EVP_MD_CTX_free(slomd);
    return rc;
}

int s3_multipart_complete(struct preq *pr)
{
    struct s3req *r = pr->s3;
    const char *uid = req_param(pr->req, "uploadId");
    struct s3_xml_complete c = {0};
    struct subreq_resp marker, sr;
    struct part *parts = NULL;
    struct hlist h = {0};
    struct s3_xml x = {0};
    char s3_etag[48], slo_etag[33], quoted[56], *manifest = NULL;
    char *path = NULL, *doc = NULL, buf[160];
    uint64_t total = 0;
    size_t n = 0, len = 0;
    int rc;

    if (r->xml_over)
        return s3_error(pr, S3_ERR_MALFORMED_XML, NULL, NULL, 0);
    rc = s3_xml_parse_complete(r->xml ? r->xml : "", r->xml_len,
                               S3_MAX_COMPLETE_BODY, S3_MAX_PARTS, &c);
    if (rc > 0) {
        char pn[16];
        struct s3_xml_field f[2] = {{"UploadId", uid}, {"PartNumber", pn}};

        snprintf(pn, sizeof(pn), "%u", c.bad_part);
        return s3_error(pr, (enum s3_err)rc, NULL, f,
                        rc == S3_ERR_INVALID_PART ? 2 : 0);
    }
    if (rc)
        return rc;
    rc = find_upload(pr, uid, &marker);
    if (rc <= 0) {
        s3_xml_complete_release(&c);
        return rc;
    }
    rc = list_parts(pr, uid, &parts, &n);
    if (!rc)
        rc = build_manifest(pr, uid, &c, parts, n, &manifest, &total, s3_etag,
                            slo_etag);
    free(parts);
    s3_xml_complete_release(&c);
    if (rc) {
        subreq_resp_release(&marker);
        return rc < 0 ? rc : 0;
    }
    /* the object: the marker's type and metadata, the manifest's marks */
    for (size_t i = 0; !rc && i < marker.headers.n; i++) {
        const char *name = marker.headers.v[i].name;

        if (!strncasecmp(name, "X-Object-Meta-", 14))
            rc = hlist_add(&h, name, marker.headers.v[i].value);
    }
    {
        const char *ct = hlist_get(&marker.headers, "Content-Type");

        snprintf(buf, sizeof(buf), "%.100s;swift_bytes=%llu",
                 ct ? ct : "binary/octet-stream", (unsigned long long)total);
    }
    if (!rc)
        rc = hlist_add(&h, "Content-Type", buf);
    if (!rc)
        rc = hlist_add(&h, "X-Static-Large-Object", "True");
    if (!rc)
        rc = s3_lifecycle_apply(pr, r->key, &h);
    if (!rc)
        rc = hlist_add(&h, "X-Object-Sysmeta-S3api-Etag", s3_etag);
    if (!rc)
        rc = hlist_add(&h, "X-Object-Sysmeta-Slo-Etag", slo_etag);
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)total);
    if (!rc)
        rc = hlist_add(&h, "X-Object-Sysmeta-Slo-Size", buf);
    snprintf(buf, sizeof(buf), "%s; s3_etag=%s; slo_etag=%s", slo_etag, s3_etag,
             slo_etag);
    if (!rc)
        rc = hlist_add(&h, "X-Object-Sysmeta-Container-Update-Override-Etag",
                       buf);
    subreq_resp_release(&marker);
    path = s3_swift_quoted(r, r->key);
    if (!rc && !path)
        rc = -ENOMEM;
    if (!rc)
        rc = subreq_run(pr, "PUT", path, NULL, h.v, h.n, manifest,
                        strlen(manifest), &sr);
    free(path);
    free(manifest);
    hlist_release(&h);
    if (rc)
        return rc;
    rc = sr.status;
    if (rc / 100 != 2)
        req_log(pr->req, LOG_ERR, "S3 complete %s/%s: manifest PUT %d: %.200s",
                r->bucket, r->key, rc, sr.body ? sr.body : "");
    subreq_resp_release(&sr);
    if (rc / 100 != 2)
        return s3_error(pr,
                        rc == 404   ? S3_ERR_NO_SUCH_BUCKET
                        : rc == 403 ? S3_ERR_ACCESS_DENIED
                                    : S3_ERR_SERVICE_UNAVAILABLE,
                        NULL, NULL, 0);
    /* the upload is done: its marker goes, its parts stay as segments */
    {
        char *name = part_name(r, uid, 0);

        path = name ? segments_path(r, name) : NULL;
        free(name);
        if (path &&
            !subreq_run(pr, "DELETE", path, NULL, NULL, 0, NULL, 0, &sr))
            subreq_resp_release(&sr);
        free(path);
    }
    snprintf(quoted, sizeof(quoted), "\"%s\"", s3_etag);
    rc = s3_xml_declaration(&x);
    if (!rc)
        rc = s3_xml_root(&x, "CompleteMultipartUploadResult");
    {
        const char *host = req_header(pr->req, "Host");
        char loc[600];

        snprintf(loc, sizeof(loc), "http://%s/%s/%s", host ? host : "",
                 r->bucket, r->key);
        if (!rc)
            rc = s3_xml_elem(&x, "Location", loc);
    }
    if (!rc)
        rc = s3_xml_elem(&x, "Bucket", r->bucket);
    if (!rc)
        rc = s3_xml_elem(&x, "Key", r->key);
    if (!rc)
        rc = s3_xml_elem(&x, "ETag", quoted);
    if (!rc)
        rc = s3_xml_finish(&x, &doc, &len);
    s3_xml_release(&x);
    return rc ? rc : s3_respond_xml(pr, 200, doc, len);
}

/* Whether a manifest HEAD's headers are an S3 multipart object's: an
 * SLO that CompleteMultipartUpload wrote, with S3's sysmeta, as
 * storage/direct_delete.c asks before the expirer takes parts. A Swift
 * API SLO has no sysmeta and keeps its segments, wherever they are. */
static bool is_s3_multipart(const struct subreq_resp *sr)
{
    const char *slo = hlist_get(&sr->headers, "X-Static-Large-Object");
    const char *etag = hlist_get(&sr->headers, "X-Object-Sysmeta-S3api-Etag");
    bool on = false;

    return sr->status == 200 && slo && !conf_parse_bool(slo, &on) && on &&
           etag && *etag;
}

int s3_multipart_delete_parts(struct preq *pr)
{
    struct s3req *r = pr->s3;
    struct subreq_resp sr;
    char *path = s3_swift_quoted(r, r->key), *seg = NULL;
    json_t *rows, *row;
    size_t i, seg_len;
    int rc;

    if (!path)
        return -ENOMEM;
    rc = slo_manifest_get(pr, path, is_s3_multipart, &sr);
    free(path);
    if (rc)
        return rc;
    /* the GET's answer carries the manifest's headers too */
    if (!is_s3_multipart(&sr)) {
        subreq_resp_release(&sr);
        return 0; /* not a multipart object, or gone meanwhile */
    }
    rows = json_loadb(sr.body, sr.body_len, 0, NULL);
    subreq_resp_release(&sr);
    /* only this key's parts in this bucket's segments container: the
     * manifest may have been rewritten through the Swift API to name
     * other objects */
    if (asprintf(&seg, "/%s%s/%s/", r->bucket, S3_SEGMENTS_SUFFIX, r->key) <
        0) {
        json_decref(rows);
        return -ENOMEM;
    }
    seg_len = strlen(seg);
    json_array_foreach(rows, i, row)
    {
        const char *name = json_string_value(json_object_get(row, "name"));
        char *q, *full = NULL;

        if (!name || strncmp(name, seg, seg_len))
            continue;
        q = http_quote(name);
        if (q && asprintf(&full, "/v1/%s%s", r->user.account_id, q) >= 0 &&
            !subreq_run(pr, "DELETE", full, NULL, NULL, 0, NULL, 0, &sr))
            subreq_resp_release(&sr);
        free(full);
        free(q);
    }
    free(seg);
    json_decref(rows);
    return 0;
}

int s3_multipart_list_uploads(struct preq *pr)
{
    struct s3req *r = pr->s3;
    struct subreq_resp sr;
    struct s3_xml x = {0};
    const char *prefix = req_param(pr->req, "prefix");
    const char *mu = req_param(pr->req, "max-uploads");
    unsigned long max = mu ? strtoul(mu, NULL, 10) : 1000;
    char *path = segments_path(r, NULL), *query = NULL, *doc = NULL;
    size_t qlen = 0, len = 0, shown = 0, i;
    json_t *rows = NULL, *row;
    FILE *f;
    int rc, ex = s3_bucket_exists(pr);

    if (ex <= 0) {
        free(path);
        return ex ? s3_error(pr, S3_ERR_SERVICE_UNAVAILABLE, NULL, NULL, 0)
                  : s3_no_such_bucket(pr);
    }
    if (max > 1000)
        max = 1000;
    f = path ? open_memstream(&query, &qlen) : NULL;
    if (!f) {
        free(path);
        return -ENOMEM;
    }
    fprintf(f, "format=json&limit=10000");
    if (prefix)
        s3_query_add(f, "prefix", prefix);
    rc = fclose(f) ? -ENOMEM : 0;
    if (!rc)
        rc = subreq_run(pr, "GET", path, query, NULL, 0, NULL, 0, &sr);
    free(path);
    free(query);
    if (rc)
        return rc;
    if (sr.status == 200)
        rows = json_loadb(sr.body, sr.body_len, 0, NULL);
    subreq_resp_release(&sr);
    rc = s3_xml_declaration(&x);
    if (!rc)
        rc = s3_xml_root(&x, "ListMultipartUploadsResult");
    if (!rc)
        rc = s3_xml_elem(&x, "Bucket", r->bucket);
    if (!rc)
        rc = s3_xml_elem(&x, "KeyMarker", "");
    if (!rc)
        rc = s3_xml_elem(&x, "UploadIdMarker", "");
    if (!rc && prefix)
        rc = s3_xml_elem(&x, "Prefix", prefix);
    if (!rc)
        rc = s3_xml_elemf(&x, "MaxUploads", "%lu", max);
    json_array_foreach(rows, i, row)
    {
        const char *name = json_string_value(json_object_get(row, "name"));
        const char *lm =
            json_string_value(json_object_get(row, "last_modified"));
        const char *slash = name ? strrchr(name, '/') : NULL;
        char *key, date[32];

        /* markers are "<key>/<id>"; parts "<key>/<id>/<n>" */
        if (rc || !slash || !upload_id_ok(slash + 1) ||
            strspn(slash + 1, "0123456789") == strlen(slash + 1))
            continue;
        if (shown == max)
            break;
        key = strndup(name, (size_t)(slash - name));
        if (!key) {
            rc = -ENOMEM;
            break;
        }
        s3_date(lm ? lm : "", date);
        rc = s3_xml_open(&x, "Upload");
        if (!rc)
            rc = s3_xml_elem(&x, "Key", key);
        if (!rc)
            rc = s3_xml_elem(&x, "UploadId", slash + 1);
        if (!rc)
            rc = initiator_owner(&x, r->sig.access_key);
        if (!rc)
            rc = s3_xml_elem(&x, "StorageClass", "STANDARD");
        if (!rc)
            rc = s3_xml_elem(&x, "Initiated", date);
        if (!rc)
            rc = s3_xml_close(&x);
        free(key);
        shown++;
    }
    if (!rc)
        rc = s3_xml_elem(&x, "IsTruncated", "false");
    json_decref(rows);
    if (!rc)
        rc = s3_xml_finish(&x, &doc, &len);
    s3_xml_release(&x);
    return rc ? rc : s3_respond_xml(pr, 200, doc, len);
}
