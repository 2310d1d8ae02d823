// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fault specs as a whole: defaults, the cross-field rules a spec must obey
 * whoever built it (chaosctl's parser, a JSON request, a test), and the one-line
 * descriptions the CLI prints. Field syntax lives in units.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "errmsg.h"
#include "netem.h"
#include "spec.h"
#include "units.h"

#define PCT100 UINT32_MAX /* 100 % as a probability */

void nc_spec_init(struct nc_rule_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	spec->duration_ms = NC_DEFAULT_DURATION_MS;
}

bool nc_spec_is_netem(const struct nc_rule_spec *spec)
{
	switch (spec->kind) {
	case NC_FAULT_DELAY:
	case NC_FAULT_DUPLICATE:
	case NC_FAULT_REORDER:
	case NC_FAULT_RATE:
		return true;
	case NC_FAULT_LOSS:
		return spec->netem.loss_model.model != NC_NETEM_LOSS_RANDOM;
	default:
		return false;
	}
}

void nc_spec_effective(const struct nc_rule_spec *in, struct nc_rule_spec *out)
{
	*out = *in;
	if (out->dir_mask)
		return;
	if (!nc_spec_is_netem(out)) {
		out->dir_mask = NC_DIR_BOTH;
		return;
	}
	if (!out->n_ports) {
		out->dir_mask = NC_DIR_EGRESS;
		return;
	}
	out->dir_mask = NC_DIR_BOTH;
	for (size_t i = 0; i < out->n_ports; i++)
		if (out->ports[i].kind == NC_PORT_EITHER)
			out->ports[i].kind = NC_PORT_DST;
}

int nc_spec_change_fault(struct nc_rule_spec *rule, const struct nc_rule_spec *fault, char *err,
			 size_t errlen)
{
	if (fault->kind != rule->kind) {
		nc_set_err(err, errlen,
			   "the rule is a %s fault: change keeps a rule's kind (clear it and add a %s "
			   "rule instead)",
			   nc_fault_kind_name(rule->kind), nc_fault_kind_name(fault->kind));
		return -EINVAL;
	}
	if (nc_spec_is_netem(fault) != nc_spec_is_netem(rule)) {
		nc_set_err(err, errlen,
			   "the rule is a loss %s: change cannot turn it into a loss %s (clear it and "
			   "add a new rule instead)",
			   nc_spec_is_netem(rule) ? "with a loss model" : "without --model",
			   nc_spec_is_netem(fault) ? "with a loss model" : "without --model");
		return -EINVAL;
	}
	rule->prob = fault->prob;
	rule->payload = fault->payload;
	rule->netem = fault->netem;
	return 0;
}

bool nc_ifname_valid(const char *name)
{
	size_t n = strnlen(name, IF_NAMESIZE);

	if (n == 0 || n >= IF_NAMESIZE || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (; *name; name++)
		if (*name == '/' || *name == ':' || (unsigned char)*name <= ' ' || *name == 0x7f)
			return false;
	return true;
}

static bool has_control_chars(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			return true;
	return false;
}

static int validate_ports(const struct nc_rule_spec *spec, char *err, size_t errlen)
{
	unsigned int i;

	if (spec->n_ports > NC_RULE_MAX_PORTS) {
		nc_set_err(err, errlen, "too many ports (%u; at most %u)", spec->n_ports,
			   NC_RULE_MAX_PORTS);
		return -EINVAL;
	}
	for (i = 0; i < spec->n_ports; i++) {
		const struct nc_port_spec *p = &spec->ports[i];

		if (p->kind != NC_PORT_EITHER && p->kind != NC_PORT_SRC && p->kind != NC_PORT_DST) {
			nc_set_err(err, errlen, "invalid port kind %u", p->kind);
			return -EINVAL;
		}
		if (p->lo == 0 || p->hi == 0) {
			nc_set_err(err, errlen, "port 0 is out of range (1 to 65535)");
			return -EINVAL;
		}
		if (p->lo > p->hi) {
			nc_set_err(err, errlen, "port range %u-%u is reversed", p->lo, p->hi);
			return -EINVAL;
		}
	}
	/* ICMP has no ports: such a rule could never match anything. */
	if (spec->n_ports && spec->proto_mask == NC_PROTO_ICMP) {
		nc_set_err(err, errlen, "ports never match icmp, which has no ports: "
			   "drop --port/--sport/--dport or add --proto tcp/udp");
		return -EINVAL;
	}
	return 0;
}

static int validate_cidrs(const struct nc_rule_spec *spec, char *err, size_t errlen)
{
	unsigned int i;

	if (spec->n_cidrs > NC_RULE_MAX_CIDRS) {
		nc_set_err(err, errlen, "too many addresses (%u; at most %u)", spec->n_cidrs,
			   NC_RULE_MAX_CIDRS);
		return -EINVAL;
	}
	for (i = 0; i < spec->n_cidrs; i++) {
		int ret = nc_cidr_check(&spec->cidrs[i], err, errlen);

		if (ret)
			return ret;
	}
	return 0;
}

static int validate_names(const struct nc_rule_spec *spec, char *err, size_t errlen)
{
	unsigned int i;

	if (spec->n_ifaces > NC_RULE_MAX_IFACES) {
		nc_set_err(err, errlen, "too many interfaces (%u; at most %u)", spec->n_ifaces,
			   NC_RULE_MAX_IFACES);
		return -EINVAL;
	}
	for (i = 0; i < spec->n_ifaces; i++) {
		const char *name = spec->ifaces[i];

		if (!memchr(name, '\0', IF_NAMESIZE)) {
			nc_set_err(err, errlen, "interface name '%.*s...' is too long (at most %d characters)",
				   IF_NAMESIZE - 1, name, IF_NAMESIZE - 1);
			return -EINVAL;
		}
		if (!nc_ifname_valid(name)) {
			nc_set_err(err, errlen, "invalid interface name '%s'", name);
			return -EINVAL;
		}
	}
	if (!memchr(spec->netns, '\0', sizeof(spec->netns))) {
		nc_set_err(err, errlen, "network namespace name is too long (at most %zu characters)",
			   sizeof(spec->netns) - 1);
		return -EINVAL;
	}
	if (has_control_chars(spec->netns)) {
		nc_set_err(err, errlen, "invalid network namespace '%s'", spec->netns);
		return -EINVAL;
	}
	/* A name lives in /run/netns; anything with a slash must be a full path. */
	if (strchr(spec->netns, '/') && spec->netns[0] != '/') {
		nc_set_err(err, errlen, "network namespace '%s' is neither a name nor an absolute path",
			   spec->netns);
		return -EINVAL;
	}
	if (!strcmp(spec->netns, ".") || !strcmp(spec->netns, "..")) {
		nc_set_err(err, errlen, "invalid network namespace '%s'", spec->netns);
		return -EINVAL;
	}
	return 0;
}

/* ---- Docker references and group members ---- */

static bool is_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static const char *ref_kind_word(enum nc_member_kind kind)
{
	switch (kind) {
	case NC_MEMBER_CONTAINER:
		return "container";
	case NC_MEMBER_LABEL:
		return "label";
	case NC_MEMBER_SERVICE:
		return "service";
	case NC_MEMBER_HOST:
		return "host";
	case NC_MEMBER_CIDR:
		return "address";
	}
	return "member";
}

int nc_docker_ref_check(enum nc_member_kind kind, const char *ref, char *err, size_t errlen)
{
	size_t n = strnlen(ref, NC_CONTAINER_REF_MAX);
	const char *p;

	if (n >= NC_CONTAINER_REF_MAX) {
		nc_set_err(err, errlen, "%s name '%.40s...' is too long (at most %d characters)",
			   ref_kind_word(kind), ref, NC_CONTAINER_REF_MAX - 1);
		return -EINVAL;
	}
	switch (kind) {
	case NC_MEMBER_CONTAINER:
	case NC_MEMBER_SERVICE:
		if (!is_alnum(ref[0]))
			goto bad_name;
		for (p = ref; *p; p++)
			if (!is_alnum(*p) && *p != '_' && *p != '.' && *p != '-')
				goto bad_name;
		return 0;
	case NC_MEMBER_LABEL:
		p = strchr(ref, '=');
		if (!p || p == ref || has_control_chars(ref))
			goto bad_label;
		for (; ref < p; ref++)
			if ((unsigned char)*ref <= ' ')
				goto bad_label;
		return 0;
	default:
		nc_set_err(err, errlen, "invalid Docker reference kind %d", (int)kind);
		return -EINVAL;
	}
bad_name:
	nc_set_err(err, errlen, "invalid %s name '%s' (letters, digits, '_', '.' and '-', starting with a letter or digit)",
		   ref_kind_word(kind), ref);
	return -EINVAL;
bad_label:
	nc_set_err(err, errlen, "invalid label '%s' (use KEY=VALUE, e.g. tier=cache)", ref);
	return -EINVAL;
}

/* Is s meant as an address? It parses as one, or it could only be one: it
 * has a '/' or a ':' after a hex word ("fd00:"), or only digits and dots. */
static bool looks_like_address(const char *s)
{
	struct nc_cidr c;
	size_t hex = strspn(s, "0123456789abcdefABCDEF");

	if (!nc_parse_cidr(s, &c))
		return true;
	if (strchr(s, '/') || s[hex] == ':')
		return true;
	return s[strspn(s, "0123456789.")] == '\0';
}

int nc_group_member_parse(const char *s, struct nc_group_member *m, char *err, size_t errlen)
{
	static const struct {
		const char *prefix;
		enum nc_member_kind kind;
	} prefixes[] = {
		{ "label:", NC_MEMBER_LABEL },
		{ "service:", NC_MEMBER_SERVICE },
		{ "container:", NC_MEMBER_CONTAINER },
	};
	const char *ref = s;
	size_t i;

	memset(m, 0, sizeof(*m));
	if (!s || !*s) {
		nc_set_err(err, errlen, "empty group member (use a container, label:K=V, service:NAME, host or an address)");
		return -EINVAL;
	}
	if (!strcmp(s, "host")) {
		m->kind = NC_MEMBER_HOST;
		return 0;
	}
	m->kind = NC_MEMBER_CONTAINER;
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		if (!strncmp(s, prefixes[i].prefix, strlen(prefixes[i].prefix))) {
			m->kind = prefixes[i].kind;
			ref = s + strlen(prefixes[i].prefix);
			break;
		}
	}
	if (ref == s && looks_like_address(s)) {
		m->kind = NC_MEMBER_CIDR;
		return nc_parse_cidr_err(s, &m->cidr, err, errlen);
	}
	if (ref == s && strchr(s, ':')) {
		nc_set_err(err, errlen, "unknown group member '%s' (use a container, label:K=V, service:NAME, container:NAME, host or an address)",
			   s);
		return -EINVAL;
	}
	if (nc_docker_ref_check((enum nc_member_kind)m->kind, ref, err, errlen))
		return -EINVAL;
	snprintf(m->ref, sizeof(m->ref), "%s", ref);
	return 0;
}

void nc_group_member_format(const struct nc_group_member *m, char *buf, size_t len)
{
	struct nc_group_member back;
	int n = (int)strnlen(m->ref, sizeof(m->ref));

	switch (m->kind) {
	case NC_MEMBER_HOST:
		snprintf(buf, len, "host");
		break;
	case NC_MEMBER_CIDR:
		nc_format_cidr(&m->cidr, buf, len);
		break;
	case NC_MEMBER_LABEL:
		snprintf(buf, len, "label:%.*s", n, m->ref);
		break;
	case NC_MEMBER_SERVICE:
		snprintf(buf, len, "service:%.*s", n, m->ref);
		break;
	case NC_MEMBER_CONTAINER:
		/* Plain, unless it would read back as something else ("host"). */
		snprintf(buf, len, "%.*s", n, m->ref);
		if (nc_group_member_parse(buf, &back, NULL, 0) || back.kind != NC_MEMBER_CONTAINER)
			snprintf(buf, len, "container:%.*s", n, m->ref);
		break;
	default:
		snprintf(buf, len, "?");
		break;
	}
}

/* ---- loss models ---- */

int nc_loss_model_parse(const char *s, int *model, char *err, size_t errlen)
{
	if (s && !strcmp(s, "gemodel"))
		*model = NC_NETEM_LOSS_GE;
	else if (s && (!strcmp(s, "4state") || !strcmp(s, "state")))
		*model = NC_NETEM_LOSS_GI;
	else {
		nc_set_err(err, errlen, "unknown loss model '%s' (expected gemodel or 4state)",
			   s ? s : "");
		return -EINVAL;
	}
	return 0;
}

const char *nc_loss_model_name(int model)
{
	switch (model) {
	case NC_NETEM_LOSS_RANDOM:
		return "random";
	case NC_NETEM_LOSS_GE:
		return "gemodel";
	case NC_NETEM_LOSS_GI:
		return "4state";
	}
	return "unknown";
}

/* ---- validation ---- */

static int validate_kind(const struct nc_rule_spec *spec, char *err, size_t errlen)
{
	const struct nc_netem_params *p = &spec->netem;
	const char *name = nc_fault_kind_name(spec->kind);
	bool model = p->loss_model.model != NC_NETEM_LOSS_RANDOM;

	switch (spec->kind) {
	case NC_FAULT_DROP:
	case NC_FAULT_PARTITION:
		return 0; /* the probability is ignored */
	case NC_FAULT_LOSS:
		if (model) {
			if (spec->prob) {
				nc_set_err(err, errlen, "give loss a percentage or --model with its parameters, not both");
				return -EINVAL;
			}
			return 0;
		}
		/* fall through */
	case NC_FAULT_CORRUPT:
		if (spec->prob == 0) {
			nc_set_err(err, errlen, "%s of 0%% does nothing; give a percentage above 0", name);
			return -EINVAL;
		}
		return 0;
	case NC_FAULT_DELAY:
		if (!p->latency_ns) {
			nc_set_err(err, errlen, "delay needs a time above 0 (e.g. chaosctl delay 100ms)");
			return -EINVAL;
		}
		break;
	case NC_FAULT_DUPLICATE:
	case NC_FAULT_REORDER:
		if (!(spec->kind == NC_FAULT_DUPLICATE ? p->duplicate : p->reorder)) {
			nc_set_err(err, errlen, "%s of 0%% does nothing; give a percentage above 0", name);
			return -EINVAL;
		}
		break;
	case NC_FAULT_RATE:
		if (!p->rate_bps) {
			nc_set_err(err, errlen, "rate needs a rate (e.g. chaosctl rate 1mbit)");
			return -EINVAL;
		}
		break;
	case NC_FAULT_NONE:
		nc_set_err(err, errlen, "no fault given (drop, loss, corrupt, partition, delay, duplicate, reorder or rate)");
		return -EINVAL;
	default:
		nc_set_err(err, errlen, "unknown fault kind %d", (int)spec->kind);
		return -EINVAL;
	}
	/* netem faults carry their values in spec->netem */
	if (spec->prob) {
		nc_set_err(err, errlen, "fault.percent is for loss and corrupt; %s takes its percentage in netem",
			   name);
		return -EINVAL;
	}
	return 0;
}

/* The option (or wire field) behind the first netem value set, in the
 * order the options are listed; NULL if none is. */
static const char *first_netem_field(const struct nc_netem_params *p)
{
	if (p->latency_ns)
		return "--delay";
	if (p->jitter_ns)
		return "--jitter";
	if (p->latency_corr || p->loss_corr || p->dup_corr || p->reorder_corr || p->corrupt_corr)
		return "--correlation";
	if (p->dist)
		return "--distribution";
	if (p->loss_model.model)
		return "--model";
	if (p->gap)
		return "--gap";
	if (p->packet_overhead)
		return "--packet-overhead";
	if (p->limit)
		return "--limit";
	if (p->ecn)
		return "--ecn";
	if (p->duplicate)
		return "netem.duplicate";
	if (p->reorder)
		return "netem.reorder";
	if (p->rate_bps)
		return "netem.rate_bps";
	if (p->loss || p->corrupt)
		return "netem random loss and corruption";
	return NULL;
}

static int refuse(char *err, size_t errlen, const char *msg)
{
	nc_set_err(err, errlen, "%s", msg);
	return -EINVAL;
}

static int validate_netem(const struct nc_rule_spec *spec, char *err, size_t errlen)
{
	const struct nc_netem_params *p = &spec->netem;
	enum nc_fault_kind kind = spec->kind;
	const char *field;

	if (p->dist < 0 || p->dist >= NC_NETEM_DIST__COUNT) {
		nc_set_err(err, errlen, "unknown delay distribution %d", p->dist);
		return -EINVAL;
	}
	if (p->loss_model.model < 0 || p->loss_model.model >= NC_NETEM_LOSS__COUNT) {
		nc_set_err(err, errlen, "unknown loss model %d", p->loss_model.model);
		return -EINVAL;
	}
	if (p->loss_model.model != NC_NETEM_LOSS_RANDOM && kind != NC_FAULT_LOSS)
		return refuse(err, errlen, "--model only applies to loss");
	if (!nc_spec_is_netem(spec)) {
		field = first_netem_field(p);
		if (field) {
			nc_set_err(err, errlen, "%s only applies to netem faults (delay, duplicate, reorder, rate, loss --model), not %s",
				   field, kind == NC_FAULT_LOSS ? "loss without --model" :
								 nc_fault_kind_name(kind));
			return -EINVAL;
		}
		return 0;
	}

	/* Each netem fault owns its values; delay, jitter and limit go with any. */
	if (p->loss || p->corrupt || p->corrupt_corr)
		return refuse(err, errlen, "netem random loss and corruption are not used: use the loss and corrupt faults");
	if ((p->duplicate || p->dup_corr) && kind != NC_FAULT_DUPLICATE)
		return refuse(err, errlen, "a duplicate percentage only applies to duplicate");
	if ((p->reorder || p->reorder_corr) && kind != NC_FAULT_REORDER)
		return refuse(err, errlen, "a reorder percentage only applies to reorder");
	if (p->gap && kind != NC_FAULT_REORDER)
		return refuse(err, errlen, "--gap only applies to reorder");
	if (p->rate_bps && kind != NC_FAULT_RATE)
		return refuse(err, errlen, "a rate only applies to rate");
	if (p->packet_overhead && kind != NC_FAULT_RATE)
		return refuse(err, errlen, "--packet-overhead only applies to rate");
	if (p->ecn && kind != NC_FAULT_LOSS)
		return refuse(err, errlen, "--ecn only applies to loss --model");
	if (p->loss_corr)
		return refuse(err, errlen, "--correlation does not apply to loss --model (its states make the bursts)");
	if (kind == NC_FAULT_LOSS && p->loss_model.model == NC_NETEM_LOSS_GE && p->loss_model.p[4])
		return refuse(err, errlen, "loss gemodel has 4 parameters, not 5");

	/* tc-netem's cross-field rules, in the options' words */
	if (p->jitter_ns && !p->latency_ns)
		return refuse(err, errlen, "--jitter needs --delay");
	if (p->latency_corr && !p->jitter_ns)
		return refuse(err, errlen, "--correlation of a delay needs --jitter (it correlates the random part)");
	if (p->dist != NC_NETEM_DIST_NONE && !p->jitter_ns)
		return refuse(err, errlen, "--distribution needs --jitter (it shapes the random part of the delay)");
	if (p->reorder && !p->latency_ns)
		return refuse(err, errlen, "reorder needs --delay (reordered packets are the ones sent without it)");
	if (p->limit > NC_SPEC_MAX_NETEM_LIMIT) {
		nc_set_err(err, errlen, "--limit %u is above the maximum of %u packets", p->limit,
			   NC_SPEC_MAX_NETEM_LIMIT);
		return -EINVAL;
	}
	/* and the rest (ranges, loss model parameters) as lib/netem.c has them */
	return nc_netem_validate(p, err, errlen);
}

static int check_ref(enum nc_member_kind kind, const char *ref, const char *opt, char *err,
		     size_t errlen)
{
	if (!memchr(ref, '\0', NC_CONTAINER_REF_MAX)) {
		nc_set_err(err, errlen, "%s: name is too long (at most %d characters)", opt,
			   NC_CONTAINER_REF_MAX - 1);
		return -EINVAL;
	}
	if (nc_docker_ref_check(kind, ref, err, errlen)) {
		nc_prefix_err(err, errlen, opt);
		return -EINVAL;
	}
	return 0;
}

static int check_refs(enum nc_member_kind kind, const char *opt, uint8_t n,
		      const char (*refs)[NC_CONTAINER_REF_MAX], char *err, size_t errlen)
{
	unsigned int i;

	if (n > NC_RULE_MAX_CONTAINERS) {
		nc_set_err(err, errlen, "too many %s values (%u; at most %d)", opt, n,
			   NC_RULE_MAX_CONTAINERS);
		return -EINVAL;
	}
	for (i = 0; i < n; i++)
		if (check_ref(kind, refs[i], opt, err, errlen))
			return -EINVAL;
	return 0;
}

static int validate_docker(const struct nc_rule_spec *spec, bool group_refs, char *err,
			   size_t errlen)
{
	unsigned int total = spec->n_containers + spec->n_labels + spec->n_services;

	if (check_refs(NC_MEMBER_CONTAINER, "--container", spec->n_containers, spec->containers,
		       err, errlen) ||
	    check_refs(NC_MEMBER_LABEL, "--label", spec->n_labels, spec->labels, err, errlen) ||
	    check_refs(NC_MEMBER_SERVICE, "--service", spec->n_services, spec->services, err,
		       errlen))
		return -EINVAL;
	if (total && spec->netns[0])
		return refuse(err, errlen, "--container, --label and --service cannot be combined with --netns: they pick the namespace");
	if (total && spec->n_groups)
		return refuse(err, errlen, "with --group, name the containers in the groups, not with --container, --label or --service");
	if (spec->allow_host_network && !total && !group_refs)
		return refuse(err, errlen, "--allow-host-network only applies to containers (--container, --label, --service or a --group member)");
	return 0;
}

static bool same_member(const struct nc_group_member *a, const struct nc_group_member *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == NC_MEMBER_CIDR)
		return a->cidr.family == b->cidr.family && a->cidr.prefixlen == b->cidr.prefixlen &&
		       !memcmp(a->cidr.addr, b->cidr.addr, sizeof(a->cidr.addr));
	return !strncmp(a->ref, b->ref, sizeof(a->ref));
}

/* Partition peers and groups; *refs: some member is a container, label or
 * service. */
static int validate_groups(const struct nc_rule_spec *spec, bool *refs, char *err, size_t errlen)
{
	unsigned int g, i, h, j, hosts = 0;
	char one[NC_CONTAINER_REF_MAX + 16];

	*refs = false;
	if (spec->n_groups > NC_MAX_GROUPS) {
		nc_set_err(err, errlen, "too many groups (%u; at most %d)", spec->n_groups,
			   NC_MAX_GROUPS);
		return -EINVAL;
	}
	if (spec->n_groups && spec->kind != NC_FAULT_PARTITION) {
		nc_set_err(err, errlen, "--group only applies to partition, not %s",
			   nc_fault_kind_name(spec->kind));
		return -EINVAL;
	}
	if (spec->one_way && !spec->n_groups)
		return refuse(err, errlen, "--one-way only applies to partition --group A --group B");
	if (spec->kind == NC_FAULT_PARTITION && !spec->n_groups && !spec->n_cidrs)
		return refuse(err, errlen, "partition needs at least one peer address (--ip) or two groups (--group A --group B)");
	if (!spec->n_groups)
		return 0;
	if (spec->n_groups < 2)
		return refuse(err, errlen, "partition needs two or more --group: one group has nothing to be cut off from");
	if (spec->n_cidrs)
		return refuse(err, errlen, "give partition its peers with --ip or its sides with --group, not both");
	if (spec->netns[0])
		return refuse(err, errlen, "--netns cannot be combined with --group: the members pick their namespaces");
	if (spec->dir_mask)
		return refuse(err, errlen, "--direction cannot be combined with --group; use --one-way for a one-way partition");

	for (g = 0; g < spec->n_groups; g++) {
		const struct nc_group *grp = &spec->groups[g];

		if (!grp->n_members) {
			nc_set_err(err, errlen, "group %u is empty", g + 1);
			return -EINVAL;
		}
		if (grp->n_members > NC_GROUP_MAX_MEMBERS) {
			nc_set_err(err, errlen, "too many members in group %u (%u; at most %d)", g + 1,
				   grp->n_members, NC_GROUP_MAX_MEMBERS);
			return -EINVAL;
		}
		for (i = 0; i < grp->n_members; i++) {
			const struct nc_group_member *m = &grp->members[i];

			switch (m->kind) {
			case NC_MEMBER_HOST:
				if (++hosts > 1)
					return refuse(err, errlen, "group member 'host' may appear only once");
				break;
			case NC_MEMBER_CIDR:
				if (nc_cidr_check(&m->cidr, err, errlen)) {
					nc_prefix_err(err, errlen, "--group");
					return -EINVAL;
				}
				break;
			case NC_MEMBER_CONTAINER:
			case NC_MEMBER_LABEL:
			case NC_MEMBER_SERVICE:
				if (check_ref((enum nc_member_kind)m->kind, m->ref, "--group", err, errlen))
					return -EINVAL;
				*refs = true;
				break;
			default:
				nc_set_err(err, errlen, "invalid group member kind %u", m->kind);
				return -EINVAL;
			}
			/* the same member on both sides would be cut off from itself */
			for (h = 0; h <= g; h++) {
				for (j = 0; j < (h == g ? i : spec->groups[h].n_members); j++) {
					if (m->kind == NC_MEMBER_HOST ||
					    !same_member(m, &spec->groups[h].members[j]))
						continue;
					nc_group_member_format(m, one, sizeof(one));
					nc_set_err(err, errlen, "group member '%s' is given twice", one);
					return -EINVAL;
				}
			}
		}
	}
	return 0;
}

int nc_spec_validate(const struct nc_rule_spec *spec, char *err, size_t errlen)
{
	char buf[64];
	bool group_refs;
	int ret;

	ret = validate_kind(spec, err, errlen);
	if (ret)
		return ret;
	if (spec->payload && spec->kind != NC_FAULT_CORRUPT) {
		nc_set_err(err, errlen, "--payload only applies to corrupt, not %s",
			   nc_fault_kind_name(spec->kind));
		return -EINVAL;
	}
	ret = validate_netem(spec, err, errlen);
	if (ret)
		return ret;
	if (spec->duration_ms == 0) {
		nc_set_err(err, errlen, "duration must be at least 1ms");
		return -EINVAL;
	}
	if (spec->duration_ms > NC_MAX_DURATION_MS) {
		nc_format_duration(spec->duration_ms, buf, sizeof(buf));
		nc_set_err(err, errlen, "duration %s is longer than the maximum of 24h", buf);
		return -EINVAL;
	}
	/* 0: not given, the agent picks (proto.h) */
	if (spec->dir_mask & ~NC_DIR_BOTH) {
		nc_set_err(err, errlen, "invalid direction mask %u (egress, ingress or both)",
			   spec->dir_mask);
		return -EINVAL;
	}
	if (spec->proto_mask & ~(NC_PROTO_TCP | NC_PROTO_UDP | NC_PROTO_ICMP)) {
		nc_set_err(err, errlen, "invalid protocol mask 0x%x (tcp, udp, icmp)",
			   spec->proto_mask);
		return -EINVAL;
	}
	ret = validate_ports(spec, err, errlen);
	if (!ret)
		ret = validate_cidrs(spec, err, errlen);
	if (!ret)
		ret = validate_names(spec, err, errlen);
	if (!ret)
		ret = validate_groups(spec, &group_refs, err, errlen);
	if (!ret)
		ret = validate_docker(spec, group_refs, err, errlen);
	return ret;
}

/* snprintf at *pos in buf, never past len; keeps *pos at the end. */
static void append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*pos >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	*pos += (size_t)n;
	if (*pos >= len)
		*pos = len - 1;
}

/* Start the next item of a "word a,b,c" list: the word before the first. */
static void list_item(char *buf, size_t len, size_t *pos, const char *word, bool *first)
{
	if (*first)
		append(buf, len, pos, "%s%s ", *pos ? " " : "", word);
	else
		append(buf, len, pos, ",");
	*first = false;
}

/* "word a,b,c" for n strings of refs. */
static void ref_list(char *buf, size_t len, size_t *pos, const char *word, uint8_t n,
		     const char (*refs)[NC_CONTAINER_REF_MAX])
{
	bool first = true;
	unsigned int i;

	for (i = 0; i < n && i < NC_RULE_MAX_CONTAINERS; i++) {
		list_item(buf, len, pos, word, &first);
		append(buf, len, pos, "%.*s", NC_CONTAINER_REF_MAX, refs[i]);
	}
}

void nc_spec_describe_target(const struct nc_rule_spec *spec, char *buf, size_t len)
{
	static const struct {
		uint8_t kind;
		const char *word;
	} port_kinds[] = {
		{ NC_PORT_EITHER, "port" },
		{ NC_PORT_SRC, "sport" },
		{ NC_PORT_DST, "dport" },
	};
	static const uint8_t protos[] = { NC_PROTO_TCP, NC_PROTO_UDP, NC_PROTO_ICMP };
	char one[NC_CONTAINER_REF_MAX + 16];
	unsigned int i, k;
	size_t pos = 0;
	bool first;

	if (!len)
		return;
	buf[0] = '\0';
	/* Where first: the containers, or the sides of a partition. */
	ref_list(buf, len, &pos, "container", spec->n_containers, spec->containers);
	ref_list(buf, len, &pos, "label", spec->n_labels, spec->labels);
	ref_list(buf, len, &pos, "service", spec->n_services, spec->services);
	for (k = 0; k < spec->n_groups && k < NC_MAX_GROUPS; k++) {
		const struct nc_group *g = &spec->groups[k];

		/* "groups web,api | db", one-way "groups web -> db | 10.0.0.0/8" */
		append(buf, len, &pos, "%s", k == 0 ? (pos ? " groups " : "groups ") :
				     k == 1 && spec->one_way ? " -> " : " | ");
		for (i = 0; i < g->n_members && i < NC_GROUP_MAX_MEMBERS; i++) {
			nc_group_member_format(&g->members[i], one, sizeof(one));
			append(buf, len, &pos, "%s%s", i ? "," : "", one);
		}
	}
	for (k = 0; k < sizeof(port_kinds) / sizeof(port_kinds[0]); k++) {
		first = true;
		for (i = 0; i < spec->n_ports && i < NC_RULE_MAX_PORTS; i++) {
			if (spec->ports[i].kind != port_kinds[k].kind)
				continue;
			list_item(buf, len, &pos, port_kinds[k].word, &first);
			nc_format_port(&spec->ports[i], one, sizeof(one));
			append(buf, len, &pos, "%s", one);
		}
	}
	first = true;
	for (i = 0; i < sizeof(protos); i++) {
		if (!(spec->proto_mask & protos[i]))
			continue;
		list_item(buf, len, &pos, "proto", &first);
		append(buf, len, &pos, "%s", nc_proto_name(protos[i]));
	}
	first = true;
	for (i = 0; i < spec->n_cidrs && i < NC_RULE_MAX_CIDRS; i++) {
		list_item(buf, len, &pos, "ip", &first);
		nc_format_cidr(&spec->cidrs[i], one, sizeof(one));
		append(buf, len, &pos, "%s", one);
	}
	first = true;
	for (i = 0; i < spec->n_ifaces && i < NC_RULE_MAX_IFACES; i++) {
		list_item(buf, len, &pos, "iface", &first);
		append(buf, len, &pos, "%.*s", IF_NAMESIZE, spec->ifaces[i]);
	}
	if (spec->netns[0])
		append(buf, len, &pos, "%snetns %.*s", pos ? " " : "", (int)sizeof(spec->netns),
		       spec->netns);
	/* "both" is the default of BPF faults; for netem faults it means twice
	 * per round trip, which is worth saying. */
	if (spec->dir_mask && (spec->dir_mask != NC_DIR_BOTH || nc_spec_is_netem(spec)))
		append(buf, len, &pos, "%sdirection %s", pos ? " " : "",
		       nc_direction_name(spec->dir_mask));
	if (spec->allow_host_network)
		append(buf, len, &pos, "%sallow-host-network", pos ? " " : "");
	if (!pos)
		append(buf, len, &pos, "all traffic");
}

static const char *pct(uint32_t prob, char *buf, size_t len)
{
	nc_format_percent(prob, buf, len);
	return buf;
}

void nc_spec_describe_fault(const struct nc_rule_spec *spec, char *buf, size_t len)
{
	const struct nc_netem_params *p = &spec->netem;
	uint32_t v[5];
	char a[32];
	size_t pos = 0;
	int i, n;

	if (!len)
		return;
	buf[0] = '\0';
	switch (spec->kind) {
	case NC_FAULT_LOSS:
		if (p->loss_model.model == NC_NETEM_LOSS_RANDOM) {
			append(buf, len, &pos, "loss %s", pct(spec->prob, a, sizeof(a)));
			break;
		}
		append(buf, len, &pos, "loss %s", nc_loss_model_name(p->loss_model.model));
		n = nc_netem_loss_params(p, v);
		for (i = 0; i < n; i++)
			append(buf, len, &pos, " %s", pct(v[i], a, sizeof(a)));
		break;
	case NC_FAULT_CORRUPT:
		append(buf, len, &pos, "corrupt %s%s", pct(spec->prob, a, sizeof(a)),
		       spec->payload ? " (payload)" : "");
		break;
	case NC_FAULT_DUPLICATE:
		append(buf, len, &pos, "duplicate %s", pct(p->duplicate, a, sizeof(a)));
		if (p->dup_corr)
			append(buf, len, &pos, " %s", pct(p->dup_corr, a, sizeof(a)));
		break;
	case NC_FAULT_REORDER:
		append(buf, len, &pos, "reorder %s", pct(p->reorder, a, sizeof(a)));
		if (p->reorder_corr)
			append(buf, len, &pos, " %s", pct(p->reorder_corr, a, sizeof(a)));
		if (p->gap)
			append(buf, len, &pos, " gap %u", p->gap);
		break;
	case NC_FAULT_RATE:
		nc_netem_format_rate(p->rate_bps, a, sizeof(a));
		append(buf, len, &pos, "rate %s", a);
		if (p->packet_overhead)
			append(buf, len, &pos, " overhead %d", p->packet_overhead);
		break;
	case NC_FAULT_DELAY:
		break; /* below, with the delay of the others */
	default:
		append(buf, len, &pos, "%s", nc_fault_kind_name(spec->kind));
		break;
	}
	if (spec->kind == NC_FAULT_DELAY || p->latency_ns) {
		nc_netem_format_time(p->latency_ns, a, sizeof(a));
		append(buf, len, &pos, "%sdelay %s", pos ? " " : "", a);
		if (p->jitter_ns) {
			nc_netem_format_time(p->jitter_ns, a, sizeof(a));
			append(buf, len, &pos, " jitter %s", a);
			if (p->latency_corr)
				append(buf, len, &pos, " %s", pct(p->latency_corr, a, sizeof(a)));
		}
		if (p->dist != NC_NETEM_DIST_NONE)
			append(buf, len, &pos, " %s", nc_netem_dist_name(p->dist));
	}
	if (p->ecn)
		append(buf, len, &pos, " ecn");
	if (p->limit)
		append(buf, len, &pos, " limit %u", p->limit);
}
