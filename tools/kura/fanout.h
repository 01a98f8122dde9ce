/*
 * fanout.h - one request to each of many storage servers at once, for the
 * operators' tools: `kura recon` (GET /recon/... of every server) and
 * `kura dispersion-report` (HEAD of every replica). Each request runs on
 * one of up to 'concurrency' threads sharing one http_client; a request
 * that fails to connect or gets a 5xx other than 507 is tried again, up
 * to its 'retries', as Swift's direct_client.retry() does.
 */
#ifndef TOOLS_KURA_FANOUT_H
#define TOOLS_KURA_FANOUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/http_client.h"

struct fanout_req {
    /* what to send (borrowed until fanout_run() returns) */
    const char *host;
    unsigned int port;
    const char *method;
    const char *path; /* quoted */
    const struct http_header *headers;
    size_t n_headers;
    const void *body; /* sent whole with its Content-Length, or NULL */
    size_t body_len;
    bool want_json;       /* parse a 2xx body as JSON into 'json' */
    unsigned int retries; /* more tries after a failure */
    /* what came back */
    int status;            /* HTTP status, or -errno of the last try */
    unsigned int tries;    /* attempts made */
    json_t *json;          /* want_json and a JSON body: owned, decref it */
    double t_start, t_end; /* wall clock around the last try */
};

/* Runs every request of 'reqs' and fills in its results. Returns 0, or
 * -ENOMEM when no thread could be started (then nothing ran). */
int fanout_run(struct http_client *c, struct fanout_req *reqs, size_t n,
               unsigned int concurrency);

/* Drops the JSON bodies of 'reqs'. */
void fanout_release(struct fanout_req *reqs, size_t n);

/* "Connection refused", "HTTP 404"... for a request that did not get a
 * 2xx, into 'buf'; returns buf. */
const char *fanout_error(const struct fanout_req *r, char *buf, size_t cap);

#endif /* TOOLS_KURA_FANOUT_H */
