/*
 * updater.c - kura-updater: the object updater (replicator/updater.h) run
 * by bg_daemon_main() from [object-updater] of object-server.conf.
 *
 *   kura-updater [--once] /etc/kura/object-server.conf
 */
#include "replicator/updater.h"
#include "replicator/bg_daemon.h"

static int start(const void *conf, const struct hash_path_conf *hc,
                 const char *devices, void **state)
{
    (void)devices;
    return updater_new(conf, hc, (struct updater **)state);
}

static void pass(void *state)
{
    updater_pass(state, NULL);
}

static void stop(void *state)
{
    updater_free(state);
}

int main(int argc, char **argv)
{
    struct updater_conf c = {0};
    const struct bg_daemon d = {
        .name = "object-updater",
        .options = updater_options,
        .conf = &c,
        .log = &c.log,
        .swift_dir = &c.swift_dir,
        .interval = &c.interval,
        .start = start,
        .pass = pass,
        .stop = stop,
    };

    return bg_daemon_main(argc, argv, &d);
}
