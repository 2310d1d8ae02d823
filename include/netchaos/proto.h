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
 *   clear  {"id":N} | {"all":true} -> {"cleared":[N...]}
 *   status {}                      -> {"agent":{...},"kernel":{...}}
 *   ping   {}                      -> {}
 *
 * fault:  {"kind":"drop"|"loss"|"corrupt"|"partition","percent":P,"payload":b}
 * target: {"ports":["80","1000-2000"],"sports":[...],"dports":[...],
 *          "protos":["tcp","udp","icmp"],"ips":["10.0.0.0/8","fd00::/64"],
 *          "ifaces":["eth0"],"netns":"NAME|PATH","direction":"both"}
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

#define NC_PROTO_VERSION	1
#define NC_PROTO_MAX_MSG	65536
#define NC_DEFAULT_SOCKET	"/run/netchaos/netchaosd.sock"
#define NC_SOCKET_ENV		"NETCHAOS_SOCKET"

#define NC_DEFAULT_DURATION_MS	(5ull * 60 * 1000) /* 5 minutes */
#define NC_MAX_DURATION_MS	(24ull * 3600 * 1000)

#define NC_RULE_MAX_CIDRS	16
#define NC_NETNS_MAX		256

/* Command names on the wire. */
#define NC_CMD_ADD	"add"
#define NC_CMD_LIST	"list"
#define NC_CMD_CLEAR	"clear"
#define NC_CMD_STATUS	"status"
#define NC_CMD_PING	"ping"

enum nc_fault_kind {
	NC_FAULT_NONE = 0,
	NC_FAULT_DROP,
	NC_FAULT_LOSS,
	NC_FAULT_CORRUPT,
	NC_FAULT_PARTITION,
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

/* A fault request, decoded. Filled by the CLI's parser, carried by the
 * protocol, re-validated by the agent (nc_spec_validate()). */
struct nc_rule_spec {
	enum nc_fault_kind kind;
	uint32_t prob;	    /* loss/corrupt: percent scaled to 0..UINT32_MAX */
	bool payload;	    /* corrupt: deliver checksum-valid damaged bytes */
	uint64_t duration_ms;
	uint8_t dir_mask;   /* NC_DIR_* */
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
};

#endif /* NETCHAOS_PROTO_H */
