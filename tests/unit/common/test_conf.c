/* Description: Swift-style ini files (ConfigParser's rules, [DEFAULT]
 * fallback, paste.deploy sections) and typed option tables. */
#include "common/conf.h"

#include "common/log.h"

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

static char dir[] = "/tmp/kura-conf-XXXXXX";
static char path[128], log_path[128];

static void write_file(const char *p, const char *text)
{
    FILE *f = fopen(p, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static struct conf *load(const char *text)
{
    char err[CONF_ERR_LEN];
    struct conf *conf;

    write_file(path, text);
    assert_int_equal(conf_load(path, &conf, err), 0);
    assert_string_equal(err, "");
    return conf;
}

/* Loads text that must fail; returns the message after "path:". */
static const char *load_error(const char *text, int expected)
{
    static char err[CONF_ERR_LEN];
    struct conf *conf;

    write_file(path, text);
    assert_int_equal(conf_load(path, &conf, err), expected);
    assert_null(conf);
    assert_memory_equal(err, path, strlen(path));
    return err + strlen(path);
}

/* The pipeline of Swift 2.30's proxy-server.conf-sample: 245 bytes, over
 * Debian libinih's 200-byte line limit. */
#define LONG_PIPELINE                                                          \
    "catch_errors gatekeeper healthcheck proxy-logging cache listing_formats " \
    "container_sync bulk tempurl ratelimit tempauth copy container-quotas "    \
    "account-quotas slo dlo versioned_writes symlink proxy-logging "           \
    "proxy-server"

static const char sample[] = "\xef\xbb\xbf# proxy-server.conf\n"
                             "[DEFAULT]\n"
                             "bind_port = 8080\n"
                             "workers: 2\n"
                             "log_level = INFO\n"
                             "\n"
                             "[pipeline:main]\n"
                             "pipeline = " LONG_PIPELINE "\n"
                             "\n"
                             "[app:proxy-server]\n"
                             "use = egg:swift#proxy\n"
                             "set log_name = proxy-one\n"
                             "Allow_Account_Management = yes\n"
                             "node_timeout = 10 # not a comment\n"
                             "   ; an indented comment\n"
                             "\n"
                             "[filter:tempauth]\n"
                             "use = egg:swift#tempauth\n"
                             "user_admin_admin = admin .admin .reseller_admin\n"
                             "user_test_tester = testing .admin\n"
                             "multi = first\n"
                             "    second\n"
                             "\tthird\n";

static void test_load_swift_shape(void **state)
{
    struct conf *conf = load(sample);
    unsigned int line;

    (void)state;
    assert_true(conf_has_section(conf, "DEFAULT"));
    assert_true(conf_has_section(conf, "filter:tempauth"));
    assert_false(conf_has_section(conf, "filter:nope"));
    assert_string_equal(conf_get(conf, "pipeline:main", "pipeline", &line),
                        LONG_PIPELINE);
    assert_int_equal(line, 8);
    /* a missing key falls back to [DEFAULT] */
    assert_string_equal(conf_get(conf, "app:proxy-server", "bind_port", &line),
                        "8080");
    assert_int_equal(line, 3);
    assert_string_equal(conf_get(conf, "DEFAULT", "workers", NULL), "2");
    assert_string_equal(conf_get(conf, "app:proxy-server", "log_name", NULL),
                        "proxy-one");
    assert_string_equal(
        conf_get(conf, "app:proxy-server", "allow_account_management", NULL),
        "yes");
    assert_string_equal(
        conf_get(conf, "app:proxy-server", "node_timeout", NULL),
        "10 # not a comment");
    assert_string_equal(conf_get(conf, "filter:tempauth", "multi", NULL),
                        "first\nsecond\nthird");
    assert_null(conf_get(conf, "filter:tempauth", "nope", &line));
    assert_int_equal(line, 0);
    assert_null(conf_get(conf, "no-such-section", "bind_port", NULL));
    assert_string_equal(conf_path(conf), path);
    conf_free(conf);
}

struct collected {
    char keys[512];
    int stop_at;
    int n;
};

static int collect(const char *key, const char *value, unsigned int line,
                   void *arg)
{
    struct collected *c = arg;
    size_t len = strlen(c->keys);

    (void)value;
    snprintf(c->keys + len, sizeof(c->keys) - len, "%s:%u ", key, line);
    return ++c->n == c->stop_at ? 42 : 0;
}

static int collect_section(const char *name, void *arg)
{
    return collect(name, NULL, 0, arg);
}

static void test_foreach(void **state)
{
    struct conf *conf = load(sample);
    struct collected c = {0};

    (void)state;
    assert_int_equal(conf_foreach(conf, "filter:tempauth", 0, collect, &c), 0);
    assert_string_equal(c.keys, "use:18 user_admin_admin:19 "
                                "user_test_tester:20 multi:21 ");
    memset(&c, 0, sizeof(c));
    assert_int_equal(
        conf_foreach(conf, "app:proxy-server", CONF_WITH_DEFAULTS, collect, &c),
        0);
    assert_string_equal(c.keys, "use:11 log_name:12 "
                                "allow_account_management:13 node_timeout:14 "
                                "bind_port:3 workers:4 log_level:5 ");
    memset(&c, 0, sizeof(c));
    c.stop_at = 2;
    assert_int_equal(conf_foreach(conf, "filter:tempauth", 0, collect, &c), 42);
    assert_int_equal(conf_foreach(conf, "nope", 0, collect, &c), -ENOENT);
    memset(&c, 0, sizeof(c));
    assert_int_equal(conf_foreach_section(conf, collect_section, &c), 0);
    assert_string_equal(c.keys, "pipeline:main:0 app:proxy-server:0 "
                                "filter:tempauth:0 ");
    conf_free(conf);
}

static void test_syntax_errors(void **state)
{
    (void)state;
    assert_string_equal(load_error("[a]\nx = 1\nX = 2\n", -EINVAL),
                        ":3: option 'x' already set in [a] on line 2");
    assert_string_equal(load_error("[a]\n[b]\n[a]\n", -EINVAL),
                        ":3: section [a] already defined on line 1");
    assert_string_equal(load_error("x = 1\n", -EINVAL),
                        ":1: option 'x' before any [section]");
    assert_string_equal(load_error("[a]\njust words\n", -EINVAL),
                        ":2: expected 'key = value', '[section]' or a comment");
    assert_string_equal(load_error("[a]\n = 1\n", -EINVAL),
                        ":2: empty option name");
    assert_string_equal(load_error("[]\n", -EINVAL), ":1: empty section name");
}

static void test_nul_byte(void **state)
{
    char err[CONF_ERR_LEN], expect[256];
    struct conf *conf;
    FILE *f = fopen(path, "w");

    (void)state;
    assert_non_null(f);
    fwrite("[a]\nx = a\0b\n", 1, 12, f);
    fclose(f);
    assert_int_equal(conf_load(path, &conf, err), -EINVAL);
    snprintf(expect, sizeof(expect), "%s:2: NUL byte in line", path);
    assert_string_equal(err, expect);
}

static void test_missing_file(void **state)
{
    char err[CONF_ERR_LEN], expect[256], missing[160];
    struct conf *conf = (struct conf *)1;

    (void)state;
    snprintf(missing, sizeof(missing), "%s/nope.conf", dir);
    assert_int_equal(conf_load(missing, &conf, err), -ENOENT);
    assert_null(conf);
    snprintf(expect, sizeof(expect),
             "%s: cannot open: No such file or directory", missing);
    assert_string_equal(err, expect);
}

struct server_conf {
    unsigned int bind_port;
    unsigned int workers;
    bool allow_account_management;
    bool mount_check;
    uint64_t max_file_size;
    uint64_t fallocate_reserve;
    double node_timeout;
    double conn_timeout;
    char *swift_dir;
    char *bind_ip;
    struct log_conf log;
};

static const struct conf_option server_options[] = {
    CONF_UINT("bind_port", struct server_conf, bind_port, 6200, 1, 65535),
    CONF_UINT("workers", struct server_conf, workers, 1, 0, 1024),
    CONF_BOOL("allow_account_management", struct server_conf,
              allow_account_management, false),
    CONF_BOOL("mount_check", struct server_conf, mount_check, true),
    CONF_SIZE("max_file_size", struct server_conf, max_file_size, 5368709122ULL,
              0, UINT64_MAX),
    CONF_SIZE("fallocate_reserve", struct server_conf, fallocate_reserve, 0, 0,
              UINT64_MAX),
    CONF_DOUBLE("node_timeout", struct server_conf, node_timeout, 10.0, 0.0,
                3600.0),
    CONF_DOUBLE("conn_timeout", struct server_conf, conn_timeout, 0.5, 0.0,
                60.0),
    CONF_STR("swift_dir", struct server_conf, swift_dir, "/etc/swift"),
    CONF_STR("bind_ip", struct server_conf, bind_ip, NULL),
    LOG_CONF_OPTIONS(struct server_conf, log, "object-server"),
    CONF_END,
};

static void test_apply_defaults_values_and_fallback(void **state)
{
    struct conf *conf = load("[DEFAULT]\n"
                             "bind_port = 6300\n"
                             "log_level = DEBUG\n"
                             "[app:object-server]\n"
                             "use = egg:swift#object\n"
                             "workers = 8\n"
                             "mount_check = Off\n"
                             "allow_account_management = T\n"
                             "fallocate_reserve = 2g\n"
                             "conn_timeout = 1.5e-1\n"
                             "swift_dir = /srv/kura\n");
    struct server_conf c;
    char err[CONF_ERR_LEN];

    (void)state;
    memset(&c, 0xa5, sizeof(c)); /* conf_apply must not trust the struct */
    assert_int_equal(
        conf_apply(conf, "app:object-server", server_options, &c, err), 0);
    assert_string_equal(err, "");
    assert_int_equal(c.bind_port, 6300); /* from [DEFAULT] */
    assert_int_equal(c.workers, 8);
    assert_false(c.mount_check);
    assert_true(c.allow_account_management);
    assert_int_equal(c.max_file_size, 5368709122ULL); /* default */
    assert_int_equal(c.fallocate_reserve, 2ULL << 30);
    assert_true(c.node_timeout == 10.0);
    assert_true(c.conn_timeout == 0.15);
    assert_string_equal(c.swift_dir, "/srv/kura");
    assert_null(c.bind_ip);
    assert_string_equal(c.log.name, "object-server");
    assert_int_equal(c.log.level, LOG_DEBUG);
    assert_null(c.log.file);
    conf_release(server_options, &c);
    assert_null(c.swift_dir);
    assert_null(c.log.name);

    assert_int_equal(conf_apply(conf, "app:proxy", server_options, &c, err),
                     -ENOENT);
    assert_non_null(strstr(err, ": no section [app:proxy]"));
    conf_free(conf);
}

static void expect_bad_value(const char *key, const char *value,
                             const char *reason)
{
    char text[256], err[CONF_ERR_LEN], expect[CONF_ERR_LEN];
    struct server_conf c;
    struct conf *conf;

    snprintf(text, sizeof(text), "[s]\nswift_dir = /x\n%s = %s\n", key, value);
    conf = load(text);
    assert_int_equal(conf_apply(conf, "s", server_options, &c, err), -EINVAL);
    snprintf(expect, sizeof(expect), "%s:3: option '%s': %s", path, key,
             reason);
    assert_string_equal(err, expect);
    assert_null(c.swift_dir); /* released on failure */
    conf_free(conf);
}

static void test_apply_rejects_bad_values(void **state)
{
    static const char port[] = "expected an integer from 1 to 65535";
    static const char size[] =
        "expected a size in bytes (K/M/G/T) from 0 to 18446744073709551615";

    (void)state;
    expect_bad_value("bind_port", "0", port);
    expect_bad_value("bind_port", "65536", port);
    expect_bad_value("bind_port", "-1", port);
    expect_bad_value("bind_port", "80x", port);
    expect_bad_value("bind_port", "99999999999999999999999", port);
    expect_bad_value("bind_port", "", port);
    expect_bad_value("mount_check", "maybe", "expected true or false");
    expect_bad_value("max_file_size", "5x", size);
    expect_bad_value("max_file_size", "17179869184T", size);
    expect_bad_value("node_timeout", "nan", "expected a number from 0 to 3600");
    expect_bad_value("node_timeout", "-1", "expected a number from 0 to 3600");
    expect_bad_value("node_timeout", "1e999",
                     "expected a number from 0 to 3600");
    expect_bad_value("log_level", "loud",
                     "expected debug, info, notice, warning, error or "
                     "critical");
}

static void test_bool_values(void **state)
{
    static const char *const yes[] = {"true", "1", "yes",  "on",
                                      "t",    "y", "TRUE", "On"};
    static const char *const no[] = {"false", "0", "no",    "off",
                                     "f",     "n", "False", "NO"};
    size_t i;
    bool b;

    (void)state;
    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        assert_int_equal(conf_parse_bool(yes[i], &b), 0);
        assert_true(b);
        assert_int_equal(conf_parse_bool(no[i], &b), 0);
        assert_false(b);
    }
    assert_int_equal(conf_parse_bool("", &b), -EINVAL);
    assert_int_equal(conf_parse_bool("2", &b), -EINVAL);
    assert_int_equal(conf_parse_bool("yess", &b), -EINVAL);
}

static void test_unknown_key_is_a_warning(void **state)
{
    struct conf *conf = load("[DEFAULT]\nsomething_global = 1\n"
                             "[app:object-server]\nuse = egg:swift#object\n"
                             "bind_prot = 6200\n");
    char err[CONF_ERR_LEN], logged[1024] = "", expect[512];
    struct server_conf c;
    FILE *f;
    size_t n;

    (void)state;
    assert_int_equal(log_open("test", LOG_INFO, log_path), 0);
    assert_int_equal(
        conf_apply(conf, "app:object-server", server_options, &c, err), 0);
    log_close();
    f = fopen(log_path, "r");
    assert_non_null(f);
    n = fread(logged, 1, sizeof(logged) - 1, f);
    logged[n] = '\0';
    fclose(f);
    /* one line, about the typo only: not "use", not the [DEFAULT] key */
    snprintf(expect, sizeof(expect),
             "test: %s:5: unknown option 'bind_prot' in "
             "[app:object-server]\n",
             path);
    assert_non_null(strstr(logged, expect));
    assert_int_equal(strchr(logged, '\n') - logged + 1, strlen(logged));
    assert_int_equal(c.bind_port, 6200);
    conf_release(server_options, &c);
    conf_free(conf);
}

/* Random files built from ini fragments never crash the parser; what
 * loads answers lookups. */
static void test_random_files(void **state)
{
    static const char *const bits[] = {
        "[", "]",    "[s]", "[DEFAULT]",    "=",  ":",
        "k", "K",    " ",   "\t",           "\n", "#",
        ";", "set ", "v",   "\xef\xbb\xbf", "%",  "\r\n",
    };
    unsigned int seed = 42;
    char text[256];
    int i, j, loaded = 0;

    (void)state;
    for (i = 0; i < 3000; i++) {
        char err[CONF_ERR_LEN];
        struct conf *conf;
        int n = rand_r(&seed) % 40;

        text[0] = '\0';
        for (j = 0; j < n; j++)
            strcat(text,
                   bits[rand_r(&seed) % (int)(sizeof(bits) / sizeof(bits[0]))]);
        write_file(path, text);
        if (conf_load(path, &conf, err)) {
            assert_non_null(strstr(err, path));
            continue;
        }
        loaded++;
        (void)conf_get(conf, "s", "k", NULL);
        conf_free(conf);
    }
    assert_true(loaded > 10);
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof(path), "%s/test.conf", dir);
    snprintf(log_path, sizeof(log_path), "%s/test.log", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    unlink(log_path);
    return rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_swift_shape),
        cmocka_unit_test(test_foreach),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_nul_byte),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_apply_defaults_values_and_fallback),
        cmocka_unit_test(test_apply_rejects_bad_values),
        cmocka_unit_test(test_bool_values),
        cmocka_unit_test(test_unknown_key_is_a_warning),
        cmocka_unit_test(test_random_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
