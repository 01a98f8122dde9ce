/* Description: GET /recon/<what> answers in Swift's shapes from a tree of
 * devices, a recon cache and a swift_dir made here; the wrapper passes
 * every other request to the server's own handler. */
#include "storage/recon_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

struct fixture {
    char dir[64];
    char devices[128], swift_dir[128], cache[128];
    struct recon_server *r;
    int inner_calls;
};

static void put_file(const char *dir, const char *rel, const char *text)
{
    char path[512], cmd[640];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
    assert_int_equal(system(cmd), 0);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static int inner_headers(struct request *req, void *arg)
{
    struct fixture *fx = arg;

    fx->inner_calls++;
    return req_respond(req, 204, NULL, 0);
}

static int inner_end(struct request *req, void *arg)
{
    (void)req;
    (void)arg;
    return 0;
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    struct http_handler inner = {
        .on_headers = inner_headers, .on_end = inner_end, .arg = fx};
    struct recon_server_conf conf;

    assert_non_null(fx);
    strcpy(fx->dir, "/tmp/kura-recon-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->devices, sizeof(fx->devices), "%s/devices", fx->dir);
    snprintf(fx->swift_dir, sizeof(fx->swift_dir), "%s/etc", fx->dir);
    snprintf(fx->cache, sizeof(fx->cache), "%s/cache", fx->dir);
    /* d1: 2 quarantined objects of policy 0, 1 of policy 1, a container,
     * 3 async pendings; d2: empty; a file beside them is no device */
    put_file(fx->devices, "d1/quarantined/objects/aaa/x.data", "");
    put_file(fx->devices, "d1/quarantined/objects/bbb/x.data", "");
    put_file(fx->devices, "d1/quarantined/objects-1/ccc/x.data", "");
    put_file(fx->devices, "d1/quarantined/containers/ddd/x", "");
    put_file(fx->devices, "d1/async_pending/abc/h1-1", "");
    put_file(fx->devices, "d1/async_pending/abc/h2-1", "");
    put_file(fx->devices, "d1/async_pending/def/h3-1", "");
    put_file(fx->devices, "d2/objects/.keep", "");
    put_file(fx->devices, "not-a-device", "");
    put_file(fx->swift_dir, "swift.conf",
             "[swift-hash]\nswift_hash_path_suffix = x\n");
    put_file(fx->swift_dir, "object.ring.gz", "ring");
    conf = (struct recon_server_conf){
        .devices = fx->devices,
        .mount_check = false,
        .swift_dir = fx->swift_dir,
        .recon_cache_path = fx->cache,
    };
    assert_int_equal(recon_server_new(&conf, &inner, &fx->r), 0);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    char cmd[128];

    recon_server_free(fx->r);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
    assert_int_equal(system(cmd), 0);
    free(fx);
    return 0;
}

static json_t *get_ok(struct fixture *fx, const char *path)
{
    json_t *out;

    assert_int_equal(recon_server_get(fx->r, path, &out), 200);
    assert_non_null(out);
    return out;
}

static void test_cache_keys(void **state)
{
    struct fixture *fx = *state;
    json_t *j;

    /* no cache file: every key is there, null */
    j = get_ok(fx, "/recon/replication/object");
    assert_true(json_is_null(json_object_get(j, "object_replication_last")));
    assert_true(json_is_null(json_object_get(j, "replication_progress")));
    json_decref(j);
    put_file(fx->cache, "object.recon",
             "{\"object_replication_last\": 1700000000.5, "
             "\"replication_progress\": {\"parts_done\": 3}, "
             "\"object_expiration_pass\": 2.5, \"other\": 1}");
    put_file(fx->cache, "container.recon", "{\"replication_last\": 7}");
    j = get_ok(fx, "/recon/replication");
    assert_true(json_real_value(json_object_get(
                    j, "object_replication_last")) == 1700000000.5);
    assert_int_equal(
        json_integer_value(json_object_get(
            json_object_get(j, "replication_progress"), "parts_done")),
        3);
    /* Swift's spelling too, for swift-recon */
    assert_true(json_real_value(json_object_get(j, "replication_last")) ==
                1700000000.5);
    assert_true(json_is_null(json_object_get(j, "replication_time")));
    assert_null(json_object_get(j, "other"));
    json_decref(j);
    j = get_ok(fx, "/recon/replication/container");
    assert_int_equal(json_integer_value(json_object_get(j, "replication_last")),
                     7);
    assert_int_equal(json_object_size(j), 3);
    json_decref(j);
    j = get_ok(fx, "/recon/expirer/object");
    assert_true(json_real_value(json_object_get(j, "object_expiration_pass")) ==
                2.5);
    assert_true(json_is_null(json_object_get(j, "expired_last_pass")));
    json_decref(j);
    /* a malformed file reads as missing */
    put_file(fx->cache, "account.recon", "{not json");
    j = get_ok(fx, "/recon/replication/account");
    assert_true(json_is_null(json_object_get(j, "replication_last")));
    json_decref(j);
}

static void test_async_counts_without_cache(void **state)
{
    struct fixture *fx = *state;
    json_t *j = get_ok(fx, "/recon/async");

    assert_int_equal(json_integer_value(json_object_get(j, "async_pending")),
                     3);
    json_decref(j);
    put_file(fx->cache, "object.recon", "{\"async_pending\": 42}");
    j = get_ok(fx, "/recon/async");
    assert_int_equal(json_integer_value(json_object_get(j, "async_pending")),
                     42);
    json_decref(j);
}

static void test_quarantined(void **state)
{
    struct fixture *fx = *state;
    json_t *j = get_ok(fx, "/recon/quarantined");
    json_t *pol = json_object_get(j, "policies");

    assert_int_equal(json_integer_value(json_object_get(j, "objects")), 3);
    assert_int_equal(json_integer_value(json_object_get(j, "containers")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "accounts")), 0);
    assert_int_equal(json_integer_value(
                         json_object_get(json_object_get(pol, "0"), "objects")),
                     2);
    assert_int_equal(json_integer_value(
                         json_object_get(json_object_get(pol, "1"), "objects")),
                     1);
    json_decref(j);
}

static void test_diskusage_and_unmounted(void **state)
{
    struct fixture *fx = *state;
    json_t *j = get_ok(fx, "/recon/diskusage"), *e;
    size_t i;

    assert_int_equal(json_array_size(j), 2); /* the file is no device */
    for (i = 0; i < json_array_size(j); i++) {
        e = json_array_get(j, i);
        assert_true(json_is_true(json_object_get(e, "mounted")));
        assert_true(json_integer_value(json_object_get(e, "size")) > 0);
        assert_true(json_integer_value(json_object_get(e, "used")) +
                        json_integer_value(json_object_get(e, "avail")) <=
                    json_integer_value(json_object_get(e, "size")));
    }
    json_decref(j);
    /* without mount_check nothing is unmounted */
    j = get_ok(fx, "/recon/unmounted");
    assert_int_equal(json_array_size(j), 0);
    json_decref(j);
}

static void test_unmounted_with_mount_check(void **state)
{
    struct fixture *fx = *state;
    struct http_handler none = {0};
    struct recon_server_conf conf = {
        .devices = fx->devices,
        .mount_check = true,
        .swift_dir = fx->swift_dir,
        .recon_cache_path = fx->cache,
    };
    struct recon_server *r;
    json_t *j, *e;
    size_t i;

    assert_int_equal(recon_server_new(&conf, &none, &r), 0);
    /* plain directories are not mount points */
    assert_int_equal(recon_server_get(r, "/recon/unmounted", &j), 200);
    assert_int_equal(json_array_size(j), 2);
    for (i = 0; i < json_array_size(j); i++) {
        e = json_array_get(j, i);
        assert_true(json_is_false(json_object_get(e, "mounted")));
    }
    json_decref(j);
    assert_int_equal(recon_server_get(r, "/recon/diskusage", &j), 200);
    e = json_array_get(j, 0);
    assert_true(json_is_false(json_object_get(e, "mounted")));
    assert_string_equal(json_string_value(json_object_get(e, "size")), "");
    json_decref(j);
    recon_server_free(r);
}

static void test_md5s(void **state)
{
    struct fixture *fx = *state;
    json_t *j = get_ok(fx, "/recon/ringmd5");
    char key[256];

    /* only the rings there are; md5("ring") */
    assert_int_equal(json_object_size(j), 1);
    snprintf(key, sizeof(key), "%s/object.ring.gz", fx->swift_dir);
    assert_string_equal(json_string_value(json_object_get(j, key)),
                        "1a5df958e0f29d35594c7cf057fe4bd1");
    json_decref(j);
    j = get_ok(fx, "/recon/swiftconfmd5");
    snprintf(key, sizeof(key), "%s/swift.conf", fx->swift_dir);
    assert_int_equal(strlen(json_string_value(json_object_get(j, key))), 32);
    json_decref(j);
}

static void test_paths(void **state)
{
    struct fixture *fx = *state;
    json_t *j;

    assert_int_equal(recon_server_get(fx->r, "/recon/nope", &j), 404);
    assert_null(j);
    assert_int_equal(recon_server_get(fx->r, "/recon/replication/x", &j), 404);
    assert_int_equal(recon_server_get(fx->r, "/recon/replication/", &j), 404);
    assert_int_equal(recon_server_get(fx->r, "/recon/", &j), 404);
    assert_int_equal(recon_server_get(fx->r, "/recon/expirer", &j), 404);
    assert_int_equal(recon_server_get(fx->r, "/d1/1/a", &j), 404);
    /* checks without a type ignore one, as Swift's */
    j = get_ok(fx, "/recon/version/x");
    assert_string_equal(json_string_value(json_object_get(j, "version")),
                        RECON_SERVER_VERSION);
    json_decref(j);
    j = get_ok(fx, "/recon/time");
    assert_true(json_real_value(j) > 1.7e9);
    json_decref(j);
    j = get_ok(fx, "/recon/load");
    assert_true(json_is_integer(json_object_get(j, "processes")));
    assert_true(json_is_string(json_object_get(j, "tasks")));
    json_decref(j);
}

/* Serves 'in' through the wrapper; returns what went out. */
static char *serve(struct fixture *fx, const char *in)
{
    struct http_server_conf hc;
    struct http_handler h;
    struct http_server_mem_conn mc = {.in = in, .in_len = strlen(in)};
    char *out;

    http_server_conf_defaults(&hc);
    hc.log_requests = false;
    recon_server_handler(fx->r, &h);
    assert_int_equal(http_server_serve_mem(&hc, &h, &mc), 0);
    out = strndup(mc.out, mc.out_len);
    free(mc.out);
    return out;
}

static void test_wrapper(void **state)
{
    struct fixture *fx = *state;
    char *out;

    out = serve(fx, "GET /recon/version HTTP/1.1\r\nHost: x\r\n"
                    "Connection: close\r\n\r\n");
    assert_non_null(strstr(out, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(out, "Content-Type: application/json\r\n"));
    assert_non_null(strstr(out, "\"version\": \"" RECON_SERVER_VERSION "\""));
    free(out);
    out = serve(fx, "GET /recon/bogus HTTP/1.1\r\nHost: x\r\n"
                    "Connection: close\r\n\r\n");
    assert_non_null(strstr(out, "HTTP/1.1 404 Not Found\r\n"));
    assert_non_null(strstr(out, "Invalid path: /recon/bogus"));
    free(out);
    assert_int_equal(fx->inner_calls, 0);
    /* everything else is the server's */
    out = serve(fx, "PUT /d1/1/a/c/o HTTP/1.1\r\nHost: x\r\n"
                    "Content-Length: 3\r\nConnection: close\r\n\r\nabc");
    assert_non_null(strstr(out, "HTTP/1.1 204 No Content\r\n"));
    assert_int_equal(fx->inner_calls, 1);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cache_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_async_counts_without_cache, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_quarantined, setup, teardown),
        cmocka_unit_test_setup_teardown(test_diskusage_and_unmounted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unmounted_with_mount_check, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_md5s, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrapper, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
