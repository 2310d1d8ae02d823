// SPDX-License-Identifier: GPL-2.0-only
/*
 * chaosctl: the command table, one do_<cmd>() per command, and main(). It
 * parses (lib/cli_args.c), validates (lib/spec.c), sends one request, prints
 * the reply. It decides nothing the agent could get wrong: netchaosd
 * validates everything again because it is the privileged side.
 *
 * Errors are one line on stderr, "chaosctl: <reason>". Exit status: 0 done,
 * 1 the agent failed or could not be reached, 2 bad usage or values.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_args.h"
#include "client.h"
#include "errmsg.h"
#include "print.h"
#include "proto_json.h"
#include "spec.h"
#include "units.h"

#ifndef NC_VERSION
#define NC_VERSION "0.1.0"
#endif

#define ERRLEN 512

struct command {
	const char *name;
	int (*run)(const struct command *cmd, int argc, char **argv,
		   struct nc_cli_globals *g);
	const char *args;     /* what follows the name in usage lines */
	const char *summary;  /* for the command list */
	const char *details;  /* for "chaosctl help CMD"; NULL if the summary says it all */
	unsigned int options; /* NC_CLI_* groups accepted besides the global options */
};

typedef int command_fn(const struct command *cmd, int argc, char **argv,
			struct nc_cli_globals *g);
static command_fn do_fault, do_change, do_list, do_clear, do_abort, do_status, do_doctor, do_ping, do_help,
	do_version;

#define FAULT_OPTS (NC_CLI_TARGET | NC_CLI_DOCKER)
#define NETEM_OPTS (FAULT_OPTS | NC_CLI_NETEM)

/* The one list of commands: dispatch and help both read it. */
static const struct command commands[] = {
	{ "drop", do_fault, "", "drop every matching packet", NULL, FAULT_OPTS },
	{ "loss", do_fault, "P% | --model MODEL PARAMS...",
	  "drop matching packets with probability P (0-100%)",
	  "Drop matching packets with probability P (0-100%), each packet on its own.\n"
	  "With --model the losses come in bursts, as netem's loss models make them\n"
	  "(parameters as tc-netem(8) takes them, in its order):\n"
	  "  --model gemodel P [R [1-H [1-K]]]   Gilbert-Elliott: P good->bad, R\n"
	  "      bad->good, 1-H loss in the bad state, 1-K loss in the good state\n"
	  "  --model 4state P13 [P31 [P32 [P23 [P14]]]]   4-state Markov chain",
	  NETEM_OPTS | NC_CLI_LOSSMODEL },
	{ "corrupt", do_fault, "P% [--payload]",
	  "damage matching packets with probability P (0-100%)",
	  "Damage matching packets with probability P (0-100%). By default the receiver's\n"
	  "network stack discards a damaged packet as corrupt, like netem does; with\n"
	  "--payload one bit of the payload is flipped and the checksum kept valid, so\n"
	  "the application receives the damaged bytes",
	  FAULT_OPTS | NC_CLI_PAYLOAD },
	{ "partition", do_fault, "--ip PEER | --group A --group B",
	  "cut traffic to peers, or between groups",
	  "Drop all traffic to and from the given peers (--ip, at least one; repeat it\n"
	  "for several; --direction egress or ingress makes it one-way), or between\n"
	  "groups of containers, the host and networks: --group web,api --group db\n"
	  "cuts web and api off from db both ways, --one-way only what the first\n"
	  "group sends. A group MEMBER is a container (name or id), label:KEY=VALUE,\n"
	  "service:NAME (compose), host (this host itself), or an address or CIDR",
	  FAULT_OPTS | NC_CLI_GROUP },
	{ "delay", do_fault, "TIME", "delay matching packets by TIME (e.g. 200ms)",
	  "Delay matching packets by TIME (200ms, 1.5s, 250us), with netem. Without\n"
	  "--direction the delay is added once per round trip: to the packets sent to\n"
	  "the target's ports, or, without ports, to the packets sent from here.\n"
	  "--jitter adds random variation, --correlation makes it depend on the last\n"
	  "value, --distribution shapes it",
	  NETEM_OPTS | NC_CLI_CORR },
	{ "duplicate", do_fault, "P%", "send matching packets twice with probability P",
	  NULL, NETEM_OPTS | NC_CLI_CORR },
	{ "reorder", do_fault, "P% --delay TIME",
	  "send P% of matching packets at once, delay the rest",
	  "Send P% of matching packets at once and delay the others by --delay TIME\n"
	  "(required), so that the packets sent at once overtake the delayed ones;\n"
	  "with --gap N only every Nth packet may go first",
	  NETEM_OPTS | NC_CLI_CORR | NC_CLI_REORDER },
	{ "rate", do_fault, "RATE", "limit matching traffic to RATE (e.g. 1mbit)",
	  "Limit matching traffic to RATE, with netem: bit, kbit, mbit, gbit are bits\n"
	  "per second, bps, kbps, mbps, gbps BYTES per second (as tc counts them)",
	  NETEM_OPTS | NC_CLI_RATE },
	{ "change", do_change, "ID [FAULT ARGS...] [--for DURATION]",
	  "give a live rule new fault parameters or a new end, in place",
	  "Give rule ID new fault parameters, written as the fault command takes them:\n"
	  "  chaosctl change 3 delay 300ms --jitter 20ms\n"
	  "  chaosctl change 5 loss 10%\n"
	  "  chaosctl change 5 --for 10m       # same fault, ends 10 minutes from now\n"
	  "The parameters given replace the rule's (options left out go back to their\n"
	  "defaults); its kind, target, counters and id stay. netem is changed in place:\n"
	  "nothing is rebuilt, packets already queued stay, other traffic sees nothing.\n"
	  "--for DURATION ends the rule that long from now (else its end stays)",
	  NC_CLI_CHANGE | NC_CLI_NETEM | NC_CLI_CORR | NC_CLI_REORDER | NC_CLI_RATE | NC_CLI_LOSSMODEL |
		  NC_CLI_PAYLOAD },
	{ "list", do_list, "", "show active rules and their counters", NULL, 0 },
	{ "clear", do_clear, "ID | --all", "remove a rule, or every rule", NULL, NC_CLI_CLEAR },
	{ "abort", do_abort, "", "remove every fault at once, now",
	  "Remove every fault at once: the emergency stop. Unlike clear --all it is\n"
	  "its own request, never refused, not even when there is nothing to remove",
	  0 },
	{ "status", do_status, "", "show the agent's state and what the kernel supports", NULL,
	  0 },
	{ "doctor", do_doctor, "", "check the kernel and Docker for what faults need",
	  "Ask netchaosd to check the kernel and the Docker socket for what faults\n"
	  "need, and print each check with how to fix what failed. Exit status 1 if a\n"
	  "check failed",
	  0 },
	{ "ping", do_ping, "", "check that netchaosd answers", NULL, 0 },
	{ "help", do_help, "[COMMAND]", "show this help, or a command's", NULL, 0 },
	{ "version", do_version, "", "show chaosctl's version", NULL, 0 },
};
static const size_t n_commands = sizeof(commands) / sizeof(commands[0]);


/* Report an error once, where it is known, and pass its code on. */
static int fail(int ret, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int ret, const char *fmt, ...)
{
	char msg[ERRLEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "chaosctl: %s\n", msg);
	return ret;
}

/* ---- help ---- */

static void print_usage(FILE *out)
{
	size_t i;

	fprintf(out, "Usage: chaosctl [--socket PATH] [--json] COMMAND [ARGS] [OPTIONS]\n\n"
		     "Inject network faults through netchaosd: packets that match a target are\n"
		     "dropped, damaged, delayed, duplicated, reordered or slowed down in the\n"
		     "kernel until the fault's time runs out.\n\n"
		     "Commands:\n");
	for (i = 0; i < n_commands; i++) {
		char left[64];

		snprintf(left, sizeof(left), "%s%s%s", commands[i].name, *commands[i].args ? " " : "",
			 commands[i].args);
		nc_cli_print_help_line(out, left, commands[i].summary);
	}
	fprintf(out, "\nTarget options of every fault command:\n");
	nc_cli_print_options(out, NC_CLI_TARGET);
	fprintf(out, "\nDocker targets (the fault acts in the containers' network namespaces):\n");
	nc_cli_print_options(out, NC_CLI_DOCKER);
	fprintf(out, "\nnetem options (delay, duplicate, reorder, rate, loss --model):\n");
	nc_cli_print_options(out, NC_CLI_NETEM | NC_CLI_CORR | NC_CLI_REORDER | NC_CLI_RATE |
				  NC_CLI_LOSSMODEL);
	fprintf(out, "\nOptions of one fault:\n");
	nc_cli_print_options(out, NC_CLI_PAYLOAD | NC_CLI_GROUP);
	fprintf(out, "\nGlobal options (before or after the command):\n");
	nc_cli_print_options(out, NC_CLI_GLOBAL);
	fprintf(out, "\nRepeated options add up: --port 80 --port 443 (or --port 80,443) matches\n"
		     "either port. Options may come before or after the command's arguments.\n\n"
		     "Examples:\n"
		     "  chaosctl loss 30%% --port 5000 --for 2m\n"
		     "  chaosctl delay --port 3306 200ms --jitter 20ms --distribution normal\n"
		     "  chaosctl loss --port 443 --model gemodel 1%% 10%% 70%% 0.1%%\n"
		     "  chaosctl rate --container web 1mbit\n"
		     "  chaosctl corrupt 1%% --payload --proto udp --dport 53\n"
		     "  chaosctl partition --group web,api --group db --for 2m\n"
		     "  chaosctl list\n"
		     "  chaosctl change 3 delay 300ms --for 10m\n"
		     "  chaosctl abort\n\n"
		     "Exit status: 0 on success, 1 if netchaosd failed or could not be reached,\n"
		     "2 on bad usage. 'chaosctl help COMMAND' shows a command's help.\n");
}

static int print_command_help(FILE *out, const struct command *cmd)
{
	const char *text = cmd->details ? cmd->details : cmd->summary;

	/* The summary is lower case for the command list; a sentence here. */
	fprintf(out, "Usage: chaosctl %s%s%s%s\n\n%c%s.\n", cmd->name, *cmd->args ? " " : "",
		cmd->args, cmd->options & NC_CLI_TARGET ? " [OPTIONS]" : "", text[0] >= 'a' && text[0] <= 'z' ? text[0] - 'a' + 'A' : text[0],
		text + 1);
	if (cmd->options & ~NC_CLI_GLOBAL) {
		fprintf(out, "\nOptions:\n");
		nc_cli_print_options(out, cmd->options);
	}
	fprintf(out, "\nGlobal options:\n");
	nc_cli_print_options(out, NC_CLI_GLOBAL);
	return 0;
}

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < n_commands; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* ---- talking to the agent ---- */

/*
 * Send req, return the parsed reply in *reply. With --json the reply line is
 * printed as it came. An error reply is reported here (-EREMOTEIO).
 */
static int call_agent(const struct nc_cli_globals *g, json_object *req, json_object **reply)
{
	const char *path = nc_cli_socket_path(g);
	char err[ERRLEN], *line, *raw = NULL;
	size_t len, raw_len;
	json_object *msg, *error;
	int ret;

	*reply = NULL;
	line = nc_msg_serialize(req, &len);
	if (!line)
		return fail(-ENOMEM, "out of memory");
	if (len > NC_PROTO_MAX_MSG) {
		free(line);
		return fail(-EMSGSIZE, "request of %zu bytes exceeds the protocol limit of %d", len,
			    NC_PROTO_MAX_MSG);
	}
	ret = nc_client_call(path, line, len, NC_CLIENT_TIMEOUT_MS, &raw, &raw_len, err,
			     sizeof(err));
	free(line);
	if (ret)
		return fail(ret, "%s", err);
	if (g->json)
		printf("%s\n", raw);

	ret = nc_reply_parse(raw, raw_len, &msg, err, sizeof(err));
	free(raw);
	if (ret == -EPROTO) /* the version message reads well on its own */
		return fail(-EPROTO, "%s", err);
	if (ret)
		return fail(-EPROTO, "bad reply from netchaosd: %s", err);
	if (!json_object_get_boolean(json_object_object_get(msg, "ok"))) {
		json_object_object_get_ex(msg, "error", &error);
		ret = fail(-EREMOTEIO, "%s", json_object_get_string(error));
		json_object_put(msg);
		return ret;
	}
	*reply = msg;
	return 0;
}

/* reply[key] if it has the given type, else an error naming it. */
static int reply_member(json_object *reply, const char *key, json_type type, json_object **val)
{
	if (json_object_object_get_ex(reply, key, val) && json_object_is_type(*val, type))
		return 0;
	return fail(-EPROTO, "bad reply from netchaosd: no %s '%s'", json_type_to_name(type), key);
}

/* A request with nothing but its command: list, abort, status, doctor, ping. */
static int simple_call(const struct nc_cli_globals *g, const char *cmd, json_object **reply)
{
	json_object *req = nc_request_new(cmd);
	int ret;

	if (!req)
		return fail(-ENOMEM, "out of memory");
	ret = call_agent(g, req, reply);
	json_object_put(req);
	return ret;
}

/* ---- commands ---- */

static int show_added(json_object *reply, const struct nc_rule_spec *sent)
{
	char err[ERRLEN], fault[NC_DESCRIBE_FAULT_MAX], target[NC_DESCRIBE_TARGET_MAX], dur[32];
	struct nc_wire_rule rule;
	json_object *val, *id;

	if (json_object_object_get_ex(reply, "dry_run", &val) && json_object_get_boolean(val)) {
		nc_spec_describe_fault(sent, fault, sizeof(fault));
		nc_spec_describe_target(sent, target, sizeof(target));
		nc_format_duration(sent->duration_ms, dur, sizeof(dur));
		printf("dry run, nothing changed: would add %s on %s for %s\n", fault, target, dur);
		if (json_object_object_get_ex(reply, "plan", &val) &&
		    json_object_is_type(val, json_type_object))
			nc_print_tree(stdout, val, 2, NULL);
		return 0;
	}
	if (reply_member(reply, "rule", json_type_object, &val))
		return -EPROTO;
	if (nc_wire_rule_from_json(val, &rule, err, sizeof(err))) {
		/* A rule object this chaosctl cannot fully read: its id is enough. */
		if (!json_object_object_get_ex(val, "id", &id) || !json_object_is_type(id, json_type_int))
			return fail(-EPROTO, "bad reply from netchaosd: %s", err);
		memset(&rule, 0, sizeof(rule));
		rule.id = (uint32_t)json_object_get_int64(id);
		rule.spec = *sent;
	}
	nc_print_rule_added(stdout, &rule, val);
	return 0;
}

static int do_fault(const struct command *cmd, int argc, char **argv, struct nc_cli_globals *g)
{
	json_object *req, *reply;
	struct nc_rule_spec spec;
	char err[ERRLEN];
	int ret;

	ret = nc_cli_parse_fault(argc, argv, g, &spec, err, sizeof(err));
	if (ret)
		return fail(ret, "%s", err);
	if (g->help)
		return print_command_help(stdout, cmd);
	ret = nc_spec_validate(&spec, err, sizeof(err));
	if (ret)
		return fail(ret, "%s", err);

	req = nc_request_new(NC_CMD_ADD);
	if (!req || nc_spec_to_json(&spec, req)) {
		json_object_put(req);
		return fail(-ENOMEM, "out of memory");
	}
	ret = call_agent(g, req, &reply);
	json_object_put(req);
	if (ret)
		return ret;
	if (!g->json)
		ret = show_added(reply, &spec);
	json_object_put(reply);
	return ret;
}

static int do_change(const struct command *cmd, int argc, char **argv, struct nc_cli_globals *g)
{
	json_object *req, *reply, *val;
	struct nc_change_req ch;
	struct nc_wire_rule rule;
	char err[ERRLEN];
	bool dry_run;
	int ret;

	ret = nc_cli_parse_change(argc, argv, g, &ch, err, sizeof(err));
	if (ret)
		return fail(ret, "%s", err);
	if (g->help)
		return print_command_help(stdout, cmd);

	req = nc_request_new(NC_CMD_CHANGE);
	if (!req || nc_change_to_json(&ch, req)) {
		json_object_put(req);
		return fail(-ENOMEM, "out of memory");
	}
	ret = call_agent(g, req, &reply);
	json_object_put(req);
	if (ret || g->json)
		goto out;
	dry_run = json_object_object_get_ex(reply, "dry_run", &val) && json_object_get_boolean(val);
	ret = reply_member(reply, dry_run ? "plan" : "rule", json_type_object, &val);
	if (ret)
		goto out;
	if (nc_wire_rule_from_json(val, &rule, err, sizeof(err)))
		ret = fail(-EPROTO, "bad reply from netchaosd: %s", err);
	else
		nc_print_rule_changed(stdout, &rule, dry_run);
out:
	json_object_put(reply);
	return ret;
}

/* Parse a command that takes no arguments of its own; 1 if --help was asked. */
static int parse_plain(const struct command *cmd, int argc, char **argv,
		       struct nc_cli_globals *g, int max_pos, char **pos, int *n_pos)
{
	char err[ERRLEN];
	int ret;

	ret = nc_cli_parse_plain(argc, argv, g, max_pos, pos, n_pos, err, sizeof(err));
	if (ret)
		return fail(ret, "%s", err);
	if (g->help) {
		print_command_help(stdout, cmd);
		return 1;
	}
	return 0;
}

/* A command without arguments: parse, then send it. 0 with *reply set, 1 when
 * only the help was asked for (nothing sent), or the error. */
static int plain_call(const struct command *cmd, int argc, char **argv, struct nc_cli_globals *g,
		      const char *wire_cmd, json_object **reply)
{
	int n_pos, ret;

	*reply = NULL;
	ret = parse_plain(cmd, argc, argv, g, 0, NULL, &n_pos);
	if (ret)
		return ret;
	return simple_call(g, wire_cmd, reply);
}

static int do_list(const struct command *cmd, int argc, char **argv, struct nc_cli_globals *g)
{
	json_object *reply, *rules;
	int ret;

	ret = plain_call(cmd, argc, argv, g, NC_CMD_LIST, &reply);
	if (ret > 0)
		return 0;
	if (ret || g->json)
		goto out;
	ret = reply_member(reply, "rules", json_type_array, &rules);
	if (!ret) {
		ret = nc_print_rules(stdout, rules);
		if (ret)
			fail(ret, "out of memory");
	}
out:
	json_object_put(reply);
	return ret;
}

static int do_clear(const struct command *cmd, int argc, char **argv, struct nc_cli_globals *g)
{
	json_object *req, *reply, *cleared;
	char err[ERRLEN];
	uint32_t id;
	bool all;
	int ret;

	ret = nc_cli_parse_clear(argc, argv, g, &id, &all, err, sizeof(err));
	if (ret)
		return fail(ret, "%s", err);
	if (g->help)
		return print_command_help(stdout, cmd);

	req = nc_request_new(NC_CMD_CLEAR);
	if (!req || json_object_object_add(req, all ? "all" : "id",
					   all ? json_object_new_boolean(1) :
						 json_object_new_int64(id))) {
		json_object_put(req);
		return fail(-ENOMEM, "out of memory");
	}
	ret = call_agent(g, req, &reply);
	json_object_put(req);
	if (ret || g->json)
		goto out;
	ret = reply_member(reply, "cleared", json_type_array, &cleared);
	if (!ret)
		nc_print_cleared(stdout, cleared);
out:
	json_object_put(reply);
	return ret;
}

static int do_abort(const struct command *cmd, int argc, char **argv, struct nc_cli_globals *g)
{
	json_object *reply, *cleared;
	int ret;

	ret = plain_call(cmd, argc, argv, g, NC_CMD_ABORT, &reply);
	if (ret > 0)
		return 0;
	if (ret || g->json)
		goto out;
	ret = reply_member(reply, "cleared", json_type_array, &cleared);
	if (!ret)
		nc_print_cleared(stdout, cleared);
out:
	json_object_put(reply);
	return ret;
}

static int do_doctor(const struct command *cmd, int argc, char **argv, struct nc_cli_globals *g)
{
	json_object *reply, *checks;
	int ret, failed = 0;

	ret = plain_call(cmd, argc, argv, g, NC_CMD_DOCTOR, &reply);
	if (ret > 0)
		return 0;
	if (ret)
		goto out;
	if (json_object_object_get_ex(reply, "checks", &checks) &&
	    json_object_is_type(checks, json_type_array))
		failed = nc_print_checks(g->json ? NULL : stdout, checks);
	else if (!g->json)
		ret = reply_member(reply, "checks", json_type_array, &checks);
	/* A failed check is a failure of the host, reported in the exit status. */
	if (!ret && failed)
		ret = -EREMOTEIO;
out:
	json_object_put(reply);
	return ret;
}

static int do_status(const struct command *cmd, int argc, char **argv, struct nc_cli_globals *g)
{
	static const char *const envelope[] = { "v", "ok", NULL };
	json_object *reply;
	int ret;

	ret = plain_call(cmd, argc, argv, g, NC_CMD_STATUS, &reply);
	if (ret > 0)
		return 0;
	if (!ret && !g->json)
		nc_print_tree(stdout, reply, 0, envelope);
	json_object_put(reply);
	return ret;
}

static int do_ping(const struct command *cmd, int argc, char **argv, struct nc_cli_globals *g)
{
	struct timespec t0, t1;
	json_object *reply;
	int n_pos, ret;

	ret = parse_plain(cmd, argc, argv, g, 0, NULL, &n_pos);
	if (ret)
		return ret < 0 ? ret : 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = simple_call(g, NC_CMD_PING, &reply);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (!ret && !g->json)
		printf("netchaosd at %s answered in %.1f ms\n", nc_cli_socket_path(g),
		       (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	json_object_put(reply);
	return ret;
}

static int do_help(const struct command *cmd, int argc, char **argv, struct nc_cli_globals *g)
{
	const struct command *about;
	char *pos[1];
	int n_pos, ret;

	ret = parse_plain(cmd, argc, argv, g, 1, pos, &n_pos);
	if (ret)
		return ret < 0 ? ret : 0;
	if (n_pos == 0) {
		print_usage(stdout);
		return 0;
	}
	about = find_command(pos[0]);
	if (!about)
		return fail(-EINVAL, "unknown command '%s' (see chaosctl help)", pos[0]);
	return print_command_help(stdout, about);
}

static int do_version(const struct command *cmd, int argc, char **argv, struct nc_cli_globals *g)
{
	int n_pos, ret;

	ret = parse_plain(cmd, argc, argv, g, 0, NULL, &n_pos);
	if (ret)
		return ret < 0 ? ret : 0;
	printf("chaosctl %s (protocol %d)\n", NC_VERSION, NC_PROTO_VERSION);
	return 0;
}

int main(int argc, char **argv)
{
	struct nc_cli_globals g = { 0 };
	const struct command *cmd;
	char err[ERRLEN];
	int idx, ret;

	ret = nc_cli_parse_globals(argc, argv, &g, &idx, err, sizeof(err));
	if (ret) {
		fail(ret, "%s", err);
		return 2;
	}
	if (idx >= argc) {
		if (g.help) {
			print_usage(stdout);
			ret = 0;
		} else {
			ret = fail(-EINVAL, "no command given (see chaosctl help)");
		}
	} else {
		cmd = find_command(argv[idx]);
		if (cmd)
			ret = cmd->run(cmd, argc - idx, argv + idx, &g);
		else
			ret = fail(-EINVAL, "unknown command '%s' (see chaosctl help)", argv[idx]);
	}
	/* Output that could not be written is a failure too (a full disk, say). */
	if (fflush(stdout) || ferror(stdout)) {
		fail(-EIO, "cannot write output: %s", strerror(errno));
		return 1;
	}
	if (ret == -EINVAL)
		return 2;
	return ret ? 1 : 0;
}
