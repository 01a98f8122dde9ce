/*
 * kvdb_put.c - kura-test-kvdb-put <ldb dir> <hex key> <hex value>: writes
 * one raw key into a LevelDB no server has open, synced. The functional
 * tests damage container and account DBs with it (a row that does not
 * decode, stats that disagree with the rows), which no request can do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/kvdb.h"

/* Decodes hex 's' into a malloc()ed buffer; NULL when it is not hex. */
static unsigned char *unhex(const char *s, size_t *n)
{
    size_t len = strlen(s);
    unsigned char *p = malloc(len / 2 + 1);

    if (!p || len % 2) {
        free(p);
        return NULL;
    }
    for (size_t i = 0; i < len / 2; i++) {
        unsigned int b;

        if (sscanf(s + 2 * i, "%2x", &b) != 1) {
            free(p);
            return NULL;
        }
        p[i] = (unsigned char)b;
    }
    *n = len / 2;
    return p;
}

int main(int argc, char **argv)
{
    struct kvdb *kv = NULL;
    struct kvdb_batch *b = NULL;
    unsigned char *k = NULL, *v = NULL;
    size_t klen = 0, vlen = 0;
    int rc = 1;

    if (argc != 4) {
        fprintf(stderr, "usage: %s <ldb dir> <hex key> <hex value>\n", argv[0]);
        return 2;
    }
    k = unhex(argv[2], &klen);
    v = unhex(argv[3], &vlen);
    b = kvdb_batch_new();
    if (k && v && b && !kvdb_open(argv[1], NULL, &kv)) {
        kvdb_batch_put(b, k, klen, v, vlen);
        rc = kvdb_write(kv, b, KVDB_SYNC) ? 1 : 0;
    } else {
        fprintf(stderr, "%s: bad arguments or cannot open '%s'\n", argv[0],
                argv[1]);
    }
    kvdb_close(kv);
    kvdb_batch_free(b);
    free(k);
    free(v);
    return rc;
}
