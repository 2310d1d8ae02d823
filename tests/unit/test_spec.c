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
#include <string.h>
#include <cmocka.h>

#include "spec.h"
#include "units.h"

static char err[256];

static void add_port(struct nc_rule_spec *s, uint8_t kind, uint16_t lo, uint16_t hi)
{
	s->ports[s->n_ports++] = (struct nc_port_spec){ .kind = kind, .lo = lo, .hi = hi };
}

static void add_cidr(struct nc_rule_spec *s, const char *text)
{
	assert_int_equal(nc_parse_cidr(text, &s->cidrs[s->n_cidrs]), 0);
	s->n_cidrs++;
}

static struct nc_rule_spec make(enum nc_fault_kind kind)
{
	struct nc_rule_spec s;

	nc_spec_init(&s);
	s.kind = kind;
	if (kind == NC_FAULT_LOSS || kind == NC_FAULT_CORRUPT)
		assert_int_equal(nc_parse_percent("30%", &s.prob), 0);
	if (kind == NC_FAULT_PARTITION)
		add_cidr(&s, "10.0.0.0/8");
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
	assert_int_equal(s.dir_mask, NC_DIR_BOTH);
	assert_int_equal(s.duration_ms, NC_DEFAULT_DURATION_MS);
	assert_int_equal(s.duration_ms, 5 * 60 * 1000);
	assert_int_equal(s.n_ports + s.n_cidrs + s.n_ifaces + s.proto_mask + s.prob, 0);
	assert_false(s.payload || s.dry_run || s.force);
	assert_string_equal(s.netns, "");
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

	s.dir_mask = 0;
	invalid(&s, "direction");
	s.dir_mask = 4;
	invalid(&s, "direction");
	s.dir_mask = NC_DIR_BOTH | 8;
	invalid(&s, "direction");
	s.dir_mask = NC_DIR_EGRESS;
	valid(&s);
	s.dir_mask = NC_DIR_INGRESS;
	valid(&s);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
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
		cmocka_unit_test(test_describe_target),
		cmocka_unit_test(test_describe_fault),
		cmocka_unit_test(test_ifname_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
