/*
 * object_server.c - kura-object-server: reads its config, serves
 * storage/obj_server.c's API until SIGTERM or SIGINT, then stops
 * gracefully. Everything else lives in the kura_storage library, so tests
 * link the same code.
 *
 *   kura-object-server /etc/kura/object-server.conf
 */
#include "common/conf.h"
#include "common/http_server.h"
#include "common/log.h"
#include "common/memory.h"
#include "ring/hash_path.h"
#include "storage/obj_server.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#define SECTION "app:object-server"
#define STOP_GRACE_MS 5000

static int load(const char *path, struct conf **conf, struct obj_server_conf *c,
                struct hash_path_conf *hc)
{
    char err[CONF_ERR_LEN], herr[HASH_PATH_ERRLEN], swift_conf[4096];
    int rc;

    rc = conf_load(path, conf, err);
    if (!rc)
        rc = conf_apply(*conf, SECTION, obj_server_options, c, err);
    if (rc) {
        if (rc == -ENOENT && *conf)
            snprintf(err, sizeof(err), "%s: no [%s] section", path, SECTION);
        fprintf(stderr, "kura-object-server: %s\n", err);
        return rc;
    }
    snprintf(swift_conf, sizeof(swift_conf), "%s/swift.conf", c->swift_dir);
    rc = hash_path_conf_load(hc, swift_conf, herr);
    if (rc)
        fprintf(stderr, "kura-object-server: %s: %s\n", swift_conf,
                rc == -EINVAL ? herr : strerror(-rc));
    return rc;
}

int main(int argc, char **argv)
{
    struct obj_server_conf c = {0};
    struct hash_path_conf hc = {0};
    struct conf *conf = NULL;
    struct obj_server *srv = NULL;
    struct http_server *http = NULL;
    struct http_handler handler;
    sigset_t stop;
    int rc = 1, sig;

    if (argc != 2) {
        fprintf(stderr, "usage: kura-object-server <object-server.conf>\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    /* blocked before any thread starts, so only sigwait() sees them */
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    if (load(argv[1], &conf, &c, &hc))
        goto out;
    memory_setup(&c.http.memory); /* before any thread starts */
    if (log_open(c.log.name, c.log.level, c.log.file)) {
        fprintf(stderr, "kura-object-server: cannot open log file '%s'\n",
                c.log.file);
        goto out;
    }
    if (obj_server_new(&c, &hc, &srv))
        goto out;
    obj_server_handler(srv, &handler);
    if (http_server_new(&c.http, &handler, &http))
        goto out;
    log_notice("object-server started on %s:%u (devices '%s', mount_check "
               "%s)",
               c.http.bind_ip, http_server_port(http), c.devices,
               c.mount_check ? "on" : "off");
    sig = memory_sigwait(&stop, &c.http.memory);
    log_notice("object-server stopping (signal %d)", sig);
    http_server_stop(http, STOP_GRACE_MS);
    rc = 0;
out:
    http_server_free(http);
    obj_server_free(srv);
    hash_path_conf_release(&hc);
    conf_release(obj_server_options, &c);
    conf_free(conf);
    log_close();
    return rc;
}
