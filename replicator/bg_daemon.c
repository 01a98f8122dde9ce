/*
 * bg_daemon.c - the main() of the object server's background daemons
 * (bg_daemon.h). What a pass does is the daemon's own file (auditor.c,
 * updater.c); this one owns the command line, the config, the log and
 * the schedule.
 */
#include "replicator/bg_daemon.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double bg_daemon_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void bg_daemon_sleep(double secs)
{
    struct timespec ts;

    if (secs <= 0)
        return;
    ts.tv_sec = (time_t)secs;

    ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

static int usage(const struct bg_daemon *d)
{
    fprintf(stderr, "usage: kura-%s [--once]%s <object-server.conf>\n", d->name,
            d->takes_devices ? " [--devices d1,d2]" : "");
    return 2;
}

int bg_daemon_main(int argc, char **argv, const struct bg_daemon *d)
{
    struct hash_path_conf hc = {0};
    struct conf *conf = NULL;
    char err[CONF_ERR_LEN], herr[HASH_PATH_ERRLEN] = "";
    const char *path = NULL, *devices = NULL;
    char *swift_conf = NULL;
    void *state = NULL;
    bool once = false;
    int i, rc = 1;

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--once"))
            once = true;
        else if (d->takes_devices && !strcmp(argv[i], "--devices") &&
                 i + 1 < argc)
            devices = argv[++i];
        else if (d->takes_devices && !strncmp(argv[i], "--devices=", 10))
            devices = argv[i] + 10;
        else if (argv[i][0] != '-' && !path)
            path = argv[i];
        else
            return usage(d);
    }
    if (!path)
        return usage(d);
    signal(SIGPIPE, SIG_IGN);
    if (conf_load(path, &conf, err) ||
        conf_apply(conf, d->name, d->options, d->conf, err)) {
        if (conf && !conf_has_section(conf, d->name))
            snprintf(err, sizeof(err), "%s: no [%s] section", path, d->name);
        fprintf(stderr, "kura-%s: %s\n", d->name, err);
        goto out;
    }
    if (log_open(d->log->name, d->log->level, d->log->file)) {
        fprintf(stderr, "kura-%s: cannot open log '%s'\n", d->name,
                d->log->file);
        goto out;
    }
    if (asprintf(&swift_conf, "%s/swift.conf", *d->swift_dir) == -1) {
        swift_conf = NULL;
        goto out;
    }
    rc = hash_path_conf_load(&hc, swift_conf, herr);
    if (rc) {
        log_err("cannot read '%s': %s", swift_conf,
                herr[0] ? herr : strerror(-rc));
        rc = 1;
        goto out;
    }
    rc = 1;
    if (d->start(d->conf, &hc, devices, &state)) {
        log_err("cannot start: out of memory");
        goto out;
    }
    log_info("%s started (%s)", d->name, once ? "once" : "forever");
    for (;;) {
        double begin = bg_daemon_now(), left;

        d->pass(state);
        if (once)
            break;
        left = *d->interval - (bg_daemon_now() - begin);
        if (left > 0)
            bg_daemon_sleep(left);
    }
    rc = 0;
out:
    d->stop(state);
    hash_path_conf_release(&hc);
    free(swift_conf);
    conf_release(d->options, d->conf);
    conf_free(conf);
    log_close();
    return rc;
}
