/* Description: libFuzzer target: the HTTP server's request parsing
 * (common/http_server.c over libhttp-parser), driven through
 * http_server_serve_mem() exactly as a connection thread drives a socket,
 * with the input split into recv()s of fuzzed sizes.
 *
 * Input: byte 0 picks the mode and limits, byte 1 the number of recv()
 * sizes that follow (0-7), then those sizes, then two bytes of out_max
 * when byte 0 asks for it, then the client's bytes.
 *
 * Raw mode: the bytes go to the server as they are; the path picks what
 * the handler does (answer early, fail, answer mid-body, stream...).
 * Checked: no crash, leak or UB; callbacks in order, on_done once per
 * request; what the handler sees is well formed (no CR, LF in values,
 * token names, Content-Length consistent with the body); the output is a
 * sequence of well-formed responses, one per request answered, at most
 * one refusal (4xx/5xx) after them, and nothing after a refusal.
 *
 * Built mode: the bytes describe pipelined requests (methods, HTTP/1.0
 * keep-alive, Content-Length or chunked bodies with extensions and
 * trailers, Expect: 100-continue) which the target writes out well formed.
 * Checked besides: every request reaches on_end with exactly its body and
 * gets its 200, all input is read, nothing is left waiting. */
#include "common/http_server.h"

#include <errno.h>
#include <http_parser.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MODE_BUILT 0x01
#define MODE_LENIENT 0x02
#define MODE_SMALL 0x04 /* small header limits */
#define MODE_OUT_MAX 0x08

#define MAX_REQS 4096

#define check(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "fuzz_http_server: %s:%d: %s\n", __FILE__,         \
                    __LINE__, #cond);                                          \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* ---- what the handler saw ---- */

enum phase { P_NONE, P_HEADERS, P_END, P_DONE };

struct rstate { /* one per request, as req_ctx() */
    enum phase phase;
    uint64_t body_len;
    bool responded_in_body;
    int index;
};

struct expect { /* built mode: per request */
    const char *method;
    const uint8_t *body; /* in the input, or 'owned' */
    uint64_t body_len;
    uint8_t *owned;
};

static struct {
    bool built;
    int n_headers, n_done, n_done_ok, n_ends;
    /* the answered requests in order: for reading the output */
    bool head[MAX_REQS];
    unsigned int status[MAX_REQS];
    int n_answered;
    /* built mode */
    struct expect exp[MAX_REQS];
    int n_exp;
    uint64_t got_len[MAX_REQS];
    bool got_end[MAX_REQS];
} st;


static bool starts(const char *s, const char *prefix)
{
    return !strncmp(s, prefix, strlen(prefix));
}

static bool is_token(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || strchr("!#$%&'*+-.^_`|~", *s)))
            return false;
    return true;
}

static int check_one_header(const char *name, const char *value, void *arg)
{
    struct request *req = arg;

    check(is_token(name));
    check(!strpbrk(value, "\r\n"));
    check(req_header(req, name) != NULL);
    /* echo some back: the response path must cope with any value */
    if (starts(name, "X-Echo") || starts(name, "x-echo"))
        check(req_add_header(req, name, value) == 0);
    return 0;
}

static int on_headers(struct request *req, void *arg)
{
    struct rstate *rs = calloc(1, sizeof(*rs));
    const char *path = req_path(req), *raw = req_raw_path(req);

    (void)arg;
    check(rs);
    check(req_ctx(req) == NULL && req_status(req) == 0);
    rs->phase = P_HEADERS;
    rs->index = st.n_headers++;
    req_set_ctx(req, rs);
    check(is_token(req_method(req)));
    check(raw[0] == '/');
    check(path && req_raw_query(req));
    check(req_content_length(req) >= -1);
    check(!req_chunked(req) || req_content_length(req) == -1);
    check(req_bytes_received(req) == 0);
    check(strlen(req_txn(req)) <= 2 * TXN_ID_LEN);
    (void)req_param(req, "x");
    (void)req_client_ip(req);
    req_foreach_header(req, check_one_header, req);
    if (st.built)
        return 0;
    if (starts(raw, "/early"))
        return req_respond_error(req, 413);
    if (starts(raw, "/fail"))
        return -EIO;
    return 0;
}

static int on_body(struct request *req, const char *data, size_t len,
                   void *arg)
{
    struct rstate *rs = req_ctx(req);

    (void)arg;
    check(rs && rs->phase == P_HEADERS);
    check(req_status(req) == 0); /* none after a response */
    check(len > 0 && len <= HTTP_SERVER_BODY_PIECE_MAX);
    rs->body_len += len;
    if (st.built) { /* byte for byte what was sent */
        const struct expect *e = &st.exp[rs->index];

        check(rs->index < st.n_exp);
        check(rs->body_len <= e->body_len);
        check(!memcmp(data, e->body + rs->body_len - len, len));
    }
    check(req_bytes_received(req) == rs->body_len);
    if (req_content_length(req) >= 0)
        check(rs->body_len <= (uint64_t)req_content_length(req));
    if (st.built)
        return 0;
    if (starts(req_raw_path(req), "/mid")) {
        rs->responded_in_body = true;
        return req_respond_error(req, 507);
    }
    if (starts(req_raw_path(req), "/bodyfail"))
        return -EIO;
    return 0;
}

static ssize_t pattern_read(void *arg, uint64_t pos, char *buf, size_t max)
{
    uint64_t size = *(uint64_t *)arg;

    if (size != HTTP_SIZE_UNKNOWN && pos >= size)
        return 0;
    if (size == HTTP_SIZE_UNKNOWN && pos >= 3000)
        return 0;
    if (max > 1000)
        max = 1000;
    if (size != HTTP_SIZE_UNKNOWN && max > size - pos)
        max = (size_t)(size - pos);
    for (size_t i = 0; i < max; i++)
        buf[i] = (char)('a' + (pos + i) % 26);
    return (ssize_t)max;
}

static int on_end(struct request *req, void *arg)
{
    struct rstate *rs = req_ctx(req);
    const char *raw = req_raw_path(req);
    char body[64];
    int len;

    (void)arg;
    check(rs && rs->phase == P_HEADERS);
    check(req_status(req) == 0);
    rs->phase = P_END;
    st.n_ends++;
    check(req_bytes_received(req) == rs->body_len);
    if (req_content_length(req) >= 0)
        check(rs->body_len == (uint64_t)req_content_length(req));
    len = snprintf(body, sizeof(body), "received %llu\n",
                   (unsigned long long)rs->body_len);
    if (st.built) {
        check(rs->index < MAX_REQS);
        st.got_len[rs->index] = rs->body_len;
        st.got_end[rs->index] = true;
        return req_respond(req, 200, body, (size_t)len);
    }
    if (starts(raw, "/endfail"))
        return 0; /* no response: the server answers 500 */
    if (starts(raw, "/stream") || starts(raw, "/chunk")) {
        uint64_t *size = malloc(sizeof(*size));

        check(size);
        *size = starts(raw, "/chunk") ? HTTP_SIZE_UNKNOWN : rs->body_len * 3;
        return req_respond_stream(req, 200, *size, pattern_read, size, free);
    }
    req_add_header(req, "Content-Type", "text/plain");
    return req_respond(req, 200, body, (size_t)len);
}

/* on_done may look at the headers whatever the request's fate */
static int check_done_header(const char *name, const char *value, void *arg)
{
    (void)arg;
    check(is_token(name));
    check(!strpbrk(value, "\r\n"));
    return 0;
}

static void on_done(struct request *req, bool ok, void *arg)
{
    struct rstate *rs = req_ctx(req);

    (void)arg;
    /* refused with 414 or 431 after the request line: on_done without
     * on_headers */
    check(!rs || rs->phase == P_HEADERS || rs->phase == P_END);
    req_foreach_header(req, check_done_header, NULL);
    check(req_method(req) && req_raw_path(req) && req_path(req));
    st.n_done++;
    if (ok) {
        st.n_done_ok++;
        check(req_status(req) >= 200);
        if (st.n_answered < MAX_REQS) {
            st.head[st.n_answered] = !strcmp(req_method(req), "HEAD");
            st.status[st.n_answered] = req_status(req);
        }
        st.n_answered++;
    }
    if (rs)
        rs->phase = P_DONE;
    free(rs);
}

/* ---- reading the output ---- */

struct out_reader {
    int n_final, n_continue;
    unsigned int last_status;
    bool in_body;
    bool refusal; /* a response past the answered ones */
    bool limited; /* cut by out_max: the last one may be a failed send */
    char body[64];
    size_t body_len;
};

static int out_headers_complete(http_parser *p)
{
    struct out_reader *r = p->data;

    if (p->status_code == 100) {
        r->n_continue++;
        return 0;
    }
    check(p->status_code >= 200);
    r->last_status = p->status_code;
    r->body_len = 0;
    if (r->n_final < st.n_answered && r->n_final < MAX_REQS) {
        check(p->status_code == st.status[r->n_final]);
        return st.head[r->n_final] ? 1 : 0;
    }
    /* one refusal past the answered requests; it closes the connection
     * and may be for a HEAD (then the body is not there) */
    check(!r->refusal);
    check(p->status_code >= 400 || r->limited);
    r->refusal = true;
    return 0;
}

static int out_body(http_parser *p, const char *at, size_t len)
{
    struct out_reader *r = p->data;
    size_t room = sizeof(r->body) - 1 - r->body_len;

    memcpy(r->body + r->body_len, at, len < room ? len : room);
    r->body_len += len < room ? len : room;
    return 0;
}

static int out_message_complete(http_parser *p)
{
    struct out_reader *r = p->data;

    if (p->status_code == 100)
        return 0;
    r->body[r->body_len] = '\0';
    if (st.built && r->n_final < st.n_exp) {
        const struct expect *e = &st.exp[r->n_final];
        char want[64];

        snprintf(want, sizeof(want), "received %llu\n",
                 (unsigned long long)e->body_len);
        check(!strcmp(e->method, "HEAD") || !strcmp(r->body, want));
    }
    r->n_final++;
    return 0;
}

/* The output is responses, each complete (unless the client stopped
 * reading), one per answered request and at most one refusal. */
static void check_output(const struct http_server_mem_conn *mc, bool limited)
{
    static const http_parser_settings s = {
        .on_headers_complete = out_headers_complete,
        .on_body = out_body,
        .on_message_complete = out_message_complete,
    };
    struct out_reader r = {0};
    http_parser p;
    size_t used;

    http_parser_init(&p, HTTP_RESPONSE);
    p.data = &r;
    r.limited = limited;
    used = http_parser_execute(&p, &s, mc->out, mc->out_len);
    check(HTTP_PARSER_ERRNO(&p) == HPE_OK);
    check(used == mc->out_len);
    if (limited)
        return;
    /* the connection is closed: ends a body read until close (HTTP/1.0
     * streams); a refused HEAD's missing body is an error here */
    http_parser_execute(&p, &s, NULL, 0);
    /* each answered request's response is all there */
    check(r.n_final >= st.n_answered);
    check(r.n_final <= st.n_answered + 1);
}

/* ---- built mode: well-formed pipelined requests ---- */

struct out {
    char *p;
    size_t len, cap;
};

static void put(struct out *o, const void *d, size_t n)
{
    if (o->len + n > o->cap) {
        o->cap = (o->len + n) * 2 + 256;
        o->p = realloc(o->p, o->cap);
        check(o->p);
    }
    memcpy(o->p + o->len, d, n);
    o->len += n;
}

static void puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

struct cursor {
    const uint8_t *d;
    size_t n;
};

static uint8_t take(struct cursor *c)
{
    uint8_t b = 0;

    if (c->n) {
        b = *c->d++;
        c->n--;
    }
    return b;
}

/* One request from the input, appended to 'o'; false when the input is
 * used up. */
static bool build_request(struct cursor *c, struct out *o)
{
    static const char *methods[] = {"GET",    "PUT",       "POST",
                                    "HEAD",   "DELETE",    "REPLICATE",
                                    "SSYNC",  "COPY"};
    static const char path_chars[] = "abcXYZ019-_.~/:@!$'()*,;=+";
    uint8_t b, plen, nhdr;
    unsigned int framing;
    bool v10, expect, big;
    size_t blen;
    uint8_t *gen = NULL;
    const uint8_t *body;
    struct expect *e;
    char line[128];

    if (c->n < 4 || st.n_exp >= MAX_REQS || o->len > (512u << 10))
        return false;
    b = take(c);
    e = &st.exp[st.n_exp++];
    e->method = methods[b & 7];
    v10 = b & 0x08;
    framing = (b >> 4) & 3; /* none, Content-Length, chunked, chunked */
    expect = (b & 0x40) && !v10;
    if (v10 && framing >= 2)
        framing = 1;
    puts_(o, e->method);
    puts_(o, " /");
    plen = take(c) & 15;
    for (uint8_t i = 0; i < plen; i++)
        put(o, &path_chars[take(c) % (sizeof(path_chars) - 1)], 1);
    if (b & 0x80)
        puts_(o, "?x=1&y=%41+b&z");
    puts_(o, v10 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
    puts_(o, "Host: 127.0.0.1\r\n");
    if (v10)
        puts_(o, "Connection: keep-alive\r\n");
    nhdr = take(c);
    big = nhdr & 0x80; /* past the head buffer: the large-body path */
    nhdr &= 7;
    for (uint8_t i = 0; i < nhdr; i++) {
        snprintf(line, sizeof(line), "X-Object-Meta-%u: %s%u\t \r\n", i,
                 i & 1 ? "" : "v a l ", take(c));
        puts_(o, line);
    }
    if (expect)
        puts_(o, "Expect: 100-continue\r\n");
    blen = framing ? (size_t)take(c) * 8 + take(c) : 0;
    if (big && framing) {
        /* up to 290 KB of generated bytes: bodies larger than the head
         * buffer and than one HTTP_SERVER_BODY_PIECE_MAX read */
        uint8_t seed = take(c), block[251];

        blen *= 128;
        gen = malloc(blen ? blen : 1);
        check(gen);
        for (size_t i = 0; i < sizeof(block); i++)
            block[i] = (uint8_t)(i * 7 + seed);
        /* block copies: a byte loop costs more than the server here */
        for (size_t i = 0; i < blen; i += sizeof(block))
            memcpy(gen + i, block,
                   blen - i < sizeof(block) ? blen - i : sizeof(block));
        body = gen;
    } else {
        if (blen > c->n)
            blen = c->n;
        body = c->d;
        c->d += blen;
        c->n -= blen;
    }
    e->body_len = blen;
    e->body = body;
    e->owned = gen;
    if (framing == 1) {
        snprintf(line, sizeof(line), "Content-Length: %zu\r\n", blen);
        puts_(o, line);
    } else if (framing >= 2) {
        puts_(o, framing == 2 ? "Transfer-Encoding: chunked\r\n"
                              : "transfer-encoding: Chunked\r\n");
    }
    puts_(o, "\r\n");
    if (framing == 1) {
        put(o, body, blen);
    } else if (framing >= 2) {
        size_t left = blen;
        const uint8_t *d = body;

        while (left) {
            size_t n = big ? (size_t)d[0] * 512 + 1 : (size_t)(d[0] % 64) + 1;

            if (n > left)
                n = left;
            snprintf(line, sizeof(line), framing == 2 ? "%zx\r\n" : "%zX;a=b\r\n",
                     n);
            puts_(o, line);
            put(o, d, n);
            puts_(o, "\r\n");
            d += n;
            left -= n;
        }
        puts_(o, framing == 2 ? "0\r\n\r\n" : "0\r\nX-Trailer: t\r\n\r\n");
    }
    return true;
}

static void check_built(const struct http_server_mem_conn *mc)
{
    check(mc->in_used == mc->in_len); /* nothing left unread */
    check(st.n_headers == st.n_exp);
    check(st.n_done_ok == st.n_exp && st.n_done == st.n_exp);
    for (int i = 0; i < st.n_exp; i++) {
        check(st.got_end[i]);
        check(st.got_len[i] == st.exp[i].body_len);
        check(st.status[i] == 200);
    }
}

/* ---- the target ---- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct http_handler handler = {
        .on_headers = on_headers,
        .on_body = on_body,
        .on_end = on_end,
        .on_done = on_done,
    };
    static bool once;
    struct http_server_conf conf;
    struct http_server_mem_conn mc = {0};
    struct cursor c = {data, size};
    struct out built = {0};
    uint8_t mode, n_reads;
    size_t reads[7];

    if (!once) {
        log_set_level(LOG_CRIT); /* the handler failures we ask for */
        once = true;
    }
    if (size < 2)
        return 0;
    memset(&st, 0, sizeof(st));
    mode = take(&c);
    n_reads = take(&c) & 7;
    if (n_reads > c.n)
        n_reads = (uint8_t)c.n;
    /* a byte below 128 is that many bytes plus one, from 128 up 2 KiB
     * steps: splits anywhere, and large bodies in a few reads */
    for (uint8_t i = 0; i < n_reads; i++)
        reads[i] = c.d[i] < 128 ? (size_t)c.d[i] + 1 : (c.d[i] - 127u) * 2048;
    mc.reads = n_reads ? reads : NULL;
    mc.n_reads = n_reads;
    c.d += n_reads;
    c.n -= n_reads;
    if (mode & MODE_OUT_MAX) {
        mc.out_max = (size_t)take(&c) << 4 | take(&c);
        mc.out_max += 1;
    }
    http_server_conf_defaults(&conf);
    conf.log_requests = false;
    conf.lenient_paths = mode & MODE_LENIENT;
    st.built = mode & MODE_BUILT;
    if ((mode & MODE_SMALL) && !st.built) { /* built ones would not fit */
        conf.max_header_size = 256;
        conf.max_header_count = 4;
        conf.conn_memory_limit = 16384;
    }
    if (st.built) {
        while (build_request(&c, &built))
            ;
        mc.in = built.p;
        mc.in_len = built.len;
        mc.out_max = 0;
        /* byte-sized reads of large bodies: the time goes to on_body
         * calls that find nothing new */
        for (uint8_t i = 0; built.len > 65536 && i < n_reads; i++)
            if (reads[i] < 512)
                reads[i] = 512;
    } else {
        mc.in = (const char *)c.d;
        mc.in_len = c.n;
    }
    check(http_server_serve_mem(&conf, &handler, &mc) == 0);
    if (getenv("FUZZ_HTTP_VERBOSE")) /* what a seed does */
        fprintf(stderr,
                "%s: %d requests seen, %d ended, %d answered, %zu/%zu bytes "
                "read in %zu recv()s, %zu out:\n%.*s\n",
                st.built ? "built" : "raw", st.n_headers, st.n_ends,
                st.n_answered, mc.in_used, mc.in_len, mc.n_recvs, mc.out_len,
                (int)mc.out_len, mc.out);
    check(mc.in_used <= mc.in_len);
    check(st.n_done >= st.n_headers);
    check(st.n_ends <= st.n_headers);
    if (mc.out_max)
        check(mc.out_len <= mc.out_max);
    check_output(&mc, mc.out_max && mc.out_len == mc.out_max);
    if (st.built)
        check_built(&mc);
    for (int i = 0; i < st.n_exp; i++)
        free(st.exp[i].owned);
    free(mc.out);
    free(built.p);
    return 0;
}
