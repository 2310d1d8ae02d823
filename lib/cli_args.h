/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * chaosctl's argument parsing (getopt_long), kept in lib/ so unit tests can
 * drive it: command-line words in, struct nc_rule_spec (or a clear request)
 * out. Every option is declared once in nc_cli_options[], which builds the
 * getopt tables and prints the help. Parsing checks syntax and limits; the
 * cross-field rules are nc_spec_validate()'s.
 *
 * Options may come before or after positionals; repeated options of one kind
 * add up (--port 80 --port 443, --proto tcp --proto udp, --direction egress
 * --direction ingress = both); --port/--sport/--dport/--proto/--ip also take
 * comma lists. Global options are accepted before and after the command.
 */
#ifndef NC_CLI_ARGS_H
#define NC_CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "netchaos/proto.h"

/* Option groups: which commands accept an option. */
#define NC_CLI_GLOBAL	(1u << 0) /* every command */
#define NC_CLI_TARGET	(1u << 1) /* drop, loss, corrupt, partition */
#define NC_CLI_PAYLOAD	(1u << 2) /* corrupt (accepted by every fault, then refused by validation) */
#define NC_CLI_CLEAR	(1u << 3) /* clear */

struct nc_cli_option {
	const char *name;    /* long name, without "--" */
	char short_name;     /* 0 if none */
	const char *metavar; /* NULL: takes no value */
	unsigned int groups; /* NC_CLI_* */
	const char *help;
};

/* Terminated by an entry with name NULL. */
extern const struct nc_cli_option nc_cli_options[];

struct nc_cli_globals {
	const char *socket_path; /* --socket; NULL if not given */
	bool json;		 /* --json: print the agent's reply as-is */
	bool help;		 /* -h/--help */
};

/* The socket to use: --socket, else $NETCHAOS_SOCKET, else NC_DEFAULT_SOCKET. */
const char *nc_cli_socket_path(const struct nc_cli_globals *g);

#define NC_CLI_HELP_COLUMN 24 /* width of the left part of help lines */

/* "      --port N[-M]    help..." lines for the options of the groups. */
void nc_cli_print_options(FILE *out, unsigned int group);
/* One help line: "  LEFT    HELP", aligned like the options. */
void nc_cli_print_help_line(FILE *out, const char *left, const char *help);

/*
 * Global options before the command word. argv[0] is the program name;
 * *cmd_index receives the index of the command word (argc if there is none).
 * All parsers return 0 or -EINVAL with a one-line reason in err.
 */
int nc_cli_parse_globals(int argc, char **argv, struct nc_cli_globals *g, int *cmd_index,
			 char *err, size_t errlen);

/*
 * A fault command: argv[0] is "drop", "loss", "corrupt" or "partition"; the
 * rest are its percentage (loss, corrupt) and options. spec gets the defaults
 * (nc_spec_init()) and whatever the options say. With -h/--help, returns 0
 * as soon as every option parsed, whatever the positionals.
 */
int nc_cli_parse_fault(int argc, char **argv, struct nc_cli_globals *g,
		       struct nc_rule_spec *spec, char *err, size_t errlen);

/* "clear ID" or "clear --all": *all, or *id (1..UINT32_MAX). */
int nc_cli_parse_clear(int argc, char **argv, struct nc_cli_globals *g, uint32_t *id, bool *all,
		       char *err, size_t errlen);

/* A command with only global options and at most max_pos positionals, which
 * land in pos[] (*n_pos of them). */
int nc_cli_parse_plain(int argc, char **argv, struct nc_cli_globals *g, int max_pos,
		       char **pos, int *n_pos, char *err, size_t errlen);

#endif
