/*
 * recon.h - the recon cache: what background daemons measured, for the
 * storage servers' GET /recon/... and `kura recon` (doc/replication.md
 * §7). Like Swift's dump_recon_cache(): one JSON object per file
 * (<recon_cache_path>/object.recon, container.recon, account.recon) that
 * several daemons update, each its own top-level keys.
 *
 * Thread- and process-safe: an update holds an flock() on <file>.lock
 * while it reads, merges and atomically replaces the file.
 */
#ifndef COMMON_RECON_H
#define COMMON_RECON_H

#include <jansson.h>

#define RECON_DEFAULT_CACHE_PATH "/var/cache/kura"

/* Merges the top-level keys of 'patch' into the JSON object in 'path'
 * (created with its directory when missing; an unreadable or malformed
 * file is replaced). A key whose value is JSON null is removed; an
 * object value is merged one level down (as Swift merges dicts), any
 * other value replaces. Returns 0 or -errno. 'patch' is borrowed. */
int recon_update(const char *path, json_t *patch);

/* The JSON object in 'path', or NULL when it is missing or malformed.
 * The caller json_decref()s it. */
json_t *recon_read(const char *path);

/* "<dir>/<server>.recon" into 'out' (e.g. server "object"). Returns 0 or
 * -ENAMETOOLONG. */
int recon_path(char *out, size_t cap, const char *dir, const char *server);

#endif /* COMMON_RECON_H */
