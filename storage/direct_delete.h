/*
 * direct_delete.h - deletes an object straight at the object servers, as
 * Swift's direct_client: a DELETE to every primary of the object's ring
 * at once, each with X-Container-Host/-Device/-Partition of its share of
 * the container's replicas (shared out as the proxy does), so that each
 * object server that deletes takes the object out of the listing too.
 * And, for an S3 multipart object, its manifest read before the DELETE
 * and its parts deleted after it.
 *
 * Two background deleters share it: kura-expirer (replicator/expirer.c,
 * X-If-Delete-At) and the container servers' lifecycle pass
 * (storage/cont_lifecycle.c, a timestamp just newer than the row's).
 * What a DELETE does to an object, and the answers below, are the object
 * server's (storage/obj_server.c).
 *
 * S3 multipart objects: CompleteMultipartUpload (proxy/s3_multipart.c)
 * stores a static large object whose manifest names its parts
 * "/<bucket>+segments/<key>/<upload id>/<N>" and which carries
 * X-Static-Large-Object and X-Object-Sysmeta-S3api-Etag (as Swift's
 * s3api). Only such a manifest has parts deleted here, and only those
 * parts: a manifest made through the Swift API (no S3 sysmeta; a copy of
 * a manifest drops it) may share its segments with other manifests, and
 * Swift deletes no segment when it expires one.
 *
 * Thread-safe as far as the http_client is: calls share nothing else.
 */
#ifndef STORAGE_DIRECT_DELETE_H
#define STORAGE_DIRECT_DELETE_H

#include "common/http_client.h"
#include "ring/hash_path.h"
#include "ring/ring.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DIRECT_DELETE_MAX_REPLICAS 16
/* s3api's segments container of a bucket: "<bucket>+segments" */
#define DIRECT_DELETE_SEGMENTS_SUFFIX "+segments"

/* What the calls below borrow: the client they send with and the hash
 * path prefix/suffix names are placed with. */
struct direct_delete {
    struct http_client *client;
    const struct hash_path_conf *hc;
};

/* Where a name lives in one ring: its partition and primaries. */
struct direct_place {
    uint32_t part;
    const struct ring_dev *nodes[DIRECT_DELETE_MAX_REPLICAS];
    size_t n;
};

/* The object one call is about. */
struct direct_delete_target {
    const char *account, *container, *object;
    uint32_t policy;               /* X-Backend-Storage-Policy-Index */
    const struct ring *oring;      /* the object ring of 'policy' */
    const struct direct_place *cp; /* the container's part and primaries */
    const char *txn;               /* X-Trans-Id, and the logs' */
};

/* What the primaries of one object said to its DELETE. */
enum direct_delete_outcome {
    DIRECT_DELETE_DONE,    /* a quorum deleted it or found it gone */
    DIRECT_DELETE_REFUSED, /* a replica holds a newer version (409) or
                            * another X-Delete-At (412): it stays */
    DIRECT_DELETE_FAILED,  /* too few answers */
};

/* The partition and primaries of /a[/c[/o]] in 'ring'. Returns 0,
 * -ENOENT when the ring gives none, or hash_path()'s -errno. */
int direct_delete_place(const struct hash_path_conf *hc,
                        const struct ring *ring, const char *a, const char *c,
                        const char *o, struct direct_place *p);

/* "/<dev>/<part><qname>" ('qname' the quoted "/a/c/o"), malloc()ed, or
 * NULL when out of memory. */
char *direct_delete_node_path(const struct ring_dev *d, uint32_t part,
                              const char *qname);

/* The container replicas object replica 'i' of 'n_obj' tells: replicas
 * i, i + n_obj, ... of 'cp', as comma-separated "ip:port" into 'hosts'
 * and devices into 'devs' (each 'cap' bytes; empty when there is none,
 * and cut before a replica that does not fit). */
void direct_delete_container_headers(const struct direct_place *cp, size_t i,
                                     size_t n_obj, char *hosts, char *devs,
                                     size_t cap);

/* Sends DELETE /<dev>/<part>/<a>/<c>/<o> to every primary of the
 * object at once, with X-Timestamp 'ts', X-Trans-Id, the policy index,
 * the container headers above and the caller's 'extra' headers
 * (borrowed). Sets status[i] to primary i's status, or -errno when it
 * did not answer, and *n to the number of primaries; logs the answers
 * that are neither 2xx, 404, 409 nor 412. Returns 0, or -errno when the
 * object cannot be placed or named (nothing sent, *n is 0). */
int direct_delete_object(const struct direct_delete *dd,
                         const struct direct_delete_target *t, const char *ts,
                         const struct http_header *extra, size_t n_extra,
                         int status[DIRECT_DELETE_MAX_REPLICAS], size_t *n);

/* The outcome of the 'n' answers of direct_delete_object(): REFUSED when
 * any is 409 or 412, else DONE when a quorum (n / 2 + 1) is 2xx or 404,
 * else FAILED (also for n = 0). */
enum direct_delete_outcome direct_delete_outcome(const int *status, size_t n);

/* Whether an object's headers say it is an S3 multipart object: a true
 * X-Static-Large-Object and an X-Object-Sysmeta-S3api-Etag. */
bool direct_delete_is_s3_multipart(const char *static_large_object,
                                   const char *s3api_etag);

/* The manifest of the object, read before its DELETE from the first
 * primary that holds the version meant: with 'delete_at' > 0, only one
 * whose X-Delete-At is that (the expirer's); with 0, any. It is read with
 * X-Backend-Replication, so a version past its X-Delete-At still answers
 * (Swift's open_expired), and only after a HEAD said it is an S3
 * multipart object (direct_delete_is_s3_multipart()), so no other
 * object's body is read. Returns 0 and sets *out to its JSON array (the
 * caller's, json_decref()) or to NULL when the version is not an S3
 * multipart object; -ENOENT when no primary returned the version;
 * -ENOMEM. */
int direct_delete_get_manifest(const struct direct_delete *dd,
                               const struct direct_delete_target *t,
                               int64_t delete_at, json_t **out);

/* The name inside "<container>+segments" of 'name' (a manifest row's
 * "/<container>+segments/<object>/<upload id>/<N>"), a pointer into
 * 'name', or NULL when it is not a part of that object's upload. */
const char *direct_delete_part_name(const char *container, const char *object,
                                    const char *name);

/* Deletes the parts of S3 multipart object 't' that 'manifest' (from
 * direct_delete_get_manifest()) names (direct_delete_part_name()), as
 * DeleteObject does: on the primaries of the policy's object ring, each
 * telling the replicas in 'cring' of the segments container. Parts never
 * change once written, so the DELETEs are timestamped now. Call it only
 * once the object's own DELETE is DONE. A part whose DELETE fails is
 * logged and stays. */
void direct_delete_parts(const struct direct_delete *dd,
                         const struct direct_delete_target *t,
                         const struct ring *cring, json_t *manifest);

#endif /* STORAGE_DIRECT_DELETE_H */
