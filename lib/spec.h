/* SPDX-License-Identifier: GPL-2.0-only */
/* Cross-field validation of a fault spec, run by the CLI before sending and
 * by the agent again before acting. */
#ifndef NC_SPEC_H
#define NC_SPEC_H

#include <stddef.h>

#include "netchaos/proto.h"

/* 0, or -EINVAL with a one-line reason in err. */
int nc_spec_validate(const struct nc_rule_spec *spec, char *err, size_t errlen);
/* Human description of the target: "port 5000 proto tcp ip 10.0.0.0/8". */
void nc_spec_describe_target(const struct nc_rule_spec *spec, char *buf, size_t len);

#endif
