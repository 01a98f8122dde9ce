/*
 * search_value.h - devices as an operator types them: search values
 * ("d1r1z2-10.0.0.1:6200/sdb"), add values ("r1z1-10.0.0.1:6200/sdb_meta"),
 * set_info change values ("10.0.0.2:6201/sdc") and the --options form of
 * each, parsed exactly as Swift's parse_search_value, parse_add_value,
 * calculate_change_value and their optparse counterparts.
 *
 * Every parser fills a struct dev_spec: the fields the operator gave, and
 * which ones. A dev_spec borrows its meta string from argv; the rest it
 * holds. Failures are -EINVAL with Swift's message in 'err'.
 */
#ifndef TOOLS_RING_CLI_SEARCH_VALUE_H
#define TOOLS_RING_CLI_SEARCH_VALUE_H

#include <stdbool.h>
#include <stddef.h>

#include "ring/dev.h"
#include "tools/ring_cli/opts.h"

#define SEARCH_VALUE_ERRLEN 256

enum dev_spec_field {
    DEV_SPEC_ID = 1 << 0,
    DEV_SPEC_REGION = 1 << 1,
    DEV_SPEC_ZONE = 1 << 2,
    DEV_SPEC_IP = 1 << 3,
    DEV_SPEC_PORT = 1 << 4,
    DEV_SPEC_REPLICATION_IP = 1 << 5,
    DEV_SPEC_REPLICATION_PORT = 1 << 6,
    DEV_SPEC_DEVICE = 1 << 7,
    DEV_SPEC_WEIGHT = 1 << 8,
    DEV_SPEC_META = 1 << 9,
};

struct dev_spec {
    unsigned set; /* DEV_SPEC_* bits of the fields given */
    long id, region, zone, port, replication_port;
    double weight;
    char ip[RING_DEV_IP_MAX + 1]; /* normalized */
    char replication_ip[RING_DEV_IP_MAX + 1];
    char device[RING_DEV_NAME_MAX + 1];
    const char *meta; /* borrowed */
};

/* The device options every device command accepts (Swift's parse_args),
 * indexed by enum dev_opt. */
enum dev_opt {
    DEV_OPT_ID,
    DEV_OPT_REGION,
    DEV_OPT_ZONE,
    DEV_OPT_IP,
    DEV_OPT_PORT,
    DEV_OPT_REPLICATION_IP,
    DEV_OPT_REPLICATION_PORT,
    DEV_OPT_DEVICE,
    DEV_OPT_WEIGHT,
    DEV_OPT_META,
    DEV_OPT_CHANGE_IP,
    DEV_OPT_CHANGE_PORT,
    DEV_OPT_CHANGE_REPLICATION_IP,
    DEV_OPT_CHANGE_REPLICATION_PORT,
    DEV_OPT_CHANGE_DEVICE,
    DEV_OPT_CHANGE_META,
    DEV_OPT_YES,
    DEV_OPT_COUNT
};
extern const struct opt_spec dev_opt_specs[DEV_OPT_COUNT];

/* True when a search option was given, i.e. the command uses the
 * --options form rather than search values (Swift's validate_args). */
bool dev_opts_given(const struct opt_value *vals);

/* "d<id>r<region>z<zone>-<ip>:<port>R<r_ip>:<r_port>/<device>_<meta>",
 * every part optional. */
int search_value_parse(const char *value, struct dev_spec *spec,
                       char err[SEARCH_VALUE_ERRLEN]);
int search_value_from_opts(const struct opt_value *vals, struct dev_spec *spec,
                           char err[SEARCH_VALUE_ERRLEN]);

/* "[r<region>]z<zone>-<ip>:<port>[R<r_ip>:<r_port>]/<device>[_<meta>]".
 * Without r<region>, DEV_SPEC_REGION stays unset (the caller warns and
 * defaults to 1); without R..., the replication ip and port are unset. */
int add_value_parse(const char *value, struct dev_spec *spec,
                    char err[SEARCH_VALUE_ERRLEN]);
/* --region --zone --ip --port --device --weight (required), --meta,
 * --replication-ip, --replication-port (default to ip and port). */
int add_value_from_opts(const struct opt_value *vals, struct dev_spec *spec,
                        char err[SEARCH_VALUE_ERRLEN]);

/* set_info: "<ip>:<port>R<r_ip>:<r_port>/<device>_<meta>", any part. */
int change_value_parse(const char *value, struct dev_spec *spec,
                       char err[SEARCH_VALUE_ERRLEN]);
/* --change-ip --change-port ... --change-meta. */
int change_value_from_opts(const struct opt_value *vals, struct dev_spec *spec,
                           char err[SEARCH_VALUE_ERRLEN]);

/* Does 'dev' match every field set in 'spec' (Swift's search_devs: meta
 * is a substring match, the others exact)? */
bool dev_spec_match(const struct dev_spec *spec, const struct ring_dev *dev);

/* Overwrites the fields of 'dev' that 'spec' sets. The strings of 'dev'
 * then point into 'spec' (so never release such a dev). */
void dev_spec_apply(const struct dev_spec *spec, struct ring_dev *dev);

#endif /* TOOLS_RING_CLI_SEARCH_VALUE_H */
