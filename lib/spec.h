/* SPDX-License-Identifier: GPL-2.0-only */
/* Cross-field validation of a fault spec, run by the CLI before sending and
 * by the agent again before acting. */
#ifndef NC_SPEC_H
#define NC_SPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "netchaos/proto.h"

/* 0, or -EINVAL with a one-line reason in err. */
int nc_spec_validate(const struct nc_rule_spec *spec, char *err, size_t errlen);
/* Human description of the target: "port 5000 proto tcp ip 10.0.0.0/8". */
void nc_spec_describe_target(const struct nc_rule_spec *spec, char *buf, size_t len);

/* Zeroed spec with the defaults: both directions, NC_DEFAULT_DURATION_MS. */
void nc_spec_init(struct nc_rule_spec *spec);
/* Human description of the fault: "drop", "loss 30%", "corrupt 1% (payload)". */
void nc_spec_describe_fault(const struct nc_rule_spec *spec, char *buf, size_t len);
/* A name the kernel would accept for an interface: 1..IF_NAMESIZE-1 bytes,
 * no '/', ':' or blanks, not "." or "..". */
bool nc_ifname_valid(const char *name);

#endif
