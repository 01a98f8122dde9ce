/*
 * ring_fixture.h - small rings for the ring unit tests, built in memory
 * and written with ringfile_write(), plus a writer for deliberately broken
 * ring files. Header-only (static inline) so each test program takes what
 * it uses.
 *
 * The layout of fixture_ring() is a formula, so a test can state the
 * values Swift computes for the same ring: in Python,
 *   devs[i] = dict(id=i, region=spec.region, zone=spec.zone, ...)
 *   r2p2d[r][p] = (p * 7 + r * 5 + p // 3) % n_devs
 */
#ifndef TESTS_UNIT_RING_RING_FIXTURE_H
#define TESTS_UNIT_RING_RING_FIXTURE_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "ring/ringfile.h"

struct fixture_dev {
    int region;
    int zone;
    const char *ip;
    const char *device;
    double weight;
};

static inline uint16_t fixture_dev_for(size_t r, size_t p, size_t n_devs)
{
    return (uint16_t)((p * 7 + r * 5 + p / 3) % n_devs);
}

/* Builds a ring of 2^part_power partitions, 'n_replicas' arrays, the last
 * one 'last_parts' long (0: full). Returns 0 or -ENOMEM. */
static inline int fixture_ring(struct ring_data *rd, unsigned part_power,
                               size_t n_replicas, size_t last_parts,
                               const struct fixture_dev *devs, size_t n_devs)
{
    size_t parts = (size_t)1 << part_power;

    memset(rd, 0, sizeof(*rd));
    rd->version = -1;
    rd->next_part_power = -1;
    rd->part_shift = 32 - part_power;
    rd->n_devs = n_devs;
    rd->n_replicas = n_replicas;
    rd->devs = calloc(n_devs, sizeof(*rd->devs));
    rd->replica2part2dev = calloc(n_replicas, sizeof(uint16_t *));
    rd->replica_parts = calloc(n_replicas, sizeof(size_t));
    if (!rd->devs || !rd->replica2part2dev || !rd->replica_parts)
        goto oom;
    for (size_t i = 0; i < n_devs; i++) {
        struct ring_dev d = {
            .id = (int)i,
            .region = devs[i].region,
            .zone = devs[i].zone,
            .ip = (char *)devs[i].ip,
            .port = 6200 + (int)i % 3,
            .replication_ip = (char *)devs[i].ip,
            .replication_port = 6300 + (int)i % 3,
            .device = (char *)devs[i].device,
            .weight = devs[i].weight,
            .meta = (char *)"",
        };

        rd->devs[i] = calloc(1, sizeof(*rd->devs[i]));
        if (!rd->devs[i] || ring_dev_copy(rd->devs[i], &d))
            goto oom;
    }
    for (size_t r = 0; r < n_replicas; r++) {
        size_t n = (r + 1 == n_replicas && last_parts) ? last_parts : parts;

        rd->replica_parts[r] = n;
        rd->replica2part2dev[r] = calloc(n, sizeof(uint16_t));
        if (!rd->replica2part2dev[r])
            goto oom;
        for (size_t p = 0; p < n; p++)
            rd->replica2part2dev[r][p] = fixture_dev_for(r, p, n_devs);
    }
    return 0;
oom:
    ring_data_release(rd);
    return -ENOMEM;
}

/* Three zones of two devices on six ips, one region. */
static const struct fixture_dev FIXTURE_DEVS_3Z[] = {
    {1, 1, "10.0.0.1", "sda", 100.0}, {1, 1, "10.0.0.2", "sdb", 100.0},
    {1, 2, "10.0.0.3", "sda", 100.0}, {1, 2, "10.0.0.4", "sdb", 100.0},
    {1, 3, "10.0.0.5", "sda", 100.0}, {1, 3, "10.0.0.6", "sdb", 50.0},
};

/* Two regions, two zones each, two ips per zone, two devices per ip. */
static const struct fixture_dev FIXTURE_DEVS_2R[] = {
    {1, 1, "10.1.1.1", "d0", 100.0},  {1, 1, "10.1.1.1", "d1", 100.0},
    {1, 1, "10.1.1.2", "d2", 100.0},  {1, 1, "10.1.1.2", "d3", 100.0},
    {1, 2, "10.1.2.1", "d4", 100.0},  {1, 2, "10.1.2.1", "d5", 100.0},
    {1, 2, "10.1.2.2", "d6", 100.0},  {1, 2, "10.1.2.2", "d7", 100.0},
    {2, 1, "10.2.1.1", "d8", 100.0},  {2, 1, "10.2.1.1", "d9", 100.0},
    {2, 1, "10.2.1.2", "d10", 100.0}, {2, 1, "10.2.1.2", "d11", 100.0},
    {2, 2, "10.2.2.1", "d12", 100.0}, {2, 2, "10.2.2.1", "d13", 100.0},
    {2, 2, "10.2.2.2", "d14", 100.0}, {2, 2, "10.2.2.2", "d15", 100.0},
};

/* A fresh path under $TMPDIR (or /tmp) for this test program. */
static inline void fixture_path(char *buf, size_t len, const char *name)
{
    const char *dir = getenv("TMPDIR");

    snprintf(buf, len, "%s/kura-test-%d-%s", dir ? dir : "/tmp", (int)getpid(),
             name);
}

/* Writes 'len' bytes gzip-compressed to 'path'. Returns 0 or -EIO. */
static inline int fixture_write_gz(const char *path, const void *buf,
                                   size_t len)
{
    gzFile gz = gzopen(path, "wb");
    int ok;

    if (!gz)
        return -EIO;
    ok = len == 0 || gzwrite(gz, buf, (unsigned)len) == (int)len;
    if (gzclose(gz) != Z_OK || !ok)
        return -EIO;
    return 0;
}

/* Writes a ring file by hand: 'magic' (4 bytes), 'version', the JSON
 * 'json' with its length (or 'json_len' when not ~0u), then 'tail'
 * (the raw replica arrays) - so a test can break any part of it. */
static inline int fixture_write_raw(const char *path, const char *magic,
                                    unsigned version, const char *json,
                                    uint32_t json_len, const void *tail,
                                    size_t tail_len)
{
    size_t jl = strlen(json), n = 10 + jl + tail_len;
    unsigned char *buf = malloc(n);
    int rc;

    if (!buf)
        return -ENOMEM;
    if (json_len == ~0u)
        json_len = (uint32_t)jl;
    memcpy(buf, magic, 4);
    buf[4] = (unsigned char)(version >> 8);
    buf[5] = (unsigned char)version;
    buf[6] = (unsigned char)(json_len >> 24);
    buf[7] = (unsigned char)(json_len >> 16);
    buf[8] = (unsigned char)(json_len >> 8);
    buf[9] = (unsigned char)json_len;
    memcpy(buf + 10, json, jl);
    if (tail_len)
        memcpy(buf + 10 + jl, tail, tail_len);
    rc = fixture_write_gz(path, buf, n);
    free(buf);
    return rc;
}

#endif /* TESTS_UNIT_RING_RING_FIXTURE_H */
