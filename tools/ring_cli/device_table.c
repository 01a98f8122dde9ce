/*
 * device_table.c - the device lines and tables of swift-ring-builder.
 *
 * Column widths follow Swift's _make_display_device_table: each grows to
 * the widest value, ip columns by two more when any ip is IPv6 (for the
 * brackets). Only printing lives here; balances come from the builder.
 */
#include "tools/ring_cli/device_table.h"

#include <stdlib.h>
#include <string.h>

static const char *bracketed(const char *ip, char *buf, size_t len)
{
    if (!strchr(ip, ':'))
        return ip;
    snprintf(buf, len, "[%s]", ip);
    return buf;
}

const char *device_table_format(const struct ring_dev *d,
                                char out[DEVICE_TABLE_LINE_MAX])
{
    char ip[RING_DEV_IP_MAX + 3], rip[RING_DEV_IP_MAX + 3];

    snprintf(out, DEVICE_TABLE_LINE_MAX, "d%dr%dz%d-%s:%dR%s:%d/%s_\"%s\"",
             d->id, d->region, d->zone, bracketed(d->ip, ip, sizeof(ip)),
             d->port, bracketed(d->replication_ip, rip, sizeof(rip)),
             d->replication_port, d->device, d->meta);
    return out;
}

struct widths {
    int ip, port, rep_ip, rep_port, weight;
};

static int digits(long v)
{
    char buf[32];

    return snprintf(buf, sizeof(buf), "%ld", v);
}

static struct widths measure(const struct builder *b)
{
    struct widths w = {10, 4, 14, 4, 6};
    bool ip_v6 = false, rep_v6 = false;
    char buf[64];

    for (size_t i = 0; i < b->n_devs; i++) {
        const struct ring_dev *d;
        int n;

        if (!b->devs[i])
            continue;
        d = &b->devs[i]->d;
        ip_v6 |= ring_dev_ip_is_v6(d->ip);
        rep_v6 |= ring_dev_ip_is_v6(d->replication_ip);
        if ((n = (int)strlen(d->ip)) > w.ip)
            w.ip = n;
        if ((n = (int)strlen(d->replication_ip)) > w.rep_ip)
            w.rep_ip = n;
        if ((n = digits(d->port)) > w.port)
            w.port = n;
        if ((n = digits(d->replication_port)) > w.rep_port)
            w.rep_port = n;
        if ((n = snprintf(buf, sizeof(buf), "%6.02f", d->weight)) > w.weight)
            w.weight = n;
    }
    w.ip += ip_v6 ? 2 : 0;
    w.rep_ip += rep_v6 ? 2 : 0;
    return w;
}

/* Swift sorts the summary by (region, zone, ip, device). */
static int cmp_display(const void *pa, const void *pb)
{
    const struct ring_dev *a = &(*(struct builder_dev *const *)pa)->d;
    const struct ring_dev *b = &(*(struct builder_dev *const *)pb)->d;
    int c;

    if (a->region != b->region)
        return a->region < b->region ? -1 : 1;
    if (a->zone != b->zone)
        return a->zone < b->zone ? -1 : 1;
    if ((c = strcmp(a->ip, b->ip)))
        return c;
    return strcmp(a->device, b->device);
}

static void print_row(FILE *f, const struct builder *b,
                      const struct builder_dev *bd, struct widths w)
{
    const struct ring_dev *d = &bd->d;
    char ip[RING_DEV_IP_MAX + 3], rip[RING_DEV_IP_MAX + 3];
    double balance = builder_dev_balance(b, d->id); /* 0 without weight */

    fprintf(f,
            "%13d %6d %4d %*s:%-*d %*s:%-*d %5s %*.02f %10ld %7.02f %5s %s\n",
            d->id, d->region, d->zone, w.ip, bracketed(d->ip, ip, sizeof(ip)),
            w.port, d->port, w.rep_ip,
            bracketed(d->replication_ip, rip, sizeof(rip)), w.rep_port,
            d->replication_port, d->device, w.weight, d->weight, bd->parts,
            balance, bd->removing ? "DEL" : "", d->meta);
}

void device_table_print(FILE *f, const struct builder *b)
{
    struct widths w = measure(b);
    const struct builder_dev **sorted;
    size_t n = 0;

    fprintf(f,
            "Devices:%5s %6s %4s %*s:%-*s %*s:%-*s %5s %*s %10s %7s %5s %s\n",
            "id", "region", "zone", w.ip, "ip address", w.port, "port",
            w.rep_ip, "replication ip", w.rep_port, "port", "name", w.weight,
            "weight", "partitions", "balance", "flags", "meta");
    sorted = calloc(b->n_devs ? b->n_devs : 1, sizeof(*sorted));
    if (!sorted) {
        fputs("kura-ring: out of memory\n", stderr);
        return;
    }
    for (size_t i = 0; i < b->n_devs; i++)
        if (b->devs[i])
            sorted[n++] = b->devs[i];
    qsort(sorted, n, sizeof(*sorted), cmp_display);
    for (size_t i = 0; i < n; i++)
        print_row(f, b, sorted[i], w);
    free(sorted);
}

void device_table_print_search(FILE *f, const struct builder *b,
                               const struct builder_dev *const *devs, size_t n)
{
    fputs("Devices:    id  region  zone      ip address  port  replication "
          "ip  replication port      name weight partitions balance meta\n",
          f);
    for (size_t i = 0; i < n; i++) {
        const struct ring_dev *d = &devs[i]->d;
        double balance = builder_dev_balance(b, d->id);

        fprintf(f,
                "         %5d %7d %5d %15s %5d %15s %17d %9s %6.02f %10ld "
                "%7.02f %s\n",
                d->id, d->region, d->zone, d->ip, d->port, d->replication_ip,
                d->replication_port, d->device, d->weight, devs[i]->parts,
                balance, d->meta);
    }
}
