/*
 * proxy_server.c - kura-proxy: reads its config, serves proxy.c's Swift
 * API until SIGTERM or SIGINT, then stops gracefully. Everything else
 * lives in the kura_proxy library, so tests link the same code.
 *
 *   kura-proxy /etc/kura/proxy-server.conf
 */
#include "common/conf.h"
#include "common/http_server.h"
#include "common/log.h"
#include "common/memory.h"
#include "proxy/proxy.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#define SECTION "app:proxy-server"
#define STOP_GRACE_MS 5000

int main(int argc, char **argv)
{
    struct proxy_conf c = {0};
    struct conf *conf = NULL;
    struct proxy *p = NULL;
    struct http_server *http = NULL;
    struct http_handler handler;
    char err[CONF_ERR_LEN];
    sigset_t stop;
    int rc = 1, sig;

    if (argc != 2) {
        fprintf(stderr, "usage: kura-proxy <proxy-server.conf>\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    /* blocked before any thread starts, so only sigwait() sees them */
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    rc = conf_load(argv[1], &conf, err);
    if (!rc)
        rc = conf_apply(conf, SECTION, proxy_options, &c, err);
    if (rc) {
        if (rc == -ENOENT && conf)
            snprintf(err, sizeof(err), "%s: no [%s] section", argv[1],
                     SECTION);
        fprintf(stderr, "kura-proxy: %s\n", err);
        rc = 1;
        goto out;
    }
    rc = 1;
    memory_setup(&c.http.memory); /* before any thread starts */
    /* Swift's proxy takes up to 201 headers (MAX_HEADER_COUNT * 1.6), so
     * a client may send 90 metadata items and its usual headers; the
     * storage servers' default of 90 is too few here. */
    if (!conf_get(conf, SECTION, "max_header_count", NULL))
        c.http.max_header_count = PROXY_MAX_REQUEST_HEADERS;
    /* and room for them (90 items of 128 + 256 bytes); the body's pieces
     * are this size too, fewer writes to the replicas per byte */
    if (!conf_get(conf, SECTION, "conn_memory_limit", NULL))
        c.http.conn_memory_limit = PROXY_CONN_MEMORY;
    if (log_open(c.log.name, c.log.level, c.log.file)) {
        fprintf(stderr, "kura-proxy: cannot open log file '%s'\n",
                c.log.file);
        goto out;
    }
    if (proxy_new(&c, conf, &p, err)) {
        fprintf(stderr, "kura-proxy: %s\n", err);
        log_err("%s", err);
        goto out;
    }
    proxy_handler(p, &handler);
    c.http.lenient_paths = true; /* proxy.c decodes paths as Swift */
    if (http_server_new(&c.http, &handler, &http))
        goto out;
    log_notice("proxy-server started on %s:%u (swift_dir '%s')",
               c.http.bind_ip, http_server_port(http), c.swift_dir);
    sig = memory_sigwait(&stop, &c.http.memory);
    log_notice("proxy-server stopping (signal %d)", sig);
    http_server_stop(http, STOP_GRACE_MS);
    rc = 0;
out:
    http_server_free(http);
    proxy_free(p);
    conf_release(proxy_options, &c);
    conf_free(conf);
    log_close();
    return rc;
}
