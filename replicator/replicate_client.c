/*
 * replicate_client.c - REPLICATE requests and their answers
 * (replicate_client.h). What to do about a difference is
 * obj_replicator.c's business.
 */
#include "replicator/replicate_client.h"

#include "common/http.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_suffix(const void *a, const void *b)
{
    const struct suffix_hash *x = a, *y = b;

    return strcmp(x->suffix, y->suffix);
}

/* Sixteen hex digits (either case, as a peer may write them) into *out. */
static int parse_hash(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;

    for (i = 0; s[i]; i++) {
        char c = s[i];
        unsigned d;

        if (i == 16)
            return -EPROTO;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return -EPROTO;
        v = v << 4 | d;
    }
    if (i != 16)
        return -EPROTO;
    *out = v;
    return 0;
}

int replicate_parse_hashes(const char *body, size_t len,
                           struct suffix_hashes *out)
{
    json_t *doc, *value;
    const char *key;
    int err = 0;

    memset(out, 0, sizeof(*out));
    doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return -EPROTO;
    }
    /* valid suffixes are distinct and at most 4096: the size is bounded */
    out->v = calloc(json_object_size(doc) + 1, sizeof(*out->v));
    if (!out->v) {
        json_decref(doc);
        return -ENOMEM;
    }
    json_object_foreach(doc, key, value)
    {
        struct suffix_hash *h = &out->v[out->n];

        if (!suffix_hash_valid_suffix(key) || !json_is_string(value) ||
            parse_hash(json_string_value(value), &h->hash)) {
            err = -EPROTO;
            break;
        }
        memcpy(h->suffix, key, sizeof(h->suffix));
        out->n++;
    }
    json_decref(doc);
    if (err) {
        suffix_hashes_release(out);
        return err;
    }
    qsort(out->v, out->n, sizeof(*out->v), cmp_suffix);
    return 0;
}

/* "/<dev>/<part>[/<s1>-<s2>...]", quoted; NULL when out of memory. */
static char *replicate_path(const struct ssync_target *t,
                            const char *const *suffixes, size_t n)
{
    char *dev = http_quote(t->dev), *path = NULL;
    size_t cap, len;

    if (!dev)
        return NULL;
    cap = strlen(dev) + 16 + 4 * n;
    path = malloc(cap);
    if (path) {
        len = (size_t)snprintf(path, cap, "/%s/%" PRIu32, dev, t->part);
        for (size_t i = 0; i < n; i++)
            len += (size_t)snprintf(path + len, cap - len, "%c%s",
                                    i ? '-' : '/', suffixes[i]);
    }
    free(dev);
    return path;
}

static int replicate_once(struct http_client *c, const struct ssync_target *t,
                          const char *const *suffixes, size_t n,
                          const char *txn, struct suffix_hashes *out)
{
    struct http_header hdrs[] = {{"X-Trans-Id", txn && *txn ? txn : "-"}};
    struct http_client_call *call = NULL;
    char *path = replicate_path(t, suffixes, n), *body = NULL;
    size_t len = 0;
    int status, err;

    if (!path)
        return -ENOMEM;
    struct http_client_req r = {
        .host = t->ip,
        .port = (unsigned)t->port,
        .method = "REPLICATE",
        .path = path,
        .headers = hdrs,
        .n_headers = 1,
    };
    status = http_client_request(c, &r, &call);
    if (call) {
        err = http_client_read_all(call, REPLICATE_MAX_BODY, &body, &len);
        if (!err && status == 200 && out)
            err = replicate_parse_hashes(body, len, out);
        if (err)
            status = err;
        free(body);
        http_client_end(call);
    }
    free(path);
    return status;
}

int replicate_client_hashes(struct http_client *c, const struct ssync_target *t,
                            const char *const *suffixes, size_t n,
                            const char *txn, struct suffix_hashes *out)
{
    size_t done = 0;
    int status;

    if (out)
        memset(out, 0, sizeof(*out));
    do {
        size_t batch = n - done;

        if (batch > REPLICATE_SUFFIXES_PER_REQ)
            batch = REPLICATE_SUFFIXES_PER_REQ;
        if (out)
            suffix_hashes_release(out);
        status = replicate_once(c, t, suffixes + done, batch, txn, out);
        done += batch;
    } while (status == 200 && done < n);
    if (status != 200 && out)
        suffix_hashes_release(out);
    return status;
}

size_t replicate_diff(const struct suffix_hashes *local,
                      const struct suffix_hashes *remote, const char **out)
{
    size_t i, n = 0;

    for (i = 0; i < local->n; i++) {
        const struct suffix_hash *r =
            suffix_hashes_find(remote, local->v[i].suffix);

        if (!r || r->hash != local->v[i].hash)
            out[n++] = local->v[i].suffix;
    }
    return n;
}
