// SPDX-License-Identifier: GPL-2.0-only
/*
 * lib/cli_args.c: chaosctl's command lines as users type them, turned into
 * specs and clear requests; options on either side of the positional,
 * repeated options adding up, globals after the command, and the one-line
 * refusals. Runs many parses in one process, so getopt's reset is tested too.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli_args.h"
#include "spec.h"
#include "units.h"

static char err[256];
static char words[1024];
static char *argv_buf[64];
static struct nc_cli_globals g;

/* Split a command line on blanks (no quoting needed in these tests). */
static int split(const char *line)
{
	int argc = 0;
	char *w;

	snprintf(words, sizeof(words), "%s", line);
	for (w = strtok(words, " "); w; w = strtok(NULL, " "))
		argv_buf[argc++] = w;
	argv_buf[argc] = NULL;
	return argc;
}

static int fault(const char *line, struct nc_rule_spec *spec)
{
	int argc = split(line);

	memset(&g, 0, sizeof(g));
	err[0] = '\0';
	return nc_cli_parse_fault(argc, argv_buf, &g, spec, err, sizeof(err));
}

static struct nc_rule_spec fault_ok(const char *line)
{
	struct nc_rule_spec spec;

	if (fault(line, &spec))
		fail_msg("'%s' refused: %s", line, err);
	return spec;
}

/* Refused with a one-line message containing word. */
static void fault_bad(const char *line, const char *word)
{
	struct nc_rule_spec spec;

	assert_int_equal(fault(line, &spec), -EINVAL);
	if (!strstr(err, word))
		fail_msg("'%s': error \"%s\" lacks \"%s\"", line, err, word);
	assert_null(strchr(err, '\n'));
}

static void test_loss_basic(void **state)
{
	struct nc_rule_spec s = fault_ok("loss 30% --port 5000 --for 2m");

	assert_int_equal(s.kind, NC_FAULT_LOSS);
	assert_int_equal(s.prob, 1288490189u);
	assert_int_equal(s.n_ports, 1);
	assert_int_equal(s.ports[0].kind, NC_PORT_EITHER);
	assert_int_equal(s.ports[0].lo, 5000);
	assert_int_equal(s.ports[0].hi, 5000);
	assert_int_equal(s.duration_ms, 120000);
	assert_int_equal(s.dir_mask, NC_DIR_BOTH);
	assert_int_equal(s.proto_mask, 0);
	assert_false(s.dry_run || s.force || s.payload);
	assert_int_equal(nc_spec_validate(&s, err, sizeof(err)), 0);
}

static void test_option_order(void **state)
{
	struct nc_rule_spec a = fault_ok("loss 30% --port 5000 --for 2m");
	struct nc_rule_spec b = fault_ok("loss --port 5000 30% --for 2m");
	struct nc_rule_spec c = fault_ok("loss --port 5000 --for 2m 30%");
	struct nc_rule_spec d = fault_ok("loss --port=5000 --for=2m -- 30%");

	assert_memory_equal(&a, &b, sizeof(a));
	assert_memory_equal(&a, &c, sizeof(a));
	assert_memory_equal(&a, &d, sizeof(a));
	/* unique prefixes of long options, as getopt_long allows */
	b = fault_ok("loss 30% --po 5000 --dir both --for 2m");
	assert_memory_equal(&a, &b, sizeof(a));
	/* without % the number is still a percentage */
	b = fault_ok("loss 30 --port 5000 --for 2m");
	assert_memory_equal(&a, &b, sizeof(a));
}

static void test_defaults(void **state)
{
	struct nc_rule_spec s = fault_ok("drop");

	assert_int_equal(s.kind, NC_FAULT_DROP);
	assert_int_equal(s.duration_ms, NC_DEFAULT_DURATION_MS);
	assert_int_equal(s.dir_mask, NC_DIR_BOTH);
	assert_int_equal(s.n_ports + s.n_cidrs + s.n_ifaces, 0);
	assert_string_equal(s.netns, "");
	assert_int_equal(nc_spec_validate(&s, err, sizeof(err)), 0);
}

static void test_ports_add_up(void **state)
{
	struct nc_rule_spec s = fault_ok("drop --port 80 --sport 1000-2000 --port 443 --dport 53,5353 "
					 "--port 8000-8080,9000");

	assert_int_equal(s.n_ports, 7);
	assert_int_equal(s.ports[0].kind, NC_PORT_EITHER);
	assert_int_equal(s.ports[0].lo, 80);
	assert_int_equal(s.ports[1].kind, NC_PORT_SRC);
	assert_int_equal(s.ports[1].lo, 1000);
	assert_int_equal(s.ports[1].hi, 2000);
	assert_int_equal(s.ports[2].kind, NC_PORT_EITHER);
	assert_int_equal(s.ports[2].lo, 443);
	assert_int_equal(s.ports[3].kind, NC_PORT_DST);
	assert_int_equal(s.ports[3].lo, 53);
	assert_int_equal(s.ports[4].kind, NC_PORT_DST);
	assert_int_equal(s.ports[4].lo, 5353);
	assert_int_equal(s.ports[5].lo, 8000);
	assert_int_equal(s.ports[5].hi, 8080);
	assert_int_equal(s.ports[6].lo, 9000);
	assert_int_equal(s.ports[6].kind, NC_PORT_EITHER);

	fault_ok("drop --port 1,2,3,4,5,6,7,8");
	fault_bad("drop --port 1,2,3,4,5 --sport 6,7,8 --dport 9", "too many ports");
	fault_bad("drop --port 80,", "empty value");
	fault_bad("drop --port ,80", "empty value");
	fault_bad("drop --port 80,,443", "empty value");
}

static void test_protocols_add_up(void **state)
{
	struct nc_rule_spec s;

	s = fault_ok("drop --proto tcp --proto udp");
	assert_int_equal(s.proto_mask, NC_PROTO_TCP | NC_PROTO_UDP);
	s = fault_ok("drop --proto tcp,icmp");
	assert_int_equal(s.proto_mask, NC_PROTO_TCP | NC_PROTO_ICMP);
	s = fault_ok("drop --proto udp --proto udp");
	assert_int_equal(s.proto_mask, NC_PROTO_UDP);
	fault_bad("drop --proto sctp", "--proto: unknown protocol 'sctp'");
}

static void test_addresses(void **state)
{
	struct nc_rule_spec s;

	s = fault_ok("partition --ip 10.0.0.0/8 --ip fd00::/64 --ip 192.168.1.7,2001:db8::1");
	assert_int_equal(s.kind, NC_FAULT_PARTITION);
	assert_int_equal(s.n_cidrs, 4);
	assert_int_equal(s.cidrs[0].family, 4);
	assert_int_equal(s.cidrs[0].prefixlen, 8);
	assert_int_equal(s.cidrs[1].family, 6);
	assert_int_equal(s.cidrs[1].prefixlen, 64);
	assert_int_equal(s.cidrs[2].prefixlen, 32);
	assert_int_equal(s.cidrs[3].prefixlen, 128);
	assert_int_equal(nc_spec_validate(&s, err, sizeof(err)), 0);

	fault_bad("drop --ip 10.1.2.3/24", "10.1.2.3/24 has host bits set; did you mean 10.1.2.0/24?");
	assert_string_equal(err, "10.1.2.3/24 has host bits set; did you mean 10.1.2.0/24?");
	fault_bad("drop --ip 10.0.0.300", "'10.0.0.300'");
	fault_bad("drop --ip 1.0.0.1,1.0.0.2,1.0.0.3,1.0.0.4,1.0.0.5,1.0.0.6,1.0.0.7,1.0.0.8,"
		  "1.0.0.9,1.0.0.10,1.0.0.11,1.0.0.12,1.0.0.13,1.0.0.14,1.0.0.15,1.0.0.16,1.0.0.17",
		  "too many --ip");
}

static void test_iface_netns(void **state)
{
	struct nc_rule_spec s;

	s = fault_ok("drop --iface eth0 --iface lo --netns blue");
	assert_int_equal(s.n_ifaces, 2);
	assert_string_equal(s.ifaces[0], "eth0");
	assert_string_equal(s.ifaces[1], "lo");
	assert_string_equal(s.netns, "blue");
	s = fault_ok("drop --netns /proc/1/ns/net");
	assert_string_equal(s.netns, "/proc/1/ns/net");

	fault_bad("drop --iface abcdefghijklmnop", "too long");
	fault_bad("drop --iface a/b", "invalid interface name 'a/b'");
	fault_bad("drop --iface a --iface b --iface c --iface d --iface e --iface f --iface g "
		  "--iface h --iface i",
		  "too many --iface");
	fault_bad("drop --netns a --netns b", "--netns given twice");
}

static void test_direction(void **state)
{
	struct nc_rule_spec s;

	s = fault_ok("drop --direction egress");
	assert_int_equal(s.dir_mask, NC_DIR_EGRESS);
	s = fault_ok("drop --direction ingress");
	assert_int_equal(s.dir_mask, NC_DIR_INGRESS);
	s = fault_ok("drop --direction ingress --direction egress");
	assert_int_equal(s.dir_mask, NC_DIR_BOTH);
	s = fault_ok("drop --direction both");
	assert_int_equal(s.dir_mask, NC_DIR_BOTH);
	fault_bad("drop --direction up", "--direction: unknown direction 'up'");
}

static void test_duration(void **state)
{
	struct nc_rule_spec s;

	s = fault_ok("drop --for 500ms");
	assert_int_equal(s.duration_ms, 500);
	s = fault_ok("drop --for 1h30m");
	assert_int_equal(s.duration_ms, 5400000);
	fault_bad("drop --for 5", "--for: duration '5' needs a unit");
	fault_bad("drop --for 0s", "at least 1ms");
	fault_bad("drop --for 25h", "24h");
	fault_bad("drop --for 1m --for 2m", "--for given twice");
}

static void test_flags(void **state)
{
	struct nc_rule_spec s;

	s = fault_ok("corrupt 1% --payload --dry-run --force");
	assert_int_equal(s.kind, NC_FAULT_CORRUPT);
	assert_true(s.payload);
	assert_true(s.dry_run);
	assert_true(s.force);
	assert_int_equal(nc_spec_validate(&s, err, sizeof(err)), 0);

	/* parsed, then refused by validation with a clear reason */
	s = fault_ok("loss 5% --payload");
	assert_int_equal(nc_spec_validate(&s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--payload"));
	s = fault_ok("partition --port 80");
	assert_int_equal(nc_spec_validate(&s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--ip"));
	s = fault_ok("drop --proto icmp --port 80");
	assert_int_equal(nc_spec_validate(&s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "icmp"));
	s = fault_ok("loss 0%");
	assert_int_equal(nc_spec_validate(&s, err, sizeof(err)), -EINVAL);
}

static void test_percent_positional(void **state)
{
	fault_bad("loss", "loss needs a percentage");
	fault_bad("corrupt --port 80", "corrupt needs a percentage");
	fault_bad("loss 130%", "'130%'");
	fault_bad("loss 30% 40%", "unexpected argument '40%'");
	fault_bad("loss 30% -- 40%", "unexpected argument '40%'");
	fault_bad("drop 30%", "unexpected argument '30%' for drop");
	fault_bad("partition now --ip 10.0.0.1", "unexpected argument 'now'");
	fault_bad("loss abc", "'abc'");
}

static void test_bad_options(void **state)
{
	fault_bad("loss --bogus 10%", "unknown option '--bogus' for loss");
	fault_bad("drop --port", "option '--port' needs a value");
	fault_bad("drop --dry-run=yes", "option '--dry-run' takes no value");
	fault_bad("drop --p 80", "ambiguous option '--p'");
	fault_bad("drop --fo 1m", "ambiguous option '--fo' (could be --for, --force)");
	fault_bad("drop --all", "unknown option '--all' for drop");
	fault_bad("drop -x", "unknown option '-x'");
	fault_bad("drop --port 0", "--port: port '0' is out of range");
	fault_bad("drop --sport 70000", "--sport: port '70000' is out of range");
	fault_bad("drop --dport 2000-1000", "did you mean 1000-2000?");
	fault_bad("delay 10ms", "unknown fault 'delay'");
}

static void test_globals_after_command(void **state)
{
	struct nc_rule_spec s;

	assert_int_equal(fault("drop --json --socket /tmp/x.sock --port 80", &s), 0);
	assert_true(g.json);
	assert_string_equal(g.socket_path, "/tmp/x.sock");
	assert_false(g.help);
	assert_int_equal(s.n_ports, 1);

	/* --help needs nothing else to be right */
	assert_int_equal(fault("loss --help", &s), 0);
	assert_true(g.help);
	assert_int_equal(fault("partition -h", &s), 0);
	assert_true(g.help);
}

static void test_globals_before_command(void **state)
{
	int argc, idx = -1;

	memset(&g, 0, sizeof(g));
	argc = split("chaosctl --socket /tmp/a.sock --json list --json");
	assert_int_equal(nc_cli_parse_globals(argc, argv_buf, &g, &idx, err, sizeof(err)), 0);
	assert_int_equal(idx, 4);
	assert_string_equal(argv_buf[idx], "list");
	assert_true(g.json);
	assert_string_equal(g.socket_path, "/tmp/a.sock");

	memset(&g, 0, sizeof(g));
	argc = split("chaosctl -h");
	assert_int_equal(nc_cli_parse_globals(argc, argv_buf, &g, &idx, err, sizeof(err)), 0);
	assert_int_equal(idx, argc);
	assert_true(g.help);

	memset(&g, 0, sizeof(g));
	argc = split("chaosctl loss --port 80 30%");
	assert_int_equal(nc_cli_parse_globals(argc, argv_buf, &g, &idx, err, sizeof(err)), 0);
	assert_int_equal(idx, 1); /* stops at the command: its options are its own */

	memset(&g, 0, sizeof(g));
	argc = split("chaosctl --port 80 drop");
	assert_int_equal(nc_cli_parse_globals(argc, argv_buf, &g, &idx, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown option '--port'"));
	argc = split("chaosctl --socket");
	assert_int_equal(nc_cli_parse_globals(argc, argv_buf, &g, &idx, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'--socket' needs a value"));
	argc = split("chaosctl --socket= list");
	assert_int_equal(nc_cli_parse_globals(argc, argv_buf, &g, &idx, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "empty --socket"));
}

static void test_socket_path(void **state)
{
	struct nc_cli_globals gl = { 0 };

	unsetenv(NC_SOCKET_ENV);
	assert_string_equal(nc_cli_socket_path(&gl), NC_DEFAULT_SOCKET);
	setenv(NC_SOCKET_ENV, "/tmp/env.sock", 1);
	assert_string_equal(nc_cli_socket_path(&gl), "/tmp/env.sock");
	setenv(NC_SOCKET_ENV, "", 1);
	assert_string_equal(nc_cli_socket_path(&gl), NC_DEFAULT_SOCKET);
	setenv(NC_SOCKET_ENV, "/tmp/env.sock", 1);
	gl.socket_path = "/tmp/opt.sock";
	assert_string_equal(nc_cli_socket_path(&gl), "/tmp/opt.sock");
	unsetenv(NC_SOCKET_ENV);
}

static int clear(const char *line, uint32_t *id, bool *all)
{
	int argc = split(line);

	memset(&g, 0, sizeof(g));
	err[0] = '\0';
	return nc_cli_parse_clear(argc, argv_buf, &g, id, all, err, sizeof(err));
}

static void test_clear(void **state)
{
	uint32_t id;
	bool all;

	assert_int_equal(clear("clear 3", &id, &all), 0);
	assert_int_equal(id, 3);
	assert_false(all);
	assert_int_equal(clear("clear 4294967295", &id, &all), 0);
	assert_int_equal(id, UINT32_MAX);
	assert_int_equal(clear("clear --all", &id, &all), 0);
	assert_true(all);
	assert_int_equal(clear("clear --json 7", &id, &all), 0);
	assert_int_equal(id, 7);
	assert_true(g.json);

	assert_int_equal(clear("clear", &id, &all), -EINVAL);
	assert_non_null(strstr(err, "--all"));
	assert_int_equal(clear("clear 3 --all", &id, &all), -EINVAL);
	assert_non_null(strstr(err, "not both"));
	assert_int_equal(clear("clear 1 2", &id, &all), -EINVAL);
	assert_non_null(strstr(err, "'2'"));
	assert_int_equal(clear("clear abc", &id, &all), -EINVAL);
	assert_non_null(strstr(err, "invalid rule id 'abc'"));
	assert_int_equal(clear("clear 0", &id, &all), -EINVAL);
	assert_int_equal(clear("clear 4294967296", &id, &all), -EINVAL);
	assert_int_equal(clear("clear 99999999999999999999999", &id, &all), -EINVAL);
	assert_int_equal(clear("clear 3x", &id, &all), -EINVAL);
	assert_int_equal(clear("clear -3", &id, &all), -EINVAL);
	assert_int_equal(clear("clear --port 80", &id, &all), -EINVAL);
	assert_non_null(strstr(err, "unknown option '--port' for clear"));
}

static void test_plain(void **state)
{
	char *pos[1];
	int argc, n;

	memset(&g, 0, sizeof(g));
	argc = split("list --json");
	assert_int_equal(nc_cli_parse_plain(argc, argv_buf, &g, 0, pos, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	assert_true(g.json);

	argc = split("list all");
	assert_int_equal(nc_cli_parse_plain(argc, argv_buf, &g, 0, pos, &n, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "unexpected argument 'all' for list");

	argc = split("help loss");
	assert_int_equal(nc_cli_parse_plain(argc, argv_buf, &g, 1, pos, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_string_equal(pos[0], "loss");
	argc = split("help loss drop");
	assert_int_equal(nc_cli_parse_plain(argc, argv_buf, &g, 1, pos, &n, err, sizeof(err)),
			 -EINVAL);
	argc = split("status --for 1m");
	assert_int_equal(nc_cli_parse_plain(argc, argv_buf, &g, 0, pos, &n, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "unknown option '--for' for status"));
}

/* Help text and the getopt tables come from one list: check they agree. */
static void test_option_table(void **state)
{
	const struct nc_cli_option *o;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	f = open_memstream(&text, &len);
	assert_non_null(f);
	nc_cli_print_options(f, NC_CLI_TARGET | NC_CLI_PAYLOAD | NC_CLI_GLOBAL | NC_CLI_CLEAR);
	fclose(f);
	for (o = nc_cli_options; o->name; o++) {
		char want[64];

		snprintf(want, sizeof(want), "--%s%s%s", o->name, o->metavar ? " " : "",
			 o->metavar ? o->metavar : "");
		if (!strstr(text, want))
			fail_msg("help lacks \"%s\"", want);
	}
	assert_non_null(strstr(text, "-h, --help"));
	free(text);

	/* every option in the table is accepted by the commands of its group */
	fault_ok("corrupt 1% --port 1 --sport 2 --dport 3 --proto tcp --ip 10.0.0.1 --iface lo "
		 "--netns x --direction egress --for 1s --dry-run --force --payload --json "
		 "--socket /s --help");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loss_basic),
		cmocka_unit_test(test_option_order),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_ports_add_up),
		cmocka_unit_test(test_protocols_add_up),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_iface_netns),
		cmocka_unit_test(test_direction),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_percent_positional),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_globals_after_command),
		cmocka_unit_test(test_globals_before_command),
		cmocka_unit_test(test_socket_path),
		cmocka_unit_test(test_clear),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_option_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
