/*
 * account_server.c - kura-account-server: db_daemon.h's main over
 * acct_server.h. Usage:
 *   kura-account-server /etc/kura/account-server.conf
 */
#include "storage/acct_server.h"
#include "storage/db_daemon.h"

static const struct conf_option options[] = {
    ACCT_SERVER_CONF_OPTIONS(struct acct_server_conf),
    CONF_END,
};

static int start(const void *conf, const struct hash_path_conf *hc,
                 void **server, struct http_handler *h)
{
    struct acct_server *as;
    int err = acct_server_new(conf, hc, &as);

    if (!err)
        acct_server_handler(as, h);
    *server = as;
    return err;
}

static void stop(void *server)
{
    acct_server_free(server);
}

static struct db_server *db(void *server)
{
    return acct_server_db(server);
}

int main(int argc, char **argv)
{
    struct acct_server_conf c = {0};
    const struct db_daemon d = {
        .name = "account-server",
        .options = options,
        .conf = &c,
        .http = &c.http,
        .log = &c.log,
        .swift_dir = &c.swift_dir,
        .start = start,
        .stop = stop,
        .repl = &db_repl_account,
        .db = db,
    };

    return db_daemon_main(argc, argv, &d);
}
