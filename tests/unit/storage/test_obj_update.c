/* Description: async pendings written by the object server read back by
 * kura-updater (obj_update_parse_async()), and malformed ones refused. */
#include "storage/obj_update.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define HASH "0123456789abcdef0123456789abcdef"
#define TS "1700000000.12345"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = calloc(1, 65536);

    assert_non_null(f);
    assert_non_null(buf);
    *len = fread(buf, 1, 65535, f);
    fclose(f);
    return buf;
}

static void test_written_pending_reads_back(void **state)
{
    char dir[] = "/tmp/kura-obj-update-XXXXXX", path[256];
    struct obj_update u = {
        .op = "PUT",
        .dev = "sda",
        .hash = HASH,
        .account = "AUTH_a",
        .container = "c",
        .object = "o/with \xc3\xa9",
        .timestamp = TS,
        .hosts = "10.0.0.1:6201,[::1]:6201",
        .devs = "sdb,sdc",
        .part = "7",
    };
    struct obj_update r = {0};
    json_t *doc;
    size_t len;
    char *buf;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/sda", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    u.devices = dir;
    obj_update_set_header(&u, "X-Timestamp", TS);
    obj_update_set_header(&u, "X-Size", "11");
    obj_update_set_header(&u, "X-Trans-Id", "tx1");
    assert_int_equal(obj_update_write_async(&u), 0);
    snprintf(path, sizeof(path), "%s/sda/async_pending/def/%s-%s", dir, HASH,
             TS);
    buf = slurp(path, &len);
    assert_int_equal(obj_update_parse_async(buf, len, &r, &doc), 0);
    assert_string_equal(r.op, "PUT");
    assert_string_equal(r.account, "AUTH_a");
    assert_string_equal(r.container, "c");
    assert_string_equal(r.object, u.object);
    assert_string_equal(r.hosts, u.hosts);
    assert_string_equal(r.devs, u.devs);
    assert_string_equal(r.part, "7");
    assert_int_equal(r.n_headers, 3);
    for (size_t i = 0; i < u.n_headers; i++) {
        size_t j;

        for (j = 0; j < r.n_headers; j++)
            if (!strcmp(r.headers[j].name, u.headers[i].name))
                break;
        assert_true(j < r.n_headers);
        assert_string_equal(r.headers[j].value, u.headers[i].value);
    }
    json_decref(doc);
    free(buf);
    snprintf(path, sizeof(path), "rm -rf '%s'", dir);
    assert_int_equal(system(path), 0);
}

static void test_malformed_pendings_refused(void **state)
{
#define GOOD_KEYS                                                              \
    "\"account\":\"a\",\"container\":\"c\",\"obj\":\"o\",\"hosts\":\"h:1\","   \
    "\"devices\":\"d\",\"partition\":\"1\""
    static const char *const bad[] = {
        "",
        "{not json",
        "[1,2]",
        "{\"op\":\"PUT\"," GOOD_KEYS "}", /* no headers */
        "{\"op\":\"POST\"," GOOD_KEYS ",\"headers\":{}}",
        "{\"op\":\"PUT\"," GOOD_KEYS ",\"headers\":[]}",
        "{\"op\":\"PUT\"," GOOD_KEYS ",\"headers\":{\"X-Size\":1}}",
        "{\"op\":\"PUT\"," GOOD_KEYS ",\"headers\":{\"X-A\":\"1\\r\\nB: 2\"}}",
        "{\"op\":\"PUT\"," GOOD_KEYS ",\"headers\":{\"X A\":\"1\"}}",
        "{\"op\":\"PUT\"," GOOD_KEYS ",\"headers\":{\"\":\"1\"}}",
        "{\"op\":\"PUT\"," GOOD_KEYS ",\"headers\":{\"content-length\":\"1\"}}",
        "{\"op\":\"PUT\"," GOOD_KEYS ",\"headers\":{\"X\":\"a\\u0000b\"}}",
        "{\"op\":\"PUT\",\"account\":\"\",\"container\":\"c\",\"obj\":\"o\","
        "\"hosts\":\"h:1\",\"devices\":\"d\",\"partition\":\"1\","
        "\"headers\":{}}",
        "{\"op\":\"PUT\",\"container\":\"c\",\"obj\":\"o\",\"hosts\":\"h:1\","
        "\"devices\":\"d\",\"partition\":\"1\",\"headers\":{}}",
        "{\"op\":\"PUT\",\"op\":\"PUT\"," GOOD_KEYS ",\"headers\":{}}",
        /* nodes that could never be reached */
        "{\"op\":\"PUT\",\"account\":\"a\",\"container\":\"c\",\"obj\":\"o\","
        "\"hosts\":\"h:1,h:2\",\"devices\":\"d\",\"partition\":\"1\","
        "\"headers\":{}}",
        "{\"op\":\"PUT\",\"account\":\"a\",\"container\":\"c\",\"obj\":\"o\","
        "\"hosts\":\"nohost\",\"devices\":\"d\",\"partition\":\"1\","
        "\"headers\":{}}",
        "{\"op\":\"PUT\",\"account\":\"a\",\"container\":\"c\",\"obj\":\"o\","
        "\"hosts\":\"h:99999\",\"devices\":\"d\",\"partition\":\"1\","
        "\"headers\":{}}",
    };
    const char *good = "{\"op\":\"DELETE\"," GOOD_KEYS ",\"headers\":{}}";
    struct obj_update u = {0};
    json_t *doc = (json_t *)1;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(
            obj_update_parse_async(bad[i], strlen(bad[i]), &u, &doc), -EINVAL);
        assert_null(doc);
    }
    assert_int_equal(obj_update_parse_async(good, strlen(good), &u, &doc), 0);
    assert_string_equal(u.op, "DELETE");
    assert_int_equal(u.n_headers, 0);
    json_decref(doc);
}

static void test_too_many_headers_refused(void **state)
{
    char buf[8192];
    size_t n;
    struct obj_update u = {0};
    json_t *doc;

    (void)state;
    n = (size_t)snprintf(buf, sizeof(buf),
                         "{\"op\":\"PUT\"," GOOD_KEYS ",\"headers\":{");
    for (int i = 0; i <= OBJ_UPDATE_MAX_HEADERS; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s\"X-%d\":\"v\"",
                              i ? "," : "", i);
    n += (size_t)snprintf(buf + n, sizeof(buf) - n, "}}");
    assert_int_equal(obj_update_parse_async(buf, n, &u, &doc), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_written_pending_reads_back),
        cmocka_unit_test(test_malformed_pendings_refused),
        cmocka_unit_test(test_too_many_headers_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
