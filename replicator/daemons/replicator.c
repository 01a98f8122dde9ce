/*
 * replicator.c - kura-replicator: reads [object-replicator] (with
 * [DEFAULT]) of an object server's config and runs replicator/
 * obj_replicator.c's passes, once or every 'interval' seconds until
 * SIGTERM or SIGINT (the pass stops after the partitions in flight).
 *
 *   kura-replicator [--once] [--devices d1,d2] [--partitions 1,2]
 *                   /etc/kura/object-server.conf
 */
#include "common/conf.h"
#include "common/log.h"
#include "replicator/obj_replicator.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECTION "object-replicator"
#define MAX_LIST 4096

static struct obj_replicator *running;

static void on_signal(int sig)
{
    (void)sig;
    if (running)
        obj_replicator_stop(running);
}

static int usage(void)
{
    fprintf(stderr, "usage: kura-replicator [--once] [--devices d1,d2] "
                    "[--partitions 1,2] <object-server.conf>\n");
    return 2;
}

/* Splits "a,b,c" in place into 'v'; empty items are skipped. */
static size_t split_list(char *s, const char **v, size_t max)
{
    char *save = NULL, *tok;
    size_t n = 0;

    for (tok = strtok_r(s, ",", &save); tok && n < max;
         tok = strtok_r(NULL, ",", &save))
        v[n++] = tok;
    return n;
}

static int parse_parts(char *s, uint32_t *parts, size_t *n)
{
    const char *items[MAX_LIST];
    size_t k = split_list(s, items, MAX_LIST);

    for (size_t i = 0; i < k; i++) {
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(items[i], &end, 10);
        if (errno || *end || end == items[i] || items[i][0] == '-' ||
            v > UINT32_MAX) {
            fprintf(stderr, "kura-replicator: bad partition '%s'\n", items[i]);
            return -EINVAL;
        }
        parts[i] = (uint32_t)v;
    }
    *n = k;
    return 0;
}

static int load(const char *path, struct conf **conf,
                struct obj_replicator_conf *c)
{
    char err[CONF_ERR_LEN];
    int rc;

    rc = conf_load(path, conf, err);
    if (!rc)
        rc = conf_apply(*conf, SECTION, obj_replicator_options, c, err);
    if (rc) {
        if (rc == -ENOENT && *conf)
            snprintf(err, sizeof(err), "%s: no [%s] section", path, SECTION);
        fprintf(stderr, "kura-replicator: %s\n", err);
    }
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"once", no_argument, NULL, 'o'},
        {"devices", required_argument, NULL, 'd'},
        {"partitions", required_argument, NULL, 'p'},
        {NULL, 0, NULL, 0},
    };
    static const char *devs[MAX_LIST];
    static uint32_t parts[MAX_LIST];
    struct obj_replicator_filter f = {.devs = devs, .parts = parts};
    struct obj_replicator_conf c = {0};
    struct obj_replicator *r = NULL;
    struct conf *conf = NULL;
    struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
    char err[CONF_ERR_LEN];
    bool once = false;
    int rc = 1, opt;

    while ((opt = getopt_long(argc, argv, "od:p:", longopts, NULL)) != -1) {
        switch (opt) {
        case 'o': once = true; break;
        case 'd': f.n_devs = split_list(optarg, devs, MAX_LIST); break;
        case 'p':
            if (parse_parts(optarg, parts, &f.n_parts))
                return 2;
            break;
        default: return usage();
        }
    }
    if (optind != argc - 1)
        return usage();
    signal(SIGPIPE, SIG_IGN);
    if (load(argv[optind], &conf, &c))
        goto out;
    if (log_open(c.log.name, c.log.level, c.log.file)) {
        fprintf(stderr, "kura-replicator: cannot open log file '%s'\n",
                c.log.file);
        goto out;
    }
    if (obj_replicator_new(&c, &r, err)) {
        log_err("%s", err);
        fprintf(stderr, "kura-replicator: %s\n", err);
        goto out;
    }
    running = r;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    if (once)
        log_notice("object-replicator started (devices '%s', once, "
                   "concurrency %u)",
                   c.devices, c.concurrency);
    else
        log_notice("object-replicator started (devices '%s', every %u s, "
                   "concurrency %u)",
                   c.devices, c.interval, c.concurrency);
    rc = once ? obj_replicator_run_once(r, &f) != 0
              : obj_replicator_run_forever(r, &f) != 0;
    log_notice("object-replicator stopping");
out:
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    running = NULL;
    obj_replicator_free(r);
    conf_release(obj_replicator_options, &c);
    conf_free(conf);
    log_close();
    return rc;
}
