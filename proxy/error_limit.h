/*
 * error_limit.h - the proxy's memory of failing storage nodes, Swift's
 * error limiting: a device that failed more than 'limit' times, each
 * within 'interval' seconds of the last, is skipped until 'interval'
 * seconds after its last error; a device that answered 507 (unmounted,
 * full) is skipped at once for 'interval' seconds.
 *
 * Keyed by "ip:port/device", as Swift's node_key. Thread-safe: one mutex
 * guards a small hash table; each call holds it for a lookup only.
 */
#ifndef PROXY_ERROR_LIMIT_H
#define PROXY_ERROR_LIMIT_H

#include <stdbool.h>

#include "ring/dev.h"

struct error_limit; /* opaque */

/* Returns 0 and sets *out, or -ENOMEM. Free with error_limit_free(). */
int error_limit_new(double interval, unsigned int limit,
                    struct error_limit **out);
void error_limit_free(struct error_limit *el); /* NULL is fine */

/* Whether 'dev' is to be skipped at time 'now' (seconds, any clock that
 * only moves forward). A limit that ran out is forgotten. */
bool error_limited(struct error_limit *el, const struct ring_dev *dev,
                   double now);

/* One more error for 'dev': a timeout, a refused connection, a 5xx. */
void error_limit_occurred(struct error_limit *el, const struct ring_dev *dev,
                          double now);

/* Skips 'dev' from now on for the interval (507 Insufficient Storage). */
void error_limit_now(struct error_limit *el, const struct ring_dev *dev,
                     double now);

#endif /* PROXY_ERROR_LIMIT_H */
