/*
 * httpload.c - kura-httpload, a closed-loop HTTP/1.1 load generator for the
 * Swift API benchmarks (bench/swift_api.py). A fixed number of keep-alive
 * connections each keep exactly one request in flight; a new request starts
 * as soon as the previous response ends, until a duration or a request count
 * is used up. It prints one machine-readable line:
 *
 *   RESULT tool=httpload label=<l> method=<M> concurrency=<c> requests=<n>
 *          ok=<2xx> errors=<n> elapsed_s=<s> ops_per_s=<ok/s> p50_ms=<ms>
 *          p90_ms=<ms> p99_ms=<ms> max_ms=<ms> mean_ms=<ms> MB_per_s=<MB/s>
 *          status_<code>=<n>... conn_errors=<n> timeouts=<n>
 *
 * ops_per_s and the latencies count 2xx answers only; MB_per_s is request
 * plus response body bytes (10^6 bytes) per second of the whole run.
 *
 * It owns its sockets and its response parsing (libhttp-parser) rather than
 * using common/http_client: a load generator sharing two cores with the
 * servers it measures has to cost little per request. Each thread runs one
 * epoll loop over its share of the connections, edge-triggered, so a request
 * costs about one writev, one read and one epoll_wait wakeup.
 *
 * Names: every "{n}" in the URL's path becomes a request number ("{N}": in
 * ten digits, zero-padded), distinct
 * per request (a shared atomic counter from -s START), or wrapping over
 * 0..RANGE-1 with -r RANGE. PUTs to ".../obj-{n}" therefore create distinct
 * objects; GETs with -r N read back the N objects a PUT run made.
 * Request bodies (-b) repeat one random buffer of at most 1 MiB, so a 1 GiB
 * upload needs no 1 GiB of memory; response bodies are counted, not kept.
 *
 * S3 (-S ACCESS:SECRET, -R REGION): every request carries an AWS Signature
 * V4 Authorization header, computed per request (the path changes with
 * {n}) with the body unsigned (x-amz-content-sha256: UNSIGNED-PAYLOAD).
 * Signed are host, x-amz-content-sha256, x-amz-date and any -H header named
 * x-amz-*; the canonical URI is the path as sent, the canonical query its
 * parameters decoded (as Python's unquote_plus) and re-encoded per AWS,
 * sorted. The signing key is derived once a day per thread (OpenSSL's
 * libcrypto), so a request costs the SHA-256 of its canonical request and
 * one HMAC-SHA256 (about 2 us here).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <http_parser.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define BODY_BUF_MAX (1u << 20)
#define READ_BUF_SIZE (256u << 10)
#define REQ_HDR_MAX 16384
#define MAX_STATUS 600
#define MAX_EVENTS 256
#define ERR_BODY_MAX 300
#define SIG_HDRS_MAX 32 /* signed headers: ours and the -H x-amz-* ones */

enum conn_state {
    CONN_IDLE,       /* no request: not connected, or finished */
    CONN_CONNECTING, /* non-blocking connect() in progress */
    CONN_SENDING,    /* request head or body partly written */
    CONN_READING,    /* request sent, waiting for the whole response */
};

/* Read-only after option parsing; shared by every thread. */
struct config {
    const char *method;
    const char *label;
    char host[256];
    char port[16];
    char host_hdr[300];
    char *path;       /* with the "{n}" placeholders */
    char *extra_hdrs; /* "Name: value\r\n"... */
    int has_content_type;
    unsigned concurrency;
    unsigned threads;
    double duration_s; /* 0: until -n requests */
    uint64_t count;    /* 0: until the duration ends */
    uint64_t range;    /* 0: {n} counts up without wrapping */
    uint64_t start;
    uint64_t body_size;
    double timeout_s;
    int is_head;
    int verbose;
    struct addrinfo *addr;
    unsigned char *body_buf;
    size_t body_buf_len;
    /* -S: SigV4; the signed headers but x-amz-date, names lowercased */
    char *s3_access, *s3_secret;
    const char *s3_region;
    char *s3_hdr_name[SIG_HDRS_MAX], *s3_hdr_value[SIG_HDRS_MAX];
    unsigned s3_n_hdrs;
    char *s3_signed_names; /* "host;x-amz-content-sha256;x-amz-date..." */
};

/* A thread's signing key, derived for one day's date, as two SHA-256
 * states that have taken the HMAC's inner and outer pads: a signature is
 * then two copies and two short hashes, with no OpenSSL look-ups. */
struct sigv4_key {
    char date[9]; /* YYYYMMDD; "" until the first request */
    EVP_MD_CTX *inner, *outer, *tmp;
};

struct stats {
    uint64_t status[MAX_STATUS];
    uint64_t conn_errors;
    uint64_t timeouts;
    uint64_t bytes_sent; /* request bodies */
    uint64_t bytes_recv; /* response bodies */
    uint32_t *lat_us;    /* 2xx latencies */
    size_t n_lat, cap_lat;
};

struct worker;

struct conn {
    struct worker *w;
    int fd;
    enum conn_state state;
    char hdr[REQ_HDR_MAX];
    size_t hdr_len, hdr_off;
    uint64_t body_off;
    double t_start;
    http_parser parser;
    int done;      /* the parser saw the end of the response */
    int keep;      /* the response allows another request */
    int err_shown; /* verbose: this response's body is being printed */
    int reused;    /* sent on a connection that had served a request */
    int retried;   /* this request was sent again on a new connection */
    int got_bytes; /* some of the response has arrived */
};

struct worker {
    pthread_t tid;
    int epfd;
    struct conn *conns;
    unsigned n_conns;
    unsigned n_active;
    struct stats st;
    char *rbuf;
    struct sigv4_key sigkey;
};

static struct config cfg;
static atomic_uint_fast64_t next_req;
static atomic_int err_printed;
static double t_begin, t_deadline;
static http_parser_settings parser_settings;

static double now_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int stats_add_latency(struct stats *st, double seconds)
{
    uint32_t *n;
    double us = seconds * 1e6;

    if (st->n_lat == st->cap_lat) {
        size_t cap = st->cap_lat ? st->cap_lat * 2 : 65536;

        n = realloc(st->lat_us, cap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        st->lat_us = n;
        st->cap_lat = cap;
    }
    st->lat_us[st->n_lat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    return 0;
}

/* --- response parsing ---------------------------------------------------- */

static int on_headers_complete(http_parser *p)
{
    struct conn *c = p->data;

    if (cfg.verbose && (p->status_code < 200 || p->status_code >= 300) &&
        atomic_fetch_add(&err_printed, 1) < 3) {
        fprintf(stderr, "httpload: %s answered %u\n", cfg.method,
                p->status_code);
        c->err_shown = 1;
    }
    return cfg.is_head ? 1 : 0; /* 1: a HEAD answer has no body */
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    struct conn *c = p->data;

    c->w->st.bytes_recv += len;
    if (c->err_shown)
        fprintf(stderr, "%.*s", (int)(len < ERR_BODY_MAX ? len : ERR_BODY_MAX),
                at);
    return 0;
}

static int on_message_complete(http_parser *p)
{
    struct conn *c = p->data;

    c->done = 1;
    c->keep = http_should_keep_alive(p);
    if (c->err_shown)
        fputc('\n', stderr);
    c->err_shown = 0;
    /* Pause: whatever follows belongs to no request of ours. */
    http_parser_pause(p, 1);
    return 0;
}

/* --- S3 signatures (-S) ------------------------------------------------- */

static void hex_encode(char *dst, const unsigned char *src, size_t n)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        dst[2 * i] = digits[src[i] >> 4];
        dst[2 * i + 1] = digits[src[i] & 15];
    }
    dst[2 * n] = '\0';
}

static EVP_MD *sha256_md; /* fetched once, before the threads start */

static void hmac_sha256(const void *key, size_t klen, const void *msg,
                        size_t mlen, unsigned char out[32])
{
    unsigned int len = 32;

    HMAC(sha256_md, key, (int)klen, msg, mlen, out, &len);
}

static void sha256(EVP_MD_CTX *ctx, const void *msg, size_t len,
                   unsigned char out[32])
{
    if (!EVP_DigestInit_ex(ctx, sha256_md, NULL) ||
        !EVP_DigestUpdate(ctx, msg, len) ||
        !EVP_DigestFinal_ex(ctx, out, NULL)) {
        fprintf(stderr, "httpload: SHA-256 failed\n");
        exit(2);
    }
}

/* The HMAC of msg under the cached key: H(key^opad, H(key^ipad, msg)). */
static void sigv4_hmac(struct sigv4_key *sk, const void *msg, size_t len,
                       unsigned char out[32])
{
    unsigned char ih[32];

    if (!EVP_MD_CTX_copy_ex(sk->tmp, sk->inner) ||
        !EVP_DigestUpdate(sk->tmp, msg, len) ||
        !EVP_DigestFinal_ex(sk->tmp, ih, NULL) ||
        !EVP_MD_CTX_copy_ex(sk->tmp, sk->outer) ||
        !EVP_DigestUpdate(sk->tmp, ih, 32) ||
        !EVP_DigestFinal_ex(sk->tmp, out, NULL)) {
        fprintf(stderr, "httpload: HMAC failed\n");
        exit(2);
    }
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), "s3"),
 * "aws4_request"), kept until the date changes. */
static void sigv4_derive(struct sigv4_key *sk, const char *date)
{
    char k0[512];
    unsigned char a[32], b[32], ipad[64], opad[64];

    if (strcmp(sk->date, date) == 0)
        return;
    if (!sk->tmp &&
        (!(sk->inner = EVP_MD_CTX_new()) || !(sk->outer = EVP_MD_CTX_new()) ||
         !(sk->tmp = EVP_MD_CTX_new()))) {
        fprintf(stderr, "httpload: out of memory\n");
        exit(2);
    }
    snprintf(k0, sizeof(k0), "AWS4%s", cfg.s3_secret);
    hmac_sha256(k0, strlen(k0), date, 8, a);
    hmac_sha256(a, 32, cfg.s3_region, strlen(cfg.s3_region), b);
    hmac_sha256(b, 32, "s3", 2, a);
    hmac_sha256(a, 32, "aws4_request", 12, b);
    memset(ipad, 0x36, sizeof(ipad));
    memset(opad, 0x5c, sizeof(opad));
    for (int i = 0; i < 32; i++) {
        ipad[i] ^= b[i];
        opad[i] ^= b[i];
    }
    if (!EVP_DigestInit_ex(sk->inner, sha256_md, NULL) ||
        !EVP_DigestUpdate(sk->inner, ipad, sizeof(ipad)) ||
        !EVP_DigestInit_ex(sk->outer, sha256_md, NULL) ||
        !EVP_DigestUpdate(sk->outer, opad, sizeof(opad))) {
        fprintf(stderr, "httpload: SHA-256 failed\n");
        exit(2);
    }
    memcpy(sk->date, date, 9);
}

static int unhex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Appends s[0..n) decoded (%XX, '+' a space) and re-encoded as AWS does:
 * only A-Za-z0-9-_.~ bare, %XX in capitals. Returns the new length, or -1
 * when it does not fit. */
static int put_aws_encoded(char *dst, size_t cap, size_t len, const char *s,
                           size_t n)
{
    static const char digits[] = "0123456789ABCDEF";

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '%' && i + 2 < n && unhex(s[i + 1]) >= 0 &&
            unhex(s[i + 2]) >= 0) {
            c = (unsigned char)(unhex(s[i + 1]) << 4 | unhex(s[i + 2]));
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (len + 4 > cap)
            return -1;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
            c == '~') {
            dst[len++] = (char)c;
        } else {
            dst[len++] = '%';
            dst[len++] = digits[c >> 4];
            dst[len++] = digits[c & 15];
        }
    }
    dst[len] = '\0';
    return (int)len;
}

struct qparam {
    char *name, *value; /* both encoded, in one buffer */
};

static int qparam_cmp(const void *a, const void *b)
{
    const struct qparam *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    return c ? c : strcmp(x->value, y->value);
}

/* The canonical query of 'q' (without the '?') into dst. Returns its
 * length, or -1 when it does not fit. */
static int canonical_query(const char *q, char *dst, size_t cap)
{
    struct qparam ps[64];
    char buf[4096];
    size_t n = 0, used = 0, len = 0;

    dst[0] = '\0';
    while (*q) {
        const char *amp = strchr(q, '&'), *eq;
        size_t plen = amp ? (size_t)(amp - q) : strlen(q);
        int k;

        if (plen) {
            if (n == sizeof(ps) / sizeof(ps[0]))
                return -1;
            eq = memchr(q, '=', plen);
            k = put_aws_encoded(buf, sizeof(buf), used, q,
                                eq ? (size_t)(eq - q) : plen);
            if (k < 0)
                return -1;
            ps[n].name = buf + used;
            used = (size_t)k + 1;
            k = put_aws_encoded(buf, sizeof(buf), used, eq ? eq + 1 : "",
                                eq ? plen - (size_t)(eq + 1 - q) : 0);
            if (k < 0)
                return -1;
            ps[n++].value = buf + used;
            used = (size_t)k + 1;
        }
        q += plen + (amp != NULL);
    }
    qsort(ps, n, sizeof(ps[0]), qparam_cmp);
    for (size_t i = 0; i < n; i++) {
        int k = snprintf(dst + len, cap - len, "%s%s=%s", i ? "&" : "",
                         ps[i].name, ps[i].value);

        if (k < 0 || len + (size_t)k >= cap)
            return -1;
        len += (size_t)k;
    }
    return (int)len;
}

/* Writes "x-amz-date: ...\r\nx-amz-content-sha256: ...\r\nAuthorization:
 * AWS4-HMAC-SHA256 ...\r\n" for a request of cfg.method to 'target' (path
 * and query as sent) into dst. Returns the length, or -1 when something
 * does not fit. */
static int sigv4_headers(struct sigv4_key *sk, const char *target, char *dst,
                         size_t cap)
{
    char amz_date[17], scope[128], cr[8192], sts[512], query[4096];
    char cr_hex[65], sig_hex[65], date[9];
    unsigned char digest[32];
    const char *qmark = strchr(target, '?');
    size_t plen = qmark ? (size_t)(qmark - target) : strlen(target);
    time_t now = time(NULL);
    struct tm tm;
    int k;

    gmtime_r(&now, &tm);
    strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", &tm);
    if (canonical_query(qmark ? qmark + 1 : "", query, sizeof(query)) < 0)
        return -1;
    k = snprintf(cr, sizeof(cr), "%s\n%.*s\n%s\n", cfg.method, (int)plen,
                 target, query);
    for (unsigned i = 0; i < cfg.s3_n_hdrs && k > 0; i++) {
        const char *v = cfg.s3_hdr_value[i] ? cfg.s3_hdr_value[i] : amz_date;

        if ((size_t)k < sizeof(cr))
            k += snprintf(cr + k, sizeof(cr) - (size_t)k, "%s:%s\n",
                          cfg.s3_hdr_name[i], v);
    }
    if (k > 0 && (size_t)k < sizeof(cr))
        k += snprintf(cr + k, sizeof(cr) - (size_t)k, "\n%s\nUNSIGNED-PAYLOAD",
                      cfg.s3_signed_names);
    if (k < 0 || (size_t)k >= sizeof(cr))
        return -1;
    memcpy(date, amz_date, 8);
    date[8] = '\0';
    sigv4_derive(sk, date);
    sha256(sk->tmp, cr, (size_t)k, digest);
    hex_encode(cr_hex, digest, 32);

    snprintf(scope, sizeof(scope), "%.8s/%s/s3/aws4_request", amz_date,
             cfg.s3_region);
    k = snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256\n%s\n%s\n%s", amz_date,
                 scope, cr_hex);
    if (k < 0 || (size_t)k >= sizeof(sts))
        return -1;
    sigv4_hmac(sk, sts, (size_t)k, digest);
    hex_encode(sig_hex, digest, 32);

    k = snprintf(dst, cap,
                 "x-amz-date: %s\r\nx-amz-content-sha256: UNSIGNED-PAYLOAD\r\n"
                 "Authorization: AWS4-HMAC-SHA256 Credential=%s/%s, "
                 "SignedHeaders=%s, Signature=%s\r\n",
                 amz_date, cfg.s3_access, scope, cfg.s3_signed_names, sig_hex);
    return k < 0 || (size_t)k >= cap ? -1 : k;
}

/* --- requests ------------------------------------------------------------ */

/* Writes the path with every "{n}" replaced by 'n' ("{N}": 'n' in ten
 * digits, zero-padded, so names sort as numbers) into dst. Returns the
 * length, or -1 if it does not fit. */
static int expand_path(char *dst, size_t cap, uint64_t n)
{
    const char *s = cfg.path;
    size_t len = 0;

    while (*s) {
        int k;

        if (strncmp(s, "{n}", 3) == 0 || strncmp(s, "{N}", 3) == 0) {
            k = snprintf(dst + len, cap - len, s[1] == 'N' ? "%010llu" : "%llu",
                         (unsigned long long)n);
            s += 3;
        } else {
            k = 1;
            if (len + 1 < cap)
                dst[len] = *s;
            s++;
        }
        if (k < 0 || len + (size_t)k >= cap)
            return -1;
        len += (size_t)k;
    }
    dst[len] = '\0';
    return (int)len;
}

static int build_request(struct conn *c, uint64_t i)
{
    uint64_t n = cfg.range ? cfg.start + i % cfg.range : cfg.start + i;
    char path[4096];
    int k;

    if (expand_path(path, sizeof(path), n) < 0)
        return -ENAMETOOLONG;
    k = snprintf(c->hdr, sizeof(c->hdr),
                 "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: kura-httpload\r\n"
                 "%s",
                 cfg.method, path, cfg.host_hdr, cfg.extra_hdrs);
    if (k > 0 && (size_t)k < sizeof(c->hdr) && cfg.s3_access) {
        int a = sigv4_headers(&c->w->sigkey, path, c->hdr + k,
                              sizeof(c->hdr) - (size_t)k);

        k = a < 0 ? -1 : k + a;
    }
    if (k > 0 && (size_t)k < sizeof(c->hdr) && cfg.body_size) {
        k += snprintf(c->hdr + k, sizeof(c->hdr) - (size_t)k,
                      "Content-Length: %llu\r\n%s",
                      (unsigned long long)cfg.body_size,
                      cfg.has_content_type
                          ? ""
                          : "Content-Type: application/octet-stream\r\n");
    }
    if (k > 0 && (size_t)k < sizeof(c->hdr))
        k += snprintf(c->hdr + k, sizeof(c->hdr) - (size_t)k, "\r\n");
    if (k < 0 || (size_t)k >= sizeof(c->hdr))
        return -E2BIG;
    c->hdr_len = (size_t)k;
    return 0;
}

/* Claims the next request number; -1 once the run is over. */
static int64_t claim_request(void)
{
    uint64_t i;

    if (cfg.duration_s > 0 && now_s() >= t_deadline)
        return -1;
    i = atomic_fetch_add(&next_req, 1);
    if (cfg.count && i >= cfg.count)
        return -1;
    return (int64_t)i;
}

static void conn_close(struct conn *c)
{
    if (c->fd != -1) {
        close(c->fd);
        c->fd = -1;
    }
}

static void conn_retire(struct conn *c)
{
    conn_close(c);
    if (c->state != CONN_IDLE)
        c->w->n_active--;
    c->state = CONN_IDLE;
}

static int conn_connect(struct conn *c)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET,
                             .data.ptr = c};
    int one = 1;
    int fd;

    fd = socket(cfg.addr->ai_family,
                cfg.addr->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                cfg.addr->ai_protocol);
    if (fd == -1)
        return -errno;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, cfg.addr->ai_addr, cfg.addr->ai_addrlen) == -1 &&
        errno != EINPROGRESS) {
        int err = -errno;

        close(fd);
        return err;
    }
    if (epoll_ctl(c->w->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
        int err = -errno;

        close(fd);
        return err;
    }
    c->fd = fd;
    return 0;
}

static void conn_send(struct conn *c);

/* (Re)sends the request in c->hdr: on the open connection, else on a new
 * one. */
static void conn_begin(struct conn *c)
{
    int err;

    http_parser_init(&c->parser, HTTP_RESPONSE);
    c->parser.data = c;
    c->done = 0;
    c->err_shown = 0;
    c->got_bytes = 0;
    c->hdr_off = 0;
    c->body_off = 0;
    c->reused = c->fd != -1;
    if (c->fd == -1) {
        err = conn_connect(c);
        if (err) {
            c->w->st.conn_errors++;
            if (cfg.verbose)
                fprintf(stderr, "httpload: connect: %s\n", strerror(-err));
            conn_retire(c);
            return;
        }
        c->state = CONN_CONNECTING;
        return; /* EPOLLOUT says when the connection is up */
    }
    c->state = CONN_SENDING;
    conn_send(c);
}

/* Starts the connection's next request, or retires it if the run is over.
 * A connection is reused unless the last answer said otherwise. */
static void conn_next(struct conn *c)
{
    int64_t i = claim_request();

    if (i < 0) {
        conn_retire(c);
        return;
    }
    if (build_request(c, (uint64_t)i)) {
        fprintf(stderr, "httpload: request too long\n");
        exit(2);
    }
    c->retried = 0;
    c->t_start = now_s();
    conn_begin(c);
}

/* A server may close a kept-alive connection just as a request goes out
 * (an idle timeout): as HTTP clients do, that request is sent once more on
 * a new connection, unless some of an answer had arrived. Anything else
 * counts as an error, and the connection moves on to the next request. */
static void conn_fail(struct conn *c, int is_timeout)
{
    conn_close(c);
    if (!is_timeout && c->reused && !c->got_bytes && !c->retried) {
        c->retried = 1;
        conn_begin(c);
        return;
    }
    if (is_timeout)
        c->w->st.timeouts++;
    else
        c->w->st.conn_errors++;
    conn_next(c);
}

static void conn_finish(struct conn *c)
{
    struct stats *st = &c->w->st;
    unsigned code = c->parser.status_code;
    int reuse = c->keep && c->state == CONN_READING;

    st->status[code < MAX_STATUS ? code : 0]++;
    if (code >= 200 && code < 300 &&
        stats_add_latency(st, now_s() - c->t_start)) {
        fprintf(stderr, "httpload: out of memory\n");
        exit(2);
    }
    /* An answer before the whole body went out (a 401 to a PUT) leaves the
     * connection mid-request: start afresh. */
    if (!reuse)
        conn_close(c);
    conn_next(c);
}

static void conn_send(struct conn *c)
{
    for (;;) {
        struct iovec iov[2];
        int n = 0;
        ssize_t k;

        if (c->hdr_off < c->hdr_len) {
            iov[n].iov_base = c->hdr + c->hdr_off;
            iov[n++].iov_len = c->hdr_len - c->hdr_off;
        }
        if (c->body_off < cfg.body_size) {
            size_t at = (size_t)(c->body_off % cfg.body_buf_len);
            uint64_t left = cfg.body_size - c->body_off;
            size_t len = cfg.body_buf_len - at;

            iov[n].iov_base = cfg.body_buf + at;
            iov[n++].iov_len = left < len ? (size_t)left : len;
        }
        if (n == 0) {
            c->state = CONN_READING;
            return;
        }
        k = writev(c->fd, iov, n);
        if (k == -1) {
            if (errno == EAGAIN || errno == EINTR)
                return; /* EPOLLOUT resumes */
            conn_fail(c, 0);
            return;
        }
        if (c->hdr_off < c->hdr_len) {
            size_t h = c->hdr_len - c->hdr_off;

            if ((size_t)k < h) {
                c->hdr_off += (size_t)k;
                continue;
            }
            c->hdr_off = c->hdr_len;
            k -= (ssize_t)h;
        }
        c->body_off += (uint64_t)k;
        c->w->st.bytes_sent += (uint64_t)k;
    }
}

/* Reads and parses until the socket is drained or the response ends. */
static void conn_recv(struct conn *c)
{
    char *buf = c->w->rbuf;

    for (;;) {
        ssize_t k = read(c->fd, buf, READ_BUF_SIZE);
        size_t used;

        if (k == -1) {
            if (errno == EAGAIN || errno == EINTR)
                return;
            conn_fail(c, 0);
            return;
        }
        if (k == 0) {
            /* EOF: ends a response without a length, else it is an error */
            http_parser_execute(&c->parser, &parser_settings, NULL, 0);
            if (c->done) {
                c->keep = 0;
                conn_finish(c);
            } else {
                conn_fail(c, 0);
            }
            return;
        }
        c->got_bytes = 1;
        used =
            http_parser_execute(&c->parser, &parser_settings, buf, (size_t)k);
        if (c->done) {
            if (used != (size_t)k)
                c->keep = 0; /* bytes past the response: do not trust it */
            conn_finish(c);
            return;
        }
        if (HTTP_PARSER_ERRNO(&c->parser) != HPE_OK) {
            if (cfg.verbose)
                fprintf(stderr, "httpload: bad response: %s\n",
                        http_errno_description(HTTP_PARSER_ERRNO(&c->parser)));
            conn_fail(c, 0);
            return;
        }
    }
}

static void conn_event(struct conn *c, uint32_t events)
{
    if (c->state == CONN_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof(err);

        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            return;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            if (cfg.verbose)
                fprintf(stderr, "httpload: connect: %s\n", strerror(err));
            c->w->st.conn_errors++;
            conn_retire(c); /* a refused connection would spin: stop it */
            return;
        }
        c->state = CONN_SENDING;
    }
    if (c->state == CONN_SENDING)
        conn_send(c);
    /* Read in any state: a server may answer before the body is sent. */
    if ((c->state == CONN_SENDING || c->state == CONN_READING) &&
        (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
        conn_recv(c);
}

static void check_timeouts(struct worker *w, double now)
{
    for (unsigned i = 0; i < w->n_conns; i++) {
        struct conn *c = &w->conns[i];

        if (c->state != CONN_IDLE && now - c->t_start > cfg.timeout_s) {
            if (cfg.verbose)
                fprintf(stderr, "httpload: request timed out\n");
            conn_fail(c, 1);
        }
    }
}

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    struct epoll_event evs[MAX_EVENTS];
    double last_check = now_s();

    for (unsigned i = 0; i < w->n_conns; i++) {
        w->conns[i].state = CONN_CONNECTING; /* counted active */
        w->n_active++;
        conn_next(&w->conns[i]);
    }
    while (w->n_active > 0) {
        int n = epoll_wait(w->epfd, evs, MAX_EVENTS, 100);
        double now;

        if (n == -1 && errno != EINTR) {
            perror("httpload: epoll_wait");
            exit(2);
        }
        for (int i = 0; i < n; i++)
            conn_event(evs[i].data.ptr, evs[i].events);
        now = now_s();
        if (now - last_check >= 0.1) {
            check_timeouts(w, now);
            last_check = now;
        }
    }
    return NULL;
}

/* --- set-up and report --------------------------------------------------- */

static int parse_size(const char *s, uint64_t *out)
{
    static const char units[] = "kmg"; /* KiB, MiB, GiB */
    const char *u;
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -EINVAL;
    if (*end && (u = strchr(units, *end | 0x20)) != NULL) {
        v <<= 10 * (u - units + 1);
        end++;
    }
    if (*end)
        return -EINVAL;
    *out = v;
    return 0;
}

static int parse_url(const char *url)
{
    const char *hp, *slash, *colon;
    size_t hlen;

    if (strncmp(url, "http://", 7) != 0)
        return -EINVAL;
    hp = url + 7;
    slash = strchr(hp, '/');
    if (!slash)
        slash = hp + strlen(hp);
    colon = memchr(hp, ':', (size_t)(slash - hp));
    hlen = (size_t)((colon ? colon : slash) - hp);
    if (hlen == 0 || hlen >= sizeof(cfg.host))
        return -EINVAL;
    memcpy(cfg.host, hp, hlen);
    cfg.host[hlen] = '\0';
    if (colon) {
        size_t plen = (size_t)(slash - colon - 1);

        if (plen == 0 || plen >= sizeof(cfg.port))
            return -EINVAL;
        memcpy(cfg.port, colon + 1, plen);
        cfg.port[plen] = '\0';
    } else {
        strcpy(cfg.port, "80");
    }
    snprintf(cfg.host_hdr, sizeof(cfg.host_hdr), "%.*s", (int)(slash - hp), hp);
    cfg.path = strdup(*slash ? slash : "/");
    return cfg.path ? 0 : -ENOMEM;
}

static int add_header(const char *h)
{
    size_t old = cfg.extra_hdrs ? strlen(cfg.extra_hdrs) : 0;
    size_t len = strlen(h);
    char *n;

    if (!strchr(h, ':') || strpbrk(h, "\r\n"))
        return -EINVAL;
    n = realloc(cfg.extra_hdrs, old + len + 3);
    if (!n)
        return -ENOMEM;
    memcpy(n + old, h, len);
    memcpy(n + old + len, "\r\n", 3);
    cfg.extra_hdrs = n;
    if (strncasecmp(h, "content-type:", 13) == 0)
        cfg.has_content_type = 1;
    return 0;
}

static int cmp_hdr_index(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

    return strcmp(cfg.s3_hdr_name[x], cfg.s3_hdr_name[y]);
}

static int s3_add_signed(const char *name, size_t nlen, const char *value)
{
    char *n, *v = NULL;

    if (cfg.s3_n_hdrs == SIG_HDRS_MAX)
        return -E2BIG;
    n = strndup(name, nlen);
    if (!n || (value && !(v = strdup(value)))) {
        free(n);
        return -ENOMEM;
    }
    for (char *p = n; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p | 0x20 : *p);
    cfg.s3_hdr_name[cfg.s3_n_hdrs] = n;
    cfg.s3_hdr_value[cfg.s3_n_hdrs++] = v; /* NULL: x-amz-date */
    return 0;
}

/* -S: the headers to sign, sorted: host, x-amz-content-sha256, x-amz-date
 * and every -H x-amz-* header (its value trimmed, blanks collapsed). */
static int s3_setup(void)
{
    const char *h = cfg.extra_hdrs;
    unsigned idx[SIG_HDRS_MAX];
    char *names[SIG_HDRS_MAX], *values[SIG_HDRS_MAX];
    size_t len = 0;
    int err;

    if ((err = s3_add_signed("host", 4, cfg.host_hdr)) ||
        (err = s3_add_signed("x-amz-content-sha256", 20, "UNSIGNED-PAYLOAD")) ||
        (err = s3_add_signed("x-amz-date", 10, NULL)))
        return err;
    while (*h) {
        const char *colon = strchr(h, ':'), *end = strstr(h, "\r\n");
        size_t nlen = (size_t)(colon - h);
        char v[1024];
        size_t vlen = 0;

        if (strncasecmp(h, "authorization:", 14) == 0 ||
            strncasecmp(h, "x-amz-date:", 11) == 0 ||
            strncasecmp(h, "x-amz-content-sha256:", 21) == 0) {
            fprintf(stderr, "httpload: -S makes the %.*s header itself\n",
                    (int)nlen, h);
            return -EINVAL;
        }
        if (strncasecmp(h, "x-amz-", 6) == 0) {
            for (const char *p = colon + 1; p < end; p++) {
                if ((*p == ' ' || *p == '\t') &&
                    (vlen == 0 || v[vlen - 1] == ' '))
                    continue;
                if (vlen + 1 >= sizeof(v))
                    return -E2BIG;
                v[vlen++] = *p == '\t' ? ' ' : *p;
            }
            while (vlen && v[vlen - 1] == ' ')
                vlen--;
            v[vlen] = '\0';
            if ((err = s3_add_signed(h, nlen, v)))
                return err;
        }
        h = end + 2;
    }
    for (unsigned i = 0; i < cfg.s3_n_hdrs; i++)
        idx[i] = i;
    qsort(idx, cfg.s3_n_hdrs, sizeof(idx[0]), cmp_hdr_index);
    for (unsigned i = 0; i < cfg.s3_n_hdrs; i++) {
        names[i] = cfg.s3_hdr_name[idx[i]];
        values[i] = cfg.s3_hdr_value[idx[i]];
        len += strlen(names[i]) + 1;
    }
    cfg.s3_signed_names = malloc(len);
    if (!cfg.s3_signed_names)
        return -ENOMEM;
    cfg.s3_signed_names[0] = '\0';
    for (unsigned i = 0; i < cfg.s3_n_hdrs; i++) {
        cfg.s3_hdr_name[i] = names[i];
        cfg.s3_hdr_value[i] = values[i];
        if (i)
            strcat(cfg.s3_signed_names, ";");
        strcat(cfg.s3_signed_names, names[i]);
    }
    return 0;
}

/* -S ACCESS:SECRET: the secret is what follows the last ':', so an access
 * key may hold ':' itself (Swift's "account:user"). */
static int parse_s3_keys(const char *s)
{
    const char *colon = strrchr(s, ':');

    if (!colon || colon == s || !colon[1] || strlen(colon + 1) > 400)
        return -EINVAL;
    cfg.s3_access = strndup(s, (size_t)(colon - s));
    cfg.s3_secret = strdup(colon + 1);
    return cfg.s3_access && cfg.s3_secret ? 0 : -ENOMEM;
}

static void make_body(void)
{
    uint64_t x = 0x9e3779b97f4a7c15ull ^ (uint64_t)time(NULL);

    cfg.body_buf_len =
        cfg.body_size < BODY_BUF_MAX ? (size_t)cfg.body_size : BODY_BUF_MAX;
    if (cfg.body_buf_len == 0)
        return;
    cfg.body_buf = malloc(cfg.body_buf_len);
    if (!cfg.body_buf) {
        fprintf(stderr, "httpload: out of memory\n");
        exit(2);
    }
    for (size_t i = 0; i < cfg.body_buf_len; i++) {
        x ^= x << 13; /* xorshift64: incompressible enough, and cheap */
        x ^= x >> 7;
        x ^= x << 17;
        cfg.body_buf[i] = (unsigned char)(x >> 32);
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

static double pct_ms(const uint32_t *v, size_t n, double p)
{
    size_t i;

    if (n == 0)
        return 0;
    i = (size_t)(p * (double)n);
    return (double)v[i < n ? i : n - 1] / 1e3;
}

static void report(struct worker *ws, double elapsed)
{
    struct stats all = {0};
    uint64_t requests = 0, ok = 0;
    double sum = 0;

    for (unsigned t = 0; t < cfg.threads; t++) {
        struct stats *st = &ws[t].st;

        for (unsigned s = 0; s < MAX_STATUS; s++)
            all.status[s] += st->status[s];
        all.conn_errors += st->conn_errors;
        all.timeouts += st->timeouts;
        all.bytes_sent += st->bytes_sent;
        all.bytes_recv += st->bytes_recv;
        all.n_lat += st->n_lat;
    }
    all.lat_us = malloc((all.n_lat ? all.n_lat : 1) * sizeof(uint32_t));
    if (!all.lat_us) {
        fprintf(stderr, "httpload: out of memory\n");
        exit(2);
    }
    for (unsigned t = 0, at = 0; t < cfg.threads; t++) {
        memcpy(all.lat_us + at, ws[t].st.lat_us,
               ws[t].st.n_lat * sizeof(uint32_t));
        at += (unsigned)ws[t].st.n_lat;
    }
    qsort(all.lat_us, all.n_lat, sizeof(uint32_t), cmp_u32);
    for (size_t i = 0; i < all.n_lat; i++)
        sum += all.lat_us[i];
    for (unsigned s = 0; s < MAX_STATUS; s++) {
        requests += all.status[s];
        if (s >= 200 && s < 300)
            ok += all.status[s];
    }
    printf("RESULT tool=httpload label=%s method=%s concurrency=%u "
           "requests=%llu ok=%llu errors=%llu elapsed_s=%.3f "
           "ops_per_s=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f "
           "mean_ms=%.3f MB_per_s=%.1f",
           cfg.label, cfg.method, cfg.concurrency, (unsigned long long)requests,
           (unsigned long long)ok,
           (unsigned long long)(requests - ok + all.conn_errors + all.timeouts),
           elapsed, elapsed > 0 ? (double)ok / elapsed : 0,
           pct_ms(all.lat_us, all.n_lat, 0.50),
           pct_ms(all.lat_us, all.n_lat, 0.90),
           pct_ms(all.lat_us, all.n_lat, 0.99),
           all.n_lat ? all.lat_us[all.n_lat - 1] / 1e3 : 0,
           all.n_lat ? sum / (double)all.n_lat / 1e3 : 0,
           elapsed > 0
               ? (double)(all.bytes_sent + all.bytes_recv) / elapsed / 1e6
               : 0);
    for (unsigned s = 0; s < MAX_STATUS; s++)
        if (all.status[s])
            printf(" status_%u=%llu", s, (unsigned long long)all.status[s]);
    printf(" conn_errors=%llu timeouts=%llu\n",
           (unsigned long long)all.conn_errors,
           (unsigned long long)all.timeouts);
    free(all.lat_us);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: kura-httpload [options] http://HOST:PORT/PATH\n"
            "  -m METHOD   GET (default), HEAD, PUT, POST, DELETE\n"
            "  -c N        connections, one request in flight each (16)\n"
            "  -d SECONDS  run this long (default 10 unless -n)\n"
            "  -n COUNT    stop after COUNT requests in all\n"
            "  -t THREADS  event-loop threads (1)\n"
            "  -H 'Name: value'  extra request header (repeatable)\n"
            "  -b SIZE     request body bytes (K, M, G: binary units)\n"
            "  -r RANGE    {n} ({N}: 10 digits) in PATH: START..START+RANGE-1\n"
            "  -s START    first {n} (0)\n"
            "  -T SECONDS  per-request timeout (60)\n"
            "  -l LABEL    copied into the RESULT line\n"
            "  -S ACCESS:SECRET  sign every request with AWS SigV4 (S3); the\n"
            "              secret is the text after the last ':', so\n"
            "              -S test:tester:testing is access key test:tester,\n"
            "              secret testing; the body is UNSIGNED-PAYLOAD\n"
            "  -R REGION   the SigV4 region (us-east-1)\n"
            "  -v          print the first error answers to stderr\n");
}

static int parse_args(int argc, char **argv)
{
    int opt;

    cfg.method = "GET";
    cfg.label = "-";
    cfg.concurrency = 16;
    cfg.threads = 1;
    cfg.timeout_s = 60;
    while ((opt = getopt(argc, argv, "m:c:d:n:t:H:b:r:s:T:l:S:R:vh")) != -1) {
        int err = 0;

        switch (opt) {
        case 'm': cfg.method = optarg; break;
        case 'c': cfg.concurrency = (unsigned)atoi(optarg); break;
        case 'd': cfg.duration_s = atof(optarg); break;
        case 'n': err = parse_size(optarg, &cfg.count); break;
        case 't': cfg.threads = (unsigned)atoi(optarg); break;
        case 'H': err = add_header(optarg); break;
        case 'b': err = parse_size(optarg, &cfg.body_size); break;
        case 'r': err = parse_size(optarg, &cfg.range); break;
        case 's': err = parse_size(optarg, &cfg.start); break;
        case 'T': cfg.timeout_s = atof(optarg); break;
        case 'l': cfg.label = optarg; break;
        case 'S': err = parse_s3_keys(optarg); break;
        case 'R': cfg.s3_region = optarg; break;
        case 'v': cfg.verbose = 1; break;
        case 'h': usage(stdout); exit(0);
        default: return -EINVAL;
        }
        if (err) {
            fprintf(stderr, "httpload: bad value for -%c: '%s'\n", opt, optarg);
            return -EINVAL;
        }
    }
    if (optind != argc - 1 || cfg.concurrency == 0 || cfg.threads == 0 ||
        cfg.timeout_s <= 0)
        return -EINVAL;
    if (parse_url(argv[optind])) {
        fprintf(stderr, "httpload: bad URL '%s'\n", argv[optind]);
        return -EINVAL;
    }
    if (cfg.duration_s <= 0 && cfg.count == 0)
        cfg.duration_s = 10;
    if (cfg.threads > cfg.concurrency)
        cfg.threads = cfg.concurrency;
    if (!cfg.extra_hdrs && !(cfg.extra_hdrs = strdup("")))
        return -ENOMEM;
    cfg.is_head = strcmp(cfg.method, "HEAD") == 0;
    if (!cfg.s3_region)
        cfg.s3_region = "us-east-1";
    if (cfg.s3_access &&
        (s3_setup() || !(sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL))))
        return -EINVAL;
    return 0;
}

static int resolve(void)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    int rc = getaddrinfo(cfg.host, cfg.port, &hints, &cfg.addr);

    if (rc) {
        fprintf(stderr, "httpload: cannot resolve '%s': %s\n", cfg.host,
                gai_strerror(rc));
        return -EINVAL;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct worker *ws;
    double elapsed;

    if (parse_args(argc, argv)) {
        usage(stderr);
        return 2;
    }
    if (resolve())
        return 2;
    signal(SIGPIPE, SIG_IGN);
    make_body();
    parser_settings.on_headers_complete = on_headers_complete;
    parser_settings.on_body = on_body;
    parser_settings.on_message_complete = on_message_complete;

    ws = calloc(cfg.threads, sizeof(*ws));
    if (!ws)
        return 2;
    for (unsigned t = 0; t < cfg.threads; t++) {
        struct worker *w = &ws[t];

        w->n_conns =
            cfg.concurrency / cfg.threads + (t < cfg.concurrency % cfg.threads);
        w->conns = calloc(w->n_conns, sizeof(*w->conns));
        w->rbuf = malloc(READ_BUF_SIZE);
        w->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (!w->conns || !w->rbuf || w->epfd == -1) {
            fprintf(stderr, "httpload: cannot set up thread %u\n", t);
            return 2;
        }
        for (unsigned i = 0; i < w->n_conns; i++) {
            w->conns[i].w = w;
            w->conns[i].fd = -1;
        }
    }
    t_begin = now_s();
    t_deadline = t_begin + cfg.duration_s;
    for (unsigned t = 0; t < cfg.threads; t++) {
        if (pthread_create(&ws[t].tid, NULL, worker_run, &ws[t])) {
            fprintf(stderr, "httpload: cannot start thread %u\n", t);
            return 2;
        }
    }
    for (unsigned t = 0; t < cfg.threads; t++)
        pthread_join(ws[t].tid, NULL);
    elapsed = now_s() - t_begin;
    report(ws, elapsed);
    return 0;
}
