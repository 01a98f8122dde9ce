/*
 * acct_server.h - the account server: Swift 2.30's account backend HTTP
 * API over the device's account DBs (acctdb.h).
 *
 *   PUT|HEAD|GET|DELETE|POST /<dev>/<part>/<account>
 *   PUT /<dev>/<part>/<account>/<container>   (container rows sent by
 *                                              container servers)
 *
 * The server is a library part: the daemon (storage/daemons/) or a test
 * builds a struct acct_server, gets its handler and runs it under
 * http_server.h. Thread-safe: handlers run concurrently on any number of
 * connection threads.
 */
#ifndef STORAGE_ACCT_SERVER_H
#define STORAGE_ACCT_SERVER_H

#include <stdbool.h>

#include "common/conf.h"
#include "common/http_server.h"
#include "common/log.h"
#include "ring/hash_path.h"
#include "storage/kvdb.h"
#include "storage/recon_server.h"

struct acct_server; /* opaque */
struct db_server;

/* [app:account-server] and [DEFAULT] of account-server.conf. */
struct acct_server_conf {
    struct http_server_conf http;
    struct log_conf log;
    char *devices;
    bool mount_check;
    char *swift_dir; /* where swift.conf (hash prefix/suffix) lives */
    char *auto_create_account_prefix;
    struct kvdb_opts db;    /* LevelDB: memtables, shared block cache */
    char *recon_cache_path; /* GET /recon/ reads it (recon_server.h) */
};

#define ACCT_SERVER_CONF_OPTIONS(T)                                            \
    HTTP_SERVER_CONF_OPTIONS(T, http, 6202),                                   \
        LOG_CONF_OPTIONS(T, log, "account-server"),                            \
        CONF_STR("devices", T, devices, "/srv/node"),                          \
        CONF_BOOL("mount_check", T, mount_check, true),                        \
        CONF_STR("swift_dir", T, swift_dir, "/etc/swift"),                     \
        CONF_STR("auto_create_account_prefix", T, auto_create_account_prefix,  \
                 "."),                                                         \
        KVDB_CONF_OPTIONS(T, db),                                              \
        RECON_SERVER_CONF_OPTIONS(T, recon_cache_path)

/* Builds a server from 'conf' (borrowed: it must outlive the server) and
 * the hash path settings 'hc' (borrowed likewise). Returns 0 or -ENOMEM;
 * free with acct_server_free() after the HTTP server has stopped. */
int acct_server_new(const struct acct_server_conf *conf,
                    const struct hash_path_conf *hc, struct acct_server **out);
void acct_server_free(struct acct_server *s); /* NULL is fine */

/* The callbacks to give http_server_new(). */
void acct_server_handler(struct acct_server *s, struct http_handler *out);

/* The server's DBs, which its replicator thread shares (db_replicator.h). */
struct db_server *acct_server_db(struct acct_server *s);

#endif /* STORAGE_ACCT_SERVER_H */
