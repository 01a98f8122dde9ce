/*
 * cors.c - OPTIONS as Swift's controllers answer it: without an Origin
 * header, 200 with Allow; with one, a CORS preflight checked against the
 * container's X-Container-Meta-Access-Control-Allow-Origin (a
 * space-separated list, '*' for any): 401 when the origin or the
 * requested method is not allowed, else 200 with the Access-Control-*
 * headers. No token is needed: browsers send none with a preflight.
 */
#include "proxy/obj_ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALLOWED_METHODS "COPY, DELETE, GET, HEAD, OPTIONS, POST, PUT"

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
    static const char *const methods[] = {"COPY", "DELETE", "GET", "HEAD",
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
    if (!origin || !ci)
        return req_respond(pr->req, 200, "", 0);
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
