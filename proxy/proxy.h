/*
 * proxy.h - kura-proxy: Swift API v1 in front of the storage servers.
 *
 * A struct proxy is everything the request threads share: the options,
 * the three rings (reloaded as their files change), the backend HTTP
 * client and its connection pool, tempauth, the constraints, the node
 * error limits and the account/container info cache. Each piece is
 * thread-safe on its own; the struct itself is read-only once made.
 *
 * The request's way through (proxy.c): a transaction id, then
 * healthcheck, /info or the auth handler, or else the path is routed
 * (constraints.h) to the account, container or object controller after
 * tempauth identified the token. The controllers (acct_ctl.c,
 * cont_ctl.c, obj_ctl.c, obj_put.c) talk to storage servers through
 * backend.h. doc/proxy.md has the design and the differences from Swift.
 */
#ifndef PROXY_PROXY_H
#define PROXY_PROXY_H

#include <stdbool.h>

#include "common/conf.h"
#include "common/http_server.h"
#include "common/log.h"

struct proxy_conf {
    struct http_server_conf http;
    struct log_conf log;
    char *swift_dir;
    double conn_timeout;
    double node_timeout;
    double error_suppression_interval;
    unsigned int error_suppression_limit;
    unsigned int recheck_account_existence;
    unsigned int recheck_container_existence;
    bool account_autocreate;
    bool allow_account_management;
    char *request_node_count; /* "2 * replicas", "auto" or a number */
    char *disallowed_sections;
};

/* The rows of [app:proxy-server] (and [DEFAULT]). */
extern const struct conf_option proxy_options[];

/* Headers a request may carry with the default constraints (Swift's
 * constraints_max_request_headers()): the proxy's max_header_count
 * default. */
#define PROXY_MAX_REQUEST_HEADERS 201
/* The proxy's conn_memory_limit default (storage servers: 64 KiB). */
#define PROXY_CONN_MEMORY (256 * 1024)

struct proxy; /* opaque */

/* Builds the proxy from the whole config file 'conf' (already applied to
 * 'c', which must outlive the proxy): reads [pipeline:main] and
 * [filter:tempauth], <swift_dir>/swift.conf (hash path, constraints) and
 * the rings. Returns 0, or -errno with one line in 'err'. */
int proxy_new(const struct proxy_conf *c, const struct conf *conf,
              struct proxy **out, char err[CONF_ERR_LEN]);
void proxy_free(struct proxy *p); /* NULL is fine */

/* The callbacks for http_server_new(). */
void proxy_handler(struct proxy *p, struct http_handler *out);

#endif /* PROXY_PROXY_H */
