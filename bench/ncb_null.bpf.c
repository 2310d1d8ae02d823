// SPDX-License-Identifier: GPL-2.0-only
/*
 * The empty contender of the datapath benchmark: a TC program that leaves
 * every packet alone at once. Attached where netchaos attaches its classifier,
 * it measures what the hook itself costs, the floor of every TC/BPF tool.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("tc")
int ncb_null(struct __sk_buff *skb)
{
	return -1; /* TC_ACT_UNSPEC / TCX_NEXT */
}

char LICENSE[] SEC("license") = "GPL";
