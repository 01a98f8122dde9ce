/*
 * http_server.c - libmicrohttpd glue: one struct request per request, the
 * handler's callbacks in order, responses, limits and shutdown.
 *
 * Owns the MHD daemon and every struct request. Routing, status choice and
 * what a body means belong to the daemons' handlers.
 *
 * How libmicrohttpd drives us, per request, on the connection's thread:
 *   uri_log()    the request line is in: allocate the struct request and
 *                keep the raw URI (the only place MHD shows it undecoded
 *                with its query string); it becomes MHD's *req_cls.
 *   on_access()  first call: headers are in. Then once per body piece
 *                (*upload_data_size > 0), then a last call with 0.
 *   completed()  always, once MHD has seen uri_log() return: on_done, then
 *                free.
 * MHD accepts a response only on the first call (it then skips the 100
 * Continue and the body) and on the last call. So req_respond*() builds
 * the MHD response and parks it in req->response; queue_if_possible()
 * hands it to MHD at the first moment MHD allows. A request without a body
 * keeps its response until the last call, which comes at once: queueing
 * it early would make MHD close a keep-alive connection for nothing.
 *
 * Invariants: req->response is non-NULL iff a response was made and not
 * yet queued; req->status != 0 iff a response was made; after a response,
 * no handler callback but on_done runs.
 */
#include "common/http_server.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct http_server {
    struct MHD_Daemon *daemon;
    struct http_server_conf conf; /* bind_ip owned */
    struct http_handler handler;
    unsigned int port;
    int listen_fd; /* ours once quiesced, -1 before */
    bool stopped;
};

struct param {
    char *name;
    char *value;
};

struct header {
    char *name;
    char *value;
};

struct request {
    struct http_server *srv;
    struct MHD_Connection *conn;
    char *uri;         /* raw target: path '?' query */
    char *raw_path;    /* uri up to '?' */
    char *path;        /* raw_path decoded */
    const char *query; /* into uri, after '?'; "" if none */
    struct param *params;
    size_t n_params;
    const char *method; /* MHD's, lives as long as the request */
    char txn[2 * TXN_ID_LEN + 1];
    char client_ip[INET6_ADDRSTRLEN];
    int64_t content_length;
    bool chunked;
    bool has_body;
    bool started; /* on_access has run once */
    uint64_t body_received;
    uint64_t drained;
    struct header *headers; /* for the response */
    size_t n_headers, cap_headers;
    struct MHD_Response *response; /* made, not yet queued */
    unsigned int status;
    uint64_t bytes_out;
    struct timespec start;
    void *ctx;
};

static void assert_request_ok(const struct request *req)
{
    assert(req->srv);
    assert(!req->response || req->status);
    assert(req->body_received == 0 || req->started);
    (void)req;
}

/* ---- the request object ---- */

static void drop_headers(struct request *req);

static void request_free(struct request *req)
{
    size_t i;

    if (!req)
        return;
    if (req->response)
        MHD_destroy_response(req->response);
    for (i = 0; i < req->n_params; i++) {
        free(req->params[i].name);
        free(req->params[i].value);
    }
    drop_headers(req);
    free(req->params);
    free(req->headers);
    free(req->uri);
    free(req->raw_path);
    free(req->path);
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
    return req->path;
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
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

struct foreach_state {
    int (*fn)(const char *name, const char *value, void *arg);
    void *arg;
    int rc;
};

static enum MHD_Result foreach_header(void *cls, enum MHD_ValueKind kind,
                                      const char *key, const char *value)
{
    struct foreach_state *st = cls;

    (void)kind;
    st->rc = st->fn(key, value ? value : "", st->arg);
    return st->rc ? MHD_NO : MHD_YES;
}

int req_foreach_header(const struct request *req,
                       int (*fn)(const char *name, const char *value,
                                 void *arg),
                       void *arg)
{
    struct foreach_state st = {fn, arg, 0};

    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, foreach_header, &st);
    return st.rc;
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
    return req->client_ip;
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
    struct header *h;

    if (req->status)
        return -EALREADY;
    if (!*name || !header_text_ok(name) || !header_text_ok(value) ||
        strchr(name, ':') || !strcasecmp(name, "Content-Length") ||
        !strcasecmp(name, "Transfer-Encoding"))
        return -EINVAL;
    if (req->n_headers == req->cap_headers) {
        size_t cap = req->cap_headers ? req->cap_headers * 2 : 8;
        struct header *p = reallocarray(req->headers, cap, sizeof(*p));

        if (!p)
            return -ENOMEM;
        req->headers = p;
        req->cap_headers = cap;
    }
    h = &req->headers[req->n_headers];
    h->name = strdup(name);
    /* libmicrohttpd refuses an empty value; one space is read as an empty
     * value by every client (RFC 9110 trims it), as Swift's empty metadata
     * values need */
    h->value = strdup(*value ? value : " ");
    if (!h->name || !h->value) {
        free(h->name);
        free(h->value);
        return -ENOMEM;
    }
    req->n_headers++;
    return 0;
}

/* Takes ownership of 'resp': adds the headers and parks it on the request
 * until queue_if_possible() can hand it to MHD. */
static int park_response(struct request *req, unsigned int status,
                         struct MHD_Response *resp)
{
    bool has_type = false;
    size_t i;

    if (!resp)
        return -ENOMEM;
    for (i = 0; i < req->n_headers; i++) {
        if (!strcasecmp(req->headers[i].name, "Content-Type"))
            has_type = true;
        if (MHD_add_response_header(resp, req->headers[i].name,
                                    req->headers[i].value) != MHD_YES) {
            MHD_destroy_response(resp);
            return -ENOMEM;
        }
    }
    if (!has_type &&
        MHD_add_response_header(resp, "Content-Type",
                                "text/html; charset=UTF-8") != MHD_YES) {
        MHD_destroy_response(resp);
        return -ENOMEM;
    }
    /* Swift sends "Content-Length: 0" with a 204; libmicrohttpd leaves it
     * out unless told the header is wanted (swiftclient and Swift's own
     * tests read it) */
    if (status == 204 &&
        (MHD_set_response_options(resp, MHD_RF_INSANITY_HEADER_CONTENT_LENGTH,
                                  MHD_RO_END) != MHD_YES ||
         MHD_add_response_header(resp, "Content-Length", "0") != MHD_YES)) {
        MHD_destroy_response(resp);
        return -ENOMEM;
    }
    req->response = resp;
    req->status = status;
    return 0;
}

int req_respond(struct request *req, unsigned int status, const void *body,
                size_t len)
{
    if (req->status)
        return -EALREADY;
    req->bytes_out = len;
    return park_response(req, status,
                         MHD_create_response_from_buffer(
                             len, (void *)body, MHD_RESPMEM_MUST_COPY));
}

int req_respond_error(struct request *req, unsigned int status)
{
    char body[HTTP_ERROR_BODY_MAX];
    size_t len = http_error_body(status, body);

    return req_respond(req, status, body, len);
}

struct stream {
    struct request *req;
    req_read_fn read;
    void (*free_arg)(void *arg);
    void *arg;
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream *s = cls;
    ssize_t n = s->read(s->arg, pos, buf, max);

    if (n == 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (n < 0) {
        req_log(s->req, LOG_ERR, "cannot stream '%s' at byte %llu: %s",
                s->req->raw_path, (unsigned long long)pos, strerror((int)-n));
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    s->req->bytes_out += (uint64_t)n;
    return n;
}

static void stream_free(void *cls)
{
    struct stream *s = cls;

    if (s->free_arg)
        s->free_arg(s->arg);
    free(s);
}

int req_respond_stream(struct request *req, unsigned int status, uint64_t size,
                       req_read_fn read, void *arg, void (*free_arg)(void *arg))
{
    struct MHD_Response *resp = NULL;
    struct stream *s = NULL;

    if (req->status) {
        if (free_arg)
            free_arg(arg);
        return -EALREADY;
    }
    s = malloc(sizeof(*s));
    if (s) {
        *s = (struct stream){req, read, free_arg, arg};
        /* 64 KiB blocks: few calls per object, a bounded buffer each */
        resp = MHD_create_response_from_callback(
            size == HTTP_SIZE_UNKNOWN ? MHD_SIZE_UNKNOWN : size, 64 * 1024,
            stream_read, s, stream_free);
    }
    if (!resp) {
        if (free_arg)
            free_arg(arg);
        free(s);
        return -ENOMEM;
    }
    /* from here MHD calls stream_free(), whatever happens */
    return park_response(req, status, resp);
}

/* Hands a parked response to MHD. 'last' is the final access call. */
static enum MHD_Result queue_if_possible(struct request *req, bool first,
                                         bool last)
{
    enum MHD_Result rc;

    if (!req->response || !(last || (first && req->has_body)))
        return MHD_YES;
    rc = MHD_queue_response(req->conn, req->status, req->response);
    MHD_destroy_response(req->response); /* MHD holds its own reference */
    req->response = NULL;
    return rc;
}

/* ---- the request's way through the handler ---- */

static void drop_headers(struct request *req)
{
    size_t i;

    for (i = 0; i < req->n_headers; i++) {
        free(req->headers[i].name);
        free(req->headers[i].value);
    }
    req->n_headers = 0;
}

/* A callback failed: answer 500 unless it had answered already, without
 * the headers it had added (one of them may be why). Returns false when
 * not even that works: the caller drops the connection. */
static bool handler_failed(struct request *req, const char *what, int err)
{
    if (req->status)
        return true;
    req_log(req, LOG_ERR, "%s %s: %s failed: %s", req->method, req->raw_path,
            what, err ? strerror(-err) : "no response");
    drop_headers(req);
    return req_respond_error(req, 500) == 0;
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
    const char *cl, *te, *txn;
    int err;

    if (strlen(req->uri) > conf->max_header_size)
        return 414;
    if (req_foreach_header(req, check_header, &hc) || hc.too_long)
        return hc.too_long ? 400 : 431; /* as Swift: "Too many headers" */
    if (req->raw_path[0] != '/')
        return 400;
    err = unquote(req, req->raw_path, strlen(req->raw_path), false,
                  &req->path);
    if (!err)
        err = parse_query(req);
    if (err) /* a bad escape is the client's fault, no memory is ours */
        return err == -ENOMEM ? 503 : 400;
    txn = req_header(req, "X-Trans-Id");
    req_set_txn(req, txn);
    te = req_header(req, "Transfer-Encoding");
    cl = req_header(req, "Content-Length");
    req->chunked = te && strcasestr(te, "chunked");
    req->content_length = -1;
    if (cl && !req->chunked) {
        char *end;

        /* MHD has refused malformed lengths already; this is belt and
         * braces for the handler's sake */
        errno = 0;
        req->content_length = strtoll(cl, &end, 10);
        if (errno || *end || end == cl || req->content_length < 0)
            return 400;
    }
    req->has_body = req->chunked || req->content_length > 0;
    return 0;
}

static enum MHD_Result first_call(struct request *req, const char *method)
{
    struct http_server *srv = req->srv;
    unsigned int refuse;
    int err;

    req->started = true;
    req->method = method;
    refuse = prepare(req);
    if (refuse) {
        if (req_respond_error(req, refuse))
            return MHD_NO;
    } else {
        err = srv->handler.on_headers(req, srv->handler.arg);
        if (err && !handler_failed(req, "on_headers", err))
            return MHD_NO;
    }
    return queue_if_possible(req, true, false);
}

static enum MHD_Result body_call(struct request *req, const char *data,
                                 size_t len)
{
    struct http_server *srv = req->srv;
    int err;

    req->body_received += len;
    if (req->status) {
        /* answered mid-body: drop the rest, within reason */
        req->drained += len;
        return req->drained > HTTP_SERVER_DRAIN_MAX ? MHD_NO : MHD_YES;
    }
    if (!srv->handler.on_body)
        return MHD_YES;
    err = srv->handler.on_body(req, data, len, srv->handler.arg);
    if (err && !handler_failed(req, "on_body", err))
        return MHD_NO;
    return MHD_YES;
}

static enum MHD_Result last_call(struct request *req)
{
    struct http_server *srv = req->srv;
    int err;

    if (!req->status) {
        err = srv->handler.on_end(req, srv->handler.arg);
        if ((err || !req->status) && !handler_failed(req, "on_end", err))
            return MHD_NO;
    }
    return queue_if_possible(req, false, true);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn,
                                 const char *url, const char *method,
                                 const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **req_cls)
{
    struct request *req = *req_cls;
    size_t len = *upload_data_size;

    (void)cls;
    (void)conn;
    (void)url; /* decoded by MHD's rules, not ours: we use uri_log()'s */
    (void)version;
    if (!req) /* uri_log() ran out of memory: drop the connection */
        return MHD_NO;
    assert_request_ok(req);
    if (!req->started)
        return first_call(req, method);
    if (len) {
        *upload_data_size = 0;
        return body_call(req, upload_data, len);
    }
    return last_call(req);
}

static void *uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct request *req = calloc(1, sizeof(*req));
    const union MHD_ConnectionInfo *info;
    const char *q;

    if (!req)
        return NULL;
    req->srv = cls;
    req->conn = conn;
    clock_gettime(CLOCK_MONOTONIC, &req->start);
    q = strchr(uri, '?');
    req->uri = strdup(uri);
    req->raw_path = q ? strndup(uri, (size_t)(q - uri)) : strdup(uri);
    if (!req->uri || !req->raw_path) {
        request_free(req);
        return NULL;
    }
    req->query = q ? req->uri + (q - uri) + 1 : "";
    info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (info && info->client_addr) {
        const struct sockaddr *sa = info->client_addr;

        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
                      req->client_ip, sizeof(req->client_ip));
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
                      req->client_ip, sizeof(req->client_ip));
    }
    return req;
}

/* Swift logs 499 for a request whose client went away before an answer. */
static void log_request(const struct request *req, bool ok)
{
    struct timespec now;
    struct log_access a = {
        .client = req->client_ip,
        .method = req->method,
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

static void completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct http_server *srv = cls;
    struct request *req = *req_cls;
    bool ok = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK;

    (void)conn;
    *req_cls = NULL;
    if (!req)
        return;
    if (req->started) {
        if (srv->handler.on_done)
            srv->handler.on_done(req, ok, srv->handler.arg);
        if (srv->conf.log_requests)
            log_request(req, ok);
    }
    request_free(req);
}

/* MHD decodes the path and query in place before our handler sees them;
 * we keep them raw and decode ourselves, strictly. */
static size_t no_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    return strlen(s);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    size_t n;

    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_warning("libmicrohttpd: %s", msg);
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
                     struct sockaddr_storage *ss, bool *v6)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof(*ss));
    *v6 = false;
    if (!ip)
        ip = "0.0.0.0";
    if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        return 0;
    }
    if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        *v6 = true;
        return 0;
    }
    return -EINVAL;
}

int http_server_new(const struct http_server_conf *conf,
                    const struct http_handler *handler,
                    struct http_server **out)
{
    struct http_server *srv;
    struct sockaddr_storage ss;
    const union MHD_DaemonInfo *info;
    unsigned int flags = MHD_USE_THREAD_PER_CONNECTION |
                         MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ITC;
    bool v6;
    int err;

    *out = NULL;
    srv = calloc(1, sizeof(*srv));
    if (!srv)
        return -ENOMEM;
    srv->conf = *conf;
    srv->conf.bind_ip = strdup(conf->bind_ip ? conf->bind_ip : "0.0.0.0");
    srv->handler = *handler;
    srv->listen_fd = -1;
    if (!srv->conf.bind_ip) {
        err = -ENOMEM;
        goto out;
    }
    err = make_addr(srv->conf.bind_ip, conf->bind_port, &ss, &v6);
    if (err) {
        log_err("cannot listen on '%s': not an IP address", srv->conf.bind_ip);
        goto out;
    }
    if (v6)
        flags |= MHD_USE_IPv6;
    errno = 0;
    srv->daemon = MHD_start_daemon(
        flags, (uint16_t)conf->bind_port, NULL, NULL, on_access, srv,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_URI_LOG_CALLBACK, uri_log, srv, MHD_OPTION_NOTIFY_COMPLETED,
        completed, srv, MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_CONNECTION_LIMIT,
        conf->max_clients, MHD_OPTION_CONNECTION_TIMEOUT, conf->client_timeout,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, conf->backlog,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)conf->conn_memory_limit,
        MHD_OPTION_THREAD_STACK_SIZE, (size_t)conf->thread_stack_size,
        MHD_OPTION_STRICT_FOR_CLIENT, 1, MHD_OPTION_END);
    if (!srv->daemon) {
        err = errno ? -errno : -EIO;
        log_err("cannot listen on %s port %u: %s", srv->conf.bind_ip,
                conf->bind_port, strerror(-err));
        goto out;
    }
    info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? info->port : conf->bind_port;
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

static unsigned int connections(const struct http_server *srv)
{
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

    return info ? info->num_connections : 0;
}

void http_server_stop(struct http_server *srv, unsigned int grace_ms)
{
    struct timespec tick = {0, 10 * 1000 * 1000};
    unsigned int waited = 0;
    MHD_socket fd;

    if (!srv || srv->stopped || !srv->daemon)
        return;
    /* stop accepting; the listening socket becomes ours to close */
    fd = MHD_quiesce_daemon(srv->daemon);
    srv->listen_fd = fd == MHD_INVALID_SOCKET ? -1 : fd;
    while (waited < grace_ms && connections(srv) > 0) {
        nanosleep(&tick, NULL);
        waited += 10;
    }
    MHD_stop_daemon(srv->daemon); /* closes the rest, joins threads */
    srv->daemon = NULL;
    if (srv->listen_fd >= 0)
        close(srv->listen_fd);
    srv->listen_fd = -1;
    srv->stopped = true;
}

void http_server_free(struct http_server *srv)
{
    if (!srv)
        return;
    http_server_stop(srv, 0);
    free(srv->conf.bind_ip);
    free(srv);
}
