/* Description: the HTTP glue for real: a server on 127.0.0.1 and a raw
 * socket client. GET with query and headers, Content-Length and chunked
 * PUTs, Expect: 100-continue accepted and refused early, strict path
 * decoding, streamed and HEAD responses, limits, keep-alive, a client
 * that hangs up mid-upload. The same server code on connections scripted
 * in memory (http_server_serve_mem()): pipelined requests read a byte at
 * a time, and heads the fuzzer found wrong (folded lines, spaces in
 * names). */
#include "common/http_server.h"

#include "common/conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* ---- what the handler saw, shared with the test thread ---- */

struct seen {
    char method[16], raw_path[256], path[256], query[256];
    char param_prefix[64], param_x[16], param_empty[16], custom[64];
    char txn[80];
    char done_path[256]; /* req_path() in on_done */
    int has_empty, has_missing;
    int64_t content_length;
    int chunked;
    uint64_t body_len, body_sum;
    size_t max_piece;
    char body_head[64];
    int headers_calls, body_calls, end_calls, done_calls, done_ok;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static struct seen seen;
static struct http_server *srv;

static void copy(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "(null)");
}

static int on_headers(struct request *req, void *arg)
{
    const char *path = req_raw_path(req);

    (void)arg;
    pthread_mutex_lock(&lock);
    seen.headers_calls++;
    copy(seen.method, sizeof(seen.method), req_method(req));
    copy(seen.raw_path, sizeof(seen.raw_path), path);
    copy(seen.path, sizeof(seen.path), req_path(req));
    copy(seen.query, sizeof(seen.query), req_raw_query(req));
    copy(seen.param_prefix, sizeof(seen.param_prefix),
         req_param(req, "prefix"));
    copy(seen.param_x, sizeof(seen.param_x), req_param(req, "x"));
    copy(seen.param_empty, sizeof(seen.param_empty), req_param(req, "empty"));
    seen.has_missing = req_param(req, "missing") != NULL;
    copy(seen.custom, sizeof(seen.custom), req_header(req, "x-CUSTOM-header"));
    copy(seen.txn, sizeof(seen.txn), req_txn(req));
    seen.content_length = req_content_length(req);
    seen.chunked = req_chunked(req);
    pthread_mutex_unlock(&lock);

    if (!strcmp(path, "/reject"))
        return req_respond_error(req, 413);
    if (!strcmp(path, "/fail"))
        return -EIO;
    return 0;
}

static int on_body(struct request *req, const char *data, size_t len, void *arg)
{
    size_t i, head;

    (void)arg;
    pthread_mutex_lock(&lock);
    seen.body_calls++;
    head = seen.body_len < sizeof(seen.body_head) - 1
               ? sizeof(seen.body_head) - 1 - seen.body_len
               : 0;
    memcpy(seen.body_head + seen.body_len, data, len < head ? len : head);
    for (i = 0; i < len; i++)
        seen.body_sum += (unsigned char)data[i];
    seen.body_len += len;
    if (len > seen.max_piece)
        seen.max_piece = len;
    pthread_mutex_unlock(&lock);
    if (!strcmp(req_raw_path(req), "/full"))
        return req_respond_error(req, 507); /* mid-body, like ENOSPC */
    return 0;
}

/* A pattern body: byte i is i % 251. */
static ssize_t pattern_read(void *arg, uint64_t pos, char *buf, size_t max)
{
    uint64_t size = *(uint64_t *)arg, i;

    if (pos >= size)
        return 0;
    if (max > size - pos)
        max = (size_t)(size - pos);
    for (i = 0; i < max; i++)
        buf[i] = (char)((pos + i) % 251);
    return (ssize_t)max;
}

static int on_end(struct request *req, void *arg)
{
    const char *path = req_raw_path(req);
    char body[128];
    int n;

    (void)arg;
    pthread_mutex_lock(&lock);
    seen.end_calls++;
    pthread_mutex_unlock(&lock);
    if (!strcmp(path, "/stream")) {
        uint64_t *size = malloc(sizeof(*size));

        if (!size)
            return -ENOMEM;
        *size = 300000;
        return req_respond_stream(req, 200, *size, pattern_read, size, free);
    }
    if (!strcmp(path, "/slow")) {
        struct timespec t = {0, 300 * 1000 * 1000};

        nanosleep(&t, NULL); /* an fsync that takes its time */
    }
    if (!strcmp(path, "/silent"))
        return 0; /* forgets to respond */
    assert_int_equal(req_add_header(req, "X-Bad", "a\r\nInjected: 1"), -EINVAL);
    assert_int_equal(req_add_header(req, "Content-Length", "1"), -EINVAL);
    assert_int_equal(req_add_header(req, "X-Empty", ""), 0); /* sent as " " */
    if ((*req_txn(req) && req_add_header(req, "X-Trans-Id", req_txn(req))) ||
        req_add_header(req, "Content-Type", "text/plain"))
        return -ENOMEM;
    n = snprintf(body, sizeof(body), "%s %llu", req_method(req),
                 (unsigned long long)req_bytes_received(req));
    return req_respond(req, strcmp(req_method(req), "PUT") ? 200 : 201, body,
                       (size_t)n);
}

static void on_done(struct request *req, bool ok, void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    copy(seen.done_path, sizeof(seen.done_path), req_path(req));
    seen.done_calls++;
    seen.done_ok = ok;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
}

/* Waits for the n-th on_done since the last reset; returns the seen. */
static struct seen wait_done(int n)
{
    struct timespec deadline;
    struct seen copy_;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    pthread_mutex_lock(&lock);
    while (seen.done_calls < n)
        if (pthread_cond_timedwait(&cond, &lock, &deadline))
            break;
    copy_ = seen;
    pthread_mutex_unlock(&lock);
    assert_int_equal(copy_.done_calls, n);
    return copy_;
}

static void reset(void)
{
    pthread_mutex_lock(&lock);
    memset(&seen, 0, sizeof(seen));
    pthread_mutex_unlock(&lock);
}

/* ---- a raw client ---- */

static int connect_server(void)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    struct timeval tv = {10, 0};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    sin.sin_port = htons((uint16_t)http_server_port(srv));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

static void send_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

        assert_true(n > 0);
        p += n;
        len -= (size_t)n;
    }
}

static void send_str(int fd, const char *s)
{
    send_all(fd, s, strlen(s));
}

struct response {
    int status;
    char head[16384]; /* status line and headers */
    char *body;
    size_t body_len;
    long content_length;
};

static char inbuf[1 << 20];
static size_t inlen;

/* Reads until 'inbuf' holds n bytes or EOF; returns whether it does. */
static int fill(int fd, size_t n)
{
    while (inlen < n) {
        ssize_t r = recv(fd, inbuf + inlen, sizeof(inbuf) - inlen, 0);

        if (r <= 0)
            return 0;
        inlen += (size_t)r;
    }
    return 1;
}

static void consume(size_t n)
{
    memmove(inbuf, inbuf + n, inlen - n);
    inlen -= n;
}

/* Reads one response; with 'head_only' no body follows (HEAD, 100). */
static void read_response(int fd, struct response *r, int head_only)
{
    char *end = NULL, *cl;
    size_t head_len;

    free(r->body);
    memset(r, 0, sizeof(*r));
    for (;;) {
        inbuf[inlen] = '\0';
        end = strstr(inbuf, "\r\n\r\n");
        if (end || !fill(fd, inlen + 1))
            break;
    }
    assert_non_null(end);
    head_len = (size_t)(end - inbuf) + 4;
    assert_true(head_len < sizeof(r->head));
    memcpy(r->head, inbuf, head_len);
    r->head[head_len] = '\0';
    consume(head_len);
    assert_int_equal(sscanf(r->head, "HTTP/1.1 %d", &r->status), 1);
    cl = strcasestr(r->head, "\r\nContent-Length: ");
    r->content_length = cl ? atol(cl + 18) : -1;
    if (head_only || r->status == 100)
        return;
    assert_true(r->content_length >= 0);
    assert_true(fill(fd, (size_t)r->content_length));
    r->body = malloc((size_t)r->content_length + 1);
    assert_non_null(r->body);
    memcpy(r->body, inbuf, (size_t)r->content_length);
    r->body[r->content_length] = '\0';
    r->body_len = (size_t)r->content_length;
    consume(r->body_len);
}

/* Sends one request on a new connection and reads the response. */
static void exchange(const char *request, struct response *r, int head_only)
{
    int fd = connect_server();

    inlen = 0;
    send_str(fd, request);
    read_response(fd, r, head_only);
    close(fd);
}

static int at_eof(int fd)
{
    char c;

    return inlen == 0 && recv(fd, &c, 1, 0) == 0;
}

/* ---- tests ---- */

static void test_get_with_query_and_headers(void **state)
{
    struct response r = {0};
    struct seen s;

    (void)state;
    reset();
    exchange("GET /v1/AUTH_test/c/o?format=json&prefix=a+b%2Fc%C3%A9&empty"
             "&x=1&x=2 HTTP/1.1\r\n"
             "Host: localhost\r\n"
             "X-Custom-Header: some value\r\n"
             "X-Trans-Id: tx0123456789abcdef01234-0065a1b2c3\r\n"
             "Connection: close\r\n\r\n",
             &r, 0);
    s = wait_done(1);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "GET 0");
    assert_non_null(strstr(r.head, "\r\nContent-Type: text/plain\r\n"));
    assert_non_null(strstr(
        r.head, "\r\nX-Trans-Id: tx0123456789abcdef01234-0065a1b2c3\r\n"));
    assert_string_equal(s.method, "GET");
    assert_string_equal(s.raw_path, "/v1/AUTH_test/c/o");
    assert_string_equal(s.path, "/v1/AUTH_test/c/o");
    assert_string_equal(s.query,
                        "format=json&prefix=a+b%2Fc%C3%A9&empty&x=1&x=2");
    assert_string_equal(s.param_prefix, "a b/c\xc3\xa9");
    assert_string_equal(s.param_x, "2"); /* the last one wins */
    assert_string_equal(s.param_empty, "");
    assert_false(s.has_missing);
    assert_string_equal(s.custom, "some value");
    assert_string_equal(s.txn, "tx0123456789abcdef01234-0065a1b2c3");
    assert_int_equal(s.content_length, -1);
    assert_false(s.chunked);
    assert_int_equal(s.body_calls, 0);
    assert_true(s.done_ok);
    free(r.body);
}

static void test_put_with_content_length(void **state)
{
    static char body[600000];
    struct response r = {0};
    uint64_t sum = 0;
    char head[256];
    struct seen s;
    size_t i;
    int fd;

    (void)state;
    reset();
    for (i = 0; i < sizeof(body); i++) {
        body[i] = (char)(i % 251);
        sum += (unsigned char)body[i];
    }
    snprintf(head, sizeof(head),
             "PUT /d1/1/a/c/o HTTP/1.1\r\nHost: x\r\n"
             "Content-Length: %zu\r\n\r\n",
             sizeof(body));
    fd = connect_server();
    inlen = 0;
    send_str(fd, head);
    send_all(fd, body, sizeof(body));
    read_response(fd, &r, 0);
    close(fd);
    s = wait_done(1);
    assert_int_equal(r.status, 201);
    assert_string_equal(r.body, "PUT 600000");
    assert_int_equal(s.content_length, 600000);
    assert_false(s.chunked);
    assert_int_equal(s.body_len, sizeof(body));
    assert_true(s.body_sum == sum);
    assert_true(s.body_calls > 1); /* delivered in pieces */
    assert_true(s.max_piece <= HTTP_SERVER_BODY_PIECE_MAX);
    assert_int_equal(s.end_calls, 1);
    free(r.body);
}

static void test_chunked_put(void **state)
{
    struct response r = {0};
    struct seen s;

    (void)state;
    reset();
    exchange("PUT /d1/1/a/c/o HTTP/1.1\r\nHost: x\r\n"
             "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
             "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
             &r, 0);
    s = wait_done(1);
    assert_int_equal(r.status, 201);
    assert_string_equal(r.body, "PUT 11");
    assert_true(s.chunked);
    assert_int_equal(s.content_length, -1);
    assert_string_equal(s.body_head, "hello world");
    free(r.body);
}

static void test_expect_100_continue_accepted(void **state)
{
    struct response r = {0};
    int fd = connect_server();

    (void)state;
    reset();
    inlen = 0;
    send_str(fd, "PUT /d1/1/a/c/o HTTP/1.1\r\nHost: x\r\n"
                 "Content-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    read_response(fd, &r, 1);
    assert_int_equal(r.status, 100);
    send_str(fd, "data");
    read_response(fd, &r, 0);
    assert_int_equal(r.status, 201);
    assert_string_equal(r.body, "PUT 4");
    close(fd);
    wait_done(1);
    free(r.body);
}

static void test_expect_100_continue_refused_early(void **state)
{
    struct response r = {0};
    struct seen s;
    int fd = connect_server();

    (void)state;
    reset();
    inlen = 0;
    /* the body is never sent: the answer must come without it */
    send_str(fd, "PUT /reject HTTP/1.1\r\nHost: x\r\n"
                 "Content-Length: 10000000000\r\nExpect: 100-continue\r\n\r\n");
    read_response(fd, &r, 0);
    assert_int_equal(r.status, 413);
    /* Swift's words for a 413 */
    assert_string_equal(r.body,
                        "<html><h1>Request Entity Too Large</h1><p>The body "
                        "of your request was too large for this "
                        "server.</p></html>");
    assert_non_null(
        strstr(r.head, "\r\nContent-Type: text/html; charset=UTF-8\r\n"));
    assert_true(at_eof(fd)); /* and the connection is closed */
    close(fd);
    s = wait_done(1);
    assert_int_equal(s.body_calls, 0);
    assert_int_equal(s.end_calls, 0);
    assert_int_equal(s.content_length, 10000000000LL);
    free(r.body);
}

static void test_paths_are_decoded_strictly(void **state)
{
    static const char *const bad[] = {
        "GET /a%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET /a%2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET /a%00b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET /a?b=%g0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET a/b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    };
    struct response r = {0};
    struct seen s;
    size_t i;

    (void)state;
    reset();
    exchange("GET /d1/1/a/c/o%2Fx%20y+z HTTP/1.1\r\nHost: x\r\n"
             "Connection: close\r\n\r\n",
             &r, 0);
    s = wait_done(1);
    assert_int_equal(r.status, 200);
    assert_string_equal(s.raw_path, "/d1/1/a/c/o%2Fx%20y+z");
    assert_string_equal(s.path, "/d1/1/a/c/o/x y+z");
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        reset();
        exchange(bad[i], &r, 0);
        assert_int_equal(r.status, 400);
        assert_non_null(strstr(r.body, "<h1>Bad Request</h1>"));
        s = wait_done(1);
        assert_int_equal(s.headers_calls, 0); /* the handler never saw it */
    }
    free(r.body);
}

static void test_stream_and_head(void **state)
{
    struct response r = {0};
    size_t i;

    (void)state;
    reset();
    exchange("GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &r,
             0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 300000);
    for (i = 0; i < r.body_len; i++)
        if ((unsigned char)r.body[i] != i % 251)
            fail_msg("byte %zu is %d", i, r.body[i]);
    wait_done(1);

    reset();
    exchange("HEAD /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
             &r, 1);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.content_length, 300000);
    assert_int_equal(inlen, 0); /* no body after the headers */
    wait_done(1);
    free(r.body);
}

static void test_handler_failures_are_500(void **state)
{
    struct response r = {0};

    (void)state;
    reset();
    exchange("GET /fail HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &r,
             0);
    assert_int_equal(r.status, 500);
    wait_done(1);
    reset();
    exchange("GET /silent HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &r,
             0);
    assert_int_equal(r.status, 500);
    wait_done(1);
    free(r.body);
}

static void test_response_mid_body(void **state)
{
    static char body[HTTP_SERVER_BODY_PIECE_MAX * 3];
    struct response r = {0};
    char head[128];
    struct seen s;
    int fd = connect_server();

    (void)state;
    reset();
    inlen = 0;
    memset(body, 'x', sizeof(body));
    snprintf(head, sizeof(head),
             "PUT /full HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n",
             sizeof(body));
    send_str(fd, head);
    send_all(fd, body, sizeof(body));
    read_response(fd, &r, 0);
    close(fd);
    s = wait_done(1);
    assert_int_equal(r.status, 507);
    assert_int_equal(s.end_calls, 0);
    assert_true(s.body_len < sizeof(body)); /* no calls after the answer */
    free(r.body);
}

static void test_header_limits(void **state)
{
    char *req = malloc(200000);
    struct response r = {0};
    size_t n;
    int i;

    (void)state;
    assert_non_null(req);
    reset();
    n = (size_t)sprintf(req, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(req + n, 'a', 9000);
    n += 9000;
    strcpy(req + n, "\r\nConnection: close\r\n\r\n");
    exchange(req, &r, 0);
    assert_int_equal(r.status, 400);
    wait_done(1);

    reset();
    n = (size_t)sprintf(req, "GET / HTTP/1.1\r\nHost: x\r\n");
    for (i = 0; i < 210; i++)
        n += (size_t)sprintf(req + n, "X-H%d: v\r\n", i);
    strcpy(req + n, "Connection: close\r\n\r\n");
    exchange(req, &r, 0);
    assert_int_equal(r.status, 431); /* Swift's "Too many headers" */
    wait_done(1);

    /* past the connection's memory: MHD answers without us */
    reset();
    n = (size_t)sprintf(req, "GET / HTTP/1.1\r\nHost: x\r\n");
    for (i = 0; i < 20; i++) {
        n += (size_t)sprintf(req + n, "X-H%d: ", i);
        memset(req + n, 'b', 8000);
        n += 8000;
        n += (size_t)sprintf(req + n, "\r\n");
    }
    strcpy(req + n, "Connection: close\r\n\r\n");
    exchange(req, &r, 1);
    assert_int_equal(r.status, 431);
    free(req);
    free(r.body);
}

static void test_keep_alive(void **state)
{
    struct response r = {0};
    int fd = connect_server();

    (void)state;
    reset();
    inlen = 0;
    send_str(fd, "GET /one HTTP/1.1\r\nHost: x\r\n\r\n");
    read_response(fd, &r, 0);
    assert_int_equal(r.status, 200);
    send_str(fd, "PUT /two HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n"
                 "abc");
    read_response(fd, &r, 0);
    assert_int_equal(r.status, 201);
    assert_string_equal(r.body, "PUT 3");
    close(fd);
    wait_done(2);
    free(r.body);
}

static void test_client_hangs_up_mid_upload(void **state)
{
    struct seen s;
    int fd = connect_server();

    (void)state;
    reset();
    send_str(fd, "PUT /d1/1/a/c/o HTTP/1.1\r\nHost: x\r\n"
                 "Content-Length: 1000\r\n\r\n0123456789");
    /* let the server read the first bytes before the hang-up */
    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&lock);
        s = seen;
        pthread_mutex_unlock(&lock);
        if (s.body_len)
            break;
        usleep(10000);
    }
    close(fd);
    s = wait_done(1);
    assert_false(s.done_ok);
    assert_int_equal(s.body_len, 10);
    assert_int_equal(s.end_calls, 0);
}

#define CLIENTS 8
#define PUTS_EACH 25

/* One client thread: PUTs of 1000 bytes, one connection each, read to
 * EOF. Returns the number of 201s with the expected body. */
static void *put_client(void *arg)
{
    static const char head[] = "PUT /d1/1/a/c/o HTTP/1.1\r\nHost: x\r\n"
                               "Content-Length: 1000\r\n"
                               "Connection: close\r\n\r\n";
    char body[1000], resp[4096];
    intptr_t good = 0;
    int i;

    (void)arg;
    memset(body, 'b', sizeof(body));
    for (i = 0; i < PUTS_EACH; i++) {
        int fd = connect_server();
        size_t n = 0;
        ssize_t r;

        send_all(fd, head, sizeof(head) - 1);
        send_all(fd, body, sizeof(body));
        while (n < sizeof(resp) - 1 &&
               (r = recv(fd, resp + n, sizeof(resp) - 1 - n, 0)) > 0)
            n += (size_t)r;
        resp[n] = '\0';
        close(fd);
        if (!strncmp(resp, "HTTP/1.1 201 ", 13) && n > 8 &&
            !strcmp(resp + n - 8, "PUT 1000"))
            good++;
    }
    return (void *)good;
}

static void test_concurrent_clients(void **state)
{
    pthread_t t[CLIENTS];
    intptr_t good, total = 0;
    struct seen s;
    int i;

    (void)state;
    reset();
    for (i = 0; i < CLIENTS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, put_client, NULL), 0);
    for (i = 0; i < CLIENTS; i++) {
        pthread_join(t[i], (void **)&good);
        total += good;
    }
    assert_int_equal(total, CLIENTS * PUTS_EACH);
    s = wait_done(CLIENTS * PUTS_EACH);
    assert_int_equal(s.body_len, CLIENTS * PUTS_EACH * 1000);
}

static void test_conf_rows(void **state)
{
    struct holder {
        struct http_server_conf http;
    } h;
    static const struct conf_option table[] = {
        HTTP_SERVER_CONF_OPTIONS(struct holder, http, 6200),
        CONF_END,
    };
    struct http_server_conf d;
    char path[] = "/tmp/kura-http-conf-XXXXXX", err[CONF_ERR_LEN];
    struct conf *conf;
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    assert_true(write(fd, "[app:x]\nbind_ip = 127.0.0.1\n", 28) == 28);
    close(fd);
    assert_int_equal(conf_load(path, &conf, err), 0);
    if (conf_apply(conf, "app:x", table, &h, err))
        fail_msg("%s", err);
    http_server_conf_defaults(&d);
    assert_string_equal(h.http.bind_ip, "127.0.0.1");
    assert_int_equal(h.http.bind_port, 6200);
    assert_int_equal(h.http.max_clients, d.max_clients);
    assert_int_equal(h.http.client_timeout, d.client_timeout);
    assert_int_equal(h.http.max_header_size, d.max_header_size);
    assert_int_equal(h.http.conn_memory_limit, d.conn_memory_limit);
    assert_int_equal(h.http.thread_stack_size, d.thread_stack_size);
    assert_true(h.http.log_requests);
    conf_release(table, &h);
    conf_free(conf);
    unlink(path);
}

static void test_stop_closes_the_port(void **state)
{
    struct http_server_conf conf;
    struct http_handler h = {on_headers, on_body, on_end, on_done, NULL};
    struct http_server *other;
    struct sockaddr_in sin = {.sin_family = AF_INET};
    int fd;

    (void)state;
    http_server_conf_defaults(&conf);
    conf.bind_ip = "127.0.0.1";
    assert_int_equal(http_server_new(&conf, &h, &other), 0);
    sin.sin_port = htons((uint16_t)http_server_port(other));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    http_server_stop(other, 1000);
    http_server_stop(other, 1000); /* idempotent */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), -1);
    assert_int_equal(errno, ECONNREFUSED);
    close(fd);
    http_server_free(other);

    conf.bind_ip = "not-an-ip";
    assert_int_equal(http_server_new(&conf, &h, &other), -EINVAL);
    assert_null(other);
}

static void test_stop_lets_requests_finish(void **state)
{
    struct http_server_conf conf;
    struct http_handler h = {on_headers, on_body, on_end, on_done, NULL};
    struct http_server *main_srv = srv;
    struct response r = {0};
    int fd, i;

    (void)state;
    http_server_conf_defaults(&conf);
    conf.bind_ip = "127.0.0.1";
    assert_int_equal(http_server_new(&conf, &h, &srv), 0);
    reset();
    fd = connect_server();
    inlen = 0;
    send_str(fd, "GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    for (i = 0; i < 500 && !seen.headers_calls; i++)
        usleep(10000);
    http_server_stop(srv, 5000); /* waits for /slow to answer */
    read_response(fd, &r, 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "GET 0");
    close(fd);
    assert_true(wait_done(1).done_ok);
    http_server_free(srv);
    srv = main_srv;
    free(r.body);
}

/* ---- connections from memory ---- */

/* Serves 'in' on a connection from memory, its recv()s 'reads' bytes
 * long in turn; returns the output as a string (free() it). */
static char *serve_mem(const char *in, const size_t *reads, size_t n_reads)
{
    struct http_handler h = {on_headers, on_body, on_end, on_done, NULL};
    struct http_server_mem_conn mc = {
        .in = in, .in_len = strlen(in), .reads = reads, .n_reads = n_reads};
    struct http_server_conf conf;
    char *out;

    http_server_conf_defaults(&conf);
    conf.log_requests = false;
    assert_int_equal(http_server_serve_mem(&conf, &h, &mc), 0);
    assert_int_equal(mc.in_used, mc.in_len); /* all read, nothing stuck */
    out = malloc(mc.out_len + 1);
    assert_non_null(out);
    if (mc.out_len)
        memcpy(out, mc.out, mc.out_len);
    out[mc.out_len] = '\0';
    free(mc.out);
    return out;
}

/* 'text' holds each of 'parts' in that order. */
static void assert_in_order(const char *text, const char *const *parts)
{
    for (; *parts; parts++) {
        const char *p = strstr(text, *parts);

        if (!p)
            fail_msg("'%s' missing from: %s", *parts, text);
        text = p + strlen(*parts);
    }
}

static void test_mem_pipelined_requests_in_pieces(void **state)
{
    static const char in[] =
        "GET /a?x=1 HTTP/1.1\r\nHost: x\r\n\r\n"
        "PUT /b HTTP/1.1\r\nExpect: 100-continue\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n6;e=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
        "\r\n" /* a stray line end between requests is ignored */
        "PUT /c HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
        "HEAD /d HTTP/1.1\r\nConnection: close\r\n\r\n";
    static const char *const want[] = {
        "HTTP/1.1 200 OK\r\n", "\r\n\r\nGET 0",
        "HTTP/1.1 100 Continue\r\n\r\n", "HTTP/1.1 201 Created\r\n",
        "\r\n\r\nPUT 11", "HTTP/1.1 201 Created\r\n", "\r\n\r\nPUT 3",
        "HTTP/1.1 200 OK\r\n", "Connection: close\r\n\r\n", NULL};
    static const size_t one[] = {1}, odd[] = {7, 3, 200, 2};
    const size_t *reads[] = {NULL, one, odd};
    const size_t n_reads[] = {0, 1, 4};
    struct seen s;
    char *out;

    (void)state;
    for (size_t i = 0; i < 3; i++) {
        reset();
        out = serve_mem(in, reads[i], n_reads[i]);
        s = wait_done(4);
        assert_int_equal(s.headers_calls, 4);
        assert_int_equal(s.end_calls, 4);
        assert_int_equal(s.body_len, 14); /* "hello world" and "abc" */
        assert_in_order(out, want);
        assert_null(strstr(out, "HEAD 0")); /* no body for HEAD */
        free(out);
    }
}

/* Found by fuzz_http_server: a header line continued on the next one
 * (obs-fold) reached the handler as a value holding CR LF, which an
 * echo of the header would have split the response with. */
static void test_mem_folded_header_is_refused(void **state)
{
    char *out;

    (void)state;
    reset();
    out = serve_mem("GET / HTTP/1.1\r\nX-Custom-Header: a\r\n b\r\n\r\n",
                    NULL, 0);
    assert_true(!strncmp(out, "HTTP/1.1 400 Bad Request\r\n", 26));
    assert_non_null(strstr(out, "Connection: close\r\n"));
    assert_int_equal(seen.headers_calls, 0);
    free(out);
}

/* Found by fuzz_http_server: Debian's libhttp-parser lets spaces into
 * header names; "Content-Length : 5" must not pass as a header a front
 * proxy may frame the request by (RFC 9112 5.1: 400). */
static void test_mem_header_name_with_space_is_refused(void **state)
{
    static const char *const bad[] = {
        "PUT /x HTTP/1.1\r\nContent-Length : 5\r\n\r\nhello",
        "PUT /x HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
        "GET /x HTTP/1.1\r\nX Custom: a\r\n\r\n",
    };
    char *out;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        reset();
        out = serve_mem(bad[i], NULL, 0);
        assert_true(!strncmp(out, "HTTP/1.1 400 Bad Request\r\n", 26));
        assert_int_equal(seen.headers_calls, 0);
        free(out);
    }
}

/* Debian's non-strict libhttp-parser ends the head at "\r" and any byte;
 * what followed was served as a second request, inside what we had read
 * as this one's head. */
static void test_mem_head_ends_where_it_ends(void **state)
{
    char *out;

    (void)state;
    reset();
    out = serve_mem("GET /a HTTP/1.1\r\nX-Custom-Header: b\r\n\rX"
                    "GET /x HTTP/1.1\r\n\r\n",
                    NULL, 0);
    assert_true(!strncmp(out, "HTTP/1.1 400 Bad Request\r\n", 26));
    assert_null(strstr(out, "200 OK"));
    assert_int_equal(seen.headers_calls, 0);
    free(out);
}

/* Found by fuzz_http_server: on_done runs for a request refused for its
 * path, and req_path() was NULL there. */
static void test_mem_on_done_has_a_path_after_a_refusal(void **state)
{
    char *out;
    struct seen s;

    (void)state;
    reset();
    out = serve_mem("GET /a%zz HTTP/1.1\r\n\r\n", NULL, 0);
    s = wait_done(1);
    assert_true(!strncmp(out, "HTTP/1.1 400 Bad Request\r\n", 26));
    assert_int_equal(s.headers_calls, 0);
    assert_string_equal(s.done_path, "/a%zz"); /* as sent */
    free(out);
}

static int setup(void **state)
{
    struct http_server_conf conf;
    struct http_handler h = {on_headers, on_body, on_end, on_done, NULL};

    (void)state;
    log_open("test-server", LOG_WARNING, NULL);
    http_server_conf_defaults(&conf);
    conf.bind_ip = "127.0.0.1";
    conf.client_timeout = 10;
    return http_server_new(&conf, &h, &srv);
}

static int teardown(void **state)
{
    (void)state;
    http_server_stop(srv, 2000);
    http_server_free(srv);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_with_query_and_headers),
        cmocka_unit_test(test_put_with_content_length),
        cmocka_unit_test(test_chunked_put),
        cmocka_unit_test(test_expect_100_continue_accepted),
        cmocka_unit_test(test_expect_100_continue_refused_early),
        cmocka_unit_test(test_paths_are_decoded_strictly),
        cmocka_unit_test(test_stream_and_head),
        cmocka_unit_test(test_handler_failures_are_500),
        cmocka_unit_test(test_response_mid_body),
        cmocka_unit_test(test_header_limits),
        cmocka_unit_test(test_keep_alive),
        cmocka_unit_test(test_client_hangs_up_mid_upload),
        cmocka_unit_test(test_concurrent_clients),
        cmocka_unit_test(test_conf_rows),
        cmocka_unit_test(test_stop_closes_the_port),
        cmocka_unit_test(test_stop_lets_requests_finish),
        cmocka_unit_test(test_mem_pipelined_requests_in_pieces),
        cmocka_unit_test(test_mem_folded_header_is_refused),
        cmocka_unit_test(test_mem_header_name_with_space_is_refused),
        cmocka_unit_test(test_mem_on_done_has_a_path_after_a_refusal),
        cmocka_unit_test(test_mem_head_ends_where_it_ends),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
