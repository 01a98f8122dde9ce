/* Description: REPLICATE answers parsed strictly (a peer is input), the
 * differing suffixes, and requests against a scripted peer: paths, batches
 * of suffixes, statuses and bad bodies. */
#include "replicator/replicate_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static int parse(const char *s, struct suffix_hashes *out)
{
    return replicate_parse_hashes(s, strlen(s), out);
}

static void test_parse_sorted(void **state)
{
    struct suffix_hashes sh;

    (void)state;
    assert_int_equal(parse("{\"fff\": \"00000000000000ff\", "
                           "\"00a\": \"FFFFFFFFFFFFFFFF\"}",
                           &sh),
                     0);
    assert_int_equal(sh.n, 2);
    assert_string_equal(sh.v[0].suffix, "00a");
    assert_true(sh.v[0].hash == UINT64_MAX);
    assert_string_equal(sh.v[1].suffix, "fff");
    assert_true(sh.v[1].hash == 0xff);
    suffix_hashes_release(&sh);
    assert_int_equal(parse("{}", &sh), 0);
    assert_int_equal(sh.n, 0);
    suffix_hashes_release(&sh);
}

static void test_parse_rejects_bad_answers(void **state)
{
    static const char *const bad[] = {
        "",
        "[]",
        "null",
        "\"abc\"",
        "{\"abc\": \"0123456789abcdef\"",
        "{\"ab\": \"0123456789abcdef\"}",
        "{\"abcd\": \"0123456789abcdef\"}",
        "{\"ABC\": \"0123456789abcdef\"}",
        "{\"abg\": \"0123456789abcdef\"}",
        "{\"../\": \"0123456789abcdef\"}",
        "{\"abc\": 12}",
        "{\"abc\": null}",
        "{\"abc\": {}}",
        "{\"abc\": \"0123456789abcde\"}",
        "{\"abc\": \"0123456789abcdef0\"}",
        "{\"abc\": \"0123456789abcdeg\"}",
        "{\"abc\": \"-123456789abcdef\"}",
        "{\"abc\": \"0123456789abcdef\", \"abc\": \"0123456789abcdef\"}",
        "{\"abc\": \"0123456789abcdef\"} x",
    };
    struct suffix_hashes sh;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(parse(bad[i], &sh), -EPROTO);
        assert_null(sh.v);
        assert_int_equal(sh.n, 0);
    }
}

/* Every byte of a valid answer changed to every value, and cut at every
 * length: parsed or -EPROTO, never a crash; what parses is valid. */
static void test_parse_mutations(void **state)
{
    static const char good[] =
        "{\"00a\": \"0123456789abcdef\", \"fff\": \"FFFFFFFFFFFFFFFF\"}";
    char buf[sizeof(good)];
    struct suffix_hashes sh;

    (void)state;
    for (size_t i = 0; i < sizeof(good) - 1; i++) {
        for (int c = 0; c < 256; c++) {
            int err;

            memcpy(buf, good, sizeof(good));
            buf[i] = (char)c;
            err = replicate_parse_hashes(buf, sizeof(good) - 1, &sh);
            assert_true(err == 0 || err == -EPROTO);
            for (size_t k = 0; !err && k < sh.n; k++) {
                assert_true(suffix_hash_valid_suffix(sh.v[k].suffix));
                assert_true(k == 0 ||
                            strcmp(sh.v[k - 1].suffix, sh.v[k].suffix) < 0);
            }
            suffix_hashes_release(&sh);
        }
        assert_int_equal(replicate_parse_hashes(good, i, &sh), -EPROTO);
    }
}

static void test_diff(void **state)
{
    struct suffix_hashes local, remote;
    const char *out[4];

    (void)state;
    assert_int_equal(parse("{\"001\": \"0000000000000001\", "
                           "\"002\": \"0000000000000002\", "
                           "\"003\": \"0000000000000003\"}",
                           &local),
                     0);
    /* 001 equal, 002 differs, 003 missing there, 004 only there */
    assert_int_equal(parse("{\"001\": \"0000000000000001\", "
                           "\"002\": \"0000000000000009\", "
                           "\"004\": \"0000000000000004\"}",
                           &remote),
                     0);
    assert_int_equal(replicate_diff(&local, &remote, out), 2);
    assert_string_equal(out[0], "002");
    assert_string_equal(out[1], "003");
    assert_int_equal(replicate_diff(&local, &local, out), 0);
    suffix_hashes_release(&local);
    suffix_hashes_release(&remote);
}

/* ---- a scripted peer: answers each connection's one request with the
 * next canned response, and keeps the request lines ---- */

struct peer {
    int fd;
    int port;
    const char *const *answers;
    size_t n;
    char lines[8][8192];
    pthread_t tid;
};

static void *serve(void *arg)
{
    struct peer *p = arg;

    for (size_t i = 0; i < p->n; i++) {
        char buf[16384];
        size_t len = 0;
        ssize_t got;
        int c = accept(p->fd, NULL, NULL);

        if (c == -1)
            return NULL;
        /* read the head; REPLICATE has no body */
        while (len < sizeof(buf) - 1 &&
               (got = recv(c, buf + len, sizeof(buf) - 1 - len, 0)) > 0) {
            len += (size_t)got;
            buf[len] = '\0';
            if (strstr(buf, "\r\n\r\n"))
                break;
        }
        buf[len] = '\0';
        snprintf(p->lines[i], sizeof(p->lines[i]), "%.*s",
                 (int)strcspn(buf, "\r"), buf);
        if (send(c, p->answers[i], strlen(p->answers[i]), MSG_NOSIGNAL) < 0) {
            close(c);
            return NULL;
        }
        close(c);
    }
    return NULL;
}

static void peer_start(struct peer *p, const char *const *answers, size_t n)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t alen = sizeof(a);

    memset(p, 0, sizeof(*p));
    p->answers = answers;
    p->n = n;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    p->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(p->fd >= 0);
    assert_int_equal(bind(p->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(p->fd, 8), 0);
    assert_int_equal(getsockname(p->fd, (struct sockaddr *)&a, &alen), 0);
    p->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&p->tid, NULL, serve, p), 0);
}

static void peer_stop(struct peer *p)
{
    pthread_join(p->tid, NULL);
    close(p->fd);
}

static const char ok_body[] = "{\"abc\": \"0123456789abcdef\"}";

static void call(int port, const char *const *suffixes, size_t n, int expect,
                 struct suffix_hashes *out)
{
    struct http_client *c;
    struct ssync_target t = {"127.0.0.1", port, "sd b", 17};

    assert_int_equal(http_client_new(NULL, &c), 0);
    assert_int_equal(replicate_client_hashes(c, &t, suffixes, n, "tx1", out),
                     expect);
    http_client_free(c);
}

static void test_request_and_answer(void **state)
{
    char ok[256];
    const char *answers[1] = {ok};
    const char *suffixes[] = {"abc", "012"};
    struct suffix_hashes sh;
    struct peer p;

    (void)state;
    snprintf(ok, sizeof(ok),
             "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: "
             "close\r\n\r\n%s",
             strlen(ok_body), ok_body);
    peer_start(&p, answers, 1);
    call(p.port, suffixes, 2, 200, &sh);
    peer_stop(&p);
    assert_string_equal(p.lines[0], "REPLICATE /sd%20b/17/abc-012 HTTP/1.1");
    assert_int_equal(sh.n, 1);
    assert_true(sh.v[0].hash == 0x0123456789abcdefULL);
    suffix_hashes_release(&sh);
}

static void test_statuses_and_bad_bodies(void **state)
{
    static const char *const answers[] = {
        "HTTP/1.1 507 Insufficient Storage\r\nContent-Length: 0\r\n"
        "Connection: close\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\n"
        "not json!",
        "HTTP/1.1 200 OK\r\nContent-Length: 30\r\nConnection: close\r\n\r\n"
        "{\"abc\"",
    };
    struct suffix_hashes sh;
    struct peer p;

    (void)state;
    peer_start(&p, answers, 3);
    call(p.port, NULL, 0, 507, &sh);
    assert_int_equal(sh.n, 0);
    call(p.port, NULL, 0, -EPROTO, &sh);
    assert_null(sh.v);
    /* a body cut short: the connection's error, not a parse */
    call(p.port, NULL, 0, -ECONNRESET, &sh);
    assert_null(sh.v);
    peer_stop(&p);
    assert_string_equal(p.lines[0], "REPLICATE /sd%20b/17 HTTP/1.1");
}

static void test_many_suffixes_go_in_batches(void **state)
{
    static const char *const answers[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
    };
    static char names[REPLICATE_SUFFIXES_PER_REQ + 1][4];
    const char *suffixes[REPLICATE_SUFFIXES_PER_REQ + 1];
    struct peer p;

    (void)state;
    for (size_t i = 0; i <= REPLICATE_SUFFIXES_PER_REQ; i++) {
        snprintf(names[i], sizeof(names[i]), "%03zx", i);
        suffixes[i] = names[i];
    }
    peer_start(&p, answers, 2);
    call(p.port, suffixes, REPLICATE_SUFFIXES_PER_REQ + 1, 200, NULL);
    peer_stop(&p);
    assert_non_null(strstr(p.lines[0], "/17/000-001-"));
    assert_string_equal(p.lines[1], "REPLICATE /sd%20b/17/400 HTTP/1.1");
}

static void test_unreachable_peer(void **state)
{
    struct peer p;
    struct suffix_hashes sh;
    int port;

    (void)state;
    peer_start(&p, NULL, 0); /* a free port, then closed */
    port = p.port;
    peer_stop(&p);
    call(port, NULL, 0, -ECONNREFUSED, &sh);
    assert_int_equal(sh.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_sorted),
        cmocka_unit_test(test_parse_rejects_bad_answers),
        cmocka_unit_test(test_parse_mutations),
        cmocka_unit_test(test_diff),
        cmocka_unit_test(test_request_and_answer),
        cmocka_unit_test(test_statuses_and_bad_bodies),
        cmocka_unit_test(test_many_suffixes_go_in_batches),
        cmocka_unit_test(test_unreachable_peer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
