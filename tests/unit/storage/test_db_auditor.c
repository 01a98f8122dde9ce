/* Description: the DB auditor's check of one DB (db_audit_one(),
 * contdb_audit(), acctdb_audit()): a good DB passes, wrong stats are
 * rewritten from the rows, a row that does not decode or a table block
 * whose checksum fails makes the DB corrupt, which is copied to
 * quarantined/ and removed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "db_fixture.h"
#include "storage/acctdb.h"
#include "storage/contdb.h"
#include "storage/db_auditor.h"

static const unsigned char hash[16] = {0x42, 1, 2, 3};
#define PART 7

/* A container with 'n' objects of 10 bytes and one deleted object. */
static void make_container(struct db_fixture *f, struct contdb *db, int n)
{
    struct db_ts t = ts_of("1700000000.00000");
    char name[32];

    contdb_init(db, f->kv, PART, hash);
    assert_int_equal(contdb_create(db, "a", "c", &t, 0), 0);
    for (int i = 0; i < n; i++) {
        struct contdb_object o = {
            .name = name,
            .created_at = t,
            .size = 10,
            .content_type = "text/plain",
            .etag = "d41d8cd98f00b204e9800998ecf8427e",
        };

        o.name_len = (size_t)snprintf(name, sizeof(name), "obj-%05d", i);
        assert_int_equal(contdb_put_object(db, &o, 0), 0);
    }
    assert_int_equal(contdb_delete_object(db, "gone", 4, &t, 0, 0), 0);
}

static void put_raw(struct db_fixture *f, enum db_key_type type,
                    const void *rest, size_t n, const void *val, size_t vlen)
{
    struct kvdb_batch *b = kvdb_batch_new();
    struct dbenc k = {0};

    dbenc_be32(&k, PART);
    dbenc_bytes(&k, hash, 16);
    dbenc_u8(&k, type);
    dbenc_bytes(&k, rest, n);
    kvdb_batch_put(b, k.p, k.len, val, vlen);
    assert_int_equal(kvdb_write(f->kv, b, KVDB_SYNC), 0);
    kvdb_batch_free(b);
    dbenc_release(&k);
}

/* The number of files in <dir>/quarantined/<type>, and the first one's
 * first 8 bytes. */
static int quarantined(struct db_fixture *f, const char *type, char magic[9])
{
    char path[PATH_MAX + 64];
    struct dirent *e;
    int n = 0;
    DIR *d;

    snprintf(path, sizeof(path), "%s/quarantined/%s", f->dir, type);
    d = opendir(path);
    if (!d)
        return 0;
    while ((e = readdir(d))) {
        char file[2 * PATH_MAX];
        int fd;

        if (e->d_name[0] == '.')
            continue;
        if (!n++) {
            snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
            fd = open(file, O_RDONLY);
            assert_true(fd >= 0);
            assert_int_equal(read(fd, magic, 8), 8);
            magic[8] = '\0';
            close(fd);
        }
    }
    closedir(d);
    return n;
}

static void test_good_container_passes(void **state)
{
    struct db_fixture *f = *state;
    struct contdb db;
    struct contdb_info info;
    struct dbbroker_audit res;
    char magic[9];

    make_container(f, &db, 5);
    assert_int_equal(contdb_audit(&db, &info, &res), 0);
    assert_true(res.stats_ok);
    assert_true(res.feed_ok);
    assert_int_equal(res.rows, 6);
    assert_string_equal(info.container, "c");
    contdb_info_release(&info);
    assert_int_equal(db_audit_one("container", f->dir, f->kv, PART, hash),
                     DB_AUDIT_PASSED);
    assert_int_equal(quarantined(f, "containers", magic), 0);
}

static void test_stats_mismatch_repaired(void **state)
{
    struct db_fixture *f = *state;
    struct contdb db;
    struct contdb_info info;
    struct dbbroker_audit res;
    struct dbenc v = {0};
    char magic[9];

    make_container(f, &db, 5);
    /* object_count 99, bytes_used 7, max_row as it is (6 rows written) */
    dbenc_svarint(&v, 99);
    dbenc_svarint(&v, 7);
    dbenc_varint(&v, 6);
    put_raw(f, DB_KEY_STATS, NULL, 0, v.p, v.len);
    dbenc_release(&v);
    assert_int_equal(contdb_audit(&db, &info, &res), 0);
    assert_false(res.stats_ok);
    contdb_info_release(&info);
    assert_int_equal(db_audit_one("container", f->dir, f->kv, PART, hash),
                     DB_AUDIT_REPAIRED);
    assert_int_equal(contdb_get_info(&db, &info), 0);
    assert_int_equal(info.object_count, 5);
    assert_int_equal(info.bytes_used, 50);
    assert_int_equal(info.max_row, 6);
    contdb_info_release(&info);
    assert_int_equal(db_audit_one("container", f->dir, f->kv, PART, hash),
                     DB_AUDIT_PASSED);
    assert_int_equal(quarantined(f, "containers", magic), 0);
}

static void test_corrupt_row_quarantined(void **state)
{
    struct db_fixture *f = *state;
    struct contdb db;
    struct contdb_info info;
    struct dbbroker_audit res;
    char magic[9];

    make_container(f, &db, 3);
    put_raw(f, DB_KEY_ROW, "obj-00001", 9, "\x01\x02", 2); /* cut short */
    assert_int_equal(contdb_audit(&db, &info, &res), -EBADMSG);
    contdb_info_release(&info);
    assert_int_equal(db_audit_one("container", f->dir, f->kv, PART, hash),
                     DB_AUDIT_QUARANTINED);
    assert_int_equal(contdb_get_info(&db, &info), -ENOENT);
    contdb_info_release(&info);
    assert_int_equal(quarantined(f, "containers", magic), 1);
    assert_string_equal(magic, "KURADBQ1");
    /* gone since it was listed: nothing to count */
    assert_int_equal(db_audit_one("container", f->dir, f->kv, PART, hash),
                     DB_AUDIT_GONE);
}

static void test_account_stats_repaired(void **state)
{
    struct db_fixture *f = *state;
    struct db_ts t = ts_of("1700000000.00000");
    struct acctdb db;
    struct acctdb_info info;
    struct acctdb_container c = {.name = "c1",
                                 .name_len = 2,
                                 .put_timestamp = t,
                                 .object_count = 3,
                                 .bytes_used = 30};
    struct dbenc v = {0};

    acctdb_init(&db, f->kv, PART, hash);
    assert_int_equal(acctdb_create(&db, "a", &t), 0);
    assert_int_equal(acctdb_put_container(&db, &c, 0), 0);
    c.name = "c2";
    c.storage_policy_index = 1;
    assert_int_equal(acctdb_put_container(&db, &c, 0), 0);
    assert_int_equal(db_audit_one("account", f->dir, f->kv, PART, hash),
                     DB_AUDIT_PASSED);
    /* old-style stats (no policies): container_count 5 */
    dbenc_svarint(&v, 5);
    dbenc_svarint(&v, 6);
    dbenc_svarint(&v, 60);
    dbenc_varint(&v, 2);
    put_raw(f, DB_KEY_STATS, NULL, 0, v.p, v.len);
    dbenc_release(&v);
    assert_int_equal(db_audit_one("account", f->dir, f->kv, PART, hash),
                     DB_AUDIT_REPAIRED);
    assert_int_equal(acctdb_get_info(&db, &info), 0);
    assert_int_equal(info.container_count, 2);
    assert_int_equal(info.object_count, 6);
    assert_int_equal(info.n_policies, 2);
    assert_int_equal(info.policies[1].index, 1);
    assert_int_equal(info.policies[1].bytes_used, 30);
    acctdb_info_release(&info);
    assert_int_equal(db_audit_one("account", f->dir, f->kv, PART, hash),
                     DB_AUDIT_PASSED);
}

/* Flips a byte in the middle of every table file of the fixture's DB
 * (closed meanwhile) and opens it again. */
static void rot_tables(struct db_fixture *f)
{
    char path[PATH_MAX + 64];
    struct dirent *e;
    DIR *d;

    kvdb_close(f->kv);
    snprintf(path, sizeof(path), "%s/containers.ldb", f->dir);
    /* a reopening writes the log's rows to a table */
    assert_int_equal(kvdb_open(path, NULL, &f->kv), 0);
    kvdb_close(f->kv);
    d = opendir(path);
    assert_non_null(d);
    while ((e = readdir(d))) {
        char file[2 * PATH_MAX];
        size_t n = strlen(e->d_name);
        unsigned char c;
        off_t size;
        int fd;

        if (n < 4 || strcmp(e->d_name + n - 4, ".ldb"))
            continue;
        snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
        fd = open(file, O_RDWR);
        assert_true(fd >= 0);
        size = lseek(fd, 0, SEEK_END);
        assert_int_equal(pread(fd, &c, 1, size / 4), 1);
        c ^= 0x55;
        assert_int_equal(pwrite(fd, &c, 1, size / 4), 1);
        close(fd);
    }
    closedir(d);
    assert_int_equal(kvdb_open(path, NULL, &f->kv), 0);
}

static void test_checksum_failure_is_corrupt(void **state)
{
    struct db_fixture *f = *state;
    struct contdb db;
    struct contdb_info info;
    struct dbbroker_audit res;
    enum db_audit_result r;

    make_container(f, &db, 2000);
    rot_tables(f);
    contdb_init(&db, f->kv, PART, hash);
    assert_int_equal(contdb_audit(&db, &info, &res), -EBADMSG);
    contdb_info_release(&info);
    /* removed, unless the damage keeps even an unchecked scan from
     * reading the keys to delete (then it fails and stays for the next
     * pass) */
    r = db_audit_one("container", f->dir, f->kv, PART, hash);
    assert_true(r == DB_AUDIT_QUARANTINED || r == DB_AUDIT_FAILED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_good_container_passes,
                                        db_fixture_setup, db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_stats_mismatch_repaired,
                                        db_fixture_setup, db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_row_quarantined,
                                        db_fixture_setup, db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_account_stats_repaired,
                                        db_fixture_setup, db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_checksum_failure_is_corrupt,
                                        db_fixture_setup, db_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
