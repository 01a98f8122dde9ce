/* Description: the shared DELETE of kura-expirer and the lifecycle pass:
 * the outcome of the replicas' answers, the container replicas each
 * object replica tells, which manifest rows are an S3 upload's parts and
 * which objects are S3 multipart objects; and against a scripted object
 * server, the DELETEs' headers and the manifest read (a HEAD first, the
 * body only of an S3 multipart manifest of the version meant). */
#include "storage/direct_delete.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static enum direct_delete_outcome outcome(int a, int b, int c)
{
    const int st[3] = {a, b, c};

    return direct_delete_outcome(st, 3);
}

static void test_outcome(void **state)
{
    (void)state;
    assert_int_equal(outcome(204, 204, 204), DIRECT_DELETE_DONE);
    assert_int_equal(outcome(204, 404, -ETIMEDOUT), DIRECT_DELETE_DONE);
    assert_int_equal(outcome(404, 404, 404), DIRECT_DELETE_DONE);
    /* one refusal is enough: a newer version or another delete-at */
    assert_int_equal(outcome(204, 204, 409), DIRECT_DELETE_REFUSED);
    assert_int_equal(outcome(412, 204, 204), DIRECT_DELETE_REFUSED);
    assert_int_equal(outcome(204, 503, -ECONNREFUSED), DIRECT_DELETE_FAILED);
    assert_int_equal(direct_delete_outcome(NULL, 0), DIRECT_DELETE_FAILED);
}

static struct ring_dev dev(const char *ip, int port, const char *device)
{
    return (struct ring_dev){
        .ip = (char *)ip, .port = port, .device = (char *)device};
}

static void test_container_headers(void **state)
{
    struct ring_dev d[4] = {
        dev("10.0.0.1", 6201, "sda"), dev("10.0.0.2", 6201, "sdb"),
        dev("10.0.0.3", 6201, "sdc"), dev("10.0.0.4", 6201, "sdd")};
    struct direct_place cp = {.part = 7, .n = 4};
    char hosts[64], devs[64];

    (void)state;
    for (size_t i = 0; i < 4; i++)
        cp.nodes[i] = &d[i];
    /* 3 object replicas, 4 container replicas: the first takes two */
    direct_delete_container_headers(&cp, 0, 3, hosts, devs, sizeof(hosts));
    assert_string_equal(hosts, "10.0.0.1:6201,10.0.0.4:6201");
    assert_string_equal(devs, "sda,sdd");
    direct_delete_container_headers(&cp, 2, 3, hosts, devs, sizeof(hosts));
    assert_string_equal(hosts, "10.0.0.3:6201");
    assert_string_equal(devs, "sdc");
    /* more object replicas than container ones: none for the last */
    cp.n = 2;
    direct_delete_container_headers(&cp, 2, 3, hosts, devs, sizeof(hosts));
    assert_string_equal(hosts, "");
    assert_string_equal(devs, "");
    /* a replica that does not fit is left out whole, never cut */
    cp.n = 4;
    direct_delete_container_headers(&cp, 0, 3, hosts, devs, 20);
    assert_string_equal(hosts, "10.0.0.1:6201");
    assert_string_equal(devs, "sda");
}

static void test_part_name(void **state)
{
    (void)state;
    assert_string_equal(
        direct_delete_part_name("b", "k", "/b+segments/k/UPLOAD/1"),
        "k/UPLOAD/1");
    assert_string_equal(
        direct_delete_part_name("b", "a/k", "/b+segments/a/k/U/10000"),
        "a/k/U/10000");
    /* another bucket's, another key's (a prefix of it too), none at all */
    assert_null(direct_delete_part_name("b", "k", "/c+segments/k/U/1"));
    assert_null(direct_delete_part_name("b", "k", "/bb+segments/k/U/1"));
    assert_null(direct_delete_part_name("b", "k", "/b+segments/kk/U/1"));
    assert_null(direct_delete_part_name("b", "k", "/b+segments/k"));
    assert_null(direct_delete_part_name("b", "k", "/b+segments/k/"));
    assert_null(direct_delete_part_name("b", "k", "/b_segments/k/U/1"));
    assert_null(direct_delete_part_name("b", "k", "b+segments/k/U/1"));
    assert_null(direct_delete_part_name("b", "k", "/b"));
    assert_null(direct_delete_part_name("b", "k", ""));
}

static void test_is_s3_multipart(void **state)
{
    (void)state;
    assert_true(direct_delete_is_s3_multipart("True", "abc-2"));
    assert_true(direct_delete_is_s3_multipart("yes", "abc-2"));
    /* a Swift API manifest: no S3 sysmeta */
    assert_false(direct_delete_is_s3_multipart("True", NULL));
    assert_false(direct_delete_is_s3_multipart("True", ""));
    assert_false(direct_delete_is_s3_multipart(NULL, "abc-2"));
    assert_false(direct_delete_is_s3_multipart("False", "abc-2"));
    assert_false(direct_delete_is_s3_multipart("maybe", "abc-2"));
}

/* ---- a scripted object server ---- */

#define MAX_SEEN 32

struct seen {
    char method[8];
    char path[256];
    char head[4096]; /* the request's header lines */
};

/* Every replica of the ring below is this one server. Its answer to a
 * HEAD or GET: 'status', X-Delete-At 'delete_at' (unless NULL), the S3
 * multipart marks when 'mpu', and 'body' for a GET. */
static struct server {
    int fd, port;
    pthread_t th;
    int status;
    const char *delete_at;
    bool mpu;
    const char *body;
    pthread_mutex_t lock;
    struct seen seen[MAX_SEEN];
    size_t n_seen;
} srv;

static void answer(int c, const char *method)
{
    char resp[4096];
    const char *body = srv.body ? srv.body : "";
    int n;

    if (!strcmp(method, "DELETE")) {
        n = snprintf(resp, sizeof(resp),
                     "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n"
                     "Connection: close\r\n\r\n");
    } else {
        bool get = !strcmp(method, "GET") && srv.status == 200;

        n = snprintf(resp, sizeof(resp),
                     "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n%s%s%s%s\r\n%s",
                     srv.status, srv.status == 200 ? strlen(body) : 0,
                     srv.delete_at ? "X-Delete-At: " : "",
                     srv.delete_at ? srv.delete_at : "",
                     srv.delete_at ? "\r\n" : "",
                     srv.mpu ? "X-Static-Large-Object: True\r\n"
                               "X-Object-Sysmeta-S3api-Etag: e-2\r\n"
                             : "",
                     get ? body : "");
    }
    if (write(c, resp, (size_t)n) != n)
        return;
}

static void *serve(void *arg)
{
    int c;

    (void)arg;
    while ((c = accept(srv.fd, NULL, NULL)) >= 0) {
        char req[4096];
        size_t len = 0;
        ssize_t r;
        struct seen s = {0};

        while (len < sizeof(req) - 1 &&
               (r = read(c, req + len, sizeof(req) - 1 - len)) > 0) {
            len += (size_t)r;
            req[len] = '\0';
            if (strstr(req, "\r\n\r\n"))
                break;
        }
        req[len] = '\0';
        sscanf(req, "%7s %255s", s.method, s.path);
        memcpy(s.head, req, len + 1);
        pthread_mutex_lock(&srv.lock);
        if (srv.n_seen < MAX_SEEN)
            srv.seen[srv.n_seen++] = s;
        pthread_mutex_unlock(&srv.lock);
        answer(c, s.method);
        close(c);
    }
    return NULL;
}

static struct ring *ring;
static struct hash_path_conf hc;
static struct http_client *client;

static int make_ring(int port)
{
    struct ring_data rd = {.part_shift = 32,
                           .n_replicas = 3,
                           .version = -1,
                           .next_part_power = -1};
    static const char *const names[] = {"d0", "d1", "d2"};

    rd.devs = calloc(3, sizeof(*rd.devs));
    rd.replica2part2dev = calloc(3, sizeof(*rd.replica2part2dev));
    rd.replica_parts = calloc(3, sizeof(*rd.replica_parts));
    rd.n_devs = 3;
    for (int i = 0; i < 3; i++) {
        rd.devs[i] = calloc(1, sizeof(**rd.devs));
        *rd.devs[i] = (struct ring_dev){
            .id = i,
            .zone = i,
            .ip = strdup("127.0.0.1"),
            .port = port,
            .replication_ip = strdup("127.0.0.1"),
            .replication_port = port,
            .device = strdup(names[i]),
            .weight = 1,
            .meta = strdup(""),
        };
        rd.replica2part2dev[i] = calloc(1, sizeof(uint16_t));
        rd.replica2part2dev[i][0] = (uint16_t)i;
        rd.replica_parts[i] = 1;
    }
    return ring_from_data(&rd, &ring);
}

static int setup(void **state)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t alen = sizeof(a);

    (void)state;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    srv.fd = socket(AF_INET, SOCK_STREAM, 0);
    if (srv.fd < 0 || bind(srv.fd, (struct sockaddr *)&a, sizeof(a)) ||
        listen(srv.fd, 16) || getsockname(srv.fd, (struct sockaddr *)&a, &alen))
        return -1;
    srv.port = ntohs(a.sin_port);
    pthread_mutex_init(&srv.lock, NULL);
    if (pthread_create(&srv.th, NULL, serve, NULL) || make_ring(srv.port) ||
        hash_path_conf_set(&hc, "pre", "suf") || http_client_new(NULL, &client))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    shutdown(srv.fd, SHUT_RDWR);
    close(srv.fd);
    pthread_join(srv.th, NULL);
    http_client_free(client);
    ring_free(ring);
    hash_path_conf_release(&hc);
    return 0;
}

static void reset(int status, const char *delete_at, bool mpu, const char *body)
{
    srv.status = status;
    srv.delete_at = delete_at;
    srv.mpu = mpu;
    srv.body = body;
    srv.n_seen = 0;
}

static size_t count(const char *method)
{
    size_t n = 0;

    for (size_t i = 0; i < srv.n_seen; i++)
        n += !strcmp(srv.seen[i].method, method);
    return n;
}

static struct direct_place cp;

static struct direct_delete_target target(const char *c, const char *o)
{
    assert_int_equal(direct_delete_place(&hc, ring, "AUTH_a", c, NULL, &cp), 0);
    return (struct direct_delete_target){
        .account = "AUTH_a",
        .container = c,
        .object = o,
        .policy = 0,
        .oring = ring,
        .cp = &cp,
        .txn = "tx0",
    };
}

static void test_delete_reaches_every_replica(void **state)
{
    const struct direct_delete dd = {.client = client, .hc = &hc};
    struct direct_delete_target t = target("c", "o x");
    const struct http_header extra = {"X-If-Delete-At", "1700000000.00000"};
    int status[DIRECT_DELETE_MAX_REPLICAS];
    size_t n;
    char want[64];

    (void)state;
    reset(200, NULL, false, NULL);
    assert_int_equal(direct_delete_object(&dd, &t, "1700000000.00000", &extra,
                                          1, status, &n),
                     0);
    assert_int_equal(n, 3);
    assert_int_equal(direct_delete_outcome(status, n), DIRECT_DELETE_DONE);
    assert_int_equal(srv.n_seen, 3);
    snprintf(want, sizeof(want), "X-Container-Host: 127.0.0.1:%d", srv.port);
    for (size_t i = 0; i < 3; i++) {
        const char *h = srv.seen[i].head;

        assert_string_equal(srv.seen[i].method, "DELETE");
        assert_non_null(strstr(srv.seen[i].path, "/0/AUTH_a/c/o%20x"));
        assert_non_null(strstr(h, "X-Timestamp: 1700000000.00000\r\n"));
        assert_non_null(strstr(h, "X-If-Delete-At: 1700000000.00000\r\n"));
        assert_non_null(strstr(h, "X-Trans-Id: tx0\r\n"));
        assert_non_null(strstr(h, "X-Backend-Storage-Policy-Index: 0\r\n"));
        assert_non_null(strstr(h, want));
        assert_non_null(strstr(h, "X-Container-Partition: 0\r\n"));
    }
}

static void test_manifest_of_a_plain_object_is_not_read(void **state)
{
    const struct direct_delete dd = {.client = client, .hc = &hc};
    struct direct_delete_target t = target("c", "o");
    json_t *m = (json_t *)1;

    (void)state;
    reset(200, "1700000000", false, "[{\"name\": \"/c+segments/o/U/1\"}]");
    assert_int_equal(direct_delete_get_manifest(&dd, &t, 1700000000, &m), 0);
    assert_null(m);
    /* one HEAD answers it: no body is read */
    assert_int_equal(count("HEAD"), 1);
    assert_int_equal(count("GET"), 0);
    assert_non_null(strstr(srv.seen[0].head, "X-Backend-Replication: true"));
}

static void test_manifest_of_an_s3_multipart_object(void **state)
{
    const struct direct_delete dd = {.client = client, .hc = &hc};
    struct direct_delete_target t = target("c", "o");
    json_t *m = NULL;

    (void)state;
    reset(200, "1700000000", true, "[{\"name\": \"/c+segments/o/U/1\"}]");
    assert_int_equal(direct_delete_get_manifest(&dd, &t, 1700000000, &m), 0);
    assert_non_null(m);
    assert_int_equal(json_array_size(m), 1);
    assert_int_equal(count("GET"), 1);
    json_decref(m);
    /* the lifecycle pass takes any version */
    reset(200, NULL, true, "[]");
    assert_int_equal(direct_delete_get_manifest(&dd, &t, 0, &m), 0);
    assert_non_null(m);
    json_decref(m);
}

static void test_manifest_of_another_version_is_not_taken(void **state)
{
    const struct direct_delete dd = {.client = client, .hc = &hc};
    struct direct_delete_target t = target("c", "o");
    json_t *m = (json_t *)1;

    (void)state;
    /* X-Delete-At changed: every replica asked, none read */
    reset(200, "1700000500", true, "[]");
    assert_int_equal(direct_delete_get_manifest(&dd, &t, 1700000000, &m),
                     -ENOENT);
    assert_null(m);
    assert_int_equal(count("HEAD"), 3);
    assert_int_equal(count("GET"), 0);
    reset(404, NULL, false, NULL);
    assert_int_equal(direct_delete_get_manifest(&dd, &t, 1700000000, &m),
                     -ENOENT);
    /* a body that is no manifest */
    reset(200, "1700000000", true, "{\"not\": \"a list\"}");
    assert_int_equal(direct_delete_get_manifest(&dd, &t, 1700000000, &m),
                     -ENOENT);
    assert_null(m);
}

static void test_parts_of_the_upload_only(void **state)
{
    const struct direct_delete dd = {.client = client, .hc = &hc};
    struct direct_delete_target t = target("b", "k");
    json_t *m = json_loads("[{\"name\": \"/b+segments/k/U/1\"},"
                           " {\"name\": \"/b+segments/k/U/2\"},"
                           " {\"name\": \"/other/k/U/3\"},"
                           " {\"name\": \"/b+segments/kk/U/4\"},"
                           " {\"bytes\": 5}]",
                           0, NULL);

    (void)state;
    assert_non_null(m);
    reset(200, NULL, false, NULL);
    direct_delete_parts(&dd, &t, ring, m);
    assert_int_equal(srv.n_seen, 6); /* two parts, three replicas each */
    for (size_t i = 0; i < srv.n_seen; i++) {
        assert_string_equal(srv.seen[i].method, "DELETE");
        assert_non_null(strstr(srv.seen[i].path, "/AUTH_a/b%2Bsegments/k/U/"));
        assert_null(strstr(srv.seen[i].path, "U/3"));
        assert_null(strstr(srv.seen[i].path, "U/4"));
    }
    json_decref(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outcome),
        cmocka_unit_test(test_container_headers),
        cmocka_unit_test(test_part_name),
        cmocka_unit_test(test_is_s3_multipart),
        cmocka_unit_test(test_delete_reaches_every_replica),
        cmocka_unit_test(test_manifest_of_a_plain_object_is_not_read),
        cmocka_unit_test(test_manifest_of_an_s3_multipart_object),
        cmocka_unit_test(test_manifest_of_another_version_is_not_taken),
        cmocka_unit_test(test_parts_of_the_upload_only),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
