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
#include "spec.h"
#include "units.h"

void nc_spec_init(struct nc_rule_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	spec->dir_mask = NC_DIR_BOTH;
	spec->duration_ms = NC_DEFAULT_DURATION_MS;
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
	if (spec->kind == NC_FAULT_PARTITION && spec->n_cidrs == 0) {
		nc_set_err(err, errlen, "partition needs at least one peer address (--ip)");
		return -EINVAL;
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

int nc_spec_validate(const struct nc_rule_spec *spec, char *err, size_t errlen)
{
	char buf[64];
	int ret;

	switch (spec->kind) {
	case NC_FAULT_DROP:
	case NC_FAULT_PARTITION:
		break; /* the probability is ignored */
	case NC_FAULT_LOSS:
	case NC_FAULT_CORRUPT:
		if (spec->prob == 0) {
			nc_set_err(err, errlen, "%s of 0%% does nothing; give a percentage above 0",
				   nc_fault_kind_name(spec->kind));
			return -EINVAL;
		}
		break;
	case NC_FAULT_NONE:
		nc_set_err(err, errlen, "no fault given (drop, loss, corrupt or partition)");
		return -EINVAL;
	default:
		nc_set_err(err, errlen, "unknown fault kind %d", (int)spec->kind);
		return -EINVAL;
	}
	if (spec->payload && spec->kind != NC_FAULT_CORRUPT) {
		nc_set_err(err, errlen, "--payload only applies to corrupt, not %s",
			   nc_fault_kind_name(spec->kind));
		return -EINVAL;
	}
	if (spec->duration_ms == 0) {
		nc_set_err(err, errlen, "duration must be at least 1ms");
		return -EINVAL;
	}
	if (spec->duration_ms > NC_MAX_DURATION_MS) {
		nc_format_duration(spec->duration_ms, buf, sizeof(buf));
		nc_set_err(err, errlen, "duration %s is longer than the maximum of 24h", buf);
		return -EINVAL;
	}
	if (spec->dir_mask == 0 || (spec->dir_mask & ~NC_DIR_BOTH)) {
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
	unsigned int i, k;
	size_t pos = 0;
	char one[64];
	bool first;

	if (!len)
		return;
	buf[0] = '\0';
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
	if (spec->dir_mask != NC_DIR_BOTH)
		append(buf, len, &pos, "%sdirection %s", pos ? " " : "",
		       nc_direction_name(spec->dir_mask));
	if (!pos)
		append(buf, len, &pos, "all traffic");
}

void nc_spec_describe_fault(const struct nc_rule_spec *spec, char *buf, size_t len)
{
	char pct[32];

	switch (spec->kind) {
	case NC_FAULT_LOSS:
		nc_format_percent(spec->prob, pct, sizeof(pct));
		snprintf(buf, len, "loss %s", pct);
		break;
	case NC_FAULT_CORRUPT:
		nc_format_percent(spec->prob, pct, sizeof(pct));
		snprintf(buf, len, "corrupt %s%s", pct, spec->payload ? " (payload)" : "");
		break;
	default:
		snprintf(buf, len, "%s", nc_fault_kind_name(spec->kind));
		break;
	}
}
