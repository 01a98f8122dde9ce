/*
 * auditor.c - kura-auditor: the object auditor (replicator/auditor.h) run
 * by bg_daemon_main() from [object-auditor] of object-server.conf.
 *
 *   kura-auditor [--once] [--devices d1,d2] /etc/kura/object-server.conf
 */
#include "replicator/auditor.h"
#include "replicator/bg_daemon.h"

static int start(const void *conf, const struct hash_path_conf *hc,
                 const char *devices, void **state)
{
    return auditor_new(conf, hc, devices, (struct auditor **)state);
}

static void pass(void *state)
{
    auditor_pass(state, NULL);
}

static void stop(void *state)
{
    auditor_free(state);
}

int main(int argc, char **argv)
{
    struct auditor_conf c = {0};
    const struct bg_daemon d = {
        .name = "object-auditor",
        .options = auditor_options,
        .conf = &c,
        .log = &c.log,
        .swift_dir = &c.swift_dir,
        .interval = &c.interval,
        .takes_devices = true,
        .start = start,
        .pass = pass,
        .stop = stop,
    };

    return bg_daemon_main(argc, argv, &d);
}
