/*
 * cors.c - OPTIONS as Swift's controllers answer it: without an Origin
 * header, 200 with Allow; with one, a CORS preflight checked against the
 * container's X-Container-Meta-Access-Control-Allow-Origin (a
 * space-separated list, '*' for any): 401 when the origin or the
 * requested method is not allowed, else 200 with the Access-Control-*
 * headers. No token is needed: browsers send none with a preflight.
 */
#include "proxy/obj_ctl.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ALLOWED_METHODS "DELETE, GET, HEAD, OPTIONS, POST, PUT"

static bool origin_allowed(const char *allow, const char *origin)
{
    char *copy, *save = NULL, *tok;
    bool ok = false;

    if (!allow || !(copy = strdup(allow)))
        return false;
    for (tok = strtok_r(copy, " ", &save); tok && !ok;
         tok = strtok_r(NULL, " ", &save))
        ok = !strcmp(tok, "*") || !strcmp(tok, origin);
    free(copy);
    return ok;
}

static bool method_allowed(const char *m)
{
    static const char *const methods[] = {"DELETE", "GET", "HEAD",
                                          "OPTIONS", "POST", "PUT", NULL};

    for (size_t i = 0; m && methods[i]; i++)
        if (!strcmp(m, methods[i]))
            return true;
    return false;
}

int cors_preflight(struct preq *pr, const struct info *ci)
{
    const char *origin = req_header(pr->req, "Origin");
    const char *allow = ci ? hlist_get(&ci->headers,
                                       "X-Container-Meta-Access-Control-"
                                       "Allow-Origin")
                           : NULL;
    const char *max_age = ci ? hlist_get(&ci->headers,
                                         "X-Container-Meta-Access-Control-"
                                         "Max-Age")
                             : NULL;
    const char *req_headers =
        req_header(pr->req, "Access-Control-Request-Headers");
    char vary[64] = "Origin";
    int rc = preq_add_txn_headers(pr);

    if (rc)
        return rc;
    req_add_header(pr->req, "Allow", ALLOWED_METHODS);
    if (!origin)
        return req_respond(pr->req, 200, "", 0);
    if (!ci) /* no container, no CORS settings: refused */
        return req_respond_error(pr->req, 401);
    if (!origin_allowed(allow, origin) ||
        !method_allowed(
            req_header(pr->req, "Access-Control-Request-Method")))
        return req_respond_error(pr->req, 401);
    while (*allow == ' ')
        allow++;
    req_add_header(pr->req, "Access-Control-Allow-Origin",
                   !strcmp(allow, "*") ? "*" : origin);
    if (max_age)
        req_add_header(pr->req, "Access-Control-Max-Age", max_age);
    req_add_header(pr->req, "Access-Control-Allow-Methods", ALLOWED_METHODS);
    if (req_headers && *req_headers) {
        req_add_header(pr->req, "Access-Control-Allow-Headers", req_headers);
        snprintf(vary, sizeof(vary), "Origin, Access-Control-Request-Headers");
    }
    req_add_header(pr->req, "Vary", vary);
    return req_respond(pr->req, 200, "", 0);
}

int cors_note_origin(struct preq *pr, const struct info *ci)
{
    const char *origin = req_header(pr->req, "Origin");
    const char *allow = hlist_get(&ci->headers,
                                  "X-Container-Meta-Access-Control-"
                                  "Allow-Origin");
    const char *expose = hlist_get(&ci->headers,
                                   "X-Container-Meta-Access-Control-"
                                   "Expose-Headers");

    if (!origin || !origin_allowed(allow, origin))
        return 0;
    while (*allow == ' ')
        allow++;
    pr->cors_origin = strdup(!strcmp(allow, "*") ? "*" : origin);
    if (expose)
        pr->cors_expose = strdup(expose);
    return pr->cors_origin ? 0 : -ENOMEM;
}

int cors_add_headers(struct preq *pr, const struct http_header *h, size_t n)
{
    static const char *const simple[] = {
        "cache-control", "content-language", "content-type", "expires",
        "last-modified", "pragma", "etag", "x-timestamp", "x-trans-id",
        "x-openstack-request-id", NULL,
    };
    char expose[4096];
    size_t len = 0;

    if (!pr->cors_origin)
        return 0;
    expose[0] = '\0';
    for (size_t i = 0; simple[i]; i++)
        len += (size_t)snprintf(expose + len, sizeof(expose) - len, "%s%s",
                                len ? ", " : "", simple[i]);
    for (size_t i = 0; i < n && len < sizeof(expose); i++)
        if (!strncasecmp(h[i].name, "x-object-meta-", 14))
            len += (size_t)snprintf(expose + len, sizeof(expose) - len,
                                    ", %s", h[i].name);
    if (pr->cors_expose && len < sizeof(expose))
        snprintf(expose + len, sizeof(expose) - len, ", %s", pr->cors_expose);
    for (char *c = expose; *c; c++) /* Swift lower-cases them all */
        *c = (char)tolower((unsigned char)*c);
    if (req_add_header(pr->req, "Access-Control-Allow-Origin",
                       pr->cors_origin) == -ENOMEM ||
        req_add_header(pr->req, "Access-Control-Expose-Headers", expose) ==
            -ENOMEM ||
        req_add_header(pr->req, "Vary", "Origin") == -ENOMEM)
        return -ENOMEM;
    return 0;
}
