/* Description: ring file format v1, written and read back, and every kind
 * of malformed file rejected with -EINVAL and an empty result. */
#include "ring/ringfile.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/unit/ring/ring_fixture.h"

#define N_3Z (sizeof(FIXTURE_DEVS_3Z) / sizeof(FIXTURE_DEVS_3Z[0]))

/* A JSON header with two devices, 2^(32 - shift) partitions. */
#define HDR_ORDER(order, shift, replicas)                                      \
    "{\"byteorder\": \"" #order "\", \"devs\": [{\"device\": \"sda\", "        \
    "\"id\": 0, \"ip\": \"10.0.0.1\", \"port\": 6200, \"zone\": 1, "           \
    "\"weight\": 1.0}, {\"device\": \"sdb\", \"id\": 1, \"ip\": "              \
    "\"10.0.0.2\", "                                                           \
    "\"port\": 6200, \"zone\": 2, \"weight\": 1.0}], \"part_shift\": " #shift  \
    ", \"replica_count\": " #replicas "}"
#define HDR(shift, replicas) HDR_ORDER(little, shift, replicas)

static char path[256];

static int setup(void **state)
{
    (void)state;
    fixture_path(path, sizeof(path), "ringfile.ring.gz");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

static void assert_same_ring(const struct ring_data *a,
                             const struct ring_data *b)
{
    assert_int_equal(a->part_shift, b->part_shift);
    assert_int_equal(a->n_replicas, b->n_replicas);
    assert_int_equal(a->n_devs, b->n_devs);
    assert_int_equal(a->version, b->version);
    assert_int_equal(a->next_part_power, b->next_part_power);
    for (size_t i = 0; i < a->n_devs; i++) {
        const struct ring_dev *x = a->devs[i], *y = b->devs[i];

        if (!x) {
            assert_null(y);
            continue;
        }
        assert_non_null(y);
        assert_int_equal(x->id, y->id);
        assert_int_equal(x->region, y->region);
        assert_int_equal(x->zone, y->zone);
        assert_string_equal(x->ip, y->ip);
        assert_int_equal(x->port, y->port);
        assert_string_equal(x->replication_ip, y->replication_ip);
        assert_int_equal(x->replication_port, y->replication_port);
        assert_string_equal(x->device, y->device);
        assert_true(x->weight == y->weight);
        assert_string_equal(x->meta, y->meta);
    }
    for (size_t r = 0; r < a->n_replicas; r++) {
        assert_int_equal(a->replica_parts[r], b->replica_parts[r]);
        assert_memory_equal(a->replica2part2dev[r], b->replica2part2dev[r],
                            a->replica_parts[r] * 2);
    }
}

/* ringfile_read() must fail with -EINVAL, an error message and an empty
 * result. */
static void assert_rejected(const char *why)
{
    struct ring_data rd;
    char err[RINGFILE_ERRLEN];

    assert_int_equal(ringfile_read(path, &rd, err), -EINVAL);
    assert_null(rd.devs);
    assert_null(rd.replica2part2dev);
    assert_int_equal(rd.n_devs, 0);
    assert_true(err[0] != '\0');
    assert_null(strchr(err, '\n'));
    if (why && !strstr(err, why))
        fail_msg("error '%s' does not mention '%s'", err, why);
}

static void test_round_trip(void **state)
{
    struct ring_data in, out;
    char err[RINGFILE_ERRLEN];

    (void)state;
    assert_int_equal(fixture_ring(&in, 6, 3, 0, FIXTURE_DEVS_3Z, N_3Z), 0);
    in.version = 7;
    in.next_part_power = 7;
    free(in.devs[2]->meta);
    in.devs[2]->meta = strdup("bought 2024 \"fast\" \xc3\xa9");
    in.devs[2]->weight = 0.1;
    in.devs[3]->replication_ip = realloc(in.devs[3]->replication_ip, 16);
    strcpy(in.devs[3]->replication_ip, "192.168.0.4");
    assert_int_equal(ringfile_write(path, &in, err), 0);
    assert_int_equal(ringfile_read(path, &out, err), 0);
    assert_same_ring(&in, &out);
    ring_data_release(&out);
    ring_data_release(&in);
}

static void test_round_trip_holes_and_fraction(void **state)
{
    struct ring_data in, out;
    char err[RINGFILE_ERRLEN];

    (void)state;
    /* 2.5 replicas: the third array covers half the partitions. */
    assert_int_equal(fixture_ring(&in, 4, 3, 8, FIXTURE_DEVS_3Z, N_3Z), 0);
    /* A removed device leaves a null hole that no partition uses. */
    for (size_t r = 0; r < in.n_replicas; r++)
        for (size_t p = 0; p < in.replica_parts[r]; p++)
            if (in.replica2part2dev[r][p] == 4)
                in.replica2part2dev[r][p] = 5;
    ring_dev_release(in.devs[4]);
    free(in.devs[4]);
    in.devs[4] = NULL;
    assert_int_equal(ringfile_write(path, &in, err), 0);
    assert_int_equal(ringfile_read(path, &out, err), 0);
    assert_int_equal(out.replica_parts[0], 16);
    assert_int_equal(out.replica_parts[2], 8);
    assert_null(out.devs[4]);
    assert_same_ring(&in, &out);
    ring_data_release(&out);
    ring_data_release(&in);
}

static size_t file_bytes(const char *p, unsigned char *buf, size_t len)
{
    int fd = open(p, O_RDONLY);
    ssize_t n;

    assert_true(fd >= 0);
    n = read(fd, buf, len);
    close(fd);
    assert_true(n > 0);
    return (size_t)n;
}

static void test_write_is_deterministic(void **state)
{
    static unsigned char a[1 << 16], b[1 << 16];
    struct ring_data in;
    char err[RINGFILE_ERRLEN];
    size_t na, nb;

    (void)state;
    assert_int_equal(fixture_ring(&in, 8, 3, 0, FIXTURE_DEVS_3Z, N_3Z), 0);
    assert_int_equal(ringfile_write(path, &in, err), 0);
    na = file_bytes(path, a, sizeof(a));
    sleep(1); /* a wall-clock gzip mtime would now differ */
    assert_int_equal(ringfile_write(path, &in, err), 0);
    nb = file_bytes(path, b, sizeof(b));
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
    /* gzip mtime field: 1300507380, little endian, at offset 4 */
    assert_int_equal(a[4] | a[5] << 8 | a[6] << 16 | (unsigned)a[7] << 24,
                     1300507380u);
    ring_data_release(&in);
}

static void test_defaults_for_missing_fields(void **state)
{
    const char *json = "{\"devs\": [null, {\"device\": \"sdb\", \"id\": 1, "
                       "\"ip\": \"::1\", \"port\": 6201, \"zone\": 3}], "
                       "\"part_shift\": 31, \"replica_count\": 1}";
    uint16_t arr[2] = {1, 1};
    struct ring_data rd;
    char err[RINGFILE_ERRLEN];

    (void)state;
    assert_int_equal(
        fixture_write_raw(path, "R1NG", 1, json, ~0u, arr, sizeof(arr)), 0);
    assert_int_equal(ringfile_read(path, &rd, err), 0);
    assert_int_equal(rd.n_devs, 2);
    assert_null(rd.devs[0]);
    assert_int_equal(rd.devs[1]->region, 1);
    assert_string_equal(rd.devs[1]->replication_ip, "::1");
    assert_int_equal(rd.devs[1]->replication_port, 6201);
    assert_string_equal(rd.devs[1]->meta, "");
    assert_true(rd.devs[1]->weight == 0.0);
    assert_int_equal(rd.version, -1);
    assert_int_equal(rd.next_part_power, -1);
    ring_data_release(&rd);
}

static void test_byteswapped_arrays(void **state)
{
    /* Written by a big-endian host: ids 1, 0, 1, 1 as big-endian u16. */
    unsigned char arr[8] = {0, 1, 0, 0, 0, 1, 0, 1};
    struct ring_data rd;
    char err[RINGFILE_ERRLEN];

    (void)state;
    assert_int_equal(fixture_write_raw(path, "R1NG", 1, HDR_ORDER(big, 30, 1),
                                       ~0u, arr, sizeof(arr)),
                     0);
    assert_int_equal(ringfile_read(path, &rd, err), 0);
    assert_int_equal(rd.replica_parts[0], 4);
    assert_int_equal(rd.replica2part2dev[0][0], 1);
    assert_int_equal(rd.replica2part2dev[0][1], 0);
    assert_int_equal(rd.replica2part2dev[0][2], 1);
    assert_int_equal(rd.replica2part2dev[0][3], 1);
    ring_data_release(&rd);
}

static void test_missing_file(void **state)
{
    struct ring_data rd;
    char err[RINGFILE_ERRLEN];

    (void)state;
    assert_int_equal(ringfile_read("/nonexistent/x.ring.gz", &rd, err),
                     -ENOENT);
    assert_null(rd.devs);
}

static void test_rejects_not_gzip(void **state)
{
    FILE *f = fopen(path, "w");

    (void)state;
    fputs("R1NG this is not gzip\n", f);
    fclose(f);
    assert_rejected("gzip");
    f = fopen(path, "w"); /* empty */
    fclose(f);
    assert_rejected("gzip");
}

static void test_rejects_truncated_gzip(void **state)
{
    struct ring_data in;
    char err[RINGFILE_ERRLEN];
    struct stat st;

    (void)state;
    assert_int_equal(fixture_ring(&in, 10, 3, 0, FIXTURE_DEVS_3Z, N_3Z), 0);
    assert_int_equal(ringfile_write(path, &in, err), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(truncate(path, st.st_size - 4), 0); /* no length */
    assert_rejected("gzip");
    assert_int_equal(truncate(path, st.st_size / 2), 0);
    assert_rejected("gzip");
    assert_int_equal(truncate(path, 12), 0);
    assert_rejected(NULL);
    ring_data_release(&in);
}

static void test_rejects_data_after_gzip(void **state)
{
    uint16_t arr[4] = {0, 1, 0, 1};
    gzFile gz;

    (void)state;
    assert_int_equal(
        fixture_write_raw(path, "R1NG", 1, HDR(30, 1), ~0u, arr, sizeof(arr)),
        0);
    gz = gzopen(path, "ab"); /* a second gzip member */
    gzwrite(gz, "x", 1);
    gzclose(gz);
    assert_rejected("oversized");
}

static void test_rejects_bad_magic_and_version(void **state)
{
    uint16_t arr[4] = {0, 1, 0, 1};

    (void)state;
    assert_int_equal(
        fixture_write_raw(path, "R2NG", 1, HDR(30, 1), ~0u, arr, sizeof(arr)),
        0);
    assert_rejected("magic");
    assert_int_equal(
        fixture_write_raw(path, "R1NG", 2, HDR(30, 1), ~0u, arr, sizeof(arr)),
        0);
    assert_rejected("version 2");
    assert_int_equal(fixture_write_gz(path, "R1", 2), 0);
    assert_rejected("truncated");
}

static void test_rejects_bad_json_length(void **state)
{
    uint16_t arr[4] = {0, 1, 0, 1};

    (void)state;
    assert_int_equal(fixture_write_raw(path, "R1NG", 1, HDR(30, 1), 0xfffffff0u,
                                       arr, sizeof(arr)),
                     0);
    assert_rejected("length");
    /* longer than the data: runs out of stream */
    assert_int_equal(
        fixture_write_raw(path, "R1NG", 1, HDR(30, 1), 100000, arr, 8), 0);
    assert_rejected("truncated");
    /* shorter than the JSON: cuts the object */
    assert_int_equal(fixture_write_raw(path, "R1NG", 1, HDR(30, 1), 20, arr, 8),
                     0);
    assert_rejected("JSON");
}

static void test_rejects_bad_json(void **state)
{
    static const char *const bad[] = {
        "{",
        "[1, 2]",
        "\"R1NG\"",
        "{\"devs\": [], \"part_shift\": 30, \"replica_count\": 1}",
        "{\"devs\": [null], \"part_shift\": 30, \"replica_count\": 1}",
        "{\"devs\": {}, \"part_shift\": 30, \"replica_count\": 1}",
        "{\"devs\": [1], \"part_shift\": 30, \"replica_count\": 1}",
        "{\"devs\": [{\"id\": 0}], \"part_shift\": 30, "
        "\"replica_count\": 1}",
        "{\"devs\": [{\"device\": \"d\", \"id\": 0, \"ip\": 5, \"port\": 1, "
        "\"zone\": 1}], \"part_shift\": 30, \"replica_count\": 1}",
        "{\"devs\": [{\"device\": \"d\", \"id\": 0, \"ip\": \"a\", "
        "\"port\": \"1\", \"zone\": 1}], \"part_shift\": 30, "
        "\"replica_count\": 1}",
        "{\"devs\": [{\"device\": \"d\", \"id\": 0, \"ip\": \"a\", "
        "\"port\": 1, \"zone\": 1, \"weight\": \"x\"}], \"part_shift\": 30, "
        "\"replica_count\": 1}",
        /* the device at index 0 claims id 1 */
        "{\"devs\": [{\"device\": \"d\", \"id\": 1, \"ip\": \"a\", "
        "\"port\": 1, \"zone\": 1}], \"part_shift\": 30, "
        "\"replica_count\": 1}",
        "{\"devs\": [{\"device\": \"d\", \"id\": 0, \"ip\": \"a\", "
        "\"port\": 1, \"zone\": 1}], \"part_shift\": \"30\", "
        "\"replica_count\": 1}",
        "{\"devs\": [{\"device\": \"d\", \"id\": 0, \"ip\": \"a\", "
        "\"port\": 1, \"zone\": 1}], \"part_shift\": 30, "
        "\"replica_count\": 1, \"byteorder\": \"middle\"}",
        "{\"devs\": [{\"device\": \"d\", \"id\": 0, \"ip\": \"a\", "
        "\"port\": 1, \"zone\": 1}], \"part_shift\": 30, "
        "\"replica_count\": 1.5}",
    };
    uint16_t arr[4] = {0, 0, 0, 0};

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(
            fixture_write_raw(path, "R1NG", 1, bad[i], ~0u, arr, sizeof(arr)),
            0);
        assert_rejected(NULL);
    }
}

/* Swift's RingBuilder takes part power 0: one partition, part_shift 32
 * (the Swift API tests build account and container rings so). */
static void test_part_power_zero(void **state)
{
    uint16_t arr[1] = {1};
    struct ring_data rd;
    char err[RINGFILE_ERRLEN];

    (void)state;
    assert_int_equal(
        fixture_write_raw(path, "R1NG", 1, HDR(32, 1), ~0u, arr, sizeof(arr)),
        0);
    assert_int_equal(ringfile_read(path, &rd, err), 0);
    assert_int_equal(rd.part_shift, 32);
    assert_int_equal(rd.replica_parts[0], 1);
    assert_int_equal(rd.replica2part2dev[0][0], 1);
    ring_data_release(&rd);
}

static void test_rejects_bad_part_shift_and_replicas(void **state)
{
    uint16_t arr[4] = {0, 1, 0, 1};

    (void)state;
    assert_int_equal(
        fixture_write_raw(path, "R1NG", 1, HDR(33, 1), ~0u, arr, sizeof(arr)),
        0);
    assert_rejected("part_shift");
    assert_int_equal(
        fixture_write_raw(path, "R1NG", 1, HDR(-1, 1), ~0u, arr, sizeof(arr)),
        0);
    assert_rejected("part_shift");
    assert_int_equal(
        fixture_write_raw(path, "R1NG", 1, HDR(30, 0), ~0u, arr, sizeof(arr)),
        0);
    assert_rejected("replica_count");
    assert_int_equal(fixture_write_raw(path, "R1NG", 1, HDR(30, 1000000), ~0u,
                                       arr, sizeof(arr)),
                     0);
    assert_rejected("replica_count");
}

static void test_rejects_oversized_ring(void **state)
{
    uint16_t arr[4] = {0, 1, 0, 1};

    (void)state;
    /* part power 32 and 3 replicas: 24 GiB of arrays, refused before any
     * allocation */
    assert_int_equal(
        fixture_write_raw(path, "R1NG", 1, HDR(0, 3), ~0u, arr, sizeof(arr)),
        0);
    assert_rejected("oversized");
    /* part power 31 with 1 replica fits the cap; a short file is then
     * truncated, without allocating 4 GiB */
    assert_int_equal(
        fixture_write_raw(path, "R1NG", 1, HDR(1, 1), ~0u, arr, sizeof(arr)),
        0);
    assert_rejected("truncated");
}

static void test_rejects_trailing_bytes(void **state)
{
    uint16_t arr[5] = {0, 1, 0, 1, 1};

    (void)state;
    assert_int_equal(
        fixture_write_raw(path, "R1NG", 1, HDR(30, 1), ~0u, arr, sizeof(arr)),
        0);
    assert_rejected("oversized");
    assert_int_equal(
        fixture_write_raw(path, "R1NG", 1, HDR(30, 1), ~0u, arr, 9), 0);
    assert_rejected("oversized");
}

static void test_rejects_truncated_arrays(void **state)
{
    uint16_t arr[12] = {0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 0, 1};
    struct ring_data rd;
    char err[RINGFILE_ERRLEN];

    (void)state;
    /* the middle of three arrays is short: only the last may be */
    assert_int_equal(
        fixture_write_raw(path, "R1NG", 1, HDR(30, 3), ~0u, arr, 14), 0);
    assert_rejected("truncated");
    /* a single array may not be short either */
    assert_int_equal(
        fixture_write_raw(path, "R1NG", 1, HDR(30, 1), ~0u, arr, 6), 0);
    assert_rejected("truncated");
    /* no arrays at all */
    assert_int_equal(
        fixture_write_raw(path, "R1NG", 1, HDR(30, 2), ~0u, arr, 0), 0);
    assert_rejected("truncated");
    /* the last array is empty */
    assert_int_equal(
        fixture_write_raw(path, "R1NG", 1, HDR(30, 3), ~0u, arr, 16), 0);
    assert_rejected("truncated");
    /* odd byte count in the last array */
    assert_int_equal(
        fixture_write_raw(path, "R1NG", 1, HDR(30, 3), ~0u, arr, 19), 0);
    assert_rejected("odd");
    /* but a short last array is a fractional replica */
    assert_int_equal(
        fixture_write_raw(path, "R1NG", 1, HDR(30, 3), ~0u, arr, 20), 0);
    assert_int_equal(ringfile_read(path, &rd, err), 0);
    assert_int_equal(rd.replica_parts[2], 2);
    ring_data_release(&rd);
}

static void test_rejects_unknown_device_id(void **state)
{
    const char *holey = "{\"devs\": [{\"device\": \"d\", \"id\": 0, \"ip\": "
                        "\"a\", \"port\": 1, \"zone\": 1}, null], "
                        "\"part_shift\": 30, \"replica_count\": 1}";
    uint16_t arr[4] = {0, 1, 0, 2};

    (void)state;
    assert_int_equal(
        fixture_write_raw(path, "R1NG", 1, HDR(30, 1), ~0u, arr, sizeof(arr)),
        0);
    assert_rejected("device 2");
    arr[3] = 1; /* names the null hole */
    assert_int_equal(
        fixture_write_raw(path, "R1NG", 1, holey, ~0u, arr, sizeof(arr)), 0);
    assert_rejected("device 1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_holes_and_fraction,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_is_deterministic, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_defaults_for_missing_fields, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_byteswapped_arrays, setup,
                                        teardown),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test_setup_teardown(test_rejects_not_gzip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejects_truncated_gzip, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rejects_data_after_gzip, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rejects_bad_magic_and_version,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejects_bad_json_length, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rejects_bad_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_part_power_zero, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_rejects_bad_part_shift_and_replicas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejects_oversized_ring, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rejects_trailing_bytes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rejects_truncated_arrays, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rejects_unknown_device_id, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
