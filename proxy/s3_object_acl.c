/*
 * s3_object_acl.c - object ACLs where Swift's ACLs can say them. Swift
 * keeps ACLs on containers only: an object can be read by whoever may
 * read its container. So an object ACL is taken when it grants reading to
 * exactly those the bucket's ACL already lets read (a no-op that leaves
 * the object as asked), and is answered NotImplemented otherwise, before
 * anything is written: an ACL is never dropped silently (Swift's s3api
 * answers NotImplemented to every PutObjectAcl and ignores x-amz-acl on
 * PutObject). This serves PutObjectAcl and the x-amz-acl and
 * x-amz-grant-* headers of PutObject, CopyObject and
 * CreateMultipartUpload. Write grants say nothing on an object (S3 has no
 * object WRITE), and the bucket's owner has FULL_CONTROL of every object
 * in it, so "bucket-owner-read" and "bucket-owner-full-control" are
 * "private" here: the owner is the account.
 */
#include "proxy/s3req.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_GRANTEES 64

/* The next entry of the Swift read ACL at *acl that grants reading
 * objects, spaces trimmed: its start and *len, *acl past it; NULL at the
 * end. ".rlistings" only lets list the container, so it is skipped. */
static const char *next_reader(const char **acl, size_t *len)
{
    while (*acl && **acl) {
        size_t n = strcspn(*acl, ",");
        const char *s = *acl, *e = *acl + n;

        *acl = *e ? e + 1 : e;
        while (s < e && *s == ' ')
            s++;
        while (e > s && e[-1] == ' ')
            e--;
        if (e == s || ((size_t)(e - s) == 10 && !strncmp(s, ".rlistings", 10)))
            continue;
        *len = (size_t)(e - s);
        return s;
    }
    return NULL;
}

/* The entries of a Swift read ACL that grant reading objects, sorted.
 * The count, or -1 when there are more than 'max'. */
static int read_grantees(const char *acl, char (*out)[256], int max)
{
    const char *s;
    size_t len;
    int n = 0;

    while ((s = next_reader(&acl, &len))) {
        if (len >= 256)
            continue;
        if (n == max)
            return -1;
        memcpy(out[n], s, len);
        out[n][len] = '\0';
        /* insertion sort: a handful of entries */
        for (int i = n; i > 0 && strcmp(out[i - 1], out[i]) > 0; i--) {
            char t[256];

            memcpy(t, out[i], sizeof(t));
            memcpy(out[i], out[i - 1], sizeof(t));
            memcpy(out[i - 1], t, sizeof(t));
        }
        n++;
    }
    return n;
}

char *s3_object_acl_readers(const char *read_acl)
{
    char *out = NULL;
    size_t out_len = 0, len;
    FILE *f = open_memstream(&out, &out_len);
    const char *s;
    bool first = true;

    if (!f)
        return NULL;
    while ((s = next_reader(&read_acl, &len))) {
        fprintf(f, "%s%.*s", first ? "" : ",", (int)len, s);
        first = false;
    }
    if (fclose(f)) {
        free(out);
        return NULL;
    }
    return out;
}

/* Whether two Swift read ACLs let the same grantees read objects. */
static bool same_readers(const char *a, const char *b)
{
    char(*ga)[256] = malloc(2 * MAX_GRANTEES * sizeof(*ga));
    char(*gb)[256] = ga ? ga + MAX_GRANTEES : NULL;
    int na, nb;
    bool same;

    if (!ga)
        return false;
    na = read_grantees(a, ga, MAX_GRANTEES);
    nb = read_grantees(b, gb, MAX_GRANTEES);
    same = na >= 0 && na == nb;
    for (int i = 0; same && i < na; i++)
        same = !strcmp(ga[i], gb[i]);
    free(ga);
    return same;
}

static bool owner_canned(const char *canned)
{
    return canned && (!strcmp(canned, "bucket-owner-read") ||
                      !strcmp(canned, "bucket-owner-full-control"));
}

static bool has_acl_headers(struct preq *pr)
{
    static const char *const names[] = {
        "x-amz-acl",          "x-amz-grant-read",
        "x-amz-grant-write",  "x-amz-grant-full-control",
        "x-amz-grant-read-acp", "x-amz-grant-write-acp",
    };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (req_header(pr->req, names[i]))
            return true;
    return false;
}

/* The request's object ACL (headers, or 'body' for PutObjectAcl) against
 * the bucket's: 0 when they grant the same readers, 1 when answered
 * (NotImplemented, or the ACL's own error), -errno. */
static int check(struct preq *pr, const char *body, size_t len)
{
    const char *canned = req_header(pr->req, "x-amz-acl");
    char *rd = NULL, *wr = NULL;
    struct info ci;
    bool same;
    int rc;

    if (owner_canned(canned) && !len) {
        rd = NULL; /* as "private" */
    } else {
        rc = s3_acl_from_request(pr, body, len, &rd, &wr);
        if (rc)
            return rc;
    }
    info_get(pr, pr->s3->user.account_id, pr->s3->bucket, &ci);
    if (ci.status / 100 != 2) {
        info_release(&ci);
        free(rd);
        free(wr);
        rc = ci.status == 404 ? s3_no_such_bucket(pr)
                              : s3_error(pr, S3_ERR_SERVICE_UNAVAILABLE, NULL,
                                         NULL, 0);
        return rc ? rc : 1;
    }
    same = same_readers(rd, hlist_get(&ci.headers, "X-Container-Read"));
    info_release(&ci);
    free(rd);
    free(wr);
    if (same)
        return 0;
    rc = s3_error(pr, S3_ERR_NOT_IMPLEMENTED,
                  "An object's ACL is its bucket's here (Swift container "
                  "ACLs): this ACL grants other readers than the bucket's; "
                  "set it on the bucket",
                  NULL, 0);
    return rc ? rc : 1;
}

int s3_object_acl_header(struct preq *pr)
{
    return has_acl_headers(pr) ? check(pr, NULL, 0) : 0;
}

int s3_object_acl_put(struct preq *pr)
{
    struct s3req *r = pr->s3;
    struct subreq_resp sr;
    char *path;
    int rc;

    if (r->xml_over)
        return s3_error(pr, S3_ERR_MALFORMED_ACL, NULL, NULL, 0);
    path = s3_swift_quoted(r, r->key);
    rc = path ? subreq_run(pr, "HEAD", path, NULL, NULL, 0, NULL, 0, &sr)
              : -ENOMEM;
    free(path);
    if (rc)
        return rc;
    rc = (int)sr.status;
    subreq_resp_release(&sr);
    if (rc == 404) {
        struct s3_xml_field f = {"Key", r->key};

        return s3_error(pr, S3_ERR_NO_SUCH_KEY, NULL, &f, 1);
    }
    if (rc / 100 != 2)
        return s3_error(pr,
                        rc == 401 || rc == 403 ? S3_ERR_ACCESS_DENIED
                                               : S3_ERR_SERVICE_UNAVAILABLE,
                        NULL, NULL, 0);
    rc = check(pr, r->xml, r->xml_len);
    if (rc)
        return rc < 0 ? rc : 0;
    return s3_respond_empty(pr, 200);
}
