/* Description: libFuzzer target: the backend client's response parsing
 * (common/http_client.c over libhttp-parser). No seam: the target
 * listens on 127.0.0.1 itself, lets the client connect and send its
 * request, answers with the input's bytes and closes its side, all on one
 * thread (the kernel queues the connection and the bytes).
 *
 * Input: byte 0 picks the request (bit 0: HEAD instead of GET; bit 1: a
 * PUT with "Expect: 100-continue" and a 5-byte body), the rest is the
 * response. Checked: no crash, leak or UB, no hang (the client reads to
 * the peer's close); a status is 100..999 (100 only from the continue
 * wait); header names and values hold no CR, LF or NUL; a body read whole
 * is no longer than a declared Content-Length. */
#include "common/http_client.h"
#include "common/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "fuzz_http_client: %s:%d: %s\n", __FILE__,         \
                    __LINE__, #cond);                                          \
            abort();                                                           \
        }                                                                      \
    } while (0)

static int listen_fd = -1;
static unsigned int port;

static void listen_once(void)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t len = sizeof(sin);

    signal(SIGPIPE, SIG_IGN);
    log_set_level(LOG_CRIT);
    listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    check(listen_fd >= 0);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    check(bind(listen_fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
    check(listen(listen_fd, 16) == 0);
    check(getsockname(listen_fd, (struct sockaddr *)&sin, &len) == 0);
    port = ntohs(sin.sin_port);
}

static bool text_ok(const char *s)
{
    return s && !strpbrk(s, "\r\n");
}

/* Reads and drops what the client sent so far: closing a socket with
 * unread bytes sends a reset, which could cut the response short. */
static void drain(int fd)
{
    char buf[4096];

    while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
        ;
}

static void check_response(struct http_client_call *call, bool head)
{
    const char *cl = http_client_header(call, "Content-Length");
    size_t n = http_client_header_count(call), len = 0;
    char *body = NULL;
    int err;

    for (size_t i = 0; i < n; i++) {
        struct http_header h = http_client_header_at(call, i);

        check(text_ok(h.name) && *h.name && text_ok(h.value));
    }
    err = http_client_read_all(call, 1 << 20, &body, &len);
    if (err == 0) {
        check(body && strlen(body) <= len);
        if (head)
            check(len == 0);
        /* a body never runs past a (single, valid) declared length */
        if (cl && strspn(cl, "0123456789") == strlen(cl) && strlen(cl) < 10)
            check(len <= (size_t)atol(cl));
    }
    free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct http_header hdrs[] = {{"X-Trans-Id", "tx1"}};
    struct http_client_req req = {
        .host = "127.0.0.1",
        .method = "GET",
        .path = "/sda1/1/a/c/o",
        .headers = hdrs,
        .n_headers = 1,
        .conn_timeout_ms = 2000,
        .node_timeout_ms = 2000,
    };
    struct http_client_call *call = NULL;
    struct http_client *c;
    bool head, put;
    int fd, st;

    if (listen_fd < 0)
        listen_once();
    if (size < 1)
        return 0;
    head = data[0] & 1;
    put = data[0] & 2;
    req.port = port;
    if (head)
        req.method = "HEAD";
    if (put) {
        req.method = "PUT";
        req.body_mode = HTTP_CLIENT_BODY_LENGTH;
        req.content_length = 5;
        req.expect_continue = 1;
        head = false;
    }
    check(http_client_new(NULL, &c) == 0);
    if (http_client_start(c, &req, &call)) {
        http_client_free(c); /* a loaded machine: not the parser's fault */
        return 0;
    }
    fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    check(fd >= 0);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    /* the response, then end of stream; the loopback queue takes it all */
    for (size_t off = 1; off < size;) {
        ssize_t w = send(fd, data + off, size - off, MSG_NOSIGNAL);

        check(w > 0);
        off += (size_t)w;
    }
    shutdown(fd, SHUT_WR);
    if (put) {
        st = http_client_wait_continue(call);
        check(st < 0 || (st >= 100 && st <= 999));
        if (st == 100) {
            (void)http_client_continue_header(call, "X-Obj-Metadata-Footer");
            if (!http_client_send(call, "hello", 5) &&
                !http_client_send_end(call))
                st = http_client_response(call);
            else
                st = -1;
        }
    } else {
        st = http_client_response(call);
    }
    check(st < 0 || (st > 100 && st <= 999));
    if (st > 0) {
        check(http_client_status(call) == st);
        check_response(call, head);
    }
    http_client_end(call);
    http_client_free(c);
    drain(fd);
    close(fd);
    return 0;
}
