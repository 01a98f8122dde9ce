/*
 * acct_ctl.c - the account controller: GET and HEAD (an empty listing
 * for an account not yet created when account_autocreate is on, as
 * Swift), POST of metadata and of the account ACL (stored as sysmeta,
 * shown to owners as X-Account-Access-Control), and PUT/DELETE for
 * reseller admins when allow_account_management is on.
 */
#include "proxy/obj_ctl.h"

#include "common/timestamp.h"
#include "proxy/acl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ACL_SYSMETA "X-Account-Sysmeta-Core-Access-Control"

static int authorize(struct preq *pr)
{
    struct info ai;
    char *aacl = NULL;
    const char *v;
    int rc;

    if (!pr->p->auth)
        return preq_authorize(pr, NULL, NULL);
    info_get(pr, pr->account, NULL, &ai);
    v = hlist_get(&ai.headers, ACL_SYSMETA);
    if (v)
        aacl = strdup(v);
    info_release(&ai);
    rc = preq_authorize(pr, NULL, aacl);
    free(aacl);
    return rc;
}

/* The listing format a client asked for: format=, else Accept. */
static const char *listing_ctype(struct preq *pr)
{
    const char *f = req_param(pr->req, "format");
    const char *accept = req_header(pr->req, "Accept");

    if (f) {
        if (!strcasecmp(f, "json"))
            return "application/json";
        if (!strcasecmp(f, "xml"))
            return "application/xml";
        return "text/plain";
    }
    if (accept && strstr(accept, "application/json"))
        return "application/json";
    if (accept && (strstr(accept, "application/xml") ||
                   strstr(accept, "text/xml")))
        return "application/xml";
    return "text/plain";
}

/* An attribute value as ElementTree writes it; cut to fit 'cap'. */
static void xml_attr_escape(const char *s, char *out, size_t cap)
{
    size_t n = 0;

    for (; *s; s++) {
        const char *rep = *s == '&'   ? "&amp;"
                          : *s == '<' ? "&lt;"
                          : *s == '>' ? "&gt;"
                          : *s == '"' ? "&quot;"
                                      : NULL;
        size_t len = rep ? strlen(rep) : 1;

        if (n + len >= cap)
            break;
        if (rep)
            memcpy(out + n, rep, len);
        else
            out[n] = *s;
        n += len;
    }
    out[n] = '\0';
}

/* Swift's answer for an account that does not exist yet but would be
 * created on first write: no containers. */
static int fake_listing(struct preq *pr)
{
    const char *ctype = listing_ctype(pr);
    char ts[TIMESTAMP_NORMAL_SIZE], full[64], body[2048];
    struct timestamp now;
    size_t len = 0;
    unsigned int status = 200;
    int rc;

    timestamp_now(&now);
    timestamp_normal(&now, ts);
    rc = preq_add_txn_headers(pr);
    if (rc)
        return rc;
    req_add_header(pr->req, "X-Account-Container-Count", "0");
    req_add_header(pr->req, "X-Account-Object-Count", "0");
    req_add_header(pr->req, "X-Account-Bytes-Used", "0");
    req_add_header(pr->req, "X-Timestamp", ts);
    req_add_header(pr->req, "X-Put-Timestamp", ts);
    req_add_header(pr->req, "Vary", "Accept");
    snprintf(full, sizeof(full), "%s; charset=utf-8", ctype);
    req_add_header(pr->req, "Content-Type", full);
    if (!strcmp(ctype, "application/json")) {
        len = (size_t)snprintf(body, sizeof(body), "[]");
    } else if (!strcmp(ctype, "application/xml")) {
        char name[300 * 6 + 1];

        xml_attr_escape(pr->account, name, sizeof(name));
        len = (size_t)snprintf(body, sizeof(body),
                               "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                               "<account name=\"%s\">\n</account>",
                               name);
    } else {
        status = 204;
    }
    if (!strcmp(req_method(pr->req), "HEAD")) {
        status = 200; /* Swift's HEAD of a fake account: 200, not 204 */
        len = 0;
    }
    return req_respond(pr->req, status, body, len);
}

/* Swift's account server counts per storage policy once a container
 * of the policy exists; with one policy the counts are the totals. */
static void policy_headers(struct preq *pr, struct hlist *h)
{
    static const char *const counts[] = {"Container-Count", "Object-Count",
                                         "Bytes-Used", NULL};
    const char *n = hlist_get(h, "X-Account-Container-Count");
    char name[96];

    db_response_headers(pr, h);
    if (!n || !strcmp(n, "0") ||
        hlist_get(h, "X-Account-Storage-Policy-Policy-0-Container-Count"))
        return;
    for (size_t i = 0; counts[i]; i++) {
        const char *v;

        snprintf(name, sizeof(name), "X-Account-%s", counts[i]);
        v = hlist_get(h, name);
        snprintf(name, sizeof(name), "X-Account-Storage-Policy-Policy-0-%s",
                 counts[i]);
        if (v)
            hlist_add(h, name, v);
    }
}

static int read_account(struct preq *pr)
{
    struct hlist h = {0};
    struct nodes n;
    struct bresp last = {.status = -EHOSTUNREACH}, r;
    char *tail = backend_tail(pr->account, NULL, NULL);
    const struct ring_dev *d;
    const char *accept = req_header(pr->req, "Accept");
    int rc;

    rc = authorize(pr);
    if (rc) {
        free(tail);
        return rc < 0 ? rc : 0;
    }
    if (!tail || backend_base_headers(pr, NULL, &h) ||
        (accept && hlist_add(&h, "Accept", accept)) ||
        nodes_init(pr->p, pr->p->account_ring, pr->account, NULL, NULL, &n)) {
        free(tail);
        hlist_release(&h);
        return -ENOMEM;
    }
    while ((d = nodes_next(pr->p, &n))) {
        int st = backend_call(pr, d, n.part, req_method(pr->req), tail,
                              req_raw_query(pr->req), &h, NULL, 0, &r);

        if (backend_failed(pr, d, st)) {
            bresp_release(&r);
            continue;
        }
        bresp_release(&last);
        last = r;
        if (st != 404)
            break;
    }
    nodes_release(&n);
    hlist_release(&h);
    free(tail);
    if (last.status == 404 && pr->p->conf->account_autocreate) {
        rc = fake_listing(pr);
    } else if (last.status > 0) {
        const char *stored = hlist_get(&last.headers, ACL_SYSMETA);
        char *shown = NULL;

        if (stored && pr->owner && !acl_account_format(stored, &shown) &&
            shown)
            hlist_add(&last.headers, "X-Account-Access-Control", shown);
        free(shown);
        if (last.status / 100 == 2)
            policy_headers(pr, &last.headers);
        rc = preq_relay(pr, &last);
    } else {
        rc = preq_error(pr, 503);
    }
    bresp_release(&last);
    return rc;
}

/* Sends the write to every account replica. With 'quiet_404' a quorum of
 * 404s is not answered (the caller creates the account and retries);
 * *status is the quorum's status. */
static int write_all(struct preq *pr, const char *method, struct hlist *h,
                     bool quiet_404, int *status)
{
    struct nodes n;
    struct bresp rs[PROXY_MAX_REPLICAS];
    char *tail = backend_tail(pr->account, NULL, NULL);
    size_t got;
    int best, rc = 0;

    if (!tail || nodes_init(pr->p, pr->p->account_ring, pr->account, NULL,
                            NULL, &n)) {
        free(tail);
        return -ENOMEM;
    }
    got = backend_fanout(pr, &n, method, tail, NULL, h, NULL, NULL, rs);
    info_invalidate(pr->p, pr->account, NULL);
    best = backend_best(rs, got, n.n_prim);
    *status = best < 0 ? 503 : rs[best].status;
    if (!(*status == 404 && quiet_404))
        rc = best < 0 ? preq_error(pr, 503) : preq_relay(pr, &rs[best]);
    for (size_t i = 0; i < got; i++)
        bresp_release(&rs[i]);
    nodes_release(&n);
    free(tail);
    return rc;
}

static int write_account(struct preq *pr, const char *method)
{
    struct hlist h = {0};
    struct constraints_header *ch = NULL;
    struct constraints_error cerr = {0};
    size_t nch = 0;
    const char *acl = req_header(pr->req, "X-Account-Access-Control");
    char ts[32];
    int rc, status = 0;

    if (strcmp(method, "POST") && !pr->p->conf->allow_account_management) {
        preq_add_txn_headers(pr);
        req_add_header(pr->req, "Allow", "HEAD, GET, POST, OPTIONS");
        return req_respond_error(pr->req, 405);
    }
    if (!strcmp(method, "PUT")) {
        rc = constraints_check_name_length(&pr->p->limits,
                                           CONSTRAINTS_ACCOUNT, pr->account,
                                           NULL, &cerr);
        if (rc)
            return rc > 0 ? preq_refuse_html(pr, &cerr) : rc;
    }
    rc = authorize(pr);
    if (rc)
        return rc < 0 ? rc : 0;
    if (strcmp(method, "DELETE")) {
        /* metadata limits, as Swift checks them on account PUT/POST */
        rc = obj_collect_headers(pr, &ch, &nch);
        if (!rc)
            rc = constraints_check_metadata(&pr->p->limits, ch, nch,
                                            CONSTRAINTS_ACCOUNT, &cerr);
        free(ch);
        if (rc)
            return rc > 0 ? preq_refuse(pr, &cerr) : rc;
    }
    preq_new_timestamp(ts);
    rc = backend_base_headers(pr, ts, &h);
    if (!rc && strcmp(method, "DELETE"))
        rc = transfer_headers(pr, "account", NULL, &h);
    if (!rc && acl) {
        /* validated by tempauth; an empty ACL removes it */
        char *stored = NULL;

        if (*acl && acl_account_format(acl, &stored) == 0 && stored)
            rc = hlist_set(&h, ACL_SYSMETA, stored);
        else
            rc = hlist_set(&h, ACL_SYSMETA, "");
        free(stored);
    }
    if (!rc && !strcmp(method, "POST") && pr->p->conf->account_autocreate) {
        /* a POST to an account not made yet makes it, then posts */
        rc = write_all(pr, method, &h, true, &status);
        if (!rc && status == 404) {
            rc = ensure_account(pr, true);
            if (!rc)
                rc = write_all(pr, method, &h, false, &status);
        }
    } else if (!rc) {
        rc = write_all(pr, method, &h, false, &status);
    }
    hlist_release(&h);
    return rc < 0 ? rc : 0;
}

int account_request(struct preq *pr)
{
    const char *m = req_method(pr->req);

    if (!strcmp(m, "GET") || !strcmp(m, "HEAD"))
        return read_account(pr);
    if (!strcmp(m, "PUT") || !strcmp(m, "POST") || !strcmp(m, "DELETE"))
        return write_account(pr, m);
    preq_add_txn_headers(pr);
    req_add_header(pr->req, "Allow", "HEAD, GET, POST, OPTIONS");
    if (!strcmp(m, "OPTIONS"))
        return req_respond(pr->req, 200, "", 0);
    return req_respond_error(pr->req, 405);
}
