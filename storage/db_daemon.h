/*
 * db_daemon.h - the main() of kura-account-server and
 * kura-container-server: reads the config, opens the log, reads
 * swift.conf's hash path settings, serves the server's handler under
 * http_server.h until SIGTERM or SIGINT, then lets requests in flight
 * finish. What differs between the two daemons is a struct db_daemon:
 * their name, their options and how their server is built and freed.
 */
#ifndef STORAGE_DB_DAEMON_H
#define STORAGE_DB_DAEMON_H

#include "common/conf.h"
#include "common/http_server.h"
#include "common/log.h"
#include "ring/hash_path.h"
#include "storage/db_repl_rpc.h"
#include "storage/db_server.h"

struct db_daemon {
    /* "account-server": the [app:account-server] section, the usage line */
    const char *name;
    const struct conf_option *options;
    /* the server's config struct (zeroed) and the members of it the main
     * needs itself */
    void *conf;
    struct http_server_conf *http;
    struct log_conf *log;
    char *const *swift_dir;
    /* Builds the server from 'conf' and 'hc' (both outlive it) and sets
     * its handler; returns 0 or -errno. *server is freed with stop(),
     * whatever start() returned. */
    int (*start)(const void *conf, const struct hash_path_conf *hc,
                 void **server, struct http_handler *h);
    void (*stop)(void *server); /* NULL is fine */
    /* The replicator thread (db_replicator.h), run when the config has a
     * [<repl->name>-replicator] section: the kind of DBs, and the
     * server's DBs, which it shares. */
    const struct db_repl_type *repl;
    struct db_server *(*db)(void *server);
    /* db_replicator_env.stale with the server as its arg; may be NULL */
    void (*stale)(void *server, const char *dev, uint32_t part,
                  const char *account, const char *container);
};

/* Runs the daemon; returns main()'s exit status (2: usage). */
int db_daemon_main(int argc, char **argv, const struct db_daemon *d);

#endif /* STORAGE_DB_DAEMON_H */
