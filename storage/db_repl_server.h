/*
 * db_repl_server.h - REPLICATE /<dev>/<part>/<hash> on the container and
 * account servers: the HTTP side of db_repl_rpc.h. The body, a JSON array
 * naming the operation, is read into memory (at most DB_REPL_MAX_BODY,
 * else 413); the answer is a status and, for sync and complete, a JSON
 * body (doc/replication.md §5).
 *
 * A server routes REPLICATE to db_repl_server_replicate() (3 path
 * segments) and gives http_server_new() these on_body and on_done. Thread
 * safety: per request, as http_server.h.
 */
#ifndef STORAGE_DB_REPL_SERVER_H
#define STORAGE_DB_REPL_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "common/http_server.h"
#include "storage/db_repl_rpc.h"
#include "storage/db_server.h"

/* Keeps a REPLICATE request's body; other requests' bodies are dropped,
 * as before (no DB request but REPLICATE reads one). */
int db_repl_server_on_body(struct request *req, const char *data, size_t len,
                           void *arg);
/* Frees what on_body kept. */
void db_repl_server_on_done(struct request *req, bool ok, void *arg);

/* Answers REPLICATE for the DB named by 'path' (dev, part, and the hash in
 * path->account): 400 for a hash that is not 32 hex digits or a
 * malformed body, 507 for an unmounted device, else db_repl_rpc()'s
 * status. Returns 0 once answered, or -errno for the caller to answer. */
int db_repl_server_replicate(struct db_server *s, struct request *req,
                             const struct db_path *path,
                             const struct db_repl_type *t);

#endif /* STORAGE_DB_REPL_SERVER_H */
