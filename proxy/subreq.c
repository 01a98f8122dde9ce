/*
 * subreq.c - the proxy asking itself: a Swift request written out as
 * HTTP, served by the proxy's own handler through
 * http_server_serve_mem() on this thread, and its answer parsed back
 * with libhttp-parser. The request it serves rides along as the memory
 * connection's origin, so the subrequest runs as that request's user
 * (proxy.c) with no token, and no client can claim to be one.
 */
#include "proxy/preq.h"

#include <errno.h>
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* What a subrequest's answer may weigh: a listing page of 10,000 rows
 * in JSON is a few MiB. */
#define SUBREQ_BODY_MAX (64 * 1024 * 1024)

struct parse {
    struct subreq_resp *out;
    char *field; /* the header name being read */
    size_t field_len;
    char *value;
    size_t value_len;
    bool in_value;
    bool head; /* a HEAD: no body follows */
    bool failed;
    size_t cap;
};

static int append(char **s, size_t *len, const char *at, size_t n)
{
    char *grown = realloc(*s, *len + n + 1);

    if (!grown)
        return -1;
    memcpy(grown + *len, at, n);
    *len += n;
    grown[*len] = '\0';
    *s = grown;
    return 0;
}

static int flush_header(struct parse *ps)
{
    int rc = 0;

    if (ps->field && ps->value)
        rc = hlist_add(&ps->out->headers, ps->field, ps->value);
    free(ps->field);
    free(ps->value);
    ps->field = ps->value = NULL;
    ps->field_len = ps->value_len = 0;
    return rc;
}

static int on_field(http_parser *hp, const char *at, size_t n)
{
    struct parse *ps = hp->data;

    if (ps->in_value && flush_header(ps))
        return ps->failed = true, -1;
    ps->in_value = false;
    return append(&ps->field, &ps->field_len, at, n) ? (ps->failed = true, -1)
                                                     : 0;
}

static int on_value(http_parser *hp, const char *at, size_t n)
{
    struct parse *ps = hp->data;

    ps->in_value = true;
    return append(&ps->value, &ps->value_len, at, n) ? (ps->failed = true, -1)
                                                     : 0;
}

static int on_headers_complete(http_parser *hp)
{
    struct parse *ps = hp->data;

    if (flush_header(ps)) {
        ps->failed = true;
        return -1;
    }
    ps->out->status = hp->status_code;
    return ps->head ? 1 : 0; /* 1: no body to expect */
}

static int on_body(http_parser *hp, const char *at, size_t n)
{
    struct parse *ps = hp->data;
    struct subreq_resp *r = ps->out;

    if (r->body_len + n > SUBREQ_BODY_MAX)
        return ps->failed = true, -1;
    if (r->body_len + n + 1 > ps->cap) {
        size_t cap = ps->cap ? ps->cap : 4096;
        char *grown;

        while (cap < r->body_len + n + 1)
            cap *= 2;
        grown = realloc(r->body, cap);
        if (!grown)
            return ps->failed = true, -1;
        r->body = grown;
        ps->cap = cap;
    }
    memcpy(r->body + r->body_len, at, n);
    r->body_len += n;
    r->body[r->body_len] = '\0';
    return 0;
}

/* The request as it would come on a socket. */
static char *request_text(const char *method, const char *path,
                          const char *query, const struct http_header *h,
                          size_t nh, const void *body, size_t len,
                          size_t *out_len)
{
    char *text = NULL;
    size_t tlen = 0;
    FILE *f = open_memstream(&text, &tlen);

    if (!f)
        return NULL;
    fprintf(f, "%s %s%s%s HTTP/1.1\r\nHost: localhost\r\n", method, path,
            query && *query ? "?" : "", query && *query ? query : "");
    for (size_t i = 0; i < nh; i++)
        fprintf(f, "%s: %s\r\n", h[i].name, h[i].value);
    fprintf(f, "Content-Length: %zu\r\nConnection: close\r\n\r\n", len);
    if (len)
        fwrite(body, 1, len, f);
    if (fclose(f)) {
        free(text);
        return NULL;
    }
    *out_len = tlen;
    return text;
}

int subreq_run(struct preq *pr, const char *method, const char *path,
               const char *query, const struct http_header *headers,
               size_t n_headers, const void *body, size_t len,
               struct subreq_resp *out)
{
    struct http_server_conf conf = pr->p->conf->http;
    struct http_server_mem_conn mc = {0};
    http_parser_settings settings = {
        .on_header_field = on_field,
        .on_header_value = on_value,
        .on_headers_complete = on_headers_complete,
        .on_body = on_body,
    };
    struct parse ps = {.out = out, .head = !strcmp(method, "HEAD")};
    http_parser hp;
    size_t used;
    int rc;

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < n_headers; i++)
        if (strpbrk(headers[i].name, "\r\n:") ||
            strpbrk(headers[i].value, "\r\n"))
            return -EINVAL;
    if (strpbrk(path, " \r\n") || (query && strpbrk(query, " \r\n")))
        return -EINVAL;
    mc.in = request_text(method, path, query, headers, n_headers, body, len,
                         &mc.in_len);
    if (!mc.in)
        return -ENOMEM;
    mc.origin = pr;
    conf.log_requests = false;
    conf.lenient_paths = true;
    rc = http_server_serve_mem(&conf, &pr->p->handler, &mc);
    free((char *)mc.in);
    if (rc) {
        free(mc.out);
        return rc;
    }
    http_parser_init(&hp, HTTP_RESPONSE);
    hp.data = &ps;
    used = http_parser_execute(&hp, &settings, mc.out, mc.out_len);
    if (!ps.failed && HTTP_PARSER_ERRNO(&hp) == HPE_OK)
        http_parser_execute(&hp, &settings, NULL, 0); /* EOF ends a body */
    free(ps.field);
    free(ps.value);
    free(mc.out);
    if (ps.failed || !out->status ||
        (HTTP_PARSER_ERRNO(&hp) != HPE_OK && used == 0)) {
        subreq_resp_release(out);
        return ps.failed ? -ENOMEM : -EPROTO;
    }
    return 0;
}

void subreq_resp_release(struct subreq_resp *r)
{
    hlist_release(&r->headers);
    free(r->body);
    memset(r, 0, sizeof(*r));
}
