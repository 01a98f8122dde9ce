/* Description: object files on a device: PUT/GET/DELETE/POST in Swift's
 * layout, metadata merging, ETag checks, mount_check, quarantine of
 * corrupt objects, and injected -EIO/-ENOSPC leaving no half-written
 * object and no temp file. Runs on /tmp (ext4 here). */
#include "storage/diskfile.h"

#include "storage/diskfile_io.h"
#include "storage/suffix_hash.h"

#include <dirent.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define T1 "1700000001.00000"
#define T2 "1700000002.00000"
#define T3 "1700000003.00000"
#define T4 "1700000004.00000"
#define PART 1023

static char root[] = "/tmp/kura-diskfile-XXXXXX";
static struct hash_path_conf hc;
static struct diskfile_conf conf;

static int make_root(void **state)
{
    (void)state;
    if (!mkdtemp(root))
        return -1;
    conf.devices = root;
    conf.mount_check = false;
    conf.hash_conf = &hc;
    return hash_path_conf_set(&hc, "", "changeme");
}

static int remove_root(void **state)
{
    char cmd[256];

    (void)state;
    hash_path_conf_release(&hc);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    return system(cmd);
}

static int setup(void **state)
{
    char path[256];

    (void)state;
    snprintf(path, sizeof(path), "%s/sda", root);
    return mkdir(path, 0755);
}

static int teardown(void **state)
{
    char cmd[256];

    (void)state;
    diskfile_io = &diskfile_io_sys;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'/*", root);
    return system(cmd);
}

static struct diskfile *new_df(const char *obj)
{
    struct diskfile *df;

    assert_int_equal(
        diskfile_new(&conf, "sda", PART, "AUTH_test", "c", obj, &df), 0);
    return df;
}

static int count_dir(const char *rel)
{
    char path[512];
    struct dirent *e;
    DIR *d;
    int n = 0;

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    d = opendir(path);
    if (!d)
        return -1;
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static int count_hash_dir(struct diskfile *df)
{
    struct dirent *e;
    DIR *d = opendir(diskfile_hash_dir(df));
    int n = 0;

    if (!d)
        return 0;
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static bool has_file(struct diskfile *df, const char *name)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/%s", diskfile_hash_dir(df), name);
    return access(path, F_OK) == 0;
}

static void md5_hex(const void *buf, size_t len, char hex[33])
{
    unsigned char d[16];
    unsigned int n;

    EVP_Digest(buf, len, d, &n, EVP_md5(), NULL);
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

/* PUTs 'body' in chunks of 'chunk' bytes; returns commit's result. */
static int put(struct diskfile *df, const char *ts, const char *body,
               size_t len, const struct objmeta *meta, const char *etag)
{
    struct diskfile_writer *w;
    int err;

    err = diskfile_writer_new(df, (int64_t)len, &w);
    if (err)
        return err;
    for (size_t off = 0; off < len; off += 7) {
        size_t n = len - off < 7 ? len - off : 7;

        err = diskfile_writer_write(w, body + off, n);
        if (err)
            goto out;
    }
    err = diskfile_writer_commit(w, meta, ts, etag);
out:
    diskfile_writer_free(w);
    return err;
}

static void read_all(struct diskfile *df, char *buf, size_t cap, size_t *len,
                     int *last)
{
    struct diskfile_reader *r;
    ssize_t n;

    *len = 0;
    assert_int_equal(diskfile_reader_new(df, 0, UINT64_MAX, &r), 0);
    while ((n = diskfile_reader_read(r, buf + *len, 5)) > 0) {
        *len += (size_t)n;
        assert_true(*len <= cap);
    }
    *last = (int)n;
    diskfile_reader_free(r);
}

static void test_put_then_get_in_swift_layout(void **state)
{
    const char *body = "hello, object world: more than one chunk";
    struct objmeta m = {0};
    struct diskfile *df = new_df("o1"), *byhash;
    unsigned char digest[16];
    char hex[33], etag[33], path[512], buf[128];
    size_t len;
    int last;

    (void)state;
    md5_hex(body, strlen(body), etag);
    assert_int_equal(objmeta_set(&m, "Content-Type", "text/plain"), 0);
    assert_int_equal(objmeta_set(&m, "X-Object-Meta-Color", "blue"), 0);
    assert_int_equal(put(df, T1, body, strlen(body), &m, etag), 0);

    /* the path is Swift's */
    assert_int_equal(hash_path(&hc, "AUTH_test", "c", "o1", digest), 0);
    hash_path_hex(digest, hex);
    assert_string_equal(diskfile_hash(df), hex);
    /* what Swift 2.30's hash_path gives with the same swift.conf */
    assert_string_equal(hex, "2f4da305a4a77eb5e1d9df78376a03ab");
    snprintf(path, sizeof(path), "%s/sda/objects/1023/%s/%s/" T1 ".data", root,
             hex + 29, hex);
    assert_int_equal(access(path, F_OK), 0);
    assert_int_equal(count_dir("sda/tmp"), 0);

    assert_int_equal(diskfile_open(df), 0);
    assert_string_equal(diskfile_data_timestamp(df), T1);
    assert_string_equal(diskfile_timestamp(df), T1);
    assert_int_equal(diskfile_content_length(df), strlen(body));
    const struct objmeta *got = diskfile_metadata(df);
    assert_string_equal(objmeta_get(got, "ETag"), etag);
    assert_string_equal(objmeta_get(got, "Content-Length"), "40");
    assert_string_equal(objmeta_get(got, "X-Timestamp"), T1);
    assert_string_equal(objmeta_get(got, "name"), "/AUTH_test/c/o1");
    assert_string_equal(objmeta_get(got, "Content-Type"), "text/plain");
    assert_string_equal(objmeta_get(got, "X-Object-Meta-Color"), "blue");
    assert_null(diskfile_tombstone(df));

    read_all(df, buf, sizeof(buf), &len, &last);
    assert_int_equal(last, 0);
    assert_int_equal(len, strlen(body));
    assert_memory_equal(buf, body, len);
    /* ranges */
    assert_int_equal(diskfile_pread(df, buf, 5, 7), 5);
    assert_memory_equal(buf, "objec", 5);
    assert_int_equal(diskfile_pread(df, buf, 100, 38), 2);
    assert_int_equal(diskfile_pread(df, buf, 100, 40), 0);
    struct diskfile_reader *r;
    assert_int_equal(diskfile_reader_new(df, 7, 6, &r), 0);
    assert_int_equal(diskfile_reader_read(r, buf, sizeof(buf)), 6);
    assert_int_equal(diskfile_reader_read(r, buf, sizeof(buf)), 0);
    diskfile_reader_free(r);
    assert_int_equal(diskfile_reader_new(df, 41, 1, &r), -EINVAL);

    /* the suffix was invalidated for the replicator */
    snprintf(path, sizeof(path), "%s/sda/objects/1023/" SUFFIX_HASH_INVALID,
             root);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof(buf), f));
    fclose(f);
    assert_memory_equal(buf, hex + 29, 3);

    /* the same object by hash, as the replicator sees it */
    assert_int_equal(diskfile_new_from_hash(&conf, "sda", PART, hex, &byhash),
                     0);
    assert_int_equal(diskfile_open(byhash), 0);
    assert_string_equal(objmeta_get(diskfile_metadata(byhash), "name"),
                        "/AUTH_test/c/o1");
    diskfile_free(byhash);
    diskfile_free(df);
    objmeta_release(&m);
}

static void test_empty_object(void **state)
{
    struct diskfile *df = new_df("empty");
    char buf[8];
    size_t len;
    int last;

    (void)state;
    assert_int_equal(
        put(df, T1, "", 0, NULL, "D41D8CD98F00B204E9800998ECF8427E"), 0);
    assert_int_equal(diskfile_open(df), 0);
    assert_int_equal(diskfile_content_length(df), 0);
    read_all(df, buf, sizeof(buf), &len, &last);
    assert_int_equal(len, 0);
    assert_int_equal(last, 0);
    diskfile_free(df);
}

static void test_missing_and_deleted_are_told_apart(void **state)
{
    struct diskfile *df = new_df("o2");

    (void)state;
    assert_int_equal(diskfile_open(df), -ENOENT);
    assert_null(diskfile_tombstone(df));
    assert_int_equal(put(df, T1, "abc", 3, NULL, NULL), 0);
    assert_int_equal(diskfile_delete(df, T2), 0);
    assert_int_equal(diskfile_open(df), -ENOENT);
    assert_string_equal(diskfile_tombstone(df), T2);
    assert_false(has_file(df, T1 ".data")); /* made obsolete */
    assert_true(has_file(df, T2 ".ts"));
    assert_int_equal(count_hash_dir(df), 1);
    /* an older PUT arriving late does not resurrect it */
    assert_int_equal(put(df, T1, "old", 3, NULL, NULL), 0);
    assert_int_equal(diskfile_open(df), -ENOENT);
    assert_string_equal(diskfile_tombstone(df), T2);
    /* a newer one does, and removes the tombstone */
    assert_int_equal(put(df, T3, "new", 3, NULL, NULL), 0);
    assert_int_equal(diskfile_open(df), 0);
    assert_null(diskfile_tombstone(df));
    assert_int_equal(count_hash_dir(df), 1);
    assert_int_equal(count_dir("sda/tmp"), 0);
    diskfile_free(df);
}

static void test_post_merges_as_swift(void **state)
{
    struct objmeta m = {0}, p = {0};
    struct diskfile *df = new_df("o3");
    const struct objmeta *got;

    (void)state;
    assert_int_equal(objmeta_set(&m, "Content-Type", "text/plain"), 0);
    assert_int_equal(objmeta_set(&m, "Content-Encoding", "gzip"), 0);
    assert_int_equal(objmeta_set(&m, "X-Object-Meta-Old", "1"), 0);
    assert_int_equal(objmeta_set(&m, "X-Object-Sysmeta-Kept", "s"), 0);
    assert_int_equal(objmeta_set(&m, "X-Static-Large-Object", "True"), 0);
    assert_int_equal(put(df, T1, "abc", 3, &m, NULL), 0);

    assert_int_equal(objmeta_set(&p, "X-Object-Meta-New", "2"), 0);
    assert_int_equal(objmeta_set(&p, "Content-Type", "image/png"), 0);
    assert_int_equal(objmeta_set(&p, "X-Object-Sysmeta-Kept", "ignored"), 0);
    assert_int_equal(objmeta_set(&p, "ETag", "ignored"), 0);
    assert_int_equal(diskfile_post(df, &p, T2), 0);
    assert_true(has_file(df, T2 ".meta"));
    assert_int_equal(diskfile_open(df), 0);
    got = diskfile_metadata(df);
    assert_string_equal(diskfile_data_timestamp(df), T1);
    assert_string_equal(diskfile_timestamp(df), T2);
    assert_string_equal(objmeta_get(got, "X-Timestamp"), T2);
    assert_string_equal(objmeta_get(got, "X-Object-Meta-New"), "2");
    assert_null(objmeta_get(got, "X-Object-Meta-Old"));
    assert_null(objmeta_get(got, "Content-Encoding"));
    assert_string_equal(objmeta_get(got, "X-Object-Sysmeta-Kept"), "s");
    assert_string_equal(objmeta_get(got, "X-Static-Large-Object"), "True");
    assert_string_equal(objmeta_get(got, "Content-Length"), "3");
    assert_string_equal(objmeta_get(got, "ETag"),
                        "900150983cd24fb0d6963f7d28e17f72");
    /* Content-Type stays the .data's without a newer
     * Content-Type-Timestamp */
    assert_string_equal(objmeta_get(got, "Content-Type"), "text/plain");
    assert_string_equal(objmeta_get(got, "name"), "/AUTH_test/c/o3");

    /* with one, the POSTed type wins; a second POST replaces the first */
    assert_int_equal(objmeta_set(&p, "Content-Type-Timestamp", T3), 0);
    assert_int_equal(diskfile_post(df, &p, T3), 0);
    assert_false(has_file(df, T2 ".meta"));
    assert_int_equal(diskfile_open(df), 0);
    assert_string_equal(objmeta_get(diskfile_metadata(df), "Content-Type"),
                        "image/png");

    /* a newer PUT drops the .meta */
    assert_int_equal(put(df, T4, "x", 1, NULL, NULL), 0);
    assert_false(has_file(df, T3 ".meta"));
    assert_int_equal(count_hash_dir(df), 1);
    assert_int_equal(diskfile_open(df), 0);
    assert_null(objmeta_get(diskfile_metadata(df), "X-Object-Meta-New"));
    diskfile_free(df);
    objmeta_release(&m);
    objmeta_release(&p);
}

static void test_etag_mismatch_and_abort_leave_nothing(void **state)
{
    struct diskfile *df = new_df("o4");
    struct diskfile_writer *w;

    (void)state;
    assert_int_equal(
        put(df, T1, "abc", 3, NULL, "00000000000000000000000000000000"),
        -EBADMSG);
    assert_int_equal(diskfile_open(df), -ENOENT);
    assert_int_equal(count_dir("sda/tmp"), 0);

    /* a client gone mid-upload: the writer is freed without commit */
    assert_int_equal(diskfile_writer_new(df, 100, &w), 0);
    assert_int_equal(diskfile_writer_write(w, "partial", 7), 0);
    assert_int_equal(count_dir("sda/tmp"), 1);
    diskfile_writer_free(w);
    assert_int_equal(count_dir("sda/tmp"), 0);
    assert_int_equal(diskfile_open(df), -ENOENT);

    /* a bad timestamp is refused before anything lands */
    assert_int_equal(put(df, "1700000001.5", "abc", 3, NULL, NULL), -EINVAL);
    assert_int_equal(diskfile_delete(df, "garbage"), -EINVAL);
    assert_int_equal(diskfile_post(df, NULL, "../../x"), -EINVAL);
    assert_int_equal(count_dir("sda/tmp"), 0);
    assert_int_equal(count_hash_dir(df), 0);
    diskfile_free(df);
}

/* A trusted ETag (the proxy's, from a footer) is stored as given, not
 * computed; the GET's full-read check still catches a wrong one. */
static void test_trusted_etag_is_stored_and_checked_on_read(void **state)
{
    struct diskfile *df = new_df("trusted");
    struct diskfile_writer *w;
    char hex[33], buf[16];
    size_t len;
    int last;

    (void)state;
    /* not 32 hex digits: refused, nothing lands */
    assert_int_equal(diskfile_writer_new(df, 3, &w), 0);
    diskfile_writer_trust_etag(w);
    assert_int_equal(diskfile_writer_write(w, "abc", 3), 0);
    assert_int_equal(diskfile_writer_commit(w, NULL, T1, "0123"), -EBADMSG);
    diskfile_writer_free(w);
    assert_int_equal(diskfile_writer_new(df, 3, &w), 0);
    diskfile_writer_trust_etag(w);
    assert_int_equal(diskfile_writer_commit(w, NULL, T1, NULL), -EBADMSG);
    diskfile_writer_free(w);
    assert_int_equal(count_dir("sda/tmp"), 0);
    assert_int_equal(diskfile_open(df), -ENOENT);

    /* the right one, upper case: stored lower case */
    md5_hex("abc", 3, hex);
    for (char *p = hex; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    assert_int_equal(diskfile_writer_new(df, 3, &w), 0);
    diskfile_writer_trust_etag(w);
    assert_int_equal(diskfile_writer_write(w, "abc", 3), 0);
    assert_int_equal(diskfile_writer_commit(w, NULL, T1, hex), 0);
    md5_hex("abc", 3, hex);
    assert_string_equal(diskfile_writer_etag(w), hex);
    diskfile_writer_free(w);
    assert_int_equal(diskfile_open(df), 0);
    assert_string_equal(objmeta_get(diskfile_metadata(df), "ETag"), hex);
    read_all(df, buf, sizeof(buf), &len, &last);
    assert_int_equal(last, 0);

    /* a wrong one is stored, but a full read finds it and quarantines */
    assert_int_equal(diskfile_writer_new(df, 3, &w), 0);
    diskfile_writer_trust_etag(w);
    assert_int_equal(diskfile_writer_write(w, "abd", 3), 0);
    assert_int_equal(diskfile_writer_commit(w, NULL, T2, hex), 0);
    diskfile_writer_free(w);
    assert_int_equal(diskfile_open(df), 0);
    read_all(df, buf, sizeof(buf), &len, &last);
    assert_true(last < 0);
    diskfile_free(df);
}

static void test_max_metadata_round_trips(void **state)
{
    struct objmeta m = {0};
    struct diskfile *df = new_df("big-meta");
    char key[160], val[300], buf[64];
    size_t len;
    int last;

    (void)state;
    for (int i = 0; i < 16; i++) {
        snprintf(key, sizeof(key), "X-Object-Meta-%03d", i);
        memset(key + 17, 'k', 125);
        key[142] = '\0';
        memset(val, 'a' + i, 128);
        val[128] = '\0';
        assert_int_equal(objmeta_set(&m, key, val), 0);
    }
    for (int i = 0; i < 8; i++) {
        snprintf(key, sizeof(key), "X-Object-Sysmeta-S%d", i);
        memset(val, 'S', 256);
        val[256] = '\0';
        assert_int_equal(objmeta_set(&m, key, val), 0);
    }
    assert_int_equal(put(df, T1, "body", 4, &m, NULL), 0);
    assert_int_equal(diskfile_post(df, &m, T2), 0);
    assert_int_equal(diskfile_open(df), 0);
    assert_int_equal(diskfile_content_length(df), 4);
    for (size_t i = 0; i < m.n; i++)
        assert_string_equal(objmeta_get(diskfile_metadata(df), m.items[i].key),
                            m.items[i].val);
    read_all(df, buf, sizeof(buf), &len, &last);
    assert_int_equal(last, 0); /* the trailer is not part of the body */
    assert_int_equal(len, 4);
    assert_memory_equal(buf, "body", 4);
    diskfile_free(df);
    objmeta_release(&m);
}

static void test_mount_check_and_missing_device(void **state)
{
    struct diskfile_conf mc = conf;
    struct diskfile *df;
    struct diskfile_writer *w;
    char path[256];

    (void)state;
    mc.mount_check = true; /* sda is a plain directory: unmounted */
    assert_int_equal(diskfile_new(&mc, "sda", PART, "a", "c", "o", &df),
                     -ENODEV);
    assert_null(df);
    assert_int_equal(diskfile_new(&conf, "sdz", PART, "a", "c", "o", &df),
                     -ENODEV);
    assert_int_equal(diskfile_new(&conf, "..", PART, "a", "c", "o", &df),
                     -EINVAL);
    assert_int_equal(diskfile_new(&conf, "sda", PART, "a", "", "o", &df),
                     -EINVAL);

    /* the device goes away after the check: nothing is recreated */
    df = new_df("o5");
    snprintf(path, sizeof(path), "rm -rf '%s/sda'", root);
    assert_int_equal(system(path), 0);
    assert_int_equal(diskfile_writer_new(df, 3, &w), -ENODEV);
    assert_int_equal(diskfile_delete(df, T1), -ENODEV);
    assert_int_equal(diskfile_open(df), -ENODEV);
    snprintf(path, sizeof(path), "%s/sda", root);
    assert_int_equal(access(path, F_OK), -1);
    diskfile_free(df);
}

static void test_corrupt_metadata_is_quarantined(void **state)
{
    struct diskfile *df = new_df("o6");
    char path[512], qpath[512];

    (void)state;
    assert_int_equal(put(df, T1, "abc", 3, NULL, NULL), 0);
    snprintf(path, sizeof(path), "%s/" T1 ".data", diskfile_hash_dir(df));
    assert_int_equal(setxattr(path, OBJMETA_XATTR, "KM\x01\x00junk", 8, 0), 0);
    assert_int_equal(diskfile_open(df), -EINVAL);
    assert_int_equal(access(diskfile_hash_dir(df), F_OK), -1);
    snprintf(qpath, sizeof(qpath), "%s/sda/quarantined/objects/%s/" T1 ".data",
             root, diskfile_hash(df));
    assert_int_equal(access(qpath, F_OK), 0);
    assert_int_equal(diskfile_open(df), -ENOENT);

    /* again: the second copy gets a distinct name */
    assert_int_equal(put(df, T2, "abc", 3, NULL, NULL), 0);
    snprintf(path, sizeof(path), "%s/" T2 ".data", diskfile_hash_dir(df));
    assert_int_equal(removexattr(path, OBJMETA_XATTR), 0);
    assert_int_equal(diskfile_open(df), -EINVAL);
    assert_int_equal(count_dir("sda/quarantined/objects"), 2);

    /* a .data whose size disagrees with Content-Length */
    assert_int_equal(put(df, T3, "abc", 3, NULL, NULL), 0);
    snprintf(path, sizeof(path), "%s/" T3 ".data", diskfile_hash_dir(df));
    assert_int_equal(truncate(path, 2), 0);
    assert_int_equal(diskfile_open(df), -EINVAL);
    assert_int_equal(count_dir("sda/quarantined/objects"), 3);
    diskfile_free(df);
}

static void test_bit_rot_is_found_by_a_full_read(void **state)
{
    struct diskfile *df = new_df("o7");
    char path[512], buf[64];
    size_t len;
    int last;
    int fd;

    (void)state;
    assert_int_equal(put(df, T1, "precious bytes", 14, NULL, NULL), 0);
    snprintf(path, sizeof(path), "%s/" T1 ".data", diskfile_hash_dir(df));
    fd = open(path, O_WRONLY);
    assert_int_equal(pwrite(fd, "P", 1, 0), 1);
    close(fd);
    assert_int_equal(diskfile_open(df), 0);
    /* a range read does not check */
    assert_int_equal(diskfile_pread(df, buf, 4, 0), 4);
    read_all(df, buf, sizeof(buf), &len, &last);
    assert_int_equal(len, 14);
    assert_int_equal(last, -EUCLEAN);
    assert_int_equal(count_dir("sda/quarantined/objects"), 1);
    assert_int_equal(diskfile_open(df), -ENOENT);
    diskfile_free(df);
}

/* A large object: read back in pieces of several sizes, its MD5 checked
 * across many reads. */
#define BIG_LEN (5 * 1024 * 1024 + 12345)

static char *big_body(void)
{
    char *body = malloc(BIG_LEN);

    assert_non_null(body);
    for (size_t i = 0; i < BIG_LEN; i++)
        body[i] = (char)(i * 2654435761u >> 24);
    return body;
}

static void put_big(struct diskfile *df, const char *body)
{
    struct diskfile_writer *w;
    char etag[33];

    md5_hex(body, BIG_LEN, etag);
    assert_int_equal(diskfile_writer_new(df, BIG_LEN, &w), 0);
    for (size_t off = 0; off < BIG_LEN; off += 65536) {
        size_t n = BIG_LEN - off < 65536 ? BIG_LEN - off : 65536;

        assert_int_equal(diskfile_writer_write(w, body + off, n), 0);
    }
    assert_int_equal(diskfile_writer_commit(w, NULL, T1, etag), 0);
    diskfile_writer_free(w);
}

/* Reads the whole object in pieces of 'piece' bytes (not a multiple of
 * a block size); returns the last result, the body in 'out'. */
static int read_big(struct diskfile *df, char *out, size_t piece)
{
    struct diskfile_reader *r;
    size_t len = 0;
    ssize_t n;

    assert_int_equal(diskfile_reader_new(df, 0, UINT64_MAX, &r), 0);
    while ((n = diskfile_reader_read(r, out + len, piece)) > 0) {
        len += (size_t)n;
        assert_true(len <= BIG_LEN);
    }
    assert_int_equal(len, BIG_LEN);
    diskfile_reader_free(r);
    return (int)n;
}

static void test_large_object_read_checks_its_md5(void **state)
{
    struct diskfile *df = new_df("big");
    char *body = big_body(), *got = malloc(BIG_LEN);
    char path[512];
    int fd;

    (void)state;
    put_big(df, body);
    assert_int_equal(diskfile_open(df), 0);
    assert_int_equal(read_big(df, got, 100000), 0);
    assert_memory_equal(got, body, BIG_LEN);
    assert_int_equal(read_big(df, got, 7 * 65536 + 1), 0);
    assert_int_equal(count_dir("sda/quarantined"), -1);

    /* one flipped byte near the end: the full read fails at its end and
     * the object is quarantined */
    snprintf(path, sizeof(path), "%s/" T1 ".data", diskfile_hash_dir(df));
    fd = open(path, O_WRONLY);
    assert_int_equal(pwrite(fd, "!", 1, BIG_LEN - 3), 1);
    close(fd);
    assert_int_equal(diskfile_open(df), 0);
    assert_int_equal(read_big(df, got, 100000), -EUCLEAN);
    assert_int_equal(count_dir("sda/quarantined/objects"), 1);
    assert_int_equal(diskfile_open(df), -ENOENT);
    diskfile_free(df);
    free(body);
    free(got);
}

/* A client that goes away mid-body: the reader is freed with blocks still
 * waiting to be hashed, or before any read, or after the last byte but
 * before the check. Nothing hangs or leaks, nothing is quarantined. */
static void test_large_reader_freed_mid_object(void **state)
{
    struct diskfile *df = new_df("big-gone");
    char *body = big_body(), *buf = malloc(300000);
    struct diskfile_reader *r;
    uint64_t got;

    (void)state;
    put_big(df, body);
    assert_int_equal(diskfile_open(df), 0);
    assert_int_equal(diskfile_reader_new(df, 0, UINT64_MAX, &r), 0);
    diskfile_reader_free(r);
    for (int reads = 1; reads <= 9; reads += 4) {
        assert_int_equal(diskfile_reader_new(df, 0, UINT64_MAX, &r), 0);
        for (int i = 0; i < reads; i++)
            assert_int_equal(diskfile_reader_read(r, buf, 300000), 300000);
        diskfile_reader_free(r);
    }
    assert_int_equal(diskfile_reader_new(df, 0, UINT64_MAX, &r), 0);
    for (got = 0; got < BIG_LEN;)
        got += (uint64_t)diskfile_reader_read(r, buf, 300000);
    diskfile_reader_free(r);
    assert_int_equal(count_dir("sda/quarantined"), -1);
    assert_int_equal(diskfile_open(df), 0);
    diskfile_free(df);
    free(body);
    free(buf);
}

/* More large readers at once than get a hashing thread: the rest hash
 * inline, every one still checks the whole object. */
static void test_many_large_readers_at_once(void **state)
{
    struct diskfile *df = new_df("big-many");
    char *body = big_body(), *buf = malloc(200000);
    struct diskfile_reader *r[12];
    uint64_t got[12] = {0};
    ssize_t n;
    int done = 0;

    (void)state;
    put_big(df, body);
    assert_int_equal(diskfile_open(df), 0);
    for (int i = 0; i < 12; i++)
        assert_int_equal(diskfile_reader_new(df, 0, UINT64_MAX, &r[i]), 0);
    while (done < 12) {
        for (int i = 0; i < 12; i++) {
            if (!r[i])
                continue;
            n = diskfile_reader_read(r[i], buf, 200000);
            assert_true(n >= 0);
            if (n > 0) {
                assert_memory_equal(buf, body + got[i], (size_t)n);
                got[i] += (uint64_t)n;
                continue;
            }
            assert_int_equal(got[i], BIG_LEN);
            diskfile_reader_free(r[i]);
            r[i] = NULL;
            done++;
        }
    }
    assert_int_equal(count_dir("sda/quarantined"), -1);
    diskfile_free(df);
    free(body);
    free(buf);
}

static void test_name_must_hash_to_its_directory(void **state)
{
    const char *other = "00000000000000000000000000000abc";
    struct diskfile *df = new_df("o9"), *wrong;
    char cmd[1024];

    (void)state;
    assert_int_equal(put(df, T1, "abc", 3, NULL, NULL), 0);
    /* a hash dir whose .data names another object (say, copied by a
     * broken tool) */
    assert_int_equal(diskfile_new_from_hash(&conf, "sda", PART, other, &wrong),
                     0);
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s' && cp -a '%s'/* '%s'/",
             diskfile_hash_dir(wrong), diskfile_hash_dir(df),
             diskfile_hash_dir(wrong));
    assert_int_equal(system(cmd), 0);
    assert_int_equal(diskfile_open(wrong), -EINVAL);
    assert_int_equal(count_dir("sda/quarantined/objects"), 1);
    assert_int_equal(diskfile_open(df), 0); /* the real one is fine */
    diskfile_free(wrong);
    assert_int_equal(diskfile_new_from_hash(&conf, "sda", PART, "ABC", &wrong),
                     -EINVAL);
    diskfile_free(wrong);
    diskfile_free(df);
}

static void test_ninety_items_and_utf8_round_trip(void **state)
{
    struct objmeta m = {0};
    struct diskfile *df = new_df("\xc3\xa9t\xc3\xa9/\xe2\x82\xac");
    char key[64], val[64];

    (void)state;
    for (int i = 0; i < 90; i++) {
        snprintf(key, sizeof(key), "X-Object-Meta-K\xc3\xa9y-%02d-pad", i);
        snprintf(val, sizeof(val), "v\xe2\x82\xac %02d pad pad pad", i);
        assert_int_equal(objmeta_set(&m, key, val), 0);
    }
    assert_int_equal(put(df, T1, "x", 1, &m, NULL), 0);
    assert_int_equal(diskfile_open(df), 0);
    for (size_t i = 0; i < m.n; i++)
        assert_string_equal(objmeta_get(diskfile_metadata(df), m.items[i].key),
                            m.items[i].val);
    assert_string_equal(objmeta_get(diskfile_metadata(df), "name"),
                        "/AUTH_test/c/\xc3\xa9t\xc3\xa9/\xe2\x82\xac");
    diskfile_free(df);
    objmeta_release(&m);
}

static void *racing_writer(void *arg)
{
    int id = (int)(intptr_t)arg;
    char ts[32], body[32];

    for (int i = 0; i < 20; i++) {
        struct diskfile *df = new_df("contended");
        int n = i * 4 + id;

        snprintf(ts, sizeof(ts), "17000000%02d.00000", n);
        snprintf(body, sizeof(body), "body %d", n);
        if (n % 5 == 3)
            assert_int_equal(diskfile_delete(df, ts), 0);
        else
            assert_int_equal(put(df, ts, body, strlen(body), NULL, NULL), 0);
        diskfile_free(df);
    }
    return NULL;
}

static void test_concurrent_writers_newest_wins(void **state)
{
    struct diskfile *df;
    pthread_t t[4];
    char buf[32];

    (void)state;
    for (intptr_t i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, racing_writer, (void *)i),
                         0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    df = new_df("contended");
    assert_int_equal(diskfile_open(df), 0); /* 79 % 5 != 3: a PUT */
    assert_string_equal(diskfile_data_timestamp(df), "1700000079.00000");
    assert_int_equal(diskfile_pread(df, buf, sizeof(buf), 0), 7);
    assert_memory_equal(buf, "body 79", 7);
    assert_int_equal(count_hash_dir(df), 1);
    assert_int_equal(count_dir("sda/tmp"), 0);
    diskfile_free(df);
}

static void test_fallocate_reserve_refuses_early(void **state)
{
    struct diskfile_conf rc = conf;
    struct diskfile_writer *w;
    struct diskfile *df;

    (void)state;
    rc.fallocate_reserve = UINT64_MAX / 2; /* more than any disk here */
    assert_int_equal(diskfile_new(&rc, "sda", PART, "a", "c", "o", &df), 0);
    assert_int_equal(diskfile_writer_new(df, 10, &w), -ENOSPC);
    assert_null(w);
    assert_int_equal(diskfile_delete(df, T1), -ENOSPC);
    assert_int_equal(count_dir("sda/tmp"), 0);
    diskfile_free(df);
    rc.fallocate_reserve = 1; /* a byte: fine */
    assert_int_equal(diskfile_new(&rc, "sda", PART, "a", "c", "o", &df), 0);
    assert_int_equal(put(df, T1, "abc", 3, NULL, NULL), 0);
    diskfile_free(df);
}

static void test_cleanup_tmp_removes_only_old_strays(void **state)
{
    struct diskfile *df = new_df("o10");
    struct diskfile_writer *w;
    struct diskfile_conf mc = conf;
    struct timespec old[2] = {{.tv_sec = 1000}, {.tv_sec = 1000}};
    char path[512];
    int fd;

    (void)state;
    assert_int_equal(diskfile_cleanup_tmp(&conf, "sda", 2000000000), 0);
    assert_int_equal(diskfile_writer_new(df, 3, &w), 0); /* live upload */
    snprintf(path, sizeof(path), "%s/sda/tmp/tmpSTRAY1", root);
    fd = open(path, O_WRONLY | O_CREAT, 0600);
    assert_true(fd >= 0);
    assert_int_equal(futimens(fd, old), 0);
    close(fd);
    assert_int_equal(count_dir("sda/tmp"), 2);
    assert_int_equal(diskfile_cleanup_tmp(&conf, "sda", 1700000000), 1);
    assert_int_equal(count_dir("sda/tmp"), 1);
    assert_int_equal(diskfile_writer_write(w, "abc", 3), 0);
    assert_int_equal(diskfile_writer_commit(w, NULL, T1, NULL), 0);
    diskfile_writer_free(w);
    mc.mount_check = true;
    assert_int_equal(diskfile_cleanup_tmp(&mc, "sda", 1700000000), -ENODEV);
    assert_int_equal(diskfile_cleanup_tmp(&conf, "sdz", 1700000000), -ENODEV);
    diskfile_free(df);
}

static char race_part[512];

static int rename_after_a_rehash(const char *from, const char *to)
{
    struct suffix_hashes sh = {0};

    /* the replicator rehashes between the writer's mark and its rename */
    assert_int_equal(suffix_hash_get(race_part, NULL, 0, 0, &sh), 0);
    suffix_hashes_release(&sh);
    return rename(from, to);
}

static void test_rehash_racing_a_write_does_not_cache_a_stale_hash(void **state)
{
    struct diskfile *df = new_df("raced");
    struct diskfile_io io = diskfile_io_sys;
    struct suffix_hashes sh = {0};
    const struct suffix_hash *h;
    uint64_t before;

    (void)state;
    snprintf(race_part, sizeof(race_part), "%s/sda/objects/%d", root, PART);
    assert_int_equal(put(df, T1, "abc", 3, NULL, NULL), 0);
    assert_int_equal(suffix_hash_get(race_part, NULL, 0, 0, &sh), 0);
    h = suffix_hashes_find(&sh, diskfile_hash(df) + 29);
    assert_non_null(h);
    before = h->hash;
    suffix_hashes_release(&sh);

    io.rename = rename_after_a_rehash;
    diskfile_io = &io;
    assert_int_equal(put(df, T2, "abcd", 4, NULL, NULL), 0);
    diskfile_io = &diskfile_io_sys;
    assert_int_equal(suffix_hash_get(race_part, NULL, 0, 0, &sh), 0);
    h = suffix_hashes_find(&sh, diskfile_hash(df) + 29);
    assert_non_null(h);
    assert_true(h->hash != before);
    suffix_hashes_release(&sh);
    diskfile_free(df);
}

static int cleanups; /* how many renames find their directories gone */

static int rename_after_a_cleanup(const char *from, const char *to)
{
    struct suffix_hashes sh = {0};

    /* the replicator's rehash finds the new hash and suffix directories
     * empty and removes them before the writer's rename */
    if (cleanups > 0) {
        cleanups--;
        assert_int_equal(suffix_hash_get(race_part, NULL, 0, 0, &sh), 0);
        suffix_hashes_release(&sh);
    }
    return rename(from, to);
}

static void test_write_survives_a_rehash_removing_its_new_dirs(void **state)
{
    struct diskfile *df = new_df("cleaned");
    struct diskfile *other = new_df("cleaned too");
    struct diskfile_io io = diskfile_io_sys;
    struct suffix_hashes sh = {0};

    (void)state;
    snprintf(race_part, sizeof(race_part), "%s/sda/objects/%d", root, PART);
    io.rename = rename_after_a_cleanup;
    diskfile_io = &io;
    cleanups = 2; /* twice in a row: still made again and committed */
    assert_int_equal(put(df, T1, "abc", 3, NULL, NULL), 0);
    assert_int_equal(cleanups, 0);
    cleanups = 3; /* a rehash before each of the three tries: given up */
    assert_int_equal(put(other, T2, "abcd", 4, NULL, NULL), -ENOENT);
    diskfile_io = &diskfile_io_sys;
    assert_int_equal(diskfile_open(other), -ENOENT);
    /* the first write is there and current, the failed one left nothing */
    assert_int_equal(diskfile_open(df), 0);
    assert_string_equal(diskfile_data_timestamp(df), T1);
    assert_int_equal(count_dir("sda/tmp"), 0);
    assert_int_equal(suffix_hash_get(race_part, NULL, 0, 0, &sh), 0);
    assert_non_null(suffix_hashes_find(&sh, diskfile_hash(df) + 29));
    suffix_hashes_release(&sh);
    diskfile_free(other);
    diskfile_free(df);
}

/* ---- error injection ---- */

static int fail_at; /* fail the fail_at-th call of the chosen op (1-based) */
static int fail_errno;
static int calls;

static bool should_fail(void)
{
    return ++calls == fail_at;
}

static ssize_t bad_pwrite(int fd, const void *buf, size_t len, off_t off)
{
    if (should_fail()) {
        errno = fail_errno;
        return -1;
    }
    /* short writes are retried */
    return pwrite(fd, buf, len > 3 ? len / 2 : len, off);
}

static int bad_fsync(int fd)
{
    if (should_fail()) {
        errno = fail_errno;
        return -1;
    }
    return fsync(fd);
}

static int bad_rename(const char *from, const char *to)
{
    if (should_fail()) {
        errno = fail_errno;
        return -1;
    }
    return rename(from, to);
}

static int bad_fallocate(int fd, int mode, off_t off, off_t len)
{
    if (should_fail()) {
        errno = fail_errno;
        return -1;
    }
    return fallocate(fd, mode, off, len);
}

static int bad_fsetxattr(int fd, const char *name, const void *val, size_t len,
                         int flags)
{
    if (should_fail()) {
        errno = fail_errno;
        return -1;
    }
    return fsetxattr(fd, name, val, len, flags);
}

static int bad_mkdir(const char *path, mode_t mode)
{
    if (should_fail()) {
        errno = fail_errno;
        return -1;
    }
    return mkdir(path, mode);
}

static void expect_failed_put_leaves_nothing(struct diskfile_io *io, int err,
                                             int at)
{
    static int round;
    char name[32];
    struct diskfile *df;
    int got;

    snprintf(name, sizeof(name), "injected-%d", round++);
    df = new_df(name);

    calls = 0;
    fail_at = at;
    fail_errno = -err;
    diskfile_io = io;
    got = put(df, T1, "0123456789abcdefghij", 20, NULL, NULL);
    diskfile_io = &diskfile_io_sys;
    assert_int_equal(got, err);
    assert_int_equal(count_dir("sda/tmp"), 0);
    assert_int_equal(count_hash_dir(df), 0);
    assert_int_equal(diskfile_open(df), -ENOENT);
    /* and the device works again afterwards */
    assert_int_equal(put(df, T2, "ok", 2, NULL, NULL), 0);
    assert_int_equal(diskfile_open(df), 0);
    assert_int_equal(diskfile_delete(df, T3), 0);
    diskfile_free(df);
}

static void test_injected_errors_leave_no_half_written_object(void **state)
{
    struct diskfile_io io;

    (void)state;
    io = diskfile_io_sys;
    io.fallocate = bad_fallocate;
    expect_failed_put_leaves_nothing(&io, -ENOSPC, 1);

    for (int at = 1; at <= 3; at++) {
        io = diskfile_io_sys;
        io.pwrite = bad_pwrite;
        expect_failed_put_leaves_nothing(&io, -ENOSPC, at);
        expect_failed_put_leaves_nothing(&io, -EIO, at);
    }
    io = diskfile_io_sys;
    io.fsetxattr = bad_fsetxattr;
    expect_failed_put_leaves_nothing(&io, -EIO, 1);
    io = diskfile_io_sys;
    io.fsync = bad_fsync; /* the file's fsync is the first */
    expect_failed_put_leaves_nothing(&io, -EIO, 1);
    io = diskfile_io_sys;
    io.rename = bad_rename;
    expect_failed_put_leaves_nothing(&io, -EIO, 1);
    io = diskfile_io_sys;
    io.mkdir = bad_mkdir; /* 1: <dev>/tmp, 2: the hash dir */
    expect_failed_put_leaves_nothing(&io, -ENOSPC, 2);
}

/* The path of an open fd, relative to the test root ("" if outside). */
static void fd_path(int fd, char *out, size_t cap)
{
    char link[64], path[512], real_root[512];
    ssize_t n;
    size_t r;

    out[0] = '\0';
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    n = readlink(link, path, sizeof(path) - 1);
    if (n < 0 || !realpath(root, real_root))
        return;
    path[n] = '\0';
    r = strlen(real_root);
    if (strncmp(path, real_root, r) == 0 && path[r] == '/')
        snprintf(out, cap, "%s", path + r + 1);
}

static char fail_fsync_of[512]; /* relative to root */

static int fsync_failing_one_dir(int fd)
{
    char path[512];

    fd_path(fd, path, sizeof(path));
    if (strcmp(path, fail_fsync_of) == 0) {
        errno = EIO;
        return -1;
    }
    return fsync(fd);
}

static void hash_dir_rel(struct diskfile *df, int up, char *out, size_t cap)
{
    char *slash;

    snprintf(out, cap, "%s", diskfile_hash_dir(df) + strlen(root) + 1);
    while (up-- > 0 && (slash = strrchr(out, '/')))
        *slash = '\0';
}

static void test_failed_directory_fsync_is_reported(void **state)
{
    struct diskfile *df = new_df("dirsync");
    struct diskfile_io io = diskfile_io_sys;

    (void)state;
    io.fsync = fsync_failing_one_dir;
    hash_dir_rel(df, 0, fail_fsync_of, sizeof(fail_fsync_of));
    diskfile_io = &io;
    assert_int_equal(put(df, T1, "abc", 3, NULL, NULL), -EIO);
    diskfile_io = &diskfile_io_sys;
    /* complete but maybe not durable: the caller answers 5xx */
    assert_int_equal(count_dir("sda/tmp"), 0);
    assert_int_equal(diskfile_open(df), 0);
    diskfile_free(df);
}

/* The entry of a directory the write made (the hash dir in its suffix
 * dir, the suffix dir in its partition, ...) is synced before the rename:
 * if that fails, the object does not appear at all. */
static void test_failed_new_directory_fsync_leaves_no_object(void **state)
{
    struct diskfile_io io = diskfile_io_sys;
    char name[32], cmd[600];

    (void)state;
    io.fsync = fsync_failing_one_dir;
    for (int up = 1; up <= 4; up++) { /* suffix, part, objects/, device */
        struct diskfile *df;

        snprintf(name, sizeof(name), "newdir-%d", up);
        df = new_df(name);
        hash_dir_rel(df, up, fail_fsync_of, sizeof(fail_fsync_of));
        diskfile_io = &io;
        assert_int_equal(put(df, T1, "abc", 3, NULL, NULL), -EIO);
        diskfile_io = &diskfile_io_sys;
        assert_int_equal(count_dir("sda/tmp"), 0);
        assert_int_equal(count_hash_dir(df), 0);
        assert_int_equal(diskfile_open(df), -ENOENT);
        /* the directories were left behind; the next write syncs them */
        assert_int_equal(put(df, T2, "ok", 2, NULL, NULL), 0);
        assert_int_equal(diskfile_open(df), 0);
        diskfile_free(df);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s/sda/objects'", root);
        assert_int_equal(system(cmd), 0); /* all four are new again */
    }
}

/* What the commit asks of the disk, in order. */
static char events[16][600];
static int n_events;

static void record(const char *what, const char *path)
{
    if (n_events < 16)
        snprintf(events[n_events++], sizeof(events[0]), "%s %s", what, path);
}

static int recording_fsync(int fd)
{
    char path[512];

    fd_path(fd, path, sizeof(path));
    if (strncmp(path, "sda/tmp/tmp", 11) == 0)
        path[11] = '\0'; /* the random part */
    record("fsync", path);
    return fsync(fd);
}

static int recording_rename(const char *from, const char *to)
{
    record("rename", to + strlen(root) + 1);
    return rename(from, to);
}

/* The temp file and every new directory's parent are synced before the
 * rename, the hash dir after it; nothing else. With the real table the
 * first group goes at once (the order within it is the table's order). */
static void test_commit_syncs_file_and_new_directories(void **state)
{
    struct diskfile *df = new_df("ordered");
    struct diskfile_io io = diskfile_io_sys;
    char hash[512], sfx[512], part[512], data[600];

    (void)state;
    hash_dir_rel(df, 0, hash, sizeof(hash));
    hash_dir_rel(df, 1, sfx, sizeof(sfx));
    hash_dir_rel(df, 2, part, sizeof(part));
    io.fsync = recording_fsync;
    io.rename = recording_rename;
    n_events = 0;
    diskfile_io = &io;
    assert_int_equal(put(df, T1, "abc", 3, NULL, NULL), 0);
    diskfile_io = &diskfile_io_sys;
    assert_int_equal(n_events, 7);
    assert_string_equal(events[0], "fsync sda/tmp/tmp");
    assert_string_equal(events[1], "fsync sda");
    assert_string_equal(events[2], "fsync sda/objects");
    assert_string_equal(events[3] + 6, part);
    assert_string_equal(events[4] + 6, sfx);
    snprintf(data, sizeof(data), "rename %s/" T1 ".data", hash);
    assert_string_equal(events[5], data);
    assert_string_equal(events[6] + 6, hash);

    /* an existing hash dir: the file, the rename, the hash dir */
    n_events = 0;
    diskfile_io = &io;
    assert_int_equal(diskfile_delete(df, T2), 0);
    diskfile_io = &diskfile_io_sys;
    assert_int_equal(n_events, 3);
    assert_string_equal(events[0], "fsync sda/tmp/tmp");
    snprintf(data, sizeof(data), "rename %s/" T2 ".ts", hash);
    assert_string_equal(events[1], data);
    assert_string_equal(events[2] + 6, hash);
    diskfile_free(df);
}

static void test_tombstone_and_post_fail_cleanly(void **state)
{
    struct diskfile *df = new_df("o8");
    struct diskfile_io io = diskfile_io_sys;

    (void)state;
    assert_int_equal(put(df, T1, "abc", 3, NULL, NULL), 0);
    io.fsync = bad_fsync;
    fail_errno = EIO;
    diskfile_io = &io;
    calls = 0;
    fail_at = 1;
    assert_int_equal(diskfile_delete(df, T2), -EIO);
    calls = 0;
    assert_int_equal(diskfile_post(df, NULL, T2), -EIO);
    diskfile_io = &diskfile_io_sys;
    assert_int_equal(count_dir("sda/tmp"), 0);
    assert_int_equal(count_hash_dir(df), 1);
    assert_int_equal(diskfile_open(df), 0);
    diskfile_free(df);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_put_then_get_in_swift_layout),
        T(test_empty_object),
        T(test_missing_and_deleted_are_told_apart),
        T(test_post_merges_as_swift),
        T(test_etag_mismatch_and_abort_leave_nothing),
        T(test_trusted_etag_is_stored_and_checked_on_read),
        T(test_max_metadata_round_trips),
        T(test_mount_check_and_missing_device),
        T(test_corrupt_metadata_is_quarantined),
        T(test_bit_rot_is_found_by_a_full_read),
        T(test_large_object_read_checks_its_md5),
        T(test_large_reader_freed_mid_object),
        T(test_many_large_readers_at_once),
        T(test_name_must_hash_to_its_directory),
        T(test_ninety_items_and_utf8_round_trip),
        T(test_concurrent_writers_newest_wins),
        T(test_fallocate_reserve_refuses_early),
        T(test_cleanup_tmp_removes_only_old_strays),
        T(test_rehash_racing_a_write_does_not_cache_a_stale_hash),
        T(test_write_survives_a_rehash_removing_its_new_dirs),
        T(test_injected_errors_leave_no_half_written_object),
        T(test_failed_directory_fsync_is_reported),
        T(test_failed_new_directory_fsync_leaves_no_object),
        T(test_commit_syncs_file_and_new_directories),
        T(test_tombstone_and_post_fail_cleanly),
    };
#undef T
    return cmocka_run_group_tests(tests, make_root, remove_root);
}
