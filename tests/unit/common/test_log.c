/* Description: log lines (name prefix, level filter, txn suffix, escaping,
 * cutting), whole lines from concurrent threads, the access line and
 * Swift-shaped transaction ids. */
#include "common/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static char dir[] = "/tmp/kura-log-XXXXXX";
static char path[128];
static char text[1 << 20];

/* Reopens the log on an empty file. */
static void start(int level)
{
    unlink(path);
    assert_int_equal(log_open("object-server", level, path), 0);
}

/* Closes the log and returns its text with each line's time prefix
 * ("2026-01-02T03:04:05.123456Z ") removed. */
static const char *finish(void)
{
    char *src, *dst, *line;
    FILE *f;
    size_t n;

    log_close();
    f = fopen(path, "r");
    assert_non_null(f);
    n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    fclose(f);
    for (src = dst = text; *src; src = line) {
        line = strchr(src, '\n');
        line = line ? line + 1 : src + strlen(src);
        assert_true(line - src > 28);
        assert_int_equal(src[10], 'T');
        assert_int_equal(src[26], 'Z');
        memmove(dst, src + 28, (size_t)(line - src - 28));
        dst += line - src - 28;
    }
    *dst = '\0';
    return text;
}

static int evaluated;

static int side_effect(void)
{
    return ++evaluated;
}

static void test_levels(void **state)
{
    (void)state;
    start(LOG_INFO);
    evaluated = 0;
    log_debug("hidden %d", side_effect());
    assert_int_equal(evaluated, 0); /* arguments not even evaluated */
    log_info("shown %d", 1);
    log_err("cannot open '%s': %s", "/srv/node/d1", strerror(ENOSPC));
    log_msg(LOG_DEBUG, "hidden too");
    log_set_level(LOG_DEBUG);
    log_debug("now shown");
    assert_true(log_enabled(LOG_DEBUG));
    log_set_level(LOG_ERR);
    assert_false(log_enabled(LOG_WARNING));
    log_warning("hidden again");
    assert_string_equal(finish(), "object-server: shown 1\n"
                                  "object-server: cannot open '/srv/node/d1': "
                                  "No space left on device\n"
                                  "object-server: now shown\n");
}

static void test_txn_and_escapes(void **state)
{
    (void)state;
    start(LOG_INFO);
    log_txn(LOG_ERR, "tx7f3ab2c0d1e4f5a6b7c8d-0065a1b2c3", "cannot write '%s'",
            "a\nb\tc\x7f");
    log_txn(LOG_ERR, NULL, "no txn");
    log_txn(LOG_ERR, "", "empty txn");
    log_txn(LOG_ERR, "evil\n", "client txn");
    log_txn(LOG_DEBUG, "tx", "filtered");
    assert_string_equal(finish(),
                        "object-server: cannot write 'a#012b#011c#177' "
                        "(txn: tx7f3ab2c0d1e4f5a6b7c8d-0065a1b2c3)\n"
                        "object-server: no txn\n"
                        "object-server: empty txn\n"
                        "object-server: client txn (txn: evil#012)\n");
}

static void test_long_line_is_cut(void **state)
{
    char *big = malloc(3 * LOG_LINE_MAX);
    const char *out;

    (void)state;
    assert_non_null(big);
    memset(big, 'x', 3 * LOG_LINE_MAX - 1);
    big[3 * LOG_LINE_MAX - 1] = '\0';
    start(LOG_INFO);
    log_info("%s", big);
    out = finish();
    /* one line, time prefix included, at most LOG_LINE_MAX bytes */
    assert_int_equal(strlen(out) + 28, LOG_LINE_MAX);
    assert_string_equal(out + strlen(out) - 5, "x...\n");
    free(big);
}

static void test_access_line(void **state)
{
    struct log_access a = {
        .client = "127.0.0.1",
        .method = "PUT",
        .path = "/v1/AUTH_test/c/o%20x",
        .status = 201,
        .bytes_in = 1024,
        .seconds = 0.01234,
        .txn = "tx7f3ab2c0d1e4f5a6b7c8d-0065a1b2c3",
    };
    struct log_access empty = {.status = 499};

    (void)state;
    start(LOG_INFO);
    log_access(&a);
    log_access(&empty);
    assert_string_equal(finish(),
                        "object-server: 127.0.0.1 PUT /v1/AUTH_test/c/o%20x "
                        "201 1024 0 0.0123 tx7f3ab2c0d1e4f5a6b7c8d-0065a1b2c3\n"
                        "object-server: - - - 499 0 0 0.0000 -\n");
}

#define THREADS 4
#define LINES 2000

static void *writer(void *arg)
{
    int i, id = (int)(intptr_t)arg;

    for (i = 0; i < LINES; i++)
        log_txn(LOG_INFO, "tx0", "thread %d line %d %s", id, i,
                "padding padding padding padding padding padding padding");
    return NULL;
}

static void test_threads_write_whole_lines(void **state)
{
    pthread_t t[THREADS];
    int i, seen[THREADS] = {0};
    const char *p;

    (void)state;
    start(LOG_INFO);
    for (i = 0; i < THREADS; i++)
        assert_int_equal(
            pthread_create(&t[i], NULL, writer, (void *)(intptr_t)i), 0);
    for (i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    for (p = finish(); *p; p = strchr(p, '\n') + 1) {
        int id, n, end = 0;

        assert_int_equal(sscanf(p,
                                "object-server: thread %d line %d padding "
                                "padding padding padding padding padding "
                                "padding (txn: tx0)\n%n",
                                &id, &n, &end),
                         2);
        assert_true(end > 0);
        assert_int_equal(n, seen[id]++); /* each thread's lines in order */
    }
    for (i = 0; i < THREADS; i++)
        assert_int_equal(seen[i], LINES);
}

static void test_level_names(void **state)
{
    int level;

    (void)state;
    assert_int_equal(log_level_parse("INFO", &level), 0);
    assert_int_equal(level, LOG_INFO);
    assert_int_equal(log_level_parse("debug", &level), 0);
    assert_int_equal(level, LOG_DEBUG);
    assert_int_equal(log_level_parse("Warn", &level), 0);
    assert_int_equal(level, LOG_WARNING);
    assert_int_equal(log_level_parse("error", &level), 0);
    assert_int_equal(level, LOG_ERR);
    assert_int_equal(log_level_parse("critical", &level), 0);
    assert_int_equal(level, LOG_CRIT);
    assert_int_equal(log_level_parse("notice", &level), 0);
    assert_int_equal(level, LOG_NOTICE);
    assert_int_equal(log_level_parse("verbose", &level), -EINVAL);
    assert_int_equal(log_open("x", LOG_INFO, "/nonexistent/dir/log"), -ENOENT);
}

static void test_txn_id_shape(void **state)
{
    char a[TXN_ID_LEN + 1], b[TXN_ID_LEN + 1];
    unsigned long long t;
    int i;

    (void)state;
    txn_id_new(a);
    txn_id_new(b);
    assert_int_equal(strlen(a), TXN_ID_LEN);
    assert_string_not_equal(a, b);
    assert_memory_equal(a, "tx", 2);
    for (i = 2; i < 23; i++)
        assert_non_null(strchr("0123456789abcdef", a[i]));
    assert_int_equal(a[14], '4');           /* uuid4 version */
    assert_non_null(strchr("89ab", a[18])); /* uuid4 variant */
    assert_int_equal(a[23], '-');
    assert_int_equal(sscanf(a + 24, "%10llx", &t), 1);
    assert_true(t + 5 >= (unsigned long long)time(NULL));
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof(path), "%s/test.log", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_txn_and_escapes),
        cmocka_unit_test(test_long_line_is_cut),
        cmocka_unit_test(test_access_line),
        cmocka_unit_test(test_threads_write_whole_lines),
        cmocka_unit_test(test_level_names),
        cmocka_unit_test(test_txn_id_shape),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
