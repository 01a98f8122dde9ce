/*
 * http_server.h - the HTTP/1.1 server every Kura daemon runs: blocking
 * sockets and libhttp-parser underneath, requests shaped for Swift's
 * servers on top.
 *
 * Threads. One thread per connection (and one accepting), because
 * handlers block: on fsync, on
 * LevelDB, on backend servers. All callbacks for one request, and for the
 * requests that follow on the same keep-alive connection, run on that
 * connection's thread, one at a time; a struct request is therefore never
 * shared and needs no lock. Different connections run concurrently, so
 * handler code shares only thread-safe state (the ring, the conf, the
 * logger). Stacks are small (thread_stack_size): no big arrays on them.
 *
 * A request's life, as the handler sees it:
 *   1. on_headers: method, path, query and headers are in; the body is
 *      not. Respond now to refuse the request before its body is read
 *      (401, 411, 413, 507...): a client that sent "Expect: 100-continue"
 *      then gets the final status instead of "100 Continue" and never
 *      sends the body, which is how Swift's servers reject uploads. A
 *      request without a body may be answered here too (most GETs are).
 *   2. on_body: the body as it arrives, in pieces of at most
 *      HTTP_SERVER_BODY_PIECE_MAX bytes, Content-Length or chunked
 *      (decoded); memory stays bounded whatever the size. The pieces are
 *      gone after the call.
 *   3. on_end: the body is complete (or there was none): respond.
 *   4. on_done: always, once, however the request ended (response sent,
 *      client gone mid-upload, timeout, shutdown): release what the handler
 *      hung on the request and, if !ok, undo a half-done write.
 * A handler responds exactly once, from inside on_headers, on_body or
 * on_end. A response made before the body is all in goes out at once,
 * then the rest of the body is read and dropped; past
 * HTTP_SERVER_DRAIN_MAX dropped bytes the connection is closed (so is it
 * at once when the client waits for "100 Continue" and never sends it).
 * A callback that returns -errno without responding gets a 500 and a log
 * line; on_end returning without a response is a bug, answered alike.
 *
 * Ownership. The server allocates a struct request when the request line
 * arrives and frees it after on_done, once the response is written or the
 * request failed; everything a req_*() call returns lives until then. The
 * handler's own state hangs on it with req_set_ctx() and is freed by the
 * handler in on_done.
 *
 * Paths. req_raw_path() is the path exactly as sent; req_path() is it
 * percent-decoded by http_unquote() (http.h), which refuses bad escapes
 * and NUL
 * ("%zz", "%4", "%00"): such requests get 400 before any callback.
 *
 * Responses. The status line and headers (with Date, Content-Length or
 * chunked framing, and "Connection: close" when the connection ends after
 * it) go out with a small body, or a stream's first block, in one
 * sendmsg(). Keep-alive as HTTP/1.1 (and HTTP/1.0 with keep-alive) says;
 * an idle connection closes after client_timeout, as a stalled read or
 * write does.
 */
#ifndef COMMON_HTTP_SERVER_H
#define COMMON_HTTP_SERVER_H

#include "common/http.h"
#include "common/log.h"
#include "common/memory.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct http_server; /* opaque */
struct request;     /* opaque, one per HTTP request */

/* Listening and limits; the names are Swift's where Swift has them. */
struct http_server_conf {
    char *bind_ip;                 /* "0.0.0.0", "127.0.0.1", "::" ... */
    unsigned int bind_port;        /* 0: any free port (tests) */
    unsigned int max_clients;      /* concurrent connections */
    unsigned int client_timeout;   /* seconds idle before a close */
    unsigned int backlog;          /* listen() backlog */
    unsigned int max_header_size;  /* per request line and header line */
    unsigned int max_header_count; /* headers per request */
    uint64_t conn_memory_limit;    /* per connection: the request head */
    uint64_t thread_stack_size;    /* per connection thread */
    bool log_requests;             /* one access line per request */
    /* The process's malloc settings (memory.h): not the server's to
     * apply, but every daemon has exactly one server and these rows. */
    struct memory_conf memory;
    /* Not an option: set by a daemon that decodes paths itself (the
     * proxy, as Swift's WSGI layer: malformed escapes stay as they are,
     * %00 is refused later with Swift's 412). Then a path or parameter
     * that does not decode strictly is passed on as sent instead of
     * being refused with 400. */
    bool lenient_paths;
};

/* Rows for a daemon's option table (conf.h); 'port' is its default
 * bind_port. The defaults follow Swift 2.30 where it has the option. */
#define HTTP_SERVER_CONF_OPTIONS(T, m, port)                                   \
    CONF_STR("bind_ip", T, m.bind_ip, "0.0.0.0"),                              \
        CONF_UINT("bind_port", T, m.bind_port, port, 0, 65535),                \
        CONF_UINT("max_clients", T, m.max_clients, 1024, 1, 1000000),          \
        CONF_UINT("client_timeout", T, m.client_timeout, 60, 1, 86400),        \
        CONF_UINT("backlog", T, m.backlog, 4096, 1, 65535),                    \
        CONF_UINT("max_header_size", T, m.max_header_size, 8192, 256,          \
                  1048576),                                                    \
        CONF_UINT("max_header_count", T, m.max_header_count, 201, 1, 10000),   \
        CONF_SIZE("conn_memory_limit", T, m.conn_memory_limit, 65536, 16384,   \
                  16777216),                                                   \
        CONF_SIZE("thread_stack_size", T, m.thread_stack_size, 524288, 65536,  \
                  67108864),                                                   \
        CONF_BOOL("log_requests", T, m.log_requests, true),                    \
        MEMORY_CONF_OPTIONS(T, m.memory)

/* The same defaults, for callers without a config file (tests, tools). */
void http_server_conf_defaults(struct http_server_conf *conf);

/* Body bytes read and dropped after an early response before giving up on
 * the connection. */
#define HTTP_SERVER_DRAIN_MAX (1024 * 1024)

/* The largest piece of body handed to on_body: a large upload is read
 * with one recv() of this size at a time. */
#define HTTP_SERVER_BODY_PIECE_MAX (128 * 1024)

struct http_handler {
    int (*on_headers)(struct request *req, void *arg); /* required */
    /* NULL: bodies are read and dropped */
    int (*on_body)(struct request *req, const char *data, size_t len,
                   void *arg);
    int (*on_end)(struct request *req, void *arg); /* required */
    /* NULL allowed. 'ok': the whole response went out. */
    void (*on_done)(struct request *req, bool ok, void *arg);
    void *arg; /* passed to every callback */
};

/* Binds and starts serving. 'conf' and 'handler' are copied (bind_ip
 * too). On success returns 0 and sets *out to a server the caller stops
 * with http_server_stop() and frees with http_server_free(). Returns
 * -EINVAL (bad bind_ip), -EADDRINUSE or another -errno, with a log line. */
int http_server_new(const struct http_server_conf *conf,
                    const struct http_handler *handler,
                    struct http_server **out);

/* The port actually bound (useful with bind_port 0). */
unsigned int http_server_port(const struct http_server *srv);

/* Graceful stop: stop accepting, let requests in flight (request line
 * received, response not yet done) finish for up to 'grace_ms', then
 * close every connection, idle keep-alive ones at once; what is still in
 * flight then gets on_done with ok = false. Responses made meanwhile carry
 * "Connection: close". Idempotent. Call from one thread, not from a
 * handler. */
void http_server_stop(struct http_server *srv, unsigned int grace_ms);

/* Stops (without grace) if still running, then frees. NULL is fine. */
void http_server_free(struct http_server *srv);

/* ---- the request ---- */

const char *req_method(const struct request *req);   /* "GET", "REPLICATE" */
const char *req_raw_path(const struct request *req); /* as sent */
const char *req_path(const struct request *req);     /* decoded */
/* The query string as sent (without '?'), "" when there is none. */
const char *req_raw_query(const struct request *req);
/* Swift's req.params: the query split on '&' and '=', '+' as space,
 * percent-decoded; a name without '=' has the value "". For a repeated
 * name the last value wins. NULL when absent. */
const char *req_param(const struct request *req, const char *name);

/* Case-insensitive; the first of repeated headers; NULL when absent. */
const char *req_header(const struct request *req, const char *name);
/* Calls fn for each header in arrival order; stops when fn returns
 * non-zero and returns that value. */
int req_foreach_header(const struct request *req,
                       int (*fn)(const char *name, const char *value,
                                 void *arg),
                       void *arg);

/* The body as declared: Content-Length, or -1 when absent or chunked. */
int64_t req_content_length(const struct request *req);
bool req_chunked(const struct request *req); /* Transfer-Encoding: chunked */
uint64_t req_bytes_received(const struct request *req); /* body so far */
const char *req_client_ip(const struct request *req);

/* The transaction id: X-Trans-Id as received (backends), or what the proxy
 * set with req_set_txn() (copied, at most TXN_ID_LEN * 2 bytes kept). ""
 * when none. */
const char *req_txn(const struct request *req);
void req_set_txn(struct request *req, const char *txn);

/* The handler's per-request state; freeing it is on_done's job. */
void req_set_ctx(struct request *req, void *ctx);
void *req_ctx(const struct request *req);

/* Header lines for the "100 Continue" this request may get, each ending
 * in CRLF: "X-Obj-Metadata-Footer: yes\r\n", as Swift's object server
 * tells the proxy what it understands. Borrowed (a string constant); call
 * from on_headers. */
void req_continue_headers(struct request *req, const char *lines);

/* Logs through log_txn() with the request's transaction id; the level is
 * checked before the arguments are evaluated. */
#define req_log(req, level, ...)                                               \
    do {                                                                       \
        if (log_enabled(level))                                                \
            req_log_msg(req, level, __VA_ARGS__);                              \
    } while (0)
__attribute__((format(printf, 3, 4))) void
req_log_msg(const struct request *req, int level, const char *fmt, ...);

/* ---- rewriting a request (a filter in the handler, as Swift's s3api
 * rewrites the WSGI environment before the proxy's controllers see it) ----
 * What the handler sees changes; the request as sent is what the access
 * line logs and what the server frames the body by. Strings are copied
 * and live as long as the request. Each returns 0 or -ENOMEM, -EINVAL
 * for CR or LF in a header, a bad escape in the query, or an empty
 * method. */
/* A new method (NULL: unchanged) and query (without '?'; NULL:
 * unchanged), re-parsed for req_param(). is_head, which decides whether
 * the response carries a body, stays the client's. */
int req_rewrite(struct request *req, const char *method, const char *query);
/* Replaces every header called 'name' with one of 'value', or removes
 * them all when 'value' is NULL; an absent header is added at the end. */
int req_set_header(struct request *req, const char *name, const char *value);

/* ---- responding ---- */

/* Adds a response header (copied). An empty value goes out as one space
 * (some clients drop a header without a value; all read this as empty).
 * Returns -EINVAL for CR or LF in either part, for an empty name, and
 * for Content-Length and
 * Transfer-Encoding (set from the body); -EALREADY after the response. */
int req_add_header(struct request *req, const char *name, const char *value);

/* A response with 'len' bytes from 'body' (copied). Without a
 * Content-Type header, Swift's default "text/html; charset=UTF-8" is
 * sent. Each returns 0, -EALREADY if a response was already made, or
 * -ENOMEM. */
int req_respond(struct request *req, unsigned int status, const void *body,
                size_t len);

/* Swift's error page for 'status', e.g. 404:
 * "<html><h1>Not Found</h1><p>The resource could not be found.</p></html>",
 * an empty body for statuses without an explanation. */
int req_respond_error(struct request *req, unsigned int status);

/* Streams 'size' bytes (HTTP_SIZE_UNKNOWN: chunked) from read(), called on
 * the connection's thread as the client takes the data, with the offset
 * reached so far. read() returns bytes written into buf (1..max), 0 at
 * the end, -errno on error (the connection is closed: the client sees a
 * short body). Takes ownership of 'arg' whatever the outcome:
 * free_arg(arg), if not NULL, runs exactly once, when the response is done
 * with or at once if this call fails. For HEAD, read() is never called and
 * Content-Length is 'size'. */
#define HTTP_SIZE_UNKNOWN UINT64_MAX
typedef ssize_t (*req_read_fn)(void *arg, uint64_t pos, char *buf, size_t max);
int req_respond_stream(struct request *req, unsigned int status, uint64_t size,
                       req_read_fn read, void *arg,
                       void (*free_arg)(void *arg));

/* A response made and not yet sent, taken back from the request by a
 * filter that rewrites it (the S3 API answering for the Swift
 * controllers): status, headers as added (split into names and values),
 * and either a body or a stream. After req_response_take() the request
 * has no response, so the filter can make another from the parts; what
 * it hands on it clears from the struct before req_response_release(). */
struct req_response {
    unsigned int status;
    struct req_response_header {
        const char *name, *value;
    } * headers;
    size_t n_headers;
    char *body; /* malloc'ed; NULL with a stream or no body */
    size_t body_len;
    req_read_fn read; /* a stream: size, read, arg, free_arg as given */
    uint64_t size;
    void *arg;
    void (*free_arg)(void *arg);
    char *text_; /* the headers' storage */
};
/* Returns 0 and fills *out, -ENOENT when no response was made, -EALREADY
 * when it was sent already, or -ENOMEM (the response is left as it was). */
int req_response_take(struct request *req, struct req_response *out);
/* The first header called 'name' (case-insensitive) or NULL. */
const char *req_response_header(const struct req_response *r, const char *name);
/* Frees what is left in *r (the stream's arg with its free_arg). */
void req_response_release(struct req_response *r);
/* The status of the response made, 0 before. */
unsigned int req_status(const struct request *req);

/* ---- a connection from memory (tests, fuzzing) ---- */

/* A client scripted in memory: the bytes it sends, how the server's
 * recv()s see them arrive, and how much of the answer it takes. */
struct http_server_mem_conn {
    const char *in; /* what the client sends, then it stops (EOF) */
    size_t in_len;
    /* recv() sizes in turn, cycling (a 0 counts as 1); NULL: as much as
     * each recv() asks for */
    const size_t *reads;
    size_t n_reads;
    /* the client stops reading after this many bytes: later sends fail
     * with EPIPE; 0: no limit */
    size_t out_max;
    /* the caller's, for the handler: req_origin() */
    void *origin;
    /* results */
    char *out; /* what the server wrote, malloc()ed: free() it */
    size_t out_len;
    size_t in_used; /* bytes the server read */
    size_t n_recvs; /* recv()s, counting the one that saw EOF */
};

/* mc->origin for a request served by http_server_serve_mem(), NULL for
 * one from a socket: a handler serving its own subrequests (the proxy's
 * S3 API) knows them by it, which no client can forge. */
void *req_origin(const struct request *req);
/* Serves 'mc' as a connection thread serves a socket, on the calling
 * thread: requests are read from mc->in, the handler's callbacks run,
 * responses go to mc->out, until the connection would close (the input
 * ends, an error, "Connection: close"). The same code as for a socket
 * but for the recv() and sendmsg() at the bottom; nothing listens and
 * no thread starts. Returns 0, or -ENOMEM before anything was served. */
int http_server_serve_mem(const struct http_server_conf *conf,
                          const struct http_handler *handler,
                          struct http_server_mem_conn *mc);

#endif /* COMMON_HTTP_SERVER_H */
