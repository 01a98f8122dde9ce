/*
 * token_cache.h - the in-process stand-in for the memcache Swift's
 * tempauth keeps tokens in: string keys to string values, each with an
 * expiry time. tempauth stores "token/<token>" -> groups and
 * "user/<account:user>" -> token, as Swift does.
 *
 * Thread-safe: one mutex guards the table. Expired entries are never
 * returned; they are dropped when met and swept when the table doubles
 * since the last sweep, so it stays bounded by the live entries. Nothing
 * survives the process (see doc/swift-api-constraints.md for several
 * proxies).
 */
#ifndef PROXY_TOKEN_CACHE_H
#define PROXY_TOKEN_CACHE_H

struct token_cache; /* opaque */

/* Returns 0 and sets *out, or -ENOMEM. Free with token_cache_free(). */
int token_cache_new(struct token_cache **out);
void token_cache_free(struct token_cache *tc); /* NULL is fine */

/* The value of 'key' unless it expired before 'now' (Unix time): returns 0 and
 * sets *value to a malloc'ed copy and *expires (may be NULL); -ENOENT when
 * absent or expired; -ENOMEM. */
int token_cache_get(struct token_cache *tc, const char *key, double now,
                    char **value, double *expires);

/* Sets 'key' to a copy of 'value' until 'expires'. Returns 0 or -ENOMEM. */
int token_cache_set(struct token_cache *tc, const char *key, const char *value,
                    double expires, double now);

#endif
