/*
 * fanout.c - many requests at once over a few threads (fanout.h). The
 * threads take the next request from a shared index; each request's
 * results are written by the one thread that ran it.
 */
#include "tools/kura/fanout.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Bodies larger than this are not recon answers. */
#define FANOUT_MAX_BODY (16u << 20)

struct fanout {
    struct http_client *client;
    struct fanout_req *reqs;
    size_t n;
    atomic_size_t next;
};

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One try: the status, or -errno. */
static int try_once(struct http_client *c, struct fanout_req *r)
{
    const struct http_client_req req = {
        .host = r->host,
        .port = r->port,
        .method = r->method,
        .path = r->path,
        .headers = r->headers,
        .n_headers = r->n_headers,
        .body = r->body,
        .body_len = r->body_len,
    };
    struct http_client_call *call;
    char *body = NULL;
    size_t len;
    int status = http_client_request(c, &req, &call);

    if (status >= 200 && status < 300 && r->want_json) {
        int err = http_client_read_all(call, FANOUT_MAX_BODY, &body, &len);

        if (err)
            status = err;
        else
            r->json = json_loadb(body, len, JSON_DECODE_ANY, NULL);
        if (!err && !r->json)
            status = -EPROTO;
        free(body);
    }
    http_client_end(call);
    return status;
}

static bool worth_retrying(int status)
{
    return status < 0 || (status >= 500 && status != 507);
}

static void *worker(void *arg)
{
    struct fanout *f = arg;
    size_t i;

    while ((i = atomic_fetch_add(&f->next, 1)) < f->n) {
        struct fanout_req *r = &f->reqs[i];

        do {
            json_decref(r->json);
            r->json = NULL;
            r->t_start = now();
            r->status = try_once(f->client, r);
            r->t_end = now();
            r->tries++;
        } while (worth_retrying(r->status) && r->tries <= r->retries);
    }
    return NULL;
}

int fanout_run(struct http_client *c, struct fanout_req *reqs, size_t n,
               unsigned int concurrency)
{
    struct fanout f = {.client = c, .reqs = reqs, .n = n};
    size_t n_threads = concurrency < n ? concurrency : n, started = 0;
    pthread_t *tids;

    if (!n)
        return 0;
    if (!n_threads)
        n_threads = 1;
    tids = calloc(n_threads, sizeof(*tids));
    if (!tids)
        return -ENOMEM;
    atomic_init(&f.next, 0);
    for (; started < n_threads; started++)
        if (pthread_create(&tids[started], NULL, worker, &f))
            break;
    if (!started) {
        free(tids);
        return -ENOMEM;
    }
    for (size_t i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    free(tids);
    return 0;
}

void fanout_release(struct fanout_req *reqs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        json_decref(reqs[i].json);
        reqs[i].json = NULL;
    }
}

const char *fanout_error(const struct fanout_req *r, char *buf, size_t cap)
{
    if (r->status < 0)
        snprintf(buf, cap, "%s", strerror(-r->status));
    else
        snprintf(buf, cap, "HTTP %d", r->status);
    return buf;
}
