// SPDX-License-Identifier: GPL-2.0-only
/*
 * lib/spec.c: the cross-field rules of nc_spec_validate() one by one (each
 * test starts from a valid spec and breaks one thing), the defaults, and the
 * descriptions chaosctl prints.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "netem.h"
#include "spec.h"
#include "units.h"

#define MS 1000000ull /* ns */

static char err[256];

static uint32_t pct(const char *text)
{
	uint32_t p;

	assert_int_equal(nc_parse_percent(text, &p), 0);
	return p;
}

static void add_port(struct nc_rule_spec *s, uint8_t kind, uint16_t lo, uint16_t hi)
{
	s->ports[s->n_ports++] = (struct nc_port_spec){ .kind = kind, .lo = lo, .hi = hi };
}

static void add_cidr(struct nc_rule_spec *s, const char *text)
{
	assert_int_equal(nc_parse_cidr(text, &s->cidrs[s->n_cidrs]), 0);
	s->n_cidrs++;
}

/* A valid spec of the kind, with the least it needs. */
static struct nc_rule_spec make(enum nc_fault_kind kind)
{
	struct nc_rule_spec s;

	nc_spec_init(&s);
	s.kind = kind;
	if (kind == NC_FAULT_LOSS || kind == NC_FAULT_CORRUPT)
		assert_int_equal(nc_parse_percent("30%", &s.prob), 0);
	if (kind == NC_FAULT_PARTITION)
		add_cidr(&s, "10.0.0.0/8");
	if (kind == NC_FAULT_DELAY)
		s.netem.latency_ns = 100 * MS;
	if (kind == NC_FAULT_DUPLICATE)
		s.netem.duplicate = pct("5%");
	if (kind == NC_FAULT_REORDER) {
		s.netem.reorder = pct("25%");
		s.netem.latency_ns = 10 * MS;
	}
	if (kind == NC_FAULT_RATE)
		s.netem.rate_bps = 1000000;
	return s;
}

/* loss --model gemodel with n of these tc-order values */
static struct nc_rule_spec make_gemodel(int n)
{
	struct nc_rule_spec s = make(NC_FAULT_LOSS);
	uint32_t v[4] = { pct("1%"), pct("10%"), pct("70%"), pct("0.1%") };

	s.prob = 0;
	nc_netem_set_gemodel(&s.netem, v, n);
	return s;
}

static void add_member(struct nc_rule_spec *s, unsigned int group, const char *text)
{
	struct nc_group *g = &s->groups[group];

	if (nc_group_member_parse(text, &g->members[g->n_members], err, sizeof(err)))
		fail_msg("member '%s' refused: %s", text, err);
	g->n_members++;
	if (s->n_groups < group + 1)
		s->n_groups = (uint8_t)(group + 1);
}

/* partition --group web,api --group db */
static struct nc_rule_spec make_groups(void)
{
	struct nc_rule_spec s;

	nc_spec_init(&s);
	s.kind = NC_FAULT_PARTITION;
	add_member(&s, 0, "web");
	add_member(&s, 0, "api");
	add_member(&s, 1, "db");
	return s;
}

static void valid(const struct nc_rule_spec *s)
{
	err[0] = '\0';
	if (nc_spec_validate(s, err, sizeof(err)))
		fail_msg("valid spec refused: %s", err);
}

/* Refused, with a one-line message containing word. */
static void invalid(const struct nc_rule_spec *s, const char *word)
{
	err[0] = '\0';
	assert_int_equal(nc_spec_validate(s, err, sizeof(err)), -EINVAL);
	if (!strstr(err, word))
		fail_msg("error \"%s\" lacks \"%s\"", err, word);
	assert_null(strchr(err, '\n'));
	/* err is optional */
	assert_int_equal(nc_spec_validate(s, NULL, 0), -EINVAL);
}

static void test_defaults(void **state)
{
	struct nc_rule_spec s;

	memset(&s, 0xff, sizeof(s));
	nc_spec_init(&s);
	assert_int_equal(s.kind, NC_FAULT_NONE);
	assert_int_equal(s.dir_mask, 0); /* not given: the agent picks */
	assert_int_equal(s.duration_ms, NC_DEFAULT_DURATION_MS);
	assert_int_equal(s.duration_ms, 5 * 60 * 1000);
	assert_int_equal(s.n_ports + s.n_cidrs + s.n_ifaces + s.proto_mask + s.prob, 0);
	assert_false(s.payload || s.dry_run || s.force);
	assert_string_equal(s.netns, "");
	assert_int_equal(s.n_containers + s.n_labels + s.n_services + s.n_groups, 0);
	assert_false(s.allow_host_network || s.one_way);
	assert_int_equal(s.netem.latency_ns + s.netem.rate_bps + s.netem.loss_model.model, 0);
}

static void test_each_kind_valid(void **state)
{
	struct nc_rule_spec s;

	s = make(NC_FAULT_DROP);
	valid(&s);
	s = make(NC_FAULT_LOSS);
	valid(&s);
	s = make(NC_FAULT_CORRUPT);
	valid(&s);
	s.payload = true;
	valid(&s);
	s = make(NC_FAULT_PARTITION);
	valid(&s);
	s = make(NC_FAULT_DELAY);
	valid(&s);
	s = make(NC_FAULT_DUPLICATE);
	valid(&s);
	s = make(NC_FAULT_REORDER);
	valid(&s);
	s = make(NC_FAULT_RATE);
	valid(&s);
	s = make_gemodel(4);
	valid(&s);
	s = make_gemodel(1);
	valid(&s);
	s = make_groups();
	valid(&s);
}

static void test_kind(void **state)
{
	struct nc_rule_spec s = make(NC_FAULT_DROP);

	s.kind = NC_FAULT_NONE;
	invalid(&s, "no fault");
	s.kind = NC_FAULT__COUNT;
	invalid(&s, "unknown fault kind");
	s.kind = (enum nc_fault_kind)-1;
	invalid(&s, "unknown fault kind");
}

static void test_probability(void **state)
{
	struct nc_rule_spec s;

	s = make(NC_FAULT_LOSS);
	s.prob = 0;
	invalid(&s, "loss of 0%");
	s.prob = 1;
	valid(&s);
	s.prob = UINT32_MAX;
	valid(&s);

	s = make(NC_FAULT_CORRUPT);
	s.prob = 0;
	invalid(&s, "corrupt of 0%");

	/* drop and partition ignore the probability, whatever it is */
	s = make(NC_FAULT_DROP);
	s.prob = 0;
	valid(&s);
	s.prob = 12345;
	valid(&s);
	s = make(NC_FAULT_PARTITION);
	s.prob = 0;
	valid(&s);
}

static void test_partition_needs_peer(void **state)
{
	struct nc_rule_spec s = make(NC_FAULT_PARTITION);

	s.n_cidrs = 0;
	invalid(&s, "--ip");
	/* ports alone do not make a partition */
	add_port(&s, NC_PORT_EITHER, 80, 80);
	invalid(&s, "peer");
	add_cidr(&s, "fd00::/64");
	valid(&s);
}

static void test_payload_only_corrupt(void **state)
{
	struct nc_rule_spec s;

	s = make(NC_FAULT_LOSS);
	s.payload = true;
	invalid(&s, "--payload");
	s = make(NC_FAULT_DROP);
	s.payload = true;
	invalid(&s, "drop");
	s = make(NC_FAULT_PARTITION);
	s.payload = true;
	invalid(&s, "--payload");
	s = make(NC_FAULT_CORRUPT);
	s.payload = true;
	valid(&s);
	s = make(NC_FAULT_DELAY);
	s.payload = true;
	invalid(&s, "--payload only applies to corrupt, not delay");
	s = make_gemodel(2);
	s.payload = true;
	invalid(&s, "--payload only applies to corrupt, not loss");
}

static void test_duration(void **state)
{
	struct nc_rule_spec s = make(NC_FAULT_DROP);

	s.duration_ms = 0;
	invalid(&s, "at least 1ms");
	s.duration_ms = 1;
	valid(&s);
	s.duration_ms = NC_MAX_DURATION_MS;
	valid(&s);
	s.duration_ms = NC_MAX_DURATION_MS + 1;
	invalid(&s, "24h");
	s.duration_ms = UINT64_MAX;
	invalid(&s, "maximum");
}

static void test_direction(void **state)
{
	struct nc_rule_spec s = make(NC_FAULT_DROP);

	s.dir_mask = 0; /* not given */
	valid(&s);
	s.dir_mask = NC_DIR_BOTH; /* given: --direction both */
	valid(&s);
	s.dir_mask = 4;
	invalid(&s, "direction");
	s.dir_mask = NC_DIR_BOTH | 8;
	invalid(&s, "direction");
	s.dir_mask = NC_DIR_EGRESS;
	valid(&s);
	s.dir_mask = NC_DIR_INGRESS;
	valid(&s);
	s = make(NC_FAULT_DELAY);
	s.dir_mask = 0;
	valid(&s);
	s.dir_mask = NC_DIR_INGRESS;
	valid(&s);
	s.dir_mask = 4;
	invalid(&s, "direction");
}

static void test_protocols(void **state)
{
	struct nc_rule_spec s = make(NC_FAULT_DROP);

	s.proto_mask = NC_PROTO_TCP | NC_PROTO_UDP | NC_PROTO_ICMP;
	valid(&s);
	s.proto_mask = 1u << 3;
	invalid(&s, "protocol");
	s.proto_mask = NC_PROTO_ICMP;
	valid(&s);
}

static void test_ports_with_icmp(void **state)
{
	struct nc_rule_spec s = make(NC_FAULT_DROP);

	s.proto_mask = NC_PROTO_ICMP;
	add_port(&s, NC_PORT_DST, 80, 80);
	invalid(&s, "icmp");
	/* with another protocol beside icmp the ports still have packets to match */
	s.proto_mask = NC_PROTO_ICMP | NC_PROTO_TCP;
	valid(&s);
	s.proto_mask = 0;
	valid(&s);
}

static void test_ports(void **state)
{
	struct nc_rule_spec s = make(NC_FAULT_DROP);
	int i;

	add_port(&s, NC_PORT_EITHER, 80, 80);
	add_port(&s, NC_PORT_SRC, 1000, 2000);
	add_port(&s, NC_PORT_DST, 1, 65535);
	valid(&s);

	s.ports[0].lo = 0;
	invalid(&s, "port 0");
	s.ports[0].lo = 90;
	invalid(&s, "90-80");
	s.ports[0].lo = 80;
	s.ports[1].kind = NC_PORT_ANY; /* a key-only kind, not for specs */
	invalid(&s, "port kind");
	s.ports[1].kind = 7;
	invalid(&s, "port kind");
	s.ports[1].kind = NC_PORT_SRC;

	s = make(NC_FAULT_DROP);
	for (i = 0; i < NC_RULE_MAX_PORTS; i++)
		add_port(&s, NC_PORT_EITHER, (uint16_t)(i + 1), (uint16_t)(i + 1));
	valid(&s);
	s.n_ports = NC_RULE_MAX_PORTS + 1;
	invalid(&s, "too many ports");
	s.n_ports = 255;
	invalid(&s, "too many ports");
}

static void test_cidrs(void **state)
{
	struct nc_rule_spec s = make(NC_FAULT_DROP);
	int i;

	add_cidr(&s, "10.1.2.0/24");
	add_cidr(&s, "fd00::/64");
	valid(&s);
	s.cidrs[0].addr[3] = 3;
	invalid(&s, "10.1.2.3/24 has host bits set; did you mean 10.1.2.0/24?");
	s.cidrs[0].addr[3] = 0;
	s.cidrs[1].family = 0;
	invalid(&s, "family");
	s.cidrs[1].family = 6;
	s.cidrs[1].prefixlen = 200;
	invalid(&s, "prefix length");

	s = make(NC_FAULT_DROP);
	for (i = 0; i < NC_RULE_MAX_CIDRS; i++)
		add_cidr(&s, "10.0.0.0/8");
	valid(&s);
	s.n_cidrs++;
	invalid(&s, "too many addresses");
}

static void test_ifaces(void **state)
{
	struct nc_rule_spec s = make(NC_FAULT_DROP);
	int i;

	strcpy(s.ifaces[s.n_ifaces++], "eth0");
	strcpy(s.ifaces[s.n_ifaces++], "veth-a.100");
	valid(&s);
	strcpy(s.ifaces[1], "");
	invalid(&s, "interface");
	strcpy(s.ifaces[1], "a/b");
	invalid(&s, "'a/b'");
	strcpy(s.ifaces[1], "a b");
	invalid(&s, "interface");
	strcpy(s.ifaces[1], "eth0:1");
	invalid(&s, "interface");
	strcpy(s.ifaces[1], "..");
	invalid(&s, "interface");
	strcpy(s.ifaces[1], "abcdefghijklmno"); /* 15 characters: the longest */
	valid(&s);
	memset(s.ifaces[1], 'x', IF_NAMESIZE); /* no terminator */
	invalid(&s, "too long");

	s = make(NC_FAULT_DROP);
	for (i = 0; i < NC_RULE_MAX_IFACES; i++)
		strcpy(s.ifaces[s.n_ifaces++], "lo");
	valid(&s);
	s.n_ifaces++;
	invalid(&s, "too many interfaces");
}

static void test_netns(void **state)
{
	struct nc_rule_spec s = make(NC_FAULT_DROP);

	strcpy(s.netns, "blue");
	valid(&s);
	strcpy(s.netns, "/run/netns/blue");
	valid(&s);
	strcpy(s.netns, "/proc/1234/ns/net");
	valid(&s);
	strcpy(s.netns, "run/netns/blue");
	invalid(&s, "absolute path");
	strcpy(s.netns, "..");
	invalid(&s, "namespace");
	strcpy(s.netns, "bl\tue");
	invalid(&s, "namespace");
	memset(s.netns, 'n', sizeof(s.netns));
	invalid(&s, "too long");
}


/* ---- netem faults ---- */

static void test_is_netem(void **state)
{
	struct nc_rule_spec s;

	s = make(NC_FAULT_DELAY);
	assert_true(nc_spec_is_netem(&s));
	s = make(NC_FAULT_DUPLICATE);
	assert_true(nc_spec_is_netem(&s));
	s = make(NC_FAULT_REORDER);
	assert_true(nc_spec_is_netem(&s));
	s = make(NC_FAULT_RATE);
	assert_true(nc_spec_is_netem(&s));
	s = make_gemodel(1);
	assert_true(nc_spec_is_netem(&s));
	s = make(NC_FAULT_LOSS);
	assert_false(nc_spec_is_netem(&s));
	s = make(NC_FAULT_DROP);
	assert_false(nc_spec_is_netem(&s));
	s = make(NC_FAULT_CORRUPT);
	assert_false(nc_spec_is_netem(&s));
	s = make(NC_FAULT_PARTITION);
	assert_false(nc_spec_is_netem(&s));
}

/* Each netem fault needs its own value. */
static void test_netem_needs_value(void **state)
{
	struct nc_rule_spec s;

	s = make(NC_FAULT_DELAY);
	s.netem.latency_ns = 0;
	invalid(&s, "delay needs a time above 0");
	s.netem.latency_ns = 1; /* 1ns */
	valid(&s);
	s.netem.latency_ns = NC_NETEM_MAX_DELAY_NS + 1;
	invalid(&s, "1h");

	s = make(NC_FAULT_DUPLICATE);
	s.netem.duplicate = 0;
	invalid(&s, "duplicate of 0% does nothing");
	s = make(NC_FAULT_REORDER);
	s.netem.reorder = 0;
	invalid(&s, "reorder of 0% does nothing");
	s = make(NC_FAULT_RATE);
	s.netem.rate_bps = 0;
	invalid(&s, "rate needs a rate");
	s.netem.rate_bps = 4;
	invalid(&s, "8bit");

	/* loss --model: the model's parameters, and no percentage beside them */
	s = make_gemodel(1);
	s.prob = pct("5%");
	invalid(&s, "not both");
	s = make_gemodel(1);
	s.netem.loss_model.p[NC_GE_P] = 0; /* never enters the bad state */
	invalid(&s, "never loses");
	s = make(NC_FAULT_LOSS);
	s.prob = 0;
	nc_netem_set_gimodel(&s.netem, (uint32_t[]){ pct("60%"), pct("10%"), 0, pct("100%"),
						     pct("50%") }, 5);
	invalid(&s, "p13 + p14");
	nc_netem_set_gimodel(&s.netem, (uint32_t[]){ pct("1%"), pct("30%") }, 2);
	valid(&s);
	s.netem.loss_model.model = 7;
	invalid(&s, "unknown loss model");

	/* fault.percent is the BPF faults' */
	s = make(NC_FAULT_DUPLICATE);
	s.prob = pct("5%");
	invalid(&s, "fault.percent");
	s = make(NC_FAULT_DELAY);
	s.prob = 1;
	invalid(&s, "fault.percent is for loss and corrupt; delay");
}

/* tc-netem's rules between the options, in the options' words. */
static void test_netem_cross_field(void **state)
{
	struct nc_rule_spec s;

	/* reorder needs --delay */
	s = make(NC_FAULT_REORDER);
	s.netem.latency_ns = 0;
	invalid(&s, "reorder needs --delay");
	/* jitter needs delay; correlation and distribution need jitter */
	s = make(NC_FAULT_RATE);
	s.netem.jitter_ns = 5 * MS;
	invalid(&s, "--jitter needs --delay");
	s.netem.latency_ns = 20 * MS;
	valid(&s);
	s = make(NC_FAULT_DELAY);
	s.netem.latency_corr = pct("25%");
	invalid(&s, "--correlation of a delay needs --jitter");
	s.netem.latency_corr = 0;
	s.netem.dist = NC_NETEM_DIST_NORMAL;
	invalid(&s, "--distribution needs --jitter");
	s.netem.jitter_ns = 20 * MS;
	s.netem.latency_corr = pct("25%");
	valid(&s);
	s.netem.dist = NC_NETEM_DIST__COUNT;
	invalid(&s, "unknown delay distribution");
	s.netem.dist = -1;
	invalid(&s, "unknown delay distribution");
	s.netem.dist = NC_NETEM_DIST_PARETONORMAL;
	s.netem.jitter_ns = NC_NETEM_MAX_DELAY_NS;
	invalid(&s, "1h");

	/* options that belong to one fault */
	s = make(NC_FAULT_DELAY);
	s.netem.gap = 5;
	invalid(&s, "--gap only applies to reorder");
	s = make(NC_FAULT_REORDER);
	s.netem.gap = 5;
	s.netem.reorder_corr = pct("50%");
	valid(&s);
	s = make(NC_FAULT_DELAY);
	s.netem.ecn = true;
	invalid(&s, "--ecn only applies to loss --model");
	s = make_gemodel(2);
	s.netem.ecn = true;
	valid(&s);
	s = make(NC_FAULT_DUPLICATE);
	s.netem.packet_overhead = 14;
	invalid(&s, "--packet-overhead only applies to rate");
	s = make(NC_FAULT_RATE);
	s.netem.packet_overhead = -40;
	valid(&s);
	s.netem.packet_overhead = -41;
	invalid(&s, "out of range");
	s.netem.packet_overhead = 65536;
	invalid(&s, "out of range");
	s = make_gemodel(4);
	s.netem.loss_corr = pct("25%");
	invalid(&s, "--correlation does not apply to loss --model");
	s = make_gemodel(4);
	s.netem.loss_model.p[4] = 1;
	invalid(&s, "4 parameters");

	/* a rule is one fault: no other fault's value */
	s = make(NC_FAULT_DELAY);
	s.netem.duplicate = pct("1%");
	invalid(&s, "duplicate percentage only applies to duplicate");
	s = make(NC_FAULT_DUPLICATE);
	s.netem.dup_corr = pct("1%");
	valid(&s);
	s = make(NC_FAULT_RATE);
	s.netem.reorder = pct("1%");
	invalid(&s, "reorder percentage only applies to reorder");
	s = make(NC_FAULT_DELAY);
	s.netem.rate_bps = 8000;
	invalid(&s, "a rate only applies to rate");
	s = make(NC_FAULT_DELAY);
	s.netem.loss = pct("1%");
	invalid(&s, "random loss");
	s = make(NC_FAULT_DELAY);
	s.netem.corrupt = pct("1%");
	invalid(&s, "corrupt");

	/* the queue limit, on any netem fault */
	s = make(NC_FAULT_DUPLICATE);
	s.netem.limit = 1;
	valid(&s);
	s.netem.limit = NC_SPEC_MAX_NETEM_LIMIT;
	valid(&s);
	s.netem.limit = NC_SPEC_MAX_NETEM_LIMIT + 1;
	invalid(&s, "--limit 100001 is above the maximum of 100000 packets");

	/* --delay with the others */
	s = make(NC_FAULT_DUPLICATE);
	s.netem.latency_ns = 10 * MS;
	valid(&s);
	s = make_gemodel(2);
	s.netem.latency_ns = 10 * MS;
	s.netem.limit = 5000;
	valid(&s);
}

/* netem-only options on the BPF faults, each refused by name. */
static void test_netem_options_on_bpf_faults(void **state)
{
	static const enum nc_fault_kind kinds[] = { NC_FAULT_DROP, NC_FAULT_LOSS, NC_FAULT_CORRUPT,
						    NC_FAULT_PARTITION };
	static const char *const opts[] = { "--delay", "--jitter", "--correlation", "--correlation",
					    "--correlation", "--distribution", "--gap",
					    "--packet-overhead", "--limit", "--ecn" };
	char want[160];
	size_t k, o;

	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		for (o = 0; o < sizeof(opts) / sizeof(opts[0]); o++) {
			struct nc_rule_spec s = make(kinds[k]);

			switch (o) {
			case 0: s.netem.latency_ns = MS; break;
			case 1: s.netem.jitter_ns = MS; break;
			case 2: s.netem.latency_corr = 1; break;
			case 3: s.netem.loss_corr = 1; break;
			case 4: s.netem.corrupt_corr = 1; break;
			case 5: s.netem.dist = NC_NETEM_DIST_NORMAL; break;
			case 6: s.netem.gap = 2; break;
			case 7: s.netem.packet_overhead = 4; break;
			case 8: s.netem.limit = 100; break;
			case 9: s.netem.ecn = true; break;
			}
			snprintf(want, sizeof(want), "%s only applies to netem faults (delay, duplicate, reorder, rate, loss --model), not %s",
				 opts[o], kinds[k] == NC_FAULT_LOSS ? "loss without --model" :
								      nc_fault_kind_name(kinds[k]));
			invalid(&s, want);
		}
	}
	/* the others' values, and --model anywhere but loss */
	{
		struct nc_rule_spec s = make(NC_FAULT_DROP);

		s.netem.duplicate = 1;
		invalid(&s, "netem.duplicate only applies to netem faults");
		s = make(NC_FAULT_CORRUPT);
		s.netem.rate_bps = 8000;
		invalid(&s, "netem.rate_bps");
		s = make(NC_FAULT_DELAY);
		s.netem.loss_model.model = NC_NETEM_LOSS_GE;
		s.netem.loss_model.p[NC_GE_P] = 1;
		invalid(&s, "--model only applies to loss");
		s = make(NC_FAULT_PARTITION);
		s.netem.loss_model.model = NC_NETEM_LOSS_GI;
		invalid(&s, "--model only applies to loss");
	}
}

/* ---- Docker targets ---- */

static void test_docker_targets(void **state)
{
	struct nc_rule_spec s = make(NC_FAULT_DELAY);
	int i;

	strcpy(s.containers[s.n_containers++], "mysql");
	valid(&s);
	strcpy(s.containers[s.n_containers++], "4f2a9c1b0d3e");
	strcpy(s.labels[s.n_labels++], "tier=cache");
	strcpy(s.labels[s.n_labels++], "com.example.team=a b,c"); /* values are free */
	strcpy(s.services[s.n_services++], "api_v2.1-x");
	valid(&s);

	strcpy(s.containers[1], "-web");
	invalid(&s, "--container: invalid container name '-web'");
	strcpy(s.containers[1], "web/1");
	invalid(&s, "invalid container name");
	strcpy(s.containers[1], "");
	invalid(&s, "invalid container name ''");
	memset(s.containers[1], 'c', NC_CONTAINER_REF_MAX); /* no terminator */
	invalid(&s, "--container: name is too long (at most 127 characters)");
	strcpy(s.containers[1], "web");
	valid(&s);

	strcpy(s.labels[0], "tier");
	invalid(&s, "--label: invalid label 'tier' (use KEY=VALUE");
	strcpy(s.labels[0], "=cache");
	invalid(&s, "invalid label");
	strcpy(s.labels[0], "ti er=cache");
	invalid(&s, "invalid label");
	strcpy(s.labels[0], "tier=ca\nche");
	invalid(&s, "invalid label");
	strcpy(s.labels[0], "tier=");
	valid(&s); /* an empty value is a value */

	strcpy(s.services[0], "api:1");
	invalid(&s, "--service: invalid service name 'api:1'");
	strcpy(s.services[0], "api");

	/* the containers pick the namespace */
	strcpy(s.netns, "blue");
	invalid(&s, "cannot be combined with --netns");
	s.netns[0] = '\0';

	s = make(NC_FAULT_DROP);
	for (i = 0; i < NC_RULE_MAX_CONTAINERS; i++)
		snprintf(s.services[s.n_services++], NC_CONTAINER_REF_MAX, "s%d", i);
	valid(&s);
	s.n_services++;
	invalid(&s, "too many --service values");

	/* --allow-host-network goes with containers */
	s = make(NC_FAULT_LOSS);
	s.allow_host_network = true;
	invalid(&s, "--allow-host-network only applies to containers");
	strcpy(s.labels[s.n_labels++], "net=host");
	valid(&s);
}

/* ---- partition groups ---- */

static void test_groups_valid(void **state)
{
	struct nc_rule_spec s;

	s = make_groups();
	valid(&s);
	s.one_way = true;
	valid(&s);

	/* --group web --group host: the container cut off from the host */
	nc_spec_init(&s);
	s.kind = NC_FAULT_PARTITION;
	add_member(&s, 0, "web");
	add_member(&s, 1, "host");
	valid(&s);

	/* --group web --group 10.0.0.0/8 --one-way */
	nc_spec_init(&s);
	s.kind = NC_FAULT_PARTITION;
	add_member(&s, 0, "web");
	add_member(&s, 1, "10.0.0.0/8");
	s.one_way = true;
	valid(&s);

	/* every member kind, four groups, with filters and a duration */
	nc_spec_init(&s);
	s.kind = NC_FAULT_PARTITION;
	add_member(&s, 0, "label:tier=web");
	add_member(&s, 1, "service:db");
	add_member(&s, 1, "fd00::/64");
	add_member(&s, 2, "host");
	add_member(&s, 3, "container:host");
	add_port(&s, NC_PORT_DST, 5432, 5432);
	s.proto_mask = NC_PROTO_TCP;
	s.duration_ms = 120000;
	s.allow_host_network = true;
	valid(&s);
}

static void test_groups_rules(void **state)
{
	struct nc_rule_spec s;
	int i;

	/* groups only with partition */
	s = make(NC_FAULT_DROP);
	add_member(&s, 0, "web");
	add_member(&s, 1, "db");
	invalid(&s, "--group only applies to partition, not drop");
	s = make(NC_FAULT_DELAY);
	add_member(&s, 0, "web");
	add_member(&s, 1, "db");
	invalid(&s, "--group only applies to partition");

	/* partition needs --ip peers or two groups */
	nc_spec_init(&s);
	s.kind = NC_FAULT_PARTITION;
	invalid(&s, "partition needs at least one peer address (--ip) or two groups");
	add_member(&s, 0, "web");
	invalid(&s, "two or more --group");
	add_member(&s, 1, "db");
	valid(&s);

	/* --one-way only with groups */
	s = make(NC_FAULT_PARTITION);
	s.one_way = true;
	invalid(&s, "--one-way only applies to partition --group");

	/* groups exclude --ip, --netns, --direction and --container & co */
	s = make_groups();
	add_cidr(&s, "10.0.0.0/8");
	invalid(&s, "--ip or its sides with --group, not both");
	s = make_groups();
	strcpy(s.netns, "blue");
	invalid(&s, "--netns cannot be combined with --group");
	s = make_groups();
	s.dir_mask = NC_DIR_EGRESS;
	invalid(&s, "use --one-way");
	s = make_groups();
	strcpy(s.containers[s.n_containers++], "web");
	invalid(&s, "name the containers in the groups");

	/* sizes */
	s = make_groups();
	s.groups[1].n_members = 0;
	invalid(&s, "group 2 is empty");
	s = make_groups();
	for (i = 0; i < NC_GROUP_MAX_MEMBERS - 1; i++) {
		char name[16];

		snprintf(name, sizeof(name), "db%d", i);
		add_member(&s, 1, name);
	}
	valid(&s);
	s.groups[1].n_members++;
	invalid(&s, "too many members in group 2");
	s = make_groups();
	add_member(&s, 2, "c");
	add_member(&s, 3, "d");
	valid(&s);
	s.n_groups = NC_MAX_GROUPS + 1;
	invalid(&s, "too many groups");

	/* host once; no member on two sides */
	s = make_groups();
	add_member(&s, 0, "host");
	add_member(&s, 1, "host");
	invalid(&s, "group member 'host' may appear only once");
	s = make_groups();
	add_member(&s, 1, "api");
	invalid(&s, "group member 'api' is given twice");
	s = make_groups();
	add_member(&s, 0, "10.1.0.0/16");
	add_member(&s, 1, "10.1.0.0/16");
	invalid(&s, "'10.1.0.0/16' is given twice");
	s = make_groups();
	add_member(&s, 0, "10.1.0.0/16");
	add_member(&s, 1, "10.1.0.0/24"); /* overlapping is not the same */
	valid(&s);

	/* members checked like the options */
	s = make_groups();
	s.groups[0].members[0].kind = 0;
	invalid(&s, "invalid group member kind");
	s = make_groups();
	strcpy(s.groups[0].members[1].ref, "a b");
	invalid(&s, "--group: invalid container name 'a b'");
	s = make_groups();
	add_member(&s, 1, "10.0.0.0/8");
	s.groups[1].members[1].cidr.addr[3] = 1;
	invalid(&s, "host bits");

	/* --allow-host-network needs a container among the members */
	nc_spec_init(&s);
	s.kind = NC_FAULT_PARTITION;
	add_member(&s, 0, "host");
	add_member(&s, 1, "10.0.0.0/8");
	valid(&s);
	s.allow_host_network = true;
	invalid(&s, "--allow-host-network only applies to containers");
	add_member(&s, 1, "service:db");
	valid(&s);
}

static void member(const char *text, uint8_t kind, const char *ref, const char *back)
{
	struct nc_group_member m;
	char buf[NC_CONTAINER_REF_MAX + 16];

	memset(&m, 0xa5, sizeof(m));
	if (nc_group_member_parse(text, &m, err, sizeof(err)))
		fail_msg("member '%s' refused: %s", text, err);
	assert_int_equal(m.kind, kind);
	assert_string_equal(m.ref, ref);
	nc_group_member_format(&m, buf, sizeof(buf));
	assert_string_equal(buf, back);
}

static void member_bad(const char *text, const char *word)
{
	struct nc_group_member m;

	err[0] = '\0';
	assert_int_equal(nc_group_member_parse(text, &m, err, sizeof(err)), -EINVAL);
	if (!strstr(err, word))
		fail_msg("'%s': error \"%s\" lacks \"%s\"", text, err, word);
	assert_null(strchr(err, '\n'));
}

static void test_group_members(void **state)
{
	struct nc_group_member m;
	static const uint8_t zero[20];

	member("web", NC_MEMBER_CONTAINER, "web", "web");
	member("4f2a9c1b0d3e", NC_MEMBER_CONTAINER, "4f2a9c1b0d3e", "4f2a9c1b0d3e");
	member("db.cafe", NC_MEMBER_CONTAINER, "db.cafe", "db.cafe");
	member("container:web", NC_MEMBER_CONTAINER, "web", "web");
	/* a container called host, or like an address, keeps its prefix */
	member("container:host", NC_MEMBER_CONTAINER, "host", "container:host");
	member("container:1.2", NC_MEMBER_CONTAINER, "1.2", "container:1.2");
	member("host", NC_MEMBER_HOST, "", "host");
	member("label:tier=cache", NC_MEMBER_LABEL, "tier=cache", "label:tier=cache");
	member("label:a=b=c", NC_MEMBER_LABEL, "a=b=c", "label:a=b=c");
	member("service:api", NC_MEMBER_SERVICE, "api", "service:api");
	member("10.0.0.0/8", NC_MEMBER_CIDR, "", "10.0.0.0/8");
	member("192.168.1.7", NC_MEMBER_CIDR, "", "192.168.1.7");
	member("fd00::/64", NC_MEMBER_CIDR, "", "fd00::/64");
	member("fd00::1", NC_MEMBER_CIDR, "", "fd00::1");

	assert_int_equal(nc_group_member_parse("10.0.0.0/8", &m, NULL, 0), 0);
	assert_int_equal(m.cidr.family, 4);
	assert_int_equal(m.cidr.prefixlen, 8);
	assert_int_equal(m.cidr.addr[0], 10);
	assert_int_equal(nc_group_member_parse("web", &m, NULL, 0), 0);
	assert_memory_equal(&m.cidr, zero, sizeof(m.cidr)); /* every byte set */

	member_bad("", "empty group member");
	member_bad("10.0.0.300", "invalid IP address '10.0.0.300'");
	member_bad("10.1.2.3/24", "did you mean 10.1.2.0/24?");
	member_bad("fd00::zz", "invalid IP address");
	member_bad("web/1", "invalid IP address");
	member_bad("lable:x=y", "unknown group member 'lable:x=y'");
	member_bad("label:tier", "invalid label 'tier'");
	member_bad("service:", "invalid service name ''");
	member_bad("container:", "invalid container name ''");
	member_bad("-web", "invalid container name '-web'");
	member_bad("we b", "invalid container name");
	assert_int_equal(nc_group_member_parse(NULL, &m, NULL, 0), -EINVAL);
}

static void test_loss_model_names(void **state)
{
	int m = -1;

	assert_int_equal(nc_loss_model_parse("gemodel", &m, err, sizeof(err)), 0);
	assert_int_equal(m, NC_NETEM_LOSS_GE);
	assert_int_equal(nc_loss_model_parse("4state", &m, err, sizeof(err)), 0);
	assert_int_equal(m, NC_NETEM_LOSS_GI);
	assert_int_equal(nc_loss_model_parse("state", &m, err, sizeof(err)), 0); /* tc's word */
	assert_int_equal(m, NC_NETEM_LOSS_GI);
	assert_int_equal(nc_loss_model_parse("random", &m, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "unknown loss model 'random' (expected gemodel or 4state)");
	assert_int_equal(nc_loss_model_parse(NULL, &m, NULL, 0), -EINVAL);
	assert_string_equal(nc_loss_model_name(NC_NETEM_LOSS_GE), "gemodel");
	assert_string_equal(nc_loss_model_name(NC_NETEM_LOSS_GI), "4state");
	assert_string_equal(nc_loss_model_name(NC_NETEM_LOSS_RANDOM), "random");
	assert_string_equal(nc_loss_model_name(99), "unknown");
}

static void test_describe_target(void **state)
{
	struct nc_rule_spec s = make(NC_FAULT_LOSS);
	char buf[512];

	nc_spec_describe_target(&s, buf, sizeof(buf));
	assert_string_equal(buf, "all traffic");

	add_port(&s, NC_PORT_EITHER, 5000, 5000);
	nc_spec_describe_target(&s, buf, sizeof(buf));
	assert_string_equal(buf, "port 5000");

	s.proto_mask = NC_PROTO_TCP;
	add_cidr(&s, "10.0.0.0/8");
	nc_spec_describe_target(&s, buf, sizeof(buf));
	assert_string_equal(buf, "port 5000 proto tcp ip 10.0.0.0/8");

	add_port(&s, NC_PORT_DST, 53, 53);
	add_port(&s, NC_PORT_EITHER, 8000, 8080);
	add_port(&s, NC_PORT_SRC, 1000, 2000);
	s.proto_mask |= NC_PROTO_UDP | NC_PROTO_ICMP;
	add_cidr(&s, "fd00::1");
	strcpy(s.ifaces[s.n_ifaces++], "eth0");
	strcpy(s.ifaces[s.n_ifaces++], "lo");
	strcpy(s.netns, "blue");
	s.dir_mask = NC_DIR_INGRESS;
	nc_spec_describe_target(&s, buf, sizeof(buf));
	assert_string_equal(buf, "port 5000,8000-8080 sport 1000-2000 dport 53 "
				 "proto tcp,udp,icmp ip 10.0.0.0/8,fd00::1 iface eth0,lo "
				 "netns blue direction ingress");

	s = make(NC_FAULT_DROP);
	s.dir_mask = NC_DIR_EGRESS;
	nc_spec_describe_target(&s, buf, sizeof(buf));
	assert_string_equal(buf, "direction egress");

	/* Docker targets first: where the fault acts */
	s = make(NC_FAULT_DELAY);
	strcpy(s.containers[s.n_containers++], "mysql");
	add_port(&s, NC_PORT_EITHER, 3306, 3306);
	nc_spec_describe_target(&s, buf, sizeof(buf));
	assert_string_equal(buf, "container mysql port 3306");
	strcpy(s.containers[s.n_containers++], "web");
	strcpy(s.labels[s.n_labels++], "tier=cache");
	strcpy(s.services[s.n_services++], "api");
	s.allow_host_network = true;
	nc_spec_describe_target(&s, buf, sizeof(buf));
	assert_string_equal(buf, "container mysql,web label tier=cache service api port 3306 "
				 "allow-host-network");

	/* a netem fault's default direction is not "both": say it when given */
	s = make(NC_FAULT_DELAY);
	nc_spec_describe_target(&s, buf, sizeof(buf));
	assert_string_equal(buf, "all traffic");
	s.dir_mask = NC_DIR_BOTH;
	nc_spec_describe_target(&s, buf, sizeof(buf));
	assert_string_equal(buf, "direction both");
	s = make(NC_FAULT_DROP);
	s.dir_mask = NC_DIR_BOTH;
	nc_spec_describe_target(&s, buf, sizeof(buf));
	assert_string_equal(buf, "all traffic");

	/* groups */
	s = make_groups();
	nc_spec_describe_target(&s, buf, sizeof(buf));
	assert_string_equal(buf, "groups web,api | db");
	s.one_way = true;
	add_member(&s, 2, "10.0.0.0/8");
	add_member(&s, 2, "label:a=b");
	nc_spec_describe_target(&s, buf, sizeof(buf));
	assert_string_equal(buf, "groups web,api -> db | 10.0.0.0/8,label:a=b");
	s = make_groups();
	add_port(&s, NC_PORT_DST, 5432, 5432);
	nc_spec_describe_target(&s, buf, sizeof(buf));
	assert_string_equal(buf, "groups web,api | db dport 5432");

	/* A short buffer is cut and terminated, never overrun. */
	s = make(NC_FAULT_PARTITION);
	memset(buf, 'X', sizeof(buf));
	nc_spec_describe_target(&s, buf, 6);
	assert_string_equal(buf, "ip 10");
	assert_int_equal(buf[6], 'X');
}

static void test_describe_fault(void **state)
{
	struct nc_rule_spec s;
	char buf[64];

	s = make(NC_FAULT_LOSS);
	nc_spec_describe_fault(&s, buf, sizeof(buf));
	assert_string_equal(buf, "loss 30%");
	s = make(NC_FAULT_CORRUPT);
	assert_int_equal(nc_parse_percent("0.1%", &s.prob), 0);
	nc_spec_describe_fault(&s, buf, sizeof(buf));
	assert_string_equal(buf, "corrupt 0.1%");
	s.payload = true;
	nc_spec_describe_fault(&s, buf, sizeof(buf));
	assert_string_equal(buf, "corrupt 0.1% (payload)");
	s = make(NC_FAULT_DROP);
	nc_spec_describe_fault(&s, buf, sizeof(buf));
	assert_string_equal(buf, "drop");
	s = make(NC_FAULT_PARTITION);
	nc_spec_describe_fault(&s, buf, sizeof(buf));
	assert_string_equal(buf, "partition");
}

static void describes(const struct nc_rule_spec *s, const char *want)
{
	char buf[NC_DESCRIBE_FAULT_MAX];

	nc_spec_describe_fault(s, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void test_describe_netem_fault(void **state)
{
	struct nc_rule_spec s;
	char small[12];

	s = make(NC_FAULT_DELAY);
	s.netem.latency_ns = 200 * MS;
	describes(&s, "delay 200ms");
	s.netem.latency_ns = 100 * MS;
	s.netem.jitter_ns = 20 * MS;
	s.netem.latency_corr = pct("25%");
	s.netem.dist = NC_NETEM_DIST_NORMAL;
	describes(&s, "delay 100ms jitter 20ms 25% normal");
	s.netem.limit = 5000;
	describes(&s, "delay 100ms jitter 20ms 25% normal limit 5000");
	s.netem.latency_ns = 1500000;
	s.netem.jitter_ns = 0;
	s.netem.latency_corr = 0;
	s.netem.dist = 0;
	s.netem.limit = 0;
	describes(&s, "delay 1.5ms");

	s = make(NC_FAULT_DUPLICATE);
	describes(&s, "duplicate 5%");
	s.netem.dup_corr = pct("25%");
	describes(&s, "duplicate 5% 25%");

	s = make(NC_FAULT_REORDER);
	describes(&s, "reorder 25% delay 10ms");
	s.netem.gap = 5;
	s.netem.reorder_corr = pct("50%");
	describes(&s, "reorder 25% 50% gap 5 delay 10ms");

	s = make(NC_FAULT_RATE);
	describes(&s, "rate 1Mbit");
	s.netem.packet_overhead = -4;
	s.netem.latency_ns = 50 * MS;
	describes(&s, "rate 1Mbit overhead -4 delay 50ms");

	/* loss models in tc's order, trailing defaults left out */
	s = make_gemodel(4);
	describes(&s, "loss gemodel 1% 10% 70% 0.1%");
	s = make_gemodel(2);
	describes(&s, "loss gemodel 1% 10%");
	s = make_gemodel(1);
	describes(&s, "loss gemodel 1%");
	s.netem.ecn = true;
	describes(&s, "loss gemodel 1% ecn");
	s = make(NC_FAULT_LOSS);
	s.prob = 0;
	nc_netem_set_gimodel(&s.netem, (uint32_t[]){ pct("1%"), pct("30%") }, 2);
	describes(&s, "loss 4state 1% 30%");
	nc_netem_set_gimodel(&s.netem, (uint32_t[]){ pct("1%"), pct("99%") }, 2);
	describes(&s, "loss 4state 1%"); /* p31 = 100% - p13 is tc's default */

	/* cut, terminated */
	s = make(NC_FAULT_DELAY);
	s.netem.jitter_ns = 20 * MS;
	memset(small, 'X', sizeof(small));
	nc_spec_describe_fault(&s, small, 8);
	assert_string_equal(small, "delay 1");
	assert_int_equal(small[8], 'X');
}

static void test_ifname_valid(void **state)
{
	assert_true(nc_ifname_valid("eth0"));
	assert_true(nc_ifname_valid("lo"));
	assert_true(nc_ifname_valid("br-1a2b.10"));
	assert_true(nc_ifname_valid("abcdefghijklmno"));
	assert_false(nc_ifname_valid("abcdefghijklmnop"));
	assert_false(nc_ifname_valid(""));
	assert_false(nc_ifname_valid("."));
	assert_false(nc_ifname_valid(".."));
	assert_false(nc_ifname_valid("a/b"));
	assert_false(nc_ifname_valid("a:b"));
	assert_false(nc_ifname_valid("a b"));
	assert_false(nc_ifname_valid("a\nb"));
}

static void test_change_fault(void **state)
{
	struct nc_rule_spec rule, fault, before;

	nc_spec_init(&rule);
	rule.kind = NC_FAULT_DELAY;
	rule.netem.latency_ns = 200000000ull;
	rule.netem.jitter_ns = 5000000ull;
	rule.n_ports = 1;
	rule.ports[0] = (struct nc_port_spec){ .kind = NC_PORT_DST, .lo = 3306, .hi = 3306 };
	rule.dir_mask = NC_DIR_BOTH;
	rule.duration_ms = 60000;

	nc_spec_init(&fault);
	fault.kind = NC_FAULT_DELAY;
	fault.netem.latency_ns = 300000000ull;
	assert_int_equal(nc_spec_change_fault(&rule, &fault, err, sizeof(err)), 0);
	assert_int_equal(rule.netem.latency_ns, 300000000ull);
	assert_int_equal(rule.netem.jitter_ns, 0); /* replaced, not merged */
	assert_int_equal(rule.ports[0].lo, 3306);	 /* target kept */
	assert_int_equal(rule.dir_mask, NC_DIR_BOTH);
	assert_int_equal(rule.duration_ms, 60000);

	before = rule;
	fault.kind = NC_FAULT_LOSS;
	fault.prob = 5;
	assert_int_equal(nc_spec_change_fault(&rule, &fault, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "keeps a rule's kind"));
	assert_memory_equal(&rule, &before, sizeof(rule));

	rule.kind = NC_FAULT_LOSS;
	memset(&rule.netem, 0, sizeof(rule.netem));
	rule.prob = 10;
	before = rule;
	fault.netem.loss_model.model = NC_NETEM_LOSS_GE;
	assert_int_equal(nc_spec_change_fault(&rule, &fault, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "loss model"));
	assert_memory_equal(&rule, &before, sizeof(rule));
}

static void test_effective_direction(void **state)
{
	struct nc_rule_spec in, out;

	nc_spec_init(&in);
	in.kind = NC_FAULT_LOSS;
	nc_spec_effective(&in, &out);
	assert_int_equal(out.dir_mask, NC_DIR_BOTH);
	in.kind = NC_FAULT_DELAY;
	nc_spec_effective(&in, &out);
	assert_int_equal(out.dir_mask, NC_DIR_EGRESS);
	in.n_ports = 2;
	in.ports[0] = (struct nc_port_spec){ .kind = NC_PORT_EITHER, .lo = 80, .hi = 80 };
	in.ports[1] = (struct nc_port_spec){ .kind = NC_PORT_SRC, .lo = 90, .hi = 90 };
	nc_spec_effective(&in, &out);
	assert_int_equal(out.dir_mask, NC_DIR_BOTH);
	assert_int_equal(out.ports[0].kind, NC_PORT_DST);
	assert_int_equal(out.ports[1].kind, NC_PORT_SRC);
	in.dir_mask = NC_DIR_INGRESS; /* given: kept as it is */
	nc_spec_effective(&in, &out);
	assert_int_equal(out.dir_mask, NC_DIR_INGRESS);
	assert_int_equal(out.ports[0].kind, NC_PORT_EITHER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_change_fault),
		cmocka_unit_test(test_effective_direction),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_each_kind_valid),
		cmocka_unit_test(test_kind),
		cmocka_unit_test(test_probability),
		cmocka_unit_test(test_partition_needs_peer),
		cmocka_unit_test(test_payload_only_corrupt),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_direction),
		cmocka_unit_test(test_protocols),
		cmocka_unit_test(test_ports_with_icmp),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_cidrs),
		cmocka_unit_test(test_ifaces),
		cmocka_unit_test(test_netns),
		cmocka_unit_test(test_is_netem),
		cmocka_unit_test(test_netem_needs_value),
		cmocka_unit_test(test_netem_cross_field),
		cmocka_unit_test(test_netem_options_on_bpf_faults),
		cmocka_unit_test(test_docker_targets),
		cmocka_unit_test(test_groups_valid),
		cmocka_unit_test(test_groups_rules),
		cmocka_unit_test(test_group_members),
		cmocka_unit_test(test_loss_model_names),
		cmocka_unit_test(test_describe_target),
		cmocka_unit_test(test_describe_fault),
		cmocka_unit_test(test_describe_netem_fault),
		cmocka_unit_test(test_ifname_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
