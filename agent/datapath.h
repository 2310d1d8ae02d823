/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Datapath: the loaded BPF object and its maps. The object is loaded once; each
 * network namespace the agent works in ("scope") gets its own instance of the
 * programs, loaded with the scope id as a read-only constant and sharing every
 * map with the first instance, because a TC program cannot tell namespaces apart
 * by ifindex. Implements struct nc_map_ops for the rule table.
 */
#ifndef NC_DATAPATH_H
#define NC_DATAPATH_H

#include <stdint.h>

#include "netchaos/maps.h"
#include "rule_table.h"

struct nc_datapath;

int nc_datapath_open(struct nc_datapath **out);
void nc_datapath_close(struct nc_datapath *dp);

/* Program fds of a scope, loading its instance on first use. */
int nc_datapath_scope_progs(struct nc_datapath *dp, uint32_t scope, int *egress_fd,
			    int *ingress_fd);

/* Unload a scope's programs once nothing is attached any more. */
void nc_datapath_scope_release(struct nc_datapath *dp, uint32_t scope);

extern const struct nc_map_ops nc_datapath_map_ops; /* ctx = struct nc_datapath * */

/* Write nc_global: *settings with heartbeat_ns set to now. */
int nc_datapath_heartbeat(struct nc_datapath *dp, const struct nc_global *settings);
int nc_datapath_read_counters(struct nc_datapath *dp, uint32_t slot, struct nc_counters *sum);

uint64_t nc_now_boottime_ns(void);

#endif
