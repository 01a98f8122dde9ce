/*
 * device_table.h - devices printed the way swift-ring-builder prints them:
 * the one-line form of messages and the tables of the summary and of
 * search.
 */
#ifndef TOOLS_RING_CLI_DEVICE_TABLE_H
#define TOOLS_RING_CLI_DEVICE_TABLE_H

#include <stdio.h>

#include "ring/builder.h"

/* Longest one-line device: two ips, a name and meta bounded by dev.h. */
#define DEVICE_TABLE_LINE_MAX 2048

/* Swift's format_device: d0r1z1-127.0.0.1:6200R127.0.0.1:6200/sdb_"meta",
 * IPv6 ips in brackets. Returns 'out'. */
const char *device_table_format(const struct ring_dev *d,
                                char out[DEVICE_TABLE_LINE_MAX]);

/* The summary's table (Swift's _make_display_device_table): header line,
 * then every device sorted by (region, zone, ip, device), DEL in flags for
 * those marked for removal. Balances are 0 when the ring has no weight. */
void device_table_print(FILE *f, const struct builder *b);

/* search's fixed-width table, devices in id order. */
void device_table_print_search(FILE *f, const struct builder *b,
                               const struct builder_dev *const *devs, size_t n);

#endif /* TOOLS_RING_CLI_DEVICE_TABLE_H */
