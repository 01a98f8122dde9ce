/* Description: the backend HTTP client against real sockets: a scripted
 * server thread on 127.0.0.1 answers each connection with raw bytes. */
#include "common/http_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* ---- the scripted server ---- */

#define MAX_CONNS 64

struct srv;
typedef void handler_fn(struct srv *s, int fd);

struct srv {
    int lfd;
    unsigned int port;
    pthread_t thread;
    handler_fn *handler;
    atomic_bool stop;
    atomic_int n_conns;    /* connections accepted */
    atomic_int n_requests; /* request heads read */
    atomic_llong body_bytes;
    pthread_t conn_threads[MAX_CONNS];
    char last_head[8192];
    char raw[512]; /* h_continue_raw: the body's bytes as they came */
    atomic_int raw_len;
    pthread_mutex_t lock;
};

struct conn_arg {
    struct srv *s;
    int fd;
};

static void *conn_main(void *p)
{
    struct conn_arg *a = p;

    a->s->handler(a->s, a->fd);
    close(a->fd);
    free(a);
    return NULL;
}

static void *srv_main(void *p)
{
    struct srv *s = p;

    while (!s->stop) {
        struct pollfd pfd = {.fd = s->lfd, .events = POLLIN};
        struct conn_arg *a;
        int fd, n;

        if (poll(&pfd, 1, 20) <= 0)
            continue;
        fd = accept(s->lfd, NULL, NULL);
        if (fd == -1)
            continue;
        n = atomic_fetch_add(&s->n_conns, 1);
        if (n >= MAX_CONNS) {
            close(fd);
            continue;
        }
        a = malloc(sizeof(*a));
        a->s = s;
        a->fd = fd;
        pthread_create(&s->conn_threads[n], NULL, conn_main, a);
    }
    return NULL;
}

static struct srv *srv_start_on(const char *ip, handler_fn *handler)
{
    struct srv *s = calloc(1, sizeof(*s));
    struct sockaddr_storage ss = {0};
    socklen_t len;
    int one = 1;

    if (strchr(ip, ':')) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

        a->sin6_family = AF_INET6;
        inet_pton(AF_INET6, ip, &a->sin6_addr);
        len = sizeof(*a);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;

        a->sin_family = AF_INET;
        inet_pton(AF_INET, ip, &a->sin_addr);
        len = sizeof(*a);
    }
    s->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(s->lfd >= 0);
    setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(s->lfd, (struct sockaddr *)&ss, len) || listen(s->lfd, 64)) {
        close(s->lfd);
        free(s);
        return NULL;
    }
    getsockname(s->lfd, (struct sockaddr *)&ss, &len);
    s->port =
        ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                       : ((struct sockaddr_in *)&ss)->sin_port);
    s->handler = handler;
    pthread_mutex_init(&s->lock, NULL);
    pthread_create(&s->thread, NULL, srv_main, s);
    return s;
}

static struct srv *srv_start(handler_fn *handler)
{
    struct srv *s = srv_start_on("127.0.0.1", handler);

    assert_non_null(s);
    return s;
}

/* Stops accepting, then waits for each connection's handler: the caller
 * has closed its side (http_client_free()) so the handlers see EOF. */
static void srv_stop(struct srv *s)
{
    int n;

    s->stop = true;
    pthread_join(s->thread, NULL);
    n = s->n_conns < MAX_CONNS ? s->n_conns : MAX_CONNS;
    for (int i = 0; i < n; i++)
        pthread_join(s->conn_threads[i], NULL);
    close(s->lfd);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static void write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

        if (n <= 0)
            return;
        p += n;
        len -= n;
    }
}

static void write_str(int fd, const char *s)
{
    write_all(fd, s, strlen(s));
}

/* Reads a request head byte by byte (so no body byte is taken). Returns
 * its length, or 0 at EOF or on error. */
static size_t read_head(struct srv *s, int fd, char *buf, size_t cap)
{
    size_t len = 0;

    while (len + 1 < cap) {
        if (recv(fd, buf + len, 1, 0) != 1)
            return 0;
        len++;
        buf[len] = '\0';
        if (len >= 4 && !memcmp(buf + len - 4, "\r\n\r\n", 4)) {
            s->n_requests++;
            pthread_mutex_lock(&s->lock);
            memcpy(s->last_head, buf, len + 1);
            pthread_mutex_unlock(&s->lock);
            return len;
        }
    }
    return 0;
}

static bool head_has(const char *head, const char *line)
{
    return strcasestr(head, line) != NULL;
}

static long long content_length(const char *head)
{
    const char *p = strcasestr(head, "\r\nContent-Length:");

    return p ? atoll(p + 17) : -1;
}

/* Reads and counts 'len' body bytes. Returns false on EOF. */
static bool read_body_bytes(struct srv *s, int fd, long long len)
{
    char buf[65536];

    while (len > 0) {
        ssize_t n =
            recv(fd, buf,
                 len < (long long)sizeof(buf) ? (size_t)len : sizeof(buf), 0);

        if (n <= 0)
            return false;
        s->body_bytes += n;
        len -= n;
    }
    return true;
}

static bool read_line(int fd, char *buf, size_t cap)
{
    size_t len = 0;

    while (len + 1 < cap) {
        if (recv(fd, buf + len, 1, 0) != 1)
            return false;
        if (buf[len++] == '\n') {
            buf[len] = '\0';
            return true;
        }
    }
    return false;
}

/* Reads the request body, by Content-Length or chunked. */
static bool read_body(struct srv *s, int fd, const char *head)
{
    char line[64];

    if (!head_has(head, "Transfer-Encoding: chunked"))
        return read_body_bytes(
            s, fd, content_length(head) > 0 ? content_length(head) : 0);
    for (;;) {
        long long size;

        if (!read_line(fd, line, sizeof(line)))
            return false;
        size = strtoll(line, NULL, 16);
        if (size == 0)
            return read_line(fd, line, sizeof(line)); /* the last CRLF */
        if (!read_body_bytes(s, fd, size) || !read_line(fd, line, sizeof(line)))
            return false;
    }
}

/* ---- handlers: one connection each ---- */

#define OK_HELLO                                                               \
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Object-Meta-Color: blue\r\n"    \
    "Set-Cookie: a=1\r\nset-cookie: b=2\r\nX-Spaces:   padded  \r\n\r\nhello"

static void h_hello(struct srv *s, int fd)
{
    char head[8192];

    while (read_head(s, fd, head, sizeof(head)))
        write_str(fd, OK_HELLO);
}

/* "/big" gets a 4 MiB body, anything else "hello". */
static void h_big(struct srv *s, int fd)
{
    static char big[4 << 20];
    char head[8192];

    while (read_head(s, fd, head, sizeof(head))) {
        if (!strstr(head, "GET /big ")) {
            write_str(fd, OK_HELLO);
            continue;
        }
        write_str(fd, "HTTP/1.1 200 OK\r\nContent-Length: 4194304\r\n\r\n");
        write_all(fd, big, sizeof(big));
    }
}

static void h_chunked(struct srv *s, int fd)
{
    char head[8192];

    while (read_head(s, fd, head, sizeof(head))) {
        /* in pieces, so the parser meets each boundary mid-read */
        write_str(fd, "HTTP/1.1 200 OK\r\nTransfer-Enc");
        usleep(5000);
        write_str(fd, "oding: chunked\r\n\r\n5\r\nhel");
        usleep(5000);
        write_str(fd, "lo\r\n6\r\n world\r\n0\r\n\r\n");
    }
}

/* Answers once, then closes the connection while it idles. */
static void h_one_then_close(struct srv *s, int fd)
{
    char head[8192];

    if (read_head(s, fd, head, sizeof(head)))
        write_str(fd, OK_HELLO);
}

/* Answers the first request on each connection; the second is read and
 * dropped with the connection, as a server closing an idle connection
 * just as the request arrives. */
static void h_drop_second(struct srv *s, int fd)
{
    char head[8192];

    if (!read_head(s, fd, head, sizeof(head)))
        return;
    read_body(s, fd, head);
    write_str(fd, OK_HELLO);
    read_head(s, fd, head, sizeof(head));
}

static void h_continue(struct srv *s, int fd)
{
    char head[8192];

    while (read_head(s, fd, head, sizeof(head))) {
        if (head_has(head, "\r\nExpect: 100-continue\r\n"))
            write_str(fd, "HTTP/1.1 100 Continue\r\n\r\n");
        if (!read_body(s, fd, head))
            return;
        write_str(fd, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n"
                      "Etag: d41d8cd98f00b204e9800998ecf8427e\r\n\r\n");
    }
}

/* As h_continue for chunked bodies, keeping the body's bytes on the wire
 * (framing included) in s->raw. */
static void h_continue_raw(struct srv *s, int fd)
{
    char head[8192];

    while (read_head(s, fd, head, sizeof(head))) {
        int len = 0;

        write_str(fd, "HTTP/1.1 100 Continue\r\n\r\n");
        while (len < 5 || memcmp(s->raw + len - 5, "0\r\n\r\n", 5)) {
            ssize_t n = recv(fd, s->raw + len, sizeof(s->raw) - 1 - len, 0);

            if (n <= 0)
                return;
            len += (int)n;
        }
        s->raw[len] = '\0';
        s->raw_len = len;
        write_str(fd, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
    }
}

/* Refuses with 507, then counts whatever body arrives within 300 ms. */
static void h_refuse(struct srv *s, int fd)
{
    char head[8192], buf[4096];
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    ssize_t n;

    if (!read_head(s, fd, head, sizeof(head)))
        return;
    write_str(fd, "HTTP/1.1 507 Insufficient Storage\r\n"
                  "Content-Length: 3\r\n\r\nno!");
    while (poll(&pfd, 1, 300) > 0 && (n = recv(fd, buf, sizeof(buf), 0)) > 0)
        s->body_bytes += n;
}

static void wait_stop(struct srv *s)
{
    for (int i = 0; i < 200 && !s->stop; i++)
        usleep(10000);
}

/* Reads the request and never answers. */
static void h_stall(struct srv *s, int fd)
{
    char head[8192];

    read_head(s, fd, head, sizeof(head));
    wait_stop(s);
}

/* 100 Continue, then reads 1 MiB of the body and stops reading. */
static void h_stall_mid_body(struct srv *s, int fd)
{
    char head[8192];

    if (!read_head(s, fd, head, sizeof(head)))
        return;
    write_str(fd, "HTTP/1.1 100 Continue\r\n\r\n");
    read_body_bytes(s, fd, 1 << 20);
    wait_stop(s);
}

/* Reads 1 MiB of the body, answers 413 and stops reading. */
static void h_answer_mid_body(struct srv *s, int fd)
{
    char head[8192];

    if (!read_head(s, fd, head, sizeof(head)))
        return;
    read_body_bytes(s, fd, 1 << 20);
    write_str(fd, "HTTP/1.1 413 Request Entity Too Large\r\n"
                  "Content-Length: 4\r\n\r\nbig!");
    wait_stop(s);
}

static const char *raw_response;

static void h_raw(struct srv *s, int fd)
{
    char head[8192];

    while (read_head(s, fd, head, sizeof(head)))
        write_str(fd, raw_response);
}

/* Answers with raw_response, then closes. */
static void h_raw_close(struct srv *s, int fd)
{
    char head[8192];

    if (read_head(s, fd, head, sizeof(head)))
        write_str(fd, raw_response);
}

/* ---- helpers ---- */

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct http_client *client_new(unsigned int node_timeout_ms)
{
    struct http_client_conf conf = {.node_timeout_ms = node_timeout_ms};
    struct http_client *c;

    assert_int_equal(http_client_new(&conf, &c), 0);
    return c;
}

static struct http_client_req get_req(const struct srv *s, const char *path)
{
    return (struct http_client_req){
        .host = "127.0.0.1",
        .port = s->port,
        .method = "GET",
        .path = path,
    };
}

/* GETs 'path' and checks the body is 'want'. */
static void get_expect(struct http_client *c, const struct srv *s,
                       const char *want)
{
    struct http_client_req req = get_req(s, "/sda1/0/a/c/o");
    struct http_client_call *call;
    char *body;
    size_t len;

    assert_int_equal(http_client_request(c, &req, &call), 200);
    assert_int_equal(http_client_read_all(call, 1 << 20, &body, &len), 0);
    assert_string_equal(body, want);
    assert_int_equal(len, strlen(want));
    free(body);
    http_client_end(call);
}

/* ---- tests ---- */

static void test_get_content_length(void **state)
{
    struct srv *s = srv_start(h_hello);
    struct http_client *c = client_new(0);
    struct http_header hdrs[] = {{"X-Trans-Id", "tx1"},
                                 {"X-Backend-Storage-Policy-Index", "0"}};
    struct http_client_req req = get_req(s, "/sda1/0/a/c/o%20x");
    struct http_client_call *call;
    const void *data;
    size_t len, n_cookies = 0;

    (void)state;
    req.headers = hdrs;
    req.n_headers = 2;
    assert_int_equal(http_client_request(c, &req, &call), 200);
    assert_int_equal(http_client_status(call), 200);
    assert_string_equal(http_client_header(call, "content-length"), "5");
    assert_string_equal(http_client_header(call, "X-OBJECT-META-COLOR"),
                        "blue");
    assert_string_equal(http_client_header(call, "X-Spaces"), "padded");
    assert_null(http_client_header(call, "X-Missing"));
    for (size_t i = 0; i < http_client_header_count(call); i++) {
        struct http_header h = http_client_header_at(call, i);

        if (!strcasecmp(h.name, "Set-Cookie"))
            assert_string_equal(h.value, n_cookies++ ? "b=2" : "a=1");
    }
    assert_int_equal(n_cookies, 2);
    assert_int_equal(http_client_read(call, &data, &len), 0);
    assert_int_equal(len, 5);
    assert_memory_equal(data, "hello", 5);
    assert_int_equal(http_client_read(call, &data, &len), 0);
    assert_int_equal(len, 0);
    http_client_end(call);
    assert_non_null(strstr(s->last_head, "GET /sda1/0/a/c/o%20x HTTP/1.1\r\n"));
    assert_non_null(strstr(s->last_head, "\r\nX-Trans-Id: tx1\r\n"));
    assert_non_null(strstr(s->last_head, "\r\nHost: 127.0.0.1:"));
    http_client_free(c);
    srv_stop(s);
}

static void test_chunked_response(void **state)
{
    struct srv *s = srv_start(h_chunked);
    struct http_client *c = client_new(0);

    (void)state;
    get_expect(c, s, "hello world");
    get_expect(c, s, "hello world");
    assert_int_equal(s->n_conns, 1);
    http_client_free(c);
    srv_stop(s);
}

static void test_keep_alive_reuses_connection(void **state)
{
    struct srv *s = srv_start(h_hello);
    struct http_client *c = client_new(0);

    (void)state;
    get_expect(c, s, "hello");
    get_expect(c, s, "hello");
    assert_int_equal(s->n_requests, 2);
    assert_int_equal(s->n_conns, 1);
    http_client_free(c);
    srv_stop(s);
}

/* A body still on its way means the connection cannot carry another
 * request; one that has all arrived is skipped and the connection kept. */
static void test_unread_body_closes_connection(void **state)
{
    struct srv *s = srv_start(h_big);
    struct http_client *c = client_new(0);
    struct http_client_req req = get_req(s, "/a");
    struct http_client_call *call;
    const void *data;
    size_t len;

    (void)state;
    assert_int_equal(http_client_request(c, &req, &call), 200);
    usleep(20000); /* all of "hello" is in */
    http_client_end(call);
    get_expect(c, s, "hello");
    assert_int_equal(s->n_conns, 1);

    req.path = "/big";
    assert_int_equal(http_client_request(c, &req, &call), 200);
    assert_int_equal(http_client_read(call, &data, &len), 0);
    assert_true(len > 0);
    http_client_end(call);
    get_expect(c, s, "hello");
    assert_int_equal(s->n_conns, 2);
    http_client_free(c);
    srv_stop(s);
}

static void test_idle_close_then_next_request_succeeds(void **state)
{
    struct srv *s = srv_start(h_one_then_close);
    struct http_client *c = client_new(0);

    (void)state;
    get_expect(c, s, "hello");
    usleep(50000); /* the server has closed the pooled connection */
    get_expect(c, s, "hello");
    assert_int_equal(s->n_conns, 2);
    http_client_free(c);
    srv_stop(s);
}

/* The race the idle check cannot see: the peer takes the request on a
 * pooled connection and closes without a byte of answer. */
static void test_stale_connection_retried_once(void **state)
{
    struct srv *s = srv_start(h_drop_second);
    struct http_client *c = client_new(0);
    struct http_client_req req = get_req(s, "/a");
    struct http_client_call *call;

    (void)state;
    get_expect(c, s, "hello");
    get_expect(c, s, "hello"); /* dropped on conn 1, answered on conn 2 */
    assert_int_equal(s->n_conns, 2);
    assert_int_equal(s->n_requests, 3);

    /* POST is not idempotent: the same failure is the caller's */
    req.method = "POST";
    assert_int_equal(http_client_request(c, &req, &call), -ECONNRESET);
    assert_null(call);
    assert_int_equal(s->n_conns, 2);
    http_client_free(c);
    srv_stop(s);
}

/* The same race for a PUT with a buffer body: the server closes with the
 * body unread (a reset), the client still holds it and sends it again. */
static void test_stale_connection_put_retried(void **state)
{
    struct srv *s = srv_start(h_drop_second);
    struct http_client *c = client_new(0);
    struct http_client_req req = get_req(s, "/sda1/0/a/c/o");
    struct http_client_call *call;

    (void)state;
    req.method = "PUT";
    req.body = "abc";
    req.body_len = 3;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(http_client_request(c, &req, &call), 200);
        http_client_end(call);
    }
    assert_int_equal(s->n_conns, 2);
    assert_int_equal(s->body_bytes, 6);
    http_client_free(c);
    srv_stop(s);
}

static void test_continue_accepted_then_body_sent(void **state)
{
    struct srv *s = srv_start(h_continue);
    struct http_client *c = client_new(0);
    struct http_client_req req = get_req(s, "/sda1/0/a/c/o");
    struct http_client_call *call;

    (void)state;
    req.method = "PUT";
    req.body_mode = HTTP_CLIENT_BODY_LENGTH;
    req.content_length = 10;
    req.expect_continue = 1;
    assert_int_equal(http_client_start(c, &req, &call), 0);
    assert_int_equal(s->body_bytes, 0);
    assert_int_equal(http_client_wait_continue(call), 100);
    assert_int_equal(http_client_send(call, "01234", 5), 0);
    assert_int_equal(http_client_send(call, "56789", 5), 0);
    assert_int_equal(http_client_send(call, "x", 1), -EINVAL);
    http_client_end(call);

    /* a body shorter than declared cannot be ended */
    assert_int_equal(http_client_start(c, &req, &call), 0);
    assert_int_equal(http_client_wait_continue(call), 100);
    assert_int_equal(http_client_send(call, "01234", 5), 0);
    assert_int_equal(http_client_send_end(call), -EINVAL);
    assert_int_equal(http_client_response(call), -EINVAL);
    http_client_end(call);

    assert_int_equal(http_client_start(c, &req, &call), 0);
    assert_int_equal(http_client_wait_continue(call), 100);
    assert_int_equal(http_client_send(call, "0123456789", 10), 0);
    assert_int_equal(http_client_send_end(call), 0);
    assert_int_equal(http_client_response(call), 201);
    assert_string_equal(http_client_header(call, "ETag"),
                        "d41d8cd98f00b204e9800998ecf8427e");
    http_client_end(call);
    assert_non_null(strstr(s->last_head, "\r\nContent-Length: 10\r\n"));

    /* a buffer body waits for the 100 too */
    req.body_mode = HTTP_CLIENT_BODY_NONE;
    req.body = "abc";
    req.body_len = 3;
    assert_int_equal(http_client_request(c, &req, &call), 201);
    http_client_end(call);
    http_client_free(c);
    srv_stop(s);
}

static void test_continue_refused_body_never_sent(void **state)
{
    struct srv *s = srv_start(h_refuse);
    struct http_client *c = client_new(0);
    struct http_client_req req = get_req(s, "/sda1/0/a/c/o");
    struct http_client_call *call;
    char *body;
    size_t len;

    (void)state;
    req.method = "PUT";
    req.body_mode = HTTP_CLIENT_BODY_CHUNKED;
    req.expect_continue = 1;
    assert_int_equal(http_client_start(c, &req, &call), 0);
    assert_int_equal(http_client_wait_continue(call), 507);
    assert_int_equal(http_client_send(call, "data", 4), -EINVAL);
    assert_int_equal(http_client_response(call), 507);
    assert_int_equal(http_client_read_all(call, 100, &body, &len), 0);
    assert_string_equal(body, "no!");
    free(body);
    http_client_end(call);
    http_client_free(c);
    srv_stop(s);
}

static void test_continue_refused_counts_no_body(void **state)
{
    struct srv *s = srv_start(h_refuse);
    struct http_client *c = client_new(0);
    struct http_client_req req = get_req(s, "/sda1/0/a/c/o");
    struct http_client_call *call;

    (void)state;
    req.method = "PUT";
    req.body = "0123456789";
    req.body_len = 10;
    req.expect_continue = 1;
    assert_int_equal(http_client_request(c, &req, &call), 507);
    http_client_end(call); /* not pooled: the server wanted a body */
    usleep(400000);        /* the server counts for 300 ms */
    assert_int_equal(s->body_bytes, 0);
    http_client_free(c);
    srv_stop(s);
}

static void test_node_timeout_on_stalled_server(void **state)
{
    struct srv *s = srv_start(h_stall);
    struct http_client *c = client_new(200);
    struct http_client_req req = get_req(s, "/a");
    struct http_client_call *call;

    (void)state;
    assert_int_equal(http_client_request(c, &req, &call), -ETIMEDOUT);
    assert_null(call);

    /* a per-request node timeout overrides the client's */
    req.node_timeout_ms = 50;
    assert_int_equal(http_client_request(c, &req, &call), -ETIMEDOUT);
    http_client_free(c);
    srv_stop(s);
}

/* A port that was just free and has no listener. */
static unsigned int refused_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, len), 0);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

static void test_connect_refused(void **state)
{
    struct http_client *c = client_new(0);
    struct http_client_req req = {
        .host = "127.0.0.1", .method = "GET", .path = "/"};
    struct http_client_call *call;

    (void)state;
    req.port = refused_port();
    assert_int_equal(http_client_request(c, &req, &call), -ECONNREFUSED);
    assert_null(call);

    req.host = "localhost"; /* literals only: no DNS */
    assert_int_equal(http_client_start(c, &req, &call), -EINVAL);
    req.host = "127.0.0.1";
    req.path = "/a b"; /* unquoted */
    assert_int_equal(http_client_start(c, &req, &call), -EINVAL);
    req.path = "/a";
    req.headers = (struct http_header[]){{"content-length", "5"}};
    req.n_headers = 1; /* the framing is the client's */
    assert_int_equal(http_client_start(c, &req, &call), -EINVAL);
    req.headers = (struct http_header[]){{"X-Evil", "a\r\nX-Injected: 1"}};
    assert_int_equal(http_client_start(c, &req, &call), -EINVAL);
    http_client_free(c);
}

/* A listener that never accepts, its queue full: SYNs go unanswered, as
 * with a host that is down. fds[0] is the listener, the rest fill it. */
#define BLACKHOLE_FDS 9
static unsigned int blackhole_open(int *fds)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof(a);

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fds[0] = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(bind(fds[0], (struct sockaddr *)&a, len), 0);
    assert_int_equal(listen(fds[0], 0), 0);
    getsockname(fds[0], (struct sockaddr *)&a, &len);
    for (int i = 1; i < BLACKHOLE_FDS; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fds[i], (struct sockaddr *)&a, len);
    }
    return ntohs(a.sin_port);
}

static void blackhole_close(int *fds)
{
    for (int i = 0; i < BLACKHOLE_FDS; i++)
        close(fds[i]);
}

static void test_connect_timeout(void **state)
{
    int fds[BLACKHOLE_FDS];
    struct http_client_conf conf = {.conn_timeout_ms = 100};
    struct http_client *c;
    struct http_client_req req = {
        .host = "127.0.0.1", .method = "GET", .path = "/"};
    struct http_client_call *call;
    int64_t t0;
    int err;

    (void)state;
    req.port = blackhole_open(fds);
    assert_int_equal(http_client_new(&conf, &c), 0);
    t0 = now_ms();
    err = http_client_request(c, &req, &call);
    assert_int_equal(err, -ETIMEDOUT);
    assert_true(now_ms() - t0 >= 90 && now_ms() - t0 < 1000);
    http_client_free(c);
    blackhole_close(fds);
}

/* The proxy's start: peers connected at once, so dead ones cost one
 * connect timeout in all, not one each. */
static void test_start_multi_connects_in_parallel(void **state)
{
    struct srv *s = srv_start(h_hello);
    int fds[BLACKHOLE_FDS];
    struct http_client_conf conf = {.conn_timeout_ms = 200};
    struct http_client *c;
    struct http_client_req reqs[4];
    struct http_client_call *calls[4];
    int errs[4];
    int64_t t0, took;

    (void)state;
    reqs[0] = get_req(s, "/a");
    reqs[1] = reqs[0];
    reqs[1].port = blackhole_open(fds);
    reqs[2] = reqs[0];
    reqs[2].port = refused_port();
    reqs[3] = reqs[1];
    assert_int_equal(http_client_new(&conf, &c), 0);
    t0 = now_ms();
    assert_int_equal(http_client_start_multi(c, reqs, 4, calls, errs), 1);
    took = now_ms() - t0;
    assert_true(took >= 190 && took < 390);
    assert_int_equal(errs[0], 0);
    assert_int_equal(errs[1], -ETIMEDOUT);
    assert_int_equal(errs[2], -ECONNREFUSED);
    assert_int_equal(errs[3], -ETIMEDOUT);
    assert_null(calls[1]);
    assert_int_equal(http_client_response(calls[0]), 200);
    http_client_end(calls[0]);
    http_client_free(c);
    blackhole_close(fds);
    srv_stop(s);
}

/* At most max_idle_per_peer idle connections are kept per peer. */
static void test_idle_cap_per_peer(void **state)
{
    struct srv *s = srv_start(h_hello);
    struct http_client_conf conf = {.max_idle_per_peer = 1};
    struct http_client *c;
    struct http_client_req req = get_req(s, "/a");
    struct http_client_call *calls[2];
    char *body;
    size_t len;

    (void)state;
    assert_int_equal(http_client_new(&conf, &c), 0);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 2; i++)
            assert_int_equal(http_client_request(c, &req, &calls[i]), 200);
        for (int i = 0; i < 2; i++) {
            assert_int_equal(http_client_read_all(calls[i], 10, &body, &len),
                             0);
            free(body);
            http_client_end(calls[i]);
        }
    }
    /* round 1: two new; round 2: one pooled, one new */
    assert_int_equal(s->n_conns, 3);
    http_client_free(c);
    srv_stop(s);
}

static void expect_raw(const char *response, int want)
{
    struct srv *s = srv_start(h_raw);
    struct http_client *c = client_new(1000);
    struct http_client_req req = get_req(s, "/a");
    struct http_client_call *call;

    raw_response = response;
    assert_int_equal(http_client_request(c, &req, &call), want);
    if (want > 0) {
        char *body;
        size_t len;

        /* a body the parser wrongly expected would time out here */
        assert_int_equal(http_client_read_all(call, 100, &body, &len), 0);
        assert_string_equal(body, "");
        free(body);
    }
    http_client_end(call);
    http_client_free(c);
    srv_stop(s);
}

static void test_malformed_status_line(void **state)
{
    (void)state;
    expect_raw("HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n", -EPROTO);
    expect_raw("SMTP ready\r\n\r\n", -EPROTO);
    expect_raw("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", -EPROTO);
    expect_raw("HTTP/1.1 099 Low\r\n\r\n", -EPROTO);
    expect_raw("HTTP/1.1 101 Switching Protocols\r\n\r\n", -EPROTO);
    /* both framings at once: a response-splitting attempt */
    expect_raw("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
               "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
               -EPROTO);
}

/* Trailers are read and dropped; the headers stay as they were. */
static void test_chunked_trailers_dropped(void **state)
{
    struct srv *s = srv_start(h_raw);
    struct http_client *c = client_new(1000);
    struct http_client_req req = get_req(s, "/a");
    struct http_client_call *call;
    const char *etag;
    char *body;
    size_t len;

    (void)state;
    raw_response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                   "Etag: abc\r\n\r\n3\r\nxyz\r\n0\r\n"
                   "X-Trailer: t\r\nEtag: def\r\n\r\n";
    assert_int_equal(http_client_request(c, &req, &call), 200);
    etag = http_client_header(call, "ETag");
    assert_int_equal(http_client_read_all(call, 100, &body, &len), 0);
    assert_string_equal(body, "xyz");
    assert_string_equal(etag, "abc");
    assert_null(http_client_header(call, "X-Trailer"));
    free(body);
    http_client_end(call);
    get_expect(c, s, "xyz");
    assert_int_equal(s->n_conns, 1);
    http_client_free(c);
    srv_stop(s);
}

/* An endless stream of 1xx responses is not a response. */
static void test_interim_flood_rejected(void **state)
{
    char *r = malloc(4096);

    (void)state;
    r[0] = '\0';
    for (int i = 0; i < 17; i++)
        strcat(r, "HTTP/1.1 100 Continue\r\n\r\n");
    strcat(r, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    expect_raw(r, -EPROTO);
    free(r);
}

/* A 200 with 'count' headers "X-H<i>: v". */
static char *many_headers(int count)
{
    size_t cap = 1 << 20, len;
    char *p = malloc(cap);

    len = sprintf(p, "HTTP/1.1 200 OK\r\n");
    for (int i = 0; i < count; i++)
        len += sprintf(p + len, "X-H%d: v\r\n", i);
    sprintf(p + len, "Content-Length: 0\r\n\r\n");
    return p;
}

static void test_oversized_headers_rejected(void **state)
{
    char *r, *line;

    (void)state;
    /* 70 KiB in total, in lines of 1 KiB */
    line = malloc(2000);
    memset(line, 'v', 1000);
    strcpy(line + 1000, "\r\n");
    r = malloc(1 << 20);
    strcpy(r, "HTTP/1.1 200 OK\r\n");
    for (int i = 0; i < 70; i++)
        sprintf(r + strlen(r), "X-H%d: %s", i, line);
    strcat(r, "Content-Length: 0\r\n\r\n");
    expect_raw(r, -EMSGSIZE);
    free(r);
    free(line);

    /* too many headers */
    r = many_headers(HTTP_CLIENT_MAX_HEADERS + 1);
    expect_raw(r, -EMSGSIZE);
    free(r);
    r = many_headers(HTTP_CLIENT_MAX_HEADERS - 1);
    expect_raw(r, 200);
    free(r);

    /* one line over the line limit */
    r = malloc(HTTP_CLIENT_MAX_LINE + 100);
    strcpy(r, "HTTP/1.1 200 OK\r\nX-Long: ");
    memset(r + strlen(r), 'v', HTTP_CLIENT_MAX_LINE);
    r[25 + HTTP_CLIENT_MAX_LINE] = '\0';
    strcat(r, "\r\n\r\n");
    expect_raw(r, -EMSGSIZE);
    free(r);
}

static void test_head_has_no_body(void **state)
{
    struct srv *s = srv_start(h_raw);
    struct http_client *c = client_new(1000);
    struct http_client_req req = get_req(s, "/a");
    struct http_client_call *call;
    const void *data;
    size_t len;

    (void)state;
    raw_response = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n"
                   "X-Object-Meta-A: b\r\n\r\n";
    req.method = "HEAD";
    for (int i = 0; i < 2; i++) {
        assert_int_equal(http_client_request(c, &req, &call), 200);
        assert_string_equal(http_client_header(call, "Content-Length"), "1000");
        assert_int_equal(http_client_read(call, &data, &len), 0);
        assert_int_equal(len, 0);
        http_client_end(call);
    }
    assert_int_equal(s->n_conns, 1);
    http_client_free(c);
    srv_stop(s);
}

static void test_no_body_statuses_and_interim(void **state)
{
    (void)state;
    /* 204 and 304 carry no body even with a Content-Length (Swift's 304
     * names the object's length); a following response proves the parser
     * expected none */
    expect_raw("HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n", 204);
    expect_raw("HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n", 304);
    expect_raw("HTTP/1.1 102 Processing\r\n\r\n"
               "HTTP/1.1 100 Continue\r\n\r\n"
               "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
               404);
}

static void test_body_until_close_not_pooled(void **state)
{
    struct srv *s = srv_start(h_raw_close);
    struct http_client *c = client_new(1000);

    (void)state;
    raw_response = "HTTP/1.1 200 OK\r\n\r\nuntil close";
    get_expect(c, s, "until close");
    raw_response = "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok";
    get_expect(c, s, "ok");
    raw_response = "HTTP/1.1 200 OK\r\nConnection: close\r\n"
                   "Content-Length: 2\r\n\r\nok";
    get_expect(c, s, "ok");
    assert_int_equal(s->n_conns, 3);

    /* cut short: the declared length never arrives */
    raw_response = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort";
    {
        struct http_client_req req = get_req(s, "/a");
        struct http_client_call *call;
        char *body;
        size_t len;

        assert_int_equal(http_client_request(c, &req, &call), 200);
        assert_int_equal(http_client_read_all(call, 100, &body, &len),
                         -ECONNRESET);
        http_client_end(call);
    }
    http_client_free(c);
    srv_stop(s);
}

static void test_ipv6_literal(void **state)
{
    struct srv *s = srv_start_on("::1", h_hello);
    struct http_client *c;
    struct http_client_req req;
    struct http_client_call *call;

    (void)state;
    if (!s)
        skip(); /* no IPv6 loopback here */
    c = client_new(0);
    req = get_req(s, "/a");
    req.host = "::1";
    assert_int_equal(http_client_request(c, &req, &call), 200);
    http_client_end(call);
    assert_non_null(strstr(s->last_head, "\r\nHost: [::1]:"));
    http_client_free(c);
    srv_stop(s);
}

static long max_rss_kib(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* 64 MiB in 64 KiB chunks, by Content-Length then chunked: memory grows by
 * far less than the body. */
static void test_stream_64mib_bounded_memory(void **state)
{
    const size_t total = 64 << 20, chunk = 64 << 10;
    struct srv *s = srv_start(h_continue);
    struct http_client *c = client_new(0);
    struct http_client_req req = get_req(s, "/sda1/0/a/c/big");
    struct http_client_call *call;
    char *buf = malloc(chunk);
    long before;

    (void)state;
    memset(buf, 'k', chunk);
    req.method = "PUT";
    req.body = "x";
    req.body_len = 1;
    assert_int_equal(http_client_request(c, &req, &call), 201);
    http_client_end(call);
    req.body = NULL;
    req.body_len = 0;
    before = max_rss_kib();
    req.expect_continue = 1;
    for (int mode = 0; mode < 2; mode++) {
        req.body_mode =
            mode ? HTTP_CLIENT_BODY_CHUNKED : HTTP_CLIENT_BODY_LENGTH;
        req.content_length = total;
        s->body_bytes = 0;
        assert_int_equal(http_client_start(c, &req, &call), 0);
        assert_int_equal(http_client_wait_continue(call), 100);
        for (size_t sent = 0; sent < total; sent += chunk)
            assert_int_equal(http_client_send(call, buf, chunk), 0);
        assert_int_equal(http_client_send_end(call), 0);
        assert_int_equal(http_client_response(call), 201);
        http_client_end(call);
        assert_int_equal(s->body_bytes, total);
    }
    assert_int_equal(s->n_conns, 1);
    assert_true(max_rss_kib() - before < 16 * 1024);
    free(buf);
    http_client_free(c);
    srv_stop(s);
}

/* The proxy's write: one thread, three object servers, one of which stops
 * reading mid-body; the other two finish within the node timeout, the
 * dropped one's NULL slot skipped (it crashed the proxy once). */
static void test_send_multi_three_replicas(void **state)
{
    const size_t total = 48 << 20, chunk = 64 << 10;
    struct srv *srvs[3] = {srv_start(h_continue), srv_start(h_stall_mid_body),
                           srv_start(h_continue)};
    struct http_client *c = client_new(300);
    struct http_client_req reqs[3];
    struct http_client_call *calls[3];
    char *buf = malloc(chunk);
    int errs[3], failed_err = 0;
    size_t live = 3;

    (void)state;
    memset(buf, 'r', chunk);
    for (int i = 0; i < 3; i++) {
        reqs[i] = get_req(srvs[i], "/sda1/0/a/c/o");
        reqs[i].method = "PUT";
        reqs[i].body_mode = HTTP_CLIENT_BODY_LENGTH;
        reqs[i].content_length = total;
        reqs[i].expect_continue = 1;
    }
    assert_int_equal(http_client_start_multi(c, reqs, 3, calls, errs), 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(http_client_wait_continue(calls[i]), 100);
    for (size_t sent = 0; sent < total && live >= 2; sent += chunk) {
        live = http_client_send_multi(calls, 3, buf, chunk, errs);
        if (calls[1] && errs[1]) {
            failed_err = errs[1];
            assert_int_equal(http_client_send_end(calls[1]), -ETIMEDOUT);
            assert_int_equal(http_client_response(calls[1]), -ETIMEDOUT);
            /* as the proxy does: the failed replica is dropped, and the
             * NULL in its slot is skipped from then on */
            http_client_end(calls[1]);
            calls[1] = NULL;
        } else if (!calls[1]) {
            assert_int_equal(live, 2);
            assert_int_equal(errs[1], 0);
        }
        assert_int_equal(errs[0], 0);
        assert_int_equal(errs[2], 0);
    }
    assert_int_equal(live, 2);
    assert_int_equal(failed_err, -ETIMEDOUT);
    assert_null(calls[1]);
    assert_int_equal(http_client_send_end(calls[0]), 0);
    assert_int_equal(http_client_send_end(calls[2]), 0);
    assert_int_equal(http_client_response(calls[0]), 201);
    assert_int_equal(http_client_response(calls[2]), 201);
    http_client_end(calls[0]);
    http_client_end(calls[2]);
    assert_int_equal(srvs[0]->body_bytes, total);
    assert_int_equal(srvs[2]->body_bytes, total);
    free(buf);
    http_client_free(c);
    for (int i = 0; i < 3; i++)
        srv_stop(srvs[i]);
}

/* A piece made of several buffers is one chunk, and with 'end' the last
 * chunk follows in the same write: what the proxy sends a small object
 * as. In length mode 'end' needs the declared length complete. */
static void test_sendv_multi_joins_parts_and_end(void **state)
{
    struct srv *s = srv_start(h_continue_raw);
    struct http_client *c = client_new(0);
    struct http_client_req req = get_req(s, "/sda1/0/a/c/o");
    struct http_client_call *call;
    struct iovec parts[3] = {{"ab", 2}, {"", 0}, {"cde", 3}};
    int err;

    (void)state;
    req.method = "PUT";
    req.body_mode = HTTP_CLIENT_BODY_CHUNKED;
    req.expect_continue = 1;
    assert_int_equal(http_client_start(c, &req, &call), 0);
    assert_int_equal(http_client_wait_continue(call), 100);
    assert_int_equal(http_client_sendv_multi(&call, 1, parts, 2, false, &err),
                     1);
    assert_int_equal(err, 0);
    assert_int_equal(http_client_sendv_multi(&call, 1, parts + 1, 2, true, &err),
                     1);
    assert_int_equal(err, 0);
    assert_int_equal(http_client_response(call), 201);
    assert_string_equal(s->raw, "2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n");
    http_client_end(call);

    /* nothing but the end: the last chunk alone */
    assert_int_equal(http_client_start(c, &req, &call), 0);
    assert_int_equal(http_client_wait_continue(call), 100);
    assert_int_equal(http_client_sendv_multi(&call, 1, parts + 1, 1, true, &err),
                     1);
    assert_int_equal(http_client_response(call), 201);
    assert_string_equal(s->raw, "0\r\n\r\n");
    http_client_end(call);
    http_client_free(c);
    srv_stop(s);

    s = srv_start(h_continue);
    c = client_new(0);
    req = get_req(s, "/sda1/0/a/c/o");
    req.method = "PUT";
    req.body_mode = HTTP_CLIENT_BODY_LENGTH;
    req.content_length = 5;
    req.expect_continue = 1;
    /* an end before the declared length is an error, not a short body */
    assert_int_equal(http_client_start(c, &req, &call), 0);
    assert_int_equal(http_client_wait_continue(call), 100);
    assert_int_equal(http_client_sendv_multi(&call, 1, parts, 1, true, &err),
                     0);
    assert_int_equal(err, -EINVAL);
    http_client_end(call);
    assert_int_equal(http_client_start(c, &req, &call), 0);
    assert_int_equal(http_client_wait_continue(call), 100);
    assert_int_equal(http_client_sendv_multi(&call, 1, parts, 3, true, &err),
                     1);
    assert_int_equal(http_client_response(call), 201);
    http_client_end(call);
    assert_int_equal(s->body_bytes, 5);
    http_client_free(c);
    srv_stop(s);
}

/* A server that answers before the body is all sent stops the upload
 * with its status, not a timeout. */
static void test_early_answer_mid_body(void **state)
{
    const size_t total = 48 << 20, chunk = 64 << 10;
    struct srv *s = srv_start(h_answer_mid_body);
    struct http_client *c = client_new(5000);
    struct http_client_req req = get_req(s, "/sda1/0/a/c/o");
    struct http_client_call *call;
    char *buf = calloc(1, chunk), *body;
    size_t sent = 0, len;
    int err = 0;

    (void)state;
    req.method = "PUT";
    req.body_mode = HTTP_CLIENT_BODY_CHUNKED;
    assert_int_equal(http_client_start(c, &req, &call), 0);
    for (; sent < total && !err; sent += chunk)
        err = http_client_send(call, buf, chunk);
    assert_int_equal(err, -ECONNABORTED);
    assert_true(sent < total);
    assert_int_equal(http_client_send_end(call), -ECONNABORTED);
    assert_int_equal(http_client_response(call), 413);
    assert_int_equal(http_client_read_all(call, 100, &body, &len), 0);
    assert_string_equal(body, "big!");
    free(body);
    http_client_end(call);
    free(buf);
    http_client_free(c);
    srv_stop(s);
}

struct worker {
    struct http_client *c;
    struct srv *s;
    int ok;
};

static void *worker_main(void *p)
{
    struct worker *w = p;

    for (int i = 0; i < 200; i++) {
        struct http_client_req req = get_req(w->s, "/a");
        struct http_client_call *call;
        char *body;
        size_t len;

        if (http_client_request(w->c, &req, &call) == 200 &&
            !http_client_read_all(call, 100, &body, &len)) {
            w->ok += !strcmp(body, "hello");
            free(body);
        }
        http_client_end(call);
    }
    return NULL;
}

/* Threads share one client; each holds at most one connection, so the
 * pool never needs more than one per thread. */
static void test_threads_share_pool(void **state)
{
    struct srv *s = srv_start(h_hello);
    struct http_client *c = client_new(0);
    struct worker w[8];
    pthread_t t[8];

    (void)state;
    for (int i = 0; i < 8; i++) {
        w[i] = (struct worker){.c = c, .s = s};
        pthread_create(&t[i], NULL, worker_main, &w[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].ok, 200);
    }
    assert_true(s->n_conns <= 8);
    http_client_free(c);
    srv_stop(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_content_length),
        cmocka_unit_test(test_chunked_response),
        cmocka_unit_test(test_keep_alive_reuses_connection),
        cmocka_unit_test(test_unread_body_closes_connection),
        cmocka_unit_test(test_idle_close_then_next_request_succeeds),
        cmocka_unit_test(test_stale_connection_retried_once),
        cmocka_unit_test(test_stale_connection_put_retried),
        cmocka_unit_test(test_continue_accepted_then_body_sent),
        cmocka_unit_test(test_continue_refused_body_never_sent),
        cmocka_unit_test(test_continue_refused_counts_no_body),
        cmocka_unit_test(test_node_timeout_on_stalled_server),
        cmocka_unit_test(test_connect_refused),
        cmocka_unit_test(test_connect_timeout),
        cmocka_unit_test(test_start_multi_connects_in_parallel),
        cmocka_unit_test(test_idle_cap_per_peer),
        cmocka_unit_test(test_malformed_status_line),
        cmocka_unit_test(test_oversized_headers_rejected),
        cmocka_unit_test(test_chunked_trailers_dropped),
        cmocka_unit_test(test_interim_flood_rejected),
        cmocka_unit_test(test_head_has_no_body),
        cmocka_unit_test(test_no_body_statuses_and_interim),
        cmocka_unit_test(test_body_until_close_not_pooled),
        cmocka_unit_test(test_ipv6_literal),
        cmocka_unit_test(test_stream_64mib_bounded_memory),
        cmocka_unit_test(test_send_multi_three_replicas),
        cmocka_unit_test(test_sendv_multi_joins_parts_and_end),
        cmocka_unit_test(test_early_answer_mid_body),
        cmocka_unit_test(test_threads_share_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
