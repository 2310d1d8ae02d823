/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Actions: what a matching rule does to the packet (drop, loss, corrupt,
 * steer), the dice, the per-rule counters, and the packet damage itself.
 * Rules act in lookup order; a drop ends the walk, corruption happens at most
 * once and is applied after the walk (a later drop makes it moot), steering
 * goes to the newest STEER rule. All packet writes go through helpers, which
 * unclone only the packets they touch.
 */
#ifndef NC_ACT_BPF_H
#define NC_ACT_BPF_H

#include "nc_defs.bpf.h"
#include "nc_maps.bpf.h"
#include "nc_parse.bpf.h"

/* What the walk decided so far for one packet. */
struct nc_verdict {
	__u64 now;	     /* CLOCK_BOOTTIME, read once the first entry is found */
	__u32 steer_id;	     /* id of the newest STEER rule seen */
	__u32 steer_slot;
	__u32 steer_classid;
	__u32 steer_redirect;
	__u8 matched;	     /* some rule matched: set the seen mark */
	__u8 steer;	     /* steer_* are valid */
	__u8 corrupt;	     /* damage the packet after the walk */
	__u8 corrupt_payload; /* ... its payload, keeping checksums valid */
};

/* bpf_get_prandom_u32() < prob, except that UINT32_MAX (100%) always hits. */
static __always_inline bool nc_dice(__u32 prob)
{
	if (!prob)
		return false;
	if (prob == NC_U32_MAX)
		return true;
	return bpf_get_prandom_u32() < prob;
}

static __always_inline void nc_count(__u32 slot, bool matched, bool affected)
{
	struct nc_counters *c = bpf_map_lookup_elem(&nc_counters, &slot);

	/* per-CPU value, and TC runs with BH off: no atomics needed */
	if (!c)
		return;
	c->matched += matched;
	c->affected += affected;
}

/* Payload mode needs the L4 header (checksum) and at least one payload byte. */
static __always_inline bool nc_corrupt_possible(const struct nc_rule *rule,
						const struct nc_pkt *pkt)
{
	if (!(rule->flags & NC_RF_PAYLOAD))
		return true;
	return pkt->l4_off && pkt->payload_off < pkt->l4_end;
}

/*
 * A matching rule acts. Returns TC_ACT_SHOT when the packet is dropped (the
 * walk ends), TC_ACT_UNSPEC otherwise.
 */
static __always_inline int nc_act_rule(const struct nc_rule *rule, __u32 slot,
				       const struct nc_pkt *pkt, struct nc_verdict *v)
{
	bool affected = false;

	v->matched = 1;
	switch (rule->action) {
	case NC_ACT_DROP:
		affected = true;
		break;
	case NC_ACT_LOSS:
		affected = nc_dice(rule->prob);
		break;
	case NC_ACT_CORRUPT:
		if (v->corrupt || !nc_corrupt_possible(rule, pkt) || !nc_dice(rule->prob))
			break;
		v->corrupt = 1;
		v->corrupt_payload = !!(rule->flags & NC_RF_PAYLOAD);
		affected = true;
		break;
	case NC_ACT_STEER:
		/* counted as affected once the walk is over and the choice is final */
		if (v->steer && rule->id <= v->steer_id)
			break;
		v->steer = 1;
		v->steer_id = rule->id;
		v->steer_slot = slot;
		v->steer_classid = rule->classid;
		v->steer_redirect = rule->redirect_ifindex;
		break;
	}
	nc_count(slot, true, affected);
	if (affected && rule->action != NC_ACT_CORRUPT)
		return TC_ACT_SHOT;
	return TC_ACT_UNSPEC;
}

/*
 * Make the receiver's stack discard the packet, as netem's corrupt does.
 * IPv4: flip one bit of the header checksum. IPv6 has none, and host-local
 * L4 checksums are CHECKSUM_PARTIAL (never verified), so make the payload
 * length claim more bytes than the packet has: the receiver drops it as
 * truncated. BPF_F_RECOMPUTE_CSUM keeps a CHECKSUM_COMPLETE skb->csum honest
 * so the drop is for the reason we chose.
 */
static __always_inline void nc_corrupt_header(struct __sk_buff *skb, const struct nc_pkt *pkt)
{
	__u32 off;
	__u16 val;

	if (pkt->family == 4) {
		off = pkt->l3_off + __builtin_offsetof(struct iphdr, check);
		if (bpf_skb_load_bytes(skb, off, &val, sizeof(val)))
			return;
		val ^= bpf_htons(1u << (bpf_get_prandom_u32() & 15));
	} else {
		__u16 plen;

		off = pkt->l3_off + __builtin_offsetof(struct ipv6hdr, payload_len);
		if (bpf_skb_load_bytes(skb, off, &val, sizeof(val)))
			return;
		/* set a clear bit, so the length only grows */
		plen = bpf_ntohs(val);
		plen = plen < 0x8000 ? plen | 0x8000 : 0xFFFF;
		val = bpf_htons(plen);
	}
	bpf_skb_store_bytes(skb, off, &val, sizeof(val), BPF_F_RECOMPUTE_CSUM);
}

/*
 * Flip one random payload bit and fix the L4 checksum incrementally. For
 * CHECKSUM_PARTIAL the fix is a no-op and the checksum is computed later over
 * the damaged bytes; either way the application gets bad bytes with a valid
 * checksum. skb->csum (CHECKSUM_COMPLETE) is left alone on purpose: the byte
 * and the checksum field change the packet's sum by opposite amounts. (UDP
 * over IPv4 without checksum is the exception: only the byte changes.)
 */
static __always_inline void nc_corrupt_payload(struct __sk_buff *skb, const struct nc_pkt *pkt)
{
	__u32 len = pkt->l4_end - pkt->payload_off, pos, off, csum_off, shift, flags = 2;
	__u8 old, new;
	__be16 from, to;

	/* multiply-shift instead of a modulo: pos < len * 8 */
	pos = ((__u64)bpf_get_prandom_u32() * (len * 8)) >> 32;
	off = pkt->payload_off + pos / 8;
	if (bpf_skb_load_bytes(skb, off, &old, 1))
		return;
	new = old ^ (1u << (pos & 7));

	switch (pkt->l4proto) {
	case IPPROTO_TCP:
		csum_off = pkt->l4_off + __builtin_offsetof(struct tcphdr, check);
		break;
	case IPPROTO_UDP:
		csum_off = pkt->l4_off + __builtin_offsetof(struct udphdr, check);
		if (bpf_skb_load_bytes(skb, csum_off, &from, sizeof(from)))
			return;
		if (!from) {
			/* IPv4 sent without checksum: nothing to fix but skb->csum */
			bpf_skb_store_bytes(skb, off, &new, 1, BPF_F_RECOMPUTE_CSUM);
			return;
		}
		flags |= BPF_F_MARK_MANGLED_0; /* a result of 0 is sent as 0xffff */
		break;
	default: /* ICMP, ICMPv6 */
		csum_off = pkt->l4_off + __builtin_offsetof(struct icmphdr, checksum);
		break;
	}
	/* the byte's half of its 16-bit checksum word, counted from the L4 header */
	shift = (off - pkt->l4_off) & 1 ? 0 : 8;
	from = bpf_htons((__u16)old << shift);
	to = bpf_htons((__u16)new << shift);

	if (bpf_skb_store_bytes(skb, off, &new, 1, 0))
		return;
	bpf_l4_csum_replace(skb, csum_off, from, to, flags);
}

/*
 * After a walk that did not drop: mark, damage, steer. Returns the TC
 * verdict.
 */
static __always_inline int nc_act_finish(struct __sk_buff *skb, const struct nc_pkt *pkt,
					 const struct nc_verdict *v, __u32 seen_mark, __u8 dir)
{
	if (!v->matched)
		return TC_ACT_UNSPEC;
	skb->mark |= seen_mark;
	if (v->corrupt) {
		if (v->corrupt_payload)
			nc_corrupt_payload(skb, pkt);
		else
			nc_corrupt_header(skb, pkt);
	}
	if (!v->steer)
		return TC_ACT_UNSPEC;
	nc_count(v->steer_slot, false, true);
	skb->priority = v->steer_classid;
	if (dir == NC_DIR_INGRESS && v->steer_redirect)
		return bpf_redirect(v->steer_redirect, 0);
	return TC_ACT_UNSPEC;
}

#endif /* NC_ACT_BPF_H */
