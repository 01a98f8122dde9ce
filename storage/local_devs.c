/*
 * local_devs.c - this server's ring devices (local_devs.h).
 */
#include "storage/local_devs.h"

#include "ring/dev.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

void local_ips_release(struct local_ips *ips)
{
    size_t i;

    for (i = 0; i < ips->n; i++)
        free(ips->ip[i]);
    free(ips->ip);
    ips->ip = NULL;
    ips->n = 0;
}

static int add_ip(struct local_ips *ips, const char *ip)
{
    char norm[RING_DEV_IP_MAX + 1];
    char **v;

    if (ring_dev_normalize_ip(ip, norm))
        return 0; /* not an address we could match anyway */
    v = realloc(ips->ip, (ips->n + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    ips->ip = v;
    v[ips->n] = strdup(norm);
    if (!v[ips->n])
        return -ENOMEM;
    ips->n++;
    return 0;
}

static bool wildcard(const char *ip)
{
    return !ip || !*ip || !strcmp(ip, "0.0.0.0") || !strcmp(ip, "::") ||
           !strcmp(ip, "[::]");
}

int local_ips_get(const char *bind_ip, struct local_ips *out)
{
    struct ifaddrs *ifa = NULL, *p;
    int err = 0;

    memset(out, 0, sizeof(*out));
    if (!wildcard(bind_ip)) {
        err = add_ip(out, bind_ip);
        if (err)
            local_ips_release(out);
        return err;
    }
    if (getifaddrs(&ifa))
        return -errno;
    for (p = ifa; p && !err; p = p->ifa_next) {
        char buf[INET6_ADDRSTRLEN];
        const void *a;

        if (!p->ifa_addr)
            continue;
        if (p->ifa_addr->sa_family == AF_INET)
            a = &((struct sockaddr_in *)p->ifa_addr)->sin_addr;
        else if (p->ifa_addr->sa_family == AF_INET6)
            a = &((struct sockaddr_in6 *)p->ifa_addr)->sin6_addr;
        else
            continue;
        if (inet_ntop(p->ifa_addr->sa_family, a, buf, sizeof(buf)))
            err = add_ip(out, buf);
    }
    freeifaddrs(ifa);
    /* every 127/8 address reaches a wildcard bind, though "lo" lists
     * only 127.0.0.1 */
    out->any_loopback = true;
    if (err)
        local_ips_release(out);
    return err;
}

static bool loopback4(const char *ip)
{
    struct in_addr a;

    return inet_pton(AF_INET, ip, &a) == 1 &&
           (ntohl(a.s_addr) >> 24) == 127;
}

bool local_devs_is_local(const struct local_ips *ips, int bind_port,
                         const struct ring_dev *dev)
{
    const char *ip = dev->replication_ip ? dev->replication_ip : dev->ip;
    int port = dev->replication_port ? dev->replication_port : dev->port;
    size_t i;

    if (!ip || port != bind_port)
        return false;
    for (i = 0; i < ips->n; i++) {
        if (!strcmp(ips->ip[i], ip))
            return true;
    }
    return ips->any_loopback && loopback4(ip);
}

size_t local_devs_find(const struct ring *ring, const struct local_ips *ips,
                       int bind_port, int *ids, size_t max)
{
    size_t slots = ring_dev_slots(ring), n = 0, i;

    for (i = 0; i < slots; i++) {
        const struct ring_dev *d = ring_get_dev(ring, (unsigned)i);

        if (!d || !local_devs_is_local(ips, bind_port, d))
            continue;
        if (n < max)
            ids[n] = d->id;
        n++;
    }
    return n;
}
