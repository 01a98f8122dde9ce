/*
 * proxy.c - kura-proxy's shared state and the first steps of every
 * request: transaction id, healthcheck, /info, the tempauth handler,
 * routing and authentication; then the controllers take over.
 */
#include "proxy/proxy.h"

#include "common/conn_pool.h"
#include "common/http.h"
#include "common/timestamp.h"
#include "proxy/error_limit.h"
#include "proxy/info.h"
#include "proxy/preq.h"
#include "proxy/s3_registry.h"
#include "proxy/s3api.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#define APP "app:proxy-server"

const struct conf_option proxy_options[] = {
    HTTP_SERVER_CONF_OPTIONS(struct proxy_conf, http, 8080),
    LOG_CONF_OPTIONS(struct proxy_conf, log, "proxy-server"),
    CONF_STR("swift_dir", struct proxy_conf, swift_dir, "/etc/swift"),
    CONF_DOUBLE("conn_timeout", struct proxy_conf, conn_timeout, 0.5, 0.001,
                3600),
    CONF_DOUBLE("node_timeout", struct proxy_conf, node_timeout, 10, 0.001,
                3600),
    CONF_DOUBLE("error_suppression_interval", struct proxy_conf,
                error_suppression_interval, 60, 0, 86400),
    CONF_UINT("error_suppression_limit", struct proxy_conf,
              error_suppression_limit, 10, 0, 1000000),
    CONF_UINT("recheck_account_existence", struct proxy_conf,
              recheck_account_existence, 60, 0, 86400),
    CONF_UINT("recheck_container_existence", struct proxy_conf,
              recheck_container_existence, 60, 0, 86400),
    CONF_BOOL("account_autocreate", struct proxy_conf, account_autocreate,
              false),
    CONF_BOOL("allow_account_management", struct proxy_conf,
              allow_account_management, false),
    CONF_STR("request_node_count", struct proxy_conf, request_node_count,
             "2 * replicas"),
    CONF_STR("disallowed_sections", struct proxy_conf, disallowed_sections,
             NULL),
    CONF_END,
};

/* ---- startup ---- */

/* "2 * replicas", "replicas", "auto" or a number, as Swift reads it. */
static int parse_node_count(struct proxy *p, const char *v,
                            char err[CONF_ERR_LEN])
{
    unsigned int mult, add;
    char tail;

    if (!strcmp(v, "auto") || !strcmp(v, "replicas")) {
        p->node_count_mult = 1;
        return 0;
    }
    if (sscanf(v, "%u * replicas%c", &mult, &tail) == 1 ||
        sscanf(v, "%u*replicas%c", &mult, &tail) == 1) {
        p->node_count_mult = mult;
        return 0;
    }
    if (sscanf(v, "%u%c", &add, &tail) == 1) {
        p->node_count_add = add;
        return 0;
    }
    snprintf(err, CONF_ERR_LEN, "Invalid request_node_count value: '%s'", v);
    return -EINVAL;
}

/* The filters Kura builds in. A pipeline naming others is refused: an
 * operator must not believe a filter runs when it does not. */
static const char *const known_filters[] = {
    "catch_errors",
    "gatekeeper",
    "healthcheck",
    "proxy-logging",
    "cache",
    "listing_formats",
    "tempauth",
    "copy",
    "dlo",
    "slo",
    "container_sync",
    "bulk",
    "ratelimit",
    "versioned_writes",
    "symlink",
    "s3api",
    "proxy-server",
    NULL,
};

static int check_pipeline(struct proxy *p, const struct conf *conf,
                          bool *has_tempauth, bool *has_s3api,
                          char err[CONF_ERR_LEN])
{
    const char *pl = conf_get(conf, "pipeline:main", "pipeline", NULL);
    char *copy, *save = NULL, *tok;
    int rc = 0;

    (void)p;
    *has_tempauth = *has_s3api = true;
    if (!pl)
        return 0; /* no pipeline section: the defaults, tempauth on */
    copy = strdup(pl);
    if (!copy)
        return -ENOMEM;
    *has_tempauth = *has_s3api = false;
    for (tok = strtok_r(copy, " \t\n", &save); tok;
         tok = strtok_r(NULL, " \t\n", &save)) {
        size_t i;

        for (i = 0; known_filters[i]; i++)
            if (!strcmp(tok, known_filters[i]))
                break;
        if (!known_filters[i]) {
            snprintf(err, CONF_ERR_LEN,
                     "%s: pipeline names '%s', which kura-proxy does not "
                     "have",
                     conf_path(conf), tok);
            rc = -EINVAL;
            break;
        }
        if (!strcmp(tok, "tempauth"))
            *has_tempauth = true;
        if (!strcmp(tok, "s3api"))
            *has_s3api = true;
    }
    free(copy);
    return rc;
}

struct tempauth_load {
    struct tempauth *ta;
    char *err;
    const char *path;
};

static int tempauth_key(const char *key, const char *value, unsigned int line,
                        void *arg)
{
    struct tempauth_load *tl = arg;
    char why[256];
    int rc = tempauth_set(tl->ta, key, value, why, sizeof(why));

    if (rc == -EINVAL)
        snprintf(tl->err, CONF_ERR_LEN, "%s:%u: %s", tl->path, line, why);
    return rc;
}

static const char *conf_lookup(void *arg, const char *section, const char *key)
{
    return conf_get(arg, section, key, NULL);
}

static int load_swift_conf(struct proxy *p, char err[CONF_ERR_LEN])
{
    char path[4096], herr[HASH_PATH_ERRLEN], cerr[256];
    struct conf *sc = NULL;
    int rc;

    snprintf(path, sizeof(path), "%s/swift.conf", p->conf->swift_dir);
    rc = hash_path_conf_load(&p->hc, path, herr);
    if (rc) {
        snprintf(err, CONF_ERR_LEN, "%.200s: %.300s", path,
                 rc == -EINVAL ? herr : strerror(-rc));
        return rc;
    }
    constraints_default(&p->limits);
    rc = conf_load(path, &sc, err);
    if (rc)
        return rc;
    rc = constraints_load(&p->limits, conf_lookup, sc, cerr, sizeof(cerr));
    if (rc)
        snprintf(err, CONF_ERR_LEN, "%.200s: %.300s", path, cerr);
    conf_free(sc);
    return rc;
}

static int load_rings(struct proxy *p, char err[CONF_ERR_LEN])
{
    struct {
        const char *name;
        struct live_ring **lr;
    } rings[] = {
        {"account", &p->account_ring},
        {"container", &p->container_ring},
        {"object", &p->object_ring},
    };

    for (size_t i = 0; i < 3; i++) {
        char path[4096], rerr[RINGFILE_ERRLEN];
        int rc;

        snprintf(path, sizeof(path), "%s/%s.ring.gz", p->conf->swift_dir,
                 rings[i].name);
        rc = live_ring_new(path, LIVE_RING_DEFAULT_RELOAD_TIME, rings[i].lr,
                           rerr);
        if (rc) {
            snprintf(err, CONF_ERR_LEN, "%.200s: %.300s", path,
                     rc == -EINVAL ? rerr : strerror(-rc));
            return rc;
        }
    }
    return 0;
}

static int make_info(struct proxy *p)
{
    struct info_opts o = {
        .version = "2.30.0",
        .policy_name = "Policy-0",
        .strict_cors_mode = true,
        .allow_account_management = p->conf->allow_account_management,
        .account_autocreate = p->conf->account_autocreate,
        .tempauth = p->auth != NULL,
        .disallowed_sections = p->conf->disallowed_sections,
    };
    json_t *doc;

    if (info_new(&p->limits, &o, &doc))
        return -ENOMEM;
    p->info_json = json_dumps(doc, JSON_PRESERVE_ORDER | JSON_COMPACT);
    json_decref(doc);
    return p->info_json ? 0 : -ENOMEM;
}

int proxy_new(const struct proxy_conf *c, const struct conf *conf,
              struct proxy **out, char err[CONF_ERR_LEN])
{
    struct proxy *p = calloc(1, sizeof(*p));
    struct http_client_conf hcc = {0};
    bool has_tempauth, has_s3api;
    int rc;

    *out = NULL;
    if (!p)
        return -ENOMEM;
    p->conf = c;
    snprintf(err, CONF_ERR_LEN, "out of memory");
    rc = parse_node_count(p, c->request_node_count, err);
    if (!rc)
        rc = check_pipeline(p, conf, &has_tempauth, &has_s3api, err);
    if (!rc)
        rc = load_swift_conf(p, err);
    if (!rc)
        rc = load_rings(p, err);
    if (!rc && has_tempauth) {
        struct tempauth_load tl = {.err = err, .path = conf_path(conf)};

        rc = tempauth_new(&p->auth);
        tl.ta = p->auth;
        if (!rc) {
            rc = conf_foreach(conf, "filter:tempauth", CONF_WITH_DEFAULTS,
                              tempauth_key, &tl);
            if (rc == -ENOENT)
                rc = 0; /* tempauth with no users: everything is 401 */
        }
    }
    hcc.conn_timeout_ms = (unsigned int)(c->conn_timeout * 1000);
    hcc.node_timeout_ms = (unsigned int)(c->node_timeout * 1000);
    if (!rc)
        rc = http_client_new(&hcc, &p->client);
    if (!rc)
        rc = error_limit_new(c->error_suppression_interval,
                             c->error_suppression_limit, &p->errors);
    if (!rc)
        rc = info_cache_new(&p->cache);
    if (!rc)
        rc = make_info(p);
    /* S3 users are tempauth's: without it there is nobody to sign */
    if (!rc && has_s3api && p->auth)
        rc = s3api_new(conf, p->auth, &p->s3, err);
    proxy_handler(p, &p->handler);
    if (rc) {
        proxy_free(p);
        return rc;
    }
    err[0] = '\0';
    *out = p;
    return 0;
}

void proxy_free(struct proxy *p)
{
    if (!p)
        return;
    free(p->info_json);
    s3api_free(p->s3);
    info_cache_free(p->cache);
    error_limit_free(p->errors);
    http_client_free(p->client);
    tempauth_free(p->auth);
    live_ring_free(p->account_ring);
    live_ring_free(p->container_ring);
    live_ring_free(p->object_ring);
    hash_path_conf_release(&p->hc);
    free(p);
}

/* ---- answering ---- */

int preq_add_txn_headers(struct preq *pr)
{
    const char *txn = req_txn(pr->req);

    if (req_add_header(pr->req, "X-Trans-Id", txn) == -ENOMEM ||
        req_add_header(pr->req, "X-Openstack-Request-Id", txn) == -ENOMEM)
        return -ENOMEM;
    return 0;
}

int preq_error(struct preq *pr, unsigned int status)
{
    int rc = preq_add_txn_headers(pr);

    if (rc)
        return rc;
    /* a HEAD's error has no body, and says Content-Length: 0, as Swift */
    if (!strcmp(req_method(pr->req), "HEAD"))
        return req_respond(pr->req, status, "", 0);
    return req_respond_error(pr->req, status);
}

int preq_text(struct preq *pr, unsigned int status, const char *body)
{
    int rc = preq_add_txn_headers(pr);

    if (!rc)
        rc = req_add_header(pr->req, "Content-Type", "text/plain");
    return rc ? rc : req_respond(pr->req, status, body, strlen(body));
}

int preq_html(struct preq *pr, unsigned int status, const char *body)
{
    int rc = preq_add_txn_headers(pr);

    return rc ? rc : req_respond(pr->req, status, body, strlen(body));
}

int preq_refuse(struct preq *pr, struct constraints_error *err)
{
    int rc = preq_text(pr, err->status, err->body ? err->body : "");

    constraints_error_release(err);
    return rc;
}

int preq_refuse_html(struct preq *pr, struct constraints_error *err)
{
    int rc = preq_html(pr, err->status, err->body ? err->body : "");

    constraints_error_release(err);
    return rc;
}

void preq_new_timestamp(char buf[32])
{
    struct timestamp ts;
    char normal[TIMESTAMP_NORMAL_SIZE];

    timestamp_now(&ts);
    snprintf(buf, 32, "%s", timestamp_normal(&ts, normal));
}

int preq_authorize(struct preq *pr, const char *acl, const char *account_acl)
{
    struct tempauth_request tr = {
        .method = req_method(pr->req),
        .path = pr->path,
        .groups = pr->id.groups,
        .acl = acl,
        .referer = req_header(pr->req, "Referer"),
        .account_acl_header = req_header(pr->req, "X-Account-Access-Control"),
        .account_acl = account_acl,
    };
    char *body = NULL;
    int rc;

    if (!pr->p->auth) {
        pr->owner = true;
        return 0;
    }
    rc = tempauth_authorize(pr->p->auth, &pr->id, &tr, &pr->owner, &body);
    if (rc <= 0) {
        free(body);
        return rc;
    }
    if (rc == 401) {
        char realm[600];

        snprintf(realm, sizeof(realm), "Swift realm=\"%s\"",
                 pr->account ? pr->account : "unknown");
        req_add_header(pr->req, "Www-Authenticate", realm);
    }
    rc = body ? preq_text(pr, (unsigned int)rc, body)
              : preq_error(pr, (unsigned int)rc);
    free(body);
    return rc < 0 ? rc : 1;
}

/* ---- the first steps ---- */

static double unix_now(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

static int serve_info(struct preq *pr)
{
    const char *m = req_method(pr->req);
    int rc = preq_add_txn_headers(pr);

    if (rc)
        return rc;
    if (!strcmp(m, "OPTIONS")) {
        req_add_header(pr->req, "Allow", "HEAD, GET, OPTIONS");
        return req_respond(pr->req, 200, "", 0);
    }
    if (strcmp(m, "GET") && strcmp(m, "HEAD")) {
        req_add_header(pr->req, "Allow", "HEAD, GET, OPTIONS");
        return req_respond_error(pr->req, 405);
    }
    /* the HMAC-signed admin /info: no admin_key is ever set here */
    if (req_param(pr->req, "swiftinfo_sig"))
        return req_respond_error(pr->req, 403);
    req_add_header(pr->req, "Content-Type", "application/json; charset=UTF-8");
    return req_respond(pr->req, 200, pr->p->info_json,
                       strlen(pr->p->info_json));
}

static int serve_auth(struct preq *pr)
{
    char host[512];
    const char *h = req_header(pr->req, "Host");
    struct tempauth_login in = {
        .method = req_method(pr->req),
        .path = pr->path,
        .auth_user = req_header(pr->req, "X-Auth-User"),
        .auth_key = req_header(pr->req, "X-Auth-Key"),
        .storage_user = req_header(pr->req, "X-Storage-User"),
        .storage_pass = req_header(pr->req, "X-Storage-Pass"),
        .host_url = host,
    };
    struct tempauth_grant g = {0};
    int rc;

    snprintf(host, sizeof(host), "http://%s", h ? h : "127.0.0.1");
    rc = tempauth_login(pr->p->auth, &in, pr->now, &g);
    if (rc) {
        tempauth_grant_release(&g);
        return rc;
    }
    rc = preq_add_txn_headers(pr);
    if (!rc && g.status == 200) {
        char exp[32];

        snprintf(exp, sizeof(exp), "%lld", (long long)g.expires_in);
        req_add_header(pr->req, "X-Auth-Token", g.token);
        req_add_header(pr->req, "X-Storage-Token", g.token);
        req_add_header(pr->req, "X-Auth-Token-Expires", exp);
        req_add_header(pr->req, "X-Storage-Url", g.storage_url);
        rc = req_respond(pr->req, 200, "", 0);
    } else if (!rc) {
        if (g.status == 401 && g.realm) {
            char realm[600];

            snprintf(realm, sizeof(realm), "Swift realm=\"%s\"", g.realm);
            req_add_header(pr->req, "Www-Authenticate", realm);
        }
        rc = req_respond_error(pr->req, g.status);
    }
    tempauth_grant_release(&g);
    return rc;
}

static char *seg_dup(const struct constraints_seg *s)
{
    return s->s ? strndup(s->s, s->len) : NULL;
}

static int route(struct preq *pr, bool identify)
{
    const char *path = pr->path;
    struct constraints_seg segs[4];
    struct constraints_error cerr = {0};
    const char *token;
    int rc;

    rc = constraints_route_path(&pr->p->limits, path, pr->path_len, &pr->route,
                                segs, &cerr);
    if (rc < 0)
        return rc;
    if (rc > 0 && (!cerr.body || !*cerr.body)) {
        constraints_error_release(&cerr);
        return preq_error(pr, (unsigned int)rc); /* Swift's page */
    }
    if (rc > 0) /* Swift's handle_request() answers these as HTML */
        return preq_refuse_html(pr, &cerr);
    if (pr->route == CONSTRAINTS_ROUTE_INFO)
        return serve_info(pr);
    free(pr->version);
    free(pr->account);
    free(pr->container);
    free(pr->object);
    pr->version = seg_dup(&segs[0]);
    pr->account = seg_dup(&segs[1]);
    pr->container = seg_dup(&segs[2]);
    pr->object = seg_dup(&segs[3]);
    if (!pr->version || !pr->account || (segs[2].s && !pr->container) ||
        (segs[3].s && !pr->object))
        return -ENOMEM;
    if (identify && pr->p->auth) {
        token = req_header(pr->req, "X-Auth-Token");
        if (!token)
            token = req_header(pr->req, "X-Storage-Token");
        rc = tempauth_identify(pr->p->auth, token, path, pr->now, &pr->id);
        if (rc)
            return rc;
        if (pr->id.status) {
            if (pr->id.realm) {
                char realm[600];

                snprintf(realm, sizeof(realm), "Swift realm=\"%s\"",
                         pr->id.realm);
                req_add_header(pr->req, "Www-Authenticate", realm);
            }
            return preq_error(pr, pr->id.status);
        }
        pr->reseller = pr->id.reseller_request;
    }
    switch (pr->route) {
    case CONSTRAINTS_ROUTE_ACCOUNT: return account_request(pr);
    case CONSTRAINTS_ROUTE_CONTAINER: return container_request(pr);
    default: return object_request(pr);
    }
}

int preq_route_identified(struct preq *pr)
{
    pr->path_len = strlen(pr->path);
    return route(pr, false);
}

/* A subrequest runs as the user of the request it serves. */
static int route_subrequest(struct preq *pr, const struct preq *parent)
{
    pr->id.groups = parent->id.groups ? strdup(parent->id.groups) : NULL;
    if (parent->id.groups && !pr->id.groups)
        return -ENOMEM;
    pr->id.authoritative = parent->id.authoritative;
    pr->id.reseller_request = parent->id.reseller_request;
    pr->reseller = parent->reseller;
    return route(pr, false);
}

static int on_headers(struct request *req, void *arg)
{
    struct proxy *p = arg;
    struct preq *pr = calloc(1, sizeof(*pr));
    const struct preq *parent;
    char txn[TXN_ID_LEN + 1];
    const char *raw = req_raw_path(req), *path;

    if (!pr)
        return -ENOMEM;
    pr->path = constraints_unquote(raw, strlen(raw), &pr->path_len);
    path = pr->path;
    if (!path) {
        free(pr);
        return -ENOMEM;
    }
    pr->p = p;
    pr->req = req;
    pr->now = unix_now();
    pr->body_length = req_chunked(req) ? -1 : req_content_length(req);
    pr->body_chunked = req_chunked(req);
    req_set_ctx(req, pr);
    parent = req_origin(req);
    if (parent) {
        req_set_txn(req, req_txn(parent->req));
        return route_subrequest(pr, parent);
    }
    txn_id_new(txn);
    {
        /* Swift appends a client's X-Trans-Id-Extra, quoted, at most 32
         * characters of it */
        const char *extra = req_header(req, "X-Trans-Id-Extra");
        char full[TXN_ID_LEN * 2 + 1], cut[33], *q;

        if (extra && *extra) {
            snprintf(cut, sizeof(cut), "%s", extra);
            q = http_quote(cut);
            snprintf(full, sizeof(full), "%s-%s", txn, q ? q : "");
            free(q);
            req_set_txn(req, full);
        } else {
            req_set_txn(req, txn);
        }
    }
    if (!strcmp(path, "/healthcheck")) {
        int rc = preq_add_txn_headers(pr);

        if (!rc)
            rc = req_add_header(req, "Content-Type", "text/plain");
        return rc ? rc : req_respond(req, 200, "OK", 2);
    }
    if (p->auth && tempauth_is_auth_path(p->auth, path))
        return serve_auth(pr);
    if (p->s3 &&
        (s3api_claims(p->s3, req) || s3_registry_claims(pr, path)))
        return s3api_respond(pr, s3api_on_headers(pr));
    return route(pr, true);
}

static int on_body(struct request *req, const char *data, size_t len, void *arg)
{
    struct preq *pr = req_ctx(req);

    (void)arg;
    if (pr && pr->s3)
        return s3api_respond(pr, s3api_on_body(pr, data, len));
    if (pr && pr->put)
        return object_put_body(pr, data, len);
    return 0;
}

static int on_end(struct request *req, void *arg)
{
    struct preq *pr = req_ctx(req);

    (void)arg;
    if (pr && pr->s3)
        return s3api_respond(pr, s3api_on_end(pr));
    if (pr && pr->put && !req_status(req))
        return object_put_end(pr);
    return 0;
}

static void on_done(struct request *req, bool ok, void *arg)
{
    struct preq *pr = req_ctx(req);

    (void)ok;
    (void)arg;
    if (!pr)
        return;
    object_put_free(pr->put);
    s3req_free(pr->s3);
    tempauth_identity_release(&pr->id);
    free(pr->path);
    free(pr->version);
    free(pr->account);
    free(pr->container);
    free(pr->object);
    free(pr->listing_query);
    free(pr->cors_origin);
    free(pr->cors_expose);
    free(pr);
}

void proxy_handler(struct proxy *p, struct http_handler *out)
{
    memset(out, 0, sizeof(*out));
    out->on_headers = on_headers;
    out->on_body = on_body;
    out->on_end = on_end;
    out->on_done = on_done;
    out->arg = p;
}
