/*
 * get_nodes.c - 'kura get-nodes': where an account, container or object
 * lives, printed in the shape of Swift's swift-get-nodes so operators'
 * habits and scripts carry over. The batch and rewrite modes for tests
 * are in get_nodes_batch.c.
 */
#include "tools/kura/get_nodes.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tools/kura/cmd.h"

struct get_nodes_opts {
    const char *swift_conf; /* -c, or from --swift-dir */
    char *swift_conf_buf;
    bool all; /* -a: every handoff, not just as many as
                 there are primaries */
    bool batch;
    bool rewrite;
    unsigned n_handoffs; /* batch mode */
    const char *ring_path;
    const char *target[3]; /* account, container, object */
    char *split_buf;
};

/* What the report names: the kind of item and the storage directory. */
struct target_kind {
    char datadir[32];    /* "objects", "objects-1", "containers", ... */
    int policy_index;    /* -1: none */
    const char *warning; /* ring name does not fit the item, or NULL */
};

static int usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "kura get-nodes: %s%s%s\n", msg, arg ? ": " : "",
            arg ? arg : "");
    return CMD_EXIT_ERROR;
}

static void print_help(void)
{
    printf("usage: kura get-nodes [-a] [-d DIR | -c swift.conf] <ring.gz> "
           "<account> [<container> [<object>]]\n"
           "       kura get-nodes [-d DIR | -c swift.conf] --batch "
           "<ring.gz> [--handoffs N] < paths\n"
           "The account, container and object may be one a/c/o argument.\n"
           "swift.conf: -c, else DIR/swift.conf, else $KURA_SWIFT_CONF, "
           "else " HASH_PATH_DEFAULT_CONF ".\n");
}

/* Fills opts->target from the positional arguments after the ring. */
static int take_target(struct get_nodes_opts *o, int n, char **args)
{
    if (n == 1) {
        /* Swift: args[0].strip('/').split('/', 2) */
        char *s = args[0], *end;

        while (*s == '/')
            s++;
        o->split_buf = strdup(s);
        if (!o->split_buf)
            return -ENOMEM;
        end = o->split_buf + strlen(o->split_buf);
        while (end > o->split_buf && end[-1] == '/')
            *--end = '\0';
        o->target[0] = o->split_buf;
        for (int i = 1; i < 3; i++) {
            char *slash = strchr(o->target[i - 1], '/');

            if (!slash)
                break;
            *slash = '\0';
            o->target[i] = slash + 1;
        }
        return 0;
    }
    if (n < 1 || n > 3)
        return -EINVAL;
    for (int i = 0; i < n; i++)
        o->target[i] = args[i];
    return 0;
}

static int parse_opts(struct get_nodes_opts *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"all", no_argument, NULL, 'a'},
        {"swift-dir", required_argument, NULL, 'd'},
        {"swift-conf", required_argument, NULL, 'c'},
        {"batch", no_argument, NULL, 'B'},
        {"handoffs", required_argument, NULL, 'H'},
        {"rewrite", no_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    const char *dir = NULL;
    char *end;
    long n;
    int c;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "ad:c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'a': o->all = true; break;
        case 'd': dir = optarg; break;
        case 'c': o->swift_conf = optarg; break;
        case 'B': o->batch = true; break;
        case 'R': o->rewrite = true; break;
        case 'H':
            n = strtol(optarg, &end, 10);
            if (*end || n < 0 || n > 65536)
                return usage_error("bad --handoffs", optarg);
            o->n_handoffs = (unsigned)n;
            break;
        case 'h': print_help(); return -1;
        default: return usage_error("unknown option", argv[optind - 1]);
        }
    }
    if (!o->swift_conf && dir) {
        if (asprintf(&o->swift_conf_buf, "%s/swift.conf", dir) == -1)
            return usage_error("out of memory", NULL);
        o->swift_conf = o->swift_conf_buf;
    }
    if (!o->swift_conf)
        o->swift_conf = getenv("KURA_SWIFT_CONF");
    if (!o->swift_conf || !*o->swift_conf)
        o->swift_conf = HASH_PATH_DEFAULT_CONF;

    argc -= optind;
    argv += optind;
    if (o->rewrite)
        return argc == 2 ? 0 : usage_error("--rewrite needs <in> <out>", NULL);
    if (argc < 1)
        return usage_error("no ring given", NULL);
    o->ring_path = argv[0];
    if (o->batch)
        return argc == 1 ? 0 : usage_error("--batch takes only a ring", NULL);
    if (take_target(o, argc - 1, argv + 1))
        return usage_error("need <account> [<container> [<object>]]", NULL);
    if (!o->target[0] || !*o->target[0])
        return usage_error("no account given", NULL);
    if (o->target[2] && *o->target[2] && (!o->target[1] || !*o->target[1]))
        return usage_error("object specified without container", NULL);
    return 0;
}

/* Swift's urllib.parse.quote(s): unreserved bytes and '/' kept. */
static void print_quoted(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
            (*p >= '0' && *p <= '9') || strchr("_.-~/", *p))
            putchar(*p);
        else
            printf("%%%02X", *p);
    }
}

/* The ring name is the file name without ".ring.gz"; it decides the
 * storage directory as Swift's print_item_locations() does. */
static void classify(const char *ring_path, const char *const t[3],
                     struct target_kind *k)
{
    const char *slash = strrchr(ring_path, '/');
    const char *base = slash ? slash + 1 : ring_path;
    size_t len = strlen(base);
    char name[256] = "";
    char *dash;

    if (len > 8 && len - 8 < sizeof(name))
        memcpy(name, base, len - 8); /* Python's [:-len('.ring.gz')] */
    dash = strrchr(name, '-');
    k->policy_index = -1;
    k->warning = NULL;
    if (t[2] && *t[2]) {
        strcpy(k->datadir, "objects");
        if (!strncmp(name, "object", 6) && dash) {
            k->policy_index = atoi(dash + 1);
            snprintf(k->datadir, sizeof(k->datadir), "objects-%d",
                     k->policy_index);
        }
    } else if (t[1] && *t[1]) {
        strcpy(k->datadir, "containers");
        if (strcmp(name, "container"))
            k->warning = "Warning: account/container specified but ring "
                         "not named \"container\"";
    } else {
        strcpy(k->datadir, "accounts");
        if (strcmp(name, "account"))
            k->warning = "Warning: account specified but ring not named "
                         "\"account\"";
    }
}

/* One item's placement, as the report prints it. */
struct report {
    const char *hex; /* the hash of the path */
    uint32_t part;
    const char *const *t; /* account, container, object */
    const struct target_kind *k;
    const struct ring_dev **prim, **hand;
    size_t n_prim, n_hand;
};

/* Prints one line about device 'd' of 'r', ending with 'tail'. */
typedef void report_line_fn(const struct report *r, const struct ring_dev *d,
                            const char *tail);

static void print_node(const struct report *r, const struct ring_dev *d,
                       const char *tail)
{
    (void)r;
    printf("Server:Port Device\t%s:%d %s%s\n", d->ip, d->port, d->device, tail);
}

static void print_curl(const struct report *r, const struct ring_dev *d,
                       const char *tail)
{
    bool v6 = ring_dev_ip_is_v6(d->ip);

    printf("curl -g -I -XHEAD \"http://%s%s%s:%d/%s/%u/", v6 ? "[" : "", d->ip,
           v6 ? "]" : "", d->port, d->device, r->part);
    print_quoted(r->t[0]);
    for (int i = 1; i < 3 && r->t[i] && *r->t[i]; i++) {
        putchar('/');
        print_quoted(r->t[i]);
    }
    putchar('"');
    if (r->k->policy_index >= 0)
        printf(" -H \"X-Backend-Storage-Policy-Index: %d\"",
               r->k->policy_index);
    printf(" --path-as-is%s\n", tail);
}

static void print_ssh(const struct report *r, const struct ring_dev *d,
                      const char *tail)
{
    printf("ssh %s \"ls -lah ${DEVICE:-/srv/node*}/%s/%s/%u/%s/%s\"%s\n", d->ip,
           d->device, r->k->datadir, r->part, r->hex + 29, r->hex, tail);
}

/* A line per primary, then a line per handoff marked with 'hand_tail'. */
static void print_lines(const struct report *r, report_line_fn *line,
                        const char *hand_tail)
{
    for (size_t i = 0; i < r->n_prim; i++)
        line(r, r->prim[i], "");
    for (size_t i = 0; i < r->n_hand; i++)
        line(r, r->hand[i], hand_tail);
}

/* Collects the handoffs to show: as many as primaries, or all. */
static size_t collect_handoffs(const struct ring *ring, uint32_t part,
                               size_t limit, const struct ring_dev **out)
{
    struct ring_handoff_iter *it;
    const struct ring_dev *dev;
    size_t n = 0;

    if (ring_handoff_iter_new(ring, part, &it))
        return 0;
    while (n < limit && (dev = ring_handoff_iter_next(it)))
        out[n++] = dev;
    ring_handoff_iter_free(it);
    return n;
}

/* The lines of Swift's print_ring_locations(), from "Partition" on. */
static void print_locations(const struct report *r)
{
    printf("Partition\t%u\nHash     \t%s\n\n", r->part, r->hex);
    print_lines(r, print_node, "\t [Handoff]");
    printf("\n\n");
    print_lines(r, print_curl, " # [Handoff]");
    printf("\n\nUse your own device location of servers:\n"
           "such as \"export DEVICE=/srv/node\"\n");
    print_lines(r, print_ssh, " # [Handoff]");
    printf("\nnote: `/srv/node*` is used as default value of `devices`, the "
           "real value is set in the config file on each storage node.\n");
}

int get_nodes_print_locations(const struct ring *ring,
                              const struct hash_path_conf *hc,
                              const char *const t[3], const char *datadir,
                              int policy_index, bool all)
{
    size_t max = ring_replica_arrays(ring);
    size_t limit = all ? ring_dev_slots(ring) : max;
    const struct ring_dev **prim = calloc(max, sizeof(*prim));
    const struct ring_dev **hand = calloc(limit + 1, sizeof(*hand));
    struct target_kind kind = {.policy_index = policy_index};
    unsigned char digest[16];
    char hex[33];
    struct report r = {.hex = hex, .t = t, .k = &kind};
    int err = 0;

    snprintf(kind.datadir, sizeof(kind.datadir), "%s", datadir);
    if (!prim || !hand) {
        err = -ENOMEM;
        goto out;
    }
    err = hash_path(hc, t[0], t[1], t[2], digest);
    if (err)
        goto out;
    hash_path_hex(digest, hex);
    r.part = ring_get_part(ring, digest);
    r.prim = prim;
    r.n_prim = ring_get_part_nodes(ring, r.part, prim, max);
    r.hand = hand;
    r.n_hand = collect_handoffs(ring, r.part, all ? limit : r.n_prim, hand);
    print_locations(&r);
out:
    free(prim);
    free(hand);
    return err;
}

static int show(const struct get_nodes_opts *o, const struct ring *ring,
                const struct hash_path_conf *hc)
{
    const char *label[3] = {"Account  ", "Container", "Object   "};
    struct target_kind kind;
    int err;

    classify(o->ring_path, o->target, &kind);
    if (kind.warning)
        printf("%s\n", kind.warning);
    for (int i = 0; i < 3 && o->target[i] && *o->target[i]; i++) {
        printf("%s%s\t", i == 0 ? "\n" : "", label[i]);
        print_quoted(o->target[i]);
        printf(i == 2 ? "\n\n\n" : "\n");
    }
    err = get_nodes_print_locations(ring, hc, o->target, kind.datadir,
                                    kind.policy_index, o->all);
    if (err == -EINVAL)
        return usage_error("object specified without container", NULL);
    if (err) {
        fprintf(stderr, "kura get-nodes: %s\n", strerror(-err));
        return CMD_EXIT_ERROR;
    }
    return fflush(stdout) ? CMD_EXIT_ERROR : 0;
}

int cmd_get_nodes(int argc, char **argv)
{
    struct get_nodes_opts o = {.n_handoffs = 6};
    struct hash_path_conf hc = {0};
    struct ring *ring = NULL;
    char err[RINGFILE_ERRLEN];
    int rc = parse_opts(&o, argc, argv);

    if (rc)
        goto out;
    if (o.rewrite) {
        rc = get_nodes_rewrite(argv[optind], argv[optind + 1]) ? CMD_EXIT_ERROR
                                                               : 0;
        goto out;
    }
    if (hash_path_conf_load(&hc, o.swift_conf, err)) {
        fprintf(stderr, "kura get-nodes: %s\n", err);
        rc = CMD_EXIT_ERROR;
        goto out;
    }
    if (ring_load(o.ring_path, &ring, err)) {
        fprintf(stderr, "kura get-nodes: cannot load '%s': %s\n", o.ring_path,
                err);
        rc = CMD_EXIT_ERROR;
        goto out;
    }
    if (o.batch)
        rc = get_nodes_batch(ring, &hc, o.n_handoffs, stdin, stdout)
                 ? CMD_EXIT_ERROR
                 : 0;
    else
        rc = show(&o, ring, &hc);
out:
    ring_free(ring);
    hash_path_conf_release(&hc);
    free(o.swift_conf_buf);
    free(o.split_buf);
    return rc < 0 ? 0 : rc; /* -1: --help */
}
