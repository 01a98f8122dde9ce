/*
 * conn_pool.h - TCP connections to storage servers, and the pool of idle
 * keep-alive ones keyed by (ip, port). The transport under http_client.c;
 * other code talks HTTP through http_client.h.
 *
 * A pool is shared by every thread: get and put take a mutex for a push or
 * a pop only. A struct conn belongs to one thread between get and put (or
 * close). Sockets are non-blocking; every wait is a poll() bounded by the
 * caller's timeout. Calls return 0 or -errno.
 */
#ifndef COMMON_CONN_POOL_H
#define COMMON_CONN_POOL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#define CONN_POOL_RBUF_SIZE (16 * 1024)

struct conn_pool; /* opaque */
struct conn_peer; /* opaque: one (ip, port), alive as long as the pool */

/* One connection and its read buffer: the reader parses rbuf[rpos, rlen)
 * and refills it with conn_pool_read() once it is all used. */
struct conn {
    int fd;
    struct conn_peer *peer; /* where it returns to */
    bool reused;     /* came from the pool: the peer may have closed it */
    bool connecting; /* conn_pool_get_nowait(): connect still under way */
    size_t rpos, rlen;
    char rbuf[CONN_POOL_RBUF_SIZE];
};

/* A pool keeping at most 'max_idle' idle connections per peer; NULL when
 * out of memory. Free with conn_pool_free(), once every connection is back
 * or closed (NULL is fine). */
struct conn_pool *conn_pool_new(unsigned int max_idle);
void conn_pool_free(struct conn_pool *pool);

/* Hands out a connection to (host, port): the most recently pooled idle
 * one that the peer has not closed, else a new one, connected within
 * 'timeout_ms'. 'host' is an IPv4 or IPv6 literal (-EINVAL otherwise: no
 * DNS). Sets *out, or NULL on failure. */
int conn_pool_get(struct conn_pool *pool, const char *host, unsigned int port,
                  unsigned int timeout_ms, struct conn **out);

/* As conn_pool_get() but without waiting for a new connection: it may
 * come back 'connecting'; wait for POLLOUT on its fd (bounded by the
 * connect timeout), then call conn_pool_connected(). Lets one thread
 * connect to several peers at once. */
int conn_pool_get_nowait(struct conn_pool *pool, const char *host,
                         unsigned int port, struct conn **out);

/* Completes a connect under way: 0 once connected (and for a connection
 * that was not connecting), or the connect's -errno (-ECONNREFUSED...). */
int conn_pool_connected(struct conn *conn);

/* Closes *conn and replaces it with a new connection to the same peer
 * (*conn is NULL on failure). */
int conn_pool_reconnect(struct conn_pool *pool, struct conn **conn,
                        unsigned int timeout_ms);

/* Gives 'conn' back for reuse, or closes it when its peer has enough idle
 * connections. Only for a connection with nothing unread and nothing owed. */
void conn_pool_put(struct conn_pool *pool, struct conn *conn);

/* Closes and frees 'conn' (NULL is fine). */
void conn_pool_close(struct conn *conn);

/* Writes all of 'iov' (advanced in place), waiting up to 'timeout_ms' for
 * each bit of progress. -ETIMEDOUT, -EPIPE, -ECONNRESET... */
int conn_pool_writev(struct conn *conn, struct iovec *iov, int iovcnt,
                     unsigned int timeout_ms);

/* Refills the (used up) read buffer with what the peer sent, waiting up to
 * 'timeout_ms'. Returns the byte count, 0 at end of stream, or -errno. */
ssize_t conn_pool_read(struct conn *conn, unsigned int timeout_ms);

/* Milliseconds on the monotonic clock, for deadlines. */
int64_t conn_pool_now_ms(void);

#endif /* COMMON_CONN_POOL_H */
