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

/*
 * Option groups: which commands list an option in their help. Every fault
 * command accepts every fault option, so that an option on the wrong fault
 * gets nc_spec_validate()'s reason ("--gap only applies to reorder") rather
 * than "unknown option".
 */
#define NC_CLI_GLOBAL	 (1u << 0) /* every command */
#define NC_CLI_TARGET	 (1u << 1) /* every fault */
#define NC_CLI_PAYLOAD	 (1u << 2) /* corrupt */
#define NC_CLI_CLEAR	 (1u << 3) /* clear */
#define NC_CLI_DOCKER	 (1u << 4) /* every fault: --container, --label, --service */
#define NC_CLI_GROUP	 (1u << 5) /* partition: --group, --one-way */
#define NC_CLI_NETEM	 (1u << 6) /* netem faults: --delay, --jitter, --distribution, --limit */
#define NC_CLI_CORR	 (1u << 7) /* delay, duplicate, reorder: --correlation */
#define NC_CLI_REORDER	 (1u << 8) /* reorder: --gap */
#define NC_CLI_RATE	 (1u << 9) /* rate: --packet-overhead */
#define NC_CLI_LOSSMODEL (1u << 10) /* loss: --model, --ecn */
#define NC_CLI_CHANGE	 (1u << 11) /* change: --for, --dry-run */
#define NC_CLI_FAULT	 (NC_CLI_TARGET | NC_CLI_PAYLOAD | NC_CLI_DOCKER | NC_CLI_GROUP | \
			  NC_CLI_NETEM | NC_CLI_CORR | NC_CLI_REORDER | NC_CLI_RATE |   \
			  NC_CLI_LOSSMODEL)

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
 * A fault command: argv[0] is its name (drop, loss, corrupt, partition,
 * delay, duplicate, reorder, rate); the rest are its positionals and options:
 *
 *   loss P% | loss --model gemodel P [R [1-H [1-K]]]
 *        | loss --model 4state P13 [P31 [P32 [P23 [P14]]]]   (tc's order)
 *   corrupt P%, duplicate P%, reorder P% (with --delay TIME), delay TIME,
 *   rate RATE ("1mbit", tc's units), drop and partition: nothing.
 *
 * --correlation goes with the fault's own value (delay: the jitter,
 * duplicate, reorder). spec gets the defaults (nc_spec_init()) and whatever
 * the words say; direction stays 0 unless --direction is given. With
 * -h/--help, returns 0 as soon as every option parsed, whatever the
 * positionals.
 */
int nc_cli_parse_fault(int argc, char **argv, struct nc_cli_globals *g,
		       struct nc_rule_spec *spec, char *err, size_t errlen);

/*
 * "change ID FAULT ARGS...": new parameters for rule ID, written as the fault
 * command takes them (change 3 delay 300ms --jitter 10ms). Besides the
 * fault's own options only --for (the rule ends that long from now) and
 * --dry-run are accepted: the target stays. "change ID --for D": only a new
 * end (has_fault false).
 */
int nc_cli_parse_change(int argc, char **argv, struct nc_cli_globals *g, struct nc_change_req *req,
			char *err, size_t errlen);

/* "clear ID" or "clear --all": *all, or *id (1..UINT32_MAX). */
int nc_cli_parse_clear(int argc, char **argv, struct nc_cli_globals *g, uint32_t *id, bool *all,
		       char *err, size_t errlen);

/* A command with only global options and at most max_pos positionals, which
 * land in pos[] (*n_pos of them). */
int nc_cli_parse_plain(int argc, char **argv, struct nc_cli_globals *g, int max_pos,
		       char **pos, int *n_pos, char *err, size_t errlen);

#endif
