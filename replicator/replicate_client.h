/*
 * replicate_client.h - the replicator's side of the object server's
 * REPLICATE verb (doc/replication.md §3): a peer's suffix hashes for a
 * partition, optionally with some suffixes recomputed first, and which of
 * our suffixes differ from them.
 *
 * A peer is input: its answer is parsed strictly (a JSON object of
 * three-hex-digit suffixes to sixteen hex digits, nothing else), and
 * anything else is -EPROTO, never a crash or a guess. Thread-safe.
 */
#ifndef REPLICATOR_REPLICATE_CLIENT_H
#define REPLICATOR_REPLICATE_CLIENT_H

#include <stddef.h>

#include "common/http_client.h"
#include "storage/ssync.h"
#include "storage/suffix_hash.h"

/* The largest REPLICATE answer read: 4096 suffixes take about 100 KiB. */
#define REPLICATE_MAX_BODY (1u << 20)
/* Suffixes named in one request path: the object server reads request
 * lines of up to 8 KiB (max_header_size), four bytes a suffix. */
#define REPLICATE_SUFFIXES_PER_REQ 1024

/* Parses a REPLICATE answer's body into 'out' (sorted by suffix; release
 * with suffix_hashes_release()). Returns 0, -EPROTO for anything but an
 * object of valid suffixes to 16-hex-digit strings, or -ENOMEM. */
int replicate_parse_hashes(const char *body, size_t len,
                           struct suffix_hashes *out);

/* Sends REPLICATE /<dev>/<part>[/<s1>-<s2>...] to 't' (in several
 * requests of REPLICATE_SUFFIXES_PER_REQ when 'n' is larger; the last
 * answer counts). With 'out' NULL the answer's body is read and dropped.
 * Returns the peer's status (200: 'out' holds its hashes), or -errno:
 * the peer unreachable or too slow, or -EPROTO for a 200 whose body is
 * not a hash map. 'txn' (may be NULL) goes out as X-Trans-Id. */
int replicate_client_hashes(struct http_client *c, const struct ssync_target *t,
                            const char *const *suffixes, size_t n,
                            const char *txn, struct suffix_hashes *out);

/* The suffixes of 'local' whose hash 'remote' lacks or has different,
 * in order, as pointers into 'local' stored in 'out' (room for local->n).
 * Returns how many. Suffixes only 'remote' has are the peer's to push. */
size_t replicate_diff(const struct suffix_hashes *local,
                      const struct suffix_hashes *remote, const char **out);

#endif /* REPLICATOR_REPLICATE_CLIENT_H */
