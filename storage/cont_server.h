/*
 * cont_server.h - the container server: Swift 2.30's container backend
 * HTTP API over the device's container DBs (contdb.h), so that Swift's
 * proxy or ours can front it.
 *
 *   PUT|HEAD|GET|DELETE|POST /<dev>/<part>/<account>/<container>
 *   PUT|DELETE /<dev>/<part>/<account>/<container>/<object>  (object rows
 *                                              sent by object servers)
 *
 * After a container PUT or DELETE it sends the container's row to the
 * account servers named in X-Account-Host/-Device/-Partition, as Swift's
 * account_update(); later stats changes are left to the container
 * updater (doc/container-server.md).
 *
 * The server is a library part: the daemon (storage/daemons/) or a test
 * builds a struct cont_server, gets its handler and runs it under
 * http_server.h. Thread-safe: handlers run concurrently on any number of
 * connection threads.
 */
#ifndef STORAGE_CONT_SERVER_H
#define STORAGE_CONT_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/conf.h"
#include "common/http_server.h"
#include "common/log.h"
#include "ring/hash_path.h"
#include "storage/kvdb.h"
#include "storage/recon_server.h"

struct cont_server; /* opaque */
struct db_server;

/* [app:container-server] and [DEFAULT] of container-server.conf. */
struct cont_server_conf {
    struct http_server_conf http;
    struct log_conf log;
    char *devices;
    bool mount_check;
    char *swift_dir;     /* where swift.conf (hash prefix/suffix) lives */
    double conn_timeout; /* seconds, account updates */
    double node_timeout; /* seconds, account updates */
    char *auto_create_account_prefix;
    /* seconds between the container updater's rounds (cont_updater.h);
     * 0 turns it off */
    double account_update_interval;
    struct kvdb_opts db;    /* LevelDB: memtables, shared block cache */
    char *recon_cache_path; /* GET /recon/ reads it (recon_server.h) */
};

#define CONT_SERVER_CONF_OPTIONS(T)                                            \
    HTTP_SERVER_CONF_OPTIONS(T, http, 6201),                                   \
        LOG_CONF_OPTIONS(T, log, "container-server"),                          \
        CONF_STR("devices", T, devices, "/srv/node"),                          \
        CONF_BOOL("mount_check", T, mount_check, true),                        \
        CONF_STR("swift_dir", T, swift_dir, "/etc/swift"),                     \
        CONF_DOUBLE("conn_timeout", T, conn_timeout, 0.5, 0.001, 3600),        \
        CONF_DOUBLE("node_timeout", T, node_timeout, 3, 0.001, 3600),          \
        CONF_STR("auto_create_account_prefix", T, auto_create_account_prefix,  \
                 "."),                                                         \
        CONF_DOUBLE("account_update_interval", T, account_update_interval, 1, \
                    0, 86400),                                                 \
        KVDB_CONF_OPTIONS(T, db),                                              \
        RECON_SERVER_CONF_OPTIONS(T, recon_cache_path)

/* Builds a server from 'conf' (borrowed: it must outlive the server) and
 * the hash path settings 'hc' (borrowed likewise); the storage policies
 * come from <swift_dir>/swift.conf ([storage-policy:N]; none: policy 0).
 * Returns 0 or -ENOMEM; free with cont_server_free() after the HTTP
 * server has stopped. */
int cont_server_new(const struct cont_server_conf *conf,
                    const struct hash_path_conf *hc, struct cont_server **out);
void cont_server_free(struct cont_server *s); /* NULL is fine */

/* The callbacks to give http_server_new(). */
void cont_server_handler(struct cont_server *s, struct http_handler *out);

/* The server's DBs, which its replicator thread shares (db_replicator.h). */
struct db_server *cont_server_db(struct cont_server *s);

/* The account servers lack container a/c's current stats (the
 * replicator's sweep): its updater sends them on its next round. */
void cont_server_note_stale(struct cont_server *s, const char *dev,
                            uint32_t part, const char *account,
                            const char *container);

#endif /* STORAGE_CONT_SERVER_H */
