/*
 * persist.c - where kura-ring writes: the builder file, the ring file
 * beside it, and the backups/ directory beside both.
 *
 * Invariants, as swift-ring-builder keeps them:
 *   1. The builder and ring files are only ever replaced atomically
 *      (builder_save() and ringfile_write() write a temp file, fsync,
 *      rename and fsync the directory), so a crash leaves the old file or
 *      the new one.
 *   2. Every state written is also copied to backups/<unix time>.<file
 *      name>, so every state an operator saved can be recovered. (Swift
 *      backs up the builder on create and rebalance only; kura-ring backs
 *      it up on every change.) The file is encoded once and copied: for a
 *      part power 20 ring, compressing twice cost more than rebalancing.
 *      The copy follows the write so that the ring's gzip header names the
 *      ring, as Swift's does; if the copy fails the command fails.
 *   3. Nothing is written before the command has succeeded in memory.
 */
#include "tools/ring_cli/ring_cli.h"

#include <errno.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/atomic_file.h"

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && !strcmp(s + n - m, suffix);
}

int persist_file_names(const char *arg, char **builder_file, char **ring_file)
{
    size_t n = strlen(arg);
    int r1, r2;

    /* Swift's parse_builder_ring_filename_args */
    if (ends_with(arg, ".ring.gz")) {
        r1 = asprintf(builder_file, "%.*s.builder", (int)(n - 8), arg);
        r2 = asprintf(ring_file, "%s", arg);
    } else if (ends_with(arg, ".builder")) {
        r1 = asprintf(builder_file, "%s", arg);
        r2 = asprintf(ring_file, "%.*s.ring.gz", (int)(n - 8), arg);
    } else {
        r1 = asprintf(builder_file, "%s", arg);
        r2 = asprintf(ring_file, "%s.ring.gz", arg);
    }
    if (r1 < 0 || r2 < 0) {
        if (r1 >= 0)
            free(*builder_file);
        if (r2 >= 0)
            free(*ring_file);
        *builder_file = *ring_file = NULL;
        return -ENOMEM;
    }
    return 0;
}

/* backups/<time>.<basename of path>, beside 'path'; creates backups/. */
static int backup_path(const char *path, time_t when, char **out)
{
    char *d = strdup(path), *b = strdup(path), *dir = NULL;
    int err = 0;

    *out = NULL;
    if (!d || !b || asprintf(&dir, "%s/backups", dirname(d)) < 0) {
        dir = NULL;
        err = -ENOMEM;
        goto out;
    }
    if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
        err = -errno;
        cli_error("cannot create '%s': %s", dir, strerror(-err));
        goto out;
    }
    if (asprintf(out, "%s/%ld.%s", dir, (long)when, basename(b)) < 0) {
        *out = NULL;
        err = -ENOMEM;
    }
out:
    if (err == -ENOMEM)
        cli_error("out of memory");
    free(d);
    free(b);
    free(dir);
    return err;
}

static int save_builder_to(struct builder *b, const char *path)
{
    char err[BUILDER_ERRLEN] = "";
    int rc = builder_save(b, path, err);

    if (rc)
        return cli_error("cannot save '%s': %s", path,
                         err[0] ? err : strerror(-rc));
    return CLI_OK;
}

static int copy_to(const char *src, const char *dst)
{
    int rc = atomic_file_copy(src, dst);

    if (rc)
        return cli_error("cannot copy '%s' to '%s': %s", src, dst,
                         strerror(-rc));
    return CLI_OK;
}

int persist_save_builder(struct cli *cli)
{
    char *backup;
    int rc;

    if (backup_path(cli->builder_file, time(NULL), &backup))
        return CLI_ERROR;
    rc = save_builder_to(cli->b, cli->builder_file);
    if (rc == CLI_OK)
        rc = copy_to(cli->builder_file, backup);
    free(backup);
    return rc;
}

/* The ring file and its backup, written on a thread of its own while the
 * builder is saved: deflating a part power 20 ring and encoding its
 * builder take about as long as each other. */
struct ring_job {
    const struct ring_data *rd;
    const char *path, *backup;
    char err[RINGFILE_ERRLEN];
    int rc;
    bool copying; /* failed while copying to the backup */
};

static void *write_ring_job(void *arg)
{
    struct ring_job *job = arg;

    job->err[0] = '\0';
    job->rc = ringfile_write(job->path, job->rd, job->err);
    if (!job->rc) {
        job->copying = true;
        job->rc = atomic_file_copy(job->path, job->backup);
    }
    return NULL;
}

static int ring_job_result(const struct ring_job *job)
{
    if (!job->rc)
        return CLI_OK;
    if (job->copying)
        return cli_error("cannot copy '%s' to '%s': %s", job->path,
                         job->backup, strerror(-job->rc));
    return cli_error("cannot write '%s': %s", job->path,
                     job->err[0] ? job->err : strerror(-job->rc));
}

int persist_write_ring(struct cli *cli, const struct ring_data *rd,
                       bool with_builder)
{
    time_t now = time(NULL);
    char *ring_backup = NULL, *builder_backup = NULL;
    struct ring_job job = {.rd = rd, .path = cli->ring_file};
    pthread_t thread;
    bool threaded;
    int rc = CLI_ERROR, ring_rc;

    if (backup_path(cli->ring_file, now, &ring_backup))
        goto out;
    if (with_builder && backup_path(cli->builder_file, now, &builder_backup))
        goto out;
    job.backup = ring_backup;
    threaded = with_builder &&
               pthread_create(&thread, NULL, write_ring_job, &job) == 0;
    if (!threaded)
        write_ring_job(&job);
    rc = CLI_OK;
    if (with_builder) {
        rc = save_builder_to(cli->b, cli->builder_file);
        if (rc == CLI_OK)
            rc = copy_to(cli->builder_file, builder_backup);
    }
    if (threaded)
        pthread_join(thread, NULL);
    ring_rc = ring_job_result(&job);
    if (rc == CLI_OK)
        rc = ring_rc;
out:
    free(ring_backup);
    free(builder_backup);
    return rc;
}
