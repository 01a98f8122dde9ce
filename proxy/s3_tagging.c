/*
 * s3_tagging.c - S3 object tagging on Swift objects. The tags live in the
 * object's transient system metadata (X-Object-Transient-Sysmeta-S3api-
 * Tagging, "k=v&k2=v2" percent-encoded, the form of S3's x-amz-tagging
 * header): the kind of metadata a Swift POST may change without
 * rewriting the object. A POST replaces all of an object's user metadata
 * and its X-Delete-At, so Put/DeleteObjectTagging read the object first
 * (a HEAD subrequest) and post what it had along with the new tags.
 * Limits as AWS: 10 tags, keys up to 128 and values up to 256
 * characters, no key twice.
 */
#include "proxy/s3_bucket_doc.h"
#include "proxy/s3req.h"

#include "common/http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TAGGING_SYSMETA "X-Object-Transient-Sysmeta-S3api-Tagging"
#define BUCKET_TAGGING_SYSMETA "X-Container-Sysmeta-S3api-Tagging"
#define MAX_OBJECT_TAGS 10
#define MAX_BUCKET_TAGS 50
#define MAX_TAGGING_BODY (64 * 1024)

/* UTF-8 characters in 's' (what AWS's tag limits count). */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* The stored form of 'tags'. NULL when out of memory. */
static char *encode_tags(const struct s3_xml_tag *tags, size_t n)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);

    if (!f)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        char *k = http_quote(tags[i].key), *v = http_quote(tags[i].value);

        if (k && v)
            fprintf(f, "%s%s=%s", i ? "&" : "", k, v);
        free(k);
        free(v);
    }
    if (fclose(f)) {
        free(out);
        return NULL;
    }
    return out;
}

/* Parses the stored (or x-amz-tagging) form into tags. Returns 0, a
 * positive enum s3_err (InvalidTag, BadRequest) with 'msg' set, or
 * -ENOMEM. */
static int decode_tags(const char *s, struct s3_xml_tagging *out,
                       const char **msg, size_t max)
{
    *msg = NULL;
    memset(out, 0, sizeof(*out));
    while (s && *s) {
        size_t len = strcspn(s, "&"), klen = strcspn(s, "=");
        struct s3_xml_tag *grown, *t;

        if (klen > len)
            klen = len;
        if (out->n_tags == max) {
            *msg = "Object tags cannot be greater than 10";
            s3_xml_tagging_release(out);
            return S3_ERR_BAD_REQUEST;
        }
        grown = reallocarray(out->tags, out->n_tags + 1, sizeof(*grown));
        if (!grown) {
            s3_xml_tagging_release(out);
            return -ENOMEM;
        }
        out->tags = grown;
        t = &out->tags[out->n_tags];
        memset(t, 0, sizeof(*t));
        if (http_unquote(s, klen, true, &t->key) ||
            http_unquote(klen < len ? s + klen + 1 : "",
                         klen < len ? len - klen - 1 : 0, true, &t->value)) {
            free(t->key);
            free(t->value);
            *msg = "The TagValue you have provided is invalid";
            s3_xml_tagging_release(out);
            return S3_ERR_INVALID_TAG;
        }
        out->n_tags++;
        if (!*t->key || utf8_chars(t->key) > 128 ||
            utf8_chars(t->value) > 256) {
            *msg = !*t->key || utf8_chars(t->key) > 128
                       ? "The TagKey you have provided is invalid"
                       : "The TagValue you have provided is invalid";
            s3_xml_tagging_release(out);
            return S3_ERR_INVALID_TAG;
        }
        for (size_t i = 0; i + 1 < out->n_tags; i++)
            if (!strcmp(out->tags[i].key, t->key)) {
                *msg = "Cannot provide multiple Tags with the same key";
                s3_xml_tagging_release(out);
                return S3_ERR_INVALID_TAG;
            }
        s += len + (s[len] == '&');
    }
    return 0;
}

int s3_tagging_header(struct preq *pr)
{
    const char *v = req_header(pr->req, "x-amz-tagging");
    struct s3_xml_tagging t;
    const char *msg;
    char *stored;
    int rc;

    if (!v)
        return 0;
    rc = decode_tags(v, &t, &msg, MAX_OBJECT_TAGS);
    if (rc > 0)
        return s3_error(pr, (enum s3_err)rc, msg, NULL, 0), 1;
    if (rc)
        return rc;
    stored = encode_tags(t.tags, t.n_tags);
    s3_xml_tagging_release(&t);
    if (!stored)
        return -ENOMEM;
    rc = req_set_header(pr->req, TAGGING_SYSMETA, *stored ? stored : NULL);
    free(stored);
    if (!rc)
        rc = req_set_header(pr->req, "x-amz-tagging", NULL);
    return rc;
}

/* HEADs the object: 1 it is there (*out filled), 0 answered, -errno. */
static int head_object(struct preq *pr, struct subreq_resp *out)
{
    char *path = s3_swift_quoted(pr->s3, pr->s3->key);
    int rc;

    if (!path)
        return -ENOMEM;
    rc = subreq_run(pr, "HEAD", path, NULL, NULL, 0, NULL, 0, out);
    free(path);
    if (rc)
        return rc;
    if (out->status / 100 == 2)
        return 1;
    rc = out->status;
    subreq_resp_release(out);
    if (rc == 404) {
        struct s3_xml_field f = {"Key", pr->s3->key};

        return s3_error(pr,
                        s3_bucket_exists(pr) == 0 ? S3_ERR_NO_SUCH_BUCKET
                                                  : S3_ERR_NO_SUCH_KEY,
                        NULL, &f, 1);
    }
    return s3_error(pr,
                    rc == 401 || rc == 403 ? S3_ERR_ACCESS_DENIED
                                           : S3_ERR_SERVICE_UNAVAILABLE,
                    NULL, NULL, 0);
}

/* POSTs the object's metadata back with 'stored' tags (NULL: none). */
static int post_tags(struct preq *pr, const struct subreq_resp *head,
                     const char *stored)
{
    struct hlist h = {0};
    struct subreq_resp sr;
    char *path = NULL;
    int rc = 0;

    for (size_t i = 0; !rc && i < head->headers.n; i++) {
        const char *name = head->headers.v[i].name;

        if (!strncasecmp(name, "X-Object-Meta-", 14) ||
            !strcasecmp(name, "X-Delete-At") ||
            (!strncasecmp(name, "X-Object-Transient-Sysmeta-", 27) &&
             strcasecmp(name, TAGGING_SYSMETA)))
            rc = hlist_add(&h, name, head->headers.v[i].value);
    }
    if (!rc && stored && *stored)
        rc = hlist_add(&h, TAGGING_SYSMETA, stored);
    if (!rc && !(path = s3_swift_quoted(pr->s3, pr->s3->key)))
        rc = -ENOMEM;
    if (!rc)
        rc = subreq_run(pr, "POST", path, NULL, h.v, h.n, NULL, 0, &sr);
    free(path);
    hlist_release(&h);
    if (rc)
        return rc;
    rc = sr.status;
    subreq_resp_release(&sr);
    if (rc / 100 == 2)
        return 0;
    return s3_error(pr,
                    rc == 404   ? S3_ERR_NO_SUCH_KEY
                    : rc == 403 ? S3_ERR_ACCESS_DENIED
                                : S3_ERR_SERVICE_UNAVAILABLE,
                    NULL, NULL, 0),
           1;
}

/* The Tagging document of the stored tags 's' (NULL: none). */
static int respond_tags(struct preq *pr, const char *stored, size_t max)
{
    struct s3_xml_tagging t = {0};
    struct s3_xml x = {0};
    const char *msg;
    char *doc = NULL;
    size_t len = 0;
    int rc = decode_tags(stored, &t, &msg, max);

    if (rc > 0) /* stored by us: cannot be bad, but is input all the same */
        return s3_error(pr, S3_ERR_INTERNAL_ERROR, NULL, NULL, 0);
    if (rc)
        return rc;
    rc = s3_xml_declaration(&x);
    if (!rc)
        rc = s3_xml_root(&x, "Tagging");
    if (!rc)
        rc = s3_xml_open(&x, "TagSet");
    for (size_t i = 0; !rc && i < t.n_tags; i++) {
        rc = s3_xml_open(&x, "Tag");
        if (!rc)
            rc = s3_xml_elem(&x, "Key", t.tags[i].key);
        if (!rc)
            rc = s3_xml_elem(&x, "Value", t.tags[i].value);
        if (!rc)
            rc = s3_xml_close(&x);
    }
    s3_xml_tagging_release(&t);
    if (!rc)
        rc = s3_xml_finish(&x, &doc, &len);
    s3_xml_release(&x);
    return rc ? rc : s3_respond_xml(pr, 200, doc, len);
}

static int get_tagging(struct preq *pr)
{
    struct subreq_resp head;
    int rc = head_object(pr, &head);

    if (rc <= 0)
        return rc;
    rc = respond_tags(pr, hlist_get(&head.headers, TAGGING_SYSMETA),
                      MAX_OBJECT_TAGS);
    subreq_resp_release(&head);
    return rc;
}

/* A Put*Tagging body's tags in the stored form: 0 with *stored
 * (malloc'ed), 1 when answered (MalformedXML, InvalidTag...), -errno. */
static int body_tags(struct preq *pr, size_t max, char **stored)
{
    struct s3req *r = pr->s3;
    struct s3_xml_tagging t = {0};
    int rc;

    *stored = NULL;
    if (r->xml_over) {
        rc = s3_error(pr, S3_ERR_MALFORMED_XML, NULL, NULL, 0);
        return rc ? rc : 1;
    }
    rc = s3_xml_parse_tagging(r->xml ? r->xml : "", r->xml_len,
                              MAX_TAGGING_BODY, max, &t);
    if (rc > 0) {
        rc = s3_error(pr, (enum s3_err)rc, t.message[0] ? t.message : NULL,
                      NULL, 0);
        s3_xml_tagging_release(&t);
        return rc ? rc : 1;
    }
    if (rc)
        return rc;
    *stored = encode_tags(t.tags, t.n_tags);
    s3_xml_tagging_release(&t);
    return *stored ? 0 : -ENOMEM;
}

int s3_tagging_put(struct preq *pr)
{
    struct subreq_resp head;
    char *stored;
    int rc;

    rc = body_tags(pr, MAX_OBJECT_TAGS, &stored);
    if (rc)
        return rc < 0 ? rc : 0;
    rc = head_object(pr, &head);
    if (rc > 0) {
        rc = post_tags(pr, &head, stored);
        subreq_resp_release(&head);
        if (!rc)
            rc = s3_respond_empty(pr, 200);
    }
    free(stored);
    return rc < 0 ? rc : 0;
}

int s3_tagging_op(struct preq *pr, const char *m)
{
    struct s3req *r = pr->s3;
    struct subreq_resp head;
    int rc;

    if (!strcmp(m, "GET"))
        return get_tagging(pr);
    if (!strcmp(m, "PUT")) {
        r->op = OP_PUT_TAGGING;
        r->xml_max = MAX_TAGGING_BODY;
        if (pr->body_length > MAX_TAGGING_BODY)
            return s3_error(pr, S3_ERR_MALFORMED_XML, NULL, NULL, 0);
        return 0; /* done when the body is in: s3_tagging_put() */
    }
    if (!strcmp(m, "DELETE")) {
        rc = head_object(pr, &head);
        if (rc <= 0)
            return rc;
        rc = post_tags(pr, &head, NULL);
        subreq_resp_release(&head);
        if (!rc)
            rc = s3_respond_empty(pr, 204);
        return rc < 0 ? rc : 0;
    }
    return s3_error(pr, S3_ERR_METHOD_NOT_ALLOWED, NULL, NULL, 0);
}

/* ---- the tags of a copy ---- */

int s3_tagging_copy(struct preq *pr, const char *source)
{
    const char *dir = req_header(pr->req, "x-amz-tagging-directive");
    struct subreq_resp sr;
    char *q, *path = NULL;
    const char *v;
    int rc;

    if (dir && !strcmp(dir, "REPLACE"))
        return s3_tagging_header(pr);
    if (dir && strcmp(dir, "COPY"))
        return s3_error(pr, S3_ERR_INVALID_ARGUMENT,
                        "Unknown tagging directive.", NULL, 0),
               1;
    if (req_header(pr->req, "x-amz-tagging"))
        return s3_error(pr, S3_ERR_INVALID_REQUEST,
                        "x-amz-tagging needs x-amz-tagging-directive: "
                        "REPLACE on a copy",
                        NULL, 0),
               1;
    /* COPY: the source's tags, which a Swift copy leaves behind
     * (transient sysmeta stays with its object) */
    q = http_quote(source);
    if (!q || asprintf(&path, "/v1/%s/%s", pr->s3->user.account_id, q) < 0)
        path = NULL;
    free(q);
    if (!path)
        return -ENOMEM;
    rc = subreq_run(pr, "HEAD", path, NULL, NULL, 0, NULL, 0, &sr);
    free(path);
    if (rc)
        return rc;
    v = sr.status / 100 == 2 ? hlist_get(&sr.headers, TAGGING_SYSMETA) : NULL;
    rc = v ? req_set_header(pr->req, TAGGING_SYSMETA, v) : 0;
    subreq_resp_release(&sr);
    return rc;
}

/* ---- bucket tagging: the container's sysmeta ---- */

static int post_bucket_tags(struct preq *pr, const char *stored)
{
    return s3_bucket_doc_post(pr, BUCKET_TAGGING_SYSMETA, stored);
}

int s3_bucket_tagging_put(struct preq *pr)
{
    char *stored;
    int rc;

    rc = body_tags(pr, MAX_BUCKET_TAGS, &stored);
    if (rc)
        return rc < 0 ? rc : 0;
    rc = post_bucket_tags(pr, stored);
    free(stored);
    if (!rc)
        rc = s3_respond_empty(pr, 204);
    return rc < 0 ? rc : 0;
}

static int get_bucket_tagging(struct preq *pr)
{
    struct s3req *r = pr->s3;
    struct info ci;
    const char *v;
    int rc;

    info_get(pr, r->user.account_id, r->bucket, &ci);
    v = hlist_get(&ci.headers, BUCKET_TAGGING_SYSMETA);
    if (!v || !*v) {
        struct s3_xml_field f = {"BucketName", r->bucket};

        info_release(&ci);
        return s3_error(pr, S3_ERR_NO_SUCH_TAG_SET, NULL, &f, 1);
    }
    rc = respond_tags(pr, v, MAX_BUCKET_TAGS);
    info_release(&ci);
    return rc;
}

int s3_bucket_tagging_op(struct preq *pr, const char *m)
{
    static const struct s3_bucket_doc doc = {
        BUCKET_TAGGING_SYSMETA, OP_PUT_BUCKET_TAGGING, MAX_TAGGING_BODY,
        get_bucket_tagging, NULL,
    };

    return s3_bucket_doc_op(pr, m, &doc);
}
