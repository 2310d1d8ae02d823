/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel UAPI constants the datapath needs but vmlinux.h does not carry
 * (they are #defines, not BTF types), and the common includes of every BPF
 * header. linux/ headers cannot be mixed with vmlinux.h, so they live here.
 */
#ifndef NC_DEFS_BPF_H
#define NC_DEFS_BPF_H

#include <vmlinux.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "netchaos/maps.h"

#define TC_ACT_UNSPEC	(-1)
#define TC_ACT_OK	0
#define TC_ACT_SHOT	2
#define TC_ACT_REDIRECT	7

#define ETH_HLEN	14
#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD

#define IP_OFFSET	0x1FFF	/* fragment offset bits of iphdr.frag_off */
#define IP6_OFFSET	0xFFF8	/* fragment offset bits of frag_hdr.frag_off */

/* IPv6 next-header values from linux/in6.h (#defines, so not in BTF). */
#define IPPROTO_HOPOPTS		0
#define IPPROTO_ROUTING		43
#define IPPROTO_FRAGMENT	44
#define IPPROTO_ICMPV6		58
#define IPPROTO_DSTOPTS		60

#define NC_EINVAL	22
#define NC_EAGAIN	11

#define NC_U32_MAX	0xFFFFFFFFu

#endif /* NC_DEFS_BPF_H */
