/*
 * s3_list.c - S3 listing documents from Swift's JSON listings: the rows
 * are read with jansson, checked one by one (a bad row is left out, never
 * trusted), and written with the s3_xml writer. Which rows to ask Swift
 * for (prefix, delimiter, marker, limit) is the caller's; this file
 * decides truncation, trims the extra row and shapes the answer.
 */
#include "proxy/s3_list.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- timestamps ---- */

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* Whether 's' starts as Swift's isoformat does: "YYYY-MM-DDTHH:MM:SS". */
static bool iso_seconds(const char *s)
{
    return strlen(s) >= 19 && digits(s, 4) && s[4] == '-' && digits(s + 5, 2) &&
           s[7] == '-' && digits(s + 8, 2) && s[10] == 'T' &&
           digits(s + 11, 2) && s[13] == ':' && digits(s + 14, 2) &&
           s[16] == ':' && digits(s + 17, 2);
}

/* "2026-12-04T21:59:50.739678" -> "2026-12-04T21:59:50.739Z": s3api's
 * last_modified[:-3] + 'Z', which truncates Swift's microseconds (a
 * shorter fraction is padded). false when 's' is not such a time. */
static bool s3_millis(const char *s, char out[25])
{
    const char *frac = s + 20;
    size_t i;

    if (!iso_seconds(s) || (s[19] && s[19] != '.'))
        return false;
    memcpy(out, s, 19);
    out[19] = '.';
    for (i = 0; i < 3 && s[19] && digits(frac + i, 1); i++)
        out[20 + i] = frac[i];
    if (s[19] && (!i || !digits(frac + i, strlen(frac + i))))
        return false;
    for (; i < 3; i++)
        out[20 + i] = '0';
    out[23] = 'Z';
    out[24] = '\0';
    return true;
}

/* A bucket's CreationDate: the second, as S3Timestamp.s3xmlformat. */
static void s3_seconds(const char *s, char out[25])
{
    char ms[25];

    if (!s || !s3_millis(s, ms)) {
        memcpy(out, S3_LIST_DEFAULT_DATE, 25);
        return;
    }
    memcpy(out, ms, 19);
    memcpy(out + 19, ".000Z", 6);
}

/* ---- buckets ---- */

static int load_array(const char *json, size_t len, json_t **out)
{
    json_error_t jerr;
    json_t *doc = json_loadb(json, len, 0, &jerr);

    *out = NULL;
    if (!doc)
        return json_error_code(&jerr) == json_error_out_of_memory ? -ENOMEM
                                                                  : -EINVAL;
    if (!json_is_array(doc)) {
        json_decref(doc);
        return -EINVAL;
    }
    *out = doc;
    return 0;
}

static const char *str_field(const json_t *row, const char *key)
{
    return json_string_value(json_object_get(row, key));
}

int s3_list_buckets_begin(struct s3_xml *x, const char *owner)
{
    s3_xml_declaration(x);
    s3_xml_root(x, "ListAllMyBucketsResult");
    s3_xml_open(x, "Owner");
    s3_xml_elem(x, "ID", owner);
    s3_xml_elem(x, "DisplayName", owner);
    s3_xml_close(x);
    return s3_xml_open(x, "Buckets");
}

int s3_list_buckets_add(struct s3_xml *x, const char *json, size_t len,
                        bool (*visible)(const char *name, void *arg), void *arg,
                        size_t *n_rows, char **last)
{
    const char *last_name = NULL;
    json_t *doc, *row;
    size_t i;
    int err;

    *n_rows = 0;
    if (last)
        *last = NULL;
    err = load_array(json, len, &doc);
    if (err)
        return err;
    json_array_foreach(doc, i, row)
    {
        const char *name = str_field(row, "name");
        char date[25];

        if (!name)
            continue;
        last_name = name;
        if (visible && !visible(name, arg))
            continue;
        s3_seconds(str_field(row, "last_modified"), date);
        s3_xml_open(x, "Bucket");
        s3_xml_elem(x, "Name", name);
        s3_xml_elem(x, "CreationDate", date);
        s3_xml_close(x);
    }
    *n_rows = json_array_size(doc);
    err = x->err;
    if (!err && last && last_name && !(*last = strdup(last_name)))
        err = -ENOMEM;
    json_decref(doc);
    return err;
}

int s3_list_buckets(const char *owner, const char *json, size_t len,
                    bool (*visible)(const char *name, void *arg), void *arg,
                    char **out, size_t *out_len)
{
    struct s3_xml x = {0};
    size_t n;
    int err;

    s3_list_buckets_begin(&x, owner);
    err = s3_list_buckets_add(&x, json, len, visible, arg, &n, NULL);
    if (err) {
        s3_xml_release(&x);
        *out = NULL;
        *out_len = 0;
        return err;
    }
    return s3_xml_finish(&x, out, out_len);
}

/* ---- objects ---- */

/* One listing row, checked. */
struct row {
    const char *name;   /* an object, or NULL */
    const char *subdir; /* a common prefix, or NULL */
    const char *hash;
    size_t hash_len;
    const char *s3_etag, *slo_etag; /* fields, or NULL */
    json_int_t bytes;
    char last_modified[25];
};

static bool read_row(const json_t *j, struct row *r)
{
    const json_t *bytes = json_object_get(j, "bytes");
    const char *lm;

    memset(r, 0, sizeof(*r));
    if (!json_is_object(j))
        return false;
    r->subdir = str_field(j, "subdir");
    if (r->subdir)
        return true;
    r->name = str_field(j, "name");
    r->hash = str_field(j, "hash");
    lm = str_field(j, "last_modified");
    if (!r->name || !r->hash || !lm || !json_is_integer(bytes) ||
        json_integer_value(bytes) < 0 || !s3_millis(lm, r->last_modified))
        return false;
    r->hash_len = strcspn(r->hash, ";");
    r->bytes = json_integer_value(bytes);
    r->s3_etag = str_field(j, "s3_etag");
    r->slo_etag = str_field(j, "slo_etag");
    return true;
}

/* The row's key: the object's name or the common prefix; NULL when the
 * row has neither. */
static const char *row_key(const json_t *j)
{
    const char *s = str_field(j, "subdir");

    return s ? s : str_field(j, "name");
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* The value of parameter 'key' in a hash "md5; s3_etag=abc-2; k=v" (the
 * override etag the container keeps for s3api and SLO), without quotes.
 * Returns its length and sets *val, or 0 when absent. */
static size_t hash_param(const char *hash, const char *key, const char **val)
{
    size_t klen = strlen(key);
    const char *p = strchr(hash, ';');

    while (p) {
        const char *end;

        p++;
        while (is_space(*p))
            p++;
        end = strchr(p, ';');
        if (!end)
            end = p + strlen(p);
        if (!strncmp(p, key, klen) && p[klen] == '=') {
            const char *v = p + klen + 1;

            while (end > v && is_space(end[-1]))
                end--;
            if (end - v >= 2 && *v == '"' && end[-1] == '"') {
                v++;
                end--;
            }
            *val = v;
            return (size_t)(end - v);
        }
        p = *end ? end : NULL;
    }
    return 0;
}

/* 's' (length 'n') without one pair of surrounding quotes. */
static size_t unquote(const char **s, size_t n)
{
    if (n >= 2 && (*s)[0] == '"' && (*s)[n - 1] == '"') {
        (*s)++;
        return n - 2;
    }
    return n;
}

/* The ETag as s3api lists it: s3_etag as it is, slo_etag with "-N", the
 * plain hash otherwise; always quoted. */
static int write_etag(struct s3_xml *x, const struct row *r)
{
    const char *v = NULL;
    const char *suffix = "";
    size_t n;
    char *etag;
    int len;

    if (r->s3_etag) {
        v = r->s3_etag;
        n = unquote(&v, strlen(v));
    } else if ((n = hash_param(r->hash, "s3_etag", &v))) {
    } else if (r->slo_etag) {
        v = r->slo_etag;
        n = unquote(&v, strlen(v));
        suffix = "-N";
    } else if ((n = hash_param(r->hash, "slo_etag", &v))) {
        suffix = "-N";
    } else {
        v = r->hash;
        n = r->hash_len;
        while (n && is_space(v[n - 1]))
            n--;
    }
    if (n > INT32_MAX)
        return x->err = -EINVAL;
    len = asprintf(&etag, "\"%.*s%s\"", (int)n, v, suffix);
    if (len < 0)
        return x->err = -ENOMEM;
    s3_xml_elem(x, "ETag", etag);
    free(etag);
    return x->err;
}

/* A text element, URL-encoded when the listing asked for it. */
static int elem_enc(struct s3_xml *x, const struct s3_list_query *q,
                    const char *name, const char *text)
{
    return q->url ? s3_xml_elem_url(x, name, text) : s3_xml_elem(x, name, text);
}

static void write_contents(struct s3_xml *x, const struct s3_list_query *q,
                           const struct row *r)
{
    bool versions = q->version == S3_LIST_VERSIONS;

    s3_xml_open(x, versions ? "Version" : "Contents");
    elem_enc(x, q, "Key", r->name);
    if (versions) { /* never versioned: each object is its null version */
        s3_xml_elem(x, "VersionId", "null");
        s3_xml_elem(x, "IsLatest", "true");
    }
    s3_xml_elem(x, "LastModified", r->last_modified);
    write_etag(x, r);
    s3_xml_elemf(x, "Size", "%lld", (long long)r->bytes);
    if (q->version != 2 || q->fetch_owner) {
        s3_xml_open(x, "Owner");
        s3_xml_elem(x, "ID", q->owner);
        s3_xml_elem(x, "DisplayName", q->owner);
        s3_xml_close(x);
    }
    s3_xml_elem(x, "StorageClass", "STANDARD");
    s3_xml_close(x);
}

/* What comes before the rows: Name down to IsTruncated. 'last' is the
 * key of the last row shown (for NextMarker and the next token). */
static void write_head(struct s3_xml *x, const struct s3_list_query *q,
                       bool truncated, const char *last, size_t key_count)
{
    s3_xml_declaration(x);
    s3_xml_root(x, q->version == S3_LIST_VERSIONS ? "ListVersionsResult"
                                                  : "ListBucketResult");
    s3_xml_elem(x, "Name", q->bucket);
    elem_enc(x, q, "Prefix", q->prefix);
    if (q->version == S3_LIST_VERSIONS) {
        elem_enc(x, q, "KeyMarker", q->marker ? q->marker : "");
        s3_xml_elem(x, "VersionIdMarker", "");
        if (truncated && last) {
            elem_enc(x, q, "NextKeyMarker", last);
            s3_xml_elem(x, "NextVersionIdMarker", "null");
        }
    } else if (q->version == 2) {
        if (truncated && last) {
            char *token = s3_list_token_encode(last);

            if (!token)
                x->err = x->err ? x->err : -ENOMEM;
            else
                s3_xml_elem(x, "NextContinuationToken", token);
            free(token);
        }
        if (q->continuation_token)
            s3_xml_elem(x, "ContinuationToken", q->continuation_token);
        if (q->start_after)
            elem_enc(x, q, "StartAfter", q->start_after);
        s3_xml_elemf(x, "KeyCount", "%zu", key_count);
    } else {
        elem_enc(x, q, "Marker", q->marker);
        if (truncated && q->delimiter && last)
            elem_enc(x, q, "NextMarker", last);
    }
    s3_xml_elemf(x, "MaxKeys", "%llu", (unsigned long long)q->max_keys);
    if (q->delimiter)
        elem_enc(x, q, "Delimiter", q->delimiter);
    if (q->url)
        s3_xml_elem(x, "EncodingType", "url");
    s3_xml_elem(x, "IsTruncated", truncated ? "true" : "false");
}

int s3_list_objects(const struct s3_list_query *q, const char *json, size_t len,
                    char **out, size_t *out_len)
{
    struct s3_xml x = {0};
    const char *last = NULL;
    size_t n_rows, shown, key_count = 0;
    struct row r;
    bool truncated;
    json_t *doc;
    int err;

    *out = NULL;
    *out_len = 0;
    err = load_array(json, len, &doc);
    if (err)
        return err;
    n_rows = json_array_size(doc);
    truncated = q->limit > 0 && n_rows > q->limit;
    shown = n_rows < q->limit ? n_rows : (size_t)q->limit;
    for (size_t i = 0; i < shown; i++) {
        const json_t *j = json_array_get(doc, i);
        const char *k = row_key(j);

        if (k)
            last = k;
        key_count += read_row(j, &r);
    }
    write_head(&x, q, truncated, last, key_count);
    for (size_t i = 0; i < shown; i++)
        if (read_row(json_array_get(doc, i), &r) && r.name)
            write_contents(&x, q, &r);
    for (size_t i = 0; i < shown; i++)
        if (read_row(json_array_get(doc, i), &r) && r.subdir) {
            s3_xml_open(&x, "CommonPrefixes");
            elem_enc(&x, q, "Prefix", r.subdir);
            s3_xml_close(&x);
        }
    err = s3_xml_finish(&x, out, out_len);
    json_decref(doc);
    return err;
}

/* ---- continuation tokens ---- */

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *s3_list_token_encode(const char *name)
{
    const unsigned char *s = (const unsigned char *)name;
    size_t n = strlen(name), i;
    char *out, *o;

    out = o = malloc(4 * ((n + 2) / 3) + 1);
    if (!out)
        return NULL;
    for (i = 0; i + 2 < n; i += 3) {
        *o++ = b64[s[i] >> 2];
        *o++ = b64[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
        *o++ = b64[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)];
        *o++ = b64[s[i + 2] & 63];
    }
    if (i < n) {
        *o++ = b64[s[i] >> 2];
        if (i + 1 < n) {
            *o++ = b64[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
            *o++ = b64[(s[i + 1] & 15) << 2];
        } else {
            *o++ = b64[(s[i] & 3) << 4];
            *o++ = '=';
        }
        *o++ = '=';
    }
    *o = '\0';
    return out;
}

static int b64_value(char c)
{
    const char *p = c ? strchr(b64, c) : NULL;

    return p ? (int)(p - b64) : -1;
}

/* Whether 's' is UTF-8 without a NUL (a Swift name cannot hold one). */
static bool token_utf8(const char *s, size_t n)
{
    return strlen(s) == n && s3_xml_utf8_valid(s);
}

int s3_list_token_decode(const char *token, char **name)
{
    size_t n = strlen(token), len = 0;
    unsigned char *out;
    int err = S3_ERR_INVALID_ARGUMENT;

    *name = NULL;
    if (n % 4)
        return S3_ERR_INVALID_ARGUMENT;
    out = malloc(n / 4 * 3 + 1);
    if (!out)
        return -ENOMEM;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        bool last = i + 4 == n;

        for (int k = 0; k < 4; k++)
            v[k] = b64_value(token[i + k]);
        if (v[0] < 0 || v[1] < 0)
            goto out;
        if (last && token[i + 2] == '=' && token[i + 3] == '=') {
            if (v[1] & 15)
                goto out; /* bits the encoder would have zeroed */
            out[len++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
            break;
        }
        if (v[2] < 0)
            goto out;
        if (last && token[i + 3] == '=') {
            if (v[2] & 3)
                goto out;
            out[len++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
            out[len++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
            break;
        }
        if (v[3] < 0)
            goto out;
        out[len++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
        out[len++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
        out[len++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
    }
    out[len] = '\0';
    if (!token_utf8((const char *)out, len))
        goto out;
    *name = (char *)out;
    out = NULL;
    err = 0;
out:
    free(out);
    return err;
}
