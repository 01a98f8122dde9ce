/*
 * hash_path.h - Swift's hash_path: where a name lives.
 *
 * The hash of /account[/container[/object]] is
 *   MD5(prefix + "/" + account [+ "/" + container [+ "/" + object]] + suffix)
 * with the cluster's secret prefix and suffix from swift.conf:
 *   [swift-hash]
 *   swift_hash_path_prefix = ...
 *   swift_hash_path_suffix = ...
 * Its first four bytes pick the partition (ring_get_part()); its hex form
 * names the object's directory. A hash_path_conf is immutable once loaded,
 * so threads share it freely.
 */
#ifndef RING_HASH_PATH_H
#define RING_HASH_PATH_H

#include <stddef.h>

#define HASH_PATH_ERRLEN 256
#define HASH_PATH_DEFAULT_CONF "/etc/swift/swift.conf"

struct hash_path_conf {
    char *prefix; /* never NULL once loaded; "" when unset */
    char *suffix;
};

/* Reads [swift-hash] swift_hash_path_prefix/_suffix from the swift.conf at
 * 'path' into 'hc' (release with hash_path_conf_release()). Like Swift,
 * refuses a file where both are missing or empty. Returns 0; -ENOENT or
 * other -errno when the file cannot be read; -EINVAL for a syntax error
 * or no prefix and suffix, with a one-line reason in 'err'.
 * Values are taken as inih parses them: a " ;" starts an inline comment
 * here but not in Python's configparser, and "%%" is not unescaped. */
int hash_path_conf_load(struct hash_path_conf *hc, const char *path,
                        char err[HASH_PATH_ERRLEN]);

/* Sets 'hc' from strings (for tests and tools); either may be NULL for
 * "". Returns 0, -EINVAL when both are empty, or -ENOMEM. */
int hash_path_conf_set(struct hash_path_conf *hc, const char *prefix,
                       const char *suffix);

/* Frees the strings and zeroes 'hc'. */
void hash_path_conf_release(struct hash_path_conf *hc);

/* The raw MD5 of the path, as Swift's hash_path(..., raw_digest=True).
 * 'container' and 'object' may be NULL; like Swift, an empty string means
 * absent. Returns 0, or -EINVAL for an object without a container. */
int hash_path(const struct hash_path_conf *hc, const char *account,
              const char *container, const char *object,
              unsigned char digest[16]);

/* Writes the 32 lowercase hex digits of 'digest' and a NUL into 'hex'. */
void hash_path_hex(const unsigned char digest[16], char hex[33]);

/* The inverse: 'hex' must be exactly 32 hex digits (either case). Returns
 * 0 with 'digest' filled, or -EINVAL. */
int hash_path_from_hex(const char *hex, unsigned char digest[16]);

#endif /* RING_HASH_PATH_H */
