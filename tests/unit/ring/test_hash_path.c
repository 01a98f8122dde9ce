/* Description: hash_path against values from Swift 2.30's
 * swift.common.utils.hash_path, and loading the prefix and suffix from a
 * swift.conf. */
#include "ring/hash_path.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* Computed with /usr/bin/python3 and HASH_PATH_PREFIX = b'kuraPre',
 * HASH_PATH_SUFFIX = b'kuraSuf'. */
static const struct {
    const char *a, *c, *o, *hex;
} known[] = {
    {"AUTH_test", NULL, NULL, "1bb9a31dbdf61b850ef9c0d1e73327b0"},
    {"AUTH_test", "photos", NULL, "ef0c30f9e560ae56d10517491593a7eb"},
    {"AUTH_test", "photos", "cat.jpg", "9db0b9e85f1b0209fc646f100d82f99b"},
    {"AUTH_test", "c", "", "393c3d31b2c07e40ff8baf8fbd58bdaa"},
    {"a\xc3\xa9", "\xe2\x98\x83", "\xf0\x9f\x98\x80/x y",
     "278183b13a7a132a748e363c23baf9d3"},
    {"", NULL, NULL, "9a42961a45b23d739580144f50bdfc4a"},
};

static char conf[256];

static int setup(void **state)
{
    (void)state;
    snprintf(conf, sizeof(conf), "%s/kura-test-%d-swift.conf",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(conf);
    return 0;
}

static void write_conf(const char *text)
{
    FILE *f = fopen(conf, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void assert_hash(const struct hash_path_conf *hc, const char *a,
                        const char *c, const char *o, const char *want)
{
    unsigned char digest[16];
    char hex[33];

    assert_int_equal(hash_path(hc, a, c, o, digest), 0);
    hash_path_hex(digest, hex);
    assert_string_equal(hex, want);
}

static void test_from_hex_inverts_hex(void **state)
{
    unsigned char digest[16], back[16];
    char hex[33];

    (void)state;
    for (int i = 0; i < 16; i++)
        digest[i] = (unsigned char)(i * 17 + 3);
    hash_path_hex(digest, hex);
    assert_int_equal(hash_path_from_hex(hex, back), 0);
    assert_memory_equal(back, digest, 16);
    assert_int_equal(
        hash_path_from_hex("00112233445566778899AABBCCDDEEFF", back), 0);
    assert_int_equal(back[15], 0xff);
    assert_int_equal(hash_path_from_hex("0011223344556677", back), -EINVAL);
    assert_int_equal(
        hash_path_from_hex("00112233445566778899aabbccddeefg", back), -EINVAL);
    assert_int_equal(
        hash_path_from_hex("00112233445566778899aabbccddeeff0", back), -EINVAL);
}

static void test_known_values(void **state)
{
    struct hash_path_conf hc;

    (void)state;
    assert_int_equal(hash_path_conf_set(&hc, "kuraPre", "kuraSuf"), 0);
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        assert_hash(&hc, known[i].a, known[i].c, known[i].o, known[i].hex);
    hash_path_conf_release(&hc);

    assert_int_equal(hash_path_conf_set(&hc, NULL, "onlysuffix"), 0);
    assert_hash(&hc, "AUTH_test", "photos", "cat.jpg",
                "d1ae513a96ceef1b942b0dc7e9157aa8");
    hash_path_conf_release(&hc);
}

static void test_object_needs_container(void **state)
{
    struct hash_path_conf hc;
    unsigned char digest[16];

    (void)state;
    assert_int_equal(hash_path_conf_set(&hc, "p", "s"), 0);
    assert_int_equal(hash_path(&hc, "a", NULL, "o", digest), -EINVAL);
    assert_int_equal(hash_path(&hc, "a", "", "o", digest), -EINVAL);
    hash_path_conf_release(&hc);
}

static void test_conf_load(void **state)
{
    struct hash_path_conf hc;
    char err[HASH_PATH_ERRLEN];

    (void)state;
    write_conf("[swift-hash]\n"
               "# the cluster's secrets\n"
               "swift_hash_path_suffix = kuraSuf\n"
               "SWIFT_HASH_PATH_PREFIX = kuraPre\n"
               "\n[storage-policy:0]\nname = gold\ndefault = yes\n");
    assert_int_equal(hash_path_conf_load(&hc, conf, err), 0);
    assert_string_equal(hc.prefix, "kuraPre");
    assert_string_equal(hc.suffix, "kuraSuf");
    assert_hash(&hc, "AUTH_test", "photos", "cat.jpg", known[2].hex);
    hash_path_conf_release(&hc);
    assert_null(hc.prefix);
}

static void test_conf_refuses_no_secrets(void **state)
{
    struct hash_path_conf hc;
    char err[HASH_PATH_ERRLEN];

    (void)state;
    write_conf("[swift-hash]\nswift_hash_path_suffix =\n"
               "[other]\nswift_hash_path_prefix = notthisone\n");
    assert_int_equal(hash_path_conf_load(&hc, conf, err), -EINVAL);
    assert_non_null(strstr(err, "missing"));
    assert_null(hc.prefix);
    write_conf("not an ini file\n");
    assert_int_equal(hash_path_conf_load(&hc, conf, err), -EINVAL);
    assert_int_equal(hash_path_conf_load(&hc, "/nonexistent/swift.conf", err),
                     -ENOENT);
    assert_int_equal(hash_path_conf_set(&hc, "", NULL), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_values),
        cmocka_unit_test(test_from_hex_inverts_hex),
        cmocka_unit_test(test_object_needs_container),
        cmocka_unit_test_setup_teardown(test_conf_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conf_refuses_no_secrets, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
