/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The per-packet flow of docs/design.md ("Datapath"), shared by both hooks:
 * scope patterns, the fast front, parse, the port bitmap, the seen-mark
 * gate, one LPM lookup per pattern left, the rule walk (dead-man switch at
 * the first entry found), then the verdict. The cheap exits come first:
 * a scope with no rules costs one array lookup and no parsing; where every
 * rule of the scope is keyed on ports, a packet without ports, or a plain
 * TCP/UDP packet whose ports no rule names, costs a few header fields read at
 * fixed offsets and one or two more array reads.
 */
#ifndef NC_CLASSIFY_BPF_H
#define NC_CLASSIFY_BPF_H

#include "nc_defs.bpf.h"
#include "nc_maps.bpf.h"
#include "nc_parse.bpf.h"
#include "nc_match.bpf.h"
#include "nc_act.bpf.h"

/* Dead-man switch: faults stop when the agent's heartbeat is too old. */
static __always_inline bool nc_agent_dead(const struct nc_global *g, __u64 now)
{
	__u64 hb = g->heartbeat_ns, limit = g->deadman_ns;

	if (!limit)
		return false;
	return now < hb || now - hb > limit;
}

#define NC_WALK_DST_LOOKUP 0x100 /* nc_walk() flags: dir | this */
#define NC_WALK_PROTECTED  0x200 /* the packet uses a protected port */

static __always_inline bool nc_port_protected(const struct nc_global *g, const struct nc_pkt *pkt)
{
	__u16 sport = bpf_ntohs(pkt->sport), dport = bpf_ntohs(pkt->dport);

	if (!pkt->has_ports)
		return false;
	for (int i = 0; i < NC_PROTECTED_PORTS; i++) {
		__u16 p = g->protected_ports[i];

		if (p && (p == sport || p == dport))
			return true;
	}
	return false;
}

/*
 * Walk the rule slots of one match value. Returns TC_ACT_SHOT when a rule
 * drops the packet, TC_ACT_UNSPEC to go on.
 *
 * A global (not inlined) function on purpose: the verifier checks it once,
 * with its arguments unknown, instead of once per lookup with every
 * combination of what earlier rules decided; inlined, the 6 x 16 rule walks
 * exceed the verifier's 1M instruction budget. The call only happens for
 * packets whose key matched, so the common path does not pay for it.
 */
__noinline int nc_walk(struct __sk_buff *skb, struct nc_match_val *val,
		       const struct nc_pkt *pkt, struct nc_verdict *v, __u32 flags)
{
	bool dst_lookup = flags & NC_WALK_DST_LOOKUP;
	__u8 dir = flags & NC_DIR_BOTH;
	__u32 i, n;

	if (!val || !pkt || !v)
		return TC_ACT_UNSPEC;
	n = val->count;
	for (i = 0; i < NC_STACK_MAX; i++) {
		const struct nc_rule *rule;
		__u32 slot;

		if (i >= n)
			break;
		slot = val->slot[i];
		rule = bpf_map_lookup_elem(&nc_rules, &slot);
		if (!rule || !nc_rule_matches(rule, pkt, skb->ifindex, dir, v->now, dst_lookup))
			continue;
		if ((flags & NC_WALK_PROTECTED) && !(rule->flags & NC_RF_FORCE))
			continue;
		if (nc_act_rule(rule, slot, pkt, v) == TC_ACT_SHOT)
			return TC_ACT_SHOT;
	}
	return TC_ACT_UNSPEC;
}

/*
 * Steps 3-8 of docs/design.md: parse, gates, lookups, rule walk, verdict.
 * A global function, so that the entry programs stay small: the fast front
 * then runs in a frame of a few bytes with few registers to save, which
 * measured ~2 ns per packet less in the real path than the same code
 * inlined; the packets that come here pay one BPF-to-BPF call.
 */
__noinline int nc_classify_full(struct __sk_buff *skb, __u32 dir, __u32 scope, __u32 patterns)
{
	const struct nc_match_val *val;
	struct nc_match_val slots;
	const struct nc_global *g;
	struct nc_verdict v = {};
	struct nc_match_key key;
	struct nc_pkt pkt = {};
	__u32 zero = 0, bit;
	__u32 walk_flags = dir;
	int ret;

	if (nc_parse_pull(skb, &pkt, dir))
		return TC_ACT_UNSPEC;
	patterns = nc_patterns_for(patterns, scope, &pkt);
	if (!patterns)
		return TC_ACT_UNSPEC;
	/* only now, for packets some lookup is for: the common path stops above */
	g = bpf_map_lookup_elem(&nc_global, &zero);
	if (!g || (skb->mark & g->seen_mark))
		return TC_ACT_UNSPEC;

	nc_key_init(&key, &pkt, scope);
	/* bit order puts the SRC lookup before the DST one (EITHER dedupe) */
	for (bit = 0; bit < NC_PATTERN_COUNT; bit++) {
		if (!(patterns & (1u << bit)))
			continue;
		val = nc_match_lookup(&key, &pkt, bit);
		if (!val)
			continue;
		/*
		 * The verifier lets a global function write what it gets, and
		 * the map is read-only to programs: hand it a copy.
		 */
		__builtin_memcpy(&slots, val, sizeof(slots));
		/* time is read only once a key matched: not on the common path */
		if (!v.now) {
			v.now = bpf_ktime_get_boot_ns();
			if (nc_agent_dead(g, v.now))
				return TC_ACT_UNSPEC;
			if (nc_port_protected(g, &pkt))
				walk_flags |= NC_WALK_PROTECTED;
		}
		ret = nc_walk(skb, &slots, &pkt, &v,
			      walk_flags | (bit % 3 == NC_PORT_DST ? NC_WALK_DST_LOOKUP : 0));
		if (ret == TC_ACT_SHOT)
			return TC_ACT_SHOT;
	}
	return nc_act_finish(skb, &pkt, &v, g->seen_mark, dir);
}

static __always_inline int nc_classify(struct __sk_buff *skb, __u8 dir, __u32 scope)
{
	const struct nc_scope *sc;
	__be16 sport, dport;
	__u32 patterns;

	/*
	 * A class id we wrote at egress must not follow the packet into an
	 * ingress hook (loopback, a veth peer): the IFB steering filter after
	 * us would delay it a second time. Ingress steering sets it afresh.
	 */
	if (dir == NC_DIR_INGRESS && (skb->priority >> 16) == NC_STEER_MAJOR)
		skb->priority = 0;
	sc = bpf_map_lookup_elem(&nc_scopes, &scope);
	if (!sc || !sc->patterns)
		return TC_ACT_UNSPEC;
	patterns = sc->patterns;
	/*
	 * The fast front: when every pattern of the scope is keyed on a port,
	 * a packet without ports, or a plain TCP/UDP packet whose ports the
	 * scope does not name, matches nothing. Most traffic leaves here, with
	 * a few header fields read at fixed offsets and one or two bitmap
	 * words, before the parse.
	 */
	if (!(patterns & NC_PATTERNS_OF_KIND(NC_PORT_ANY))) {
		switch (nc_peek(skb, &sport, &dport)) {
		case NC_PEEK_PORTLESS:
			return TC_ACT_UNSPEC;
		case NC_PEEK_PORTS:
			if (!nc_port_patterns(patterns, scope, sport, dport))
				return TC_ACT_UNSPEC;
			break;
		default:
			break;
		}
	}
	return nc_classify_full(skb, dir, scope, patterns);
}

#endif /* NC_CLASSIFY_BPF_H */
