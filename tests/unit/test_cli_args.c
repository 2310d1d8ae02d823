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
#include "netem.h"
#include "spec.h"
#include "units.h"

#define MS 1000000ull /* ns */

static uint32_t pct(const char *text)
{
	uint32_t p;

	assert_int_equal(nc_parse_percent(text, &p), 0);
	return p;
}

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
	assert_int_equal(s.dir_mask, 0); /* not given */
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
	assert_int_equal(b.dir_mask, NC_DIR_BOTH);
	b.dir_mask = 0;
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
	assert_int_equal(s.dir_mask, 0);
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
	fault_bad("drop --fo=1m", "ambiguous option '--fo' (could be --for, --force)");
	fault_bad("drop --all", "unknown option '--all' for drop");
	fault_bad("drop --container web --allow", "write --allow-host-network in full");
	fault_bad("drop -x", "unknown option '-x'");
	fault_bad("drop --port 0", "--port: port '0' is out of range");
	fault_bad("drop --sport 70000", "--sport: port '70000' is out of range");
	fault_bad("drop --dport 2000-1000", "did you mean 1000-2000?");
	fault_bad("jitter 10ms", "unknown fault 'jitter'");
	fault_bad("delay --d 10ms", "ambiguous option '--d'");
	fault_bad("delay 10ms --di normal", "ambiguous option '--di' (could be --direction, --distribution)");
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


/* ---- netem faults, as the issues write them ---- */

static struct nc_rule_spec valid_ok(const char *line)
{
	struct nc_rule_spec s = fault_ok(line);

	if (nc_spec_validate(&s, err, sizeof(err)))
		fail_msg("'%s' parsed but refused: %s", line, err);
	return s;
}

/* Parsed, then refused by nc_spec_validate() with a message containing word. */
static void invalid_after_parse(const char *line, const char *word)
{
	struct nc_rule_spec s = fault_ok(line);

	err[0] = '\0';
	assert_int_equal(nc_spec_validate(&s, err, sizeof(err)), -EINVAL);
	if (!strstr(err, word))
		fail_msg("'%s': error \"%s\" lacks \"%s\"", line, err, word);
	assert_null(strchr(err, '\n'));
}

static void test_delay(void **state)
{
	struct nc_rule_spec s;

	s = valid_ok("delay --port 3306 200ms --for 5m");
	assert_int_equal(s.kind, NC_FAULT_DELAY);
	assert_int_equal(s.netem.latency_ns, 200 * MS);
	assert_int_equal(s.n_ports, 1);
	assert_int_equal(s.ports[0].kind, NC_PORT_EITHER);
	assert_int_equal(s.ports[0].lo, 3306);
	assert_int_equal(s.duration_ms, 300000);
	assert_int_equal(s.dir_mask, 0); /* the agent picks: once per round trip */
	assert_int_equal(s.prob, 0);
	assert_int_equal(s.netem.jitter_ns + s.netem.latency_corr + (uint64_t)s.netem.dist, 0);

	s = valid_ok("delay --ip 10.0.0.0/8 100ms --jitter 20ms --correlation 25% --distribution normal");
	assert_int_equal(s.n_cidrs, 1);
	assert_int_equal(s.netem.latency_ns, 100 * MS);
	assert_int_equal(s.netem.jitter_ns, 20 * MS);
	assert_int_equal(s.netem.latency_corr, pct("25%"));
	assert_int_equal(s.netem.dist, NC_NETEM_DIST_NORMAL);

	s = valid_ok("delay --port 5432 50ms --direction ingress");
	assert_int_equal(s.netem.latency_ns, 50 * MS);
	assert_int_equal(s.dir_mask, NC_DIR_INGRESS);
	s = valid_ok("delay --port 5432 50ms --direction both");
	assert_int_equal(s.dir_mask, NC_DIR_BOTH); /* given: twice per round trip */

	s = valid_ok("delay 1.5ms --limit 20000");
	assert_int_equal(s.netem.latency_ns, 1500 * 1000);
	assert_int_equal(s.netem.limit, 20000);
	s = valid_ok("delay --delay 30ms"); /* the option for the argument */
	assert_int_equal(s.netem.latency_ns, 30 * MS);

	fault_bad("delay", "delay needs a time (e.g. chaosctl delay 200ms)");
	fault_bad("delay --port 80", "delay needs a time");
	fault_bad("delay 200", "time '200' needs a unit");
	fault_bad("delay 3601s", "longer than the maximum of 1h");
	fault_bad("delay 200ms 300ms", "unexpected argument '300ms' for delay");
	fault_bad("delay 200ms --delay 100ms", "give the delay once");
	fault_bad("delay 10ms --jitter 5", "--jitter: time '5' needs a unit");
	fault_bad("delay 10ms --jitter 1ms --jitter 2ms", "--jitter given twice");
	fault_bad("delay 10ms --distribution gauss", "--distribution: unknown distribution 'gauss'");
	fault_bad("delay 10ms --correlation 101%", "--correlation: percentage '101%' is out of range");
	fault_bad("delay 10ms --limit 0", "--limit: 0 is out of range (1 to 100000)");
	fault_bad("delay 10ms --limit 100001", "--limit: 100001 is out of range");
	fault_bad("delay 10ms --limit 1e3", "--limit: invalid number '1e3'");
	fault_bad("delay 10ms --model gemodel", "--model only applies to loss");

	invalid_after_parse("delay 0ms", "delay needs a time above 0");
	invalid_after_parse("delay 10ms --correlation 25%", "--correlation of a delay needs --jitter");
	invalid_after_parse("delay 10ms --distribution pareto", "--distribution needs --jitter");
	invalid_after_parse("delay 10ms --gap 3", "--gap only applies to reorder");
	invalid_after_parse("delay 10ms --ecn", "--ecn only applies to loss --model");
	invalid_after_parse("delay 10ms --packet-overhead 4", "--packet-overhead only applies to rate");
	invalid_after_parse("delay 10ms --payload", "--payload only applies to corrupt, not delay");
}

static void test_loss_models(void **state)
{
	struct nc_rule_spec s;

	/* tc's gemodel p r [1-h [1-k]] */
	s = valid_ok("loss --port 443 --model gemodel 1% 10% 70% 0.1%");
	assert_int_equal(s.kind, NC_FAULT_LOSS);
	assert_int_equal(s.prob, 0);
	assert_int_equal(s.netem.loss_model.model, NC_NETEM_LOSS_GE);
	assert_int_equal(s.netem.loss_model.p[NC_GE_P], pct("1%"));
	assert_int_equal(s.netem.loss_model.p[NC_GE_R], pct("10%"));
	assert_int_equal(s.netem.loss_model.p[NC_GE_H], UINT32_MAX - pct("70%"));
	assert_int_equal(s.netem.loss_model.p[NC_GE_K1], pct("0.1%"));
	assert_true(nc_spec_is_netem(&s));
	assert_int_equal(s.ports[0].lo, 443);
	/* the model's words may come anywhere, like any option */
	{
		struct nc_rule_spec t = fault_ok("loss 1% 10% --port 443 70% --model gemodel 0.1%");

		assert_memory_equal(&s, &t, sizeof(s));
	}
	s = valid_ok("loss --model gemodel 5%");
	assert_int_equal(s.netem.loss_model.p[NC_GE_R], UINT32_MAX); /* tc's defaults */
	assert_int_equal(s.netem.loss_model.p[NC_GE_H], 0);

	/* tc's state p13 [p31 [p32 [p23 [p14]]]] */
	s = valid_ok("loss --port 443 --model 4state 5% 40%");
	assert_int_equal(s.netem.loss_model.model, NC_NETEM_LOSS_GI);
	assert_int_equal(s.netem.loss_model.p[NC_GI_P13], pct("5%"));
	assert_int_equal(s.netem.loss_model.p[NC_GI_P31], pct("40%"));
	assert_int_equal(s.netem.loss_model.p[NC_GI_P32], 0);
	assert_int_equal(s.netem.loss_model.p[NC_GI_P23], UINT32_MAX);
	s = valid_ok("loss --port 443 --model 4state 5% 40% 10% 90% 2%");
	assert_int_equal(s.netem.loss_model.p[NC_GI_P32], pct("10%"));
	assert_int_equal(s.netem.loss_model.p[NC_GI_P23], pct("90%"));
	assert_int_equal(s.netem.loss_model.p[NC_GI_P14], pct("2%"));

	/* --ecn and --limit with a model; plain loss stays the BPF fault */
	s = valid_ok("loss --model gemodel 1% 10% --ecn --limit 1000 --delay 5ms");
	assert_true(s.netem.ecn);
	assert_int_equal(s.netem.limit, 1000);
	assert_int_equal(s.netem.latency_ns, 5 * MS);
	s = valid_ok("loss --port 443 10%");
	assert_false(nc_spec_is_netem(&s));
	assert_int_equal(s.prob, pct("10%"));
	assert_int_equal(s.netem.loss_model.model, NC_NETEM_LOSS_RANDOM);

	fault_bad("loss --model gemodel", "loss --model gemodel needs P [R [1-H [1-K]]]");
	fault_bad("loss --model 4state --port 1", "loss --model 4state needs P13 [P31 [P32 [P23 [P14]]]]");
	fault_bad("loss --model gemodel 1% 2% 3% 4% 5%", "unexpected argument '5%' for loss");
	fault_bad("loss --model 4state 1% 2% 3% 4% 5% 6%", "unexpected argument '6%' for loss");
	fault_bad("loss 1% 2%", "unexpected argument '2%' for loss");
	fault_bad("loss --model foo 1%", "--model: unknown loss model 'foo' (expected gemodel or 4state)");
	fault_bad("loss --model gemodel --model 4state 1%", "--model given twice");
	fault_bad("loss --model gemodel 1% 140%", "'140%'");

	invalid_after_parse("loss --model gemodel 0%", "never loses");
	invalid_after_parse("loss --model 4state 60% 10% 0% 100% 50%", "p13 + p14");
	invalid_after_parse("loss --model gemodel 1% --correlation 5%",
			    "--correlation does not apply to loss --model");
	invalid_after_parse("loss 5% --correlation 25%",
			    "--correlation only applies to netem faults (delay, duplicate, reorder, rate, loss --model), not loss without --model");
	invalid_after_parse("loss 5% --ecn", "--ecn only applies to netem faults");
	invalid_after_parse("loss 5% --limit 100", "--limit only applies to netem faults");
	invalid_after_parse("loss 5% --jitter 1ms", "--jitter only applies to netem faults");
}

static void test_duplicate_reorder_rate(void **state)
{
	struct nc_rule_spec s;

	s = valid_ok("duplicate --port 53 --proto udp 5%");
	assert_int_equal(s.kind, NC_FAULT_DUPLICATE);
	assert_int_equal(s.netem.duplicate, pct("5%"));
	assert_int_equal(s.proto_mask, NC_PROTO_UDP);
	assert_int_equal(s.prob, 0);
	s = valid_ok("duplicate --port 53 --proto udp 5% --correlation 25%");
	assert_int_equal(s.netem.dup_corr, pct("25%"));
	assert_int_equal(s.netem.latency_corr, 0);

	s = valid_ok("reorder --port 8080 25% --delay 10ms --gap 5");
	assert_int_equal(s.kind, NC_FAULT_REORDER);
	assert_int_equal(s.netem.reorder, pct("25%"));
	assert_int_equal(s.netem.latency_ns, 10 * MS);
	assert_int_equal(s.netem.gap, 5);
	s = valid_ok("reorder --port 8080 25% --delay 10ms --gap 5 --correlation 50%");
	assert_int_equal(s.netem.reorder_corr, pct("50%"));

	s = valid_ok("rate --port 80 1mbit");
	assert_int_equal(s.kind, NC_FAULT_RATE);
	assert_int_equal(s.netem.rate_bps, 1000000);
	s = valid_ok("rate --port 80 1mbit --packet-overhead 14");
	assert_int_equal(s.netem.packet_overhead, 14);
	s = valid_ok("rate 10mbps --packet-overhead -4 --delay 20ms --jitter 5ms");
	assert_int_equal(s.netem.rate_bps, 80000000);
	assert_int_equal(s.netem.packet_overhead, -4);

	fault_bad("duplicate", "duplicate needs a percentage (e.g. chaosctl duplicate 5%)");
	fault_bad("duplicate 130%", "'130%'");
	fault_bad("reorder --delay 10ms", "reorder needs a percentage");
	fault_bad("reorder 25% --delay 10ms --gap 0", "--gap: 0 is out of range (1 to 4294967295)");
	fault_bad("reorder 25% --delay 10ms --gap -1", "--gap: -1 is out of range");
	fault_bad("reorder 25% --delay 10ms --gap five", "--gap: invalid number 'five'");
	fault_bad("reorder 25% --delay 10ms --gap 99999999999999999999", "out of range");
	fault_bad("rate", "rate needs a rate (e.g. chaosctl rate 1mbit)");
	fault_bad("rate 1000", "rate '1000' needs a unit");
	fault_bad("rate 1mbit 2mbit", "unexpected argument '2mbit' for rate");
	fault_bad("rate 1mbit --correlation 5%", "--correlation does not apply to rate");
	fault_bad("rate 1mbit --packet-overhead x", "--packet-overhead: invalid number 'x'");
	fault_bad("rate 1mbit --packet-overhead -", "--packet-overhead: invalid number '-'");

	invalid_after_parse("duplicate 0%", "duplicate of 0% does nothing");
	invalid_after_parse("reorder --port 8080 25%", "reorder needs --delay");
	invalid_after_parse("duplicate 5% --gap 2", "--gap only applies to reorder");
	invalid_after_parse("rate 1mbit --jitter 5ms", "--jitter needs --delay");
	invalid_after_parse("rate 1mbit --packet-overhead -41", "out of range");
	invalid_after_parse("duplicate 5% --packet-overhead 3", "--packet-overhead only applies to rate");
}

/* netem-only options on the BPF faults: parsed, refused by name. */
static void test_netem_options_on_bpf(void **state)
{
	invalid_after_parse("drop --jitter 5ms", "--jitter only applies to netem faults");
	invalid_after_parse("drop --delay 5ms", "--delay only applies to netem faults (delay, duplicate, reorder, rate, loss --model), not drop");
	invalid_after_parse("corrupt 1% --correlation 5%", "--correlation only applies to netem faults");
	invalid_after_parse("corrupt 1% --distribution normal", "--distribution only applies");
	invalid_after_parse("partition --ip 10.0.0.0/8 --limit 100", "--limit only applies to netem faults");
	invalid_after_parse("partition --ip 10.0.0.0/8 --gap 2", "--gap only applies to netem faults");
	invalid_after_parse("drop --ecn", "--ecn only applies");
	invalid_after_parse("drop --packet-overhead 2", "--packet-overhead only applies");
	fault_bad("corrupt 1% --model gemodel", "--model only applies to loss");
	fault_bad("drop --model 4state", "--model only applies to loss");
}

/* ---- Docker targets ---- */

static void test_docker(void **state)
{
	struct nc_rule_spec s;

	s = valid_ok("delay --container mysql --port 3306 200ms");
	assert_int_equal(s.n_containers, 1);
	assert_string_equal(s.containers[0], "mysql");
	assert_int_equal(s.netem.latency_ns, 200 * MS);

	s = valid_ok("loss --container web 10%");
	assert_int_equal(s.n_containers, 1);
	assert_string_equal(s.containers[0], "web");
	assert_int_equal(s.n_ports + s.n_cidrs, 0); /* all of web's traffic */

	s = valid_ok("drop --service api --dport 5432");
	assert_int_equal(s.n_services, 1);
	assert_string_equal(s.services[0], "api");
	assert_int_equal(s.ports[0].kind, NC_PORT_DST);

	s = valid_ok("corrupt --label tier=cache 2%");
	assert_int_equal(s.n_labels, 1);
	assert_string_equal(s.labels[0], "tier=cache");
	assert_int_equal(s.prob, pct("2%"));

	/* lists add up; a label is one value, commas and all */
	s = valid_ok("drop --container web,api --container db --service s1,s2 --label a=1,2 "
		     "--label b=x --allow-host-network");
	assert_int_equal(s.n_containers, 3);
	assert_string_equal(s.containers[1], "api");
	assert_string_equal(s.containers[2], "db");
	assert_int_equal(s.n_services, 2);
	assert_int_equal(s.n_labels, 2);
	assert_string_equal(s.labels[0], "a=1,2");
	assert_true(s.allow_host_network);

	fault_bad("drop --container -web", "--container: invalid container name '-web'");
	fault_bad("drop --container web,", "--container: empty value");
	fault_bad("drop --container a,b,c,d,e,f,g,h,i", "too many --container values (at most 8)");
	fault_bad("drop --label tier", "--label: invalid label 'tier' (use KEY=VALUE");
	fault_bad("drop --service a/b", "--service: invalid service name 'a/b'");

	invalid_after_parse("delay 10ms --container web --netns blue",
			    "--container, --label and --service cannot be combined with --netns");
	invalid_after_parse("drop --service api --netns /proc/1/ns/net", "cannot be combined with --netns");
	invalid_after_parse("drop --allow-host-network",
			    "--allow-host-network only applies to containers");
}

/* ---- partition groups ---- */

static void test_groups(void **state)
{
	struct nc_rule_spec s;

	s = valid_ok("partition --group web,api --group db --for 2m");
	assert_int_equal(s.kind, NC_FAULT_PARTITION);
	assert_int_equal(s.duration_ms, 120000);
	assert_int_equal(s.n_groups, 2);
	assert_int_equal(s.groups[0].n_members, 2);
	assert_int_equal(s.groups[0].members[0].kind, NC_MEMBER_CONTAINER);
	assert_string_equal(s.groups[0].members[0].ref, "web");
	assert_string_equal(s.groups[0].members[1].ref, "api");
	assert_int_equal(s.groups[1].n_members, 1);
	assert_string_equal(s.groups[1].members[0].ref, "db");
	assert_false(s.one_way);
	assert_int_equal(s.dir_mask, 0);

	s = valid_ok("partition --group web --group host");
	assert_int_equal(s.groups[1].members[0].kind, NC_MEMBER_HOST);

	s = valid_ok("partition --group web --group 10.0.0.0/8 --one-way");
	assert_int_equal(s.groups[1].members[0].kind, NC_MEMBER_CIDR);
	assert_int_equal(s.groups[1].members[0].cidr.prefixlen, 8);
	assert_true(s.one_way);

	s = valid_ok("partition --group label:tier=web,service:api,fd00::/64 --group container:host "
		     "--group db --allow-host-network --dport 5432");
	assert_int_equal(s.n_groups, 3);
	assert_int_equal(s.groups[0].members[0].kind, NC_MEMBER_LABEL);
	assert_string_equal(s.groups[0].members[0].ref, "tier=web");
	assert_int_equal(s.groups[0].members[1].kind, NC_MEMBER_SERVICE);
	assert_int_equal(s.groups[0].members[2].kind, NC_MEMBER_CIDR);
	assert_int_equal(s.groups[1].members[0].kind, NC_MEMBER_CONTAINER);
	assert_string_equal(s.groups[1].members[0].ref, "host");

	fault_bad("partition --group a --group b --group c --group d --group e",
		  "too many --group (at most 4)");
	fault_bad("partition --group a,b,c,d,e,f,g,h,i --group z",
		  "too many members in one --group (at most 8)");
	fault_bad("partition --group web, --group db", "--group: empty value in 'web,'");
	fault_bad("partition --group web --group 10.1.2.3/24",
		  "--group: 10.1.2.3/24 has host bits set; did you mean 10.1.2.0/24?");
	fault_bad("partition --group web --group lable:x=y", "--group: unknown group member 'lable:x=y'");

	invalid_after_parse("partition", "partition needs at least one peer address (--ip) or two groups");
	invalid_after_parse("partition --group web", "two or more --group");
	invalid_after_parse("drop --group web --group db", "--group only applies to partition, not drop");
	invalid_after_parse("delay 5ms --group web --group db", "--group only applies to partition");
	invalid_after_parse("partition --ip 10.0.0.0/8 --one-way", "--one-way only applies to partition --group");
	invalid_after_parse("partition --group web --group db --ip 10.0.0.0/8", "not both");
	invalid_after_parse("partition --group web --group db --netns blue", "--netns cannot be combined with --group");
	invalid_after_parse("partition --group web --group db --direction egress", "use --one-way");
	invalid_after_parse("partition --group web --group db --container web", "name the containers in the groups");
	invalid_after_parse("partition --group web,host --group host", "'host' may appear only once");
	invalid_after_parse("partition --group web --group db,web", "group member 'web' is given twice");
	invalid_after_parse("partition --group host --group 10.0.0.0/8 --allow-host-network",
			    "--allow-host-network only applies to containers");
	invalid_after_parse("partition --group web --group db --payload", "--payload only applies to corrupt");
}

static void test_abort_doctor(void **state)
{
	char *pos[1];
	int argc, n;

	memset(&g, 0, sizeof(g));
	argc = split("abort");
	assert_int_equal(nc_cli_parse_plain(argc, argv_buf, &g, 0, pos, &n, err, sizeof(err)), 0);
	argc = split("abort --json");
	assert_int_equal(nc_cli_parse_plain(argc, argv_buf, &g, 0, pos, &n, err, sizeof(err)), 0);
	assert_true(g.json);
	argc = split("abort now");
	assert_int_equal(nc_cli_parse_plain(argc, argv_buf, &g, 0, pos, &n, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "unexpected argument 'now' for abort");
	argc = split("doctor --all");
	assert_int_equal(nc_cli_parse_plain(argc, argv_buf, &g, 0, pos, &n, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "unknown option '--all' for doctor (see chaosctl --help)");
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
	nc_cli_print_options(f, NC_CLI_FAULT | NC_CLI_GLOBAL | NC_CLI_CLEAR);
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
		 "--socket /s --container c --label a=b --service s --allow-host-network "
		 "--group g --one-way --delay 1ms --jitter 1ms --correlation 1% "
		 "--distribution normal --gap 1 --packet-overhead 1 --limit 1 --ecn --help");
	fault_ok("loss --model gemodel 1% --ecn");
	/* every fault accepts every fault option (validation says what fits) */
	for (o = nc_cli_options; o->name; o++) {
		char line[160];

		if (!(o->groups & NC_CLI_FAULT) || !strcmp(o->name, "model") ||
		    !strcmp(o->name, "correlation"))
			continue;
		snprintf(line, sizeof(line), "partition --%s%s%s", o->name, o->metavar ? " " : "",
			 !o->metavar ? "" : !strcmp(o->name, "group") ? "a" :
			 !strcmp(o->name, "label") ? "a=b" : strstr(o->metavar, "%") ? "1%" :
			 !strcmp(o->metavar, "TIME") ? "1ms" : !strcmp(o->metavar, "DIR") ? "both" :
			 !strcmp(o->metavar, "DURATION") ? "1s" : !strcmp(o->metavar, "DIST") ? "normal" :
			 !strcmp(o->metavar, "ADDR[/LEN]") ? "10.0.0.1" :
			 !strcmp(o->metavar, "PROTO") ? "tcp" : "1");
		fault_ok(line);
	}
}

static int change(const char *line, struct nc_change_req *req)
{
	int argc = split(line);

	memset(&g, 0, sizeof(g));
	err[0] = '\0';
	return nc_cli_parse_change(argc, argv_buf, &g, req, err, sizeof(err));
}

static void change_bad(const char *line, const char *word)
{
	struct nc_change_req req;

	assert_int_equal(change(line, &req), -EINVAL);
	if (!strstr(err, word))
		fail_msg("'%s': error \"%s\" lacks \"%s\"", line, err, word);
}

static void test_change(void **state)
{
	struct nc_change_req req;

	assert_int_equal(change("change 3 delay 300ms --jitter 10ms --correlation 25%", &req), 0);
	assert_int_equal(req.id, 3);
	assert_int_equal(req.fault.kind, NC_FAULT_DELAY);
	assert_int_equal(req.fault.netem.latency_ns, 300 * MS);
	assert_int_equal(req.fault.netem.jitter_ns, 10 * MS);
	assert_int_equal(req.fault.netem.latency_corr, pct("25%"));
	assert_false(req.has_duration || req.dry_run || req.fault.dry_run);

	assert_int_equal(change("change 12 loss 10% --for 2m --dry-run", &req), 0);
	assert_int_equal(req.id, 12);
	assert_int_equal(req.fault.prob, pct("10%"));
	assert_true(req.has_duration && req.dry_run);
	assert_int_equal(req.duration_ms, 120000);
	/* --for with the default's value still counts as given */
	assert_int_equal(change("change 1 loss 10% --for 5m", &req), 0);
	assert_true(req.has_duration);

	assert_int_equal(change("change 4 loss --model gemodel 1% 10%", &req), 0);
	assert_int_equal(req.fault.netem.loss_model.model, NC_NETEM_LOSS_GE);

	change_bad("change 3 loss 10% --port 80", "--port: change keeps the rule's target");
	change_bad("change 3 loss 10% --container web", "--container");
	change_bad("change 3 loss 10% --direction egress", "--direction");
	change_bad("change 3 loss 10% --force", "--force");
	change_bad("change 3 partition --group a --group b", "--group");
	change_bad("change 3 delay", "needs a time");
	change_bad("change 3 bogus 1%", "unknown fault");
	change_bad("change 0 loss 1%", "invalid rule id");
	change_bad("change three loss 1%", "invalid rule id");
	change_bad("change 3", "change needs a rule id");
	change_bad("change", "change needs a rule id");
	change_bad("change --dry-run 3 loss 1%", "rule id first");
	assert_true(req.has_fault);

	/* a new end only */
	assert_int_equal(change("change 7 --for 10m", &req), 0);
	assert_int_equal(req.id, 7);
	assert_false(req.has_fault || req.dry_run);
	assert_true(req.has_duration);
	assert_int_equal(req.duration_ms, 600000);
	assert_int_equal(change("change 7 --dry-run --for 30s", &req), 0);
	assert_true(req.dry_run && req.has_duration && !req.has_fault);
	change_bad("change 7 --dry-run", "needs --for");
	change_bad("change 7 --for 1m loss 5%", "fault before the options");
	change_bad("change 7 --port 80", "unknown option");
	change_bad("change 7 --for soon", "--for");

	assert_int_equal(change("change --help", &req), 0);
	assert_true(g.help);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loss_basic),
		cmocka_unit_test(test_change),
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
		cmocka_unit_test(test_delay),
		cmocka_unit_test(test_loss_models),
		cmocka_unit_test(test_duplicate_reorder_rate),
		cmocka_unit_test(test_netem_options_on_bpf),
		cmocka_unit_test(test_docker),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_abort_doctor),
		cmocka_unit_test(test_option_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
