/*
 * conn_pool.h - TCP connections to storage servers, and the pool of idle
 * keep-alive ones keyed by (ip, port). The transport under http_client.c;
 * other code talks HTTP through http_client.h.
 *
 * A pool is shared by every thread: get and put take a mutex for a push or
 * a pop only. A struct conn belongs to one thread between get and put (or
 * close). A connected socket blocks, with SO_RCVTIMEO and SO_SNDTIMEO set
 * to the caller's timeout, so a read or write is one system call that
 * sleeps until progress or the timeout (a thread per request does not
 * gain from a poll() first); callers that must not block pass
 * MSG_DONTWAIT. Calls return 0 or -errno.
 */
#ifndef COMMON_CONN_POOL_H
#define COMMON_CONN_POOL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#define CONN_POOL_RBUF_SIZE (16 * 1024)
/* The read buffer while a large body streams through (conn_pool_grow()). */
#define CONN_POOL_BIG_RBUF_SIZE (256 * 1024)

struct conn_pool; /* opaque */
struct conn_peer; /* opaque: one (ip, port), alive as long as the pool */

/* One connection and its read buffer: the reader parses rbuf[rpos, rlen)
 * and refills it with conn_pool_read() once it is all used. rbuf is
 * 'small', or a CONN_POOL_BIG_RBUF_SIZE mapping while a large body is
 * read; it is 'small' again once the connection is back in the pool. */
struct conn {
    int fd;
    struct conn_peer *peer; /* where it returns to */
    bool reused;     /* came from the pool: the peer may have closed it */
    bool connecting; /* conn_pool_get_nowait(): connect still under way */
    unsigned int timeout_ms; /* SO_RCVTIMEO/SO_SNDTIMEO as set, 0: none */
    size_t rpos, rlen, rcap;
    char *rbuf;
    char small[CONN_POOL_RBUF_SIZE];
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
 * connect to several peers at once. Without 'check_stale' an idle
 * connection is handed out without the poll() that tells whether the peer
 * closed it: for a caller that sends again on a fresh connection when a
 * reused one turns out closed (a poll() per request showed in profiles). */
int conn_pool_get_nowait(struct conn_pool *pool, const char *host,
                         unsigned int port, bool check_stale,
                         struct conn **out);

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

/* Switches the read buffer to CONN_POOL_BIG_RBUF_SIZE bytes, keeping what
 * is unread: one recv() per 256 KiB of a large body instead of per 16 KiB.
 * 0, or -ENOMEM (the small buffer stays, which works too). */
int conn_pool_grow(struct conn *conn);

/* Milliseconds on the monotonic clock, for deadlines. */
int64_t conn_pool_now_ms(void);

#endif /* COMMON_CONN_POOL_H */
