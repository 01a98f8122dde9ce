/*
 * http_server.c - Kura's HTTP/1.1 server: a thread per connection, one
 * struct request per request, the handler's callbacks in order, responses,
 * limits and shutdown.
 *
 * Owns the listening socket, the connection threads and every struct
 * request. Routing, status choice and what a body means belong to the
 * daemons' handlers. A connection reads and writes through conn_recv()
 * and write_all(): a socket, or for tests and the fuzzer a client
 * scripted in memory (http_server_serve_mem()), served by the same code.
 *
 * Why not an event loop: handlers block (fsync, LevelDB, backend calls),
 * so a request needs a thread anyway. Why not libmicrohttpd (used before):
 * in its thread-per-connection mode it polls before every read, reads a
 * body 32 KiB at a time whatever the socket holds, sends headers and body
 * in separate writes and zeroes its whole per-connection memory pool
 * (conn_memory_limit) between requests; measured here that was about a
 * third of the CPU of a small request and capped one upload at ~100 MB/s.
 *
 * A connection's thread, per request:
 *   1. read_head()   recv() into the head buffer (conn_memory_limit bytes)
 *                    until the empty line; the request line is parsed
 *                    here, the headers by libhttp-parser, both in place:
 *                    names, values and the target become NUL-terminated
 *                    strings inside the buffer, valid until the request
 *                    is done.
 *   2. on_headers, "100 Continue" when asked and still wanted, then the
 *      body: libhttp-parser decodes Content-Length or chunked framing and
 *      each piece goes to on_body straight from the buffer it was read
 *      into (large Content-Length bodies: a BODY_BUF_SIZE buffer, filled
 *      by one recv() each time, never past the body's end).
 *   3. on_end, the response (head and a small body in one sendmsg();
 *      streams in STREAM_BUF_SIZE blocks), on_done, the access line.
 * Bytes that followed the request (pipelining) move to the buffer's start
 * for the next one.
 *
 * Invariants: req->status != 0 iff a response was made; after a response
 * no handler callback but on_done runs; a response is written at most
 * once (req->sent); a connection is on srv->conns from its thread's start
 * until just before its fd is closed, so stop can shutdown() any listed
 * fd without racing a reuse of the number.
 */
#include "common/http_server.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <http_parser.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* recv() size for a large Content-Length body: a 64 MiB upload is 512
 * reads of up to 128 KiB, not 2,048 of 32 KiB and as many poll()s.
 * mmap()ed per request so RSS goes back after it; 48 uploads at once
 * (16 clients, 3 replicas) hold 6 MiB of them in an object server. */
#define BODY_BUF_SIZE HTTP_SERVER_BODY_PIECE_MAX
/* Bodies at most this long are read into the head buffer's tail. */
#define BODY_IN_HEAD_MAX (32 * 1024)
/* read() size for a streamed response. */
#define STREAM_BUF_SIZE (256 * 1024)
/* Room kept after the head in the head buffer for small bodies. */
#define HEAD_RESERVE 4096
#define MIN_HEAD_BUF 16384
/* Streamed bodies up to this size are read into the stack. */
#define STREAM_STACK 8192
/* Response heads up to this size are built on the stack. */
#define HEAD_STACK 4096

struct sconn;

struct http_server {
    struct http_server_conf conf; /* bind_ip owned */
    struct http_handler handler;
    unsigned int port;
    int listen_fd;
    pthread_t acceptor;
    bool acceptor_running;
    pthread_attr_t attr;  /* connection threads: detached, stack size */
    pthread_mutex_t lock; /* guards conns, n_conns */
    pthread_cond_t gone;  /* a connection thread ended */
    struct sconn *conns;
    unsigned int n_conns;
    atomic_bool stopping;
    bool stopped;
};

struct param {
    char *name;
    char *value;
};

/* A request header: both point into the connection's head buffer. */
struct rhdr {
    const char *name;
    const char *value;
    uint32_t name_len, value_len; /* until terminate_headers() */
};

enum conn_state { CONN_IDLE, CONN_BUSY };

struct sconn {
    struct http_server *srv;
    struct sconn *prev, *next;
    int fd;                           /* -1 with 'mem' */
    struct http_server_mem_conn *mem; /* NULL: a socket */
    atomic_int state; /* CONN_IDLE: waiting for a request's first byte */
    char client_ip[INET6_ADDRSTRLEN];
    char *buf; /* the head buffer: cap bytes, [pos, len) unparsed */
    size_t cap, pos, len;
    size_t head_end; /* the head is buf[0, head_end) */
    char *big;       /* BODY_BUF_SIZE, mmap()ed for a large body */
    http_parser parser;
    struct rhdr *hdrs;
    size_t n_hdrs, cap_hdrs;
    bool too_many_headers;
    bool folded; /* a header line continued on the next (obs-fold) */
    enum { CB_NONE, CB_FIELD, CB_VALUE } last_cb;
    bool head_done, msg_done;
    struct request *req; /* the request whose body is being parsed */
};

struct request {
    struct http_server *srv;
    struct sconn *c;
    const char *uri;      /* raw target, in the head buffer */
    size_t uri_len;       /* as sent, query included */
    const char *raw_path; /* uri up to '?' */
    char *path;           /* raw_path decoded; may be raw_path itself */
    const char *query;    /* after '?'; "" if none */
    struct param *params;
    size_t n_params;
    const char *method; /* in the head buffer */
    unsigned int http_minor;
    char txn[2 * TXN_ID_LEN + 1];
    int64_t content_length;
    bool chunked;
    bool has_body;
    bool expect_continue;
    bool started; /* the handler may see it: on_done runs */
    bool is_head;
    uint64_t body_received;
    uint64_t drained;
    bool abort; /* drop the connection after this request */
    /* the response */
    char *hdr_text; /* the handler's headers: "Name: value\r\n"... */
    size_t hdr_len, hdr_cap;
    bool has_type; /* one of them is Content-Type */
    unsigned int status;
    bool sent; /* the response has been written (or tried) */
    bool sent_ok;
    char *body;
    size_t body_len;
    req_read_fn read; /* a streamed body, if not NULL */
    void *read_arg;
    void (*free_arg)(void *arg);
    uint64_t stream_size;
    bool close_after; /* "Connection: close" */
    uint64_t bytes_out;
    struct timespec start;
    void *ctx;
    const char *continue_hdrs; /* borrowed: req_continue_headers() */
    /* what req_rewrite() and req_set_header() copied */
    char **owned;
    size_t n_owned;
    const char *log_method; /* as sent, once rewritten */
};

static void assert_request_ok(const struct request *req)
{
    assert(req->srv && req->c);
    assert(!req->sent || req->status);
    assert(!req->read || req->status);
    assert(req->body_received == 0 || req->started);
    (void)req;
}

/* ---- the request object ---- */

static void drop_headers(struct request *req)
{
    req->hdr_len = 0;
    req->has_type = false;
}

static void drop_stream(struct request *req)
{
    if (req->read && req->free_arg)
        req->free_arg(req->read_arg);
    req->read = NULL;
    req->free_arg = NULL;
    req->read_arg = NULL;
}

static void request_free(struct request *req)
{
    size_t i;

    if (!req)
        return;
    drop_stream(req);
    for (i = 0; i < req->n_params; i++) {
        free(req->params[i].name);
        free(req->params[i].value);
    }
    free(req->params);
    for (i = 0; i < req->n_owned; i++)
        free(req->owned[i]);
    free(req->owned);
    free(req->hdr_text);
    if (req->path != req->raw_path) /* not decoded: the same string */
        free(req->path);
    free(req->body);
    free(req);
}

const char *req_method(const struct request *req)
{
    return req->method;
}

const char *req_raw_path(const struct request *req)
{
    return req->raw_path;
}

const char *req_path(const struct request *req)
{
    /* not decoded (a request refused before the handler, which on_done
     * may still look at): as sent */
    return req->path ? req->path : req->raw_path;
}

const char *req_raw_query(const struct request *req)
{
    return req->query;
}

const char *req_param(const struct request *req, const char *name)
{
    size_t i = req->n_params;

    while (i--) /* the last one wins, as in dict(parse_qsl(...)) */
        if (!strcmp(req->params[i].name, name))
            return req->params[i].value;
    return NULL;
}

const char *req_header(const struct request *req, const char *name)
{
    const struct sconn *c = req->c;

    for (size_t i = 0; i < c->n_hdrs; i++)
        if (!strcasecmp(c->hdrs[i].name, name))
            return c->hdrs[i].value;
    return NULL;
}

int req_foreach_header(const struct request *req,
                       int (*fn)(const char *name, const char *value,
                                 void *arg),
                       void *arg)
{
    const struct sconn *c = req->c;

    for (size_t i = 0; i < c->n_hdrs; i++) {
        int rc = fn(c->hdrs[i].name, c->hdrs[i].value, arg);

        if (rc)
            return rc;
    }
    return 0;
}

int64_t req_content_length(const struct request *req)
{
    return req->content_length;
}

bool req_chunked(const struct request *req)
{
    return req->chunked;
}

uint64_t req_bytes_received(const struct request *req)
{
    return req->body_received;
}

const char *req_client_ip(const struct request *req)
{
    return req->c->client_ip;
}

const char *req_txn(const struct request *req)
{
    return req->txn;
}

void req_set_txn(struct request *req, const char *txn)
{
    snprintf(req->txn, sizeof(req->txn), "%s", txn ? txn : "");
}

void req_set_ctx(struct request *req, void *ctx)
{
    req->ctx = ctx;
}

void req_continue_headers(struct request *req, const char *lines)
{
    req->continue_hdrs = lines;
}

void *req_ctx(const struct request *req)
{
    return req->ctx;
}

void req_log_msg(const struct request *req, int level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vtxn(level, req->txn, fmt, ap);
    va_end(ap);
}

/* ---- rewriting ---- */

static bool header_text_ok(const char *s);
static int parse_query(struct request *req);

/* A copy of 'len' bytes of 's' owned by the request. */
static char *own(struct request *req, const char *s, size_t len)
{
    char **grown = reallocarray(req->owned, req->n_owned + 1, sizeof(*grown));
    char *copy;

    if (!grown)
        return NULL;
    req->owned = grown;
    copy = strndup(s, len);
    if (copy)
        req->owned[req->n_owned++] = copy;
    return copy;
}

static void free_params(struct param *params, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(params[i].name);
        free(params[i].value);
    }
    free(params);
}

int req_rewrite(struct request *req, const char *method, const char *query)
{
    const char *m = NULL, *q = NULL;

    if (method && (!*method || !header_text_ok(method)))
        return -EINVAL;
    if ((method && !(m = own(req, method, strlen(method)))) ||
        (query && !(q = own(req, query, strlen(query)))))
        return -ENOMEM;
    if (q) {
        /* parsed beside the old params: a bad escape changes nothing */
        struct param *old = req->params;
        size_t n_old = req->n_params;
        const char *old_query = req->query;
        int err;

        req->params = NULL;
        req->n_params = 0;
        req->query = q;
        err = parse_query(req);
        if (err) {
            free_params(req->params, req->n_params);
            req->params = old;
            req->n_params = n_old;
            req->query = old_query;
            return err;
        }
        free_params(old, n_old);
    }
    if (m) {
        if (!req->log_method)
            req->log_method = req->method;
        req->method = m;
    }
    return 0;
}

int req_set_header(struct request *req, const char *name, const char *value)
{
    struct sconn *c = req->c;
    const char *n = NULL, *v = NULL;
    size_t i, kept = 0;
    bool placed = false;

    if (!*name || !header_text_ok(name) || (value && !header_text_ok(value)))
        return -EINVAL;
    if (value && (!(n = own(req, name, strlen(name))) ||
                  !(v = own(req, value, strlen(value)))))
        return -ENOMEM;
    for (i = 0; i < c->n_hdrs; i++) {
        if (strcasecmp(c->hdrs[i].name, name)) {
            c->hdrs[kept++] = c->hdrs[i];
        } else if (v && !placed) {
            c->hdrs[kept] = c->hdrs[i];
            c->hdrs[kept++].value = v;
            placed = true;
        }
    }
    c->n_hdrs = kept;
    if (v && !placed) {
        if (c->n_hdrs == c->cap_hdrs) {
            struct rhdr *grown =
                reallocarray(c->hdrs, c->cap_hdrs + 8, sizeof(*grown));

            if (!grown)
                return -ENOMEM;
            c->hdrs = grown;
            c->cap_hdrs += 8;
        }
        c->hdrs[c->n_hdrs++] = (struct rhdr){n, v, 0, 0};
    }
    return 0;
}

unsigned int req_status(const struct request *req)
{
    return req->status;
}

/* ---- responses ---- */

static bool header_text_ok(const char *s)
{
    return !strpbrk(s, "\r\n");
}

int req_add_header(struct request *req, const char *name, const char *value)
{
    size_t nl, vl, need;
    char *p;

    if (req->status)
        return -EALREADY;
    if (!*name || !header_text_ok(name) || !header_text_ok(value) ||
        strchr(name, ':') || !strcasecmp(name, "Content-Length") ||
        !strcasecmp(name, "Transfer-Encoding"))
        return -EINVAL;
    /* one space is read as an empty value by every client (RFC 9110 trims
     * it), as Swift's empty metadata values need; some clients and
     * proxies drop a header with nothing after the colon */
    if (!*value)
        value = " ";
    nl = strlen(name);
    vl = strlen(value);
    need = req->hdr_len + nl + vl + 4;
    if (need > req->hdr_cap) {
        size_t cap = req->hdr_cap ? req->hdr_cap : 1024;

        while (cap < need)
            cap *= 2;
        p = realloc(req->hdr_text, cap);
        if (!p)
            return -ENOMEM;
        req->hdr_text = p;
        req->hdr_cap = cap;
    }
    /* kept as they go out: one copy per header, no allocation each */
    p = req->hdr_text + req->hdr_len;
    memcpy(p, name, nl);
    memcpy(p + nl, ": ", 2);
    memcpy(p + nl + 2, value, vl);
    memcpy(p + nl + 2 + vl, "\r\n", 2);
    req->hdr_len = need;
    if (!strcasecmp(name, "Content-Type"))
        req->has_type = true;
    return 0;
}

int req_respond(struct request *req, unsigned int status, const void *body,
                size_t len)
{
    if (req->status)
        return -EALREADY;
    if (len) {
        req->body = malloc(len);
        if (!req->body)
            return -ENOMEM;
        memcpy(req->body, body, len);
    }
    req->body_len = len;
    req->status = status;
    return 0;
}

int req_respond_error(struct request *req, unsigned int status)
{
    char body[HTTP_ERROR_BODY_MAX];
    size_t len = http_error_body(status, body);

    return req_respond(req, status, body, len);
}

int req_respond_stream(struct request *req, unsigned int status, uint64_t size,
                       req_read_fn read, void *arg, void (*free_arg)(void *arg))
{
    if (req->status) {
        if (free_arg)
            free_arg(arg);
        return -EALREADY;
    }
    req->read = read;
    req->read_arg = arg;
    req->free_arg = free_arg;
    req->stream_size = size;
    req->status = status;
    return 0;
}

int req_response_take(struct request *req, struct req_response *out)
{
    size_t n = 0;
    char *p, *end;

    memset(out, 0, sizeof(*out));
    if (!req->status)
        return -ENOENT;
    if (req->sent)
        return -EALREADY;
    for (p = req->hdr_text, end = p + req->hdr_len; p < end; p++)
        n += *p == '\n';
    if (n && !(out->headers = calloc(n, sizeof(*out->headers))))
        return -ENOMEM;
    /* "Name: value\r\n"... split in place: the text is ours now */
    for (p = req->hdr_text, end = p + req->hdr_len; p < end;) {
        char *colon = memchr(p, ':', (size_t)(end - p));
        char *cr = memchr(p, '\r', (size_t)(end - p));

        *colon = '\0';
        *cr = '\0';
        out->headers[out->n_headers].name = p;
        out->headers[out->n_headers++].value = colon + 2;
        p = cr + 2;
    }
    out->text_ = req->hdr_text;
    out->status = req->status;
    out->body = req->body;
    out->body_len = req->body_len;
    out->read = req->read;
    out->size = req->stream_size;
    out->arg = req->read_arg;
    out->free_arg = req->free_arg;
    req->hdr_text = NULL;
    req->hdr_len = req->hdr_cap = 0;
    req->has_type = false;
    req->body = NULL;
    req->body_len = 0;
    req->read = NULL;
    req->read_arg = NULL;
    req->free_arg = NULL;
    req->status = 0;
    return 0;
}

const char *req_response_header(const struct req_response *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (!strcasecmp(r->headers[i].name, name))
            return r->headers[i].value;
    return NULL;
}

void req_response_release(struct req_response *r)
{
    if (r->read && r->free_arg)
        r->free_arg(r->arg);
    free(r->headers);
    free(r->text_);
    free(r->body);
    memset(r, 0, sizeof(*r));
}

/* ---- a connection's I/O: a socket, or memory ---- */

static ssize_t mem_recv(struct http_server_mem_conn *mc, char *buf, size_t max)
{
    size_t n = mc->in_len - mc->in_used;

    if (mc->reads && mc->n_reads) {
        size_t r = mc->reads[mc->n_recvs % mc->n_reads];

        if (max > (r ? r : 1))
            max = r ? r : 1;
    }
    mc->n_recvs++;
    if (n > max)
        n = max;
    if (n)
        memcpy(buf, mc->in + mc->in_used, n);
    mc->in_used += n;
    return (ssize_t)n;
}

/* Room for 'need' bytes of output. The capacity is implicit: the power of
 * two at or above out_len (a thousand pipelined answers are a thousand
 * appends). 0 or -ENOMEM. */
static int mem_grow(struct http_server_mem_conn *mc, size_t need)
{
    size_t cap = 256, want = 256;
    char *grown;

    while (cap < mc->out_len)
        cap *= 2;
    if (mc->out && need <= cap)
        return 0;
    while (want < need)
        want *= 2;
    grown = realloc(mc->out, want);
    if (!grown)
        return -ENOMEM;
    mc->out = grown;
    return 0;
}

/* As sendmsg() on a blocking socket: all of it, or what fits under
 * out_max and then EPIPE. */
static ssize_t mem_send(struct http_server_mem_conn *mc,
                        const struct iovec *iov, int iovcnt)
{
    size_t total = 0, want = 0;

    for (int i = 0; i < iovcnt; i++)
        want += iov[i].iov_len;
    for (int i = 0; i < iovcnt; i++) {
        size_t n = iov[i].iov_len;

        if (mc->out_max && n > mc->out_max - mc->out_len)
            n = mc->out_max - mc->out_len;
        if (n && mem_grow(mc, mc->out_len + n)) {
            errno = ENOMEM;
            return -1;
        }
        if (n) {
            memcpy(mc->out + mc->out_len, iov[i].iov_base, n);
            mc->out_len += n;
            total += n;
        }
        if (n < iov[i].iov_len)
            break;
    }
    if (total == 0 && want > 0) {
        errno = EPIPE;
        return -1;
    }
    return (ssize_t)total;
}

static ssize_t conn_recv(struct sconn *c, char *buf, size_t max)
{
    if (c->mem)
        return mem_recv(c->mem, buf, max);
    return recv(c->fd, buf, max, 0);
}

/* Writes all of iov (advanced in place). The socket blocks, bounded by
 * SO_SNDTIMEO (client_timeout). 0 or -errno. */
static int write_all(struct sconn *c, struct iovec *iov, int iovcnt)
{
    while (iovcnt > 0) {
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)iovcnt};
        ssize_t n = c->mem ? mem_send(c->mem, iov, iovcnt)
                           : sendmsg(c->fd, &msg, MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
            n -= (ssize_t)iov->iov_len;
            iov++;
            iovcnt--;
        }
        if (iovcnt > 0) {
            iov->iov_base = (char *)iov->iov_base + n;
            iov->iov_len -= (size_t)n;
        }
    }
    return 0;
}

/* "Date: ..." as RFC 9110 wants it, formatted once a second per thread. */
static const char *date_header(void)
{
    static __thread time_t last;
    static __thread char text[64];
    time_t now = time(NULL);

    if (now != last) {
        struct tm tm;

        gmtime_r(&now, &tm);
        strftime(text, sizeof(text), "Date: %a, %d %b %Y %H:%M:%S GMT\r\n",
                 &tm);
        last = now;
    }
    return text;
}

static bool status_has_body(unsigned int status)
{
    return status >= 200 && status != 204 && status != 304;
}

/* Appends to a response head; false when it does not fit. */
static bool head_put(char *head, size_t cap, size_t *len, const char *a,
                     const char *b, const char *c)
{
    size_t la = strlen(a), lb = b ? strlen(b) : 0, lc = c ? strlen(c) : 0;

    if (*len + la + lb + lc >= cap)
        return false;
    memcpy(head + *len, a, la);
    if (b)
        memcpy(head + *len + la, b, lb);
    if (c)
        memcpy(head + *len + la + lb, c, lc);
    *len += la + lb + lc;
    return true;
}

/* The status line and headers into 'head' (cap bytes). Returns the
 * length, or 0 when 'cap' is too small. */
static size_t build_head(struct request *req, char *head, size_t cap,
                         bool chunked)
{
    char line[96], num[32];
    size_t len = 0;

    snprintf(line, sizeof(line), "HTTP/1.1 %u %s\r\n", req->status,
             http_reason(req->status));
    if (!head_put(head, cap, &len, line, date_header(), NULL))
        return 0;
    if (len + req->hdr_len >= cap)
        return 0;
    if (req->hdr_len)
        memcpy(head + len, req->hdr_text, req->hdr_len);
    len += req->hdr_len;
    if (!req->has_type &&
        !head_put(head, cap, &len, "Content-Type: text/html; charset=UTF-8\r\n",
                  NULL, NULL))
        return 0;
    /* Swift sends "Content-Length: 0" with a 204 (swiftclient and Swift's
     * own tests read it), and a 304's length as the body it has not */
    if (req->status == 204) {
        if (!head_put(head, cap, &len, "Content-Length: 0\r\n", NULL, NULL))
            return 0;
    } else if (req->status >= 200) {
        if (chunked) {
            if (!head_put(head, cap, &len, "Transfer-Encoding: chunked\r\n",
                          NULL, NULL))
                return 0;
        } else if (!req->read || req->stream_size != HTTP_SIZE_UNKNOWN) {
            snprintf(num, sizeof(num), "%llu",
                     (unsigned long long)(req->read ? req->stream_size
                                                    : req->body_len));
            if (!head_put(head, cap, &len, "Content-Length: ", num, "\r\n"))
                return 0;
        }
    }
    if (req->close_after &&
        !head_put(head, cap, &len, "Connection: close\r\n", NULL, NULL))
        return 0;
    if (!req->close_after && req->http_minor == 0 &&
        !head_put(head, cap, &len, "Connection: keep-alive\r\n", NULL, NULL))
        return 0;
    if (!head_put(head, cap, &len, "\r\n", NULL, NULL))
        return 0;
    return len;
}

/* Sends the head and, in the same sendmsg(), 'body'. */
static int send_head(struct request *req, bool chunked, const void *body,
                     size_t body_len)
{
    char stack[HEAD_STACK], *head = stack;
    size_t cap = sizeof(stack), len;
    struct iovec iov[2];
    int err;

    while (!(len = build_head(req, head, cap, chunked))) {
        if (head != stack)
            free(head);
        cap *= 4;
        head = malloc(cap);
        if (!head)
            return -ENOMEM;
    }
    iov[0] = (struct iovec){.iov_base = head, .iov_len = len};
    iov[1] = (struct iovec){.iov_base = (void *)body, .iov_len = body_len};
    err = write_all(req->c, iov, body_len ? 2 : 1);
    if (head != stack)
        free(head);
    return err;
}

static void *big_alloc(size_t size)
{
    void *p;

    if (size < 128 * 1024)
        return malloc(size);
    p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
             -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void big_free(void *p, size_t size)
{
    if (!p)
        return;
    if (size < 128 * 1024)
        free(p);
    else
        munmap(p, size);
}

/* One read() of the stream, logged on failure. */
static ssize_t stream_read(struct request *req, uint64_t pos, char *buf,
                           size_t max)
{
    ssize_t n = req->read(req->read_arg, pos, buf, max);

    if (n < 0)
        req_log(req, LOG_ERR, "cannot stream '%s' at byte %llu: %s",
                req->raw_path, (unsigned long long)pos, strerror((int)-n));
    return n;
}

/* A streamed body: the first block goes out with the head. Known size:
 * read() is not called past it, and a read that ends early cuts the
 * connection; unknown size: chunked, or until close for HTTP/1.0. */
static int send_stream(struct request *req)
{
    bool unknown = req->stream_size == HTTP_SIZE_UNKNOWN;
    bool chunked = unknown && req->http_minor > 0;
    size_t bsize = STREAM_BUF_SIZE;
    uint64_t pos = 0;
    char stack[STREAM_STACK], *buf = stack;
    int err = 0;

    if (unknown && !chunked)
        req->close_after = true;
    if (req->is_head || !status_has_body(req->status))
        return send_head(req, false, NULL, 0);
    if (!unknown && req->stream_size < bsize)
        bsize = req->stream_size ? (size_t)req->stream_size : 1;
    /* a small object's GET: no malloc() */
    if (bsize > sizeof(stack))
        buf = big_alloc(bsize);
    if (!buf)
        return -ENOMEM;
    for (bool first = true;; first = false) {
        size_t max = bsize;
        ssize_t n = 0;
        struct iovec iov[3];
        char frame[24];
        int cnt = 0;

        if (!unknown && req->stream_size - pos < max)
            max = (size_t)(req->stream_size - pos);
        if (max)
            n = stream_read(req, pos, buf, max);
        if (n < 0 || (n == 0 && !unknown && pos < req->stream_size)) {
            if (first)
                send_head(req, chunked, NULL, 0); /* then a short body */
            err = n < 0 ? (int)n : -EPIPE;
            break;
        }
        if (chunked && n > 0) {
            iov[cnt].iov_base = frame;
            iov[cnt++].iov_len =
                (size_t)snprintf(frame, sizeof(frame), "%zx\r\n", (size_t)n);
            iov[cnt++] = (struct iovec){buf, (size_t)n};
            iov[cnt++] = (struct iovec){"\r\n", 2};
        } else if (chunked) {
            iov[cnt++] = (struct iovec){"0\r\n\r\n", 5};
        } else if (n > 0) {
            iov[cnt++] = (struct iovec){buf, (size_t)n};
        }
        if (first) {
            /* the head and the first block: one sendmsg() for a small
             * object */
            if (cnt == 1) {
                err = send_head(req, chunked, iov[0].iov_base, iov[0].iov_len);
                cnt = 0;
            } else {
                err = send_head(req, chunked, NULL, 0);
            }
        }
        if (!err && cnt)
            err = write_all(req->c, iov, cnt);
        if (err)
            break;
        req->bytes_out += (uint64_t)n;
        pos += (uint64_t)n;
        if (n == 0 || (!unknown && pos == req->stream_size))
            break;
    }
    if (buf != stack)
        big_free(buf, bsize);
    return err;
}

/* Writes the response made, once. */
static void send_response(struct request *req)
{
    int err;

    assert(req->status && !req->sent);
    req->sent = true;
    if (atomic_load(&req->srv->stopping) ||
        (req->c->head_done && !http_should_keep_alive(&req->c->parser)))
        req->close_after = true;
    if (req->read) {
        err = send_stream(req);
        drop_stream(req);
    } else {
        bool body = !req->is_head && status_has_body(req->status);

        err = send_head(req, false, req->body, body ? req->body_len : 0);
        if (body)
            req->bytes_out = req->body_len;
    }
    req->sent_ok = !err;
    if (err)
        req->abort = true;
}

/* ---- the request's way through the handler ---- */

/* A callback failed: answer 500 unless it had answered already, without
 * the headers it had added (one of them may be why). */
static void handler_failed(struct request *req, const char *what, int err)
{
    if (req->status)
        return;
    req_log(req, LOG_ERR, "%s %s: %s failed: %s", req->method, req->raw_path,
            what, err ? strerror(-err) : "no response");
    drop_headers(req);
    if (req_respond_error(req, 500))
        req->abort = true;
}

/* http_unquote(), or with lenient_paths the text as sent when it does
 * not decode. */
static int unquote(struct request *req, const char *in, size_t len,
                   bool plus_is_space, char **out)
{
    int err = http_unquote(in, len, plus_is_space, out);

    if (err == -EINVAL && req->srv->conf.lenient_paths) {
        *out = strndup(in, len);
        err = *out ? 0 : -ENOMEM;
    }
    return err;
}

static int parse_query(struct request *req)
{
    const char *p = req->query;

    while (*p) {
        size_t len = strcspn(p, "&"), name_len = strcspn(p, "=");
        struct param *prm, *grown;
        int err;

        if (len) {
            if (name_len > len)
                name_len = len;
            grown =
                reallocarray(req->params, req->n_params + 1, sizeof(*grown));
            if (!grown)
                return -ENOMEM;
            req->params = grown;
            prm = &req->params[req->n_params];
            prm->value = NULL;
            err = unquote(req, p, name_len, true, &prm->name);
            if (err)
                return err;
            req->n_params++;
            if (name_len < len)
                err = unquote(req, p + name_len + 1, len - name_len - 1, true,
                              &prm->value);
            else if (!(prm->value = strdup("")))
                err = -ENOMEM;
            if (err)
                return err;
        }
        p += len + (p[len] == '&');
    }
    return 0;
}

struct header_check {
    unsigned int max_size, max_count, count;
    bool too_long;
};

static int check_header(const char *name, const char *value, void *arg)
{
    struct header_check *hc = arg;

    hc->count++;
    /* "name: value" as it was on the wire, give or take spaces */
    if (strlen(name) + 2 + strlen(value) > hc->max_size) {
        hc->too_long = true;
        return 1;
    }
    return hc->count > hc->max_count;
}

/* Reads what the handler needs from the request line and headers.
 * Returns 0, or the status to refuse the request with. */
static unsigned int prepare(struct request *req)
{
    const struct http_server_conf *conf = &req->srv->conf;
    struct header_check hc = {conf->max_header_size, conf->max_header_count, 0,
                              false};
    const http_parser *p = &req->c->parser;
    const char *te, *txn, *expect;
    int err;

    if (req->uri_len > conf->max_header_size)
        return 414;
    if (req->c->too_many_headers)
        return 431;
    if (req_foreach_header(req, check_header, &hc) || hc.too_long)
        return hc.too_long ? 400 : 431; /* as Swift: "Too many headers" */
    if (req->raw_path[0] != '/')
        return 400;
    if (!strchr(req->raw_path, '%')) {
        req->path = (char *)req->raw_path; /* nothing to decode */
        err = 0;
    } else {
        err = unquote(req, req->raw_path, strlen(req->raw_path), false,
                      &req->path);
    }
    if (!err)
        err = parse_query(req);
    if (err) /* a bad escape is the client's fault, no memory is ours */
        return err == -ENOMEM ? 503 : 400;
    txn = req_header(req, "X-Trans-Id");
    req_set_txn(req, txn);
    te = req_header(req, "Transfer-Encoding");
    req->chunked = (p->flags & F_CHUNKED) != 0;
    if (te && !req->chunked)
        return 501; /* a coding we cannot decode: we cannot find the end */
    req->content_length = -1;
    if ((p->flags & F_CONTENTLENGTH) && !req->chunked)
        req->content_length = (int64_t)p->content_length;
    if (req->content_length < -1)
        return 400;
    req->has_body = req->chunked || req->content_length > 0;
    expect = req_header(req, "Expect");
    /* as libmicrohttpd did, also for an empty body: clients that asked
     * wait for it (the proxy's empty PUTs) */
    req->expect_continue =
        req->http_minor > 0 && expect && !strcasecmp(expect, "100-continue");
    return 0;
}

/* ---- parsing ---- */

static bool is_tchar(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* The end of the head (the byte after its empty line) in buf[0, len), or
 * 0 while it is not all in. Bare LFs are taken as line ends. */
static size_t find_head_end(const char *buf, size_t from, size_t len)
{
    const char *p = buf + from, *end = buf + len;

    while ((p = memchr(p, '\n', (size_t)(end - p)))) {
        p++;
        if (p < end && *p == '\n')
            return (size_t)(p + 1 - buf);
        if (p + 1 < end && p[0] == '\r' && p[1] == '\n')
            return (size_t)(p + 2 - buf);
        if (p >= end - 1)
            break;
    }
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    struct sconn *c = p->data;

    if (c->head_done)
        return 0; /* chunked trailers: read and dropped */
    if (c->last_cb != CB_FIELD) {
        if (c->n_hdrs == c->cap_hdrs) {
            c->too_many_headers = true;
            c->last_cb = CB_FIELD;
            return 0;
        }
        c->hdrs[c->n_hdrs++] = (struct rhdr){at, "", (uint32_t)len, 0};
    } else if (!c->too_many_headers) {
        /* the whole head is in one buffer: pieces are contiguous */
        c->hdrs[c->n_hdrs - 1].name_len += (uint32_t)len;
    }
    c->last_cb = CB_FIELD;
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    struct sconn *c = p->data;

    if (c->head_done || c->too_many_headers)
        return 0;
    if (c->last_cb == CB_FIELD) {
        c->hdrs[c->n_hdrs - 1].value = at;
        c->hdrs[c->n_hdrs - 1].value_len = 0;
    } else if (at != c->hdrs[c->n_hdrs - 1].value +
                         c->hdrs[c->n_hdrs - 1].value_len) {
        /* the whole head is in one buffer, so a second piece that does
         * not follow the first is a continuation line: refused (RFC 9112
         * 5.2), as the value would hold its CR LF */
        c->folded = true;
    }
    c->hdrs[c->n_hdrs - 1].value_len += (uint32_t)len;
    c->last_cb = CB_VALUE;
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    struct sconn *c = p->data;

    c->head_done = true;
    http_parser_pause(p, 1);
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len);

static int on_message_complete(http_parser *p)
{
    struct sconn *c = p->data;

    c->msg_done = true;
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static bool is_token(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!is_tchar((unsigned char)s[i]))
            return false;
    return len > 0;
}

/* Ends the header strings in place, over the ':' after a name and the
 * CR or LF after a value, trailing blanks trimmed. An empty value is ""
 * (the parser may point it at the next line). Returns false for a name
 * that is not a token: Debian's libhttp-parser is built without
 * HTTP_PARSER_STRICT and lets spaces through ("Content-Length : 5"),
 * which RFC 9112 5.1 says to refuse with 400, since a proxy in front
 * may frame the request by a header we do not see. */
static bool terminate_headers(struct sconn *c)
{
    for (size_t i = 0; i < c->n_hdrs; i++) {
        struct rhdr *h = &c->hdrs[i];
        char *v = (char *)h->value;
        size_t vl = h->value_len;

        if (!is_token(h->name, h->name_len))
            return false;
        ((char *)h->name)[h->name_len] = '\0';
        while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
            vl--;
        if (vl)
            v[vl] = '\0';
        else
            h->value = "";
    }
    return true;
}

/* Parses the request line in buf[0, line_end): method SP target SP
 * HTTP/x.y. Returns 0, 400 or 505. */
static unsigned int parse_request_line(struct sconn *c, struct request *req,
                                       size_t *line_end, unsigned int *major)
{
    char *s = c->buf, *sp1, *sp2, *nl;
    size_t n;

    /* empty lines before a request are ignored (RFC 9112 2.2) */
    while (s < c->buf + c->head_end && (*s == '\r' || *s == '\n'))
        s++;
    nl = memchr(s, '\n', c->head_end - (size_t)(s - c->buf));
    if (!nl)
        return 400;
    *line_end = (size_t)(nl + 1 - c->buf);
    n = (size_t)(nl - s);
    if (n && s[n - 1] == '\r')
        n--;
    sp1 = memchr(s, ' ', n);
    if (!sp1 || sp1 == s)
        return 400;
    for (char *m = s; m < sp1; m++)
        if (!is_tchar((unsigned char)*m))
            return 400;
    sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - s));
    if (!sp2 || sp2 == sp1 + 1)
        return 400;
    for (char *t = sp1 + 1; t < sp2; t++)
        if ((unsigned char)*t <= ' ' || *t == 0x7f)
            return 400;
    if ((size_t)(s + n - (sp2 + 1)) != 8 || memcmp(sp2 + 1, "HTTP/", 5) ||
        sp2[6] < '0' || sp2[6] > '9' || sp2[7] != '.' || sp2[8] < '0' ||
        sp2[8] > '9')
        return 400;
    *major = (unsigned int)(sp2[6] - '0');
    req->http_minor = (unsigned int)(sp2[8] - '0');
    *sp1 = '\0';
    *sp2 = '\0';
    req->method = s;
    req->uri = sp1 + 1;
    req->uri_len = (size_t)(sp2 - (sp1 + 1));
    req->is_head = !strcmp(req->method, "HEAD");
    return *major == 1 ? 0 : 505;
}

/* Parses the head in buf[0, head_end): the request line ourselves (Swift
 * has verbs libhttp-parser does not know, REPLICATE and SSYNC), the
 * headers with libhttp-parser after a stand-in request line of the same
 * version. Returns 0 or the status to refuse the request with. */
static unsigned int parse_head(struct sconn *c, struct request *req)
{
    char stand_in[32];
    size_t line_end, used;
    unsigned int major = 0, st;
    enum http_errno e;
    char *q;

    st = parse_request_line(c, req, &line_end, &major);
    if (st)
        return st;
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    c->n_hdrs = 0;
    c->too_many_headers = false;
    c->folded = false;
    c->last_cb = CB_NONE;
    c->head_done = c->msg_done = false;
    snprintf(stand_in, sizeof(stand_in), "PUT / HTTP/1.%u\r\n",
             req->http_minor ? 1 : 0);
    http_parser_execute(&c->parser, &parser_settings, stand_in,
                        strlen(stand_in));
    if (HTTP_PARSER_ERRNO(&c->parser) != HPE_OK)
        return 400;
    used = http_parser_execute(&c->parser, &parser_settings, c->buf + line_end,
                               c->head_end - line_end);
    e = HTTP_PARSER_ERRNO(&c->parser);
    if (e == HPE_HEADER_OVERFLOW) {
        c->n_hdrs = 0; /* not terminated: on_done sees none */
        return 431;
    }
    if (e != HPE_PAUSED || !c->head_done || c->folded)
        return 400;
    /* paused on the head's last LF, or the parser saw another end than
     * find_head_end() did: non-strict, it takes "\r" and any byte for
     * the empty line, and what we counted as head would be served as the
     * next request (a desync a front proxy could be fooled by) */
    if (line_end + used + 1 != c->head_end)
        return 400;
    http_parser_pause(&c->parser, 0);
    c->pos = line_end + used; /* the head's last LF: the parser goes on */
    if (!terminate_headers(c))
        return 400;
    q = memchr(req->uri, '?', req->uri_len);
    if (q) {
        *q = '\0';
        req->query = q + 1;
    } else {
        req->query = "";
    }
    req->raw_path = req->uri;
    return 0;
}

/* ---- reading ---- */

/* Reads until the whole head is in the buffer. Returns 0, -1 to close
 * without an answer (peer gone, timeout, stop) or 431 when the head is
 * larger than the buffer. */
static int read_head(struct sconn *c)
{
    size_t scanned = 0;

    for (;;) {
        ssize_t n;

        if (c->len > 0) {
            c->head_end = find_head_end(c->buf, scanned, c->len);
            if (c->head_end)
                return 0;
            scanned = c->len > 3 ? c->len - 3 : 0;
        }
        if (c->len + HEAD_RESERVE >= c->cap)
            return 431;
        if (c->len == 0) {
            atomic_store(&c->state, CONN_IDLE);
            if (atomic_load(&c->srv->stopping))
                return -1;
        }
        n = conn_recv(c, c->buf + c->len, c->cap - HEAD_RESERVE - c->len);
        atomic_store(&c->state, CONN_BUSY);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        c->len += (size_t)n;
    }
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    struct sconn *c = p->data;
    struct request *req = c->req;
    struct http_server *srv = c->srv;
    int err;

    if (!len || !req)
        return 0;
    req->body_received += len;
    if (req->status) {
        /* answered mid-body: drop the rest, within reason */
        req->drained += len;
        if (req->drained > HTTP_SERVER_DRAIN_MAX) {
            req->abort = true;
            return -1;
        }
        return 0;
    }
    if (!srv->handler.on_body)
        return 0;
    err = srv->handler.on_body(req, at, len, srv->handler.arg);
    if (err)
        handler_failed(req, "on_body", err);
    return 0;
}

/* Where the next recv() of body bytes goes: [*dst, *dst + *max). */
static int body_target(struct sconn *c, char **dst, size_t *max)
{
    uint64_t left = c->parser.content_length;
    bool framed = !(c->parser.flags & F_CHUNKED);
    size_t tail = c->cap - c->head_end;

    /* with a Content-Length, never read past the body: what follows it
     * belongs to the next request and must land in the head buffer */
    if (framed && left > BODY_IN_HEAD_MAX && left > tail) {
        if (!c->big) {
            c->big = big_alloc(BODY_BUF_SIZE);
            if (!c->big)
                return -ENOMEM;
        }
        *dst = c->big;
        *max = left < BODY_BUF_SIZE ? (size_t)left : BODY_BUF_SIZE;
        return 1;
    }
    *dst = c->buf + c->head_end;
    *max = framed && left < tail ? (size_t)left : tail;
    return 0;
}

/* Runs the parser over the body until the message ends, reading as
 * needed; the response is written as soon as it is made. Returns 0 or -1
 * (the connection is to be dropped). */
static int read_body(struct sconn *c, struct request *req)
{
    char *src = c->buf;
    size_t pos = c->pos, len = c->len;

    while (!c->msg_done) {
        size_t used;
        enum http_errno e;

        if (req->status && !req->sent)
            send_response(req); /* early: then the rest is drained */
        if (req->abort)
            return -1;
        if (pos == len) {
            char *dst;
            size_t max;
            ssize_t n;
            int big = body_target(c, &dst, &max);

            if (big < 0)
                return -1;
            n = conn_recv(c, dst, max);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return -1; /* gone, or client_timeout without a byte */
            src = big ? c->big : c->buf;
            pos = big ? 0 : c->head_end;
            len = pos + (size_t)n;
        }
        used = http_parser_execute(&c->parser, &parser_settings, src + pos,
                                   len - pos);
        pos += used;
        e = HTTP_PARSER_ERRNO(&c->parser);
        if (e == HPE_PAUSED)
            http_parser_pause(&c->parser, 0);
        else if (e != HPE_OK)
            return -1; /* bad chunk framing, or too much to drain */
    }
    /* the next request's bytes, if any, are in the head buffer */
    assert(src == c->buf || pos == len);
    if (src == c->buf) {
        c->pos = pos;
        c->len = len;
    } else {
        c->pos = c->len = 0;
    }
    return 0;
}

/* ---- one request ---- */

static void log_request(const struct request *req, bool ok)
{
    struct timespec now;
    struct log_access a = {
        .client = req->c->client_ip,
        .method = req->log_method ? req->log_method : req->method,
        .path = req->raw_path,
        .status = req->status || ok ? req->status : 499,
        .bytes_in = req->body_received,
        .bytes_out = req->bytes_out,
        .txn = req->txn,
    };

    clock_gettime(CLOCK_MONOTONIC, &now);
    a.seconds = (double)(now.tv_sec - req->start.tv_sec) +
                (double)(now.tv_nsec - req->start.tv_nsec) / 1e9;
    log_access(&a);
}

/* Sends "100 Continue" when the client waits for it. */
static int send_continue(struct request *req)
{
    static const char cont[] = "HTTP/1.1 100 Continue\r\n";
    const char *extra = req->continue_hdrs ? req->continue_hdrs : "";
    struct iovec iov[3] = {{(void *)cont, sizeof(cont) - 1},
                           {(void *)extra, strlen(extra)},
                           {(void *)"\r\n", 2}};

    req->expect_continue = false;
    return write_all(req->c, iov, 3);
}

/* The handler's part: on_headers, the body, on_end, the response.
 * Returns false when the connection must be dropped. */
static bool run_handler(struct sconn *c, struct request *req)
{
    struct http_server *srv = c->srv;
    int err;

    err = srv->handler.on_headers(req, srv->handler.arg);
    if (err)
        handler_failed(req, "on_headers", err);
    if (req->status && req->expect_continue) {
        /* refused before the body: the client never sends it */
        req->close_after = true;
        send_response(req);
        return false;
    }
    if (!req->status && req->expect_continue && send_continue(req))
        return false;
    c->req = req;
    err = read_body(c, req);
    c->req = NULL;
    if (err)
        return false;
    if (!req->status) {
        err = srv->handler.on_end(req, srv->handler.arg);
        if (err || !req->status)
            handler_failed(req, "on_end", err);
    }
    if (req->abort)
        return false;
    if (!req->sent)
        send_response(req);
    return !req->abort;
}

/* Serves one request on the connection. Returns true to keep it open. */
static bool serve_one(struct sconn *c)
{
    struct http_server *srv = c->srv;
    struct request *req;
    unsigned int refuse;
    bool keep = false, ok;
    int st;

    st = read_head(c);
    if (st < 0)
        return false;
    c->head_done = c->msg_done = false;
    c->n_hdrs = 0;
    req = calloc(1, sizeof(*req));
    if (!req)
        return false;
    req->srv = srv;
    req->c = c;
    req->method = "";
    req->raw_path = "";
    req->query = "";
    req->content_length = -1;
    clock_gettime(CLOCK_MONOTONIC, &req->start);
    if (st) {
        /* the head is past the connection's memory: no callbacks */
        req->close_after = true;
        if (!req_respond_error(req, (unsigned int)st))
            send_response(req);
        request_free(req);
        return false;
    }
    refuse = parse_head(c, req);
    if (refuse == 0 || refuse == 414 || refuse == 431) {
        req->started = true;
        if (!refuse)
            refuse = prepare(req);
    }
    if (refuse) {
        /* the handler never sees it; the body, if any, is not read */
        req->close_after = true;
        if (!req_respond_error(req, refuse))
            send_response(req);
    } else {
        assert_request_ok(req);
        keep = run_handler(c, req);
    }
    ok = req->sent && req->sent_ok;
    keep = keep && ok && !req->close_after &&
           http_should_keep_alive(&c->parser) && !atomic_load(&srv->stopping);
    if (req->started) {
        if (srv->handler.on_done)
            srv->handler.on_done(req, ok, srv->handler.arg);
        if (srv->conf.log_requests)
            log_request(req, ok);
    }
    request_free(req);
    return keep;
}

/* ---- connections ---- */

static void conn_release(struct sconn *c)
{
    if (c->big)
        big_free(c->big, BODY_BUF_SIZE);
    free(c->buf);
    free(c->hdrs);
    free(c);
}

/* Serves requests until the connection is to be closed. */
static void conn_serve(struct sconn *c)
{
    for (;;) {
        bool keep = serve_one(c);

        if (c->big) { /* give a large body's buffer back at once */
            big_free(c->big, BODY_BUF_SIZE);
            c->big = NULL;
        }
        if (!keep)
            break;
        /* pipelined bytes move to the front for the next head */
        memmove(c->buf, c->buf + c->pos, c->len - c->pos);
        c->len -= c->pos;
        c->pos = 0;
    }
}

static void *conn_main(void *arg)
{
    struct sconn *c = arg;
    struct http_server *srv = c->srv;

    conn_serve(c);
    pthread_mutex_lock(&srv->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    srv->n_conns--;
    pthread_cond_broadcast(&srv->gone);
    pthread_mutex_unlock(&srv->lock);
    /* off the list: stop no longer touches this fd */
    close(c->fd);
    conn_release(c);
    return NULL;
}

static struct sconn *conn_new(struct http_server *srv, int fd,
                              const struct sockaddr_storage *ss)
{
    struct sconn *c = calloc(1, sizeof(*c));
    struct timeval tv = {.tv_sec = srv->conf.client_timeout};
    int one = 1;

    if (!c)
        return NULL;
    c->srv = srv;
    c->fd = fd;
    c->cap = srv->conf.conn_memory_limit < MIN_HEAD_BUF
                 ? MIN_HEAD_BUF
                 : (size_t)srv->conf.conn_memory_limit;
    c->buf = malloc(c->cap);
    c->cap_hdrs = srv->conf.max_header_count + 1;
    c->hdrs = calloc(c->cap_hdrs, sizeof(*c->hdrs));
    if (!c->buf || !c->hdrs) {
        conn_release(c);
        return NULL;
    }
    atomic_init(&c->state, CONN_BUSY);
    if (ss->ss_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr,
                  c->client_ip, sizeof(c->client_ip));
    else if (ss->ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr,
                  c->client_ip, sizeof(c->client_ip));
    if (fd < 0)
        return c;
    /* responses are written whole; Nagle would only delay them */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return c;
}

/* Takes a new connection: a thread of its own, or a close when
 * max_clients are open already. */
static void conn_start(struct http_server *srv, int fd,
                       const struct sockaddr_storage *ss)
{
    struct sconn *c;
    pthread_t t;

    pthread_mutex_lock(&srv->lock);
    if (srv->n_conns >= srv->conf.max_clients) {
        pthread_mutex_unlock(&srv->lock);
        close(fd);
        return;
    }
    srv->n_conns++; /* reserved before the thread exists */
    pthread_mutex_unlock(&srv->lock);
    c = conn_new(srv, fd, ss);
    pthread_mutex_lock(&srv->lock);
    if (c) {
        c->next = srv->conns;
        if (srv->conns)
            srv->conns->prev = c;
        srv->conns = c;
        if (pthread_create(&t, &srv->attr, conn_main, c)) {
            srv->conns = c->next;
            if (srv->conns)
                srv->conns->prev = NULL;
            conn_release(c);
            c = NULL;
        }
    }
    if (!c) {
        log_warning("cannot serve a connection: out of memory or threads");
        srv->n_conns--;
        pthread_cond_broadcast(&srv->gone);
        close(fd);
    }
    pthread_mutex_unlock(&srv->lock);
}

static void *accept_main(void *arg)
{
    struct http_server *srv = arg;

    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd =
            accept4(srv->listen_fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);

        if (atomic_load(&srv->stopping)) {
            if (fd >= 0)
                close(fd);
            return NULL;
        }
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOMEM ||
                errno == ENOBUFS) {
                struct timespec t = {0, 10 * 1000 * 1000};

                nanosleep(&t, NULL); /* let connections close */
            }
            continue;
        }
        conn_start(srv, fd, &ss);
    }
}

void *req_origin(const struct request *req)
{
    return req->c->mem ? req->c->mem->origin : NULL;
}

int http_server_serve_mem(const struct http_server_conf *conf,
                          const struct http_handler *handler,
                          struct http_server_mem_conn *mc)
{
    struct http_server srv = {
        .conf = *conf, .handler = *handler, .listen_fd = -1};
    struct sockaddr_storage ss = {.ss_family = AF_UNSPEC};
    struct sconn *c;

    atomic_init(&srv.stopping, false);
    mc->out = NULL;
    mc->out_len = mc->in_used = mc->n_recvs = 0;
    c = conn_new(&srv, -1, &ss);
    if (!c)
        return -ENOMEM;
    c->mem = mc;
    conn_serve(c);
    conn_release(c);
    return 0;
}

/* ---- the server ---- */

void http_server_conf_defaults(struct http_server_conf *conf)
{
    *conf = (struct http_server_conf){
        .bind_ip = NULL, /* "0.0.0.0" */
        .bind_port = 0,
        .max_clients = 1024,
        .client_timeout = 60,
        .backlog = 4096,
        .max_header_size = 8192,
        .max_header_count = 201,
        .conn_memory_limit = 65536,
        .thread_stack_size = 524288,
        .log_requests = true,
    };
}

static int make_addr(const char *ip, unsigned int port,
                     struct sockaddr_storage *ss, socklen_t *len)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof(*ss));
    if (!ip)
        ip = "0.0.0.0";
    if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        *len = sizeof(*sin);
        return 0;
    }
    if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*sin6);
        return 0;
    }
    return -EINVAL;
}

static int listen_on(struct http_server *srv, const struct sockaddr_storage *ss,
                     socklen_t len)
{
    int one = 1, fd;

    fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1)
        return -errno;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ss->ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, (const struct sockaddr *)ss, len) ||
        listen(fd, (int)srv->conf.backlog)) {
        int err = -errno;

        close(fd);
        return err;
    }
    srv->listen_fd = fd;
    return 0;
}

static unsigned int bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (getsockname(fd, (struct sockaddr *)&ss, &len))
        return 0;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

int http_server_new(const struct http_server_conf *conf,
                    const struct http_handler *handler,
                    struct http_server **out)
{
    struct http_server *srv;
    struct sockaddr_storage ss;
    socklen_t sl;
    int err;

    *out = NULL;
    srv = calloc(1, sizeof(*srv));
    if (!srv)
        return -ENOMEM;
    srv->conf = *conf;
    srv->conf.bind_ip = strdup(conf->bind_ip ? conf->bind_ip : "0.0.0.0");
    srv->handler = *handler;
    srv->listen_fd = -1;
    pthread_mutex_init(&srv->lock, NULL);
    pthread_cond_init(&srv->gone, NULL);
    pthread_attr_init(&srv->attr);
    pthread_attr_setdetachstate(&srv->attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&srv->attr, (size_t)conf->thread_stack_size);
    atomic_init(&srv->stopping, false);
    if (!srv->conf.bind_ip) {
        err = -ENOMEM;
        goto out;
    }
    err = make_addr(srv->conf.bind_ip, conf->bind_port, &ss, &sl);
    if (err) {
        log_err("cannot listen on '%s': not an IP address", srv->conf.bind_ip);
        goto out;
    }
    err = listen_on(srv, &ss, sl);
    if (err) {
        log_err("cannot listen on %s port %u: %s", srv->conf.bind_ip,
                conf->bind_port, strerror(-err));
        goto out;
    }
    srv->port = bound_port(srv->listen_fd);
    err = -pthread_create(&srv->acceptor, NULL, accept_main, srv);
    if (err) {
        log_err("cannot start the accept thread: %s", strerror(-err));
        goto out;
    }
    srv->acceptor_running = true;
    *out = srv;
    srv = NULL; /* the caller owns it now */
out:
    http_server_free(srv);
    return err;
}

unsigned int http_server_port(const struct http_server *srv)
{
    return srv->port;
}

/* Shuts down the listed connections: the idle ones, or all. Their
 * threads' reads and writes fail and they end. Called with the lock. */
static void shut_conns(struct http_server *srv, bool all)
{
    for (struct sconn *c = srv->conns; c; c = c->next)
        if (all || atomic_load(&c->state) == CONN_IDLE)
            shutdown(c->fd, SHUT_RDWR);
}

void http_server_stop(struct http_server *srv, unsigned int grace_ms)
{
    struct timespec deadline, tick;

    if (!srv || srv->stopped)
        return;
    atomic_store(&srv->stopping, true);
    if (srv->acceptor_running) {
        shutdown(srv->listen_fd, SHUT_RDWR); /* accept() returns */
        pthread_join(srv->acceptor, NULL);
        srv->acceptor_running = false;
    }
    if (srv->listen_fd >= 0)
        close(srv->listen_fd);
    srv->listen_fd = -1;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += grace_ms / 1000;
    deadline.tv_nsec += (long)(grace_ms % 1000) * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&srv->lock);
    /* requests in flight finish within the grace period; idle keep-alive
     * connections close at once (their threads see 'stopping') */
    while (srv->n_conns > 0) {
        struct timespec now;

        shut_conns(srv, false);
        clock_gettime(CLOCK_REALTIME, &now);
        if (now.tv_sec > deadline.tv_sec ||
            (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec))
            break;
        tick = now;
        tick.tv_nsec += 10 * 1000 * 1000;
        if (tick.tv_nsec >= 1000000000) {
            tick.tv_sec++;
            tick.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&srv->gone, &srv->lock, &tick);
    }
    while (srv->n_conns > 0) {
        shut_conns(srv, true);
        pthread_cond_wait(&srv->gone, &srv->lock);
    }
    pthread_mutex_unlock(&srv->lock);
    srv->stopped = true;
}

void http_server_free(struct http_server *srv)
{
    if (!srv)
        return;
    http_server_stop(srv, 0);
    pthread_attr_destroy(&srv->attr);
    pthread_cond_destroy(&srv->gone);
    pthread_mutex_destroy(&srv->lock);
    free(srv->conf.bind_ip);
    free(srv);
}
