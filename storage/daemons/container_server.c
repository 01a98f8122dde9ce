/*
 * container_server.c - kura-container-server: db_daemon.h's main over
 * cont_server.h. Usage:
 *   kura-container-server /etc/kura/container-server.conf
 */
#include "storage/cont_server.h"
#include "storage/db_daemon.h"

static const struct conf_option options[] = {
    CONT_SERVER_CONF_OPTIONS(struct cont_server_conf),
    CONF_END,
};

static int start(const void *conf, const struct hash_path_conf *hc,
                 void **server, struct http_handler *h)
{
    struct cont_server *cs;
    int err = cont_server_new(conf, hc, &cs);

    if (!err)
        cont_server_handler(cs, h);
    *server = cs;
    return err;
}

static void stop(void *server)
{
    cont_server_free(server);
}

static struct db_server *db(void *server)
{
    return cont_server_db(server);
}

static void stale(void *server, const char *dev, uint32_t part,
                  const char *account, const char *container)
{
    cont_server_note_stale(server, dev, part, account, container);
}

int main(int argc, char **argv)
{
    struct cont_server_conf c = {0};
    const struct db_daemon d = {
        .name = "container-server",
        .options = options,
        .conf = &c,
        .http = &c.http,
        .log = &c.log,
        .swift_dir = &c.swift_dir,
        .start = start,
        .stop = stop,
        .repl = &db_repl_container,
        .db = db,
        .stale = stale,
    };

    return db_daemon_main(argc, argv, &d);
}
