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

struct nc_attachment {
	int ifindex;
	char ifname[IF_NAMESIZE];
	bool created_clsact;
	bool egress, ingress;	/* which filters are in place */
};

int nc_attach(int ifindex, const char *ifname, int egress_fd, int ingress_fd,
	      struct nc_attachment *out);
int nc_detach(struct nc_attachment *a);

#endif
