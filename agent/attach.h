/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Attachment of the classifier to one interface of the current network
 * namespace (the caller enters it), in one of two ways:
 *
 * - tcx (kernel >= 6.6): a BPF link per direction, appended after the
 *   hook's other tcx programs. No qdisc is created, so attaching and
 *   detaching never disturb the interface's traffic (creating or deleting a
 *   clsact deactivates the device's queues and loses in-flight packets),
 *   and the links die with the agent: a crash leaves nothing attached.
 * - tc: a clsact qdisc (created if there is none) and two cls_bpf filters at
 *   NC_TC_HANDLE/NC_TC_PRIORITY. Detach removes exactly what was created:
 *   our filters, and the clsact only if we created it and it is empty.
 *
 * Either way our programs return TC_ACT_UNSPEC (TCX_NEXT) for packets they
 * leave alone, so the programs and filters of other tools after ours run.
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

/* The kernel's attach types for tcx, for headers older than 6.6. */
#define NC_BPF_TCX_INGRESS 46
#define NC_BPF_TCX_EGRESS  47

enum nc_attach_mode {
	NC_ATTACH_AUTO = 0, /* tcx when the kernel has it, else tc */
	NC_ATTACH_TCX,
	NC_ATTACH_TC,
};

struct nc_attachment {
	int ifindex;
	char ifname[IF_NAMESIZE];
	bool created_clsact;
	bool egress, ingress;	       /* which directions are attached */
	bool tcx;		       /* by tcx links (else tc filters) */
	int egress_link, ingress_link; /* tcx: the links' fds */
};

/* How nc_attach() attaches from now on (default auto). */
void nc_attach_set_mode(enum nc_attach_mode mode);
/* "tcx", "tc", or "auto" before an auto attach found out. */
const char *nc_attach_mode_name(void);
/* Does this kernel have tcx? */
bool nc_attach_has_tcx(void);
/* Parse "auto", "tcx" or "tc"; -EINVAL otherwise. */
int nc_attach_mode_parse(const char *s, enum nc_attach_mode *mode);

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
