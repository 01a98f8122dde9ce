/*
 * db_repl_server.c - the REPLICATE verb of the DB servers
 * (db_repl_server.h): the body kept in memory, parsed as JSON, handed to
 * db_repl_rpc(), the answer sent. What an operation does is
 * db_repl_rpc.c's.
 *
 * A body is bounded by DB_REPL_MAX_BODY before it is kept: a declared
 * Content-Length over it is refused at once (413), a chunked body as soon
 * as it grows past it, so a peer cannot make the server hold more.
 */
#include "storage/db_repl_server.h"

#include "ring/hash_path.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct body {
    char *p;
    size_t len, cap;
};

int db_repl_server_on_body(struct request *req, const char *data, size_t len,
                           void *arg)
{
    struct body *b = req_ctx(req);
    int64_t clen = req_content_length(req);

    (void)arg;
    if (strcmp(req_method(req), "REPLICATE"))
        return 0;
    if (!b) {
        b = calloc(1, sizeof(*b));
        if (!b)
            return -ENOMEM;
        req_set_ctx(req, b);
    }
    if ((clen > 0 && (uint64_t)clen > DB_REPL_MAX_BODY) ||
        len > DB_REPL_MAX_BODY - b->len)
        return db_server_respond(req, 413, NULL);
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 64 * 1024;
        char *p;

        while (cap < b->len + len)
            cap *= 2;
        /* a declared length is the size to hold, no doubling past it */
        if (clen > 0 && cap > (uint64_t)clen)
            cap = (size_t)clen;
        p = realloc(b->p, cap);
        if (!p)
            return -ENOMEM;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, len);
    b->len += len;
    return 0;
}

void db_repl_server_on_done(struct request *req, bool ok, void *arg)
{
    struct body *b = req_ctx(req);

    (void)ok;
    (void)arg;
    if (!b || strcmp(req_method(req), "REPLICATE"))
        return;
    free(b->p);
    free(b);
    req_set_ctx(req, NULL);
}

static int respond_json(struct request *req, int status, json_t *body)
{
    char *s = body ? json_dumps(body, JSON_COMPACT) : NULL;
    int err;

    if (body && !s)
        return -ENOMEM;
    if (!s)
        return db_server_respond(req, (unsigned)status, NULL);
    req_add_header(req, "Content-Type", "application/json");
    err = req_respond(req, (unsigned)status, s, strlen(s));
    free(s);
    return err;
}

int db_repl_server_replicate(struct db_server *s, struct request *req,
                             const struct db_path *path,
                             const struct db_repl_type *t)
{
    const struct body *b = req_ctx(req);
    unsigned char hash[16];
    struct db_repl_db db;
    struct kvdb *kv;
    json_t *args, *resp = NULL;
    json_error_t jerr;
    const char *why;
    int status;

    if (hash_path_from_hex(path->account, hash))
        return db_server_respond_text(req, 400, "Invalid hash");
    status = db_server_kvdb(s, path->dev, &kv);
    if (status)
        return db_server_respond_err(req, status);
    /* NUL is allowed: reserved names (Swift's) start with one */
    args = b ? json_loadb(b->p, b->len, JSON_ALLOW_NUL, &jerr) : NULL;
    if (!args)
        return db_server_respond_text(req, 400, "Invalid object type");
    db_repl_db_init(&db, kv, path->part, hash);
    status = db_repl_rpc(t, &db, args, &resp, &why);
    json_decref(args);
    if (status == 400) {
        json_decref(resp);
        return db_server_respond_text(req, 400, why);
    }
    if (status < 0) {
        req_log(req, LOG_ERR, "REPLICATE %s/%u/%s: %s", path->dev, path->part,
                path->account, strerror(-status));
        json_decref(resp);
        return db_server_respond_err(req, status);
    }
    status = respond_json(req, status, resp);
    json_decref(resp);
    return status;
}
