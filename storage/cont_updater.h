/*
 * cont_updater.h - the container updater, inside kura-container-server:
 * tells the account servers a container's object count and bytes after
 * its objects change, as Swift's swift-container-updater does. Swift
 * sends them only from that separate daemon (every 300 s by default); here
 * a thread of the container server sends them for the containers that
 * changed, at most every 'interval' seconds, so `swift stat` of an account
 * is right a moment after an upload.
 *
 * The set of changed containers lives in memory: a container whose update
 * was lost to a crash is sent again the next time it changes, or when the
 * replicator's pass finds that the account servers lack its current
 * stats: once every account server took an update it is recorded with
 * contdb_set_reported(), as Swift's reported().
 *
 * Thread-safe: cont_updater_note() takes a mutex for an insert.
 */
#ifndef STORAGE_CONT_UPDATER_H
#define STORAGE_CONT_UPDATER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/http_client.h"
#include "storage/contdb.h"
#include "storage/db_server.h"

struct cont_updater; /* opaque */

/* Starts the updater thread: account nodes from <swift_dir>/account.ring.gz
 * (-ENOENT when there is none: the caller runs without an updater). 'db'
 * and 'client' are borrowed and must outlive the updater. */
int cont_updater_new(struct db_server *db, struct http_client *client,
                     const char *swift_dir, double interval,
                     struct cont_updater **out);
/* Stops the thread (after the round under way) and frees. NULL is fine. */
void cont_updater_free(struct cont_updater *u);

/* Container a/c in partition 'part' of device 'dev' changed. */
void cont_updater_note(struct cont_updater *u, const char *dev, uint32_t part,
                       const char *account, const char *container);

/* Sends container a/c's row 'info' to one account server ("ip:port" or
 * "[v6]:port", device, partition): Swift's account update PUT. Returns
 * the status or -errno. Shared with the container PUT/DELETE path. */
int cont_account_put(struct http_client *client, const char *host,
                     const char *dev, const char *part, const char *account,
                     const char *container, const struct contdb_info *info,
                     const char *txn, bool override_deleted);

#endif /* STORAGE_CONT_UPDATER_H */
