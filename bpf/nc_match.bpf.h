/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Matching: the LPM lookups of a scope's patterns and the per-rule
 * post-checks that cannot live in the key (expiry, direction, interface,
 * protocol mask, the AND of several port dimensions). The cost is at most
 * NC_PATTERN_COUNT lookups per packet whatever the number of rules.
 */
#ifndef NC_MATCH_BPF_H
#define NC_MATCH_BPF_H

#include "nc_defs.bpf.h"
#include "nc_maps.bpf.h"
#include "nc_parse.bpf.h"

#define NC_PATTERN_COUNT 6 /* (proto given or not) x (ANY, SRC, DST) */

/* Does some match entry of the scope key on this port (network order) of this kind? */
static __always_inline bool nc_port_named(__u32 scope, __u32 kind, __be16 port)
{
	__u32 p = bpf_ntohs(port), idx = NC_PORT_WORD(scope, kind, p);
	const __u64 *word = bpf_map_lookup_elem(&nc_ports, &idx);

	return word && (*word & NC_PORT_BIT(p));
}

/*
 * The patterns worth a lookup for a packet with these ports: the SRC (DST)
 * ones only when the scope names the source (destination) port. For traffic
 * no rule is about this is where the packet leaves, at the cost of one or two
 * array reads, whatever the number of rules.
 */
static __always_inline __u32 nc_port_patterns(__u32 patterns, __u32 scope, __be16 sport,
					      __be16 dport)
{
	const __u32 src = NC_PATTERNS_OF_KIND(NC_PORT_SRC), dst = NC_PATTERNS_OF_KIND(NC_PORT_DST);

	if ((patterns & src) && !nc_port_named(scope, NC_PORT_SRC, sport))
		patterns &= ~src;
	if ((patterns & dst) && !nc_port_named(scope, NC_PORT_DST, dport))
		patterns &= ~dst;
	return patterns;
}

/* The same for a parsed packet: no ports, no port-keyed pattern. */
static __always_inline __u32 nc_patterns_for(__u32 patterns, __u32 scope, const struct nc_pkt *pkt)
{
	if (!pkt->has_ports)
		return patterns & NC_PATTERNS_OF_KIND(NC_PORT_ANY);
	return nc_port_patterns(patterns, scope, pkt->sport, pkt->dport);
}

static __always_inline void nc_key_init(struct nc_match_key *key, const struct nc_pkt *pkt,
					__u32 scope)
{
	/* the whole key is initialised: the verifier wants no stack holes */
	__builtin_memset(key, 0, sizeof(*key));
	key->prefixlen = NC_KEY_PREFIX(pkt->family == 4 ? 32 : 128);
	key->scope = scope;
	key->family = pkt->family;
	__builtin_memcpy(key->addr, pkt->peer, sizeof(key->addr));
}

/*
 * Look up pattern `bit` (NC_PATTERN numbering) for the packet, or NULL when
 * the pattern does not apply to it (a proto key needs a protocol the agent
 * can key on).
 */
static __always_inline const struct nc_match_val *
nc_match_lookup(struct nc_match_key *key, const struct nc_pkt *pkt, __u32 bit)
{
	__u8 kind = bit % 3;

	if (bit >= 3) {
		if (!pkt->key_proto)
			return NULL;
		key->proto = pkt->key_proto;
	} else {
		key->proto = 0;
	}
	/* port kinds only come here for packets with ports (nc_patterns_for) */
	key->port_kind = kind;
	key->port = kind == NC_PORT_SRC ? pkt->sport : kind == NC_PORT_DST ? pkt->dport : 0;
	return bpf_map_lookup_elem(&nc_match, key);
}

static __always_inline bool nc_rule_has_ifindex(const struct nc_rule *rule, __u32 ifindex)
{
	__u32 i, n = rule->n_ifindex;

	for (i = 0; i < NC_RULE_MAX_IFACES; i++) {
		if (i >= n)
			break;
		if (rule->ifindex[i] == ifindex)
			return true;
	}
	return false;
}

/*
 * Port post-check: AND across kinds, OR within a kind. In the DST lookup a
 * rule entered under both SRC and DST keys (NC_RF_KEY_EITHER) is skipped
 * when the SRC lookup already found it, i.e. when the source port is in one
 * of its EITHER ranges (sport == dport is the common case of this).
 *
 * Branch-free on purpose: with a branch per range and kind, the verifier
 * sees every combination of kinds as a different state and the program
 * grows past its complexity limit.
 */
#define NC_KIND_HIT	0xECA0 /* bit (kind * 4 + s_in + 2 * d_in): the range holds */
#define NC_KIND_SRC_HIT	0xA000 /* ... and it is an EITHER range holding sport */

static __always_inline __u32 nc_in_range(__u64 port, const struct nc_port_range *r)
{
	/* 1 when lo <= port <= hi; 16-bit values in 64-bit registers cannot wrap */
	return ((port - r->lo) >> 63 | (r->hi - port) >> 63) ^ 1;
}

static __always_inline bool nc_rule_ports_ok(const struct nc_rule *rule, const struct nc_pkt *pkt,
					     bool dst_lookup)
{
	__u64 sport = bpf_ntohs(pkt->sport), dport = bpf_ntohs(pkt->dport);
	__u32 i, n = rule->n_ports, need = 0, have = 0, src_either = 0;

	if (!pkt->has_ports)
		return false;
	for (i = 0; i < NC_RULE_MAX_PORTS; i++) {
		const struct nc_port_range *r = &rule->ports[i];
		__u32 kind = rule->port_kind[i] & 3, idx;

		if (i >= n)
			break;
		idx = kind * 4 + nc_in_range(sport, r) + 2 * nc_in_range(dport, r);
		need |= 1u << kind;
		have |= ((NC_KIND_HIT >> idx) & 1) << kind;
		src_either |= (NC_KIND_SRC_HIT >> idx) & 1;
	}
	if (need & ~have)
		return false;
	return !(dst_lookup && (rule->flags & NC_RF_KEY_EITHER) && src_either);
}

/* Everything but the key: is this live rule meant for this packet? */
static __always_inline bool nc_rule_matches(const struct nc_rule *rule, const struct nc_pkt *pkt,
					    __u32 ifindex, __u8 dir, __u64 now, bool dst_lookup)
{
	/* expiry is enforced here, whatever the agent does with the slot */
	if (!rule->expires_ns || now >= rule->expires_ns)
		return false;
	if (!(rule->dir_mask & dir))
		return false;
	if (rule->proto_mask && !(rule->proto_mask & pkt->proto_bit))
		return false;
	if (rule->n_ifindex && !nc_rule_has_ifindex(rule, ifindex))
		return false;
	if (rule->n_ports && !nc_rule_ports_ok(rule, pkt, dst_lookup))
		return false;
	return true;
}

#endif /* NC_MATCH_BPF_H */
