/*
 * contdb_fill.c - fills an existing container DB of a stopped container
 * server with N object rows, straight through contdb_merge_objects(): a
 * 1,000,000-row container in ~30 s instead of 15 minutes of row PUTs, for
 * timing listings through a real kura-container-server and kura-proxy.
 *
 *   contdb_fill <devices>/<dev>/containers.ldb <part> <hash> <rows>
 *
 * <part> and <hash> are what `kura get-nodes` prints for the container.
 * Rows are named "o%010u", 4096 bytes, application/octet-stream, the md5
 * of 4096 'x' as etag, like bench/swift_api.py's listing fill.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "storage/contdb.h"

#define BATCH 10000u

static int parse_hash(const char *s, unsigned char out[16])
{
    for (int i = 0; i < 16; i++) {
        unsigned v;

        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return -EINVAL;
        out[i] = (unsigned char)v;
    }
    return strlen(s) == 32 ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
    static char names[BATCH][16];
    static struct contdb_object objs[BATCH];
    unsigned char hash[16];
    struct contdb_info info;
    struct contdb db;
    struct kvdb *kv;
    struct db_ts ts = {.raw = (uint64_t)time(NULL) * 100000};
    unsigned long rows;
    int err;

    if (argc != 5 || parse_hash(argv[3], hash)) {
        fprintf(stderr, "usage: contdb_fill <containers.ldb> <part> <hash> "
                        "<rows>\n");
        return 2;
    }
    rows = strtoul(argv[4], NULL, 10);
    err = kvdb_open(argv[1], NULL, &kv);
    if (err) {
        fprintf(stderr, "cannot open '%s': %s\n", argv[1], strerror(-err));
        return 1;
    }
    contdb_init(&db, kv, (uint32_t)strtoul(argv[2], NULL, 10), hash);
    err = contdb_get_info(&db, &info);
    contdb_info_release(&info);
    for (unsigned long lo = 0; !err && lo < rows; lo += BATCH) {
        unsigned n = rows - lo < BATCH ? (unsigned)(rows - lo) : BATCH;

        for (unsigned i = 0; i < n; i++) {
            snprintf(names[i], sizeof(names[i]), "o%010lu", lo + i);
            objs[i] = (struct contdb_object){
                .name = names[i],
                .name_len = 11,
                .created_at = ts,
                .size = 4096,
                .content_type = "application/octet-stream",
                .etag = "20439f79e4e9dc95be34b21029221f80",
            };
        }
        err = contdb_merge_objects(&db, objs, n, 0);
    }
    if (!err)
        err = kvdb_sync(kv);
    kvdb_close(kv);
    if (err) {
        fprintf(stderr, "cannot fill: %s\n", strerror(-err));
        return 1;
    }
    return 0;
}
