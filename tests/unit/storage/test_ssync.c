/* Description: SSYNC: the inventory and answer line formats and what a
 * receiver wants (ssync.c); the sender (ssync_send.c) against a real
 * object server in this process (obj_server.c's SSYNC verb and
 * replication writes, ssync_recv.c): an object with metadata, a tombstone
 * and a .meta reach the peer file for file, nothing is sent once in sync,
 * bad inventories get 400 and write nothing.
 *
 * Run with arguments, the program is the sender the functional test
 * (tests/functional/test_ssync.py) drives between two real daemons:
 *     test_ssync send <swift.conf> <devices> <dev> <part> <ip> <port>
 *                     <peer dev> <suffix>...
 * prints the stats as JSON and exits with ssync_send()'s result (0, 1, or
 * 2 for an error). */
#include "storage/ssync.h"

#include "common/http_client.h"
#include "common/http_server.h"
#include "ring/hash_path.h"
#include "storage/diskfile_io.h"
#include "storage/obj_server.h"
#include "storage/objmeta.h"
#include "storage/ssync_recv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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

#define H1 "0123456789abcdef0123456789abcabc"
#define T1 "1700000001.00000"
#define T2 "1700000002.00000"
#define T3 "1700000003.00000_000000000000000a"

/* ---- the line formats ---- */

static void test_item_format_parse_round_trip(void **state)
{
    struct ssync_item items[] = {
        {.hash = H1, .ts = T1},
        {.hash = H1, .ts = T1, .meta = T3},
        {.hash = H1, .ts = T3, .tombstone = true},
    };
    const char *lines[] = {
        H1 " " T1 "\n",
        H1 " " T1 " m:" T3 "\n",
        H1 " " T3 " t\n",
    };
    char buf[SSYNC_LINE_MAX + 1];

    (void)state;
    for (size_t i = 0; i < 3; i++) {
        struct ssync_item back;
        size_t n = ssync_item_format(&items[i], buf);

        assert_string_equal(buf, lines[i]);
        assert_int_equal(n, strlen(lines[i]));
        assert_true(n <= SSYNC_LINE_MAX);
        assert_int_equal(ssync_item_parse(buf, n - 1, &back), 0);
        assert_memory_equal(&back, &items[i], sizeof(back));
    }
}

static void test_item_parse_refuses_malformed(void **state)
{
    const char *bad[] = {
        "",
        H1,
        H1 " ",
        H1 "  " T1,
        " " H1 " " T1,
        H1 " " T1 " ",
        "0123456789ABCDEF0123456789abcabc " T1,  /* uppercase */
        "0123456789abcdef0123456789abcab " T1,   /* 31 digits */
        "0123456789abcdef0123456789abcabcd " T1, /* 33 */
        "0123456789abcdef0123456789abcabg " T1,
        H1 " 1700000001.0000",
        H1 " 1700000001",
        H1 " " T1 " x",
        H1 " " T1 " t t",
        H1 " " T1 " m:" T1,      /* a .meta not newer than its data */
        H1 " " T2 " m:" T1,      /* older */
        H1 " " T1 " m:" T2 " t", /* a .meta on a tombstone */
        H1 " " T1 " m:",
        H1 " " T1 " m:junk",
        H1 " " T1 "\r",
    };
    struct ssync_item it;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(ssync_item_parse(bad[i], strlen(bad[i]), &it),
                         -EINVAL);
    /* a NUL inside the line */
    assert_int_equal(ssync_item_parse(H1 " " T1 "\0t", strlen(H1) + 19, &it),
                     -EINVAL);
}

static void test_want(void **state)
{
    struct ssync_item data1 = {.hash = H1, .ts = T1};
    struct ssync_item data2 = {.hash = H1, .ts = T2};
    struct ssync_item data1_meta3 = {.hash = H1, .ts = T1, .meta = T3};
    struct ssync_item data2_meta3 = {.hash = H1, .ts = T2, .meta = T3};
    struct ssync_item ts2 = {.hash = H1, .ts = T2, .tombstone = true};
    struct ssync_item ts3 = {.hash = H1, .ts = T3, .tombstone = true};

    (void)state;
    /* nothing here: all of it */
    assert_int_equal(ssync_want(&data1, NULL), SSYNC_WANT_DATA);
    assert_int_equal(ssync_want(&ts2, NULL), SSYNC_WANT_DATA);
    assert_int_equal(ssync_want(&data1_meta3, NULL),
                     SSYNC_WANT_DATA | SSYNC_WANT_META);
    /* in sync */
    assert_int_equal(ssync_want(&data1, &data1), 0);
    assert_int_equal(ssync_want(&ts2, &ts2), 0);
    assert_int_equal(ssync_want(&data1_meta3, &data1_meta3), 0);
    /* ours is newer: nothing */
    assert_int_equal(ssync_want(&data1, &data2), 0);
    assert_int_equal(ssync_want(&data2, &ts3), 0);
    assert_int_equal(ssync_want(&data1_meta3, &ts3), 0);
    assert_int_equal(ssync_want(&data1, &data1_meta3), 0);
    /* theirs is newer */
    assert_int_equal(ssync_want(&data2, &data1), SSYNC_WANT_DATA);
    assert_int_equal(ssync_want(&ts2, &data1), SSYNC_WANT_DATA);
    assert_int_equal(ssync_want(&ts3, &data2_meta3), SSYNC_WANT_DATA);
    assert_int_equal(ssync_want(&data2, &ts2), 0); /* equal: a tie keeps */
    /* only the .meta is newer */
    assert_int_equal(ssync_want(&data1_meta3, &data1), SSYNC_WANT_META);
    /* a newer .data with a .meta: both (the PUT carries no .meta) */
    assert_int_equal(ssync_want(&data2_meta3, &data1_meta3),
                     SSYNC_WANT_DATA | SSYNC_WANT_META);
    /* a .meta never applies to a tombstone */
    assert_int_equal(ssync_want(&data1_meta3, &ts2), 0);
    /* our data is newer than their .meta: nothing */
    struct ssync_item data3 = {.hash = H1, .ts = T3};
    assert_int_equal(ssync_want(&data1_meta3, &data3), 0);
}

static void test_wanted_lines(void **state)
{
    const char *bad[] = {
        H1,       H1 " ",    H1 " x",  H1 " md",
        H1 " dd", H1 " dmx", H1 "  d", "0123456789ABCDEF0123456789abcabc d",
    };
    char buf[SSYNC_WANTED_LINE_MAX + 1], hash[33];
    unsigned want, wants[] = {SSYNC_WANT_DATA, SSYNC_WANT_META,
                              SSYNC_WANT_DATA | SSYNC_WANT_META};
    const char *lines[] = {H1 " d\n", H1 " m\n", H1 " dm\n"};

    (void)state;
    for (size_t i = 0; i < 3; i++) {
        size_t n = ssync_wanted_format(H1, wants[i], buf);

        assert_string_equal(buf, lines[i]);
        assert_true(n <= SSYNC_WANTED_LINE_MAX);
        assert_int_equal(ssync_wanted_parse(buf, n - 1, hash, &want), 0);
        assert_string_equal(hash, H1);
        assert_int_equal(want, wants[i]);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(
            ssync_wanted_parse(bad[i], strlen(bad[i]), hash, &want), -EINVAL);
}

/* ---- the receiver's reader, without a server ---- */

/* The answer for 'inv' fed in pieces of 'piece' bytes. */
static int recv_pieces(const char *part_dir, const char *inv, size_t len,
                       size_t piece, char *answer, size_t cap)
{
    struct ssync_recv *r;
    const char *a;
    size_t alen;
    int err;

    assert_int_equal(ssync_recv_new(part_dir, &r), 0);
    for (size_t off = 0; off < len; off += piece) {
        err = ssync_recv_feed(r, inv + off,
                              len - off < piece ? len - off : piece);
        if (err) {
            ssync_recv_free(r);
            return err;
        }
    }
    err = ssync_recv_finish(r, &a, &alen);
    if (!err) {
        assert_true(alen < cap);
        memcpy(answer, a, alen);
        answer[alen] = '\0';
    }
    ssync_recv_free(r);
    return err;
}

static void test_recv_lines_across_pieces(void **state)
{
    char dir[] = "/tmp/kura-ssync-recv-XXXXXX", path[256], answer[256];
    const char *inv = H1 " " T1 "\n" /* equal: in sync */
        H1 " " T1 " m:" T3 "\n"      /* a newer .meta */
                         "0123456789abcdef0123456789abc123 " T2 " t\n";
    const char *want = H1 " m\n0123456789abcdef0123456789abc123 d\n";

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/abc", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/abc/" H1, dir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/abc/" H1 "/" T1 ".data", dir);
    close(open(path, O_CREAT | O_WRONLY, 0644));
    for (size_t piece = 1; piece <= strlen(inv); piece++) {
        assert_int_equal(
            recv_pieces(dir, inv, strlen(inv), piece, answer, sizeof(answer)),
            0);
        assert_string_equal(answer, want);
    }
    snprintf(path, sizeof(path), "rm -rf '%s'", dir);
    assert_int_equal(system(path), 0);
}

/* Random damage to a good inventory: refused or answered, never a crash
 * (under ASan and UBSan in Debug builds). */
static void test_recv_damaged_input(void **state)
{
    const char *good = H1 " " T1 " m:" T3 "\n" H1 " " T2 " t\n";
    char buf[256], answer[256];
    size_t len = strlen(good);

    (void)state;
    srand(5);
    for (int i = 0; i < 5000; i++) {
        int err;

        memcpy(buf, good, len);
        for (int k = 0; k < 1 + rand() % 3; k++)
            buf[rand() % len] = (char)(rand() % 256);
        err = recv_pieces("/nonexistent", buf, len - (size_t)(rand() % 3),
                          1 + (size_t)(rand() % 40), answer, sizeof(answer));
        assert_true(err == 0 || err == -EINVAL);
    }
}

/* ---- against a real object server ---- */

static char root[] = "/tmp/kura-ssync-XXXXXX";
static char devs_a[64], devs_b[64];
static struct hash_path_conf hc;
static struct obj_server_conf conf_a, conf_b;
static struct obj_server *obj_a, *obj_b;
static struct http_server *http_a, *http_b;
static unsigned port_a, port_b;
static struct http_client *client;

static int start(struct obj_server_conf *c, const char *devices,
                 struct obj_server **obj, struct http_server **http,
                 unsigned *port)
{
    struct http_handler h;

    memset(c, 0, sizeof(*c));
    http_server_conf_defaults(&c->http);
    c->http.bind_ip = "127.0.0.1";
    c->http.bind_port = 0;
    c->http.log_requests = false;
    c->devices = (char *)devices;
    c->swift_dir = root;
    c->recon_cache_path = root;
    c->mount_check = false;
    c->conn_timeout = 0.5;
    c->node_timeout = 10;
    c->reclaim_age = 604800;
    if (obj_server_new(c, &hc, obj))
        return -1;
    obj_server_handler(*obj, &h);
    if (http_server_new(&c->http, &h, http))
        return -1;
    *port = http_server_port(*http);
    return 0;
}

static int setup_servers(void **state)
{
    char path[128];

    (void)state;
    if (!mkdtemp(root))
        return -1;
    snprintf(devs_a, sizeof(devs_a), "%s/a", root);
    snprintf(devs_b, sizeof(devs_b), "%s/b", root);
    mkdir(devs_a, 0755);
    mkdir(devs_b, 0755);
    snprintf(path, sizeof(path), "%s/sda", devs_a);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/sdb", devs_b);
    mkdir(path, 0755);
    if (hash_path_conf_set(&hc, "pre", "suf") || http_client_new(NULL, &client))
        return -1;
    return start(&conf_a, devs_a, &obj_a, &http_a, &port_a) ||
           start(&conf_b, devs_b, &obj_b, &http_b, &port_b);
}

static int teardown_servers(void **state)
{
    char cmd[256];

    (void)state;
    http_server_free(http_a);
    http_server_free(http_b);
    obj_server_free(obj_a);
    obj_server_free(obj_b);
    http_client_free(client);
    hash_path_conf_release(&hc);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    return system(cmd);
}

/* A request to one of the servers; its status. Headers are "Name: value"
 * strings, NULL-terminated. */
static int call(unsigned port, const char *method, const char *path,
                const char *const *hdrs, const char *body, char **answer)
{
    struct http_header h[32];
    char copy[32][512];
    struct http_client_call *c = NULL;
    size_t n = 0, len;
    int status;

    for (; hdrs && hdrs[n]; n++) {
        char *colon;

        snprintf(copy[n], sizeof(copy[n]), "%s", hdrs[n]);
        colon = strchr(copy[n], ':');
        *colon = '\0';
        h[n] = (struct http_header){copy[n], colon + 2};
    }
    struct http_client_req req = {
        .host = "127.0.0.1",
        .port = port,
        .method = method,
        .path = path,
        .headers = h,
        .n_headers = n,
        .body = body,
        .body_len = body ? strlen(body) : 0,
    };
    status = http_client_request(client, &req, &c);
    if (c) {
        char *b = NULL;

        if (http_client_read_all(c, 1 << 20, &b, &len))
            status = -1;
        if (answer)
            *answer = b;
        else
            free(b);
    }
    http_client_end(c);
    return status;
}

static void hash_of(const char *a, const char *c, const char *o, char hex[33])
{
    unsigned char d[16];

    assert_int_equal(hash_path(&hc, a, c, o, d), 0);
    hash_path_hex(d, hex);
}

static void hash_dir(const char *devices, const char *dev, const char *hash,
                     char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s/objects/1/%s/%s", devices, dev, hash + 29, hash);
}

/* The regular files of a directory, sorted, joined by spaces. */
static void list_files(const char *dir, char *out, size_t cap)
{
    char **names;
    size_t n;

    out[0] = '\0';
    if (diskfile_io_listdir(dir, &names, &n))
        return;
    for (size_t i = 0; i < n; i++)
        snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? " " : "",
                 names[i]);
    diskfile_io_free_names(names, n);
}

/* Each item of 'a' is in 'b' with the same value, and as many. */
static void assert_same_meta(const struct objmeta *a, const struct objmeta *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        const struct objmeta_item *it = objmeta_find(b, a->items[i].key);

        assert_non_null(it);
        assert_string_equal(it->key, a->items[i].key); /* same spelling */
        assert_int_equal(it->vlen, a->items[i].vlen);
        assert_memory_equal(it->val, a->items[i].val, it->vlen);
    }
}

/* The hash directory of 'hash' holds the same files on A/sda and B/sdb:
 * names, metadata, data. */
static void assert_same_files(const char *hash)
{
    char da[256], db[256], la[1024], lb[1024];
    char **names;
    size_t n;

    hash_dir(devs_a, "sda", hash, da, sizeof(da));
    hash_dir(devs_b, "sdb", hash, db, sizeof(db));
    list_files(da, la, sizeof(la));
    list_files(db, lb, sizeof(lb));
    assert_true(la[0]);
    assert_string_equal(la, lb);
    assert_int_equal(diskfile_io_listdir(da, &names, &n), 0);
    for (size_t i = 0; i < n; i++) {
        char pa[512], pb[512], ba[4096], bb[4096];
        struct objmeta ma = {0}, mb = {0};
        uint64_t lena, lenb;
        int fa, fb;

        snprintf(pa, sizeof(pa), "%s/%s", da, names[i]);
        snprintf(pb, sizeof(pb), "%s/%s", db, names[i]);
        fa = open(pa, O_RDONLY);
        fb = open(pb, O_RDONLY);
        assert_true(fa >= 0 && fb >= 0);
        assert_int_equal(objmeta_read_fd(fa, &ma, &lena), 0);
        assert_int_equal(objmeta_read_fd(fb, &mb, &lenb), 0);
        assert_same_meta(&ma, &mb);
        assert_int_equal(lena, lenb);
        assert_true(lena < sizeof(ba));
        assert_int_equal(pread(fa, ba, lena, 0), (ssize_t)lena);
        assert_int_equal(pread(fb, bb, lenb, 0), (ssize_t)lenb);
        assert_memory_equal(ba, bb, lena);
        objmeta_release(&ma);
        objmeta_release(&mb);
        close(fa);
        close(fb);
    }
    diskfile_io_free_names(names, n);
}

static int send_batch(const char *const *suffixes, size_t n, unsigned batch,
                      unsigned concurrency, struct ssync_stats *st)
{
    struct ssync_target t = {"127.0.0.1", (int)port_b, "sdb", 1};
    struct ssync_opts opts = {.conn_ms = 1000,
                              .node_ms = 10000,
                              .txn = "tx-test",
                              .hash_conf = &hc,
                              .batch = batch,
                              .concurrency = concurrency};

    return ssync_send(client, &t, devs_a, "sda", 1, suffixes, n, &opts, st);
}

/* Three objects at once: the sender's threads are exercised (and run
 * under ASan and UBSan in Debug builds). */
static int send_suffixes(const char *const *suffixes, size_t n,
                         struct ssync_stats *st)
{
    return send_batch(suffixes, n, 0, 3, st);
}

static void test_send_object_tombstone_and_meta(void **state)
{
    const char *put1[] = {"X-Timestamp: 1700000001.00000",
                          "Content-Type: text/x-kura",
                          "X-Object-Meta-Color: blue",
                          "X-Object-Sysmeta-Slo-Thing: s1",
                          "X-Object-Transient-Sysmeta-Tag: t1",
                          "Content-Disposition: inline",
                          "X-Delete-At: 2100000000",
                          NULL};
    const char *put2[] = {"X-Timestamp: 1700000001.00000",
                          "Content-Type: text/plain", NULL};
    const char *del2[] = {"X-Timestamp: 1700000002.00000", NULL};
    const char *post3[] = {"X-Timestamp: 1700000003.00000",
                           "X-Object-Meta-Shape: round",
                           "Content-Type: image/x-new", NULL};
    char h1[33], h2[33], h3[33];
    const char *sfx[3], *sfx_twice[4];
    struct ssync_stats st = {0};

    (void)state;
    hash_of("a", "c", "o1", h1);
    hash_of("a", "c", "o2", h2);
    hash_of("a", "c", "o3", h3);
    assert_int_equal(call(port_a, "PUT", "/sda/1/a/c/o1", put1, "hello", NULL),
                     201);
    assert_int_equal(call(port_a, "PUT", "/sda/1/a/c/o2", put2, "x", NULL),
                     201);
    assert_int_equal(call(port_a, "DELETE", "/sda/1/a/c/o2", del2, NULL, NULL),
                     204);
    /* o3 is on both; only A gets the POST */
    assert_int_equal(call(port_a, "PUT", "/sda/1/a/c/o3", put2, "3", NULL),
                     201);
    assert_int_equal(call(port_b, "PUT", "/sdb/1/a/c/o3", put2, "3", NULL),
                     201);
    assert_int_equal(call(port_a, "POST", "/sda/1/a/c/o3", post3, NULL, NULL),
                     202);

    sfx[0] = h1 + 29;
    sfx[1] = h2 + 29;
    sfx[2] = h3 + 29;
    assert_int_equal(send_suffixes(sfx, 3, &st), 0);
    assert_int_equal(st.hashes, 3);
    assert_int_equal(st.sent_data, 1);
    assert_int_equal(st.sent_ts, 1);
    assert_int_equal(st.sent_meta, 1);
    assert_int_equal(st.bytes, 5);
    assert_int_equal(st.failures, 0);
    assert_same_files(h1);
    assert_same_files(h2);
    assert_same_files(h3);

    /* in sync: listed, nothing sent; offered in one request (a suffix
     * named twice offered once), or in a request per line */
    sfx_twice[0] = sfx_twice[3] = sfx[0];
    sfx_twice[1] = sfx[1];
    sfx_twice[2] = sfx[2];
    memset(&st, 0, sizeof(st));
    assert_int_equal(send_suffixes(sfx_twice, 4, &st), 0);
    assert_int_equal(st.hashes, 3);
    assert_int_equal(send_batch(sfx_twice, 4, 1, 0, &st), 0);
    assert_int_equal(st.hashes, 3 + 4);
    assert_int_equal(st.sent_data + st.sent_ts + st.sent_meta + st.bytes, 0);
    memset(&st, 0, sizeof(st));
    assert_int_equal(send_suffixes(sfx, 3, &st), 0);
    assert_int_equal(st.hashes, 3);
    assert_int_equal(st.sent_data + st.sent_ts + st.sent_meta + st.bytes, 0);
}

/* Bit rot on the sender: the peer never stores the bad bytes, the local
 * copy is quarantined, and the object counts as failed. */
static void test_send_corrupt_data_is_not_propagated(void **state)
{
    const char *put[] = {"X-Timestamp: 1700000001.00000",
                         "Content-Type: text/plain", NULL};
    char h[33], da[256], db[256], files[1024], path[512], q[256];
    const char *sfx[1];
    struct ssync_stats st = {0};
    struct stat sb;
    int fd;

    (void)state;
    hash_of("a", "c", "rotten", h);
    sfx[0] = h + 29;
    assert_int_equal(
        call(port_a, "PUT", "/sda/1/a/c/rotten", put, "good bytes", NULL), 201);
    hash_dir(devs_a, "sda", h, da, sizeof(da));
    snprintf(path, sizeof(path), "%s/1700000001.00000.data", da);
    fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "B", 1, 0), 1);
    close(fd);

    assert_int_equal(send_suffixes(sfx, 1, &st), 1);
    assert_int_equal(st.failures, 1);
    assert_int_equal(st.sent_data, 0);
    hash_dir(devs_b, "sdb", h, db, sizeof(db));
    list_files(db, files, sizeof(files));
    assert_string_equal(files, "");
    snprintf(q, sizeof(q), "%s/sda/quarantined/objects/%s", devs_a, h);
    assert_int_equal(stat(q, &sb), 0);
    assert_int_equal(stat(da, &sb), -1);
}

static void test_send_empty_or_missing_suffix(void **state)
{
    const char *sfx[] = {"fff"};
    const char *bad[] = {"FFF"};
    struct ssync_stats st = {0};
    struct ssync_target t = {"127.0.0.1", (int)port_b, "sdb", 1};
    struct ssync_opts opts = {.conn_ms = 1000, .node_ms = 10000};

    (void)state;
    assert_int_equal(send_suffixes(sfx, 1, &st), 0);
    assert_int_equal(st.hashes, 0);
    assert_int_equal(send_suffixes(bad, 1, &st), -EINVAL);
    /* no hash_conf: refused, not a quarantine of every object */
    assert_int_equal(
        ssync_send(client, &t, devs_a, "sda", 1, sfx, 1, &opts, &st), -EINVAL);
    opts.hash_conf = &hc;
    assert_int_equal(
        ssync_send(client, &t, devs_a, "nodev", 1, sfx, 1, &opts, &st),
        -ENODEV);
}

static void test_send_to_missing_device_is_enodev(void **state)
{
    const char *put[] = {"X-Timestamp: 1700000001.00000",
                         "Content-Type: text/plain", NULL};
    char h[33];
    const char *sfx[1];
    struct ssync_stats st = {0};
    struct ssync_target t = {"127.0.0.1", (int)port_b, "nodev", 1};
    struct ssync_opts opts = {
        .conn_ms = 1000, .node_ms = 10000, .hash_conf = &hc};

    (void)state;
    hash_of("a", "c", "for-nodev", h);
    sfx[0] = h + 29;
    assert_int_equal(
        call(port_a, "PUT", "/sda/1/a/c/for-nodev", put, "z", NULL), 201);
    assert_int_equal(
        ssync_send(client, &t, devs_a, "sda", 1, sfx, 1, &opts, &st), -ENODEV);
    assert_int_equal(st.sent_data, 0);
}

static void test_recv_answers_and_refuses(void **state)
{
    const char *put[] = {"X-Timestamp: 1700000005.00000",
                         "Content-Type: text/plain", NULL};
    const char *ctype[] = {"Content-Type: text/plain", NULL};
    char h[33], body[512], *answer = NULL, before[1024], after[1024], dir[256];

    (void)state;
    hash_of("a", "c", "recv", h);
    assert_int_equal(call(port_b, "PUT", "/sdb/1/a/c/recv", put, "r", NULL),
                     201);
    /* older, equal and newer offers; an unknown hash */
    snprintf(body, sizeof(body),
             "%s 1700000004.00000\n%s 1700000005.00000\n"
             "%s 1700000005.00000 m:1700000006.00000\n"
             "%s 1700000006.00000 t\n" H1 " 1700000001.00000\n",
             h, h, h, h);
    assert_int_equal(call(port_b, "SSYNC", "/sdb/1", ctype, body, &answer),
                     200);
    snprintf(body, sizeof(body), "%s m\n%s d\n" H1 " d\n", h, h);
    assert_string_equal(answer, body);
    free(answer);

    /* malformed: 400, nothing written */
    hash_dir(devs_b, "sdb", h, dir, sizeof(dir));
    list_files(dir, before, sizeof(before));
    snprintf(body, sizeof(body), "%s 1700000009.00000 t\nnonsense\n", h);
    assert_int_equal(call(port_b, "SSYNC", "/sdb/1", ctype, body, NULL), 400);
    assert_int_equal(
        call(port_b, "SSYNC", "/sdb/1", ctype, H1 " 1700000001.00000", NULL),
        400); /* no final newline */
    list_files(dir, after, sizeof(after));
    assert_string_equal(before, after);
    /* paths and devices */
    assert_int_equal(call(port_b, "SSYNC", "/nodev/1", ctype, "", NULL), 507);
    assert_int_equal(call(port_b, "SSYNC", "/sdb/1/x", ctype, "", NULL), 400);
    assert_int_equal(call(port_b, "SSYNC", "/sdb/x", ctype, "", NULL), 400);
    assert_int_equal(call(port_b, "SSYNC", "/sdb/7", ctype, "", &answer), 200);
    assert_string_equal(answer, "");
    free(answer);
}

static void test_recv_refuses_oversized(void **state)
{
    const char *hdrs[] = {"Content-Type: text/plain", NULL};
    size_t line = strlen(H1 " 1700000001.00000\n");
    size_t n = SSYNC_MAX_LINES + 1;
    char *body = malloc(n * line + 1);

    (void)state;
    assert_non_null(body);
    for (size_t i = 0; i < n; i++)
        memcpy(body + i * line, H1 " 1700000001.00000\n", line);
    body[n * line] = '\0';
    assert_int_equal(call(port_b, "SSYNC", "/sdb/2", hdrs, body, NULL), 413);
    free(body);
}

static void test_replication_writes(void **state)
{
    const char *put_new[] = {"X-Timestamp: 1700000010.00000",
                             "Content-Type: text/plain", NULL};
    const char *put_old[] = {
        "X-Timestamp: 1700000009.00000", "Content-Type: text/plain",
        "X-Backend-Replication: True",
        "X-Backend-Replication-Headers: Content-Type", NULL};
    const char *put_past[] = {
        "X-Timestamp: 1700000011.00000",
        "Content-Type: text/plain",
        "X-Delete-At: 1700000000",
        "X-Backend-Replication: True",
        "X-Backend-Replication-Headers: Content-Type X-Delete-At",
        NULL};
    const char *put_past_plain[] = {"X-Timestamp: 1700000011.00000",
                                    "Content-Type: text/plain",
                                    "X-Delete-At: 1700000000", NULL};
    const char *del_old[] = {"X-Timestamp: 1700000009.00000",
                             "X-Backend-Replication: True", NULL};
    const char *post_repl[] = {
        "X-Timestamp: 1700000012.00000", "X-Object-Sysmeta-Kept: yes",
        "X-Backend-Replication: True",
        "X-Backend-Replication-Headers: X-Object-Sysmeta-Kept", NULL};
    const char *post_old[] = {"X-Timestamp: 1700000012.00000",
                              "X-Backend-Replication: True", NULL};
    const char *none[] = {NULL};
    const char *repl_get[] = {"X-Backend-Replication: True", NULL};
    char *answer = NULL;

    (void)state;
    assert_int_equal(call(port_b, "PUT", "/sdb/3/a/c/w", put_new, "n", NULL),
                     201);
    assert_int_equal(call(port_b, "PUT", "/sdb/3/a/c/w", put_old, "o", NULL),
                     409);
    assert_int_equal(
        call(port_b, "DELETE", "/sdb/3/a/c/w", del_old, NULL, NULL), 409);
    /* an expired object replicates; a client cannot write one */
    assert_int_equal(
        call(port_b, "PUT", "/sdb/3/a/c/w", put_past_plain, "p", NULL), 400);
    assert_int_equal(call(port_b, "PUT", "/sdb/3/a/c/w", put_past, "p", NULL),
                     201);
    assert_int_equal(call(port_b, "GET", "/sdb/3/a/c/w", none, NULL, NULL),
                     404); /* expired for clients */
    assert_int_equal(
        call(port_b, "GET", "/sdb/3/a/c/w", repl_get, NULL, &answer), 200);
    assert_string_equal(answer, "p");
    free(answer);
    /* a POST to it too, storing sysmeta named (a client's POST drops it) */
    assert_int_equal(
        call(port_b, "POST", "/sdb/3/a/c/w", post_repl, NULL, NULL), 202);
    assert_int_equal(call(port_b, "POST", "/sdb/3/a/c/w", post_old, NULL, NULL),
                     409); /* equal to the .meta now there */
}

/* ---- the functional test's sender ---- */

static int send_main(int argc, char **argv)
{
    struct hash_path_conf h = {0};
    struct http_client *c = NULL;
    struct ssync_stats st = {0};
    char err[HASH_PATH_ERRLEN];
    int rc;

    if (argc < 10) {
        fprintf(stderr, "usage: test_ssync send <swift.conf> <devices> <dev> "
                        "<part> <ip> <port> <peer dev> <suffix>...\n");
        return 2;
    }
    struct ssync_target t = {argv[6], atoi(argv[7]), argv[8],
                             (uint32_t)strtoul(argv[5], NULL, 10)};
    struct ssync_opts opts = {.conn_ms = 2000,
                              .node_ms = 20000,
                              .txn = "tx-functional",
                              .hash_conf = &h,
                              .concurrency = 2};

    if (hash_path_conf_load(&h, argv[2], err) || http_client_new(NULL, &c)) {
        fprintf(stderr, "test_ssync: %s\n", err);
        return 2;
    }
    rc =
        ssync_send(c, &t, argv[3], argv[4], t.part,
                   (const char *const *)argv + 9, (size_t)argc - 9, &opts, &st);
    printf("{\"rc\": %d, \"hashes\": %" PRIu64 ", \"sent_data\": %" PRIu64
           ", \"sent_ts\": %" PRIu64 ", \"sent_meta\": %" PRIu64
           ", \"bytes\": %" PRIu64 ", \"failures\": %" PRIu64 "}\n",
           rc, st.hashes, st.sent_data, st.sent_ts, st.sent_meta, st.bytes,
           st.failures);
    http_client_free(c);
    hash_path_conf_release(&h);
    return rc < 0 ? 2 : rc;
}

int main(int argc, char **argv)
{
    const struct CMUnitTest formats[] = {
        cmocka_unit_test(test_item_format_parse_round_trip),
        cmocka_unit_test(test_item_parse_refuses_malformed),
        cmocka_unit_test(test_want),
        cmocka_unit_test(test_wanted_lines),
        cmocka_unit_test(test_recv_lines_across_pieces),
        cmocka_unit_test(test_recv_damaged_input),
    };
    const struct CMUnitTest servers[] = {
        cmocka_unit_test(test_send_object_tombstone_and_meta),
        cmocka_unit_test(test_send_corrupt_data_is_not_propagated),
        cmocka_unit_test(test_send_empty_or_missing_suffix),
        cmocka_unit_test(test_send_to_missing_device_is_enodev),
        cmocka_unit_test(test_recv_answers_and_refuses),
        cmocka_unit_test(test_recv_refuses_oversized),
        cmocka_unit_test(test_replication_writes),
    };
    int failed;

    if (argc > 1 && !strcmp(argv[1], "send"))
        return send_main(argc, argv);
    failed = cmocka_run_group_tests_name("formats", formats, NULL, NULL);
    return failed | cmocka_run_group_tests_name(
                        "servers", servers, setup_servers, teardown_servers);
}
