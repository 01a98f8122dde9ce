/* Description: device records and address normalization, compared with
 * what Swift 2.30's validate_and_normalize_address returns. */
#include "ring/dev.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* NULL 'want': Swift raises ValueError. */
static const struct {
    const char *in;
    const char *want;
} addresses[] = {
    {"127.0.0.1", "127.0.0.1"},
    {"[::1]", "::1"},
    {"FE80::0:1", "fe80::1"},
    {"[FE80::0:1]", "fe80::1"},
    {"[[::1]]", "::1"},
    {"[127.0.0.1]", "127.0.0.1"},
    {"::ffff:1.2.3.4", "::ffff:1.2.3.4"},
    {"Host.Example.COM", "host.example.com"},
    {"host.example.com.", "host.example.com."},
    {"999.1.1.1", "999.1.1.1"}, /* numeric labels make a valid host name */
    {"1.2.3", "1.2.3"},
    {"[host]", NULL},
    {"-bad.com", NULL},
    {"bad-.com", NULL},
    {"a..b", NULL},
    {"", NULL},
    {"under_score", NULL},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
     NULL},
};

static void test_normalize_ip_like_swift(void **state)
{
    char out[RING_DEV_IP_MAX + 1];

    (void)state;
    for (size_t i = 0; i < sizeof(addresses) / sizeof(addresses[0]); i++) {
        int rc = ring_dev_normalize_ip(addresses[i].in, out);

        if (!addresses[i].want) {
            if (rc != -EINVAL)
                fail_msg("'%s' accepted as '%s'", addresses[i].in, out);
            continue;
        }
        if (rc)
            fail_msg("'%s' rejected", addresses[i].in);
        assert_string_equal(out, addresses[i].want);
    }
}

static void test_normalize_ip_rejects_long_names(void **state)
{
    char in[400], out[RING_DEV_IP_MAX + 1];

    (void)state;
    /* 64 labels of "abc." = 256 bytes: one too many for a host name */
    for (int i = 0; i < 64; i++)
        memcpy(in + 4 * i, "abc.", 4);
    in[255] = '\0';
    assert_int_equal(ring_dev_normalize_ip(in, out), 0);
    in[255] = 'x';
    in[256] = '\0';
    assert_int_equal(ring_dev_normalize_ip(in, out), -EINVAL);
    memset(in, 'a', sizeof(in) - 1);
    in[sizeof(in) - 1] = '\0';
    assert_int_equal(ring_dev_normalize_ip(in, out), -EINVAL);
}

static void test_ip_is_v6(void **state)
{
    (void)state;
    assert_true(ring_dev_ip_is_v6("::1"));
    assert_true(ring_dev_ip_is_v6("fe80::1"));
    assert_false(ring_dev_ip_is_v6("[::1]"));
    assert_false(ring_dev_ip_is_v6("127.0.0.1"));
    assert_false(ring_dev_ip_is_v6("host"));
    assert_false(ring_dev_ip_is_v6(NULL));
}

static void test_copy_and_release(void **state)
{
    struct ring_dev src = {
        .id = 3,
        .region = 2,
        .zone = 5,
        .ip = (char *)"10.0.0.1",
        .port = 6200,
        .replication_ip = (char *)"10.1.0.1",
        .replication_port = 6300,
        .device = (char *)"sdb",
        .weight = 2.5,
        .meta = (char *)"m",
    };
    struct ring_dev dst, zero = {0};

    (void)state;
    assert_int_equal(ring_dev_copy(&dst, &src), 0);
    assert_int_equal(dst.id, 3);
    assert_int_equal(dst.region, 2);
    assert_true(dst.ip != src.ip);
    assert_string_equal(dst.ip, "10.0.0.1");
    assert_string_equal(dst.replication_ip, "10.1.0.1");
    assert_string_equal(dst.device, "sdb");
    assert_string_equal(dst.meta, "m");
    assert_true(dst.weight == 2.5);
    ring_dev_release(&dst);
    assert_memory_equal(&dst, &zero, sizeof(dst));
    ring_dev_release(&dst); /* a zeroed device releases fine */

    src.meta = NULL;
    assert_int_equal(ring_dev_copy(&dst, &src), 0);
    assert_null(dst.meta);
    ring_dev_release(&dst);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize_ip_like_swift),
        cmocka_unit_test(test_normalize_ip_rejects_long_names),
        cmocka_unit_test(test_ip_is_v6),
        cmocka_unit_test(test_copy_and_release),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
