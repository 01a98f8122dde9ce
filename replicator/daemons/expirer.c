/*
 * expirer.c - kura-expirer: the object expirer (replicator/expirer.h) run
 * by bg_daemon_main() from [object-expirer] of object-server.conf.
 *
 *   kura-expirer [--once] /etc/kura/object-server.conf
 */
#include "replicator/expirer.h"
#include "replicator/bg_daemon.h"

static int start(const void *conf, const struct hash_path_conf *hc,
                 const char *devices, void **state)
{
    (void)devices; /* the queue is the cluster's, not a device's */
    return expirer_new(conf, hc, (struct expirer **)state);
}

static void pass(void *state)
{
    expirer_pass(state, NULL);
}

static void stop(void *state)
{
    expirer_free(state);
}

int main(int argc, char **argv)
{
    struct expirer_conf c = {0};
    const struct bg_daemon d = {
        .name = "object-expirer",
        .options = expirer_options,
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
