/*
 * local_devs.h - which ring devices are this server's: Swift's
 * whataremyips() and is_local_device(). A device is local when its
 * replication_ip is one of this host's addresses (just 'bind_ip' unless
 * that is a wildcard: then every address of every interface) and its
 * replication_port is 'bind_port'. Several nodes on one machine (kura aio
 * --nodes N) differ by ip and port, so each finds only its own devices.
 */
#ifndef STORAGE_LOCAL_DEVS_H
#define STORAGE_LOCAL_DEVS_H

#include <stdbool.h>
#include <stddef.h>

#include "ring/ring.h"

struct local_ips {
    char **ip; /* normalized, IPv6 without brackets */
    size_t n;
    bool any_loopback; /* wildcard bind: all of 127/8 is ours */
};

/* This host's addresses for 'bind_ip': [bind_ip] itself, or every
 * interface address when it is "0.0.0.0", "::" or empty. Returns 0 or
 * -errno. */
int local_ips_get(const char *bind_ip, struct local_ips *out);
void local_ips_release(struct local_ips *ips);

/* True when 'dev' is served by this host's server on 'bind_port'. */
bool local_devs_is_local(const struct local_ips *ips, int bind_port,
                         const struct ring_dev *dev);

/* The ids of the ring's local devices, in id order, into 'ids' (up to
 * 'max'); returns how many there are. */
size_t local_devs_find(const struct ring *ring, const struct local_ips *ips,
                       int bind_port, int *ids, size_t max);

#endif /* STORAGE_LOCAL_DEVS_H */
