/*
 * db_fixture.h - a LevelDB in a temporary directory for the container and
 * account DB tests, removed at teardown.
 */
#ifndef TESTS_UNIT_STORAGE_DB_FIXTURE_H
#define TESTS_UNIT_STORAGE_DB_FIXTURE_H

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage/dbenc.h"
#include "storage/kvdb.h"

struct db_fixture {
    char dir[PATH_MAX];
    struct kvdb *kv;
};

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline int db_fixture_setup(void **state)
{
    struct db_fixture *f = calloc(1, sizeof(*f));
    char path[PATH_MAX + 32];

    if (!f)
        return -1;
    strcpy(f->dir, "/tmp/kura-dbtest-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(path, sizeof(path), "%s/containers.ldb", f->dir);
    if (kvdb_open(path, NULL, &f->kv))
        return -1;
    *state = f;
    return 0;
}

static inline int db_fixture_teardown(void **state)
{
    struct db_fixture *f = *state;

    kvdb_close(f->kv);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static inline struct db_ts ts_of(const char *s)
{
    struct db_ts t;

    if (db_ts_parse(s, &t))
        abort();
    return t;
}

#endif
