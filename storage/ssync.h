/*
 * ssync.h - the SSYNC exchange between object servers (doc/replication.md
 * §4): the sender lists what it holds in some suffixes of a partition, the
 * receiver answers what it lacks, and the sender sends only that, with the
 * object server's own PUT/POST/DELETE marked X-Backend-Replication.
 *
 * The receiver side is the object server's SSYNC verb (obj_server.c,
 * ssync_recv.c); the sender is used by kura-replicator. Thread-safe: all
 * state is the caller's.
 */
#ifndef STORAGE_SSYNC_H
#define STORAGE_SSYNC_H

#include <stddef.h>
#include <stdint.h>

#include "common/http_client.h"

#define SSYNC_MAX_BODY (16u << 20)  /* one inventory, bytes */
#define SSYNC_MAX_LINES 200000u     /* one inventory, lines */

/* Where to send: a peer's object server and device. */
struct ssync_target {
    const char *ip; /* as in the ring (IPv6 without brackets) */
    int port;
    const char *dev;
    uint32_t part;
};

struct ssync_opts {
    unsigned conn_ms; /* connect timeout */
    unsigned node_ms; /* per read or write */
    const char *txn;  /* X-Trans-Id for the peer's log; may be NULL */
    /* Called with the size of each body chunk before it is sent, so the
     * caller can enforce max_bytes_per_sec; may be NULL. */
    void (*throttle)(void *arg, size_t bytes);
    void *throttle_arg;
};

struct ssync_stats {
    uint64_t hashes;     /* object hashes listed to the peer */
    uint64_t sent_data;  /* .data files sent (PUT) */
    uint64_t sent_ts;    /* tombstones sent (DELETE) */
    uint64_t sent_meta;  /* .meta files sent (POST) */
    uint64_t bytes;      /* body bytes sent */
    uint64_t failures;   /* objects the peer did not take */
};

/* Syncs suffixes 'suffixes' (three hex digits each) of partition 'part'
 * of local device <devices>/<dev> to 't'. Counts into *st (added to, not
 * reset). Returns 0 when the peer took every object it wanted (it is in
 * sync for these suffixes), 1 when some objects failed (try again next
 * pass), or -errno when the exchange itself failed (peer unreachable,
 * 507, a bad answer): nothing may be assumed about the peer then. */
int ssync_send(struct http_client *client, const struct ssync_target *t,
               const char *devices, const char *dev, uint32_t part,
               const char *const *suffixes, size_t n,
               const struct ssync_opts *opts, struct ssync_stats *st);

#endif /* STORAGE_SSYNC_H */
