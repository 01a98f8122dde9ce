/*
 * account_server.c - kura-account-server: reads the config, opens the
 * log, serves acct_server.h under http_server.h until SIGTERM or SIGINT,
 * then lets requests in flight finish. Usage:
 *   kura-account-server /etc/kura/account-server.conf
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/conf.h"
#include "common/http_server.h"
#include "common/log.h"
#include "common/memory.h"
#include "ring/hash_path.h"
#include "storage/acct_server.h"

static const struct conf_option options[] = {
    ACCT_SERVER_CONF_OPTIONS(struct acct_server_conf),
    CONF_END,
};

int main(int argc, char **argv)
{
    struct acct_server_conf c = {0};
    struct hash_path_conf hc = {0};
    struct acct_server *as = NULL;
    struct http_server *srv = NULL;
    struct http_handler h;
    struct conf *conf = NULL;
    char err[CONF_ERR_LEN], herr[HASH_PATH_ERRLEN], *swift_conf = NULL;
    sigset_t set;
    int sig, rc = 1;

    if (argc != 2) {
        fprintf(stderr, "usage: %s <account-server.conf>\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (conf_load(argv[1], &conf, err) ||
        conf_apply(conf, "app:account-server", options, &c, err)) {
        fprintf(stderr, "%s\n", err);
        goto out;
    }
    memory_setup(&c.http.memory); /* before any thread starts */
    if (log_open(c.log.name, c.log.level, c.log.file)) {
        fprintf(stderr, "cannot open log '%s'\n", c.log.file);
        goto out;
    }
    if (asprintf(&swift_conf, "%s/swift.conf", c.swift_dir) == -1 ||
        hash_path_conf_load(&hc, swift_conf, herr)) {
        log_err("cannot read '%s': %s", swift_conf ? swift_conf : "", herr);
        goto out;
    }
    /* the handlers' threads inherit this mask: only sigwait() below sees
     * the signals */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (acct_server_new(&c, &hc, &as)) {
        log_err("cannot start: out of memory");
        goto out;
    }
    acct_server_handler(as, &h);
    if (http_server_new(&c.http, &h, &srv))
        goto out;
    log_info("listening on %s:%u", c.http.bind_ip, http_server_port(srv));
    sig = memory_sigwait(&set, &c.http.memory);
    log_info("stopping on signal %d", sig);
    http_server_stop(srv, 5000);
    rc = 0;
out:
    http_server_free(srv);
    acct_server_free(as);
    hash_path_conf_release(&hc);
    free(swift_conf);
    conf_release(options, &c);
    conf_free(conf);
    log_close();
    return rc;
}
