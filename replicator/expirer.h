/*
 * expirer.h - kura-expirer: deletes objects past their X-Delete-At, as
 * Swift's object-expirer, reading the queue the object servers keep in
 * the hidden account .expiring_objects (storage/obj_expiring.h).
 *
 * It talks to the storage servers directly through the rings under
 * swift_dir (account, container and object .ring.gz, re-read when they
 * change), as Swift's direct_client does; no proxy is involved. A pass:
 *
 * 1. lists the queue account's containers (JSON listings, paged, the
 *    union of every account replica that answers), in name order, up to
 *    the first whose name (a time) is still in the future;
 * 2. for each, lists its rows the same way on the container replicas, up
 *    to the first still in the future; a container no replica lists a
 *    row of is deleted from every container replica;
 * 3. for each row due (Swift's <delete_at>-<a>/<c>/<o>), sends
 *    DELETE /<dev>/<part>/<a>/<c>/<o> to every object replica at once with
 *    X-Timestamp and X-If-Delete-At of the row's time,
 *    X-Backend-Clean-Expiring-Object-Queue: no and the
 *    X-Container-Host/-Device/-Partition of the object's container
 *    replicas (shared out as the proxy does), so each object server that
 *    deletes takes the object out of its listing. Before it, a HEAD
 *    (X-Backend-Replication: true) to each replica in turn, until one
 *    holds the version with the row's X-Delete-At, tells an S3
 *    multipart object (a manifest CompleteMultipartUpload wrote,
 *    storage/direct_delete.h); only then is the manifest read, and once
 *    the DELETE settled with no 409 or 412, each of its parts in
 *    <bucket>+segments/<key>/ is deleted too (X-Timestamp now), as S3's
 *    DeleteObject does. A Swift API manifest's segments stay, as with
 *    Swift's expirer;
 * 4. when the object is settled, removes the row from every replica of
 *    the queue container. Settled: a quorum of the object's replicas
 *    answered 2xx, 404, 409 (a newer write) or 412 (another delete-at),
 *    and at least one of them was not 404, or the row is older than
 *    reclaim_age (Swift 2.30's retry of a 404 until then). Otherwise the
 *    row stays for the next pass.
 *
 * Several expirers: with 'processes' = N > 0, this one takes only the rows
 * whose md5("<container>/<row>") % N is 'process' (Swift's hash_mod), so N
 * expirers share the work. With processes = 0 (the default) every expirer
 * does every row: the deletes are idempotent (every replica gets the same
 * tombstone time; a row removed twice is harmless), so any node's expirer
 * alone finishes the work.
 *
 * Recon (<recon_cache_path>/object.recon): "object_expiration_pass"
 * (seconds) and "expired_last_pass" (rows done) after each pass.
 *
 * Not thread-safe: one thread calls expirer_pass(); it runs 'concurrency'
 * threads of its own for the rows.
 */
#ifndef REPLICATOR_EXPIRER_H
#define REPLICATOR_EXPIRER_H

#include "common/conf.h"
#include "common/log.h"
#include "ring/hash_path.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* [object-expirer] of object-server.conf, [DEFAULT] under it */
struct expirer_conf {
    char *swift_dir;
    double interval; /* seconds from pass start to pass start */
    /* the queue account is "." + this, as Swift's auto_create prefix */
    char *expiring_objects_account_name;
    unsigned int concurrency; /* rows deleted at once */
    unsigned int processes;   /* 0: this expirer does every row */
    unsigned int process;     /* which share, 0 .. processes - 1 */
    double conn_timeout;      /* seconds */
    double node_timeout;      /* seconds */
    unsigned int reclaim_age; /* seconds a row answered 404 is retried */
    char *recon_cache_path;
    struct log_conf log;
};
extern const struct conf_option expirer_options[];

/* What a pass counted. */
struct expirer_stats {
    uint64_t expired; /* rows done and removed */
    uint64_t errors;  /* rows left for the next pass, or that failed */
    double elapsed;   /* seconds */
};

struct expirer; /* opaque */

/* Loads the three rings under c->swift_dir. 'c' and 'hc' are borrowed and
 * must outlive the expirer. Returns 0, -EINVAL (process not below
 * processes, logged), or the ring's -errno (logged). */
int expirer_new(const struct expirer_conf *c, const struct hash_path_conf *hc,
                struct expirer **out);
void expirer_free(struct expirer *e); /* NULL is fine */

/* Whether a row is settled by its object's replicas' answers to the
 * expirer's DELETE: 'status' holds each replica's status, or -errno when
 * it did not answer (expirer.h, step 4). 'now' is Unix time. */
bool expirer_row_settled(const int *status, size_t n, int64_t delete_at,
                         unsigned int reclaim_age, int64_t now);

/* Names from a listing, sorted, each once; release with
 * expirer_names_release(). */
struct expirer_names {
    char **v;
    size_t n, cap;
};
void expirer_names_release(struct expirer_names *ns);

/* The page of names that the replicas' listing pages 'pages' (JSON
 * arrays of {"name": ...}, each asked for 'limit' names after the same
 * marker) give together: their union, so that a replica that missed an
 * update hides no row, cut at the smallest last name of a full page
 * (past it, that replica has names still to come). *more says whether a
 * next page may follow, after the last name of this one. Returns 0 or
 * -ENOMEM. The pages are borrowed. */
int expirer_merge_pages(json_t *const *pages, size_t n, size_t limit,
                        struct expirer_names *out, bool *more);

/* Runs one pass, logs a summary and writes recon; fills 'st' (may be
 * NULL). */
void expirer_pass(struct expirer *e, struct expirer_stats *st);

#endif /* REPLICATOR_EXPIRER_H */
