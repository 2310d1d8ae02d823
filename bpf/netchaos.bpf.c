// SPDX-License-Identifier: GPL-2.0-only
/*
 * netchaos datapath: the two TC entry points and nothing else. The logic
 * lives in the nc_*.bpf.h headers (docs/design.md describes it); the maps'
 * layouts in include/netchaos/maps.h.
 */
#include "nc_classify.bpf.h"

/* Which network namespace this load of the programs serves (set by the agent). */
const volatile __u32 nc_scope_id = 0;

SEC("tc")
int nc_tc_egress(struct __sk_buff *skb)
{
	return nc_classify(skb, NC_DIR_EGRESS, nc_scope_id);
}

SEC("tc")
int nc_tc_ingress(struct __sk_buff *skb)
{
	return nc_classify(skb, NC_DIR_INGRESS, nc_scope_id);
}

char LICENSE[] SEC("license") = "GPL";
