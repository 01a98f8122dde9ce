/*
 * recon.c - the recon cache files (recon.h).
 */
#include "common/recon.h"

#include "common/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int recon_path(char *out, size_t cap, const char *dir, const char *server)
{
    int n = snprintf(out, cap, "%s/%s.recon", dir, server);

    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

json_t *recon_read(const char *path)
{
    json_t *doc = json_load_file(path, 0, NULL);

    if (doc && !json_is_object(doc)) {
        json_decref(doc);
        doc = NULL;
    }
    return doc;
}

/* mkdir -p of the directory part of 'path'. */
static int make_parent(const char *path)
{
    char dir[4096];
    char *p;

    if (strlen(path) >= sizeof(dir))
        return -ENAMETOOLONG;
    strcpy(dir, path);
    p = strrchr(dir, '/');
    if (!p || p == dir)
        return 0;
    *p = '\0';
    for (p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0755) && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(dir, 0755) && errno != EEXIST)
        return -errno;
    return 0;
}

static void merge(json_t *doc, json_t *patch)
{
    const char *key;
    json_t *val;

    json_object_foreach(patch, key, val) {
        json_t *old = json_object_get(doc, key);

        if (json_is_null(val))
            json_object_del(doc, key);
        else if (json_is_object(val) && json_is_object(old))
            json_object_update(old, val);
        else
            json_object_set(doc, key, val);
    }
}

int recon_update(const char *path, json_t *patch)
{
    char lock_path[4200];
    json_t *doc;
    char *text = NULL;
    int lock, err;

    if (!json_is_object(patch))
        return -EINVAL;
    err = make_parent(path);
    if (err)
        return err;
    if ((size_t)snprintf(lock_path, sizeof(lock_path), "%s.lock", path) >=
        sizeof(lock_path))
        return -ENAMETOOLONG;
    lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock < 0)
        return -errno;
    while (flock(lock, LOCK_EX) && errno == EINTR)
        ;
    doc = recon_read(path);
    if (!doc)
        doc = json_object();
    if (!doc) {
        err = -ENOMEM;
        goto out;
    }
    merge(doc, patch);
    text = json_dumps(doc, JSON_SORT_KEYS | JSON_COMPACT);
    err = text ? atomic_file_replace(path, text, strlen(text)) : -ENOMEM;
out:
    free(text);
    json_decref(doc);
    close(lock); /* lets the flock go */
    return err;
}
