/* SPDX-License-Identifier: GPL-2.0-only */
/* Cross-field validation of a fault spec, run by the CLI before sending and
 * by the agent again before acting. */
#ifndef NC_SPEC_H
#define NC_SPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "netchaos/proto.h"

/* Buffers that hold any description in full. */
#define NC_DESCRIBE_FAULT_MAX	256
#define NC_DESCRIBE_TARGET_MAX	12288

/* 0, or -EINVAL with a one-line reason in err. */
int nc_spec_validate(const struct nc_rule_spec *spec, char *err, size_t errlen);
/* Human description of the target: "port 5000 proto tcp ip 10.0.0.0/8",
 * "container web port 3306", "groups web,api | db", "groups web -> host". */
void nc_spec_describe_target(const struct nc_rule_spec *spec, char *buf, size_t len);

/* Zeroed spec with the defaults: NC_DEFAULT_DURATION_MS, direction not given
 * (dir_mask 0: the agent picks, see proto.h). */
void nc_spec_init(struct nc_rule_spec *spec);
/*
 * Human description of the fault: "drop", "loss 30%", "corrupt 1% (payload)",
 * "delay 100ms jitter 20ms 25% normal", "loss gemodel 1% 10% 70% 0.1%",
 * "reorder 25% gap 5 delay 10ms", "rate 1Mbit overhead 14". A correlation
 * follows the value it correlates, as in tc.
 */
void nc_spec_describe_fault(const struct nc_rule_spec *spec, char *buf, size_t len);
/* A name the kernel would accept for an interface: 1..IF_NAMESIZE-1 bytes,
 * no '/', ':' or blanks, not "." or "..". */
bool nc_ifname_valid(const char *name);

/* The faults netem carries out: delay, duplicate, reorder, rate, and loss
 * with a loss model. The others are the BPF classifier's own. */
bool nc_spec_is_netem(const struct nc_rule_spec *spec);

/*
 * The spec the agent applies: the direction a spec that gives none gets.
 * BPF faults act on every matching packet both ways. A netem fault acts once
 * per round trip, so `delay --port P D` adds D, not 2D, whether this
 * namespace is the client or the server, and on loopback: it acts on the
 * packets heading to the target's ports (dport, at either hook), or, for a
 * target without ports, on the packets this namespace sends (egress).
 */
void nc_spec_effective(const struct nc_rule_spec *in, struct nc_rule_spec *out);

/*
 * `change`: rule gets fault's parameters (kind, prob, payload, netem), its
 * target stays. A rule keeps its kind, and a loss stays a BPF or a netem
 * loss (another kind means other kernel objects: clear and add instead).
 * -EINVAL with a reason if fault cannot replace rule's parameters; rule is
 * changed only on success. Run nc_spec_validate() on the result.
 */
int nc_spec_change_fault(struct nc_rule_spec *rule, const struct nc_rule_spec *fault, char *err,
			 size_t errlen);

/* Largest --limit (netem queue, packets): the ceiling of
 * nc_netem_default_limit(), which bounds the queue's memory. */
#define NC_SPEC_MAX_NETEM_LIMIT 100000u

/*
 * Partition group members as users and the wire write them: "host", an
 * address or CIDR ("10.0.0.0/8", "fd00::1"), "label:KEY=VALUE",
 * "service:NAME", "container:NAME", or any other word: a container name, id
 * or unique id prefix. Zeroes *m, then fills it. 0 or -EINVAL with err.
 */
int nc_group_member_parse(const char *s, struct nc_group_member *m, char *err, size_t errlen);
/* The string nc_group_member_parse() reads back as the same member (a
 * container called "host" comes out as "container:host"). */
void nc_group_member_format(const struct nc_group_member *m, char *buf, size_t len);
/*
 * Syntax of a Docker reference of the given kind: a container name or id, or
 * a compose service, is [A-Za-z0-9][A-Za-z0-9_.-]* (Docker's own rule); a
 * label is KEY=VALUE with a KEY of printable non-blank characters. At most
 * NC_CONTAINER_REF_MAX - 1 characters. 0 or -EINVAL with err.
 */
int nc_docker_ref_check(enum nc_member_kind kind, const char *ref, char *err, size_t errlen);

/* Loss model names of the CLI's --model and of the wire's "loss_model":
 * "gemodel" (NC_NETEM_LOSS_GE) and "4state" (NC_NETEM_LOSS_GI; tc's
 * "state" is accepted too). 0 or -EINVAL with err. */
int nc_loss_model_parse(const char *s, int *model, char *err, size_t errlen);
const char *nc_loss_model_name(int model); /* "gemodel", "4state", "random", "unknown" */

#endif
