/*
 * get_nodes_batch.c - the machine-readable modes of 'kura get-nodes',
 * used by the interop tests to compare thousands of placements with
 * Swift's in one process.
 */
#include "tools/kura/get_nodes.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* Splits "a/c/o" in place like Swift's split('/', 2): the object keeps
 * any further slashes. */
static void split_path(char *line, char **a, char **c, char **o)
{
    *a = line;
    *c = *o = NULL;
    if ((*c = strchr(line, '/'))) {
        *(*c)++ = '\0';
        if ((*o = strchr(*c, '/')))
            *(*o)++ = '\0';
    }
}

static json_t *id_list(const struct ring_dev **devs, size_t n)
{
    json_t *list = json_array();

    for (size_t i = 0; list && i < n; i++)
        json_array_append_new(list, json_integer(devs[i]->id));
    return list;
}

static json_t *handoff_list(const struct ring *ring, uint32_t part, unsigned n)
{
    json_t *list = json_array();
    struct ring_handoff_iter *it;
    const struct ring_dev *dev;

    if (!list || ring_handoff_iter_new(ring, part, &it)) {
        json_decref(list);
        return NULL;
    }
    for (unsigned i = 0; i < n && (dev = ring_handoff_iter_next(it)); i++)
        json_array_append_new(list, json_integer(dev->id));
    ring_handoff_iter_free(it);
    return list;
}

/* The JSON report of one path ('line' is cut up). */
static json_t *place(const struct ring *ring, const struct hash_path_conf *hc,
                     unsigned n_handoffs, char *line)
{
    size_t max = ring_replica_arrays(ring), n;
    const struct ring_dev **nodes = calloc(max, sizeof(*nodes));
    json_t *res = json_object(), *jpath = json_string(line);
    unsigned char digest[16];
    char *a, *c, *o;
    uint32_t part;

    if (!nodes || !res) {
        free(nodes);
        json_decref(jpath);
        json_decref(res);
        return NULL;
    }
    /* names are hashed as raw bytes; only the echo needs UTF-8 */
    json_object_set_new(res, "path", jpath ? jpath : json_null());
    split_path(line, &a, &c, &o);
    if (hash_path(hc, a, c, o, digest)) {
        json_object_set_new(res, "error",
                            json_string("object without a container"));
        free(nodes);
        return res;
    }
    part = ring_get_part(ring, digest);
    n = ring_get_part_nodes(ring, part, nodes, max);
    json_object_set_new(res, "part", json_integer(part));
    json_object_set_new(res, "primaries", id_list(nodes, n));
    json_object_set_new(res, "handoffs", handoff_list(ring, part, n_handoffs));
    free(nodes);
    return res;
}

int get_nodes_batch(const struct ring *ring, const struct hash_path_conf *hc,
                    unsigned n_handoffs, FILE *in, FILE *out)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;

    while ((len = getline(&line, &cap, in)) != -1) {
        json_t *res;

        if (len && line[len - 1] == '\n')
            line[--len] = '\0';
        res = place(ring, hc, n_handoffs, line);
        if (!res || json_dumpf(res, out, JSON_COMPACT) ||
            fputc('\n', out) == EOF) {
            json_decref(res);
            rc = -EIO;
            break;
        }
        json_decref(res);
    }
    free(line);
    if (fflush(out) == EOF)
        rc = -EIO;
    return rc;
}

int get_nodes_rewrite(const char *from, const char *to)
{
    struct ring_data rd;
    char err[RINGFILE_ERRLEN];
    int rc;

    rc = ringfile_read(from, &rd, err);
    if (!rc) {
        rc = ringfile_write(to, &rd, err);
        ring_data_release(&rd);
    }
    if (rc)
        fprintf(stderr, "kura get-nodes: %s\n", err);
    return rc;
}
