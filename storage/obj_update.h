/*
 * obj_update.h - after a PUT or DELETE, the object server tells the
 * container servers (Swift's container_update and async_update): one
 * PUT or DELETE /<cont dev>/<cont part>/<account>/<container>/<object> per
 * container replica named in X-Container-Host/-Device/-Partition. When any
 * of them fails, the update is saved on the object's device as an async
 * pending for kura-updater:
 *
 *   <devices>/<dev>/async_pending/<last 3 hex of hash>/<hash>-<timestamp>
 *
 * a JSON object {"op", "account", "container", "obj", "hosts",
 * "devices", "partition", "headers"} written
 * atomically (temp file, fsync, rename, fsync dir); doc/object-server.md
 * specifies it. Thread-safe: everything is on the caller's stack, and the
 * http_client is.
 */
#ifndef STORAGE_OBJ_UPDATE_H
#define STORAGE_OBJ_UPDATE_H

#include "common/http_client.h"

#include <jansson.h>
#include <stddef.h>

#define OBJ_UPDATE_MAX_HEADERS 32

/* One update; every string is borrowed for the call. */
struct obj_update {
    const char *op;      /* "PUT" or "DELETE" */
    const char *devices; /* the object server's devices root */
    const char *dev;     /* the object's device: where async pendings go */
    const char *hash;    /* the object's hash, 32 hex digits */
    const char *account;
    const char *container;
    const char *object;
    const char *timestamp; /* internal form; names the async pending */
    /* X-Container-Host ("ip:port,ip:port"), -Device ("d1,d2"),
     * -Partition, as received; NULL when absent (no update) */
    const char *hosts;
    const char *devs;
    const char *part;
    /* sent to each container server and kept in the async pending:
     * X-Size, X-Content-Type, X-Etag, X-Timestamp, X-Trans-Id, ... */
    struct http_header headers[OBJ_UPDATE_MAX_HEADERS];
    size_t n_headers;
};

/* Sets a header, replacing one of the same name (case-insensitive), as
 * Swift's HeaderKeyDict does; quietly drops a new one past
 * OBJ_UPDATE_MAX_HEADERS (callers add a smaller set). NULL 'value' does
 * nothing. The strings stay borrowed. */
void obj_update_set_header(struct obj_update *u, const char *name,
                           const char *value);

/* Sends the update to every container replica, connecting to all at once,
 * each within 'conn_ms' to connect and 'node_ms' per read or write. Returns
 * 0 when every replica answered 2xx or there was nothing to send; 1 when
 * some failed and the async pending was written; -EINVAL when hosts and
 * devices do not pair up (logged, nothing sent, as Swift); another -errno
 * when the async pending could not be written. 'txn' is for the log. */
int obj_update_send(struct http_client *client, const struct obj_update *u,
                    unsigned int conn_ms, unsigned int node_ms,
                    const char *txn);

/* Sends the update as obj_update_send() does but writes no async
 * pending: for kura-updater, replaying one. Returns how many replicas did
 * not answer 2xx (0: all did), -EINVAL when hosts and devices do not pair
 * up (logged, nothing sent), or -ENOMEM. */
int obj_update_replay(struct http_client *client, const struct obj_update *u,
                      unsigned int conn_ms, unsigned int node_ms,
                      const char *txn);

/* Writes the async pending for 'u'. Returns 0 or -errno. */
int obj_update_write_async(const struct obj_update *u);

/* Reads an async pending's bytes into 'u': op, account, container, object,
 * hosts, devs, part and headers, borrowed from *doc, which the caller
 * json_decref()s once done with 'u' (the other members are left alone).
 * Returns 0, or -EINVAL (and *doc NULL) for anything but a well-formed
 * pending: not JSON, a member missing or not a non-empty string, an op
 * other than PUT or DELETE, hosts and devices that do not pair up or a
 * host that is not ip:port, more than OBJ_UPDATE_MAX_HEADERS headers, a
 * header unfit to send. */
int obj_update_parse_async(const void *buf, size_t len, struct obj_update *u,
                           json_t **doc);

#endif /* STORAGE_OBJ_UPDATE_H */
