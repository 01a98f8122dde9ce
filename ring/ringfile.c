/*
 * ringfile.c - reads and writes Swift's ring file format v1.
 *
 * The reader treats the file as hostile input: every length is checked
 * against a cap before anything is allocated for it, arrays grow only as
 * decompressed bytes actually arrive (a short file cannot make us allocate
 * gigabytes), and any defect becomes -EINVAL with a one-line reason. What
 * it accepts is what Swift's RingData.load accepts, minus the pickled
 * pre-2013 format, and minus rings Swift would only fail on later (a dev
 * id in the arrays that names no device).
 *
 * The writer produces what Swift's RingData.save does: the same JSON keys,
 * sorted, the same gzip header (mtime 1300507380, the file name without
 * ".gz"), so writing the same ring twice gives the same bytes, and the
 * same uncompressed stream as Swift. Only the deflate level differs: 4,
 * not Python's 9, because level 9 takes 7x as long (0.7 s for a part power
 * 20 ring) to save under 2 % of the size.
 * Placement (ring.c) and device records (dev.c) live elsewhere.
 */
#include "ring/ringfile.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "common/atomic_file.h"

#define RING_MAGIC "R1NG"
#define RING_FORMAT_VERSION 1
#define JSON_LEN_MAX (64u << 20)
#define REPLICA_COUNT_MAX 65535
#define ARRAYS_BYTES_MAX (4ull << 30)
#define GZIP_MTIME 1300507380
#define RINGFILE_GZIP_LEVEL 4
#define CHUNK (64u << 10)

static bool host_is_little(void)
{
    const uint16_t one = 1;

    return *(const unsigned char *)&one == 1;
}

__attribute__((format(printf, 2, 3))) static void set_err(char *err,
                                                          const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return;
    va_start(ap, fmt);
    vsnprintf(err, RINGFILE_ERRLEN, fmt, ap);
    va_end(ap);
}

/* ---- reading: a gzip stream we pull exact byte counts from ---- */

struct gz_in {
    int fd;
    z_stream zs;
    bool zs_ready;
    bool ended; /* saw Z_STREAM_END: the trailer's CRC and length match */
    unsigned char buf[CHUNK];
};

static int gz_in_open(struct gz_in *g, const char *path, char *err)
{
    g->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (g->fd == -1) {
        int e = errno;

        set_err(err, "cannot open '%s': %s", path, strerror(e));
        return -e;
    }
    if (inflateInit2(&g->zs, 16 + MAX_WBITS) != Z_OK) {
        set_err(err, "cannot start gzip decoder");
        return -ENOMEM;
    }
    g->zs_ready = true;
    return 0;
}

static void gz_in_close(struct gz_in *g)
{
    if (g->zs_ready)
        inflateEnd(&g->zs);
    if (g->fd >= 0)
        close(g->fd);
    g->zs_ready = false;
    g->fd = -1;
}

/* Refills the input buffer. Returns bytes read (0 at end of file) or
 * -errno. */
static ssize_t gz_in_fill(struct gz_in *g, char *err)
{
    ssize_t n;

    do {
        n = read(g->fd, g->buf, sizeof(g->buf));
    } while (n == -1 && errno == EINTR);
    if (n == -1) {
        int e = errno;

        set_err(err, "cannot read ring file: %s", strerror(e));
        return -e;
    }
    g->zs.next_in = g->buf;
    g->zs.avail_in = (uInt)n;
    return n;
}

/* Reads up to 'len' decompressed bytes into 'out'; fewer only at the end
 * of the gzip stream. Sets *got. Returns 0, -EINVAL for a corrupt or
 * truncated stream, or -errno. */
static int gz_read(struct gz_in *g, void *out, size_t len, size_t *got,
                   char *err)
{
    *got = 0;
    while (*got < len && !g->ended) {
        size_t want = len - *got;
        int rc;

        if (g->zs.avail_in == 0) {
            ssize_t n = gz_in_fill(g, err);

            if (n < 0)
                return (int)n;
            if (n == 0) {
                set_err(err, "truncated gzip stream");
                return -EINVAL;
            }
        }
        g->zs.next_out = (unsigned char *)out + *got;
        g->zs.avail_out = want > CHUNK ? CHUNK : (uInt)want;
        want = g->zs.avail_out;
        rc = inflate(&g->zs, Z_NO_FLUSH);
        *got += want - g->zs.avail_out;
        if (rc == Z_STREAM_END) {
            g->ended = true;
        } else if (rc == Z_MEM_ERROR) {
            set_err(err, "out of memory decompressing ring");
            return -ENOMEM;
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            set_err(err, "not a valid gzip stream: %s",
                    g->zs.msg ? g->zs.msg : "inflate failed");
            return -EINVAL;
        }
    }
    return 0;
}

/* Exactly 'len' bytes or -EINVAL naming 'what'. */
static int gz_read_full(struct gz_in *g, void *out, size_t len,
                        const char *what, char *err)
{
    size_t got;
    int rc = gz_read(g, out, len, &got, err);

    if (rc)
        return rc;
    if (got != len) {
        set_err(err, "truncated ring: %s is short", what);
        return -EINVAL;
    }
    return 0;
}

/* After the last array: no decompressed bytes left, the gzip trailer
 * checked, nothing after the gzip member. */
static int gz_expect_end(struct gz_in *g, char *err)
{
    unsigned char extra;
    size_t got;
    int rc = gz_read(g, &extra, 1, &got, err);

    if (rc)
        return rc;
    if (got) {
        set_err(err, "oversized ring: bytes after the last replica array");
        return -EINVAL;
    }
    if (g->zs.avail_in == 0) {
        ssize_t n = gz_in_fill(g, err);

        if (n < 0)
            return (int)n;
    }
    if (g->zs.avail_in) {
        set_err(err, "oversized ring: data after the gzip stream");
        return -EINVAL;
    }
    return 0;
}

/* ---- reading: the JSON header ---- */

static int get_int(json_t *obj, const char *key, bool required, long lo,
                   long hi, long *out, char *err)
{
    json_t *v = json_object_get(obj, key);

    if (!v || json_is_null(v)) {
        if (!required)
            return 1;
        set_err(err, "ring header: missing '%s'", key);
        return -EINVAL;
    }
    if (!json_is_integer(v) || json_integer_value(v) < lo ||
        json_integer_value(v) > hi) {
        set_err(err, "ring header: '%s' is not an integer in %ld..%ld", key, lo,
                hi);
        return -EINVAL;
    }
    *out = (long)json_integer_value(v);
    return 0;
}

/* A string field of a device; 'dflt' (may be NULL: required) if absent. */
static int dev_str(json_t *jdev, const char *key, const char *dflt, size_t max,
                   char **out, char *err)
{
    json_t *v = json_object_get(jdev, key);
    const char *s = dflt;

    if (v && !json_is_null(v)) {
        if (!json_is_string(v) || json_string_length(v) > max ||
            strlen(json_string_value(v)) != json_string_length(v)) {
            set_err(err,
                    "ring header: device '%s' is not a string of at "
                    "most %zu bytes",
                    key, max);
            return -EINVAL;
        }
        s = json_string_value(v);
    }
    if (!s) {
        set_err(err, "ring header: device has no '%s'", key);
        return -EINVAL;
    }
    *out = strdup(s);
    return *out ? 0 : -ENOMEM;
}

static int dev_int(json_t *jdev, const char *key, long dflt, long lo, long hi,
                   int *out, char *err)
{
    long v = dflt;
    int rc = get_int(jdev, key, dflt == LONG_MIN, lo, hi, &v, err);

    if (rc < 0)
        return rc;
    *out = (int)v;
    return 0;
}

static int parse_dev(json_t *jdev, size_t index, struct ring_dev *dev,
                     char *err)
{
    json_t *w = json_object_get(jdev, "weight");
    int rc;

    if (!json_is_object(jdev)) {
        set_err(err, "ring header: device %zu is not an object", index);
        return -EINVAL;
    }
    if ((rc = dev_int(jdev, "id", LONG_MIN, 0, 65535, &dev->id, err)) ||
        (rc = dev_int(jdev, "region", 1, INT32_MIN, INT32_MAX, &dev->region,
                      err)) ||
        (rc = dev_int(jdev, "zone", LONG_MIN, INT32_MIN, INT32_MAX, &dev->zone,
                      err)) ||
        (rc = dev_int(jdev, "port", LONG_MIN, 0, 65535, &dev->port, err)) ||
        (rc = dev_int(jdev, "replication_port", dev->port, 0, 65535,
                      &dev->replication_port, err)) ||
        (rc = dev_str(jdev, "ip", NULL, RING_DEV_IP_MAX, &dev->ip, err)) ||
        (rc = dev_str(jdev, "replication_ip", dev->ip, RING_DEV_IP_MAX,
                      &dev->replication_ip, err)) ||
        (rc = dev_str(jdev, "device", NULL, RING_DEV_NAME_MAX, &dev->device,
                      err)) ||
        (rc = dev_str(jdev, "meta", "", JSON_LEN_MAX, &dev->meta, err)))
        return rc;
    if ((size_t)dev->id != index) {
        set_err(err, "ring header: device at index %zu has id %d", index,
                dev->id);
        return -EINVAL;
    }
    if (w && !json_is_null(w) && !json_is_number(w)) {
        set_err(err, "ring header: device %zu weight is not a number", index);
        return -EINVAL;
    }
    dev->weight = w ? json_number_value(w) : 0.0;
    return 0;
}

static int parse_devs(json_t *jdevs, struct ring_data *rd, char *err)
{
    size_t i, n_live = 0;

    if (!json_is_array(jdevs)) {
        set_err(err, "ring header: 'devs' is not a list");
        return -EINVAL;
    }
    rd->n_devs = json_array_size(jdevs);
    if (rd->n_devs > 65536) {
        set_err(err, "ring header: %zu devices, more than 65536", rd->n_devs);
        return -EINVAL;
    }
    rd->devs = calloc(rd->n_devs ? rd->n_devs : 1, sizeof(*rd->devs));
    if (!rd->devs)
        return -ENOMEM;
    for (i = 0; i < rd->n_devs; i++) {
        json_t *jdev = json_array_get(jdevs, i);
        int rc;

        if (json_is_null(jdev))
            continue;
        rd->devs[i] = calloc(1, sizeof(*rd->devs[i]));
        if (!rd->devs[i])
            return -ENOMEM;
        rc = parse_dev(jdev, i, rd->devs[i], err);
        if (rc)
            return rc;
        n_live++;
    }
    if (n_live == 0) {
        set_err(err, "ring has no devices");
        return -EINVAL;
    }
    return 0;
}

static int parse_byteorder(json_t *hdr, bool *swap, char *err)
{
    json_t *v = json_object_get(hdr, "byteorder");
    const char *s;

    *swap = false;
    if (!v)
        return 0; /* Swift assumes the reader's own byte order */
    s = json_is_string(v) ? json_string_value(v) : "";
    if (strcmp(s, "little") && strcmp(s, "big")) {
        set_err(err, "ring header: byteorder is not \"little\" or \"big\"");
        return -EINVAL;
    }
    *swap = (strcmp(s, "little") == 0) != host_is_little();
    return 0;
}

static int parse_header(const char *text, size_t len, struct ring_data *rd,
                        bool *swap, char *err)
{
    json_error_t jerr;
    json_t *hdr = json_loadb(text, len, 0, &jerr);
    long v;
    int rc;

    if (!hdr || !json_is_object(hdr)) {
        set_err(err, "ring header is not a JSON object: %s",
                hdr ? "wrong type" : jerr.text);
        json_decref(hdr);
        return -EINVAL;
    }
    rc = get_int(hdr, "part_shift", true, 0, 32, &v, err);
    if (rc)
        goto out;
    rd->part_shift = (unsigned)v;
    rc = get_int(hdr, "replica_count", true, 1, REPLICA_COUNT_MAX, &v, err);
    if (rc)
        goto out;
    rd->n_replicas = (size_t)v;
    rc = get_int(hdr, "version", false, 0, LONG_MAX, &rd->version, err);
    if (rc < 0)
        goto out;
    rc = get_int(hdr, "next_part_power", false, 1, 32, &v, err);
    if (rc < 0)
        goto out;
    if (rc == 0)
        rd->next_part_power = (int)v;
    rc = parse_byteorder(hdr, swap, err);
    if (rc)
        goto out;
    rc = parse_devs(json_object_get(hdr, "devs"), rd, err);
out:
    json_decref(hdr);
    return rc;
}

/* ---- reading: the replica arrays ---- */

/* Reads one replica array of at most 'parts' entries, growing the buffer
 * as data arrives. The last array may be short; the others may not. */
static int read_array(struct gz_in *g, struct ring_data *rd, size_t r,
                      size_t parts, bool swap, char *err)
{
    size_t want = parts * 2, have = 0, cap = 0, got;
    unsigned char *buf = NULL;
    int rc;

    do {
        size_t step;
        unsigned char *nbuf;

        if (have == cap) {
            cap = cap ? cap * 2 : CHUNK;
            if (cap > want)
                cap = want;
            nbuf = realloc(buf, cap);
            if (!nbuf) {
                free(buf);
                return -ENOMEM;
            }
            buf = nbuf;
        }
        step = cap - have;
        rc = gz_read(g, buf + have, step, &got, err);
        if (rc) {
            free(buf);
            return rc;
        }
        have += got;
    } while (got && have < want);

    rd->replica2part2dev[r] = (uint16_t *)buf;
    rd->replica_parts[r] = have / 2;
    /* Only the last of several arrays may be short (fractional replicas);
     * the first defines the partition count. */
    if (have != want && (r == 0 || r + 1 < rd->n_replicas || have == 0)) {
        set_err(err, "truncated ring: replica %zu has %zu of %zu bytes", r,
                have, want);
        return -EINVAL;
    }
    if (have % 2) {
        set_err(err, "ring replica %zu has an odd byte count", r);
        return -EINVAL;
    }
    if (swap)
        for (size_t i = 0; i < have / 2; i++)
            rd->replica2part2dev[r][i] =
                __builtin_bswap16(rd->replica2part2dev[r][i]);
    return 0;
}

static int check_dev_ids(const struct ring_data *rd, char *err)
{
    for (size_t r = 0; r < rd->n_replicas; r++) {
        for (size_t p = 0; p < rd->replica_parts[r]; p++) {
            uint16_t id = rd->replica2part2dev[r][p];

            if (id >= rd->n_devs || !rd->devs[id]) {
                set_err(err,
                        "ring replica %zu partition %zu names device "
                        "%u, which does not exist",
                        r, p, id);
                return -EINVAL;
            }
        }
    }
    return 0;
}

static int read_body(struct gz_in *g, struct ring_data *rd, char *err)
{
    unsigned char head[10];
    uint32_t json_len;
    uint64_t parts;
    bool swap;
    char *text;
    int rc;

    rc = gz_read_full(g, head, sizeof(head), "header", err);
    if (rc)
        return rc;
    if (memcmp(head, RING_MAGIC, 4)) {
        set_err(err, "not a ring file: bad magic");
        return -EINVAL;
    }
    if (((head[4] << 8) | head[5]) != RING_FORMAT_VERSION) {
        set_err(err, "unknown ring format version %d",
                (head[4] << 8) | head[5]);
        return -EINVAL;
    }
    json_len = (uint32_t)head[6] << 24 | (uint32_t)head[7] << 16 |
               (uint32_t)head[8] << 8 | head[9];
    if (json_len > JSON_LEN_MAX) {
        set_err(err, "ring header length %u exceeds %u", json_len,
                JSON_LEN_MAX);
        return -EINVAL;
    }
    text = malloc(json_len ? json_len : 1);
    if (!text)
        return -ENOMEM;
    rc = gz_read_full(g, text, json_len, "JSON header", err);
    if (!rc)
        rc = parse_header(text, json_len, rd, &swap, err);
    free(text);
    if (rc)
        return rc;

    parts = 1ull << (32 - rd->part_shift);
    if (rd->n_replicas * parts * 2 > ARRAYS_BYTES_MAX) {
        set_err(err, "oversized ring: %zu replicas of %llu partitions",
                rd->n_replicas, (unsigned long long)parts);
        return -EINVAL;
    }
    rd->replica2part2dev = calloc(rd->n_replicas, sizeof(uint16_t *));
    rd->replica_parts = calloc(rd->n_replicas, sizeof(size_t));
    if (!rd->replica2part2dev || !rd->replica_parts)
        return -ENOMEM;
    for (size_t r = 0; r < rd->n_replicas; r++) {
        rc = read_array(g, rd, r, (size_t)parts, swap, err);
        if (rc)
            return rc;
    }
    rc = gz_expect_end(g, err);
    if (rc)
        return rc;
    return check_dev_ids(rd, err);
}

int ringfile_read(const char *path, struct ring_data *out,
                  char err[RINGFILE_ERRLEN])
{
    struct gz_in *g = calloc(1, sizeof(*g));
    int rc;

    memset(out, 0, sizeof(*out));
    out->version = -1;
    out->next_part_power = -1;
    if (err)
        err[0] = '\0';
    if (!g)
        return -ENOMEM;
    g->fd = -1;
    rc = gz_in_open(g, path, err);
    if (!rc)
        rc = read_body(g, out, err);
    gz_in_close(g);
    free(g);
    if (rc == -ENOMEM)
        set_err(err, "out of memory reading ring '%s'", path);
    if (rc)
        ring_data_release(out);
    return rc;
}

void ring_data_release(struct ring_data *rd)
{
    for (size_t i = 0; rd->devs && i < rd->n_devs; i++) {
        if (rd->devs[i])
            ring_dev_release(rd->devs[i]);
        free(rd->devs[i]);
    }
    free(rd->devs);
    for (size_t r = 0; rd->replica2part2dev && r < rd->n_replicas; r++)
        free(rd->replica2part2dev[r]);
    free(rd->replica2part2dev);
    free(rd->replica_parts);
    memset(rd, 0, sizeof(*rd));
    rd->version = -1;
    rd->next_part_power = -1;
}

/* ---- writing ---- */

static json_t *dev_to_json(const struct ring_dev *d)
{
    json_t *o = json_object();

    if (!o)
        return NULL;
    /* json_object_set_new steals the value even when it fails, and a NULL
     * value (a bad UTF-8 string) makes it fail: one check covers all. */
    if (json_object_set_new(o, "device", json_string(d->device)) ||
        json_object_set_new(o, "id", json_integer(d->id)) ||
        json_object_set_new(o, "ip", json_string(d->ip)) ||
        json_object_set_new(o, "meta", json_string(d->meta ? d->meta : "")) ||
        json_object_set_new(o, "port", json_integer(d->port)) ||
        json_object_set_new(o, "region", json_integer(d->region)) ||
        json_object_set_new(
            o, "replication_ip",
            json_string(d->replication_ip ? d->replication_ip : d->ip)) ||
        json_object_set_new(o, "replication_port",
                            json_integer(d->replication_port)) ||
        json_object_set_new(o, "weight", json_real(d->weight)) ||
        json_object_set_new(o, "zone", json_integer(d->zone))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static char *header_json(const struct ring_data *rd, char *err)
{
    json_t *hdr = json_object(), *devs = json_array();
    char *text = NULL;
    size_t i;

    if (!hdr || !devs)
        goto out;
    for (i = 0; i < rd->n_devs; i++) {
        json_t *jd = rd->devs[i] ? dev_to_json(rd->devs[i]) : json_null();

        if (!jd || json_array_append_new(devs, jd)) {
            set_err(err, "device %zu cannot be written as JSON", i);
            goto out;
        }
    }
    if (json_object_set(hdr, "devs", devs) ||
        json_object_set_new(hdr, "byteorder",
                            json_string(host_is_little() ? "little" : "big")) ||
        json_object_set_new(hdr, "part_shift", json_integer(rd->part_shift)) ||
        json_object_set_new(hdr, "replica_count",
                            json_integer((json_int_t)rd->n_replicas)) ||
        (rd->version >= 0 &&
         json_object_set_new(hdr, "version", json_integer(rd->version))) ||
        (rd->next_part_power >= 0 &&
         json_object_set_new(hdr, "next_part_power",
                             json_integer(rd->next_part_power))))
        goto out;
    text = json_dumps(hdr, JSON_SORT_KEYS | JSON_ENSURE_ASCII);
out:
    json_decref(devs);
    json_decref(hdr);
    return text;
}

struct gz_out {
    z_stream zs;
    struct atomic_file af;
    unsigned char buf[CHUNK];
};

static int gz_write(struct gz_out *g, const void *data, size_t len, int flush)
{
    g->zs.next_in = (unsigned char *)(uintptr_t)data;
    g->zs.avail_in = (uInt)len;
    do {
        int rc;

        g->zs.next_out = g->buf;
        g->zs.avail_out = sizeof(g->buf);
        rc = deflate(&g->zs, flush);
        if (rc == Z_STREAM_ERROR)
            return -EINVAL;
        rc =
            atomic_file_write(&g->af, g->buf, sizeof(g->buf) - g->zs.avail_out);
        if (rc)
            return rc;
    } while (g->zs.avail_out == 0 || g->zs.avail_in);
    return 0;
}

static int write_body(struct gz_out *g, const struct ring_data *rd,
                      const char *json)
{
    uint32_t jlen = (uint32_t)strlen(json);
    unsigned char head[10] = {'R',
                              '1',
                              'N',
                              'G',
                              0,
                              RING_FORMAT_VERSION,
                              (unsigned char)(jlen >> 24),
                              (unsigned char)(jlen >> 16),
                              (unsigned char)(jlen >> 8),
                              (unsigned char)jlen};
    int rc;

    rc = gz_write(g, head, sizeof(head), Z_NO_FLUSH);
    if (!rc)
        rc = gz_write(g, json, jlen, Z_NO_FLUSH);
    for (size_t r = 0; !rc && r < rd->n_replicas; r++) {
        const unsigned char *p = (const unsigned char *)rd->replica2part2dev[r];
        size_t left = rd->replica_parts[r] * 2;

        while (!rc && left) {
            size_t n = left > CHUNK ? CHUNK : left;

            rc = gz_write(g, p, n, Z_NO_FLUSH);
            p += n;
            left -= n;
        }
    }
    if (!rc)
        rc = gz_write(g, NULL, 0, Z_FINISH);
    return rc;
}

/* The name Python's GzipFile records: the base name without ".gz". */
static char *gzip_name(const char *path)
{
    char *copy = strdup(path), *name;
    size_t len;

    if (!copy)
        return NULL;
    name = strdup(basename(copy));
    free(copy);
    if (!name)
        return NULL;
    len = strlen(name);
    if (len > 3 && strcmp(name + len - 3, ".gz") == 0)
        name[len - 3] = '\0';
    return name;
}

static int check_writable(const struct ring_data *rd, char *err)
{
    if (rd->part_shift > 32 || rd->n_replicas < 1 || !rd->replica_parts ||
        !rd->replica2part2dev ||
        rd->replica_parts[0] != (size_t)1 << (32 - rd->part_shift)) {
        set_err(err, "ring to write has no replicas or a bad part_shift");
        return -EINVAL;
    }
    for (size_t r = 0; r < rd->n_replicas; r++) {
        if (!rd->replica2part2dev[r] || rd->replica_parts[r] == 0 ||
            rd->replica_parts[r] > rd->replica_parts[0] ||
            (r + 1 < rd->n_replicas &&
             rd->replica_parts[r] != rd->replica_parts[0])) {
            set_err(err, "ring to write has a short replica array %zu", r);
            return -EINVAL;
        }
    }
    return 0;
}

int ringfile_write(const char *path, const struct ring_data *rd,
                   char err[RINGFILE_ERRLEN])
{
    struct gz_out *g = calloc(1, sizeof(*g));
    gz_header gzh = {0};
    char *json = NULL, *name = gzip_name(path);
    bool zs_ready = false, af_open = false;
    int rc;

    if (err)
        err[0] = '\0';
    if (!g || !name) {
        rc = -ENOMEM;
        goto out;
    }
    rc = check_writable(rd, err);
    if (rc)
        goto out;
    json = header_json(rd, err);
    if (!json) {
        rc = -EINVAL;
        if (err && !err[0])
            set_err(err, "cannot build the ring header");
        goto out;
    }
    /* Python's GzipFile header: memLevel 8, OS 255, the name field; a
     * faster level than its 9 (see the top of this file) */
    if (deflateInit2(&g->zs, RINGFILE_GZIP_LEVEL, Z_DEFLATED,
                     16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        rc = -ENOMEM;
        goto out;
    }
    zs_ready = true;
    gzh.time = GZIP_MTIME;
    gzh.os = 255;
    gzh.name = (Bytef *)name;
    deflateSetHeader(&g->zs, &gzh);
    rc = atomic_file_open(&g->af, path);
    if (rc) {
        set_err(err, "cannot create '%s': %s", path, strerror(-rc));
        goto out;
    }
    af_open = true;
    rc = write_body(g, rd, json);
    if (!rc) {
        af_open = false;
        rc = atomic_file_commit(&g->af);
    }
    if (rc)
        set_err(err, "cannot write '%s': %s", path, strerror(-rc));
out:
    if (af_open)
        atomic_file_abort(&g->af);
    if (zs_ready)
        deflateEnd(&g->zs);
    free(json);
    free(name);
    free(g);
    return rc;
}
