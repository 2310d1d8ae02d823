/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The only definition of everything shared between the BPF datapath and the
 * agent: map keys, map values and the constants that size them. Compiles
 * under vmlinux.h (BPF) and under libc (agent, tests).
 *
 * Datapath model (docs/design.md has the long version):
 *   - one LPM trie `nc_match` maps (scope, proto, port kind, port, peer CIDR)
 *     to the list of rule slots that want such packets;
 *   - `nc_rules[slot]` holds a rule: action, probability, expiry and the
 *     post-checks that cannot live in the key (direction, interfaces, AND of
 *     several port dimensions);
 *   - `nc_counters[slot]` counts matched / affected packets per CPU;
 *   - `nc_ports` is a bitmap per (scope, port kind) of the ports some match
 *     entry names: a packet whose ports no rule names skips the port-keyed
 *     LPM lookups (one array word instead of a trie walk).
 */
#ifndef NETCHAOS_MAPS_H
#define NETCHAOS_MAPS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define NC_MAX_RULES		16384	/* rule slots */
#define NC_MAX_SCOPES		256	/* network namespaces with programs */
#define NC_MAX_MATCH_ENTRIES	(1 << 18)
#define NC_STACK_MAX		16	/* rules sharing one match entry */
#define NC_RULE_MAX_PORTS	8
#define NC_RULE_MAX_IFACES	8

/* Actions done by the TC program. A "partition" is a DROP with peers. */
enum nc_action {
	NC_ACT_NONE = 0,
	NC_ACT_DROP = 1,
	NC_ACT_LOSS = 2,
	NC_ACT_CORRUPT = 3,
	NC_ACT_STEER = 4, /* netem: set skb->priority = classid (issue 3) */
};

enum nc_dir {
	NC_DIR_EGRESS = 1,
	NC_DIR_INGRESS = 2,
	NC_DIR_BOTH = 3,
};

/* Which port of the packet a match entry or a post-check looks at. */
enum nc_port_kind {
	NC_PORT_ANY = 0,    /* key only: the rule does not look at ports */
	NC_PORT_SRC = 1,
	NC_PORT_DST = 2,
	NC_PORT_EITHER = 3, /* spec and post-check only: sport or dport */
};

/* Major of the netem class ids STEER writes into skb->priority (the agent's
 * HTB trees are 4e43:). */
#define NC_STEER_MAJOR 0x4e43

/* Protocol bits of nc_rule.proto_mask; 0 means any protocol. */
#define NC_PROTO_TCP	(1u << 0)
#define NC_PROTO_UDP	(1u << 1)
#define NC_PROTO_ICMP	(1u << 2) /* ICMP for IPv4, ICMPv6 for IPv6 */

/* nc_rule.flags */
#define NC_RF_PAYLOAD	 (1u << 0) /* corrupt: keep checksums valid */
#define NC_RF_KEY_EITHER (1u << 1) /* entered under SRC and DST keys */
#define NC_RF_FORCE	 (1u << 2) /* applies to protected ports too */

#define NC_PROTECTED_PORTS 8

/*
 * Lookup patterns: the program only does the LPM lookups whose pattern some
 * live rule of the scope uses. Bit = NC_PATTERN(proto given, port kind).
 */
#define NC_PATTERN(proto_given, kind) (1u << ((proto_given) ? 3 + (kind) : (kind)))
/* Every pattern bit of one port kind (proto given or not). */
#define NC_PATTERNS_OF_KIND(kind) (NC_PATTERN(0, kind) | NC_PATTERN(1, kind))

/*
 * nc_ports: an ARRAY of __u64 words, 65,536 bits per (scope, NC_PORT_SRC or
 * NC_PORT_DST). Bit `port` (host order) is set while some live match entry of
 * the scope is keyed on that port of that kind, whatever its protocol. Only
 * a hint for skipping lookups: a set bit without an entry costs one lookup,
 * so the agent may set it early and clear it late.
 */
#define NC_PORT_WORDS_PER_KIND	(65536 / 64)
#define NC_PORT_WORDS		(NC_MAX_SCOPES * 2 * NC_PORT_WORDS_PER_KIND)
#define NC_PORT_WORD(scope, kind, port) \
	(((scope) * 2 + ((kind) == NC_PORT_DST)) * NC_PORT_WORDS_PER_KIND + ((port) >> 6))
#define NC_PORT_BIT(port) (1ull << ((port) & 63))

/*
 * LPM key. The prefix covers scope, proto, port kind and port always
 * (NC_KEY_FIXED_BITS); an address match adds the family word and the CIDR
 * length. A rule without addresses stops at NC_KEY_FIXED_BITS, so it matches
 * both families.
 */
struct nc_match_key {
	__u32 prefixlen;
	__u32 scope;
	__u8 proto;	/* IPPROTO_TCP/UDP/ICMP (ICMPv6 is stored as ICMP), 0 = any */
	__u8 port_kind; /* NC_PORT_ANY, NC_PORT_SRC or NC_PORT_DST */
	__be16 port;	/* network order; 0 with NC_PORT_ANY */
	__u8 family;	/* 4 or 6 */
	__u8 pad[3];
	__u8 addr[16];	/* IPv4 in the first 4 bytes */
};

#define NC_KEY_FIXED_BITS  64
#define NC_KEY_FAMILY_BITS 32
#define NC_KEY_PREFIX(cidr_len) (NC_KEY_FIXED_BITS + NC_KEY_FAMILY_BITS + (cidr_len))

struct nc_match_val {
	__u16 count;
	__u16 slot[NC_STACK_MAX];
	__u16 pad;
};

struct nc_port_range {
	__u16 lo; /* host order, inclusive */
	__u16 hi;
};

struct nc_rule {
	__u64 expires_ns; /* CLOCK_BOOTTIME; 0 = slot free; enforced per packet */
	__u32 id;	  /* user-visible rule id */
	__u32 prob;	  /* affect when bpf_get_prandom_u32() < prob; DROP ignores it */
	__u8 action;	  /* enum nc_action */
	__u8 dir_mask;	  /* enum nc_dir bits */
	__u8 flags;	  /* NC_RF_* */
	__u8 proto_mask;  /* NC_PROTO_*; 0 = any */
	__u8 n_ports;
	__u8 n_ifindex;	  /* 0 = every interface the program is attached to */
	__u8 port_kind[NC_RULE_MAX_PORTS]; /* NC_PORT_SRC/DST/EITHER */
	__u8 pad[6];
	struct nc_port_range ports[NC_RULE_MAX_PORTS];
	__u32 ifindex[NC_RULE_MAX_IFACES];
	__u32 classid;		/* NC_ACT_STEER: netem class (issue 3) */
	__u32 redirect_ifindex; /* NC_ACT_STEER at ingress: IFB device */
	__u32 pad2;
};

struct nc_counters {
	__u64 matched;	/* packets that met the rule's match, while it was live */
	__u64 affected; /* packets the rule dropped, corrupted or steered */
};

/* Per network namespace (scope) state written by the agent. */
struct nc_scope {
	__u32 patterns; /* NC_PATTERN() bits in use */
	__u32 pad;
};

/* nc_global[0]: agent liveness and datapath-wide settings. */
struct nc_global {
	__u64 heartbeat_ns; /* CLOCK_BOOTTIME of the agent's last heartbeat */
	__u64 deadman_ns;   /* faults stop when heartbeat is older; 0 = off */
	__u32 seen_mark;    /* skb->mark bit: packet already faulted once */
	__u32 pad;
	/* Packets to or from these ports (host order, 0 = unused) are left
	 * alone by every rule without NC_RF_FORCE: ssh and the like survive a
	 * broad fault. Checked only once a key matched. */
	__u16 protected_ports[NC_PROTECTED_PORTS];
};

#ifndef __bpf__
_Static_assert(sizeof(struct nc_match_key) == 32, "nc_match_key layout");
_Static_assert(sizeof(struct nc_match_val) == 36, "nc_match_val layout");
_Static_assert(sizeof(struct nc_rule) == 112, "nc_rule layout");
_Static_assert(sizeof(struct nc_counters) == 16, "nc_counters layout");
_Static_assert(sizeof(struct nc_global) == 40, "nc_global layout");
#endif

#endif /* NETCHAOS_MAPS_H */
