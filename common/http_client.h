/*
 * http_client.h - the backend HTTP/1.1 client: proxy to object, container
 * and account servers, object server to container server, replicators.
 *
 * Blocking calls for thread-per-request servers. One struct http_client is
 * shared by every thread of a daemon: it holds the settings and a pool of
 * idle keep-alive connections keyed by (ip, port). A request is a struct
 * http_client_call, owned by one thread from http_client_start() to
 * http_client_end():
 *
 *     http_client_start()            connect (or reuse), send the headers
 *     [http_client_wait_continue()]  Expect: 100-continue only
 *     http_client_send()...          a streamed body, then
 *     http_client_send_end()
 *     http_client_response()         status and headers
 *     http_client_read()...          the body, chunk by chunk
 *     http_client_end()              back to the pool, or closed
 *
 * One thread can drive several uploads (the proxy's 3 replicas):
 * http_client_start_multi() connects to all at once, then wait for each
 * "100 Continue", then http_client_send_multi() writes
 * every chunk to all of them at once, each with its own node timeout, and
 * http_client_response() collects each answer.
 *
 * Hosts are IPv4 or IPv6 literals (no DNS; "fe80::1%eth0" scopes work).
 * Paths go out as given: the caller quotes them. Every call that can fail
 * returns a negative errno:
 *   -ECONNREFUSED, -ENETUNREACH...  connect failed
 *   -ETIMEDOUT     connect took over conn_timeout, or one read or write
 *                  made no progress for node_timeout
 *   -ECONNRESET    the peer closed or reset the connection mid-response
 *   -EPIPE         the peer closed the connection while we were sending
 *   -ECONNABORTED  the server answered before the body was all sent (see
 *                  http_client_send(); the call is not broken)
 *   -EPROTO        the response is not HTTP/1.x as we understand it
 *   -EMSGSIZE      the response's headers are over the limits below
 *   -EINVAL        a caller mistake (bad host, body longer than declared...)
 *   -ENOMEM
 * After an error the call is broken: only http_client_end() is left to do,
 * and it closes the connection.
 */
#ifndef COMMON_HTTP_CLIENT_H
#define COMMON_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Swift's conn_timeout and node_timeout defaults. */
#define HTTP_CLIENT_CONN_TIMEOUT_MS 500
#define HTTP_CLIENT_NODE_TIMEOUT_MS 10000
/* Idle connections kept per peer: as many as requests run at once to one
 * storage server (a proxy thread each), else the surplus is closed and
 * opened again, a new thread on the server each time. */
#define HTTP_CLIENT_MAX_IDLE_PER_PEER 256
/* Limits on a response's headers, against a broken or hostile peer. Swift
 * allows 90 metadata items of 256 bytes plus its own headers. */
#define HTTP_CLIENT_MAX_HEADER_BYTES (64 * 1024) /* status line included */
#define HTTP_CLIENT_MAX_HEADERS 256
#define HTTP_CLIENT_MAX_LINE 16384

struct http_client;      /* opaque: settings and the connection pool */
struct http_client_call; /* opaque: one request and its response */

/* Zero in a field means the default above. */
struct http_client_conf {
    unsigned int conn_timeout_ms;
    unsigned int node_timeout_ms;
    unsigned int max_idle_per_peer; /* idle connections kept per (ip, port) */
};

struct http_header {
    const char *name;
    const char *value;
};

enum http_client_body {
    HTTP_CLIENT_BODY_NONE,    /* or a buffer: 'body', 'body_len' */
    HTTP_CLIENT_BODY_LENGTH,  /* streamed, 'content_length' bytes */
    HTTP_CLIENT_BODY_CHUNKED, /* streamed, Transfer-Encoding: chunked */
};

/* What to send; borrowed by http_client_start() for the call only, except
 * 'body', which must stay valid until http_client_response() returns (a
 * stale pooled connection is retried by sending it again). */
struct http_client_req {
    const char *host; /* "127.0.0.1", "::1" */
    unsigned int port;
    const char *method; /* "GET", "PUT", "REPLICATE"... */
    const char *path;   /* quoted: "/sda1/1023/AUTH_test/c/o%20x" */
    const struct http_header *headers;
    size_t n_headers;
    enum http_client_body body_mode;
    const void *body; /* HTTP_CLIENT_BODY_NONE: sent whole, may be NULL */
    size_t body_len;
    uint64_t content_length;      /* HTTP_CLIENT_BODY_LENGTH */
    int expect_continue;          /* send "Expect: 100-continue" */
    unsigned int conn_timeout_ms; /* 0: the client's */
    unsigned int node_timeout_ms; /* 0: the client's */
};

/* Creates a client ('conf' may be NULL for the defaults). Returns 0 and
 * sets *out, to be freed with http_client_free(), or -ENOMEM. */
int http_client_new(const struct http_client_conf *conf,
                    struct http_client **out);

/* Closes the pooled connections and frees 'c'; every call must have ended.
 * NULL is fine. */
void http_client_free(struct http_client *c);

/* Sends the request line and headers (Host, Content-Length or
 * Transfer-Encoding and Expect are added from 'req' and are -EINVAL in
 * 'req->headers'; the caller's headers go out as given) and a buffer body
 * unless 'req' expects 100-continue. Reuses an idle pooled connection to the
 * peer when there is one. On success returns 0 and sets *out to a call the
 * caller ends with http_client_end(); on failure returns -errno and sets *out
 * to NULL. */
int http_client_start(struct http_client *c, const struct http_client_req *req,
                      struct http_client_call **out);

/* Starts 'n' requests at once (the proxy's replicas): connects to all the
 * peers in parallel, each within its own connect timeout, then sends each
 * request as http_client_start() does. Sets calls[i] and errs[i] = 0, or
 * calls[i] = NULL and errs[i] = -errno. Returns how many started. */
size_t http_client_start_multi(struct http_client *c,
                               const struct http_client_req *reqs, size_t n,
                               struct http_client_call **calls, int *errs);

/* Expect: 100-continue only: waits up to the node timeout for the server's
 * answer to the headers. Returns 100 when the body may go (a buffer body is
 * sent now), or the final status the server answered instead (507, 401,
 * 413...; no byte of the body is sent, and the response's headers and body
 * are readable as after http_client_response()), or -errno. */
int http_client_wait_continue(struct http_client_call *call);

/* After http_client_wait_continue() returned 100: the first value of
 * header 'name' of that "100 Continue" (Swift's object server says
 * "X-Obj-Metadata-Footer: yes" there), or NULL; NULL too once a later
 * response began. */
const char *http_client_continue_header(const struct http_client_call *call,
                                        const char *name);

/* Streams 'len' bytes of the body (one chunk in chunked mode; len 0 sends
 * nothing). Returns 0 or -errno (-EINVAL: past the declared length).
 * -ECONNABORTED is not a broken call: the server answered before the body
 * was all sent (413, 507, 422...); send no more, http_client_response()
 * returns its status. */
int http_client_send(struct http_client_call *call, const void *buf,
                     size_t len);

/* Writes the same 'len' bytes to each of the 'n' calls in parallel; each
 * call times out on its own when it makes no progress for its node
 * timeout, and is then broken without holding up the others. Calls that
 * failed or were answered already are skipped, and so are NULL ones
 * (errs[i] 0, not counted). Sets errs[i] to 0 or -errno for
 * each call and returns the number of calls that are not broken. */
size_t http_client_send_multi(struct http_client_call **calls, size_t n,
                              const void *buf, size_t len, int *errs);
/* (errs[i] is -ECONNABORTED for a call answered early, as above.) */

/* Parts a body piece of http_client_sendv_multi() may be made of. */
#define HTTP_CLIENT_IOV_MAX 6

/* As http_client_send_multi(), the piece made of 'ndata' buffers (one
 * chunk in chunked mode), and with 'end' the body's end in the same
 * write (as http_client_send_end(); in length mode the piece must then
 * complete the declared length). A small body and its end go to the
 * server in one segment: one wake-up of its reader, not one per part. */
size_t http_client_sendv_multi(struct http_client_call **calls, size_t n,
                               const struct iovec *data, int ndata, bool end,
                               int *errs);

/* Ends a streamed body: the last chunk in chunked mode; in length mode,
 * -EINVAL (and the call is broken) unless exactly 'content_length' bytes
 * were sent. Returns 0 or -errno (-ECONNABORTED as http_client_send()).
 * Same as http_client_sendv_multi() of nothing with 'end', one call. */
int http_client_send_end(struct http_client_call *call);

/* Reads the response's status line and headers, skipping 1xx responses
 * (at most 16, then -EPROTO).
 * Returns the status (200..599) or -errno. A pooled connection that turns
 * out to be closed by the peer before any byte of the response arrived is
 * replaced by a fresh one and the request sent again, once, when the
 * method is idempotent and no streamed body has gone out yet. */
int http_client_response(struct http_client_call *call);

/* The final status, or 0 before one was read. */
int http_client_status(const struct http_client_call *call);

/* The first value of header 'name' (case-insensitive), or NULL. Values
 * live until http_client_end(). */
const char *http_client_header(const struct http_client_call *call,
                               const char *name);

/* Repeated headers: the response's headers in order, i from 0 to
 * http_client_header_count() - 1. */
size_t http_client_header_count(const struct http_client_call *call);
struct http_header http_client_header_at(const struct http_client_call *call,
                                         size_t i);

/* Reads the next piece of the body (Content-Length, chunked or until the
 * peer closes; none for HEAD, 1xx, 204 and 304; chunked trailers are read
 * and dropped). Returns 0 and points *data
 * at *len bytes that stay valid until the next call on 'call'; *len is 0
 * at the end of the body. Returns -errno on failure. */
int http_client_read(struct http_client_call *call, const void **data,
                     size_t *len);

/* Reads the rest of the body into a NUL-terminated malloc()ed buffer the
 * caller frees. Returns 0, or -EMSGSIZE when the body exceeds 'max' bytes
 * (the call is then broken), or -errno. */
int http_client_read_all(struct http_client_call *call, size_t max, char **out,
                         size_t *len);

/* Ends the call: the connection goes back to the pool when the whole
 * response was read and both sides allow keep-alive; otherwise (error,
 * unread body, "Connection: close") it is closed. NULL is fine. */
void http_client_end(struct http_client_call *call);

/* Convenience for small requests: start, send 'req->body' (after 100
 * Continue when expected) and read the status and headers. Returns the
 * status with *out set, or -errno with *out NULL. */
int http_client_request(struct http_client *c,
                        const struct http_client_req *req,
                        struct http_client_call **out);

#endif /* COMMON_HTTP_CLIENT_H */
