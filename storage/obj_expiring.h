/*
 * obj_expiring.h - the expirer queue: Swift's hidden account
 * .expiring_objects, whose containers list the objects to delete at a time
 * (doc/replication.md §6, doc/object-server.md §2).
 *
 * A queue entry is a row of container <C> of .expiring_objects named
 *
 *   <delete_at, %010d>-<account>/<container>/<object>
 *
 * where <C> is Swift's get_expirer_container(): delete_at rounded down to
 * a day (86400 s) minus 0..99 s picked by the object's path hash, "%010d".
 * The object server keeps the queue in step with X-Delete-At (Swift's
 * delete_at_update: a PUT of the row when an object gets a delete-at, a
 * DELETE of the old row when it loses or changes one); kura-expirer reads
 * it. Both sides use the names made here.
 *
 * Thread-safe: nothing is kept between calls.
 */
#ifndef STORAGE_OBJ_EXPIRING_H
#define STORAGE_OBJ_EXPIRING_H

#include "common/http_client.h"
#include "common/http_server.h"
#include "ring/hash_path.h"

#include <stdint.h>

/* The queue account (auto_create_account_prefix "." +
 * expiring_objects_account_name) and the span of delete-at times one
 * queue container holds (expiring_objects_container_divisor), at Swift's
 * defaults, which kura-proxy uses too. */
#define OBJ_EXPIRING_ACCOUNT ".expiring_objects"
#define OBJ_EXPIRING_DIVISOR 86400
/* Swift's normalize_delete_at_timestamp caps times at this: names stay
 * ten digits, so they sort as numbers. */
#define OBJ_EXPIRING_MAX_AT 9999999999LL
/* "%010lld" and a NUL */
#define OBJ_EXPIRING_NAME_SIZE 16

/* Swift's get_expirer_container(): the queue container of /a/c/o for
 * 'delete_at', into 'out'. Returns 0 or -EINVAL (no container). */
int obj_expiring_container(const struct hash_path_conf *hc, int64_t delete_at,
                           const char *account, const char *container,
                           const char *object,
                           char out[OBJ_EXPIRING_NAME_SIZE]);

/* Swift's build_task_obj(): the row's name, malloc()ed (NULL: out of
 * memory). */
char *obj_expiring_task_name(int64_t delete_at, const char *account,
                             const char *container, const char *object);

/* A row's name taken apart, as Swift's parse_task_obj(): the delete-at
 * time (a Swift timestamp before the first '-'; fractions allowed, as
 * Swift's high-precision names) and the non-empty account, container and
 * object ('/' allowed in the object). */
struct obj_expiring_task {
    int64_t delete_at; /* whole seconds, rounded down */
    char *account;     /* one allocation: 'account' owns the strings */
    const char *container;
    const char *object;
};

/* Parses 'name'. Returns 0 (release 't' with obj_expiring_task_release())
 * or -EINVAL for a name that is not a task, -ENOMEM. */
int obj_expiring_task_parse(const char *name, struct obj_expiring_task *t);
void obj_expiring_task_release(struct obj_expiring_task *t);

/* The delete-at time an X-Delete-At header or metadata item says: 0 when
 * 'v' is NULL, empty or not a non-negative integer (as "no delete-at"). */
int64_t obj_expiring_at(const char *v);

/* The object server's side: one write (PUT, POST or DELETE) of an object
 * that had, has or loses an X-Delete-At. Strings are borrowed. */
struct obj_expiring_write {
    struct http_client *client;
    const struct hash_path_conf *hash_conf;
    const char *swift_dir; /* container.ring.gz, for rows not named */
    const char *devices;   /* async pendings go to <devices>/<dev> */
    const char *dev;
    const char *account, *container, *object;
    const char *timestamp; /* the write's, internal form */
    unsigned int conn_ms, node_ms;
};

/* Swift's delete_at_update() for both times, called after the write is
 * durable: when 'orig_at' (the X-Delete-At the object had, 0 for none)
 * differs from 'new_at' (what it has now, 0 for none), PUTs the new row
 * to the queue container replicas the request names in X-Delete-At-Host,
 * -Device, -Partition, -Container (none named: no update, another replica
 * sends it), and DELETEs the old row unless X-Backend-Clean-Expiring-
 * Object-Queue is false. A replication write (X-Backend-Replication: true)
 * changes nothing. The old row's DELETE goes to the replicas of
 * <swift_dir>/container.ring.gz (loaded at the first need, then kept for
 * the process's life): the request names only the new row's. An update
 * some replica does not take becomes an async pending (obj_update.h). The
 * write's answer never depends on the queue; errors are logged. */
void obj_expiring_update(struct request *req,
                         const struct obj_expiring_write *w, int64_t orig_at,
                         int64_t new_at);

#endif /* STORAGE_OBJ_EXPIRING_H */
