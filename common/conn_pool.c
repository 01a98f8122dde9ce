/*
 * conn_pool.c - TCP connections to storage servers and the pool of idle
 * keep-alive connections.
 *
 * This file owns sockets: connecting within the connect timeout, raw
 * reads and writes bounded by the node timeout, and the idle stacks per
 * peer. Whether a connection may be reused is the HTTP layer's decision
 * (http_client.c); the pool only refuses one the peer has visibly closed.
 *
 * Peers are added on first use and live as long as the pool, so a struct
 * conn can point at its peer without a reference count. The mutex guards
 * the peer table and the idle stacks and is held for a push or a pop only.
 */
#include "common/conn_pool.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PEER_BUCKETS 64

struct conn_peer {
    struct conn_peer *next;
    char *host;
    unsigned int port;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    struct conn **idle; /* a stack: the most recently used is on top */
    size_t n_idle;
};

struct conn_pool {
    pthread_mutex_t lock;
    unsigned int max_idle;
    struct conn_peer *peers[PEER_BUCKETS];
};

int64_t conn_pool_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for 'events' on 'fd' for up to 'timeout_ms'. Returns 0 or
 * -ETIMEDOUT (or -errno from poll). */
static int wait_fd(int fd, short events, unsigned int timeout_ms)
{
    int64_t deadline = conn_pool_now_ms() + timeout_ms;
    struct pollfd p = {.fd = fd, .events = events};

    for (;;) {
        int64_t left = deadline - conn_pool_now_ms();
        int n;

        if (left < 0)
            left = 0;
        n = poll(&p, 1, (int)left);
        if (n > 0)
            return 0;
        if (n == 0)
            return -ETIMEDOUT;
        if (errno != EINTR)
            return -errno;
    }
}

/* ---- connections ---- */

static void shrink(struct conn *conn)
{
    if (conn->rbuf != conn->small)
        munmap(conn->rbuf, CONN_POOL_BIG_RBUF_SIZE);
    conn->rbuf = conn->small;
    conn->rcap = sizeof(conn->small);
}

int conn_pool_grow(struct conn *conn)
{
    char *big;

    if (conn->rbuf != conn->small)
        return 0;
    big = mmap(NULL, CONN_POOL_BIG_RBUF_SIZE, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (big == MAP_FAILED)
        return -ENOMEM;
    memcpy(big, conn->rbuf + conn->rpos, conn->rlen - conn->rpos);
    conn->rlen -= conn->rpos;
    conn->rpos = 0;
    conn->rbuf = big;
    conn->rcap = CONN_POOL_BIG_RBUF_SIZE;
    return 0;
}

void conn_pool_close(struct conn *conn)
{
    if (!conn)
        return;
    close(conn->fd);
    shrink(conn);
    free(conn);
}

/* Sets the socket's read and write timeouts, when they change. */
static int set_timeout(struct conn *conn, unsigned int timeout_ms)
{
    struct timeval tv;

    if (!timeout_ms)
        timeout_ms = 1; /* 0 would mean forever */
    if (conn->timeout_ms == timeout_ms)
        return 0;
    tv.tv_sec = timeout_ms / 1000;
    tv.tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000;
    if (setsockopt(conn->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
        setsockopt(conn->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
        return -errno;
    conn->timeout_ms = timeout_ms;
    return 0;
}

/* A connected socket blocks from now on (see conn_pool.h). */
static int make_blocking(struct conn *conn)
{
    return fcntl(conn->fd, F_SETFL, O_RDWR) == -1 ? -errno : 0;
}

/* Starts connecting to 'peer'. Sets *out to a connection that is ready
 * or, with 'connecting' set, waits for POLLOUT and conn_pool_connected(). */
static int conn_connect_start(struct conn_peer *peer, struct conn **out)
{
    struct conn *conn;
    int one = 1, err;

    *out = NULL;
    conn = malloc(sizeof(*conn));
    if (!conn)
        return -ENOMEM;
    conn->peer = peer;
    conn->reused = false;
    conn->connecting = false;
    conn->timeout_ms = 0;
    conn->rpos = conn->rlen = 0;
    conn->rbuf = conn->small;
    conn->rcap = sizeof(conn->small);
    conn->fd = socket(peer->addr.ss_family,
                      SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (conn->fd == -1) {
        err = -errno;
        free(conn);
        return err;
    }
    /* requests are written whole; Nagle would only delay the last piece */
    setsockopt(conn->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(conn->fd, (struct sockaddr *)&peer->addr, peer->addrlen)) {
        if (errno != EINPROGRESS) {
            err = -errno;
            conn_pool_close(conn);
            return err;
        }
        conn->connecting = true;
    } else if ((err = make_blocking(conn))) {
        conn_pool_close(conn);
        return err;
    }
    *out = conn;
    return 0;
}

int conn_pool_connected(struct conn *conn)
{
    socklen_t len = sizeof(int);
    int soerr = 0;

    if (!conn->connecting)
        return 0;
    if (getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &soerr, &len))
        return -errno;
    if (soerr)
        return -soerr;
    conn->connecting = false;
    return make_blocking(conn);
}

static int conn_connect(struct conn_peer *peer, unsigned int timeout_ms,
                        struct conn **out)
{
    int err = conn_connect_start(peer, out);

    if (!err && (*out)->connecting) {
        err = wait_fd((*out)->fd, POLLOUT, timeout_ms);
        if (!err)
            err = conn_pool_connected(*out);
        if (err) {
            conn_pool_close(*out);
            *out = NULL;
        }
    }
    return err;
}

/* A pooled connection whose peer closed it (or sent something unasked)
 * is readable while idle; one that is not is very likely still good. */
static bool conn_is_stale(const struct conn *conn)
{
    struct pollfd p = {.fd = conn->fd, .events = POLLIN};

    return poll(&p, 1, 0) != 0;
}

int conn_pool_writev(struct conn *conn, struct iovec *iov, int iovcnt,
                     unsigned int timeout_ms)
{
    int err = set_timeout(conn, timeout_ms);

    if (err)
        return err;
    while (iovcnt > 0) {
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = iovcnt};
        ssize_t n = sendmsg(conn->fd, &msg, MSG_NOSIGNAL);

        if (n < 0) {
            err = -errno;
            if (err == -EINTR)
                continue;
            /* SO_SNDTIMEO ran out without progress */
            return err == -EAGAIN ? -ETIMEDOUT : err;
        }
        while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
            n -= iov->iov_len;
            iov++;
            iovcnt--;
        }
        if (iovcnt > 0) {
            iov->iov_base = (char *)iov->iov_base + n;
            iov->iov_len -= n;
        }
    }
    return 0;
}

ssize_t conn_pool_read(struct conn *conn, unsigned int timeout_ms)
{
    int err = set_timeout(conn, timeout_ms);

    assert(conn->rpos == conn->rlen);
    conn->rpos = conn->rlen = 0;
    if (err)
        return err;
    for (;;) {
        ssize_t n = recv(conn->fd, conn->rbuf, conn->rcap, 0);

        if (n >= 0) {
            conn->rlen = (size_t)n;
            return n;
        }
        err = -errno;
        if (err == -EINTR)
            continue;
        /* SO_RCVTIMEO ran out without a byte */
        return err == -EAGAIN ? -ETIMEDOUT : err;
    }
}

/* ---- the pool ---- */

static unsigned int peer_hash(const char *host, unsigned int port)
{
    unsigned int h = port;

    for (; *host; host++)
        h = h * 31 + (unsigned char)*host;
    return h % PEER_BUCKETS;
}

static int peer_new(const char *host, unsigned int port, size_t max_idle,
                    struct conn_peer **out)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    struct conn_peer *peer;
    char service[16];

    *out = NULL;
    if (port == 0 || port > 65535)
        return -EINVAL;
    snprintf(service, sizeof(service), "%u", port);
    /* numeric host: a parse of the literal, never a DNS lookup */
    if (getaddrinfo(host, service, &hints, &ai))
        return -EINVAL;
    peer = calloc(1, sizeof(*peer));
    if (peer) {
        peer->host = strdup(host);
        peer->idle = calloc(max_idle ? max_idle : 1, sizeof(*peer->idle));
    }
    if (!peer || !peer->host || !peer->idle) {
        freeaddrinfo(ai);
        if (peer) {
            free(peer->host);
            free(peer->idle);
            free(peer);
        }
        return -ENOMEM;
    }
    peer->port = port;
    memcpy(&peer->addr, ai->ai_addr, ai->ai_addrlen);
    peer->addrlen = ai->ai_addrlen;
    freeaddrinfo(ai);
    *out = peer;
    return 0;
}

/* Finds or adds the peer; called with the lock held. */
static int peer_get(struct conn_pool *pool, const char *host, unsigned int port,
                    struct conn_peer **out)
{
    unsigned int b = peer_hash(host, port);
    struct conn_peer *peer;
    int err;

    for (peer = pool->peers[b]; peer; peer = peer->next) {
        if (peer->port == port && !strcmp(peer->host, host)) {
            *out = peer;
            return 0;
        }
    }
    err = peer_new(host, port, pool->max_idle, &peer);
    if (err)
        return err;
    peer->next = pool->peers[b];
    pool->peers[b] = peer;
    *out = peer;
    return 0;
}

/* Pops idle connections to 'peer' until one is not stale (or the first,
 * unchecked, unless 'check_stale'). */
static struct conn *pop_idle(struct conn_pool *pool, struct conn_peer *peer,
                             bool check_stale)
{
    for (;;) {
        struct conn *conn = NULL;

        pthread_mutex_lock(&pool->lock);
        if (peer->n_idle > 0)
            conn = peer->idle[--peer->n_idle];
        pthread_mutex_unlock(&pool->lock);
        if (!conn || !check_stale || !conn_is_stale(conn))
            return conn;
        conn_pool_close(conn);
    }
}

/* An idle pooled connection to (host, port) in *out, or NULL and the
 * peer in *peer_out to connect to. */
static int get_idle(struct conn_pool *pool, const char *host, unsigned int port,
                    bool check_stale, struct conn **out,
                    struct conn_peer **peer_out)
{
    struct conn_peer *peer;
    int err;

    *out = NULL;
    pthread_mutex_lock(&pool->lock);
    err = peer_get(pool, host, port, &peer);
    pthread_mutex_unlock(&pool->lock);
    if (err)
        return err;
    *out = pop_idle(pool, peer, check_stale);
    if (*out)
        (*out)->reused = true;
    *peer_out = peer;
    return 0;
}

int conn_pool_get(struct conn_pool *pool, const char *host, unsigned int port,
                  unsigned int timeout_ms, struct conn **out)
{
    struct conn_peer *peer;
    int err = get_idle(pool, host, port, true, out, &peer);

    if (err || *out)
        return err;
    return conn_connect(peer, timeout_ms, out);
}

int conn_pool_get_nowait(struct conn_pool *pool, const char *host,
                         unsigned int port, bool check_stale,
                         struct conn **out)
{
    struct conn_peer *peer;
    int err = get_idle(pool, host, port, check_stale, out, &peer);

    if (err || *out)
        return err;
    return conn_connect_start(peer, out);
}

int conn_pool_reconnect(struct conn_pool *pool, struct conn **conn,
                        unsigned int timeout_ms)
{
    struct conn_peer *peer = (*conn)->peer;

    (void)pool; /* the peer belongs to it already */
    conn_pool_close(*conn);
    return conn_connect(peer, timeout_ms, conn);
}

void conn_pool_put(struct conn_pool *pool, struct conn *conn)
{
    struct conn_peer *peer = conn->peer;

    assert(conn->rpos == conn->rlen);
    conn->rpos = conn->rlen = 0;
    shrink(conn);
    pthread_mutex_lock(&pool->lock);
    if (peer->n_idle < pool->max_idle) {
        peer->idle[peer->n_idle++] = conn;
        conn = NULL;
    }
    pthread_mutex_unlock(&pool->lock);
    conn_pool_close(conn); /* the peer has enough idle connections */
}

struct conn_pool *conn_pool_new(unsigned int max_idle)
{
    struct conn_pool *pool = calloc(1, sizeof(*pool));

    if (!pool)
        return NULL;
    pool->max_idle = max_idle;
    pthread_mutex_init(&pool->lock, NULL);
    return pool;
}

void conn_pool_free(struct conn_pool *pool)
{
    if (!pool)
        return;
    for (size_t b = 0; b < PEER_BUCKETS; b++) {
        struct conn_peer *peer = pool->peers[b], *next;

        for (; peer; peer = next) {
            next = peer->next;
            for (size_t i = 0; i < peer->n_idle; i++)
                conn_pool_close(peer->idle[i]);
            free(peer->idle);
            free(peer->host);
            free(peer);
        }
    }
    pthread_mutex_destroy(&pool->lock);
    free(pool);
}
