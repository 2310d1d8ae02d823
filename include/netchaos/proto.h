/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The chaosctl <-> netchaosd wire protocol, and the decoded form of a fault
 * request that both sides share.
 *
 * Transport: a Unix stream socket. Each request and each reply is one JSON
 * object on one line ('\n' terminated), at most NC_PROTO_MAX_MSG bytes. Every
 * message carries "v": NC_PROTO_VERSION. Commands and fields are only ever
 * appended; the version is bumped only when an existing field changes
 * meaning, and a request with another version is answered with an error
 * naming both versions. The agent re-validates every field: it is the
 * privileged side.
 *
 * Request:  {"v":1,"cmd":"<name>", ...command fields}
 * Reply:    {"v":1,"ok":true, ...} or {"v":1,"ok":false,"error":"<one line>"}
 *
 * Commands (NC_CMD_*):
 *   add    {"fault":{...},"target":{...},"duration_ms":N,"dry_run":b,"force":b}
 *          -> {"rule":{rule object}}
 *   list   {}                      -> {"rules":[rule object...]}
 *   change {"id":N,"fault":{...},"duration_ms":N,"dry_run":b}
 *                                  -> {"rule":{rule object}}
 *          new parameters for a live rule, in place: the fault's kind and
 *          target stay; "duration_ms", if given, ends the rule that long
 *          from now, else its end stays; one of "fault" and "duration_ms"
 *          at least (struct nc_change_req)
 *   clear  {"id":N} | {"all":true} -> {"cleared":[N...]}
 *   status {}                      -> {"agent":{...},"kernel":{...}}
 *   ping   {}                      -> {}
 *
 * fault:  {"kind":"drop"|"loss"|"corrupt"|"partition"|"delay"|"duplicate"|
 *           "reorder"|"rate","percent":P,"payload":b,"netem":{...}}
 * netem:  {"latency_ns":N,"jitter_ns":N,"latency_corr":P,"distribution":"normal",
 *          "loss_model":"gemodel"|"4state","loss_params":[P...],"loss_corr":P,
 *          "duplicate":P,"dup_corr":P,"reorder":P,"reorder_corr":P,"gap":N,
 *          "rate_bps":N,"packet_overhead":N,"limit":N,"ecn":b}   (P = percent)
 * target: {"ports":["80","1000-2000"],"sports":[...],"dports":[...],
 *          "protos":["tcp","udp","icmp"],"ips":["10.0.0.0/8","fd00::/64"],
 *          "ifaces":["eth0"],"netns":"NAME|PATH","direction":"both",
 *          "containers":["web"],"labels":["tier=cache"],"services":["api"],
 *          "allow_host_network":b,"groups":[["web","label:k=v","service:s",
 *          "host","10.0.0.0/8"],["db"]],"one_way":b}
 * rule object: {"id":N,"fault":{...},"target":{...},"duration_ms":N,
 *          "remaining_ms":N,"matched":N,"affected":N,"state":"active"|...,
 *          "interfaces":["ns:ifname",...]}
 */
#ifndef NETCHAOS_PROTO_H
#define NETCHAOS_PROTO_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "netchaos/maps.h"
#include "netchaos/netem.h"

#define NC_PROTO_VERSION	1
#define NC_PROTO_MAX_MSG	65536	     /* a request (the agent's input) */
#define NC_PROTO_MAX_REPLY	(16 << 20)   /* a reply: `list` of many rules */
#define NC_DEFAULT_SOCKET	"/run/netchaos/netchaosd.sock"
#define NC_SOCKET_ENV		"NETCHAOS_SOCKET"

#define NC_DEFAULT_DURATION_MS	(5ull * 60 * 1000) /* 5 minutes */
#define NC_MAX_DURATION_MS	(24ull * 3600 * 1000)

#define NC_RULE_MAX_CIDRS	16
#define NC_NETNS_MAX		256
#define NC_RULE_MAX_CONTAINERS	8   /* --container, --label, --service each */
#define NC_CONTAINER_REF_MAX	128
#define NC_MAX_GROUPS		4
#define NC_GROUP_MAX_MEMBERS	8

/* Command names on the wire. */
#define NC_CMD_ADD	"add"
#define NC_CMD_LIST	"list"
#define NC_CMD_CLEAR	"clear"
#define NC_CMD_CHANGE	"change"
#define NC_CMD_STATUS	"status"
#define NC_CMD_PING	"ping"
#define NC_CMD_ABORT	"abort"	 /* {} -> {"cleared":[...]}: everything, at once */
#define NC_CMD_DOCTOR	"doctor" /* {} -> {"checks":[{"name","ok","detail","fix"}]} */

enum nc_fault_kind {
	NC_FAULT_NONE = 0,
	NC_FAULT_DROP,
	NC_FAULT_LOSS,
	NC_FAULT_CORRUPT,
	NC_FAULT_PARTITION,
	/* netem faults: packets are steered into a per-rule netem class */
	NC_FAULT_DELAY,
	NC_FAULT_DUPLICATE,
	NC_FAULT_REORDER,
	NC_FAULT_RATE,
	NC_FAULT__COUNT,
};

struct nc_cidr {
	uint8_t family; /* 4 or 6 */
	uint8_t prefixlen;
	uint8_t pad[2];
	uint8_t addr[16]; /* network order; IPv4 in the first 4 bytes, host bits zero */
};

struct nc_port_spec {
	uint8_t kind; /* NC_PORT_EITHER, NC_PORT_SRC or NC_PORT_DST */
	uint8_t pad;
	uint16_t lo; /* host order, inclusive, 1..65535 */
	uint16_t hi;
};

/* A member of a partition group: a container (name, id or unique prefix), a
 * label ("k=v"), a compose service, the host itself, or a CIDR. */
enum nc_member_kind {
	NC_MEMBER_CONTAINER = 1,
	NC_MEMBER_LABEL,
	NC_MEMBER_SERVICE,
	NC_MEMBER_HOST,
	NC_MEMBER_CIDR,
};

struct nc_group_member {
	uint8_t kind; /* enum nc_member_kind */
	uint8_t pad[3];
	struct nc_cidr cidr;		  /* NC_MEMBER_CIDR */
	char ref[NC_CONTAINER_REF_MAX];	  /* container, label or service */
};

struct nc_group {
	uint8_t n_members;
	struct nc_group_member members[NC_GROUP_MAX_MEMBERS];
};

/* A fault request, decoded. Filled by the CLI's parser, carried by the
 * protocol, re-validated by the agent (nc_spec_validate()). */
struct nc_rule_spec {
	enum nc_fault_kind kind;
	uint32_t prob;	    /* loss/corrupt: percent scaled to 0..UINT32_MAX */
	bool payload;	    /* corrupt: deliver checksum-valid damaged bytes */
	uint64_t duration_ms;
	uint8_t dir_mask;   /* NC_DIR_*; 0 = not given: BPF faults act both ways,
			     * netem faults once per round trip (docs/design.md) */
	uint8_t proto_mask; /* NC_PROTO_*; 0 = any */
	uint8_t n_ports;
	uint8_t n_cidrs;
	uint8_t n_ifaces;
	struct nc_port_spec ports[NC_RULE_MAX_PORTS];
	struct nc_cidr cidrs[NC_RULE_MAX_CIDRS];
	char ifaces[NC_RULE_MAX_IFACES][IF_NAMESIZE];
	char netns[NC_NETNS_MAX]; /* "" = the agent's own namespace */
	bool dry_run;
	bool force;

	/* delay, duplicate, reorder, rate, and loss with a model (netem.kind of
	 * loss model != RANDOM); the CLI fills only what the user gave */
	struct nc_netem_params netem;

	/* Docker targets: the fault acts in each container's namespace. */
	uint8_t n_containers, n_labels, n_services;
	char containers[NC_RULE_MAX_CONTAINERS][NC_CONTAINER_REF_MAX];
	char labels[NC_RULE_MAX_CONTAINERS][NC_CONTAINER_REF_MAX];	/* "k=v" */
	char services[NC_RULE_MAX_CONTAINERS][NC_CONTAINER_REF_MAX];	/* compose */
	bool allow_host_network; /* a --network host container means the host */

	/* partition --group A --group B [--one-way]: traffic between members of
	 * different groups is dropped; one-way: only from group 0 to the others */
	uint8_t n_groups;
	bool one_way;
	struct nc_group groups[NC_MAX_GROUPS];
};

/* A change request, decoded. */
struct nc_change_req {
	uint32_t id;
	bool has_fault;		   /* else the rule's parameters stay */
	struct nc_rule_spec fault; /* kind, prob, payload, netem; no target */
	bool has_duration;	   /* duration_ms given: the rule ends that long from now */
	uint64_t duration_ms;
	bool dry_run;		   /* check and describe, change nothing */
};

#endif /* NETCHAOS_PROTO_H */
