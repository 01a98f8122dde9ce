/*
 * builder_file.c - the builder file: a JSON document of our own holding
 * what swift-ring-builder keeps in its pickle (doc/builder-format.md).
 *
 * Byte arrays (the assignment, last_part_moves) are base64 of their raw
 * little-endian bytes, so a part power 20 builder stays a few megabytes
 * and loads in milliseconds. Loading trusts nothing: every field is type-
 * and range-checked, array lengths must match the part power and replica
 * count, and the per-device part counters must agree with the assignment.
 */
#include "ring/builder.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/atomic_file.h"

#define FORMAT_NAME "kura-ring-builder"
#define FORMAT_VERSION 1

static json_t *base64_of(const void *data, size_t len)
{
    size_t out_len = 4 * ((len + 2) / 3);
    unsigned char *out = malloc(out_len + 1);
    json_t *s;

    if (!out)
        return NULL;
    /* EVP_EncodeBlock takes an int length: encode in slices. */
    for (size_t done = 0, o = 0; done < len;) {
        size_t slice = len - done > (1u << 30) ? (1u << 30) : len - done;
        o += (size_t)EVP_EncodeBlock(out + o, (const unsigned char *)data +
                                                  done, (int)slice);
        done += slice;
    }
    out[out_len] = '\0';
    s = json_stringn((const char *)out, out_len);
    free(out);
    return s;
}

/* Decodes base64 that must yield exactly 'len' bytes into 'dst'. */
static int base64_into(const json_t *s, void *dst, size_t len)
{
    const char *in = json_string_value(s);
    size_t in_len = json_string_length(s), pad = 0;
    unsigned char *tmp;
    int n;

    if (!in || in_len % 4 || in_len / 4 * 3 > (size_t)INT32_MAX)
        return -EINVAL;
    if (in_len >= 1 && in[in_len - 1] == '=')
        pad++;
    if (in_len >= 2 && in[in_len - 2] == '=')
        pad++;
    if (in_len / 4 * 3 - pad != len)
        return -EINVAL;
    if (!in_len)
        return 0;
    tmp = malloc(in_len / 4 * 3);
    if (!tmp)
        return -ENOMEM;
    n = EVP_DecodeBlock(tmp, (const unsigned char *)in, (int)in_len);
    if (n < 0 || (size_t)n != in_len / 4 * 3) {
        free(tmp);
        return -EINVAL;
    }
    memcpy(dst, tmp, len);
    free(tmp);
    return 0;
}

static json_t *dev_to_json(const struct builder_dev *bd)
{
    const struct ring_dev *d = &bd->d;

    return json_pack("{s:i, s:i, s:i, s:s, s:i, s:s, s:i, s:s, s:f, s:s, "
                     "s:I, s:b}",
                     "id", d->id, "region", d->region, "zone", d->zone, "ip",
                     d->ip, "port", d->port, "replication_ip",
                     d->replication_ip, "replication_port",
                     d->replication_port, "device", d->device, "weight",
                     d->weight, "meta", d->meta, "parts",
                     (json_int_t)bd->parts, "removing", bd->removing);
}

static json_t *builder_to_json(const struct builder *b)
{
    json_t *doc, *devs, *arrays = json_null();

    devs = json_array();
    for (size_t i = 0; devs && i < b->n_devs; i++) {
        json_t *d = b->devs[i] ? dev_to_json(b->devs[i]) : json_null();
        if (!d || json_array_append_new(devs, d)) {
            json_decref(devs);
            devs = NULL;
        }
    }
    if (b->replica2part2dev) {
        arrays = json_array();
        for (size_t r = 0; arrays && r < b->n_replica_arrays; r++) {
            /* the arrays are kept little-endian, as x86 holds them */
            json_t *a = base64_of(b->replica2part2dev[r],
                                  b->replica_parts[r] * sizeof(uint16_t));
            if (!a || json_array_append_new(arrays, a)) {
                json_decref(arrays);
                arrays = NULL;
            }
        }
    }
    if (!devs || !arrays) {
        json_decref(devs);
        json_decref(arrays);
        return NULL;
    }
    doc = json_pack("{s:s, s:i, s:s, s:i, s:f, s:i, s:f, s:I, s:b, s:o, "
                    "s:o, s:o, s:I, s:I, s:o}",
                    "format", FORMAT_NAME, "format_version", FORMAT_VERSION,
                    "id", b->id, "part_power", b->part_power, "replicas",
                    b->replicas, "min_part_hours", b->min_part_hours,
                    "overload", b->overload, "version",
                    (json_int_t)b->version, "devs_changed", b->devs_changed,
                    "dispersion",
                    b->dispersion < 0 ? json_null()
                                      : json_real(b->dispersion),
                    "devs", devs, "replica2part2dev", arrays,
                    "last_part_moves_epoch",
                    (json_int_t)b->last_part_moves_epoch,
                    "last_part_gather_start",
                    (json_int_t)b->last_part_gather_start, "last_part_moves",
                    base64_of(b->last_part_moves, b->parts));
    return doc;
}

static void assign_id(struct builder *b)
{
    unsigned char raw[16];

    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        FILE *f = fopen("/dev/urandom", "rb");
        if (!f || fread(raw, 1, sizeof(raw), f) != sizeof(raw))
            memset(raw, 0, sizeof(raw));
        if (f)
            fclose(f);
    }
    for (int i = 0; i < 16; i++)
        snprintf(b->id + 2 * i, 3, "%02x", raw[i]);
}

int builder_save(struct builder *b, const char *path,
                 char err[BUILDER_ERRLEN])
{
    int fresh_id = !b->id[0], rc;
    json_t *doc;
    char *text;

    if (fresh_id)
        assign_id(b);
    doc = builder_to_json(b);
    text = doc ? json_dumps(doc, JSON_INDENT(1) | JSON_REAL_PRECISION(17))
               : NULL;
    json_decref(doc);
    if (!text) {
        rc = -ENOMEM;
        snprintf(err, BUILDER_ERRLEN, "cannot encode builder: out of memory");
    } else {
        rc = atomic_file_replace(path, text, strlen(text));
        if (rc)
            snprintf(err, BUILDER_ERRLEN, "cannot write '%s': %s", path,
                     strerror(-rc));
        free(text);
    }
    if (rc && fresh_id)
        b->id[0] = '\0';
    return rc;
}

/* Field readers: each checks type and range, names the field on error. */
static int get_int(json_t *o, const char *key, long long lo, long long hi,
                   long long *out, char err[BUILDER_ERRLEN])
{
    json_t *v = json_object_get(o, key);

    if (!json_is_integer(v) || json_integer_value(v) < lo ||
        json_integer_value(v) > hi) {
        snprintf(err, BUILDER_ERRLEN, "field '%s' missing or out of range",
                 key);
        return -EINVAL;
    }
    *out = json_integer_value(v);
    return 0;
}

static int get_real(json_t *o, const char *key, double lo, double hi,
                    double *out, char err[BUILDER_ERRLEN])
{
    json_t *v = json_object_get(o, key);

    if (!json_is_number(v) || !(json_number_value(v) >= lo) ||
        !(json_number_value(v) <= hi)) {
        snprintf(err, BUILDER_ERRLEN, "field '%s' missing or out of range",
                 key);
        return -EINVAL;
    }
    *out = json_number_value(v);
    return 0;
}

static int get_str(json_t *o, const char *key, const char **out,
                   char err[BUILDER_ERRLEN])
{
    json_t *v = json_object_get(o, key);

    if (!json_is_string(v)) {
        snprintf(err, BUILDER_ERRLEN, "field '%s' missing or not a string",
                 key);
        return -EINVAL;
    }
    *out = json_string_value(v);
    return 0;
}

static int load_dev(struct builder *b, json_t *jd, size_t index,
                    char err[BUILDER_ERRLEN])
{
    struct ring_dev d = {0};
    long long id, region, zone, port, rport, parts;
    const char *ip, *rip, *dev, *meta;
    char sub[BUILDER_ERRLEN];
    int rc;

    if (!json_is_object(jd)) {
        snprintf(err, BUILDER_ERRLEN, "device %zu is not an object", index);
        return -EINVAL;
    }
    if ((rc = get_int(jd, "id", 0, BUILDER_MAX_DEVS - 1, &id, sub)) ||
        (rc = get_int(jd, "region", 0, INT32_MAX, &region, sub)) ||
        (rc = get_int(jd, "zone", 0, INT32_MAX, &zone, sub)) ||
        (rc = get_int(jd, "port", 0, 65535, &port, sub)) ||
        (rc = get_int(jd, "replication_port", 0, 65535, &rport, sub)) ||
        (rc = get_int(jd, "parts", 0, INT64_MAX, &parts, sub)) ||
        (rc = get_real(jd, "weight", 0, INFINITY, &d.weight, sub)) ||
        (rc = get_str(jd, "ip", &ip, sub)) ||
        (rc = get_str(jd, "replication_ip", &rip, sub)) ||
        (rc = get_str(jd, "device", &dev, sub)) ||
        (rc = get_str(jd, "meta", &meta, sub))) {
        snprintf(err, BUILDER_ERRLEN, "device %zu: %.200s", index, sub);
        return rc;
    }
    if ((size_t)id != index) {
        snprintf(err, BUILDER_ERRLEN, "device %zu has id %lld", index, id);
        return -EINVAL;
    }
    d.id = -1;
    d.region = (int)region;
    d.zone = (int)zone;
    d.port = (int)port;
    d.replication_port = (int)rport;
    d.ip = (char *)ip;
    d.replication_ip = (char *)rip;
    d.device = (char *)dev;
    d.meta = (char *)meta;
    d.id = (int)id;
    rc = builder_add_dev(b, &d, NULL, sub);
    if (rc) {
        snprintf(err, BUILDER_ERRLEN, "device %zu: %.200s", index, sub);
        return rc == -ENOMEM ? rc : -EINVAL;
    }
    b->devs[id]->parts = parts;
    b->devs[id]->removing = json_is_true(json_object_get(jd, "removing"));
    if (b->devs[id]->removing && d.weight != 0) {
        snprintf(err, BUILDER_ERRLEN, "device %zu is being removed but has "
                 "weight", index);
        return -EINVAL;
    }
    return 0;
}

static int load_arrays(struct builder *b, json_t *arrays,
                       char err[BUILDER_ERRLEN])
{
    size_t n = (size_t)ceil(b->replicas), last;
    double whole, frac = modf(b->replicas, &whole);
    long *count;
    int rc = 0;

    if (json_is_null(arrays))
        return 0;
    if (!json_is_array(arrays) || json_array_size(arrays) != n) {
        snprintf(err, BUILDER_ERRLEN, "replica2part2dev must hold %zu "
                 "arrays", n);
        return -EINVAL;
    }
    last = frac > 0 ? (size_t)(b->parts * frac) : b->parts;
    b->replica2part2dev = calloc(n, sizeof(*b->replica2part2dev));
    b->replica_parts = calloc(n, sizeof(*b->replica_parts));
    count = calloc(b->n_devs + 1, sizeof(*count));
    if (!b->replica2part2dev || !b->replica_parts || !count) {
        free(count);
        return -ENOMEM;
    }
    b->n_replica_arrays = n;
    for (size_t r = 0; r < n && !rc; r++) {
        size_t len = r + 1 == n ? last : b->parts;
        b->replica2part2dev[r] = malloc(len * 2 + 1);
        b->replica_parts[r] = len;
        if (!b->replica2part2dev[r]) {
            rc = -ENOMEM;
            break;
        }
        rc = base64_into(json_array_get(arrays, r), b->replica2part2dev[r],
                         len * 2);
        if (rc) {
            snprintf(err, BUILDER_ERRLEN, "replica2part2dev[%zu] is not "
                     "base64 of %zu device ids", r, len);
            break;
        }
        for (size_t p = 0; p < len; p++) {
            uint16_t id = b->replica2part2dev[r][p];
            if (id >= b->n_devs || !b->devs[id]) {
                snprintf(err, BUILDER_ERRLEN, "partition %zu replica %zu "
                         "names no device (%u)", p, r, id);
                rc = -EINVAL;
                break;
            }
            count[id]++;
        }
    }
    for (size_t i = 0; i < b->n_devs && !rc; i++) {
        if (b->devs[i] && b->devs[i]->parts != count[i]) {
            snprintf(err, BUILDER_ERRLEN, "device %zu claims %ld parts but "
                     "holds %ld", i, b->devs[i]->parts, count[i]);
            rc = -EINVAL;
        }
    }
    free(count);
    return rc;
}

static int from_json(json_t *doc, struct builder **out,
                     char err[BUILDER_ERRLEN])
{
    struct builder *b = NULL;
    long long pp, mph, version, epoch, gather, fv;
    double replicas, overload;
    const char *format, *id;
    json_t *devs, *disp;
    int rc;

    if (!json_is_object(doc)) {
        snprintf(err, BUILDER_ERRLEN, "not a builder file");
        return -EINVAL;
    }
    if (get_str(doc, "format", &format, err) ||
        strcmp(format, FORMAT_NAME) != 0) {
        snprintf(err, BUILDER_ERRLEN, "not a %s file", FORMAT_NAME);
        return -EINVAL;
    }
    if ((rc = get_int(doc, "format_version", 1, 1, &fv, err)) ||
        (rc = get_int(doc, "part_power", 1, 32, &pp, err)) ||
        (rc = get_real(doc, "replicas", 1, BUILDER_MAX_DEVS, &replicas,
                       err)) ||
        (rc = get_int(doc, "min_part_hours", 0, 255, &mph, err)) ||
        (rc = get_real(doc, "overload", 0, INFINITY, &overload, err)) ||
        (rc = get_int(doc, "version", 0, INT64_MAX, &version, err)) ||
        (rc = get_int(doc, "last_part_moves_epoch", 0, INT64_MAX, &epoch,
                      err)) ||
        (rc = get_int(doc, "last_part_gather_start", 0, UINT32_MAX, &gather,
                      err)) ||
        (rc = get_str(doc, "id", &id, err)))
        return rc;
    if (strlen(id) >= sizeof(b->id) || strspn(id, "0123456789abcdef") !=
                                           strlen(id)) {
        snprintf(err, BUILDER_ERRLEN, "field 'id' is not a hex id");
        return -EINVAL;
    }
    rc = builder_new((int)pp, replicas, (int)mph, &b, err);
    if (rc)
        return rc;
    b->overload = overload;
    b->last_part_moves_epoch = epoch;
    b->last_part_gather_start = (uint64_t)gather % b->parts;
    strcpy(b->id, id);
    disp = json_object_get(doc, "dispersion");
    b->dispersion = json_is_number(disp) ? json_number_value(disp) : -1;
    devs = json_object_get(doc, "devs");
    if (!json_is_array(devs) || json_array_size(devs) > BUILDER_MAX_DEVS) {
        snprintf(err, BUILDER_ERRLEN, "field 'devs' missing or too long");
        rc = -EINVAL;
        goto out;
    }
    for (size_t i = 0; i < json_array_size(devs) && !rc; i++)
        if (!json_is_null(json_array_get(devs, i)))
            rc = load_dev(b, json_array_get(devs, i), i, err);
    if (rc)
        goto out;
    rc = load_arrays(b, json_object_get(doc, "replica2part2dev"), err);
    if (rc)
        goto out;
    if (base64_into(json_object_get(doc, "last_part_moves"),
                    b->last_part_moves, b->parts)) {
        snprintf(err, BUILDER_ERRLEN, "field 'last_part_moves' is not "
                 "base64 of %llu bytes", (unsigned long long)b->parts);
        rc = -EINVAL;
        goto out;
    }
    /* loading re-added the devices: restore the saved counters */
    b->version = version;
    b->devs_changed = json_is_true(json_object_get(doc, "devs_changed"));
    *out = b;
    b = NULL;
out:
    builder_free(b);
    return rc;
}

/* The whole file in one read: jansson's own file reader takes a getc()
 * per byte, a measurable part of loading a part power 20 builder. */
static char *slurp(const char *path, size_t *len, int *err)
{
    struct stat st;
    char *buf = NULL;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    *err = 0;
    if (fd == -1 || fstat(fd, &st) == -1) {
        *err = -errno;
        goto out;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        *err = -ENOMEM;
        goto out;
    }
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n == -1 && errno == EINTR)
            continue;
        if (n <= 0) {
            *err = n == 0 ? -EIO : -errno;
            goto out;
        }
        got += (size_t)n;
    }
    *len = got;
out:
    if (fd != -1)
        close(fd);
    if (*err) {
        free(buf);
        buf = NULL;
    }
    return buf;
}

int builder_load(const char *path, struct builder **out,
                 char err[BUILDER_ERRLEN])
{
    json_error_t jerr;
    json_t *doc;
    size_t len = 0;
    char *text;
    int rc;

    *out = NULL;
    text = slurp(path, &len, &rc);
    if (!text) {
        snprintf(err, BUILDER_ERRLEN, "cannot open '%s': %s", path,
                 strerror(-rc));
        return rc;
    }
    doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    if (!doc) {
        snprintf(err, BUILDER_ERRLEN, "builder file '%.100s' is invalid: "
                 "line %d: %.80s", path, jerr.line, jerr.text);
        return -EINVAL;
    }
    rc = from_json(doc, out, err);
    if (rc == -EINVAL) {
        char why[BUILDER_ERRLEN];
        snprintf(why, sizeof(why), "%s", err);
        snprintf(err, BUILDER_ERRLEN,
                 "builder file '%.100s' is invalid: %.120s", path, why);
    }
    json_decref(doc);
    return rc;
}
