/*
 * bg_daemon.h - the main() of the object server's background daemons
 * (kura-auditor, kura-updater, ...): Swift's run_daemon(). Reads the
 * daemon's section of object-server.conf (with [DEFAULT] under it), opens
 * the log, reads swift.conf's hash path settings, then runs one pass
 * (--once) or a pass every 'interval' seconds until killed.
 *
 *   kura-<daemon> [--once] [--devices d1,d2] <object-server.conf>
 *
 * SIGTERM and SIGINT keep their default action: the daemons write
 * nothing that a kill could leave half done (every file they change is
 * replaced atomically), so there is no shutdown to wait for.
 */
#ifndef REPLICATOR_BG_DAEMON_H
#define REPLICATOR_BG_DAEMON_H

#include "common/conf.h"
#include "common/log.h"
#include "ring/hash_path.h"

#include <stdbool.h>

/* The shortest 'interval' a daemon takes: a pass over empty devices takes
 * next to no time, and a shorter interval would spin. */
#define BG_DAEMON_MIN_INTERVAL 0.1

struct bg_daemon {
    /* "object-auditor": the config section, the usage line */
    const char *name;
    const struct conf_option *options;
    /* the daemon's config struct (zeroed) and the members the main needs */
    void *conf;
    struct log_conf *log;
    char *const *swift_dir;
    const double *interval; /* seconds between the starts of two passes */
    bool takes_devices;     /* accepts --devices (Swift's override_devices) */
    /* Builds the daemon's state from 'conf' and 'hc' (both outlive it);
     * 'devices' is --devices' comma-separated list or NULL (all). Returns
     * 0 or -errno; *state is freed with stop() whatever start() returned. */
    int (*start)(const void *conf, const struct hash_path_conf *hc,
                 const char *devices, void **state);
    void (*pass)(void *state);
    void (*stop)(void *state); /* NULL state is fine */
};

/* Seconds on the monotonic clock, for rates and schedules. */
double bg_daemon_now(void);
/* Sleeps 'secs' seconds (nothing when <= 0), resuming after signals. */
void bg_daemon_sleep(double secs);

/* Runs the daemon; returns main()'s exit status (2: usage). */
int bg_daemon_main(int argc, char **argv, const struct bg_daemon *d);

#endif /* REPLICATOR_BG_DAEMON_H */
