/*
 * db_daemon.c - the main() both database daemons run (db_daemon.h). The
 * servers themselves are acct_server.c and cont_server.c; the daemons'
 * own files (storage/daemons/) only describe them.
 */
#include "storage/db_daemon.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/memory.h"
#include "storage/cont_lifecycle.h"
#include "storage/db_auditor.h"
#include "storage/db_replicator.h"

static const struct conf_option replicator_options[] = {
    DB_REPLICATOR_CONF_OPTIONS(struct db_replicator_conf),
    CONF_END,
};

/* Swift names the auditors' rate after what they audit. */
static const struct conf_option container_auditor_options[] = {
    DB_AUDITOR_CONF_OPTIONS(struct db_auditor_conf, "containers_per_second"),
    CONF_END,
};
static const struct conf_option account_auditor_options[] = {
    DB_AUDITOR_CONF_OPTIONS(struct db_auditor_conf, "accounts_per_second"),
    CONF_END,
};

static const struct conf_option lifecycle_options[] = {
    CONT_LIFECYCLE_CONF_OPTIONS(struct cont_lifecycle_conf),
    CONF_END,
};

static const struct conf_option *auditor_options(const struct db_daemon *d)
{
    return strcmp(d->repl->name, "account") ? container_auditor_options
                                            : account_auditor_options;
}

/* Starts the auditor when the config has its section, as Swift runs
 * swift-container-auditor from [container-auditor]. *out stays NULL
 * without one. */
static int start_auditor(const struct db_daemon *d, const struct conf *conf,
                         void *server, struct db_auditor_conf *ac,
                         struct db_auditor **out)
{
    char section[64], err[CONF_ERR_LEN];

    *out = NULL;
    snprintf(section, sizeof(section), "%s-auditor", d->repl->name);
    if (!conf_has_section(conf, section)) {
        log_warning("no [%s] in '%s': not auditing", section, conf_path(conf));
        return 0;
    }
    if (conf_apply(conf, section, auditor_options(d), ac, err)) {
        log_err("%s", err);
        return -EINVAL;
    }
    return db_auditor_new(ac, d->repl->name, d->db(server), out);
}

/* Starts the S3 lifecycle pass of a container server when the config
 * has [container-lifecycle]. *out stays NULL without one. */
static int start_lifecycle(const struct db_daemon *d, const struct conf *conf,
                           void *server, struct cont_lifecycle_conf *lc,
                           struct cont_lifecycle **out)
{
    const struct cont_lifecycle_env env = {
        .db = d->db(server),
        .swift_dir = *d->swift_dir,
        .bind_ip = d->http->bind_ip,
        .bind_port = d->http->bind_port,
    };
    char err[CONF_ERR_LEN];

    *out = NULL;
    if (strcmp(d->repl->name, "container"))
        return 0;
    if (!conf_has_section(conf, "container-lifecycle")) {
        log_warning("no [container-lifecycle] in '%s': S3 lifecycle rules "
                    "expire only objects written after them",
                    conf_path(conf));
        return 0;
    }
    if (conf_apply(conf, "container-lifecycle", lifecycle_options, lc, err)) {
        log_err("%s", err);
        return -EINVAL;
    }
    return cont_lifecycle_new(lc, &env, out);
}

/* Starts the replicator when the config asks for it, as Swift runs
 * swift-container-replicator from the [container-replicator] section of
 * the server's config. *out stays NULL without one. */
static int start_replicator(const struct db_daemon *d, const struct conf *conf,
                            void *server, struct db_replicator_conf *rc,
                            struct db_replicator **out)
{
    const struct db_replicator_env env = {
        .type = d->repl,
        .db = d->db(server),
        .swift_dir = *d->swift_dir,
        .bind_ip = d->http->bind_ip,
        .bind_port = d->http->bind_port,
        .stale = d->stale,
        .stale_arg = server,
    };
    char section[64], err[CONF_ERR_LEN];

    *out = NULL;
    snprintf(section, sizeof(section), "%s-replicator", d->repl->name);
    if (!conf_has_section(conf, section)) {
        log_warning("no [%s] in '%s': not replicating", section,
                    conf_path(conf));
        return 0;
    }
    if (conf_apply(conf, section, replicator_options, rc, err)) {
        log_err("%s", err);
        return -EINVAL;
    }
    return db_replicator_new(rc, &env, out);
}

int db_daemon_main(int argc, char **argv, const struct db_daemon *d)
{
    struct hash_path_conf hc = {0};
    struct http_server *srv = NULL;
    struct http_handler h;
    struct db_replicator_conf repl_conf = {0};
    struct db_replicator *repl = NULL;
    struct db_auditor_conf audit_conf = {0};
    struct db_auditor *auditor = NULL;
    struct cont_lifecycle_conf lifecycle_conf = {0};
    struct cont_lifecycle *lifecycle = NULL;
    struct conf *conf = NULL;
    char err[CONF_ERR_LEN], herr[HASH_PATH_ERRLEN], section[64];
    char *swift_conf = NULL;
    void *server = NULL;
    sigset_t set;
    int sig, rc = 1;

    if (argc != 2) {
        fprintf(stderr, "usage: %s <%s.conf>\n", argv[0], d->name);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    snprintf(section, sizeof(section), "app:%s", d->name);
    if (conf_load(argv[1], &conf, err) ||
        conf_apply(conf, section, d->options, d->conf, err)) {
        fprintf(stderr, "%s\n", err);
        goto out;
    }
    memory_setup(&d->http->memory); /* before any thread starts */
    if (log_open(d->log->name, d->log->level, d->log->file)) {
        fprintf(stderr, "cannot open log '%s'\n", d->log->file);
        goto out;
    }
    if (asprintf(&swift_conf, "%s/swift.conf", *d->swift_dir) == -1 ||
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
    if (d->start(d->conf, &hc, &server, &h)) {
        log_err("cannot start: out of memory");
        goto out;
    }
    if (http_server_new(d->http, &h, &srv))
        goto out;
    log_info("listening on %s:%u", d->http->bind_ip, http_server_port(srv));
    if (d->repl && start_replicator(d, conf, server, &repl_conf, &repl))
        goto out;
    if (d->repl && start_auditor(d, conf, server, &audit_conf, &auditor))
        goto out;
    if (d->repl &&
        start_lifecycle(d, conf, server, &lifecycle_conf, &lifecycle))
        goto out;
    sig = memory_sigwait(&set, &d->http->memory);
    log_info("stopping on signal %d", sig);
    http_server_stop(srv, 5000);
    rc = 0;
out:
    /* after the server: a request it finishes may be the replicator's */
    db_replicator_free(repl);
    conf_release(replicator_options, &repl_conf);
    db_auditor_free(auditor);
    cont_lifecycle_free(lifecycle);
    conf_release(lifecycle_options, &lifecycle_conf);
    if (d->repl)
        conf_release(auditor_options(d), &audit_conf);
    http_server_free(srv);
    d->stop(server);
    hash_path_conf_release(&hc);
    free(swift_conf);
    conf_release(d->options, d->conf);
    conf_free(conf);
    log_close();
    return rc;
}
