/*
 * http_client.c - the backend HTTP/1.1 client.
 *
 * This file owns the HTTP exchange on a connection: writing requests and
 * their bodies, reading responses through libhttp-parser, deciding when a
 * connection may go back to the pool and when a request is sent again.
 * Sockets, connecting and the pool itself are conn_pool.c's. It knows
 * nothing of Swift: callers build paths and headers and decide what a
 * status means.
 *
 * Invariants:
 * 1. A connection is in the pool only when its last response was read to
 *    the end, both sides allowed keep-alive and no byte is left unread.
 * 2. Every socket is non-blocking; every wait is a poll() bounded by the
 *    connect or node timeout, so no call blocks forever on a peer.
 * 3. The parser is paused at each event (headers complete, a piece of
 *    body, message complete), so one event is handed over at a time and a
 *    piece of body points into the connection's read buffer, uncopied.
 */
#include "common/http_client.h"

#include "common/conn_pool.h"

#include <assert.h>
#include <errno.h>
#include <http_parser.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>

#define MULTI_STACK 8  /* send_multi's calls without a malloc() */
#define MAX_INTERIM 16 /* 1xx responses before the final one */

struct http_client {
    struct http_client_conf conf;
    struct conn_pool *pool;
};

enum call_state {
    CALL_SENDING, /* headers sent; body (if any) going out */
    CALL_WAITING, /* request complete, awaiting the status line */
    CALL_BODY,    /* headers read; body being read */
    CALL_DONE,    /* response read to the end */
    CALL_BROKEN,  /* error: the connection will be closed */
};

enum call_event { EV_NONE, EV_INTERIM, EV_HEADERS, EV_BODY, EV_DONE };

struct hdr {
    uint32_t name, value; /* offsets into hbuf, NUL-terminated */
};

struct http_client_call {
    struct http_client *client;
    struct conn *conn;
    enum call_state state;
    int err; /* why the call is broken */

    /* request, kept to send it again on a fresh connection */
    char *head; /* request line and headers */
    size_t head_len;
    const void *body;
    size_t body_len;
    enum http_client_body body_mode;
    uint64_t to_send; /* HTTP_CLIENT_BODY_LENGTH: bytes still due */
    bool streamed;    /* some caller-streamed body went out */
    bool expect;      /* 100-continue asked, not yet answered */
    bool idempotent;
    bool is_head;
    bool no_reuse; /* a final answer to 100-continue: the peer may still
                    * expect the body we never sent */
    unsigned int conn_timeout_ms, node_timeout_ms;

    /* response */
    http_parser parser;
    enum call_event event;
    bool got_bytes; /* some byte of a response arrived */
    bool keep_alive;
    int status;
    int limit_err; /* set by a parser callback that refused the input */
    const char *piece;
    size_t piece_len;
    char *hbuf;
    size_t hlen, hcap, header_bytes, line_bytes;
    struct hdr *hdrs;
    size_t n_hdrs, hdrs_cap;
    enum { CB_NONE, CB_FIELD, CB_VALUE } last_cb;
    bool in_trailers; /* counted against the limits, not kept: header
                       * values handed out must not move */
    int n_interim;
    bool continued; /* hdrs are the "100 Continue"'s, until the next one */
};

/* The call's invariants, checked at each entry in debug builds. */
static void assert_call_ok(const struct http_client_call *call)
{
    assert(call->state != CALL_BROKEN || call->err < 0);
    assert(call->state == CALL_BROKEN || call->conn);
    assert(!call->conn || call->conn->rpos <= call->conn->rlen);
    assert(call->hlen <= call->hcap && call->n_hdrs <= call->hdrs_cap);
    assert(!call->expect || call->state == CALL_SENDING ||
           call->state == CALL_BROKEN);
    assert(call->state == CALL_SENDING || call->state == CALL_WAITING ||
           call->state == CALL_BROKEN || call->status >= 200);
    assert(call->body_mode != HTTP_CLIENT_BODY_NONE || !call->streamed);
    (void)call;
}

int http_client_new(const struct http_client_conf *conf,
                    struct http_client **out)
{
    struct http_client *c;

    *out = NULL;
    c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    if (conf)
        c->conf = *conf;
    if (!c->conf.conn_timeout_ms)
        c->conf.conn_timeout_ms = HTTP_CLIENT_CONN_TIMEOUT_MS;
    if (!c->conf.node_timeout_ms)
        c->conf.node_timeout_ms = HTTP_CLIENT_NODE_TIMEOUT_MS;
    if (!c->conf.max_idle_per_peer)
        c->conf.max_idle_per_peer = HTTP_CLIENT_MAX_IDLE_PER_PEER;
    c->pool = conn_pool_new(c->conf.max_idle_per_peer);
    if (!c->pool) {
        free(c);
        return -ENOMEM;
    }
    *out = c;
    return 0;
}

void http_client_free(struct http_client *c)
{
    if (!c)
        return;
    conn_pool_free(c->pool);
    free(c);
}

/* ---- response parsing ---- */

static int hbuf_append(struct http_client_call *call, const char *at,
                       size_t len)
{
    if (call->hlen + len + 1 > call->hcap) {
        size_t cap = call->hcap ? call->hcap : 1024;
        char *p;

        while (cap < call->hlen + len + 1)
            cap *= 2;
        p = realloc(call->hbuf, cap);
        if (!p)
            return -ENOMEM;
        call->hbuf = p;
        call->hcap = cap;
    }
    memcpy(call->hbuf + call->hlen, at, len);
    call->hlen += len;
    return 0;
}

/* Counts header bytes against the limits; a refusal stops the parser. */
static int charge(struct http_client_call *call, size_t len)
{
    call->header_bytes += len;
    call->line_bytes += len;
    if (call->header_bytes > HTTP_CLIENT_MAX_HEADER_BYTES ||
        call->line_bytes > HTTP_CLIENT_MAX_LINE) {
        call->limit_err = -EMSGSIZE;
        return -1;
    }
    return 0;
}

static int on_message_begin(http_parser *p)
{
    struct http_client_call *call = p->data;

    call->hlen = 0;
    call->n_hdrs = 0;
    call->continued = false;
    call->last_cb = CB_NONE;
    call->in_trailers = false;
    call->header_bytes = call->line_bytes = 0;
    return 0;
}

static int on_status(http_parser *p, const char *at, size_t len)
{
    (void)at;
    return charge(p->data, len);
}

/* Ends the header being collected: NUL-terminates its name and value
 * (empty when the parser reported none) and trims the value's trailing
 * blanks. */
static int end_header(struct http_client_call *call)
{
    struct hdr *h = &call->hdrs[call->n_hdrs - 1];
    char nul[2] = {'\0', '\0'};

    if (call->last_cb == CB_FIELD) {
        if (hbuf_append(call, nul, 2))
            return -ENOMEM;
        h->value = call->hlen - 1;
    } else if (call->last_cb == CB_VALUE) {
        while (call->hlen > h->value && (call->hbuf[call->hlen - 1] == ' ' ||
                                         call->hbuf[call->hlen - 1] == '\t'))
            call->hlen--;
        if (hbuf_append(call, nul, 1))
            return -ENOMEM;
    }
    return 0;
}

static int new_header(struct http_client_call *call)
{
    if (call->n_hdrs == HTTP_CLIENT_MAX_HEADERS)
        return -EMSGSIZE;
    if (call->n_hdrs == call->hdrs_cap) {
        size_t cap = call->hdrs_cap ? call->hdrs_cap * 2 : 32;
        struct hdr *h = realloc(call->hdrs, cap * sizeof(*h));

        if (!h)
            return -ENOMEM;
        call->hdrs = h;
        call->hdrs_cap = cap;
    }
    call->hdrs[call->n_hdrs].name = call->hlen;
    call->hdrs[call->n_hdrs].value = UINT32_MAX;
    call->n_hdrs++;
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    struct http_client_call *call = p->data;
    int err = 0;

    if (call->in_trailers) {
        if (call->last_cb != CB_FIELD)
            call->line_bytes = 0;
        call->last_cb = CB_FIELD;
        return charge(call, len);
    }
    if (call->last_cb != CB_FIELD) {
        if (call->last_cb == CB_VALUE)
            err = end_header(call);
        if (!err)
            err = new_header(call);
        call->line_bytes = 0;
        call->last_cb = CB_FIELD;
    }
    if (!err && charge(call, len))
        return -1;
    if (!err)
        err = hbuf_append(call, at, len);
    if (err) {
        call->limit_err = err;
        return -1;
    }
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    struct http_client_call *call = p->data;
    char nul = '\0';

    if (charge(call, len))
        return -1;
    if (call->in_trailers) {
        call->last_cb = CB_VALUE;
        return 0;
    }
    if (call->last_cb == CB_FIELD) {
        if (hbuf_append(call, &nul, 1))
            goto nomem;
        call->hdrs[call->n_hdrs - 1].value = call->hlen;
        call->last_cb = CB_VALUE;
    }
    if (hbuf_append(call, at, len))
        goto nomem;
    return 0;
nomem:
    call->limit_err = -ENOMEM;
    return -1;
}

static int on_headers_complete(http_parser *p)
{
    struct http_client_call *call = p->data;

    if (call->n_hdrs > 0 && end_header(call)) {
        call->limit_err = -ENOMEM;
        return -1;
    }
    call->last_cb = CB_NONE;
    call->in_trailers = true;
    if (p->status_code < 100 || p->status_code > 599 || p->status_code == 101 ||
        p->http_major != 1) {
        call->limit_err = -EPROTO;
        return -1;
    }
    if (p->status_code < 200)
        return 0; /* interim: its message-complete is the event */
    call->status = p->status_code;
    call->event = EV_HEADERS;
    http_parser_pause(p, 1);
    /* no body whatever the headers say (RFC 9112 6.3) */
    if (call->is_head || p->status_code == 204 || p->status_code == 304)
        return 1;
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    struct http_client_call *call = p->data;

    if (!len)
        return 0; /* an empty piece would read as the end of the body */
    call->piece = at;
    call->piece_len = len;
    call->event = EV_BODY;
    http_parser_pause(p, 1);
    return 0;
}

static int on_message_complete(http_parser *p)
{
    struct http_client_call *call = p->data;

    if (p->status_code < 200) {
        if (++call->n_interim > MAX_INTERIM) {
            call->limit_err = -EPROTO;
            return -1;
        }
        call->event = EV_INTERIM;
    } else {
        call->event = EV_DONE;
        call->keep_alive = http_should_keep_alive(p);
    }
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_status = on_status,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static int parser_err(struct http_client_call *call)
{
    enum http_errno e = HTTP_PARSER_ERRNO(&call->parser);

    if (call->limit_err)
        return call->limit_err;
    if (e == HPE_HEADER_OVERFLOW)
        return -EMSGSIZE;
    return -EPROTO;
}

/* Runs the parser over the buffered bytes until they are used up or it
 * reports an event. */
static int parse_buffered(struct http_client_call *call)
{
    struct conn *conn = call->conn;
    size_t used;
    enum http_errno e;

    call->event = EV_NONE;
    used =
        http_parser_execute(&call->parser, &parser_settings,
                            conn->rbuf + conn->rpos, conn->rlen - conn->rpos);
    e = HTTP_PARSER_ERRNO(&call->parser);
    conn->rpos += used;
    if (e == HPE_PAUSED)
        http_parser_pause(&call->parser, 0);
    else if (e != HPE_OK)
        return parser_err(call);
    return 0;
}

/* Runs the parser until it reports one event, reading from the peer as
 * needed. */
static int next_event(struct http_client_call *call)
{
    struct conn *conn = call->conn;

    call->event = EV_NONE;
    for (;;) {
        ssize_t n;

        if (conn->rpos < conn->rlen) {
            int err = parse_buffered(call);

            if (err || call->event != EV_NONE)
                return err;
            continue;
        }
        /* a large body: fewer, larger reads (the buffer is all used, so
         * no piece handed out is moved) */
        if (call->state == CALL_BODY && conn->rbuf == conn->small &&
            call->parser.content_length != ULLONG_MAX &&
            call->parser.content_length > CONN_POOL_RBUF_SIZE)
            conn_pool_grow(conn); /* -ENOMEM: the small one does too */
        n = conn_pool_read(conn, call->node_timeout_ms);
        if (n < 0)
            return (int)n;
        if (n > 0) {
            call->got_bytes = true;
            continue;
        }
        /* end of stream: completes a read-until-close body, else the
         * peer quit mid-response */
        http_parser_execute(&call->parser, &parser_settings, NULL, 0);
        if (call->event == EV_DONE) {
            http_parser_pause(&call->parser, 0);
            return 0;
        }
        return -ECONNRESET;
    }
}

/* ---- requests ---- */

static bool method_is_idempotent(const char *method)
{
    static const char *const methods[] = {"GET",    "HEAD",    "PUT",
                                          "DELETE", "OPTIONS", "REPLICATE"};

    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (!strcmp(method, methods[i]))
            return true;
    return false;
}

static bool has_header(const struct http_client_req *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++)
        if (!strcasecmp(req->headers[i].name, name))
            return true;
    return false;
}

/* A CR or LF in a name or value would split the request in two. */
static bool header_ok(const char *s)
{
    return !strpbrk(s, "\r\n");
}

struct sbuf {
    char *p;
    size_t len, cap;
    int err;
};

static void sbuf_printf(struct sbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void sbuf_printf(struct sbuf *sb, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (sb->err)
        return;
    if (!sb->p) {
        sb->p = malloc(1024);
        if (!sb->p) {
            sb->err = -ENOMEM;
            return;
        }
        sb->cap = 1024;
    }
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(sb->p + sb->len, sb->cap - sb->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            sb->err = -EINVAL;
            return;
        }
        if (sb->len + n < sb->cap) {
            sb->len += n;
            return;
        }
        size_t cap = sb->cap * 2;
        while (cap <= sb->len + n)
            cap *= 2;
        char *p = realloc(sb->p, cap);
        if (!p) {
            sb->err = -ENOMEM;
            return;
        }
        sb->p = p;
        sb->cap = cap;
    }
}

static int build_head(const struct http_client_req *req, struct sbuf *sb)
{
    /* the body's framing is ours: a second one would desynchronise the
     * connection */
    if (has_header(req, "Content-Length") ||
        has_header(req, "Transfer-Encoding") || has_header(req, "Expect"))
        return -EINVAL;
    if (!header_ok(req->method) || !header_ok(req->path) ||
        strchr(req->method, ' ') || strchr(req->path, ' ') ||
        req->path[0] != '/')
        return -EINVAL;
    sbuf_printf(sb, "%s %s HTTP/1.1\r\n", req->method, req->path);
    if (!has_header(req, "Host")) {
        if (strchr(req->host, ':'))
            sbuf_printf(sb, "Host: [%s]:%u\r\n", req->host, req->port);
        else
            sbuf_printf(sb, "Host: %s:%u\r\n", req->host, req->port);
    }
    for (size_t i = 0; i < req->n_headers; i++) {
        const struct http_header *h = &req->headers[i];

        if (!header_ok(h->name) || !header_ok(h->value) || !h->name[0])
            return -EINVAL;
        sbuf_printf(sb, "%s: %s\r\n", h->name, h->value);
    }
    switch (req->body_mode) {
    case HTTP_CLIENT_BODY_NONE:
        if (req->body_len ||
            (strcmp(req->method, "GET") && strcmp(req->method, "HEAD") &&
             strcmp(req->method, "DELETE")))
            sbuf_printf(sb, "Content-Length: %zu\r\n", req->body_len);
        break;
    case HTTP_CLIENT_BODY_LENGTH:
        sbuf_printf(sb, "Content-Length: %llu\r\n",
                    (unsigned long long)req->content_length);
        break;
    case HTTP_CLIENT_BODY_CHUNKED:
        sbuf_printf(sb, "Transfer-Encoding: chunked\r\n");
        break;
    default: return -EINVAL;
    }
    if (req->expect_continue)
        sbuf_printf(sb, "Expect: 100-continue\r\n");
    sbuf_printf(sb, "\r\n");
    return sb->err;
}

static void call_reset_response(struct http_client_call *call)
{
    http_parser_init(&call->parser, HTTP_RESPONSE);
    call->parser.data = call;
    call->got_bytes = false;
    call->status = 0;
    call->limit_err = 0;
    call->n_hdrs = 0;
    call->hlen = 0;
}

/* Writes the request line, headers and, unless 100-continue is awaited or
 * the body is streamed, the buffer body. */
static int send_head(struct http_client_call *call)
{
    struct iovec iov[2] = {
        {.iov_base = call->head, .iov_len = call->head_len},
        {.iov_base = (void *)call->body, .iov_len = call->body_len},
    };
    int n = call->expect || !call->body_len ? 1 : 2;

    return conn_pool_writev(call->conn, iov, n, call->node_timeout_ms);
}

/* The stale-connection rule: a pooled connection that fails before any
 * byte of a response came back was most likely closed by the peer while
 * idle. It is replaced by a fresh connection and the request sent again,
 * once, when that cannot repeat anything: the method is idempotent and no
 * caller-streamed byte went out (we still hold all we sent). */
static bool may_retry(const struct http_client_call *call, int err)
{
    return call->conn->reused && !call->got_bytes && !call->streamed &&
           call->idempotent &&
           (err == -ECONNRESET || err == -EPIPE || err == -ENOTCONN);
}

static int resend_fresh(struct http_client_call *call)
{
    int err = conn_pool_reconnect(call->client->pool, &call->conn,
                                  call->conn_timeout_ms);

    if (err)
        return err;
    call_reset_response(call);
    return send_head(call);
}

static int call_fail(struct http_client_call *call, int err)
{
    assert(err < 0);
    call->state = CALL_BROKEN;
    if (!call->err)
        call->err = err;
    return err;
}

static void call_free(struct http_client_call *call)
{
    conn_pool_close(call->conn);
    free(call->head);
    free(call->hbuf);
    free(call->hdrs);
    free(call);
}

/* Builds a call for 'req' and gets it a connection, maybe one whose
 * connect is still under way. */
static int call_new(struct http_client *c, const struct http_client_req *req,
                    struct http_client_call **out)
{
    struct http_client_call *call;
    struct sbuf sb = {0};
    int err;

    *out = NULL;
    if (!req->host || !req->method || !req->path ||
        (req->n_headers && !req->headers) || (req->body_len && !req->body) ||
        (req->body_mode != HTTP_CLIENT_BODY_NONE && req->body_len))
        return -EINVAL;
    call = calloc(1, sizeof(*call));
    if (!call)
        return -ENOMEM;
    call->client = c;
    call->conn_timeout_ms =
        req->conn_timeout_ms ? req->conn_timeout_ms : c->conf.conn_timeout_ms;
    call->node_timeout_ms =
        req->node_timeout_ms ? req->node_timeout_ms : c->conf.node_timeout_ms;
    call->body = req->body;
    call->body_len = req->body_len;
    call->body_mode = req->body_mode;
    call->to_send = req->content_length;
    call->expect = req->expect_continue;
    call->idempotent = method_is_idempotent(req->method);
    call->is_head = !strcmp(req->method, "HEAD");
    call_reset_response(call);
    err = build_head(req, &sb);
    call->head = sb.p;
    call->head_len = sb.len;
    if (!err)
        /* a request that is sent again when its reused connection turns
         * out closed (may_retry()) skips the stale check: idempotent, and
         * no streamed body byte goes out before an answer could come */
        err = conn_pool_get_nowait(
            c->pool, req->host, req->port,
            !(call->idempotent && (req->body_mode == HTTP_CLIENT_BODY_NONE ||
                                   req->expect_continue)),
            &call->conn);
    if (err) {
        call_free(call);
        return err;
    }
    *out = call;
    return 0;
}

/* Waits for the calls' connects under way, all at once, each within its
 * own connect timeout; a failure goes to errs[i]. */
static void connects_finish(struct http_client_call **calls, size_t n,
                            int *errs, struct pollfd *pfds)
{
    int64_t start = conn_pool_now_ms();

    for (;;) {
        int64_t now = conn_pool_now_ms(), wait = INT32_MAX;
        size_t pending = 0;

        for (size_t i = 0; i < n; i++) {
            int64_t left;

            pfds[i] = (struct pollfd){.fd = -1};
            if (errs[i] || !calls[i]->conn->connecting)
                continue;
            left = start + calls[i]->conn_timeout_ms - now;
            if (left <= 0) {
                errs[i] = -ETIMEDOUT;
                continue;
            }
            pfds[i] =
                (struct pollfd){.fd = calls[i]->conn->fd, .events = POLLOUT};
            if (left < wait)
                wait = left;
            pending++;
        }
        if (!pending)
            return;
        if (poll(pfds, n, (int)wait) <= 0)
            continue; /* the deadlines end the wait */
        for (size_t i = 0; i < n; i++)
            if (pfds[i].fd != -1 && pfds[i].revents)
                errs[i] = conn_pool_connected(calls[i]->conn);
    }
}

/* Sends the head (and a buffer body unless 100-continue is awaited). */
static int call_send_head(struct http_client_call *call)
{
    int err = send_head(call);

    if (err && may_retry(call, err))
        err = resend_fresh(call);
    if (err)
        return err;
    call->state = call->body_mode == HTTP_CLIENT_BODY_NONE && !call->expect
                      ? CALL_WAITING
                      : CALL_SENDING;
    return 0;
}

size_t http_client_start_multi(struct http_client *c,
                               const struct http_client_req *reqs, size_t n,
                               struct http_client_call **calls, int *errs)
{
    struct pollfd stack_pfds[MULTI_STACK], *pfds = stack_pfds;
    size_t ok = 0;

    for (size_t i = 0; i < n; i++)
        errs[i] = call_new(c, &reqs[i], &calls[i]);
    if (n > MULTI_STACK) {
        pfds = calloc(n, sizeof(*pfds));
        for (size_t i = 0; i < n && !pfds; i++)
            errs[i] = errs[i] ? errs[i] : -ENOMEM;
    }
    if (pfds)
        connects_finish(calls, n, errs, pfds);
    for (size_t i = 0; i < n; i++) {
        if (!errs[i])
            errs[i] = call_send_head(calls[i]);
        if (errs[i]) {
            if (calls[i])
                call_free(calls[i]);
            calls[i] = NULL;
            continue;
        }
        ok++;
    }
    if (pfds != stack_pfds)
        free(pfds);
    return ok;
}

int http_client_start(struct http_client *c, const struct http_client_req *req,
                      struct http_client_call **out)
{
    int err;

    http_client_start_multi(c, req, 1, out, &err);
    return err;
}

/* Reads until the final response's headers, skipping interim responses;
 * with 'until_continue', a 100 Continue stops the wait too. Returns the
 * status or -errno. */
static int read_status(struct http_client_call *call, bool until_continue)
{
    bool retried = false;
    int err;

    for (;;) {
        err = next_event(call);
        if (err) {
            if (retried || !may_retry(call, err))
                return call_fail(call, err);
            retried = true;
            err = resend_fresh(call);
            if (err)
                return call_fail(call, err);
            continue;
        }
        switch (call->event) {
        case EV_INTERIM:
            if (until_continue && call->parser.status_code == 100)
                return 100;
            break;
        case EV_HEADERS: call->state = CALL_BODY; return call->status;
        default:
            assert(!"no body or message end before the headers");
            return call_fail(call, -EPROTO);
        }
    }
}

int http_client_wait_continue(struct http_client_call *call)
{
    int status;

    assert_call_ok(call);
    if (call->state != CALL_SENDING || !call->expect)
        return call->state == CALL_BROKEN ? call->err : -EINVAL;
    status = read_status(call, true);
    if (status != 100) {
        /* a final answer before the body: the server may still expect
         * the body it refused, so the connection is not reused */
        if (status > 0) {
            call->no_reuse = true;
            call->expect = false;
        }
        return status;
    }
    call->expect = false;
    call->continued = true;
    if (call->body_mode == HTTP_CLIENT_BODY_NONE) {
        struct iovec iov = {.iov_base = (void *)call->body,
                            .iov_len = call->body_len};
        int err = conn_pool_writev(call->conn, &iov, 1, call->node_timeout_ms);

        if (err)
            return call_fail(call, err);
        call->state = CALL_WAITING;
    }
    return 100;
}

/* One body piece on its way to one call: the chunk framing, the data
 * (up to HTTP_CLIENT_IOV_MAX parts) and maybe the last chunk,
 * iov[first..first + iovcnt) still to write. */
struct piece {
    struct iovec iov[HTTP_CLIENT_IOV_MAX + 2];
    int first, iovcnt;
    int err;
    int64_t deadline; /* node timeout since the last progress */
    char frame[32];
};

static int piece_init(struct http_client_call *call, struct piece *pc,
                      const struct iovec *data, int ndata, bool end)
{
    size_t len = 0;

    assert_call_ok(call);
    pc->first = pc->iovcnt = 0;
    pc->deadline = conn_pool_now_ms() + call->node_timeout_ms;
    if (call->err)
        return call->err;
    if (call->state != CALL_SENDING || call->expect ||
        call->body_mode == HTTP_CLIENT_BODY_NONE || ndata < 0 ||
        ndata > HTTP_CLIENT_IOV_MAX)
        return -EINVAL;
    for (int k = 0; k < ndata; k++)
        len += data[k].iov_len;
    if (call->body_mode == HTTP_CLIENT_BODY_LENGTH) {
        if (len > call->to_send || (end && len != call->to_send))
            return call_fail(call, -EINVAL);
        call->to_send -= len;
        for (int k = 0; k < ndata; k++)
            if (data[k].iov_len)
                pc->iov[pc->iovcnt++] = data[k];
        return 0;
    }
    /* a zero-size chunk would end the body: none unless it is the end */
    if (len) {
        pc->iov[pc->iovcnt].iov_base = pc->frame;
        pc->iov[pc->iovcnt++].iov_len =
            snprintf(pc->frame, sizeof(pc->frame), "%zx\r\n", len);
        for (int k = 0; k < ndata; k++)
            if (data[k].iov_len)
                pc->iov[pc->iovcnt++] = data[k];
    }
    if (len && end)
        pc->iov[pc->iovcnt++] =
            (struct iovec){.iov_base = "\r\n0\r\n\r\n", .iov_len = 7};
    else if (len)
        pc->iov[pc->iovcnt++] = (struct iovec){.iov_base = "\r\n", .iov_len = 2};
    else if (end)
        pc->iov[pc->iovcnt++] =
            (struct iovec){.iov_base = "0\r\n\r\n", .iov_len = 5};
    return 0;
}

/* Writes what the socket takes now. Returns 0 (done when iovcnt is 0) or
 * -errno. */
static int piece_write(struct http_client_call *call, struct piece *pc)
{
    while (pc->iovcnt > 0) {
        struct iovec *iov = pc->iov + pc->first;
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = pc->iovcnt};
        /* the socket blocks: this must not, the other replicas wait */
        ssize_t n = sendmsg(call->conn->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN ? 0 : -errno;
        }
        call->streamed = true;
        pc->deadline = conn_pool_now_ms() + call->node_timeout_ms;
        while (pc->iovcnt > 0 && (size_t)n >= iov->iov_len) {
            n -= iov->iov_len;
            iov++;
            pc->first++;
            pc->iovcnt--;
        }
        if (pc->iovcnt > 0) {
            iov->iov_base = (char *)iov->iov_base + n;
            iov->iov_len -= n;
        }
    }
    return 0;
}

/* The peer sent something while we send the body: reads what is there
 * without waiting. Returns 1 when a final response's headers are in (the
 * server answered early: 413, 507, 422...), 0 to keep sending (nothing
 * yet, part of a response, a 1xx), or -errno (-EPIPE: closed). */
static int peek_response(struct http_client_call *call)
{
    struct conn *conn = call->conn;

    for (;;) {
        int err;

        if (conn->rpos == conn->rlen) {
            ssize_t n;

            conn->rpos = conn->rlen = 0;
            n = recv(conn->fd, conn->rbuf, conn->rcap, MSG_DONTWAIT);
            if (n == 0)
                return -EPIPE;
            if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -errno;
            conn->rlen = n;
            call->got_bytes = true;
        }
        err = parse_buffered(call);
        if (err)
            return err;
        if (call->event == EV_HEADERS)
            return 1;
        if (call->event != EV_NONE && call->event != EV_INTERIM)
            return -EPROTO;
    }
}

/* A final response arrived mid-body: the call stops sending and keeps the
 * response for http_client_response(); the connection is not reused. */
static int answered_early(struct http_client_call *call)
{
    call->state = CALL_BODY;
    call->no_reuse = true;
    call->err = -ECONNABORTED;
    return call->err;
}

/* Writes each call's piece as its socket takes it, until all are written
 * or have failed. */
static void pieces_write(struct http_client_call **calls, struct piece *pcs,
                         struct pollfd *pfds, size_t n)
{
    for (;;) {
        int64_t now = conn_pool_now_ms(), wait = INT32_MAX;
        size_t pending = 0;

        for (size_t i = 0; i < n; i++) {
            struct piece *pc = &pcs[i];

            pfds[i] = (struct pollfd){.fd = -1};
            if (pc->err || !pc->iovcnt)
                continue;
            pc->err = piece_write(calls[i], pc);
            if (!pc->err && pc->iovcnt && conn_pool_now_ms() >= pc->deadline)
                pc->err = -ETIMEDOUT;
            if (pc->err) {
                call_fail(calls[i], pc->err);
                continue;
            }
            if (!pc->iovcnt)
                continue;
            pfds[i] = (struct pollfd){.fd = calls[i]->conn->fd,
                                      .events = POLLOUT | POLLIN};
            if (pc->deadline - now < wait)
                wait = pc->deadline - now;
            pending++;
        }
        if (!pending)
            return;
        /* a poll() error leaves the deadlines to end the wait */
        if (poll(pfds, n, wait > 0 ? (int)wait : 0) <= 0)
            continue;
        for (size_t i = 0; i < n; i++) {
            int r;

            if (pfds[i].fd == -1 || !(pfds[i].revents & ~POLLOUT))
                continue;
            r = peek_response(calls[i]);
            if (r > 0)
                pcs[i].err = answered_early(calls[i]);
            else if (r < 0)
                pcs[i].err = call_fail(calls[i], r);
        }
    }
}

size_t http_client_sendv_multi(struct http_client_call **calls, size_t n,
                               const struct iovec *data, int ndata, bool end,
                               int *errs)
{
    struct piece stack_pcs[MULTI_STACK], *pcs = stack_pcs;
    struct pollfd stack_pfds[MULTI_STACK], *pfds = stack_pfds;
    size_t ok = 0;

    if (n > MULTI_STACK) {
        pcs = calloc(n, sizeof(*pcs));
        pfds = calloc(n, sizeof(*pfds));
        if (!pcs || !pfds) {
            for (size_t i = 0; i < n; i++)
                errs[i] = calls[i] ? call_fail(calls[i], -ENOMEM) : 0;
            n = 0;
        }
    }
    for (size_t i = 0; i < n; i++) {
        /* a NULL call (a replica dropped earlier) is skipped */
        pcs[i] = (struct piece){0};
        if (calls[i])
            pcs[i].err = piece_init(calls[i], &pcs[i], data, ndata, end);
    }
    pieces_write(calls, pcs, pfds, n);
    for (size_t i = 0; i < n; i++) {
        errs[i] = pcs[i].err;
        if (calls[i] && !errs[i]) {
            if (end)
                calls[i]->state = CALL_WAITING;
            ok++;
        }
    }
    if (pcs != stack_pcs) {
        free(pcs);
        free(pfds);
    }
    return ok;
}

size_t http_client_send_multi(struct http_client_call **calls, size_t n,
                              const void *buf, size_t len, int *errs)
{
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};

    return http_client_sendv_multi(calls, n, &iov, 1, false, errs);
}

int http_client_send(struct http_client_call *call, const void *buf, size_t len)
{
    int err;

    http_client_send_multi(&call, 1, buf, len, &err);
    return err;
}

int http_client_send_end(struct http_client_call *call)
{
    int err;

    http_client_sendv_multi(&call, 1, NULL, 0, true, &err);
    return err;
}

int http_client_response(struct http_client_call *call)
{
    assert_call_ok(call);
    switch (call->state) {
    case CALL_WAITING: return read_status(call, false);
    case CALL_BODY:
    case CALL_DONE: return call->status;
    case CALL_BROKEN: return call->err;
    default: return -EINVAL; /* the body is not all sent */
    }
}

int http_client_status(const struct http_client_call *call)
{
    return call->status;
}

size_t http_client_header_count(const struct http_client_call *call)
{
    return call->status ? call->n_hdrs : 0;
}

struct http_header http_client_header_at(const struct http_client_call *call,
                                         size_t i)
{
    assert(i < http_client_header_count(call));
    return (struct http_header){
        .name = call->hbuf + call->hdrs[i].name,
        .value = call->hbuf + call->hdrs[i].value,
    };
}

const char *http_client_continue_header(const struct http_client_call *call,
                                        const char *name)
{
    for (size_t i = 0; call->continued && i < call->n_hdrs; i++)
        if (!strcasecmp(call->hbuf + call->hdrs[i].name, name))
            return call->hbuf + call->hdrs[i].value;
    return NULL;
}

const char *http_client_header(const struct http_client_call *call,
                               const char *name)
{
    size_t n = http_client_header_count(call);

    for (size_t i = 0; i < n; i++) {
        struct http_header h = http_client_header_at(call, i);

        if (!strcasecmp(h.name, name))
            return h.value;
    }
    return NULL;
}

int http_client_read(struct http_client_call *call, const void **data,
                     size_t *len)
{
    int err;

    assert_call_ok(call);
    *data = NULL;
    *len = 0;
    if (call->state == CALL_DONE)
        return 0;
    if (call->state != CALL_BODY)
        return call->state == CALL_BROKEN ? call->err : -EINVAL;
    err = next_event(call);
    if (err)
        return call_fail(call, err);
    if (call->event == EV_BODY) {
        *data = call->piece;
        *len = call->piece_len;
        return 0;
    }
    if (call->event != EV_DONE)
        return call_fail(call, -EPROTO);
    call->state = CALL_DONE;
    return 0;
}

int http_client_read_all(struct http_client_call *call, size_t max, char **out,
                         size_t *len)
{
    char *p = NULL;
    size_t n = 0, cap = 0;
    int err;

    *out = NULL;
    *len = 0;
    for (;;) {
        const void *data;
        size_t piece;

        err = http_client_read(call, &data, &piece);
        if (err)
            goto fail;
        if (n + piece > max) {
            err = call_fail(call, -EMSGSIZE);
            goto fail;
        }
        if (n + piece + 1 > cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            char *np;

            while (ncap < n + piece + 1)
                ncap *= 2;
            np = realloc(p, ncap);
            if (!np) {
                err = call_fail(call, -ENOMEM);
                goto fail;
            }
            p = np;
            cap = ncap;
        }
        if (!piece)
            break;
        memcpy(p + n, data, piece);
        n += piece;
    }
    p[n] = '\0';
    *out = p;
    *len = n;
    return 0;
fail:
    free(p);
    return err;
}

/* A response whose end already sits in the read buffer (no body, or an
 * unread body that has all arrived) is finished without waiting on the
 * peer, so its connection can be reused. */
static void finish_buffered(struct http_client_call *call)
{
    struct conn *conn = call->conn;

    while (call->state == CALL_BODY && conn->rpos < conn->rlen) {
        if (parse_buffered(call))
            return;
        if (call->event == EV_DONE)
            call->state = CALL_DONE;
    }
}

void http_client_end(struct http_client_call *call)
{
    if (!call)
        return;
    assert_call_ok(call);
    if (call->state == CALL_BODY)
        finish_buffered(call);
    if (call->state == CALL_DONE && call->keep_alive && !call->no_reuse &&
        call->conn && call->conn->rpos == call->conn->rlen) {
        conn_pool_put(call->client->pool, call->conn);
        call->conn = NULL;
    }
    call_free(call);
}

int http_client_request(struct http_client *c,
                        const struct http_client_req *req,
                        struct http_client_call **out)
{
    struct http_client_call *call;
    int status;

    *out = NULL;
    if (req->body_mode != HTTP_CLIENT_BODY_NONE)
        return -EINVAL;
    status = http_client_start(c, req, &call);
    if (status)
        return status;
    if (req->expect_continue) {
        status = http_client_wait_continue(call);
        if (status == 100)
            status = http_client_response(call);
    } else {
        status = http_client_response(call);
    }
    if (status < 0) {
        http_client_end(call);
        return status;
    }
    *out = call;
    return status;
}
