/*
 * obj_server.h - kura-object-server's request handling: Swift 2.30's
 * object-server backend HTTP API (PUT, GET, HEAD, DELETE, POST on
 * /<dev>/<part>/<account>/<container>/<object>, REPLICATE on
 * /<dev>/<part>[/<suffixes>]) over the diskfile layer,
 * so that Swift's proxy, or ours, can front it. doc/object-server.md lists
 * the API as built and where it differs from Swift.
 *
 * An obj_server is the handler of one http_server: obj_server_handler()
 * fills a struct http_handler whose callbacks run on the connection
 * threads. The obj_server itself is read-only once made (configuration,
 * hash_path secrets, the backend client for container updates, which is
 * thread-safe), so the threads share it without locking. Each request owns
 * its diskfile, writer and reader; they are freed in on_done however the
 * request ended, so a client that disconnects mid-upload leaves no object
 * and no temp file.
 */
#ifndef STORAGE_OBJ_SERVER_H
#define STORAGE_OBJ_SERVER_H

#include "common/conf.h"
#include "common/http_server.h"
#include "common/log.h"
#include "ring/hash_path.h"

#include <stdbool.h>
#include <stdint.h>

/* Swift's MAX_FILE_SIZE (5 GiB + 2); NEEDSWORK: read [swift-constraints]
 * max_file_size from swift.conf as Swift does. */
#define OBJ_SERVER_MAX_FILE_SIZE 5368709122ULL
/* Swift's MAX_OBJECT_NAME_LENGTH. */
#define OBJ_SERVER_MAX_OBJECT_NAME 1024

/* [app:object-server] (and [DEFAULT]) options; see
 * etc/object-server.conf-sample. */
struct obj_server_conf {
    struct http_server_conf http;
    struct log_conf log;
    char *devices;
    bool mount_check;
    char *swift_dir;            /* where swift.conf is */
    double conn_timeout;        /* seconds, container updates */
    double node_timeout;        /* seconds, container updates */
    uint64_t fallocate_reserve; /* bytes kept free on every device */
    unsigned int reclaim_age;   /* seconds tombstones live (REPLICATE) */
    bool fsync_io_uring;        /* a commit's round-1 fsyncs at once */
    char *recon_cache_path;     /* GET /recon/ reads it (recon_server.h) */
};

/* The option table for conf_apply() on "app:object-server". */
extern const struct conf_option obj_server_options[];

struct obj_server; /* opaque */

/* Makes a server state from 'conf' and 'hash_conf', both borrowed: they
 * must outlive it. Returns 0 and sets *out (free with obj_server_free()),
 * or -ENOMEM. */
int obj_server_new(const struct obj_server_conf *conf,
                   const struct hash_path_conf *hash_conf,
                   struct obj_server **out);
void obj_server_free(struct obj_server *srv); /* NULL is fine */

/* Fills 'h' with the callbacks that serve the object API from 'srv'. */
void obj_server_handler(struct obj_server *srv, struct http_handler *h);

#endif /* STORAGE_OBJ_SERVER_H */
