// SPDX-License-Identifier: GPL-2.0-only
/*
 * chaosctl's argument parsing (see cli_args.h): the option table, getopt_long
 * driven from it, and the mapping of each option onto struct nc_rule_spec.
 * getopt's own messages are off; errors are phrased here, one line each.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli_args.h"
#include "errmsg.h"
#include "netem.h"
#include "spec.h"
#include "units.h"

enum {
	OPT_POSITIONAL = 1, /* getopt's code for a non-option with "-" ordering */
	OPT_PORT = 0x100,
	OPT_SPORT,
	OPT_DPORT,
	OPT_PROTO,
	OPT_IP,
	OPT_IFACE,
	OPT_NETNS,
	OPT_DIRECTION,
	OPT_FOR,
	OPT_DRY_RUN,
	OPT_FORCE,
	OPT_CONTAINER,
	OPT_LABEL,
	OPT_SERVICE,
	OPT_ALLOW_HOST_NETWORK,
	OPT_GROUP,
	OPT_ONE_WAY,
	OPT_PAYLOAD,
	OPT_MODEL,
	OPT_ECN,
	OPT_DELAY,
	OPT_JITTER,
	OPT_CORRELATION,
	OPT_DISTRIBUTION,
	OPT_GAP,
	OPT_PACKET_OVERHEAD,
	OPT_LIMIT,
	OPT_ALL,
	OPT_SOCKET,
	OPT_JSON,
	OPT_HELP,
	OPT__END,
};

/* Same order as nc_cli_options[]: the getopt code of each entry. */
static const int option_codes[] = {
	OPT_PORT,	 OPT_SPORT,	    OPT_DPORT,		OPT_PROTO,
	OPT_IP,		 OPT_IFACE,	    OPT_NETNS,		OPT_DIRECTION,
	OPT_FOR,	 OPT_DRY_RUN,	    OPT_FORCE,		OPT_CONTAINER,
	OPT_LABEL,	 OPT_SERVICE,	    OPT_ALLOW_HOST_NETWORK, OPT_GROUP,
	OPT_ONE_WAY,	 OPT_PAYLOAD,	    OPT_MODEL,		OPT_ECN,
	OPT_DELAY,	 OPT_JITTER,	    OPT_CORRELATION,	OPT_DISTRIBUTION,
	OPT_GAP,	 OPT_PACKET_OVERHEAD, OPT_LIMIT,	OPT_ALL,
	OPT_SOCKET,	 OPT_JSON,	    OPT_HELP,
};

const struct nc_cli_option nc_cli_options[] = {
	{ "port", 0, "N[-M]", NC_CLI_TARGET, "source or destination port N (or N to M)" },
	{ "sport", 0, "N[-M]", NC_CLI_TARGET, "source port N (or N to M)" },
	{ "dport", 0, "N[-M]", NC_CLI_TARGET, "destination port N (or N to M)" },
	{ "proto", 0, "PROTO", NC_CLI_TARGET, "tcp, udp or icmp (default: any protocol)" },
	{ "ip", 0, "ADDR[/LEN]", NC_CLI_TARGET, "peer address or network, IPv4 or IPv6" },
	{ "iface", 0, "NAME", NC_CLI_TARGET, "only on this interface (default: every one)" },
	{ "netns", 0, "NAME|PATH", NC_CLI_TARGET, "in this network namespace (default: the agent's)" },
	{ "direction", 0, "DIR", NC_CLI_TARGET,
	  "egress, ingress or both (default: drop, loss,\ncorrupt, partition act both ways; netem faults\nonce per round trip)" },
	{ "for", 0, "DURATION", NC_CLI_TARGET | NC_CLI_CHANGE, "how long: 500ms, 30s, 2m, 1h30m (default: 5m)" },
	{ "dry-run", 0, NULL, NC_CLI_TARGET | NC_CLI_CHANGE, "show what would be done, change nothing" },
	{ "force", 0, NULL, NC_CLI_TARGET, "override the agent's safety checks" },
	{ "container", 0, "NAME", NC_CLI_DOCKER,
	  "in this Docker container's namespace (name, id or\nid prefix; all its traffic unless narrowed)" },
	{ "label", 0, "KEY=VALUE", NC_CLI_DOCKER, "in every container with this label" },
	{ "service", 0, "NAME", NC_CLI_DOCKER, "in every container of this compose service" },
	{ "allow-host-network", 0, NULL, NC_CLI_DOCKER,
	  "accept a --network host container (the fault then\nacts on the host's own traffic)" },
	{ "group", 0, "MEMBER[,...]", NC_CLI_GROUP,
	  "partition: one side; give two or more. MEMBER: a\ncontainer, label:K=V, service:NAME, host, or an\naddress or CIDR" },
	{ "one-way", 0, NULL, NC_CLI_GROUP, "partition: cut only what the first group sends" },
	{ "payload", 0, NULL, NC_CLI_PAYLOAD, "corrupt: damage payload bytes, keep checksums valid" },
	{ "model", 0, "MODEL", NC_CLI_LOSSMODEL,
	  "loss: burst loss with netem, gemodel (Gilbert-\nElliott: P R 1-H 1-K) or 4state (P13 P31 P32 P23\nP14), parameters in tc's order" },
	{ "ecn", 0, NULL, NC_CLI_LOSSMODEL, "loss --model: ECN-mark packets instead of dropping" },
	{ "delay", 0, "TIME", NC_CLI_NETEM, "also delay by TIME (reorder needs it)" },
	{ "jitter", 0, "TIME", NC_CLI_NETEM, "vary the delay randomly by +-TIME" },
	{ "correlation", 0, "P%", NC_CLI_CORR,
	  "how much each random choice follows the last one\n(delay: of the jitter; duplicate, reorder: theirs)" },
	{ "distribution", 0, "DIST", NC_CLI_NETEM,
	  "jitter: uniform (default), normal, pareto or\nparetonormal" },
	{ "gap", 0, "N", NC_CLI_REORDER, "reorder: only every Nth packet may jump the queue" },
	{ "packet-overhead", 0, "BYTES", NC_CLI_RATE,
	  "rate: bytes to add to each packet's size (may be\nnegative)" },
	{ "limit", 0, "PACKETS", NC_CLI_NETEM, "netem queue length (default: sized to the delay)" },
	{ "all", 0, NULL, NC_CLI_CLEAR, "clear: remove every rule" },
	{ "socket", 0, "PATH", NC_CLI_GLOBAL, "netchaosd's socket (default: $" NC_SOCKET_ENV ",\nelse " NC_DEFAULT_SOCKET ")" },
	{ "json", 0, NULL, NC_CLI_GLOBAL, "print the agent's JSON reply as-is" },
	{ "help", 'h', NULL, NC_CLI_GLOBAL, "show help" },
	{ NULL, 0, NULL, 0, NULL },
};

#define N_OPTIONS (sizeof(option_codes) / sizeof(option_codes[0]))
_Static_assert(N_OPTIONS + 1 == sizeof(nc_cli_options) / sizeof(nc_cli_options[0]),
	       "option_codes[] and nc_cli_options[] must list the same options");
_Static_assert(N_OPTIONS == OPT__END - OPT_PORT, "every option code is in option_codes[]");

const char *nc_cli_socket_path(const struct nc_cli_globals *g)
{
	const char *env;

	if (g->socket_path)
		return g->socket_path;
	env = getenv(NC_SOCKET_ENV);
	return env && *env ? env : NC_DEFAULT_SOCKET;
}

void nc_cli_print_help_line(FILE *out, const char *left, const char *help)
{
	const char *line = help;

	/* A left part too wide for the column gets a line of its own. */
	if (strlen(left) > NC_CLI_HELP_COLUMN) {
		fprintf(out, "  %s\n", left);
		left = "";
	}
	/* Continuation lines of the help ('\n' in it) start at the column. */
	do {
		size_t n = strcspn(line, "\n");

		fprintf(out, "  %-*s  %.*s\n", NC_CLI_HELP_COLUMN, line == help ? left : "",
			(int)n, line);
		line += n;
	} while (*line++);
}

void nc_cli_print_options(FILE *out, unsigned int group)
{
	const struct nc_cli_option *o;

	for (o = nc_cli_options; o->name; o++) {
		char left[64], shortname[8] = "    ";

		if (!(o->groups & group))
			continue;
		if (o->short_name)
			snprintf(shortname, sizeof(shortname), "-%c, ", o->short_name);
		snprintf(left, sizeof(left), "%s--%s%s%s", shortname, o->name, o->metavar ? " " : "",
			 o->metavar ? o->metavar : "");
		nc_cli_print_help_line(out, left, o->help);
	}
}

/* getopt state for one command's words. */
struct parser {
	struct option longopts[N_OPTIONS + 1];
	char shortopts[16];
	unsigned int groups;
	const char *command; /* for messages; NULL before the command word */
};

static void parser_init(struct parser *p, unsigned int groups, const char *command, bool in_order)
{
	size_t i, n = 0, s = 0;

	memset(p, 0, sizeof(*p));
	p->groups = groups;
	p->command = command;
	/* '-': positionals come back in order as code 1 (options may follow them,
	 * whatever POSIXLY_CORRECT says); '+': stop at the first one. ':' asks for
	 * ':' on a missing value instead of a message from getopt. */
	p->shortopts[s++] = in_order ? '-' : '+';
	p->shortopts[s++] = ':';
	for (i = 0; i < N_OPTIONS; i++) {
		const struct nc_cli_option *o = &nc_cli_options[i];

		if (!(o->groups & groups))
			continue;
		p->longopts[n].name = o->name;
		p->longopts[n].has_arg = o->metavar ? required_argument : no_argument;
		p->longopts[n].val = option_codes[i];
		n++;
		if (o->short_name && s + 2 < sizeof(p->shortopts)) {
			p->shortopts[s++] = o->short_name;
			if (o->metavar)
				p->shortopts[s++] = ':';
		}
	}
	optind = 0; /* glibc: start over, even after an earlier parse */
	opterr = 0;
}

static const struct nc_cli_option *find_option(const struct parser *p, const char *name,
					       size_t len)
{
	const struct nc_cli_option *o;

	for (o = nc_cli_options; o->name; o++)
		if ((o->groups & p->groups) && strlen(o->name) == len && !strncmp(o->name, name, len))
			return o;
	return NULL;
}

/* getopt accepts unique prefixes ("--dir"); name the candidates of a
 * prefix that is not unique. */
static bool ambiguous(const struct parser *p, const char *name, size_t len, char *err,
		      size_t errlen)
{
	const struct nc_cli_option *o;
	char list[256] = "";
	size_t pos = 0;
	int n = 0;

	for (o = nc_cli_options; o->name; o++) {
		if (!(o->groups & p->groups) || strncmp(o->name, name, len))
			continue;
		n++;
		if (pos < sizeof(list))
			pos += (size_t)snprintf(list + pos, sizeof(list) - pos, "%s--%s",
						pos ? ", " : "", o->name);
	}
	if (n < 2)
		return false;
	nc_set_err(err, errlen, "ambiguous option '--%.*s' (could be %s)", (int)len, name, list);
	return true;
}

/* Phrase what getopt refused: the word is argv[optind - 1]. */
static int option_error(const struct parser *p, int code, char **argv, char *err, size_t errlen)
{
	const char *word = optind > 0 ? argv[optind - 1] : "?";
	const struct nc_cli_option *o = NULL;
	size_t len;

	if (!strncmp(word, "--", 2)) {
		len = strcspn(word + 2, "=");
		o = find_option(p, word + 2, len);
		if (o && !o->metavar && word[2 + len] == '=') {
			nc_set_err(err, errlen, "option '--%s' takes no value", o->name);
			return -EINVAL;
		}
		if (code == ':') {
			nc_set_err(err, errlen, "option '%.*s' needs a value", (int)(len + 2), word);
			return -EINVAL;
		}
		if (!o && len && ambiguous(p, word + 2, len, err, errlen))
			return -EINVAL;
		nc_set_err(err, errlen, "unknown option '%.*s'%s%s%s", (int)(len + 2), word,
			   p->command ? " for " : "", p->command ? p->command : "",
			   o ? "" : " (see chaosctl --help)");
		return -EINVAL;
	}
	if (code == ':')
		nc_set_err(err, errlen, "option '-%c' needs a value", optopt);
	else
		nc_set_err(err, errlen, "unknown option '-%c'%s%s", optopt ? optopt : '?',
			   p->command ? " for " : "", p->command ? p->command : "");
	return -EINVAL;
}

/* Handle a global option; false if code is not one. */
static bool global_option(struct nc_cli_globals *g, int code)
{
	switch (code) {
	case OPT_SOCKET:
		g->socket_path = optarg;
		return true;
	case OPT_JSON:
		g->json = true;
		return true;
	case OPT_HELP:
	case 'h':
		g->help = true;
		return true;
	}
	return false;
}

int nc_cli_parse_globals(int argc, char **argv, struct nc_cli_globals *g, int *cmd_index,
			 char *err, size_t errlen)
{
	struct parser p;
	int code;

	parser_init(&p, NC_CLI_GLOBAL, NULL, false);
	while ((code = getopt_long(argc, argv, p.shortopts, p.longopts, NULL)) != -1) {
		if (!global_option(g, code))
			return option_error(&p, code, argv, err, errlen);
	}
	if (g->socket_path && !*g->socket_path) {
		nc_set_err(err, errlen, "empty --socket path");
		return -EINVAL;
	}
	*cmd_index = optind;
	return 0;
}

/* ---- fault commands ---- */

/* Calls one() for each item of a comma list such as "80,443,1000-2000". */
static int for_each_item(const char *opt, const char *list, struct nc_rule_spec *spec,
			 int (*one)(const char *opt, const char *item, struct nc_rule_spec *spec,
				    char *err, size_t errlen),
			 char *err, size_t errlen)
{
	const char *p = list;

	for (;;) {
		size_t n = strcspn(p, ",");
		char *item;
		int ret;

		if (n == 0) {
			nc_set_err(err, errlen, "--%s: empty value in '%s'", opt, list);
			return -EINVAL;
		}
		item = strndup(p, n);
		if (!item) {
			nc_set_err(err, errlen, "out of memory");
			return -ENOMEM;
		}
		ret = one(opt, item, spec, err, errlen);
		free(item);
		if (ret)
			return ret;
		if (!p[n])
			return 0;
		p += n + 1;
	}
}

static int add_port(const char *opt, const char *item, struct nc_rule_spec *spec, char *err,
		    size_t errlen)
{
	struct nc_port_spec *ps;
	char prefix[16];

	if (spec->n_ports >= NC_RULE_MAX_PORTS) {
		nc_set_err(err, errlen, "too many ports (at most %d across --port, --sport and --dport)",
			   NC_RULE_MAX_PORTS);
		return -EINVAL;
	}
	ps = &spec->ports[spec->n_ports];
	if (nc_parse_port_range_err(item, &ps->lo, &ps->hi, err, errlen)) {
		snprintf(prefix, sizeof(prefix), "--%s", opt);
		nc_prefix_err(err, errlen, prefix);
		return -EINVAL;
	}
	ps->kind = !strcmp(opt, "sport") ? NC_PORT_SRC :
		   !strcmp(opt, "dport") ? NC_PORT_DST : NC_PORT_EITHER;
	spec->n_ports++;
	return 0;
}

static int add_proto(const char *opt, const char *item, struct nc_rule_spec *spec, char *err,
		     size_t errlen)
{
	uint8_t bit;

	if (nc_parse_proto_err(item, &bit, err, errlen)) {
		nc_prefix_err(err, errlen, "--proto");
		return -EINVAL;
	}
	spec->proto_mask |= bit;
	return 0;
}

static int add_ip(const char *opt, const char *item, struct nc_rule_spec *spec, char *err,
		  size_t errlen)
{
	if (spec->n_cidrs >= NC_RULE_MAX_CIDRS) {
		nc_set_err(err, errlen, "too many --ip values (at most %d)", NC_RULE_MAX_CIDRS);
		return -EINVAL;
	}
	/* The parser's message already names the address and, for host bits,
	 * the network that was probably meant. */
	if (nc_parse_cidr_err(item, &spec->cidrs[spec->n_cidrs], err, errlen))
		return -EINVAL;
	spec->n_cidrs++;
	return 0;
}

static int add_iface(const char *name, struct nc_rule_spec *spec, char *err, size_t errlen)
{
	if (spec->n_ifaces >= NC_RULE_MAX_IFACES) {
		nc_set_err(err, errlen, "too many --iface values (at most %d)", NC_RULE_MAX_IFACES);
		return -EINVAL;
	}
	if (strlen(name) >= IF_NAMESIZE) {
		nc_set_err(err, errlen, "interface name '%s' is too long (at most %d characters)",
			   name, IF_NAMESIZE - 1);
		return -EINVAL;
	}
	if (!nc_ifname_valid(name)) {
		nc_set_err(err, errlen, "invalid interface name '%s'", name);
		return -EINVAL;
	}
	snprintf(spec->ifaces[spec->n_ifaces++], IF_NAMESIZE, "%s", name);
	return 0;
}

/* --container/--service items (comma lists) and --label values. */
static int add_ref(enum nc_member_kind kind, const char *opt, const char *item, uint8_t *n,
		   char (*refs)[NC_CONTAINER_REF_MAX], char *err, size_t errlen)
{
	if (*n >= NC_RULE_MAX_CONTAINERS) {
		nc_set_err(err, errlen, "too many %s values (at most %d)", opt, NC_RULE_MAX_CONTAINERS);
		return -EINVAL;
	}
	if (nc_docker_ref_check(kind, item, err, errlen)) {
		nc_prefix_err(err, errlen, opt);
		return -EINVAL;
	}
	snprintf(refs[(*n)++], NC_CONTAINER_REF_MAX, "%s", item);
	return 0;
}

static int add_container(const char *opt, const char *item, struct nc_rule_spec *spec,
			 char *err, size_t errlen)
{
	return add_ref(NC_MEMBER_CONTAINER, "--container", item, &spec->n_containers,
		       spec->containers, err, errlen);
}

static int add_service(const char *opt, const char *item, struct nc_rule_spec *spec, char *err,
		       size_t errlen)
{
	return add_ref(NC_MEMBER_SERVICE, "--service", item, &spec->n_services, spec->services,
		       err, errlen);
}

/* One member of the --group being filled (the last of spec->groups). */
static int add_member(const char *opt, const char *item, struct nc_rule_spec *spec, char *err,
		      size_t errlen)
{
	struct nc_group *grp = &spec->groups[spec->n_groups - 1];

	if (grp->n_members >= NC_GROUP_MAX_MEMBERS) {
		nc_set_err(err, errlen, "too many members in one --group (at most %d)",
			   NC_GROUP_MAX_MEMBERS);
		return -EINVAL;
	}
	if (nc_group_member_parse(item, &grp->members[grp->n_members], err, errlen)) {
		nc_prefix_err(err, errlen, "--group");
		return -EINVAL;
	}
	grp->n_members++;
	return 0;
}

static int add_group(const char *list, struct nc_rule_spec *spec, char *err, size_t errlen)
{
	if (spec->n_groups >= NC_MAX_GROUPS) {
		nc_set_err(err, errlen, "too many --group (at most %d)", NC_MAX_GROUPS);
		return -EINVAL;
	}
	spec->n_groups++;
	return for_each_item("group", list, spec, add_member, err, errlen);
}

/* A whole number in [min, max], for --gap, --limit, --packet-overhead. */
static int parse_int(const char *opt, const char *s, int64_t min, int64_t max, int64_t *out,
		     char *err, size_t errlen)
{
	const char *p = s;
	bool neg = *p == '-';
	int64_t v = 0;

	if (neg)
		p++;
	if (!*p)
		goto bad;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			goto bad;
		if (v > max / 10 + 1)
			goto range;
		v = v * 10 + (*p - '0');
	}
	if (neg)
		v = -v;
	if (v < min || v > max)
		goto range;
	*out = v;
	return 0;
bad:
	nc_set_err(err, errlen, "--%s: invalid number '%s'", opt, s);
	return -EINVAL;
range:
	nc_set_err(err, errlen, "--%s: %s is out of range (%lld to %lld)", opt, s, (long long)min,
		   (long long)max);
	return -EINVAL;
}

/* What the options said beyond the spec itself, or before the spec's kind
 * could place it. */
struct fault_seen {
	uint8_t dir_mask; /* OR of every --direction */
	uint64_t once;	  /* options that may be given once: bit (code - OPT_PORT) */
	uint64_t used;	  /* every option given: bit (code - OPT_PORT) */
	int model;	  /* --model */
	bool have_corr, have_delay;
	uint32_t corr;	   /* --correlation */
	uint64_t delay_ns; /* --delay */
};

/* Options of which one value makes sense; a second one is an error. */
static bool once_only(int code)
{
	switch (code) {
	case OPT_NETNS:
	case OPT_FOR:
	case OPT_MODEL:
	case OPT_DELAY:
	case OPT_JITTER:
	case OPT_CORRELATION:
	case OPT_DISTRIBUTION:
	case OPT_GAP:
	case OPT_PACKET_OVERHEAD:
	case OPT_LIMIT:
		return true;
	}
	return false;
}

static const char *option_name(int code)
{
	size_t i;

	for (i = 0; i < N_OPTIONS; i++)
		if (option_codes[i] == code)
			return nc_cli_options[i].name;
	return "?";
}

static int fault_option(int code, const char *arg, struct nc_rule_spec *spec,
			struct fault_seen *seen, char *err, size_t errlen)
{
	struct nc_netem_params *ne = &spec->netem;
	int64_t v;
	uint8_t dir;

	seen->used |= 1ull << (code - OPT_PORT);
	if (once_only(code)) {
		uint64_t bit = 1ull << (code - OPT_PORT);

		if (seen->once & bit) {
			nc_set_err(err, errlen, "--%s given twice%s", option_name(code),
				   code == OPT_NETNS ? " (a rule lives in one namespace)" : "");
			return -EINVAL;
		}
		seen->once |= bit;
	}
	switch (code) {
	case OPT_PORT:
		return for_each_item("port", arg, spec, add_port, err, errlen);
	case OPT_SPORT:
		return for_each_item("sport", arg, spec, add_port, err, errlen);
	case OPT_DPORT:
		return for_each_item("dport", arg, spec, add_port, err, errlen);
	case OPT_PROTO:
		return for_each_item("proto", arg, spec, add_proto, err, errlen);
	case OPT_IP:
		return for_each_item("ip", arg, spec, add_ip, err, errlen);
	case OPT_IFACE:
		return add_iface(arg, spec, err, errlen);
	case OPT_NETNS:
		if (!*arg || strlen(arg) >= sizeof(spec->netns)) {
			nc_set_err(err, errlen, "--netns: %s", *arg ? "name or path too long" : "empty name");
			return -EINVAL;
		}
		snprintf(spec->netns, sizeof(spec->netns), "%s", arg);
		return 0;
	case OPT_DIRECTION:
		if (nc_parse_direction_err(arg, &dir, err, errlen)) {
			nc_prefix_err(err, errlen, "--direction");
			return -EINVAL;
		}
		seen->dir_mask |= dir;
		return 0;
	case OPT_FOR:
		if (nc_parse_duration_ms_err(arg, &spec->duration_ms, err, errlen)) {
			nc_prefix_err(err, errlen, "--for");
			return -EINVAL;
		}
		return 0;
	case OPT_DRY_RUN:
		spec->dry_run = true;
		return 0;
	case OPT_FORCE:
		spec->force = true;
		return 0;
	case OPT_CONTAINER:
		return for_each_item("container", arg, spec, add_container, err, errlen);
	case OPT_LABEL: /* no comma list: a label's value may hold commas */
		return add_ref(NC_MEMBER_LABEL, "--label", arg, &spec->n_labels, spec->labels, err,
			       errlen);
	case OPT_SERVICE:
		return for_each_item("service", arg, spec, add_service, err, errlen);
	case OPT_ALLOW_HOST_NETWORK:
		spec->allow_host_network = true;
		return 0;
	case OPT_GROUP:
		return add_group(arg, spec, err, errlen);
	case OPT_ONE_WAY:
		spec->one_way = true;
		return 0;
	case OPT_PAYLOAD:
		spec->payload = true;
		return 0;
	case OPT_MODEL:
		if (spec->kind != NC_FAULT_LOSS) {
			nc_set_err(err, errlen, "--model only applies to loss");
			return -EINVAL;
		}
		if (nc_loss_model_parse(arg, &seen->model, err, errlen)) {
			nc_prefix_err(err, errlen, "--model");
			return -EINVAL;
		}
		return 0;
	case OPT_ECN:
		ne->ecn = true;
		return 0;
	case OPT_DELAY:
	case OPT_JITTER:
		if (nc_netem_parse_time(arg, code == OPT_DELAY ? &seen->delay_ns : &ne->jitter_ns, err,
					errlen)) {
			nc_prefix_err(err, errlen, code == OPT_DELAY ? "--delay" : "--jitter");
			return -EINVAL;
		}
		seen->have_delay |= code == OPT_DELAY;
		return 0;
	case OPT_CORRELATION:
		if (spec->kind == NC_FAULT_RATE) {
			nc_set_err(err, errlen, "--correlation does not apply to rate");
			return -EINVAL;
		}
		if (nc_parse_percent_err(arg, &seen->corr, err, errlen)) {
			nc_prefix_err(err, errlen, "--correlation");
			return -EINVAL;
		}
		seen->have_corr = true;
		return 0;
	case OPT_DISTRIBUTION:
		if (nc_netem_parse_dist(arg, &ne->dist, err, errlen)) {
			nc_prefix_err(err, errlen, "--distribution");
			return -EINVAL;
		}
		return 0;
	case OPT_GAP:
		if (parse_int("gap", arg, 1, UINT32_MAX, &v, err, errlen))
			return -EINVAL;
		ne->gap = (uint32_t)v;
		return 0;
	case OPT_PACKET_OVERHEAD:
		if (parse_int("packet-overhead", arg, INT32_MIN, INT32_MAX, &v, err, errlen))
			return -EINVAL;
		ne->packet_overhead = (int32_t)v;
		return 0;
	case OPT_LIMIT:
		if (parse_int("limit", arg, 1, NC_SPEC_MAX_NETEM_LIMIT, &v, err, errlen))
			return -EINVAL;
		ne->limit = (uint32_t)v;
		return 0;
	}
	nc_set_err(err, errlen, "internal error: unhandled option %d", code);
	return -EINVAL;
}

#define MAX_POSITIONALS 5 /* loss --model 4state P13 P31 P32 P23 P14 */

/* What the positionals of a kind are, for messages. */
static const char *positional_example(enum nc_fault_kind kind, int model)
{
	switch (kind) {
	case NC_FAULT_LOSS:
		if (model == NC_NETEM_LOSS_GE)
			return "P [R [1-H [1-K]]] (e.g. chaosctl loss --model gemodel 1% 10% 70% 0.1%)";
		if (model == NC_NETEM_LOSS_GI)
			return "P13 [P31 [P32 [P23 [P14]]]] (e.g. chaosctl loss --model 4state 1% 30%)";
		return "a percentage (e.g. chaosctl loss 30%)";
	case NC_FAULT_CORRUPT:
		return "a percentage (e.g. chaosctl corrupt 1%)";
	case NC_FAULT_DUPLICATE:
		return "a percentage (e.g. chaosctl duplicate 5%)";
	case NC_FAULT_REORDER:
		return "a percentage (e.g. chaosctl reorder 25% --delay 10ms)";
	case NC_FAULT_DELAY:
		return "a time (e.g. chaosctl delay 200ms)";
	case NC_FAULT_RATE:
		return "a rate (e.g. chaosctl rate 1mbit)";
	default:
		return "nothing";
	}
}

/* Put the positionals and the kind-dependent options into spec. */
static int finish_fault(const char *cmd, struct nc_rule_spec *spec, struct fault_seen *seen,
			char **pos, int n_pos, char *err, size_t errlen)
{
	struct nc_netem_params *ne = &spec->netem;
	int max = 1, i;
	uint32_t v[MAX_POSITIONALS];

	switch (spec->kind) {
	case NC_FAULT_DROP:
	case NC_FAULT_PARTITION:
		max = 0;
		break;
	case NC_FAULT_LOSS:
		max = seen->model == NC_NETEM_LOSS_GE ? 4 : seen->model == NC_NETEM_LOSS_GI ? 5 : 1;
		break;
	case NC_FAULT_DELAY:
		max = seen->have_delay ? 0 : 1;
		break;
	default:
		break;
	}
	if (n_pos > max) {
		if (spec->kind == NC_FAULT_DELAY && seen->have_delay)
			nc_set_err(err, errlen, "give the delay once: chaosctl delay %s or --delay %s, not both",
				   pos[0], pos[0]);
		else
			nc_set_err(err, errlen, "unexpected argument '%s' for %s", pos[max], cmd);
		return -EINVAL;
	}
	if (n_pos < 1 && max > 0) {
		nc_set_err(err, errlen, "%s%s%s needs %s", cmd, seen->model ? " --model " : "",
			   seen->model ? nc_loss_model_name(seen->model) : "",
			   positional_example(spec->kind, seen->model));
		return -EINVAL;
	}
	switch (spec->kind) {
	case NC_FAULT_LOSS:
		if (!seen->model)
			return nc_parse_percent_err(pos[0], &spec->prob, err, errlen);
		for (i = 0; i < n_pos; i++)
			if (nc_parse_percent_err(pos[i], &v[i], err, errlen))
				return -EINVAL;
		if (seen->model == NC_NETEM_LOSS_GE)
			nc_netem_set_gemodel(ne, v, n_pos);
		else
			nc_netem_set_gimodel(ne, v, n_pos);
		break;
	case NC_FAULT_CORRUPT:
		return nc_parse_percent_err(pos[0], &spec->prob, err, errlen);
	case NC_FAULT_DUPLICATE:
		return nc_parse_percent_err(pos[0], &ne->duplicate, err, errlen);
	case NC_FAULT_REORDER:
		return nc_parse_percent_err(pos[0], &ne->reorder, err, errlen);
	case NC_FAULT_DELAY:
		if (n_pos)
			return nc_netem_parse_time(pos[0], &ne->latency_ns, err, errlen);
		break;
	case NC_FAULT_RATE:
		return nc_netem_parse_rate(pos[0], &ne->rate_bps, err, errlen);
	default:
		break;
	}
	return 0;
}

static int parse_fault(int argc, char **argv, struct nc_cli_globals *g, struct nc_rule_spec *spec,
		       struct fault_seen *seenp, char *err, size_t errlen)
{
	struct fault_seen seen = { 0 };
	char *pos[MAX_POSITIONALS + 1];
	enum nc_fault_kind kind;
	struct nc_netem_params *ne = &spec->netem;
	struct parser p;
	int code, ret, n_pos = 0;

	nc_spec_init(spec);
	if (argc < 1 || nc_parse_fault_kind_err(argv[0], &kind, err, errlen))
		return -EINVAL;
	spec->kind = kind;

	parser_init(&p, NC_CLI_GLOBAL | NC_CLI_FAULT, argv[0], true);
	while ((code = getopt_long(argc, argv, p.shortopts, p.longopts, NULL)) != -1) {
		if (code == '?' || code == ':')
			return option_error(&p, code, argv, err, errlen);
		if (global_option(g, code))
			continue;
		if (code == OPT_POSITIONAL) {
			/* one more than any kind takes, for the message */
			if (n_pos <= MAX_POSITIONALS)
				pos[n_pos++] = optarg;
			continue;
		}
		/* A safety override is never abbreviated ("--all" is not it). */
		if (code == OPT_ALLOW_HOST_NETWORK && strcmp(argv[optind - 1], "--allow-host-network")) {
			nc_set_err(err, errlen, "unknown option '%s' for %s (write --allow-host-network in full)",
				   argv[optind - 1], argv[0]);
			return -EINVAL;
		}
		ret = fault_option(code, optarg, spec, &seen, err, errlen);
		if (ret)
			return ret;
	}
	/* After "--" getopt stops; what is left is positional too. */
	for (; optind < argc; optind++)
		if (n_pos <= MAX_POSITIONALS)
			pos[n_pos++] = argv[optind];
	if (g->help)
		return 0;
	spec->dir_mask = seen.dir_mask;
	ret = finish_fault(argv[0], spec, &seen, pos, n_pos, err, errlen);
	if (ret)
		return ret;
	/* --delay: the latency of every netem fault (delay's own argument too) */
	if (seen.have_delay)
		ne->latency_ns = seen.delay_ns;
	/* --correlation correlates the fault's own random choice; on a fault
	 * without one it lands where nc_spec_validate() names it */
	if (seen.have_corr) {
		switch (kind) {
		case NC_FAULT_DUPLICATE:
			ne->dup_corr = seen.corr;
			break;
		case NC_FAULT_REORDER:
			ne->reorder_corr = seen.corr;
			break;
		case NC_FAULT_LOSS:
			ne->loss_corr = seen.corr;
			break;
		case NC_FAULT_CORRUPT:
			ne->corrupt_corr = seen.corr;
			break;
		default:
			ne->latency_corr = seen.corr;
			break;
		}
	}
	*seenp = seen;
	return 0;
}

int nc_cli_parse_fault(int argc, char **argv, struct nc_cli_globals *g,
		       struct nc_rule_spec *spec, char *err, size_t errlen)
{
	struct fault_seen seen;

	return parse_fault(argc, argv, g, spec, &seen, err, errlen);
}

/* ---- other commands ---- */

static int unexpected(const char *command, const char *word, char *err, size_t errlen)
{
	nc_set_err(err, errlen, "unexpected argument '%s' for %s", word, command);
	return -EINVAL;
}

static int parse_rule_id(const char *s, uint32_t *id, char *err, size_t errlen)
{
	uint64_t v = 0;
	const char *c;

	for (c = s; *c >= '0' && *c <= '9' && v <= UINT32_MAX; c++)
		v = v * 10 + (uint64_t)(*c - '0');
	if (!*s || *c || v == 0 || v > UINT32_MAX) {
		nc_set_err(err, errlen, "invalid rule id '%s' (a number from 'chaosctl list')", s);
		return -EINVAL;
	}
	*id = (uint32_t)v;
	return 0;
}

/* "ID --for D [--dry-run]": a new end only. argv[0] is the id. */
static int parse_change_end(int argc, char **argv, struct nc_cli_globals *g,
			    struct nc_change_req *req, char *err, size_t errlen)
{
	struct parser p;
	int code;

	parser_init(&p, NC_CLI_GLOBAL | NC_CLI_CHANGE, "change", true);
	while ((code = getopt_long(argc, argv, p.shortopts, p.longopts, NULL)) != -1) {
		if (global_option(g, code))
			continue;
		switch (code) {
		case OPT_FOR:
			if (nc_parse_duration_ms_err(optarg, &req->duration_ms, err, errlen)) {
				nc_prefix_err(err, errlen, "--for");
				return -EINVAL;
			}
			req->has_duration = true;
			break;
		case OPT_DRY_RUN:
			req->dry_run = true;
			break;
		case OPT_POSITIONAL:
			nc_set_err(err, errlen, "give the fault before the options: chaosctl change "
						"ID [FAULT ARGS...] [OPTIONS] ('%s')", optarg);
			return -EINVAL;
		default:
			return option_error(&p, code, argv, err, errlen);
		}
	}
	if (optind < argc) {
		nc_set_err(err, errlen, "unexpected argument '%s' for change", argv[optind]);
		return -EINVAL;
	}
	if (!req->has_duration && !g->help) {
		nc_set_err(err, errlen, "change without a fault needs --for (the rule's new end)");
		return -EINVAL;
	}
	return 0;
}

int nc_cli_parse_change(int argc, char **argv, struct nc_cli_globals *g, struct nc_change_req *req,
			char *err, size_t errlen)
{
	struct fault_seen seen;
	int ret;

	memset(req, 0, sizeof(*req));
	nc_spec_init(&req->fault);
	for (int i = 1; i < argc && i < 3; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			g->help = true;
			return 0;
		}
	}
	if (argc < 3) {
		nc_set_err(err, errlen, "change needs a rule id and the fault's new parameters or "
					"--for (e.g. chaosctl change 3 delay 300ms, change 3 --for 10m)");
		return -EINVAL;
	}
	if (argv[1][0] == '-') {
		nc_set_err(err, errlen, "give the rule id first, then the fault, then options: "
					"chaosctl change ID [FAULT ARGS...] [OPTIONS]");
		return -EINVAL;
	}
	ret = parse_rule_id(argv[1], &req->id, err, errlen);
	if (ret)
		return ret;
	if (argv[2][0] == '-')
		return parse_change_end(argc - 1, argv + 1, g, req, err, errlen);
	req->has_fault = true;
	ret = parse_fault(argc - 2, argv + 2, g, &req->fault, &seen, err, errlen);
	if (ret || g->help)
		return ret;
	for (size_t i = 0; i < N_OPTIONS; i++) {
		int code = option_codes[i];

		if (!(seen.used & (1ull << (code - OPT_PORT))) || code == OPT_FOR ||
		    code == OPT_DRY_RUN)
			continue;
		if (nc_cli_options[i].groups & (NC_CLI_TARGET | NC_CLI_DOCKER | NC_CLI_GROUP)) {
			nc_set_err(err, errlen,
				   "--%s: change keeps the rule's target (clear the rule and add a new "
				   "one to change it)",
				   nc_cli_options[i].name);
			return -EINVAL;
		}
	}
	req->has_duration = seen.used & (1ull << (OPT_FOR - OPT_PORT));
	req->duration_ms = req->fault.duration_ms;
	req->dry_run = req->fault.dry_run;
	req->fault.dry_run = false;
	return 0;
}

int nc_cli_parse_plain(int argc, char **argv, struct nc_cli_globals *g, int max_pos,
		       char **pos, int *n_pos, char *err, size_t errlen)
{
	struct parser p;
	int code;

	*n_pos = 0;
	parser_init(&p, NC_CLI_GLOBAL, argc > 0 ? argv[0] : NULL, true);
	while ((code = getopt_long(argc, argv, p.shortopts, p.longopts, NULL)) != -1) {
		if (global_option(g, code))
			continue;
		if (code != OPT_POSITIONAL)
			return option_error(&p, code, argv, err, errlen);
		if (*n_pos >= max_pos)
			return unexpected(argv[0], optarg, err, errlen);
		pos[(*n_pos)++] = optarg;
	}
	for (; optind < argc; optind++) {
		if (*n_pos >= max_pos)
			return unexpected(argv[0], argv[optind], err, errlen);
		pos[(*n_pos)++] = argv[optind];
	}
	return 0;
}

int nc_cli_parse_clear(int argc, char **argv, struct nc_cli_globals *g, uint32_t *id, bool *all,
		       char *err, size_t errlen)
{
	const char *id_word = NULL;
	struct parser p;
	int code;

	*all = false;
	*id = 0;
	parser_init(&p, NC_CLI_GLOBAL | NC_CLI_CLEAR, argc > 0 ? argv[0] : NULL, true);
	while ((code = getopt_long(argc, argv, p.shortopts, p.longopts, NULL)) != -1) {
		if (global_option(g, code))
			continue;
		if (code == OPT_ALL) {
			*all = true;
			continue;
		}
		if (code != OPT_POSITIONAL)
			return option_error(&p, code, argv, err, errlen);
		if (id_word) {
			nc_set_err(err, errlen, "unexpected argument '%s' for clear (one rule id at a time, or --all)",
				   optarg);
			return -EINVAL;
		}
		id_word = optarg;
	}
	for (; optind < argc; optind++) {
		if (id_word) {
			nc_set_err(err, errlen, "unexpected argument '%s' for clear (one rule id at a time, or --all)",
				   argv[optind]);
			return -EINVAL;
		}
		id_word = argv[optind];
	}
	if (g->help)
		return 0;
	if (id_word && *all) {
		nc_set_err(err, errlen, "give a rule id or --all, not both");
		return -EINVAL;
	}
	if (!id_word && !*all) {
		nc_set_err(err, errlen, "clear needs a rule id (see chaosctl list) or --all");
		return -EINVAL;
	}
	return id_word ? parse_rule_id(id_word, id, err, errlen) : 0;
}
