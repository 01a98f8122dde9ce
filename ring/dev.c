/*
 * dev.c - the ring device record: copying, releasing, and checking the
 * address a device is reached at.
 *
 * Address rules follow Swift's validate_and_normalize_address: an IPv4 or
 * IPv6 literal (lowercased; IPv6 in inet_ntop's canonical form, brackets
 * removed) or an RFC 1123 host name (lowercased). Parsing ring files and
 * builder files is left to ringfile.c and the builder.
 */
#include "ring/dev.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

void ring_dev_release(struct ring_dev *dev)
{
    free(dev->ip);
    free(dev->replication_ip);
    free(dev->device);
    free(dev->meta);
    memset(dev, 0, sizeof(*dev));
}

static int dup_str(char **dst, const char *src)
{
    *dst = NULL;
    if (!src)
        return 0;
    *dst = strdup(src);
    return *dst ? 0 : -ENOMEM;
}

int ring_dev_copy(struct ring_dev *dst, const struct ring_dev *src)
{
    *dst = *src;
    dst->ip = dst->replication_ip = dst->device = dst->meta = NULL;
    if (dup_str(&dst->ip, src->ip) ||
        dup_str(&dst->replication_ip, src->replication_ip) ||
        dup_str(&dst->device, src->device) || dup_str(&dst->meta, src->meta)) {
        ring_dev_release(dst);
        return -ENOMEM;
    }
    return 0;
}

/* One label: 1..63 of [A-Za-z0-9-], not starting or ending with '-'. */
static bool is_valid_label(const char *s, size_t len)
{
    if (len < 1 || len > 63 || s[0] == '-' || s[len - 1] == '-')
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-')
            return false;
    return true;
}

/* Swift's is_valid_hostname: at most 255 bytes, one trailing dot allowed,
 * every dot-separated label valid. */
static bool is_valid_hostname(const char *name)
{
    size_t len = strlen(name);
    const char *p = name, *dot;

    if (len < 1 || len > 255)
        return false;
    if (name[len - 1] == '.')
        len--;
    for (;;) {
        size_t left = len - (size_t)(p - name);

        dot = memchr(p, '.', left);
        if (!dot)
            return is_valid_label(p, left);
        if (!is_valid_label(p, (size_t)(dot - p)))
            return false;
        p = dot + 1;
    }
}

static void lowercase(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

/* An IP literal in 'ip' (already lowercased) into its normal form. */
static int normalize_literal(const char *ip, char *out)
{
    unsigned char bin[sizeof(struct in6_addr)];

    if (inet_pton(AF_INET, ip, bin) == 1) {
        strcpy(out, ip);
        return 0;
    }
    if (inet_pton(AF_INET6, ip, bin) == 1 &&
        inet_ntop(AF_INET6, bin, out, RING_DEV_IP_MAX + 1))
        return 0;
    return -EINVAL;
}

int ring_dev_normalize_ip(const char *ip, char *out)
{
    char buf[RING_DEV_IP_MAX + 1];
    size_t len = strlen(ip);
    bool bracketed = len >= 2 && ip[0] == '[' && ip[len - 1] == ']';

    /* Like Swift's lstrip('[').rstrip(']'): any number of each. */
    while (len && ip[len - 1] == ']')
        len--;
    while (len && *ip == '[') {
        ip++;
        len--;
    }
    if (len > RING_DEV_IP_MAX)
        return -EINVAL;
    memcpy(buf, ip, len);
    buf[len] = '\0';
    lowercase(buf);

    if (normalize_literal(buf, out) == 0)
        return 0;
    if (bracketed || !is_valid_hostname(buf))
        return -EINVAL;
    strcpy(out, buf);
    return 0;
}

bool ring_dev_ip_is_v6(const char *ip)
{
    unsigned char bin[sizeof(struct in6_addr)];

    return ip && inet_pton(AF_INET6, ip, bin) == 1;
}
