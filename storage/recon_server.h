/*
 * recon_server.h - GET /recon/<what> on every storage server (object,
 * container, account), as Swift's recon middleware
 * (swift/common/middleware/recon.py) answers it: what the background
 * daemons left in the recon cache (common/recon.h), and what the server
 * sees of its host (devices, disk usage, quarantined files, ring md5s,
 * load). JSON shapes are Swift's, so swift-recon and `kura recon` read
 * them alike; doc/replication.md §7 lists the paths and where Kura
 * differs.
 *
 * A recon_server wraps a server's own HTTP handler: requests whose path
 * starts with "/recon/" are answered here (any method, as Swift's
 * middleware does) and never reach the server, which would take "recon"
 * for a device; every other request goes to the wrapped handler
 * untouched. A recon_server is read-only once made, so connection
 * threads share it without locking; each answer reads the disk afresh.
 */
#ifndef STORAGE_RECON_SERVER_H
#define STORAGE_RECON_SERVER_H

#include <jansson.h>
#include <stdbool.h>

#include "common/conf.h"
#include "common/http_server.h"
#include "common/recon.h"

/* The Swift release whose API the storage servers serve, as the proxy's
 * /info reports it: what GET /recon/version answers. */
#define RECON_SERVER_VERSION "2.30.0"

/* The option row of a server's table: Swift's recon_cache_path. */
#define RECON_SERVER_CONF_OPTIONS(T, m)                                        \
    CONF_STR("recon_cache_path", T, m, RECON_DEFAULT_CACHE_PATH)

/* What recon reads; strings are copied by recon_server_new(). */
struct recon_server_conf {
    const char *devices;   /* <devices>/<dev> for each device */
    bool mount_check;      /* false: every device directory counts mounted */
    const char *swift_dir; /* swift.conf and the *.ring.gz */
    const char *recon_cache_path; /* object.recon, container.recon... */
};

struct recon_server; /* opaque */

/* Makes a recon_server answering /recon/ and passing every other request
 * to 'inner' (copied; its arg must outlive the recon_server). Returns 0
 * and sets *out (free with recon_server_free()), or -ENOMEM. */
int recon_server_new(const struct recon_server_conf *conf,
                     const struct http_handler *inner,
                     struct recon_server **out);
void recon_server_free(struct recon_server *r); /* NULL is fine */

/* Fills 'h' with the wrapping handler: serve with it instead of 'inner'. */
void recon_server_handler(struct recon_server *r, struct http_handler *h);

/* The answer to GET 'path' ("/recon/diskusage"): returns 200 and sets
 * *out to the JSON (the caller json_decref()s it); 404 for a path recon
 * does not serve, 500 when the answer could not be made (out of memory,
 * /proc unreadable), with *out NULL. */
unsigned int recon_server_get(const struct recon_server *r, const char *path,
                              json_t **out);

#endif /* STORAGE_RECON_SERVER_H */
