/*
 * ssync.h - the SSYNC exchange between object servers (doc/replication.md
 * §4): the sender lists what it holds in some suffixes of a partition, the
 * receiver answers what it lacks, and the sender sends only that, with the
 * object server's own PUT/POST/DELETE marked X-Backend-Replication.
 *
 * The receiver side is the object server's SSYNC verb (obj_server.c,
 * ssync_recv.h); the sender is used by kura-replicator. Both speak the
 * line formats below (ssync.c). Thread-safe: all state is the caller's.
 */
#ifndef STORAGE_SSYNC_H
#define STORAGE_SSYNC_H

#include "common/http_client.h"
#include "ring/hash_path.h"
#include "storage/ondisk.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SSYNC_MAX_BODY (16u << 20) /* one inventory, bytes */
#define SSYNC_MAX_LINES 200000u    /* one inventory, lines */

/* ---- the inventory and the answer (ssync.c) ----
 *
 * Inventory line, one per object hash the sender holds:
 *     <32 hex hash> <timestamp> [m:<meta timestamp>] [t]\n
 * the timestamp of the current .data or .ts ("t": a tombstone), and of the
 * .meta on top of a .data. Timestamps are ondisk.h's normalized internal
 * form. Answer line, one per hash the receiver wants:
 *     <32 hex hash> d|m|dm\n
 * "d": the .data or .ts, "m": the .meta. */

/* The longest inventory line, its newline included. */
#define SSYNC_LINE_MAX                                                         \
    (32 + 1 + (ONDISK_TS_SIZE - 1) + 3 + (ONDISK_TS_SIZE - 1) + 2 + 1)

/* What one hash directory holds, as far as SSYNC compares it. */
struct ssync_item {
    char hash[33];
    char ts[ONDISK_TS_SIZE];   /* the current .data's or .ts's */
    char meta[ONDISK_TS_SIZE]; /* the .meta's on top of the .data, or "" */
    bool tombstone;            /* 'ts' is a .ts */
};

enum ssync_want {
    SSYNC_WANT_DATA = 1 << 0, /* "d": send the .data (PUT) or .ts (DELETE) */
    SSYNC_WANT_META = 1 << 1, /* "m": send the .meta (POST) */
};

/* The item of hash directory 'hash' listed in 'l' (ondisk_list()). Returns
 * true and fills *out, or false when nothing there is current (no .data
 * or .ts: nothing to offer or compare). */
bool ssync_item_from_listing(const char *hash, const struct ondisk_listing *l,
                             struct ssync_item *out);

/* Writes the inventory line of 'it' (with its newline, NUL-terminated)
 * into 'buf' of at least SSYNC_LINE_MAX + 1 bytes; returns its length. */
size_t ssync_item_format(const struct ssync_item *it, char *buf);

/* Parses one inventory line of 'len' bytes, its newline excluded. Strict:
 * single spaces, a lowercase hash, valid timestamps, "m:" only on a .data
 * and newer than it. Returns 0 or -EINVAL. */
int ssync_item_parse(const char *line, size_t len, struct ssync_item *out);

/* What the receiver wants of 'remote' given its own 'local' (NULL: it has
 * no current file): the .data or .ts when the remote one is newer, the
 * .meta when the remote one is newer than the local .meta (or data), and
 * also whenever the data is wanted and the remote has a .meta, as the PUT
 * carries only the .data's metadata. A SSYNC_WANT_* mask, 0 when in sync. */
unsigned ssync_want(const struct ssync_item *remote,
                    const struct ssync_item *local);

/* Writes the answer line for 'hash' and a non-zero 'want' (with its
 * newline, NUL-terminated) into 'buf' of at least 37 bytes; returns its
 * length. */
size_t ssync_wanted_format(const char *hash, unsigned want, char *buf);
#define SSYNC_WANTED_LINE_MAX 36

/* Parses one answer line of 'len' bytes, its newline excluded. Returns 0
 * and sets 'hash' and *want, or -EINVAL. */
int ssync_wanted_parse(const char *line, size_t len, char hash[33],
                       unsigned *want);

/* ---- the sender (ssync_send.c) ---- */

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
    /* Required: swift.conf's hash prefix and suffix. Objects are opened by
     * hash, and a .data whose name does not hash to its directory is
     * quarantined (as Swift's diskfile does), so without them every
     * object would look corrupt: ssync_send() refuses NULL (-EINVAL). */
    const struct hash_path_conf *hash_conf;
    bool mount_check; /* the local device must be a mount point */
    /* Inventory lines per SSYNC request; 0: SSYNC_SEND_BATCH (tests set
     * a small one to see a partition offered in several requests). */
    unsigned batch;
    /* Objects sent at once, each on its own connection and thread (0 or
     * 1: one after the other). The receiver fsyncs every write and
     * concurrent ones overlap on its device: with 4, small objects went
     * about 3 times as fast on the test machine. 'throttle' must then be
     * thread-safe. */
    unsigned concurrency;
};

struct ssync_stats {
    uint64_t hashes;    /* object hashes listed to the peer */
    uint64_t sent_data; /* .data files sent (PUT) */
    uint64_t sent_ts;   /* tombstones sent (DELETE) */
    uint64_t sent_meta; /* .meta files sent (POST) */
    uint64_t bytes;     /* body bytes sent */
    uint64_t failures;  /* objects the peer did not take */
};

/* Syncs suffixes 'suffixes' (three hex digits each) of partition 'part'
 * of local device <devices>/<dev> to 't'. Counts into *st (added to, not
 * reset). The inventory goes in SSYNC requests of at most opts->batch
 * lines; a suffix with no object costs no request.
 * The peer "took" an object when it answered 2xx, 409 (it has that or
 * newer) or 404 (a DELETE or POST of an object it no longer has: Swift's
 * ssync counts that as a success too). An object that vanished or was
 * quarantined here since it was listed is skipped, as in Swift.
 * Returns 0 when the peer took every object it wanted (it is in sync for
 * these suffixes), 1 when some objects failed (try again next pass), or
 * -errno when the exchange itself failed: -ENODEV (the peer answered 507
 * to the inventory or to a write: its device is unmounted or full; or the
 * local device is missing), -EPROTO (a
 * status or answer that is not SSYNC's), -EINVAL (a bad argument), or the
 * http_client's connection errors. Nothing may be assumed about the peer
 * then. */
int ssync_send(struct http_client *client, const struct ssync_target *t,
               const char *devices, const char *dev, uint32_t part,
               const char *const *suffixes, size_t n,
               const struct ssync_opts *opts, struct ssync_stats *st);

/* Inventory lines per SSYNC request: well under SSYNC_MAX_LINES and
 * SSYNC_MAX_BODY, so the first objects go out before a huge partition is
 * all listed and memory stays small. */
#define SSYNC_SEND_BATCH 4096u

#endif /* STORAGE_SSYNC_H */
