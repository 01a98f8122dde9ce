/*
 * obj_update.c - container updates after object writes, and the async
 * pendings that keep them when a container server cannot take them.
 *
 * Owns the wire form of the update (path quoting, the pairing of hosts and
 * devices) and the async pending file. Which headers an update carries is
 * the object server's business (obj_server.c); replaying async pendings is
 * kura-updater's.
 *
 * Invariant: an update the container servers did not all acknowledge is on
 * disk, durably, before the object server answers the write: the async
 * pending's directories and file are fsynced, so a crash cannot lose it.
 */
#include "storage/obj_update.h"

#include "common/atomic_file.h"
#include "common/http.h"
#include "common/log.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define MAX_REPLICAS 16

void obj_update_set_header(struct obj_update *u, const char *name,
                           const char *value)
{
    size_t i;

    if (!value)
        return;
    for (i = 0; i < u->n_headers; i++) {
        if (!strcasecmp(u->headers[i].name, name)) {
            u->headers[i].value = value;
            return;
        }
    }
    if (u->n_headers >= OBJ_UPDATE_MAX_HEADERS)
        return;
    u->headers[u->n_headers].name = name;
    u->headers[u->n_headers].value = value;
    u->n_headers++;
}

/* Splits a comma-separated list in place into at most MAX_REPLICAS
 * trimmed items. Returns the count. */
static size_t split_list(char *s, char **items)
{
    size_t n = 0;
    char *save = NULL, *tok;

    for (tok = strtok_r(s, ",", &save); tok && n < MAX_REPLICAS;
         tok = strtok_r(NULL, ",", &save)) {
        char *end;

        while (*tok == ' ' || *tok == '\t')
            tok++;
        end = tok + strlen(tok);
        while (end > tok && (end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        items[n++] = tok;
    }
    return n;
}

/* "ip:port" or "[v6]:port" into 'ip' (in place) and *port. 0 or -EINVAL. */
static int split_host(char *host, char **ip, unsigned int *port)
{
    char *colon = strrchr(host, ':'), *end;
    unsigned long p;

    if (!colon)
        return -EINVAL;
    *colon = '\0';
    errno = 0;
    p = strtoul(colon + 1, &end, 10);
    if (errno || *end || end == colon + 1 || p == 0 || p > 65535)
        return -EINVAL;
    if (host[0] == '[' && colon[-1] == ']') {
        colon[-1] = '\0';
        host++;
    }
    *ip = host;
    *port = (unsigned int)p;
    return 0;
}

/* Sends to every pair; returns how many failed. 'later' ends the log
 * line of a failure: what becomes of the update. */
static size_t send_all(struct http_client *client, const struct obj_update *u,
                       char **hosts, char **devs, size_t n, const char *opath,
                       unsigned int conn_ms, unsigned int node_ms,
                       const char *txn, const char *later)
{
    struct http_client_req reqs[MAX_REPLICAS];
    struct http_client_call *calls[MAX_REPLICAS];
    char *paths[MAX_REPLICAS] = {0};
    int errs[MAX_REPLICAS];
    size_t i, n_ok = 0, n_req = 0, failed = 0;

    for (i = 0; i < n; i++) {
        char *ip, *qdev = http_quote(devs[i]);
        unsigned int port;
        size_t len;

        if (!qdev || split_host(hosts[i], &ip, &port)) {
            log_txn(LOG_ERR, txn, "container update: bad host '%s'", hosts[i]);
            free(qdev);
            failed++;
            continue;
        }
        len = strlen(qdev) + strlen(u->part) + strlen(opath) + 4;
        paths[n_req] = malloc(len);
        if (paths[n_req])
            snprintf(paths[n_req], len, "/%s/%s%s", qdev, u->part, opath);
        free(qdev);
        if (!paths[n_req]) {
            failed++;
            continue;
        }
        reqs[n_req] = (struct http_client_req){
            .host = ip,
            .port = port,
            .method = u->op,
            .path = paths[n_req],
            .headers = u->headers,
            .n_headers = u->n_headers,
            .conn_timeout_ms = conn_ms,
            .node_timeout_ms = node_ms,
        };
        n_req++;
    }
    http_client_start_multi(client, reqs, n_req, calls, errs);
    for (i = 0; i < n_req; i++) {
        int status = calls[i] ? http_client_response(calls[i]) : errs[i];

        if (status >= 200 && status < 300) {
            n_ok++;
        } else {
            failed++;
            if (status < 0)
                log_txn(LOG_ERR, txn,
                        "container update failed with %s:%u%s (%s): %s",
                        reqs[i].host, reqs[i].port, reqs[i].path, later,
                        strerror(-status));
            else
                log_txn(LOG_ERR, txn,
                        "container update failed (%s): %d response from "
                        "%s:%u%s",
                        later, status, reqs[i].host, reqs[i].port,
                        reqs[i].path);
        }
        if (calls[i]) {
            const void *data;
            size_t len;

            /* read the (small) body so the connection goes back to the
             * pool; a failure here only costs the connection */
            while (status > 0 && !http_client_read(calls[i], &data, &len) &&
                   len)
                ;
            http_client_end(calls[i]);
        }
        free(paths[i]);
    }
    return failed;
}

/* Sends 'u' to its replicas. Returns how many did not answer 2xx, or
 * -EINVAL (hosts and devices do not pair up) or -ENOMEM. */
static int deliver(struct http_client *client, const struct obj_update *u,
                   unsigned int conn_ms, unsigned int node_ms, const char *txn,
                   const char *later)
{
    char *hosts[MAX_REPLICAS], *devs[MAX_REPLICAS];
    char *hcopy = NULL, *dcopy = NULL, *opath = NULL, *name = NULL;
    size_t nh, nd, len;
    int ret;

    if (!u->hosts || !u->devs || !u->part || !*u->part)
        return 0;
    hcopy = strdup(u->hosts);
    dcopy = strdup(u->devs);
    len = strlen(u->account) + strlen(u->container) + strlen(u->object) + 4;
    name = malloc(len);
    if (!hcopy || !dcopy || !name) {
        ret = -ENOMEM;
        goto out;
    }
    nh = split_list(hcopy, hosts);
    nd = split_list(dcopy, devs);
    if (nh != nd) {
        log_txn(LOG_ERR, txn,
                "container update failed: different numbers of hosts and "
                "devices in request: '%s' vs '%s'",
                u->hosts, u->devs);
        ret = -EINVAL;
        goto out;
    }
    snprintf(name, len, "/%s/%s/%s", u->account, u->container, u->object);
    opath = http_quote(name);
    if (!opath) {
        ret = -ENOMEM;
        goto out;
    }
    ret = (int)send_all(client, u, hosts, devs, nh, opath, conn_ms, node_ms,
                        txn, later);
out:
    free(hcopy);
    free(dcopy);
    free(name);
    free(opath);
    return ret;
}

int obj_update_send(struct http_client *client, const struct obj_update *u,
                    unsigned int conn_ms, unsigned int node_ms, const char *txn)
{
    int err = deliver(client, u, conn_ms, node_ms, txn,
                      "saving for async update later");

    if (err <= 0)
        return err;
    err = obj_update_write_async(u);
    if (err) {
        log_txn(LOG_ERR, txn, "cannot write async pending for '/%s/%s/%s': %s",
                u->account, u->container, u->object, strerror(-err));
        return err;
    }
    return 1;
}

int obj_update_replay(struct http_client *client, const struct obj_update *u,
                      unsigned int conn_ms, unsigned int node_ms,
                      const char *txn)
{
    return deliver(client, u, conn_ms, node_ms, txn, "async update kept");
}

/* mkdir that tolerates an existing directory and makes a new one durable
 * (its entry in the parent). */
static int make_dir(const char *path)
{
    if (mkdir(path, 0755) == -1) {
        if (errno == EEXIST)
            return 0;
        return -errno;
    }
    return fsync_parent_dir(path);
}

static char *encode(const struct obj_update *u)
{
    json_t *doc = json_object(), *hdrs = json_object();
    char *out = NULL;
    size_t i;

    if (!doc || !hdrs)
        goto out;
    for (i = 0; i < u->n_headers; i++)
        if (json_object_set_new(hdrs, u->headers[i].name,
                                json_string(u->headers[i].value)))
            goto out;
    if (json_object_set_new(doc, "op", json_string(u->op)) ||
        json_object_set_new(doc, "account", json_string(u->account)) ||
        json_object_set_new(doc, "container", json_string(u->container)) ||
        json_object_set_new(doc, "obj", json_string(u->object)) ||
        json_object_set_new(doc, "hosts", json_string(u->hosts)) ||
        json_object_set_new(doc, "devices", json_string(u->devs)) ||
        json_object_set_new(doc, "partition", json_string(u->part)) ||
        json_object_set(doc, "headers", hdrs))
        goto out;
    out = json_dumps(doc, JSON_SORT_KEYS | JSON_COMPACT);
out:
    json_decref(hdrs);
    json_decref(doc);
    return out;
}

int obj_update_write_async(const struct obj_update *u)
{
    char path[4096];
    char *body = NULL;
    size_t dlen;
    int err, n;

    n = snprintf(path, sizeof(path), "%s/%s/async_pending", u->devices, u->dev);
    if (n < 0 || (size_t)n >= sizeof(path) - 80)
        return -ENAMETOOLONG;
    dlen = (size_t)n;
    err = make_dir(path);
    if (err)
        return err;
    snprintf(path + dlen, sizeof(path) - dlen, "/%s", u->hash + 29);
    err = make_dir(path);
    if (err)
        return err;
    n = snprintf(path + dlen + 4, sizeof(path) - dlen - 4, "/%s-%s", u->hash,
                 u->timestamp);
    if (n < 0 || (size_t)n >= sizeof(path) - dlen - 4)
        return -ENAMETOOLONG;
    body = encode(u);
    if (!body)
        return -ENOMEM;
    err = atomic_file_replace(path, body, strlen(body));
    free(body);
    return err;
}

/* The string member 'key' of 'doc', or NULL when missing or not a
 * non-empty string. */
static const char *get_str(json_t *doc, const char *key)
{
    const char *v = json_string_value(json_object_get(doc, key));

    return v && *v ? v : NULL;
}

/* A header the update may carry: a token for a name, no control
 * characters in the value, and none of the framing headers the HTTP
 * client adds itself (it refuses a request carrying them). */
static bool header_ok(const char *name, const char *value)
{
    static const char *const framing[] = {"Content-Length", "Transfer-Encoding",
                                          "Expect"};

    if (!*name)
        return false;
    for (const char *p = name; *p; p++)
        if (*p <= ' ' || *p >= 127 || strchr("()<>@,;:\\\"/[]?={}", *p))
            return false;
    for (const char *p = value; *p; p++)
        if ((unsigned char)*p < ' ' && *p != '\t')
            return false;
    for (size_t i = 0; i < sizeof(framing) / sizeof(framing[0]); i++)
        if (!strcasecmp(name, framing[i]))
            return false;
    return true;
}

/* True when 'hosts' and 'devs' pair up and every host is "ip:port": a
 * pending that could never be delivered is malformed, not failing. */
static bool nodes_ok(const char *hosts, const char *devs)
{
    char *items[MAX_REPLICAS], *dev_items[MAX_REPLICAS], *ip;
    char *hcopy = strdup(hosts), *dcopy = strdup(devs);
    unsigned int port;
    size_t n;
    bool ok = false;

    if (!hcopy || !dcopy)
        goto out;
    n = split_list(hcopy, items);
    if (!n || n != split_list(dcopy, dev_items))
        goto out;
    for (size_t i = 0; i < n; i++)
        if (split_host(items[i], &ip, &port) || !*dev_items[i])
            goto out;
    ok = true;
out:
    free(hcopy);
    free(dcopy);
    return ok;
}

int obj_update_parse_async(const void *buf, size_t len, struct obj_update *u,
                           json_t **doc)
{
    json_t *hdrs, *v;
    const char *name;

    *doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(*doc))
        goto bad;
    u->op = get_str(*doc, "op");
    u->account = get_str(*doc, "account");
    u->container = get_str(*doc, "container");
    u->object = get_str(*doc, "obj");
    u->hosts = get_str(*doc, "hosts");
    u->devs = get_str(*doc, "devices");
    u->part = get_str(*doc, "partition");
    hdrs = json_object_get(*doc, "headers");
    if (!u->op || (strcmp(u->op, "PUT") && strcmp(u->op, "DELETE")) ||
        !u->account || !u->container || !u->object || !u->hosts || !u->devs ||
        !u->part || !nodes_ok(u->hosts, u->devs) || !json_is_object(hdrs) ||
        json_object_size(hdrs) > OBJ_UPDATE_MAX_HEADERS)
        goto bad;
    u->n_headers = 0;
    json_object_foreach(hdrs, name, v)
    {
        if (!json_is_string(v) || !header_ok(name, json_string_value(v)))
            goto bad;
        obj_update_set_header(u, name, json_string_value(v));
    }
    return 0;
bad:
    json_decref(*doc);
    *doc = NULL;
    return -EINVAL;
}
