/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * clsact attachment of the classifier to one interface of the current network
 * namespace (the caller enters it). Records what it created so detach removes
 * exactly that: our two filters, and the clsact qdisc only if we created it.
 * Our filters return TC_ACT_UNSPEC for packets they leave alone, so filters
 * of other programs (Cilium, ...) after ours still run.
 */
#ifndef NC_ATTACH_H
#define NC_ATTACH_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#define NC_TC_PRIORITY	1
#define NC_TC_HANDLE	0x4e43 /* "NC" */
/* Our TC programs' names start with this: how leftovers are told apart from
 * another tool's filter at the same handle/priority. */
#define NC_TC_PROG_PREFIX "nc_tc_"

struct nc_attachment {
	int ifindex;
	char ifname[IF_NAMESIZE];
	bool created_clsact;
	bool egress, ingress;	/* which filters are in place */
};

int nc_attach(int ifindex, const char *ifname, int egress_fd, int ingress_fd,
	      struct nc_attachment *out);
int nc_detach(struct nc_attachment *a);

/* Leftovers of a crashed agent: *has_ours when a filter at our handle/priority
 * runs a program named NC_TC_PROG_PREFIX* (either direction). -ENODEV when the
 * interface does not exist. */
int nc_attach_find_stale(int ifindex, bool *has_ours);
/* Remove such filters (never another program's), then the clsact if they were
 * all it held. 0 when there is nothing to remove or the interface is gone. */
int nc_attach_remove_stale(int ifindex, const char *ifname);

#endif
