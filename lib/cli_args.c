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
	OPT_PAYLOAD,
	OPT_ALL,
	OPT_SOCKET,
	OPT_JSON,
	OPT_HELP,
};

/* Same order as nc_cli_options[]: the getopt code of each entry. */
static const int option_codes[] = {
	OPT_PORT,  OPT_SPORT,	OPT_DPORT, OPT_PROTO,	OPT_IP,	    OPT_IFACE,
	OPT_NETNS, OPT_DIRECTION, OPT_FOR, OPT_DRY_RUN, OPT_FORCE, OPT_PAYLOAD,
	OPT_ALL,   OPT_SOCKET,	OPT_JSON,  OPT_HELP,
};

const struct nc_cli_option nc_cli_options[] = {
	{ "port", 0, "N[-M]", NC_CLI_TARGET, "source or destination port N (or N to M)" },
	{ "sport", 0, "N[-M]", NC_CLI_TARGET, "source port N (or N to M)" },
	{ "dport", 0, "N[-M]", NC_CLI_TARGET, "destination port N (or N to M)" },
	{ "proto", 0, "PROTO", NC_CLI_TARGET, "tcp, udp or icmp (default: any protocol)" },
	{ "ip", 0, "ADDR[/LEN]", NC_CLI_TARGET, "peer address or network, IPv4 or IPv6" },
	{ "iface", 0, "NAME", NC_CLI_TARGET, "only on this interface (default: every one)" },
	{ "netns", 0, "NAME|PATH", NC_CLI_TARGET, "in this network namespace (default: the agent's)" },
	{ "direction", 0, "DIR", NC_CLI_TARGET, "egress, ingress or both (default: both)" },
	{ "for", 0, "DURATION", NC_CLI_TARGET, "how long: 500ms, 30s, 2m, 1h30m (default: 5m)" },
	{ "dry-run", 0, NULL, NC_CLI_TARGET, "show what would be done, change nothing" },
	{ "force", 0, NULL, NC_CLI_TARGET, "override the agent's safety checks" },
	{ "payload", 0, NULL, NC_CLI_PAYLOAD, "corrupt: damage payload bytes, keep checksums valid" },
	{ "all", 0, NULL, NC_CLI_CLEAR, "clear: remove every rule" },
	{ "socket", 0, "PATH", NC_CLI_GLOBAL, "netchaosd's socket (default: $" NC_SOCKET_ENV ",\nelse " NC_DEFAULT_SOCKET ")" },
	{ "json", 0, NULL, NC_CLI_GLOBAL, "print the agent's JSON reply as-is" },
	{ "help", 'h', NULL, NC_CLI_GLOBAL, "show help" },
	{ NULL, 0, NULL, 0, NULL },
};

#define N_OPTIONS (sizeof(option_codes) / sizeof(option_codes[0]))
_Static_assert(N_OPTIONS + 1 == sizeof(nc_cli_options) / sizeof(nc_cli_options[0]),
	       "option_codes[] and nc_cli_options[] must list the same options");

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

/* What the options said beyond the spec itself. */
struct fault_seen {
	uint8_t dir_mask; /* OR of every --direction */
	bool have_for;
	bool have_netns;
};

static int fault_option(int code, const char *arg, struct nc_rule_spec *spec,
			struct fault_seen *seen, char *err, size_t errlen)
{
	uint8_t dir;

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
		if (seen->have_netns) {
			nc_set_err(err, errlen, "--netns given twice (a rule lives in one namespace)");
			return -EINVAL;
		}
		if (!*arg || strlen(arg) >= sizeof(spec->netns)) {
			nc_set_err(err, errlen, "--netns: %s", *arg ? "name or path too long" : "empty name");
			return -EINVAL;
		}
		snprintf(spec->netns, sizeof(spec->netns), "%s", arg);
		seen->have_netns = true;
		return 0;
	case OPT_DIRECTION:
		if (nc_parse_direction_err(arg, &dir, err, errlen)) {
			nc_prefix_err(err, errlen, "--direction");
			return -EINVAL;
		}
		seen->dir_mask |= dir;
		return 0;
	case OPT_FOR:
		if (seen->have_for) {
			nc_set_err(err, errlen, "--for given twice");
			return -EINVAL;
		}
		if (nc_parse_duration_ms_err(arg, &spec->duration_ms, err, errlen)) {
			nc_prefix_err(err, errlen, "--for");
			return -EINVAL;
		}
		seen->have_for = true;
		return 0;
	case OPT_DRY_RUN:
		spec->dry_run = true;
		return 0;
	case OPT_FORCE:
		spec->force = true;
		return 0;
	case OPT_PAYLOAD:
		spec->payload = true;
		return 0;
	}
	nc_set_err(err, errlen, "internal error: unhandled option %d", code);
	return -EINVAL;
}

int nc_cli_parse_fault(int argc, char **argv, struct nc_cli_globals *g,
		       struct nc_rule_spec *spec, char *err, size_t errlen)
{
	struct fault_seen seen = { 0 };
	const char *percent = NULL;
	enum nc_fault_kind kind;
	bool takes_percent;
	struct parser p;
	int code, ret;

	nc_spec_init(spec);
	if (argc < 1 || nc_parse_fault_kind_err(argv[0], &kind, err, errlen))
		return -EINVAL;
	spec->kind = kind;
	takes_percent = kind == NC_FAULT_LOSS || kind == NC_FAULT_CORRUPT;

	parser_init(&p, NC_CLI_GLOBAL | NC_CLI_TARGET | NC_CLI_PAYLOAD, argv[0], true);
	while ((code = getopt_long(argc, argv, p.shortopts, p.longopts, NULL)) != -1) {
		if (code == '?' || code == ':')
			return option_error(&p, code, argv, err, errlen);
		if (global_option(g, code))
			continue;
		if (code == OPT_POSITIONAL) {
			if (takes_percent && !percent) {
				percent = optarg;
				continue;
			}
			nc_set_err(err, errlen, "unexpected argument '%s' for %s", optarg, argv[0]);
			return -EINVAL;
		}
		ret = fault_option(code, optarg, spec, &seen, err, errlen);
		if (ret)
			return ret;
	}
	/* After "--" getopt stops; what is left is positional too. */
	for (; optind < argc; optind++) {
		if (takes_percent && !percent) {
			percent = argv[optind];
			continue;
		}
		nc_set_err(err, errlen, "unexpected argument '%s' for %s", argv[optind], argv[0]);
		return -EINVAL;
	}
	if (g->help)
		return 0;
	if (seen.dir_mask)
		spec->dir_mask = seen.dir_mask;
	if (takes_percent) {
		if (!percent) {
			nc_set_err(err, errlen, "%s needs a percentage (e.g. chaosctl %s 30%%)", argv[0],
				   argv[0]);
			return -EINVAL;
		}
		if (nc_parse_percent_err(percent, &spec->prob, err, errlen))
			return -EINVAL;
	}
	return 0;
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
