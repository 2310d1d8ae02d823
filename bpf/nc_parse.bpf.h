/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Packet parsing: Ethernet, IPv4 or IPv6 (up to NC_IPV6_EXT_MAX extension
 * headers), then TCP/UDP ports and the L4 offsets the corruption needs.
 * Reads the linear area directly (no helper call on the common path) and
 * asks the caller to pull only when the headers are not linear. Never writes
 * the packet: a direct write would make the verifier unclone every skb.
 */
#ifndef NC_PARSE_BPF_H
#define NC_PARSE_BPF_H

#include "nc_defs.bpf.h"

#define NC_IPV6_EXT_MAX	4
#define NC_PARSE_TRIES	3 /* parse, pull, parse again (ext headers may need a second pull) */

struct nc_pkt {
	__u32 peer[4];	   /* destination at egress, source at ingress; IPv4 in [0] */
	__u32 l3_off;	   /* IP header */
	__u32 l4_off;	   /* L4 header; 0 when absent (non-first fragment, unknown) */
	__u32 l4_end;	   /* end of the IP datagram, not of the frame (padding) */
	__u32 payload_off; /* first L4 payload byte; >= l4_end when there is none */
	__u32 need;	   /* -EAGAIN: bytes that must be in the linear area */
	__be16 sport;
	__be16 dport;
	__u8 family;	 /* 4 or 6 */
	__u8 key_proto;	 /* LPM key protocol (ICMPv6 keyed as ICMP); 0 = none */
	__u8 proto_bit;	 /* NC_PROTO_* of the packet; 0 = none */
	__u8 has_ports;	 /* TCP/UDP with its header present */
	__u8 l4proto;	 /* protocol as on the wire */
	__u8 pad[3];
};

static __always_inline int nc_parse_need(struct nc_pkt *pkt, __u32 len)
{
	pkt->need = len;
	return -NC_EAGAIN;
}

/* Is this IPv6 next header one of the extension headers nc_parse() skips? */
static __always_inline bool nc_ipv6_ext(__u8 nexthdr)
{
	switch (nexthdr) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_DSTOPTS:
	case IPPROTO_AH:
	case IPPROTO_FRAGMENT:
		return true;
	default:
		return false;
	}
}

/* Returns the offset past the IPv6 extension headers, or <0. */
static __always_inline int nc_parse_ipv6_ext(void *data, void *data_end, __u32 off,
					     struct nc_pkt *pkt, __u8 *nexthdr, bool *first)
{
	int i;

	for (i = 0; i < NC_IPV6_EXT_MAX; i++) {
		__u8 *hdr = data + off;
		__u32 len;

		if (!nc_ipv6_ext(*nexthdr))
			return off;
		if ((void *)(hdr + 8) > data_end) /* every ext header is >= 8 bytes */
			return nc_parse_need(pkt, off + 8);

		if (*nexthdr == IPPROTO_FRAGMENT) {
			if (*(__be16 *)(hdr + 2) & bpf_htons(IP6_OFFSET))
				*first = false;
			len = 8;
		} else if (*nexthdr == IPPROTO_AH) {
			len = ((__u32)hdr[1] + 2) * 4;
		} else {
			len = ((__u32)hdr[1] + 1) * 8;
		}
		*nexthdr = hdr[0];
		off += len;
	}
	return off;
}

/* The L4 part: ports and the offsets payload corruption needs. */
static __always_inline int nc_parse_l4(void *data, void *data_end, __u32 off,
				       struct nc_pkt *pkt)
{
	switch (pkt->l4proto) {
	case IPPROTO_TCP: {
		struct tcphdr *th = data + off;

		if ((void *)(th + 1) > data_end)
			return nc_parse_need(pkt, off + sizeof(*th));
		pkt->sport = th->source;
		pkt->dport = th->dest;
		pkt->has_ports = 1;
		/* a bogus data offset must not point the payload into the header */
		pkt->payload_off = off + (th->doff > 5 ? th->doff * 4 : sizeof(*th));
		break;
	}
	case IPPROTO_UDP: {
		struct udphdr *uh = data + off;

		if ((void *)(uh + 1) > data_end)
			return nc_parse_need(pkt, off + sizeof(*uh));
		pkt->sport = uh->source;
		pkt->dport = uh->dest;
		pkt->has_ports = 1;
		pkt->payload_off = off + sizeof(*uh);
		break;
	}
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		/* type, code, checksum, then 4 bytes that depend on the type */
		pkt->payload_off = off + 8;
		break;
	default:
		return 0;
	}
	pkt->l4_off = off;
	return 0;
}

/* What nc_peek() tells about a packet. */
enum nc_peek {
	NC_PEEK_PARSE,	  /* ask nc_parse(): options, extension headers, not linear */
	NC_PEEK_PORTS,	  /* TCP/UDP, both ports read */
	NC_PEEK_PORTLESS, /* no ports for nc_parse() either: not IP, not TCP/UDP, a later fragment */
};

/*
 * The fast front: what fixed offsets tell about a packet. The ports of a
 * plain TCP or UDP packet (IPv4 without options and not a later fragment,
 * or IPv6 whose first next header is TCP/UDP, headers in the linear area),
 * or that the packet has none at all. For the packets it decides, nc_parse()
 * would find the same ports, or no ports; anything else is NC_PEEK_PARSE.
 */
static __always_inline enum nc_peek nc_peek(struct __sk_buff *skb, __be16 *sport, __be16 *dport)
{
	void *data, *data_end;
	struct udphdr *l4; /* TCP and UDP both start with the two ports */

	asm volatile("" : "+r"(skb)); /* as in nc_parse(): no ctx pointer reuse */
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data + ETH_HLEN;

		if ((void *)(ip + 1) > data_end)
			return NC_PEEK_PARSE;
		if ((ip->frag_off & bpf_htons(IP_OFFSET)) ||
		    (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP))
			return NC_PEEK_PORTLESS;
		if (ip->ihl != 5)
			return NC_PEEK_PARSE;
		l4 = (void *)(ip + 1);
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data + ETH_HLEN;

		if ((void *)(ip6 + 1) > data_end)
			return NC_PEEK_PARSE;
		if (nc_ipv6_ext(ip6->nexthdr))
			return NC_PEEK_PARSE;
		if (ip6->nexthdr != IPPROTO_TCP && ip6->nexthdr != IPPROTO_UDP)
			return NC_PEEK_PORTLESS;
		l4 = (void *)(ip6 + 1);
	} else {
		return NC_PEEK_PORTLESS;
	}
	if ((void *)(l4 + 1) > data_end)
		return NC_PEEK_PARSE;
	*sport = l4->source;
	*dport = l4->dest;
	return NC_PEEK_PORTS;
}

/*
 * Fill pkt from the linear area. Returns 0, -EINVAL for packets the
 * datapath leaves alone (not IP, truncated), or -EAGAIN with pkt->need set.
 */
static __always_inline int nc_parse(struct __sk_buff *skb, struct nc_pkt *pkt, __u8 dir)
{
	void *data, *data_end;
	__u32 off = ETH_HLEN, end, skb_len;
	bool first = true;
	__u8 nexthdr;
	int ret;

	/*
	 * Keep clang from computing &skb->data once and reusing it across a
	 * pull: the verifier rejects loads through a modified ctx pointer.
	 */
	asm volatile("" : "+r"(skb));
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	skb_len = skb->len;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data + off;
		__u32 hlen;

		if ((void *)(ip + 1) > data_end)
			return nc_parse_need(pkt, off + sizeof(*ip));
		hlen = ip->ihl * 4;
		if (hlen < sizeof(*ip))
			return -NC_EINVAL;
		pkt->family = 4;
		pkt->peer[0] = dir == NC_DIR_EGRESS ? ip->daddr : ip->saddr;
		pkt->l3_off = off;
		/* 0 is a BIG TCP GSO packet: the skb knows the length */
		end = ip->tot_len ? off + bpf_ntohs(ip->tot_len) : skb_len;
		if (ip->frag_off & bpf_htons(IP_OFFSET))
			first = false;
		nexthdr = ip->protocol;
		off += hlen;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data + off;
		__u32 plen;

		if ((void *)(ip6 + 1) > data_end)
			return nc_parse_need(pkt, off + sizeof(*ip6));
		pkt->family = 6;
		__builtin_memcpy(pkt->peer, dir == NC_DIR_EGRESS ? &ip6->daddr : &ip6->saddr,
				 sizeof(pkt->peer));
		pkt->l3_off = off;
		/* 0 is a jumbogram / BIG TCP: the skb knows the length */
		plen = bpf_ntohs(ip6->payload_len);
		end = plen ? off + sizeof(*ip6) + plen : skb_len;
		nexthdr = ip6->nexthdr;
		ret = nc_parse_ipv6_ext(data, data_end, off + sizeof(*ip6), pkt, &nexthdr,
					&first);
		if (ret < 0)
			return ret;
		off = ret;
	} else {
		return -NC_EINVAL;
	}

	pkt->l4_end = end < skb_len ? end : skb_len;
	pkt->l4proto = nexthdr;
	switch (nexthdr) {
	case IPPROTO_TCP:
		pkt->key_proto = IPPROTO_TCP;
		pkt->proto_bit = NC_PROTO_TCP;
		break;
	case IPPROTO_UDP:
		pkt->key_proto = IPPROTO_UDP;
		pkt->proto_bit = NC_PROTO_UDP;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		pkt->key_proto = IPPROTO_ICMP;
		pkt->proto_bit = NC_PROTO_ICMP;
		break;
	}
	/* a non-first fragment carries no L4 header: no ports, no payload offsets */
	if (!first)
		return 0;
	return nc_parse_l4(data, data_end, off, pkt);
}

/*
 * Parse, pulling the missing headers into the linear area only when needed:
 * a pull on a cloned skb copies the packet, so never on the common path.
 */
static __always_inline int nc_parse_pull(struct __sk_buff *skb, struct nc_pkt *pkt, __u8 dir)
{
	int i, ret = -NC_EINVAL;

	for (i = 0; i < NC_PARSE_TRIES; i++) {
		ret = nc_parse(skb, pkt, dir);
		if (ret != -NC_EAGAIN)
			return ret;
		if (pkt->need > skb->len || bpf_skb_pull_data(skb, pkt->need))
			return -NC_EINVAL;
	}
	return ret;
}

#endif /* NC_PARSE_BPF_H */
