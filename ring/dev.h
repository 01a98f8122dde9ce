/*
 * dev.h - one device of a ring: where a replica of a partition lives.
 *
 * The same record serves the ring runtime (read from *.ring.gz) and the
 * builder (read from a builder file); its fields are exactly the keys Swift
 * writes for a device in a ring file. A ring_dev owns its strings.
 */
#ifndef RING_DEV_H
#define RING_DEV_H

#include <stdbool.h>
#include <stddef.h>

/* Longest ip (an IPv6 literal or a host name) and device name we accept. */
#define RING_DEV_IP_MAX 255
#define RING_DEV_NAME_MAX 255

struct ring_dev {
    int id;
    int region;
    int zone;
    char *ip;             /* IPv6 without brackets (the builder normalizes;
                           * the runtime keeps what the ring file says) */
    int port;
    char *replication_ip; /* defaults to ip */
    int replication_port; /* defaults to port */
    char *device;         /* the directory name under the devices root */
    double weight;
    char *meta;           /* free text, "" when unset */
};

/* Frees the strings of 'dev' and zeroes it. */
void ring_dev_release(struct ring_dev *dev);

/* Deep-copies 'src' into 'dst' (which is overwritten, not released).
 * Returns 0 or -ENOMEM. */
int ring_dev_copy(struct ring_dev *dst, const struct ring_dev *src);

/* Checks an ip as Swift's validate_and_normalize_address does: an IPv4 or
 * IPv6 literal (brackets allowed, removed) or a valid host name. Writes the
 * normalized form into 'out' (at least RING_DEV_IP_MAX + 1 bytes).
 * Returns 0 or -EINVAL. */
int ring_dev_normalize_ip(const char *ip, char *out);

/* True when 'ip' is an IPv6 literal (so it is shown in brackets). */
bool ring_dev_ip_is_v6(const char *ip);

#endif /* RING_DEV_H */
