/*
 * ssync_send.c - the sending end of SSYNC (doc/replication.md §4): lists
 * the current files of some suffixes of a local partition, asks the peer
 * which it lacks, and sends those with the object server's own verbs
 * marked X-Backend-Replication, each object as its own requests on pooled
 * connections, opts->concurrency objects at once.
 *
 * What it owns: the walk of the suffix directories, batching the
 * inventory, checking the peer's answer against what was offered, and the
 * wire form of the replication PUT, DELETE and POST. What it leaves: which
 * files count (ondisk.c), reading objects and their metadata (diskfile.c,
 * which verifies a whole read against the ETag and quarantines a bad
 * .data), the formats (ssync.c), what the peer stores (obj_server.c).
 *
 * Invariants:
 * 1. What is sent is the object's state when it is sent, not when it was
 *    listed: each wanted object is opened again. A newer local file only
 *    makes the peer newer; one that vanished is skipped (the next pass
 *    lists again).
 * 2. Metadata goes exactly as stored: the .data's own items with the PUT,
 *    the .meta's own items with the POST (never the merge a GET shows),
 *    each named in X-Backend-Replication-Headers so the peer keeps it.
 *    An item that cannot travel as an HTTP header (a CR, LF or NUL in its
 *    value) fails that object rather than arrive changed.
 * 3. Nothing is concluded about the peer from an error: a connection
 *    failure or an answer that is not SSYNC's ends the exchange with
 *    -errno, and only a 2xx/404/409 per object counts as taken.
 */
#include "storage/ssync.h"

#include "common/http.h"
#include "common/log.h"
#include "storage/devices.h"
#include "storage/diskfile.h"
#include "storage/diskfile_io.h"
#include "storage/suffix_hash.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A PUT's body goes in pieces of this size (each one throttled). */
#define CHUNK (64 * 1024)

struct sender {
    struct http_client *client;
    const struct ssync_target *t;
    const struct ssync_opts *opts;
    struct ssync_stats *st;
    struct diskfile_conf dconf;
    const char *dev;
    uint32_t part;
    char *qdev;   /* the peer's device, quoted for paths */
    size_t batch; /* inventory lines per SSYNC request */
    /* the batch being listed, sorted by hash before it is offered */
    struct ssync_item *items;
    size_t n, cap;
    /* the objects the peer wants of the batch, sent by the workers */
    pthread_mutex_t lock;  /* over next, err and failed */
    struct wanted *wanted; /* read-only while the workers run */
    size_t n_wanted, next;
    int err;     /* the first failure of the exchange itself */
    bool failed; /* some object was not taken */
};

struct wanted {
    char hash[33];
    unsigned want;
};

/* One thread sending wanted objects; its counts go to the sender's stats
 * when it is done. */
struct worker {
    struct sender *s;
    char *chunk; /* a PUT body's piece */
    struct ssync_stats st;
};

static const char *txn_of(const struct sender *s)
{
    return s->opts->txn && *s->opts->txn ? s->opts->txn : "-";
}

/* ---- listing ---- */

static int push_item(struct sender *s, const struct ssync_item *it)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        struct ssync_item *v = realloc(s->items, cap * sizeof(*v));

        if (!v)
            return -ENOMEM;
        s->items = v;
        s->cap = cap;
    }
    s->items[s->n++] = *it;
    return 0;
}

static int cmp_item(const void *a, const void *b)
{
    return strcmp(((const struct ssync_item *)a)->hash,
                  ((const struct ssync_item *)b)->hash);
}

/* bsearch() of a hash string among the items. */
static int cmp_hash_item(const void *hash, const void *item)
{
    return strcmp(hash, ((const struct ssync_item *)item)->hash);
}

/* 'name' is a hash directory of 'suffix': 32 lowercase hex digits ending
 * in the suffix. Anything else in a suffix directory is not ours. */
static bool is_hash_dir(const char *name, const char *suffix)
{
    size_t len = strlen(name);

    if (len != 32 || strcmp(name + 29, suffix))
        return false;
    return strspn(name, "0123456789abcdef") == 32;
}

/* ---- sending one object ---- */

/* A header value we can send unchanged: no CR, LF or NUL (a value that
 * holds one could not have come in as a header either). */
static bool header_safe(const struct objmeta_item *it)
{
    return strlen(it->val) == it->vlen && !strpbrk(it->val, "\r\n") &&
           it->klen && strcspn(it->key, " \t\r\n:") == it->klen;
}

/* Set by the object server itself from the request, never copied. */
static bool is_reserved(const char *key)
{
    static const char *const reserved[] = {"name", "x-timestamp", "etag",
                                           "content-length"};

    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (!strcasecmp(key, reserved[i]))
            return true;
    return false;
}

/* A replication request's headers: X-Timestamp, the fixed marks, and
 * every item of 'm' but the reserved ones, named in
 * X-Backend-Replication-Headers. 'extra' (may be NULL) goes too.
 * Fills *hdrs (free it) and *names (free it). Returns the header count,
 * -EINVAL for an item that cannot travel as a header, or -ENOMEM. */
static int build_headers(const struct sender *s, const struct objmeta *m,
                         const char *timestamp, const struct http_header *extra,
                         struct http_header **hdrs, char **names)
{
    size_t n = 0, len = 1;
    struct http_header *h;
    char *p;

    *hdrs = NULL;
    *names = NULL;
    for (size_t i = 0; m && i < m->n; i++) {
        if (is_reserved(m->items[i].key))
            continue;
        if (!header_safe(&m->items[i]))
            return -EINVAL;
        len += m->items[i].klen + 1;
    }
    h = calloc((m ? m->n : 0) + 5, sizeof(*h));
    p = *names = malloc(len);
    if (!h || !p) {
        free(h);
        free(*names);
        *names = NULL;
        return -ENOMEM;
    }
    *p = '\0';
    h[n++] = (struct http_header){"X-Timestamp", timestamp};
    h[n++] = (struct http_header){"X-Backend-Replication", "True"};
    h[n++] = (struct http_header){"X-Trans-Id", txn_of(s)};
    if (extra)
        h[n++] = *extra;
    for (size_t i = 0; m && i < m->n; i++) {
        const struct objmeta_item *it = &m->items[i];

        if (is_reserved(it->key))
            continue;
        h[n++] = (struct http_header){it->key, it->val};
        p += sprintf(p, "%s%s", p == *names ? "" : " ", it->key);
    }
    if (p != *names)
        h[n++] = (struct http_header){"X-Backend-Replication-Headers", *names};
    *hdrs = h;
    return (int)n;
}

static char *object_path(const struct sender *s, const char *name)
{
    char *qname = http_quote(name), *path = NULL;

    if (qname &&
        asprintf(&path, "/%s/%" PRIu32 "%s", s->qdev, s->t->part, qname) < 0)
        path = NULL;
    free(qname);
    return path;
}

/* Whether the peer took it: 2xx; 409, it has this or newer; 404, a
 * DELETE or POST of something it no longer has (Swift's ssync receiver
 * counts that as a success too). 0: nothing was sent, nothing failed. */
static bool taken(int status)
{
    return !status || (status >= 200 && status < 300) || status == 404 ||
           status == 409;
}

/* The timestamp of the object's current file 'which' (its name's). */
static const char *file_timestamp(const struct diskfile *df,
                                  enum ondisk_ext which)
{
    switch (which) {
    case ONDISK_DATA: return diskfile_data_timestamp(df);
    case ONDISK_META: return diskfile_timestamp(df);
    case ONDISK_TS: return diskfile_tombstone(df);
    }
    return NULL;
}

/* Streams the open .data of 'df' as the body of 'call'. Returns 0 or
 * -errno, with *local set when the error was ours: reading the object
 * (-EUCLEAN: the data did not match its ETag and is quarantined now), not
 * the call's (-ECONNABORTED: the peer answered early). */
static int send_body(struct worker *w, struct http_client_call *call,
                     struct diskfile *df, bool *local)
{
    const struct ssync_opts *opts = w->s->opts;
    struct diskfile_reader *r = NULL;
    ssize_t got;
    int err = diskfile_reader_new(df, 0, UINT64_MAX, &r);

    *local = err != 0;
    while (!err && (got = diskfile_reader_read(r, w->chunk, CHUNK)) != 0) {
        if (got < 0) {
            *local = true;
            err = (int)got;
            break;
        }
        if (opts->throttle)
            opts->throttle(opts->throttle_arg, (size_t)got);
        err = http_client_send(call, w->chunk, (size_t)got);
        if (!err)
            w->st.bytes += (uint64_t)got;
    }
    diskfile_reader_free(r);
    if (!err)
        err = http_client_send_end(call);
    return err;
}

/* One replication request of 'method' for the object 'df', its headers
 * made of the metadata of the object's file 'which', the .data's body
 * streamed with a PUT. Returns the peer's status, or -errno with *local
 * set when the error was ours (reading the object), not the peer's. */
static int request(struct worker *w, const char *method, struct diskfile *df,
                   enum ondisk_ext which, const char *path, bool *local)
{
    struct sender *s = w->s;
    bool put = which == ONDISK_DATA;
    struct objmeta m = {0};
    struct http_header *hdrs = NULL, etag;
    struct http_client_call *call = NULL;
    char *names = NULL;
    int n, err;

    *local = true;
    err = diskfile_read_file_metadata(df, which, &m);
    if (err)
        goto out;
    etag = (struct http_header){"ETag", objmeta_get(&m, "ETag")};
    n = build_headers(s, &m, file_timestamp(df, which), put ? &etag : NULL,
                      &hdrs, &names);
    if (n < 0) {
        err = n;
        goto out;
    }
    struct http_client_req req = {
        .host = s->t->ip,
        .port = (unsigned int)s->t->port,
        .method = method,
        .path = path,
        .headers = hdrs,
        .n_headers = (size_t)n,
        .body_mode = put ? HTTP_CLIENT_BODY_LENGTH : HTTP_CLIENT_BODY_NONE,
        .content_length = put ? diskfile_content_length(df) : 0,
        .conn_timeout_ms = s->opts->conn_ms,
        .node_timeout_ms = s->opts->node_ms,
    };
    *local = false;
    err = http_client_start(s->client, &req, &call);
    if (!err && put) {
        err = send_body(w, call, df, local);
        if (err == -ECONNABORTED)
            err = 0; /* answered early: read why */
    }
    if (!err)
        err = http_client_response(call);
    if (err >= 0) {
        const void *data;
        size_t len = 0;

        /* drain the (small) body so the connection goes back to the pool */
        while (!http_client_read(call, &data, &len) && len)
            ;
    }
    http_client_end(call);
out:
    objmeta_release(&m);
    free(hdrs);
    free(names);
    return err;
}

/* The object's path on the peer, from the name in the metadata of its
 * current file 'which' (a tombstone's is not loaded by diskfile_open()). */
static char *path_of(struct sender *s, struct diskfile *df,
                     enum ondisk_ext which)
{
    struct objmeta m = {0};
    const char *name;
    char *path = NULL;

    if (which == ONDISK_DATA) {
        name = objmeta_get(diskfile_metadata(df), "name");
    } else {
        diskfile_read_file_metadata(df, which, &m);
        name = objmeta_get(&m, "name");
    }
    if (name && name[0] == '/')
        path = object_path(s, name);
    objmeta_release(&m);
    return path;
}

/* Sends what the peer wants of 'hash'. Returns 0 (taken, or nothing left
 * to send), 1 (this object failed), or -errno (the exchange failed). */
static int send_object(struct worker *w, const char *hash, unsigned want)
{
    struct sender *s = w->s;
    struct diskfile *df = NULL;
    char *path = NULL;
    bool local = true;
    int err;

    err = diskfile_new_from_hash(&s->dconf, s->dev, s->part, hash, &df);
    if (!err)
        err = diskfile_open(df);
    if (err == -ENOENT && diskfile_tombstone(df) && (want & SSYNC_WANT_DATA)) {
        path = path_of(s, df, ONDISK_TS);
        err =
            path ? request(w, "DELETE", df, ONDISK_TS, path, &local) : -EINVAL;
        if (taken(err))
            w->st.sent_ts++;
    } else if (err == -ENOENT || err == -EINVAL) {
        err = 0; /* gone or quarantined since listed: nothing to send */
    } else if (!err) {
        path = path_of(s, df, ONDISK_DATA);
        err = path ? 0 : -ENOMEM;
        if (!err && (want & SSYNC_WANT_DATA)) {
            err = request(w, "PUT", df, ONDISK_DATA, path, &local);
            if (taken(err))
                w->st.sent_data++;
        }
        /* after the PUT (the .meta needs its .data there), and only if
         * there still is a .meta */
        if (taken(err) && (want & SSYNC_WANT_META) &&
            strcmp(diskfile_timestamp(df), diskfile_data_timestamp(df))) {
            err = request(w, "POST", df, ONDISK_META, path, &local);
            if (taken(err))
                w->st.sent_meta++;
        }
    }
    diskfile_free(df);
    free(path);
    if (taken(err))
        return 0;
    if (err == 507)
        err = -ENODEV; /* the peer's device went: a handoff may take it */
    if (err == -ENODEV || (err < 0 && !local))
        return err; /* the local device, the peer or the network: stop */
    /* counted, not returned: the caller cannot tell which object it was */
    if (err < 0)
        log_txn(LOG_ERR, s->opts->txn,
                "ssync: cannot send %s/%" PRIu32 "/%s to %s:%d/%s: %s", s->dev,
                s->part, hash, s->t->ip, s->t->port, s->t->dev, strerror(-err));
    else
        log_txn(LOG_ERR, s->opts->txn,
                "ssync: %s:%d/%s refused %s/%" PRIu32 "/%s: %d", s->t->ip,
                s->t->port, s->t->dev, s->dev, s->part, hash, err);
    return 1;
}

/* ---- the exchange ---- */

/* Offers the batch (sorted, no hash twice) and reads which hashes the
 * peer wants into *wanted (free it): the answer's lines, checked. */
static int offer(struct sender *s, char **wanted, size_t *wlen)
{
    struct http_header hdrs[] = {{"Content-Type", "text/plain"},
                                 {"X-Trans-Id", txn_of(s)}};
    struct http_client_call *call = NULL;
    char *body = malloc(s->n * SSYNC_LINE_MAX + 1), *path = NULL;
    size_t len = 0;
    int status;

    *wanted = NULL;
    if (!body || asprintf(&path, "/%s/%" PRIu32, s->qdev, s->t->part) < 0) {
        free(body);
        return -ENOMEM;
    }
    for (size_t i = 0; i < s->n; i++)
        len += ssync_item_format(&s->items[i], body + len);
    struct http_client_req req = {
        .host = s->t->ip,
        .port = (unsigned int)s->t->port,
        .method = "SSYNC",
        .path = path,
        .headers = hdrs,
        .n_headers = 2,
        .body = body,
        .body_len = len,
        .conn_timeout_ms = s->opts->conn_ms,
        .node_timeout_ms = s->opts->node_ms,
    };
    status = http_client_request(s->client, &req, &call);
    if (status == 200)
        status = http_client_read_all(call, s->n * SSYNC_WANTED_LINE_MAX + 1,
                                      wanted, wlen);
    else if (status == 507)
        status = -ENODEV;
    else if (status > 0)
        status = -EPROTO;
    if (status == -EMSGSIZE)
        status = -EPROTO; /* more lines than hashes offered */
    http_client_end(call);
    free(path);
    free(body);
    s->st->hashes += s->n;
    return status; /* the caller logs a failed exchange */
}

/* The peer's answer into s->wanted: only hashes we offered, at most one
 * line each, each well-formed (else the peer is broken: -EPROTO). */
static int parse_wanted(struct sender *s, char *answer, size_t len)
{
    char *p = answer, *end = answer + len;

    s->wanted = calloc(s->n, sizeof(*s->wanted));
    if (!s->wanted)
        return -ENOMEM;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        struct wanted *wd = &s->wanted[s->n_wanted];

        if (!nl || s->n_wanted == s->n ||
            ssync_wanted_parse(p, (size_t)(nl - p), wd->hash, &wd->want) ||
            !bsearch(wd->hash, s->items, s->n, sizeof(*s->items),
                     cmp_hash_item))
            return -EPROTO;
        s->n_wanted++;
        p = nl + 1;
    }
    return 0;
}

/* A worker's loop: sends wanted objects until none is left or the
 * exchange failed. */
static void *work(void *arg)
{
    struct worker *w = arg;
    struct sender *s = w->s;
    size_t i;
    int rc;

    for (;;) {
        pthread_mutex_lock(&s->lock);
        i = s->err ? s->n_wanted : s->next++;
        pthread_mutex_unlock(&s->lock);
        if (i >= s->n_wanted)
            break;
        rc = send_object(w, s->wanted[i].hash, s->wanted[i].want);
        pthread_mutex_lock(&s->lock);
        if (rc == 1) {
            w->st.failures++;
            s->failed = true;
        } else if (rc < 0 && !s->err) {
            s->err = rc;
        }
        pthread_mutex_unlock(&s->lock);
    }
    return NULL;
}

static void add_stats(struct ssync_stats *to, const struct ssync_stats *st)
{
    to->sent_data += st->sent_data;
    to->sent_ts += st->sent_ts;
    to->sent_meta += st->sent_meta;
    to->bytes += st->bytes;
    to->failures += st->failures;
}

/* Sends the wanted objects on opts->concurrency workers, this thread and
 * the rest, each object as its own requests: the peer fsyncs every write,
 * and writes to different files overlap on its device. */
static void send_wanted(struct sender *s)
{
    size_t nw = s->opts->concurrency > 1 ? s->opts->concurrency : 1;
    struct worker *w;
    pthread_t *tids;
    size_t started = 0;

    if (nw > s->n_wanted)
        nw = s->n_wanted;
    w = calloc(nw, sizeof(*w));
    tids = calloc(nw, sizeof(*tids));
    for (size_t i = 0; w && tids && i < nw; i++) {
        w[i].s = s;
        w[i].chunk = malloc(CHUNK);
        if (!w[i].chunk)
            break;
        /* worker 0 is this thread; one that cannot start is a worker less */
        if (i && pthread_create(&tids[i], NULL, work, &w[i])) {
            free(w[i].chunk);
            break;
        }
        started = i + 1;
    }
    if (started) {
        work(&w[0]);
        for (size_t i = 1; i < started; i++)
            pthread_join(tids[i], NULL);
    } else {
        s->err = -ENOMEM;
    }
    for (size_t i = 0; i < started; i++) {
        add_stats(s->st, &w[i].st);
        free(w[i].chunk);
    }
    free(w);
    free(tids);
}

/* Offers the batch and sends what the peer wants of it. Returns 0, 1
 * (objects failed), or -errno (the exchange failed). */
static int exchange(struct sender *s)
{
    char *answer = NULL;
    size_t len = 0, kept = 0;
    int err;

    if (!s->n)
        return 0;
    qsort(s->items, s->n, sizeof(*s->items), cmp_item);
    /* a suffix named twice lists its hashes twice: offer each once */
    for (size_t i = 0; i < s->n; i++)
        if (!kept || strcmp(s->items[i].hash, s->items[kept - 1].hash))
            s->items[kept++] = s->items[i];
    s->n = kept;
    s->n_wanted = s->next = 0;
    s->err = 0;
    s->failed = false;
    err = offer(s, &answer, &len);
    if (!err)
        err = parse_wanted(s, answer, len);
    if (!err && s->n_wanted) {
        send_wanted(s);
        err = s->err;
    }
    free(answer);
    free(s->wanted);
    s->wanted = NULL;
    s->n = 0;
    return err ? err : s->failed;
}

/* Lists suffix directory 'suffix' into the batch, offering the batch
 * whenever it is full. Returns 0, 1 (objects failed), or -errno. */
static int list_suffix(struct sender *s, const char *devices,
                       const char *suffix)
{
    char dir[PATH_MAX], hdir[PATH_MAX + 40]; /* + a hash */
    char **names = NULL;
    size_t n = 0;
    int err, failed = 0;

    if (snprintf(dir, sizeof(dir), "%s/%s/objects/%" PRIu32 "/%s", devices,
                 s->dev, s->part, suffix) >= (int)sizeof(dir))
        return -ENAMETOOLONG;
    err = diskfile_io_listdir(dir, &names, &n);
    if (err == -ENOENT || err == -ENOTDIR)
        return 0; /* nothing there (any more) */
    for (size_t i = 0; !err && i < n; i++) {
        struct ondisk_listing l;
        struct ssync_item it;

        if (!is_hash_dir(names[i], suffix))
            continue;
        snprintf(hdir, sizeof(hdir), "%s/%s", dir, names[i]);
        err = ondisk_list(hdir, false, 0, &l);
        if (!err && ssync_item_from_listing(names[i], &l, &it))
            err = push_item(s, &it);
        ondisk_listing_release(&l);
        if (err == -ENOENT || err == -ENOTDIR)
            err = 0; /* removed since the directory was read */
        if (!err && s->n == s->batch) {
            err = exchange(s);
            failed |= err == 1;
            err = err == 1 ? 0 : err;
        }
    }
    diskfile_io_free_names(names, n);
    return err ? err : failed;
}

int ssync_send(struct http_client *client, const struct ssync_target *t,
               const char *devices, const char *dev, uint32_t part,
               const char *const *suffixes, size_t n,
               const struct ssync_opts *opts, struct ssync_stats *st)
{
    struct sender s = {
        .client = client,
        .t = t,
        .opts = opts,
        .st = st,
        .dconf = {.devices = devices,
                  .mount_check = opts->mount_check,
                  .hash_conf = opts->hash_conf},
        .dev = dev,
        .part = part,
        .batch = opts->batch ? opts->batch : SSYNC_SEND_BATCH,
    };
    int err = 0, failed = 0;

    if (!opts->hash_conf || !t->ip || !t->dev)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!suffix_hash_valid_suffix(suffixes[i]))
            return -EINVAL;
    err = devices_check(devices, dev, opts->mount_check);
    if (err)
        return err;
    err = -pthread_mutex_init(&s.lock, NULL);
    if (err)
        return err;
    s.qdev = http_quote(t->dev);
    if (!s.qdev)
        err = -ENOMEM;
    for (size_t i = 0; !err && i < n; i++) {
        err = list_suffix(&s, devices, suffixes[i]);
        failed |= err == 1;
        err = err == 1 ? 0 : err;
    }
    if (!err) {
        err = exchange(&s);
        failed |= err == 1;
        err = err == 1 ? 0 : err;
    }
    free(s.items);
    free(s.qdev);
    pthread_mutex_destroy(&s.lock);
    return err ? err : failed;
}
