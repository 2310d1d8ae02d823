// SPDX-License-Identifier: GPL-2.0-only
/*
 * lib/proto_json.c: framing (size, JSON, object, version, cmd/ok), the exact
 * field names of proto.h, spec encode -> serialize -> parse -> decode round
 * trips, strict decoding of requests and tolerant decoding of rule objects.
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

#include "netem.h"
#include "proto_json.h"
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

static void add_member(struct nc_rule_spec *s, unsigned int group, const char *text)
{
	struct nc_group *g = &s->groups[group];

	assert_int_equal(nc_group_member_parse(text, &g->members[g->n_members], err, sizeof(err)), 0);
	g->n_members++;
	if (s->n_groups < group + 1)
		s->n_groups = (uint8_t)(group + 1);
}

/* The line contains this exact text. */
static void has(const char *line, const char *text)
{
	if (!strstr(line, text))
		fail_msg("%s\nlacks %s", line, text);
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

/* Every field set; ports listed kind by kind, the order the wire keeps. */
static struct nc_rule_spec full_spec(void)
{
	struct nc_rule_spec s;

	nc_spec_init(&s);
	s.kind = NC_FAULT_CORRUPT;
	assert_int_equal(nc_parse_percent("0.1%", &s.prob), 0);
	s.payload = true;
	s.duration_ms = 90500;
	s.dir_mask = NC_DIR_EGRESS;
	s.proto_mask = NC_PROTO_TCP | NC_PROTO_UDP;
	add_port(&s, NC_PORT_EITHER, 80, 80);
	add_port(&s, NC_PORT_EITHER, 1000, 2000);
	add_port(&s, NC_PORT_SRC, 5000, 5000);
	add_port(&s, NC_PORT_DST, 53, 53);
	add_port(&s, NC_PORT_DST, 1, 65535);
	add_cidr(&s, "10.0.0.0/8");
	add_cidr(&s, "192.168.1.7");
	add_cidr(&s, "fd00::/64");
	add_cidr(&s, "2001:db8::1");
	strcpy(s.ifaces[s.n_ifaces++], "eth0");
	strcpy(s.ifaces[s.n_ifaces++], "veth-a");
	strcpy(s.netns, "/run/netns/blue");
	s.dry_run = true;
	s.force = true;
	return s;
}

/* Encode as an add request, serialize, parse, decode. */
static int round_trip(const struct nc_rule_spec *in, struct nc_rule_spec *out, char **line_out)
{
	json_object *req = nc_request_new(NC_CMD_ADD), *msg;
	size_t len;
	char *line;
	int ret;

	assert_non_null(req);
	assert_int_equal(nc_spec_to_json(in, req), 0);
	line = nc_msg_serialize(req, &len);
	json_object_put(req);
	assert_non_null(line);
	assert_int_equal(strlen(line), len);
	assert_int_equal(line[len - 1], '\n');
	assert_ptr_equal(strchr(line, '\n'), line + len - 1); /* one line */
	assert_int_equal(nc_request_parse(line, len, &msg, err, sizeof(err)), 0);
	memset(out, 0xa5, sizeof(*out)); /* decoding must set every byte */
	ret = nc_spec_from_json(msg, out, err, sizeof(err));
	json_object_put(msg);
	if (line_out)
		*line_out = line;
	else
		free(line);
	return ret;
}

static void test_round_trip_full(void **state)
{
	struct nc_rule_spec in = full_spec(), out;
	char *line;

	assert_int_equal(round_trip(&in, &out, &line), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	assert_int_equal(nc_spec_validate(&out, err, sizeof(err)), 0);

	/* Field names and shapes exactly as proto.h documents them. */
	assert_non_null(strstr(line, "\"v\":1"));
	assert_non_null(strstr(line, "\"cmd\":\"add\""));
	assert_non_null(strstr(line, "\"fault\":{\"kind\":\"corrupt\",\"percent\":0.1,\"payload\":true}"));
	assert_non_null(strstr(line, "\"ports\":[\"80\",\"1000-2000\"]"));
	assert_non_null(strstr(line, "\"sports\":[\"5000\"]"));
	assert_non_null(strstr(line, "\"dports\":[\"53\",\"1-65535\"]"));
	assert_non_null(strstr(line, "\"protos\":[\"tcp\",\"udp\"]"));
	assert_non_null(strstr(line, "\"ips\":[\"10.0.0.0/8\",\"192.168.1.7\",\"fd00::/64\",\"2001:db8::1\"]"));
	assert_non_null(strstr(line, "\"ifaces\":[\"eth0\",\"veth-a\"]"));
	assert_non_null(strstr(line, "\"netns\":\"/run/netns/blue\""));
	assert_non_null(strstr(line, "\"direction\":\"egress\""));
	assert_non_null(strstr(line, "\"duration_ms\":90500"));
	assert_non_null(strstr(line, "\"dry_run\":true"));
	assert_non_null(strstr(line, "\"force\":true"));
	free(line);
}

static void test_round_trip_each_kind(void **state)
{
	static const char *const percents[] = { "30%", "100%", "0.0001%", "33.333%", "1%" };
	struct nc_rule_spec in, out;
	char *line;
	size_t i;

	nc_spec_init(&in);
	in.kind = NC_FAULT_DROP;
	assert_int_equal(round_trip(&in, &out, &line), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	/* drop has no percentage; an empty target is all traffic, and a
	 * direction not given is not sent */
	assert_null(strstr(line, "percent"));
	assert_null(strstr(line, "netem"));
	assert_non_null(strstr(line, "\"target\":{}"));
	assert_non_null(strstr(line, "\"duration_ms\":300000"));
	free(line);

	nc_spec_init(&in);
	in.kind = NC_FAULT_PARTITION;
	add_cidr(&in, "fd00::/8");
	in.dir_mask = NC_DIR_INGRESS;
	assert_int_equal(round_trip(&in, &out, NULL), 0);
	assert_memory_equal(&in, &out, sizeof(in));

	for (i = 0; i < sizeof(percents) / sizeof(percents[0]); i++) {
		nc_spec_init(&in);
		in.kind = NC_FAULT_LOSS;
		assert_int_equal(nc_parse_percent(percents[i], &in.prob), 0);
		add_port(&in, NC_PORT_EITHER, 5000, 5000);
		assert_int_equal(round_trip(&in, &out, &line), 0);
		assert_memory_equal(&in, &out, sizeof(in));
		free(line);
	}

	/* The percentage is a JSON number, written the way people write it. */
	nc_spec_init(&in);
	in.kind = NC_FAULT_LOSS;
	assert_int_equal(nc_parse_percent("30%", &in.prob), 0);
	assert_int_equal(round_trip(&in, &out, &line), 0);
	assert_non_null(strstr(line, "\"percent\":30,") ?: strstr(line, "\"percent\":30}"));
	free(line);
}

/* ---- decoding hand-written requests ---- */

static int decode(const char *text, struct nc_rule_spec *spec)
{
	json_object *msg;
	int ret;

	err[0] = '\0';
	ret = nc_request_parse(text, strlen(text), &msg, err, sizeof(err));
	if (ret)
		fail_msg("request refused by the parser: %s", err);
	ret = nc_spec_from_json(msg, spec, err, sizeof(err));
	json_object_put(msg);
	assert_null(strchr(err, '\n'));
	return ret;
}

#define ADD(fields) "{\"v\":1,\"cmd\":\"add\"," fields "}"

/* The request is refused with exactly this message. */
static void refused(const char *text, const char *message)
{
	struct nc_rule_spec spec;

	assert_int_equal(decode(text, &spec), -EINVAL);
	assert_string_equal(err, message);
}

static void test_decode_documented_shape(void **state)
{
	struct nc_rule_spec s;

	assert_int_equal(decode(ADD("\"fault\":{\"kind\":\"loss\",\"percent\":30},"
				    "\"target\":{\"ports\":[\"80\",\"1000-2000\"],\"sports\":[\"22\"],"
				    "\"dports\":[\"53\"],\"protos\":[\"tcp\",\"udp\",\"icmp\"],"
				    "\"ips\":[\"10.0.0.0/8\",\"fd00::/64\"],\"ifaces\":[\"eth0\"],"
				    "\"netns\":\"blue\",\"direction\":\"both\"},"
				    "\"duration_ms\":120000,\"dry_run\":false,\"force\":false"),
				&s),
			 0);
	assert_int_equal(s.kind, NC_FAULT_LOSS);
	assert_int_equal(s.prob, 1288490189u);
	assert_int_equal(s.n_ports, 4);
	assert_int_equal(s.ports[1].kind, NC_PORT_EITHER);
	assert_int_equal(s.ports[1].lo, 1000);
	assert_int_equal(s.ports[1].hi, 2000);
	assert_int_equal(s.ports[2].kind, NC_PORT_SRC);
	assert_int_equal(s.ports[3].kind, NC_PORT_DST);
	assert_int_equal(s.proto_mask, NC_PROTO_TCP | NC_PROTO_UDP | NC_PROTO_ICMP);
	assert_int_equal(s.n_cidrs, 2);
	assert_int_equal(s.cidrs[1].family, 6);
	assert_int_equal(s.n_ifaces, 1);
	assert_string_equal(s.ifaces[0], "eth0");
	assert_string_equal(s.netns, "blue");
	assert_int_equal(s.dir_mask, NC_DIR_BOTH); /* given */
	assert_int_equal(s.duration_ms, 120000);

	/* Decimal percentages; only the fault is required. */
	assert_int_equal(decode(ADD("\"fault\":{\"kind\":\"corrupt\",\"percent\":0.1,\"payload\":true}"),
				&s),
			 0);
	assert_int_equal(s.prob, 4294967u);
	assert_true(s.payload);
	assert_int_equal(s.dir_mask, 0); /* not given: the agent picks */
	assert_int_equal(s.duration_ms, NC_DEFAULT_DURATION_MS);
	assert_int_equal(s.n_ports + s.n_cidrs + s.n_ifaces + s.proto_mask, 0);

	/* The envelope may also be stripped by the caller. */
	{
		json_object *obj = json_tokener_parse("{\"fault\":{\"kind\":\"drop\"}}");

		assert_int_equal(nc_spec_from_json(obj, &s, err, sizeof(err)), 0);
		assert_int_equal(s.kind, NC_FAULT_DROP);
		json_object_put(obj);
	}
}

static void test_decode_unknown_fields(void **state)
{
	refused(ADD("\"fault\":{\"kind\":\"drop\"},\"target\":{\"x\":1}"),
		"unknown field 'x' in target");
	refused(ADD("\"fault\":{\"kind\":\"drop\"},\"target\":{\"port\":[\"80\"]}"),
		"unknown field 'port' in target");
	refused(ADD("\"fault\":{\"kind\":\"drop\",\"delay_ms\":5}"),
		"unknown field 'delay_ms' in fault");
	refused(ADD("\"fault\":{\"kind\":\"drop\"},\"bogus\":1"), "unknown field 'bogus' in request");
}

static void test_decode_wrong_types(void **state)
{
	refused(ADD("\"fault\":\"drop\""), "fault must be an object, not string");
	refused(ADD("\"fault\":{\"kind\":3}"), "fault.kind must be a string, not int");
	refused(ADD("\"fault\":{\"kind\":\"loss\",\"percent\":\"30%\"}"),
		"fault.percent must be a number, not string");
	refused(ADD("\"fault\":{\"kind\":\"loss\",\"percent\":null}"),
		"fault.percent must be a number, not null");
	refused(ADD("\"fault\":{\"kind\":\"corrupt\",\"percent\":1,\"payload\":1}"),
		"fault.payload must be a boolean, not int");
	refused(ADD("\"fault\":{\"kind\":\"drop\"},\"target\":[]"),
		"target must be an object, not array");
	refused(ADD("\"fault\":{\"kind\":\"drop\"},\"target\":{\"ports\":\"80\"}"),
		"target.ports must be an array, not string");
	refused(ADD("\"fault\":{\"kind\":\"drop\"},\"target\":{\"dports\":[\"53\",53]}"),
		"target.dports[1] must be a string, not int");
	refused(ADD("\"fault\":{\"kind\":\"drop\"},\"target\":{\"ips\":[{}]}"),
		"target.ips[0] must be a string, not object");
	refused(ADD("\"fault\":{\"kind\":\"drop\"},\"target\":{\"netns\":[\"a\"]}"),
		"target.netns must be a string, not array");
	refused(ADD("\"fault\":{\"kind\":\"drop\"},\"target\":{\"direction\":true}"),
		"target.direction must be a string, not boolean");
	refused(ADD("\"fault\":{\"kind\":\"drop\"},\"duration_ms\":\"5m\""),
		"duration_ms must be an integer, not string");
	refused(ADD("\"fault\":{\"kind\":\"drop\"},\"duration_ms\":1.5"),
		"duration_ms must be an integer, not double");
	refused(ADD("\"fault\":{\"kind\":\"drop\"},\"duration_ms\":-1"),
		"duration_ms must not be negative");
	refused(ADD("\"fault\":{\"kind\":\"drop\"},\"dry_run\":\"yes\""),
		"dry_run must be a boolean, not string");
	refused(ADD("\"fault\":{\"kind\":\"drop\"},\"force\":0"), "force must be a boolean, not int");
}

static void test_decode_bad_values(void **state)
{
	refused(ADD("\"target\":{}"), "missing field 'fault'");
	refused(ADD("\"fault\":{}"), "missing field 'fault.kind'");
	refused(ADD("\"fault\":{\"kind\":\"jitter\"}"),
		"fault.kind: unknown fault 'jitter' (expected drop, loss, corrupt, partition, delay, duplicate, reorder or rate)");
	refused(ADD("\"fault\":{\"kind\":\"loss\",\"percent\":130}"),
		"fault.percent 130 is out of range (0 to 100)");
	refused(ADD("\"fault\":{\"kind\":\"loss\",\"percent\":-0.5}"),
		"fault.percent -0.5 is out of range (0 to 100)");
	refused(ADD("\"fault\":{\"kind\":\"drop\"},\"target\":{\"ports\":[\"70000\"]}"),
		"target.ports[0]: port '70000' is out of range (1 to 65535)");
	refused(ADD("\"fault\":{\"kind\":\"drop\"},\"target\":{\"sports\":[\"2000-1000\"]}"),
		"target.sports[0]: port range '2000-1000' is reversed: did you mean 1000-2000?");
	refused(ADD("\"fault\":{\"kind\":\"drop\"},\"target\":{\"ips\":[\"10.0.0.0/8\",\"10.1.2.3/24\"]}"),
		"target.ips[1]: 10.1.2.3/24 has host bits set; did you mean 10.1.2.0/24?");
	refused(ADD("\"fault\":{\"kind\":\"drop\"},\"target\":{\"protos\":[\"sctp\"]}"),
		"target.protos[0]: unknown protocol 'sctp' (expected tcp, udp or icmp)");
	refused(ADD("\"fault\":{\"kind\":\"drop\"},\"target\":{\"direction\":\"up\"}"),
		"target.direction: unknown direction 'up' (expected egress, ingress or both)");
	refused(ADD("\"fault\":{\"kind\":\"drop\"},\"target\":{\"ifaces\":[\"a/b\"]}"),
		"target.ifaces[0]: invalid interface name 'a/b'");
	refused(ADD("\"fault\":{\"kind\":\"drop\"},\"target\":{\"ifaces\":[\"abcdefghijklmnop\"]}"),
		"target.ifaces[0]: invalid interface name 'abcdefghijklmnop'");
	refused(ADD("\"fault\":{\"kind\":\"drop\"},\"target\":{\"ports\":[\"1\",\"2\",\"3\",\"4\",\"5\"],"
		    "\"dports\":[\"6\",\"7\",\"8\",\"9\"]}"),
		"too many ports in target (at most 8)");
	refused(ADD("\"fault\":{\"kind\":\"drop\"},\"target\":{\"ifaces\":[\"a\",\"b\",\"c\",\"d\",\"e\","
		    "\"f\",\"g\",\"h\",\"i\"]}"),
		"too many interfaces in target (at most 8)");
}

static void test_decode_limits(void **state)
{
	char text[2048], *p = text;
	struct nc_rule_spec s;
	int i;

	/* 16 addresses fit, 17 do not. */
	p += sprintf(p, "{\"v\":1,\"cmd\":\"add\",\"fault\":{\"kind\":\"drop\"},\"target\":{\"ips\":[");
	for (i = 0; i < NC_RULE_MAX_CIDRS; i++)
		p += sprintf(p, "%s\"10.0.%d.0/24\"", i ? "," : "", i);
	strcpy(p, "]}}");
	assert_int_equal(decode(text, &s), 0);
	assert_int_equal(s.n_cidrs, NC_RULE_MAX_CIDRS);
	p += sprintf(p, ",\"10.0.99.0/24\"]}}");
	assert_int_equal(decode(text, &s), -EINVAL);
	assert_string_equal(err, "too many addresses in target (at most 16)");

	/* netns up to NC_NETNS_MAX - 1 characters */
	p = text + sprintf(text, "{\"v\":1,\"cmd\":\"add\",\"fault\":{\"kind\":\"drop\"},"
				 "\"target\":{\"netns\":\"/");
	memset(p, 'n', NC_NETNS_MAX - 2);
	strcpy(p + NC_NETNS_MAX - 2, "\"}}");
	assert_int_equal(decode(text, &s), 0);
	assert_int_equal(strlen(s.netns), NC_NETNS_MAX - 1);
	memset(p, 'n', NC_NETNS_MAX - 1);
	strcpy(p + NC_NETNS_MAX - 1, "\"}}");
	assert_int_equal(decode(text, &s), -EINVAL);
	assert_string_equal(err, "target.netns is too long (at most 255 characters)");

	/* Values the decoder accepts, validation refuses: decode does not validate. */
	assert_int_equal(decode(ADD("\"fault\":{\"kind\":\"loss\"},\"duration_ms\":0"), &s), 0);
	assert_int_equal(nc_spec_validate(&s, err, sizeof(err)), -EINVAL);
	assert_int_equal(decode(ADD("\"fault\":{\"kind\":\"drop\"},\"duration_ms\":18446744073709551615"), &s), 0);
	assert_true(s.duration_ms > NC_MAX_DURATION_MS);
	assert_int_equal(nc_spec_validate(&s, err, sizeof(err)), -EINVAL);
}


/* ---- netem, Docker targets, groups ---- */

/* Round trip that must give the spec back byte for byte and validate. */
static char *round_trip_exact(const struct nc_rule_spec *in)
{
	struct nc_rule_spec out;
	char *line;

	if (round_trip(in, &out, &line))
		fail_msg("round trip refused: %s", err);
	assert_memory_equal(in, &out, sizeof(*in));
	if (nc_spec_validate(&out, err, sizeof(err)))
		fail_msg("round-tripped spec invalid: %s", err);
	return line;
}

static void test_round_trip_netem(void **state)
{
	struct nc_rule_spec s;
	char *line;

	/* delay 100ms --jitter 20ms --correlation 25% --distribution normal --limit 5000 */
	nc_spec_init(&s);
	s.kind = NC_FAULT_DELAY;
	add_cidr(&s, "10.0.0.0/8");
	s.netem.latency_ns = 100 * MS;
	s.netem.jitter_ns = 20 * MS;
	s.netem.latency_corr = pct("25%");
	s.netem.dist = NC_NETEM_DIST_NORMAL;
	s.netem.limit = 5000;
	line = round_trip_exact(&s);
	has(line, "\"fault\":{\"kind\":\"delay\",\"netem\":{\"latency_ns\":100000000,"
		  "\"jitter_ns\":20000000,\"latency_corr\":25,\"distribution\":\"normal\","
		  "\"limit\":5000}}");
	assert_null(strstr(line, "percent"));
	assert_null(strstr(line, "direction")); /* not given */
	free(line);

	/* loss --model gemodel 1% 10% 70% 0.1% --ecn: tc's order on the wire */
	nc_spec_init(&s);
	s.kind = NC_FAULT_LOSS;
	nc_netem_set_gemodel(&s.netem, (uint32_t[]){ pct("1%"), pct("10%"), pct("70%"), pct("0.1%") }, 4);
	s.netem.ecn = true;
	add_port(&s, NC_PORT_EITHER, 443, 443);
	line = round_trip_exact(&s);
	has(line, "\"fault\":{\"kind\":\"loss\",\"netem\":{\"loss_model\":\"gemodel\","
		  "\"loss_params\":[1,10,70,0.1],\"ecn\":true}}");
	free(line);
	/* only the values given, when the rest are tc's defaults */
	nc_netem_set_gemodel(&s.netem, (uint32_t[]){ pct("1%"), pct("10%") }, 2);
	s.netem.ecn = false;
	line = round_trip_exact(&s);
	has(line, "\"netem\":{\"loss_model\":\"gemodel\",\"loss_params\":[1,10]}");
	free(line);

	/* loss --model 4state p13 p31 p32 p23 p14 */
	nc_netem_set_gimodel(&s.netem, (uint32_t[]){ pct("5%"), pct("40%"), pct("10%"), pct("90%"),
						     pct("2%") }, 5);
	line = round_trip_exact(&s);
	has(line, "\"netem\":{\"loss_model\":\"4state\",\"loss_params\":[5,40,10,90,2]}");
	free(line);

	/* duplicate 5% --correlation 25% --proto udp */
	nc_spec_init(&s);
	s.kind = NC_FAULT_DUPLICATE;
	s.proto_mask = NC_PROTO_UDP;
	add_port(&s, NC_PORT_EITHER, 53, 53);
	s.netem.duplicate = pct("5%");
	s.netem.dup_corr = pct("25%");
	line = round_trip_exact(&s);
	has(line, "\"fault\":{\"kind\":\"duplicate\",\"netem\":{\"duplicate\":5,\"dup_corr\":25}}");
	free(line);

	/* reorder 25% --delay 10ms --gap 5 --correlation 50% --direction ingress */
	nc_spec_init(&s);
	s.kind = NC_FAULT_REORDER;
	s.netem.reorder = pct("25%");
	s.netem.reorder_corr = pct("50%");
	s.netem.latency_ns = 10 * MS;
	s.netem.gap = 5;
	s.dir_mask = NC_DIR_INGRESS;
	line = round_trip_exact(&s);
	has(line, "\"netem\":{\"latency_ns\":10000000,\"reorder\":25,\"reorder_corr\":50,\"gap\":5}");
	has(line, "\"direction\":\"ingress\"");
	free(line);

	/* rate 1mbit --packet-overhead -4 --delay 5ms */
	nc_spec_init(&s);
	s.kind = NC_FAULT_RATE;
	s.netem.rate_bps = 1000000;
	s.netem.packet_overhead = -4;
	s.netem.latency_ns = 5 * MS;
	s.dir_mask = NC_DIR_BOTH;
	line = round_trip_exact(&s);
	has(line, "\"netem\":{\"latency_ns\":5000000,\"rate_bps\":1000000,\"packet_overhead\":-4}");
	has(line, "\"direction\":\"both\""); /* given explicitly */
	free(line);
}

/* Every value round-trips, whatever the fault, so the agent sees what was
 * sent and refuses it itself. */
static void test_round_trip_netem_every_field(void **state)
{
	struct nc_rule_spec in, out;

	nc_spec_init(&in);
	in.kind = NC_FAULT_DROP;
	in.netem.latency_ns = 1;
	in.netem.jitter_ns = 2;
	in.netem.latency_corr = 3;
	in.netem.dist = NC_NETEM_DIST_PARETONORMAL;
	nc_netem_set_gimodel(&in.netem, (uint32_t[]){ 4, 5, 6, 7, 8 }, 5);
	in.netem.loss_corr = 9;
	in.netem.duplicate = 10;
	in.netem.dup_corr = 11;
	in.netem.reorder = 12;
	in.netem.reorder_corr = 13;
	in.netem.gap = UINT32_MAX;
	in.netem.rate_bps = UINT64_MAX >> 1;
	in.netem.packet_overhead = INT32_MIN;
	in.netem.limit = UINT32_MAX;
	in.netem.ecn = true;
	in.prob = 0;
	assert_int_equal(round_trip(&in, &out, NULL), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	assert_int_equal(nc_spec_validate(&out, err, sizeof(err)), -EINVAL);

	/* a percentage on a netem fault goes out, to be refused there */
	nc_spec_init(&in);
	in.kind = NC_FAULT_DELAY;
	in.netem.latency_ns = MS;
	in.prob = pct("30%");
	assert_int_equal(round_trip(&in, &out, NULL), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	assert_int_equal(nc_spec_validate(&out, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "fault.percent"));
}

static void test_round_trip_docker(void **state)
{
	struct nc_rule_spec s;
	char *line;

	nc_spec_init(&s);
	s.kind = NC_FAULT_DELAY;
	s.netem.latency_ns = 200 * MS;
	strcpy(s.containers[s.n_containers++], "mysql");
	strcpy(s.containers[s.n_containers++], "4f2a9c1b0d3e");
	strcpy(s.labels[s.n_labels++], "tier=cache");
	strcpy(s.labels[s.n_labels++], "note=a \"quoted\", b");
	strcpy(s.services[s.n_services++], "api");
	s.allow_host_network = true;
	add_port(&s, NC_PORT_EITHER, 3306, 3306);
	line = round_trip_exact(&s);
	has(line, "\"containers\":[\"mysql\",\"4f2a9c1b0d3e\"]");
	has(line, "\"labels\":[\"tier=cache\",\"note=a \\\"quoted\\\", b\"]");
	has(line, "\"services\":[\"api\"]");
	has(line, "\"allow_host_network\":true");
	free(line);

	/* nothing of it when not given */
	nc_spec_init(&s);
	s.kind = NC_FAULT_DROP;
	line = round_trip_exact(&s);
	assert_null(strstr(line, "containers"));
	assert_null(strstr(line, "allow_host_network"));
	assert_null(strstr(line, "groups"));
	assert_null(strstr(line, "one_way"));
	free(line);
}

static void test_round_trip_groups(void **state)
{
	struct nc_rule_spec s;
	char *line;

	/* partition --group web,api --group db --for 2m */
	nc_spec_init(&s);
	s.kind = NC_FAULT_PARTITION;
	s.duration_ms = 120000;
	add_member(&s, 0, "web");
	add_member(&s, 0, "api");
	add_member(&s, 1, "db");
	line = round_trip_exact(&s);
	has(line, "\"target\":{\"groups\":[[\"web\",\"api\"],[\"db\"]]}");
	free(line);

	/* every member kind, one-way */
	nc_spec_init(&s);
	s.kind = NC_FAULT_PARTITION;
	add_member(&s, 0, "web");
	add_member(&s, 0, "label:k=v");
	add_member(&s, 0, "service:s");
	add_member(&s, 1, "host");
	add_member(&s, 1, "10.0.0.0/8");
	add_member(&s, 1, "fd00::1");
	add_member(&s, 2, "container:host");
	s.one_way = true;
	s.allow_host_network = true;
	line = round_trip_exact(&s);
	has(line, "\"groups\":[[\"web\",\"label:k=v\",\"service:s\"],[\"host\",\"10.0.0.0/8\","
		  "\"fd00::1\"],[\"container:host\"]],\"one_way\":true");
	free(line);
}

static void test_decode_documented_new_shape(void **state)
{
	struct nc_rule_spec s;

	/* proto.h's own example of a target, verbatim */
	assert_int_equal(decode(ADD("\"fault\":{\"kind\":\"partition\"},"
				    "\"target\":{\"containers\":[\"web\"],\"labels\":[\"tier=cache\"],"
				    "\"services\":[\"api\"],\"allow_host_network\":true,"
				    "\"groups\":[[\"web\",\"label:k=v\",\"service:s\",\"host\","
				    "\"10.0.0.0/8\"],[\"db\"]],\"one_way\":false}"),
				&s),
			 0);
	assert_int_equal(s.n_containers, 1);
	assert_string_equal(s.containers[0], "web");
	assert_string_equal(s.labels[0], "tier=cache");
	assert_string_equal(s.services[0], "api");
	assert_true(s.allow_host_network);
	assert_false(s.one_way);
	assert_int_equal(s.n_groups, 2);
	assert_int_equal(s.groups[0].n_members, 5);
	assert_int_equal(s.groups[0].members[0].kind, NC_MEMBER_CONTAINER);
	assert_int_equal(s.groups[0].members[1].kind, NC_MEMBER_LABEL);
	assert_string_equal(s.groups[0].members[1].ref, "k=v");
	assert_int_equal(s.groups[0].members[2].kind, NC_MEMBER_SERVICE);
	assert_int_equal(s.groups[0].members[3].kind, NC_MEMBER_HOST);
	assert_int_equal(s.groups[0].members[4].kind, NC_MEMBER_CIDR);
	assert_int_equal(s.groups[0].members[4].cidr.prefixlen, 8);
	assert_int_equal(s.groups[1].n_members, 1);
	/* decoded as sent; validation then refuses containers beside groups */
	assert_int_equal(nc_spec_validate(&s, err, sizeof(err)), -EINVAL);

	/* and the netem object with every field */
	assert_int_equal(decode(ADD("\"fault\":{\"kind\":\"delay\",\"netem\":{\"latency_ns\":100000000,"
				    "\"jitter_ns\":20000000,\"latency_corr\":25,\"distribution\":\"normal\","
				    "\"loss_model\":\"gemodel\",\"loss_params\":[1,10,70,0.1],"
				    "\"loss_corr\":1,\"duplicate\":2,\"dup_corr\":3,\"reorder\":4,"
				    "\"reorder_corr\":5,\"gap\":6,\"rate_bps\":1000000,"
				    "\"packet_overhead\":-4,\"limit\":100,\"ecn\":true}}"),
				&s),
			 0);
	assert_int_equal(s.kind, NC_FAULT_DELAY);
	assert_int_equal(s.netem.latency_ns, 100 * MS);
	assert_int_equal(s.netem.jitter_ns, 20 * MS);
	assert_int_equal(s.netem.latency_corr, pct("25%"));
	assert_int_equal(s.netem.dist, NC_NETEM_DIST_NORMAL);
	assert_int_equal(s.netem.loss_model.model, NC_NETEM_LOSS_GE);
	assert_int_equal(s.netem.loss_model.p[NC_GE_P], pct("1%"));
	assert_int_equal(s.netem.loss_model.p[NC_GE_R], pct("10%"));
	assert_int_equal(s.netem.loss_model.p[NC_GE_H], UINT32_MAX - pct("70%")); /* tc's 1-h */
	assert_int_equal(s.netem.loss_model.p[NC_GE_K1], pct("0.1%"));
	assert_int_equal(s.netem.loss_corr, pct("1%"));
	assert_int_equal(s.netem.duplicate, pct("2%"));
	assert_int_equal(s.netem.dup_corr, pct("3%"));
	assert_int_equal(s.netem.reorder, pct("4%"));
	assert_int_equal(s.netem.reorder_corr, pct("5%"));
	assert_int_equal(s.netem.gap, 6);
	assert_int_equal(s.netem.rate_bps, 1000000);
	assert_int_equal(s.netem.packet_overhead, -4);
	assert_int_equal(s.netem.limit, 100);
	assert_true(s.netem.ecn);

	/* 4state with its tc defaults filled in */
	assert_int_equal(decode(ADD("\"fault\":{\"kind\":\"loss\",\"netem\":{\"loss_model\":\"4state\","
				    "\"loss_params\":[5]}}"),
				&s),
			 0);
	assert_int_equal(s.netem.loss_model.model, NC_NETEM_LOSS_GI);
	assert_int_equal(s.netem.loss_model.p[NC_GI_P13], pct("5%"));
	assert_int_equal(s.netem.loss_model.p[NC_GI_P31], UINT32_MAX - pct("5%"));
	assert_int_equal(s.netem.loss_model.p[NC_GI_P23], UINT32_MAX);
	assert_int_equal(s.prob, 0);
	assert_int_equal(nc_spec_validate(&s, err, sizeof(err)), 0);
}

static void test_decode_netem_strict(void **state)
{
#define NETEM(fields) ADD("\"fault\":{\"kind\":\"delay\",\"netem\":{" fields "}}")
	refused(ADD("\"fault\":{\"kind\":\"delay\",\"netem\":[]}"),
		"fault.netem must be an object, not array");
	refused(NETEM("\"latency_ms\":5"), "unknown field 'latency_ms' in fault.netem");
	refused(NETEM("\"loss\":5"), "unknown field 'loss' in fault.netem");
	refused(NETEM("\"latency_ns\":\"100ms\""), "fault.netem.latency_ns must be an integer, not string");
	refused(NETEM("\"latency_ns\":-1"), "fault.netem.latency_ns must not be negative");
	refused(NETEM("\"jitter_ns\":1.5"), "fault.netem.jitter_ns must be an integer, not double");
	refused(NETEM("\"latency_corr\":101"), "fault.netem.latency_corr 101 is out of range (0 to 100)");
	refused(NETEM("\"duplicate\":\"5%\""), "fault.netem.duplicate must be a number, not string");
	refused(NETEM("\"reorder_corr\":-1"), "fault.netem.reorder_corr -1 is out of range (0 to 100)");
	refused(NETEM("\"distribution\":5"), "fault.netem.distribution must be a string, not int");
	refused(NETEM("\"distribution\":\"gauss\""),
		"fault.netem.distribution: unknown distribution 'gauss' (expected uniform, normal, pareto or paretonormal)");
	refused(NETEM("\"loss_model\":\"random\",\"loss_params\":[1]"),
		"fault.netem.loss_model: unknown loss model 'random' (expected gemodel or 4state)");
	refused(NETEM("\"loss_model\":1"), "fault.netem.loss_model must be a string, not int");
	refused(NETEM("\"loss_params\":[1]"), "fault.netem.loss_params without a loss_model");
	refused(NETEM("\"loss_model\":\"gemodel\""), "loss_model gemodel needs fault.netem.loss_params");
	refused(NETEM("\"loss_model\":\"gemodel\",\"loss_params\":1"),
		"fault.netem.loss_params must be an array, not int");
	refused(NETEM("\"loss_model\":\"gemodel\",\"loss_params\":[]"),
		"fault.netem.loss_params of gemodel has 0 values (1 to 4)");
	refused(NETEM("\"loss_model\":\"gemodel\",\"loss_params\":[1,2,3,4,5]"),
		"fault.netem.loss_params of gemodel has 5 values (1 to 4)");
	refused(NETEM("\"loss_model\":\"4state\",\"loss_params\":[1,2,3,4,5,6]"),
		"fault.netem.loss_params of 4state has 6 values (1 to 5)");
	refused(NETEM("\"loss_model\":\"4state\",\"loss_params\":[1,\"2\"]"),
		"fault.netem.loss_params[1] must be a number, not string");
	refused(NETEM("\"loss_model\":\"4state\",\"loss_params\":[1,130]"),
		"fault.netem.loss_params[1] 130 is out of range (0 to 100)");
	refused(NETEM("\"gap\":4294967296"), "fault.netem.gap 4294967296 is out of range (at most 4294967295)");
	refused(NETEM("\"limit\":-5"), "fault.netem.limit must not be negative");
	refused(NETEM("\"rate_bps\":\"1mbit\""), "fault.netem.rate_bps must be an integer, not string");
	refused(NETEM("\"packet_overhead\":2147483648"),
		"fault.netem.packet_overhead 2147483648 is out of range");
	refused(NETEM("\"packet_overhead\":1.5"),
		"fault.netem.packet_overhead must be an integer, not double");
	refused(NETEM("\"ecn\":1"), "fault.netem.ecn must be a boolean, not int");
#undef NETEM
}

static void test_decode_docker_strict(void **state)
{
#define TARGET(fields) ADD("\"fault\":{\"kind\":\"drop\"},\"target\":{" fields "}")
	char text[4096], *p;
	int i;

	refused(TARGET("\"container\":[\"web\"]"), "unknown field 'container' in target");
	refused(TARGET("\"containers\":\"web\""), "target.containers must be an array, not string");
	refused(TARGET("\"containers\":[1]"), "target.containers[0] must be a string, not int");
	refused(TARGET("\"containers\":[\"web\",\"-x\"]"),
		"target.containers[1]: invalid container name '-x' (letters, digits, '_', '.' and '-', starting with a letter or digit)");
	refused(TARGET("\"labels\":[\"tier\"]"),
		"target.labels[0]: invalid label 'tier' (use KEY=VALUE, e.g. tier=cache)");
	refused(TARGET("\"services\":[\"a b\"]"), "target.services[0]: invalid service name 'a b' (letters, digits, '_', '.' and '-', starting with a letter or digit)");
	refused(TARGET("\"containers\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\"]"),
		"too many containers in target (at most 8)");
	refused(TARGET("\"allow_host_network\":\"yes\""),
		"target.allow_host_network must be a boolean, not string");
	refused(TARGET("\"one_way\":1"), "target.one_way must be a boolean, not int");
	refused(TARGET("\"groups\":{}"), "target.groups must be an array, not object");
	refused(TARGET("\"groups\":[\"web\",\"db\"]"), "target.groups[0] must be an array, not string");
	refused(TARGET("\"groups\":[[\"web\"],[3]]"), "target.groups[1][0] must be a string, not int");
	refused(TARGET("\"groups\":[[\"web\"],[\"10.1.2.3/24\"]]"),
		"target.groups[1][0]: 10.1.2.3/24 has host bits set; did you mean 10.1.2.0/24?");
	refused(TARGET("\"groups\":[[\"web\"],[\"lable:x=y\"]]"),
		"target.groups[1][0]: unknown group member 'lable:x=y' (use a container, label:K=V, service:NAME, container:NAME, host or an address)");
	refused(TARGET("\"groups\":[[\"a\"],[\"b\"],[\"c\"],[\"d\"],[\"e\"]]"),
		"too many groups in target (at most 4)");
	refused(TARGET("\"groups\":[[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\"]]"),
		"too many members in one group (at most 8)");

	/* names up to 127 characters */
	p = text + sprintf(text, "{\"v\":1,\"cmd\":\"add\",\"fault\":{\"kind\":\"drop\"},"
				 "\"target\":{\"containers\":[\"");
	for (i = 0; i < NC_CONTAINER_REF_MAX - 1; i++)
		*p++ = 'c';
	strcpy(p, "\"]}}");
	{
		struct nc_rule_spec s;

		assert_int_equal(decode(text, &s), 0);
		assert_int_equal(strlen(s.containers[0]), NC_CONTAINER_REF_MAX - 1);
		strcpy(p, "c\"]}}");
		assert_int_equal(decode(text, &s), -EINVAL);
		assert_non_null(strstr(err, "too long (at most 127 characters)"));
	}
#undef TARGET
}

/* ---- framing and envelope ---- */

static int parse(const char *text, json_object **out)
{
	err[0] = '\0';
	return nc_msg_parse(text, strlen(text), out, err, sizeof(err));
}

static void parse_fails(const char *text, int code, const char *word)
{
	json_object *msg = (json_object *)1;

	assert_int_equal(parse(text, &msg), code);
	assert_null(msg);
	if (!strstr(err, word))
		fail_msg("error \"%s\" lacks \"%s\"", err, word);
	assert_null(strchr(err, '\n'));
}

static void test_parse_good(void **state)
{
	json_object *msg;

	assert_int_equal(parse("{\"v\":1,\"cmd\":\"ping\"}", &msg), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(msg, "cmd")), "ping");
	json_object_put(msg);
	assert_int_equal(parse("{\"v\":1,\"cmd\":\"ping\"}\n", &msg), 0);
	json_object_put(msg);
	assert_int_equal(parse("  {\"cmd\":\"list\",\"v\":1}\r\n", &msg), 0);
	json_object_put(msg);
	assert_int_equal(parse("{\"v\":1,\"ok\":true}", &msg), 0); /* a reply */
	json_object_put(msg);
	assert_int_equal(parse("{\"v\":1,\"ok\":false,\"error\":\"no rule 4\"}", &msg), 0);
	json_object_put(msg);
	assert_int_equal(parse("{\"v\":1,\"cmd\":\"x\",\"s\":\"caf\xc3\xa9\"}", &msg), 0);
	json_object_put(msg);
	/* quotes of both kinds inside strings */
	assert_int_equal(parse("{\"v\":1,\"cmd\":\"it's \\\"x\\\" 'y'\"}", &msg), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(msg, "cmd")),
			    "it's \"x\" 'y'");
	json_object_put(msg);
}

static void test_parse_version(void **state)
{
	json_object *msg;
	const char *reply = "{\"v\":2,\"ok\":true}";

	parse_fails("{\"v\":2,\"cmd\":\"list\"}", -EPROTO, "");
	assert_string_equal(err, "protocol version 2 not supported (this agent speaks 1)");
	parse_fails("{\"v\":99,\"cmd\":\"list\"}", -EPROTO, "99");
	parse_fails("{\"v\":0,\"cmd\":\"list\"}", -EPROTO, "version 0");
	parse_fails("{\"cmd\":\"list\"}", -EPROTO, "'v'");
	parse_fails("{\"v\":\"1\",\"cmd\":\"list\"}", -EINVAL, "'v' must be an integer");
	parse_fails("{\"v\":1.0,\"cmd\":\"list\"}", -EINVAL, "'v' must be an integer");

	/* Read by chaosctl, the same mismatch is phrased from its side. */
	assert_int_equal(nc_reply_parse(reply, strlen(reply), &msg, err, sizeof(err)), -EPROTO);
	assert_string_equal(err, "netchaosd speaks protocol version 2; this chaosctl speaks 1");
}

static void test_parse_size(void **state)
{
	size_t max = NC_PROTO_MAX_MSG;
	char *buf = malloc(max + 2);
	json_object *msg;
	size_t head;

	assert_non_null(buf);
	/* exactly the limit, newline included: fine */
	head = (size_t)sprintf(buf, "{\"v\":1,\"cmd\":\"ping\",\"pad\":\"");
	memset(buf + head, 'x', max - head - 3);
	memcpy(buf + max - 3, "\"}\n", 3);
	buf[max] = '\0';
	assert_int_equal(strlen(buf), max);
	assert_int_equal(nc_msg_parse(buf, max, &msg, err, sizeof(err)), 0);
	json_object_put(msg);
	/* one byte more: refused before parsing */
	memset(buf + head, 'x', max - head - 2);
	memcpy(buf + max - 2, "\"}\n", 3);
	buf[max + 1] = '\0';
	msg = (json_object *)1;
	assert_int_equal(nc_msg_parse(buf, max + 1, &msg, err, sizeof(err)), -EMSGSIZE);
	assert_null(msg);
	assert_non_null(strstr(err, "65537"));
	assert_non_null(strstr(err, "65536"));
	free(buf);
}

static void test_parse_bad_json(void **state)
{
	json_object *msg;

	parse_fails("{\"v\":1,\"cmd\":\"pi", -EINVAL, "truncated");
	parse_fails("{\"v\":1,\"cmd\":\"ping\"", -EINVAL, "truncated");
	parse_fails("{\"v\":1,", -EINVAL, "truncated");
	parse_fails("{", -EINVAL, "truncated");
	parse_fails("[1,2]", -EINVAL, "JSON object");
	parse_fails("42", -EINVAL, "JSON object");
	parse_fails("\"ping\"", -EINVAL, "JSON object");
	parse_fails("null", -EINVAL, "JSON object");
	parse_fails("garbage", -EINVAL, "JSON object");
	parse_fails("", -EINVAL, "empty");
	parse_fails(" \n", -EINVAL, "empty");
	parse_fails("{v:1}", -EINVAL, "invalid JSON");
	parse_fails("{'v':1}", -EINVAL, "invalid JSON");
	parse_fails("{\"v\":1,\"cmd\":'ping'}", -EINVAL, "single quote");
	parse_fails("{\"v\":1,\"cmd\":\"a\\\"\",'x':1}", -EINVAL, "single quote");
	parse_fails("{\"v\":1,\"cmd\":\"ping\",}", -EINVAL, "invalid JSON");
	/* one message per line, nothing after it */
	parse_fails("{\"v\":1,\"cmd\":\"ping\"} x", -EINVAL, "invalid JSON");
	parse_fails("{\"v\":1,\"cmd\":\"ping\"}{}", -EINVAL, "invalid JSON");
	parse_fails("{\"v\":1,\"cmd\":\"ping\"}\n{\"v\":1,\"cmd\":\"ping\"}\n", -EINVAL,
		    "invalid JSON");
	parse_fails("{\"v\":1,\"cmd\":\"x\",\"s\":\"\xff\xfe\"}", -EINVAL, "invalid JSON");
	parse_fails("{\"v\":1,\"cmd\":\"x\",\"a\":[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]}", -EINVAL,
		    "invalid JSON");

	/* An embedded NUL cannot hide the rest of a line. */
	msg = (json_object *)1;
	assert_int_equal(nc_msg_parse("{\"v\":1,\"cmd\":\"ping\"}\0junk", 26, &msg, err, sizeof(err)),
			 -EINVAL);
	assert_null(msg);
	assert_non_null(strstr(err, "NUL"));
}

static void test_parse_envelope(void **state)
{
	json_object *msg;
	const char *text;

	parse_fails("{\"v\":1}", -EINVAL, "'cmd'");
	parse_fails("{\"v\":1,\"cmd\":7}", -EINVAL, "'cmd' must be a string");
	parse_fails("{\"v\":1,\"ok\":\"yes\"}", -EINVAL, "'ok' must be a boolean");
	parse_fails("{\"v\":1,\"ok\":false}", -EINVAL, "'error'");
	parse_fails("{\"v\":1,\"ok\":false,\"error\":5}", -EINVAL, "'error'");

	/* Each side's parser insists on its own kind of message. */
	text = "{\"v\":1,\"ok\":true}";
	assert_int_equal(nc_request_parse(text, strlen(text), &msg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'cmd'"));
	text = "{\"v\":1,\"cmd\":\"ping\"}";
	assert_int_equal(nc_reply_parse(text, strlen(text), &msg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'ok'"));
	text = "{\"v\":1,\"ok\":true,\"rules\":[]}";
	assert_int_equal(nc_reply_parse(text, strlen(text), &msg, err, sizeof(err)), 0);
	json_object_put(msg);
}

static void test_envelopes_built(void **state)
{
	json_object *obj, *msg, *val;
	size_t len;
	char *line;

	obj = nc_request_new(NC_CMD_LIST);
	line = nc_msg_serialize(obj, &len);
	assert_string_equal(line, "{\"v\":1,\"cmd\":\"list\"}\n");
	assert_int_equal(len, strlen(line));
	free(line);
	json_object_put(obj);

	obj = nc_reply_ok();
	line = nc_msg_serialize(obj, NULL);
	assert_string_equal(line, "{\"v\":1,\"ok\":true}\n");
	free(line);
	json_object_put(obj);

	/* An error reply is one line whatever the message held. */
	obj = nc_reply_error("no rule %d\nsecond line", 4242);
	line = nc_msg_serialize(obj, &len);
	json_object_put(obj);
	assert_ptr_equal(strchr(line, '\n'), line + len - 1);
	assert_int_equal(nc_reply_parse(line, len, &msg, err, sizeof(err)), 0);
	assert_true(json_object_object_get_ex(msg, "ok", &val));
	assert_false(json_object_get_boolean(val));
	assert_true(json_object_object_get_ex(msg, "error", &val));
	assert_string_equal(json_object_get_string(val), "no rule 4242?second line");
	json_object_put(msg);
	free(line);

	/* Slashes in paths are not escaped. */
	obj = nc_request_new("add");
	json_object_object_add(obj, "netns", json_object_new_string("/run/netns/a"));
	line = nc_msg_serialize(obj, NULL);
	assert_non_null(strstr(line, "\"/run/netns/a\""));
	free(line);
	json_object_put(obj);
}

/* ---- rule objects ---- */

static void test_wire_rule_round_trip(void **state)
{
	struct nc_wire_rule in, out;
	json_object *obj;
	const char *text;

	memset(&in, 0, sizeof(in));
	in.id = 4242;
	in.spec = full_spec();
	in.spec.dry_run = false; /* not part of a rule */
	in.spec.force = false;
	in.remaining_ms = 61000;
	in.matched = 1ull << 40;
	in.affected = 12345;
	strcpy(in.state, "active");

	obj = json_object_new_object();
	assert_int_equal(nc_wire_rule_to_json(&in, obj), 0);
	text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
	assert_null(strstr(text, "dry_run"));
	assert_non_null(strstr(text, "\"id\":4242"));
	assert_non_null(strstr(text, "\"remaining_ms\":61000"));
	assert_non_null(strstr(text, "\"state\":\"active\""));
	/* What the agent appends, and what a newer agent may append, is skipped. */
	json_object_object_add(obj, "interfaces", json_object_new_array());
	json_object_object_add(obj, "entries", json_object_new_int(12));
	json_object_object_add(json_object_object_get(obj, "target"), "cgroup",
			       json_object_new_string("/x"));
	memset(&out, 0xa5, sizeof(out));
	assert_int_equal(nc_wire_rule_from_json(obj, &out, err, sizeof(err)), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	json_object_put(obj);

	/* A netem rule of containers that ended, with the agent's fields. */
	memset(&in, 0, sizeof(in));
	in.id = 7;
	nc_spec_init(&in.spec);
	in.spec.kind = NC_FAULT_DELAY;
	in.spec.netem.latency_ns = 200 * MS;
	in.spec.netem.jitter_ns = MS;
	strcpy(in.spec.containers[in.spec.n_containers++], "web");
	strcpy(in.state, "ended");
	strcpy(in.reason, "container removed");
	obj = json_object_new_object();
	assert_int_equal(nc_wire_rule_to_json(&in, obj), 0);
	text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
	assert_non_null(strstr(text, "\"state\":\"ended\",\"reason\":\"container removed\""));
	json_object_object_add(obj, "containers",
			       json_tokener_parse("[{\"name\":\"web\",\"netns\":\"/proc/42/ns/net\"}]"));
	json_object_object_add(json_object_object_get(json_object_object_get(obj, "fault"), "netem"),
			       "slot", json_object_new_int(3));
	memset(&out, 0xa5, sizeof(out));
	assert_int_equal(nc_wire_rule_from_json(obj, &out, err, sizeof(err)), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	json_object_put(obj);

	/* no reason: none on the wire */
	in.reason[0] = '\0';
	obj = json_object_new_object();
	assert_int_equal(nc_wire_rule_to_json(&in, obj), 0);
	assert_null(strstr(json_object_to_json_string(obj), "reason"));
	json_object_put(obj);
}

static void test_wire_rule_errors(void **state)
{
	struct nc_wire_rule r;
	json_object *obj;

	obj = json_tokener_parse("{\"fault\":{\"kind\":\"drop\"}}");
	assert_int_equal(nc_wire_rule_from_json(obj, &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'id'"));
	json_object_put(obj);

	obj = json_tokener_parse("{\"id\":\"3\",\"fault\":{\"kind\":\"drop\"}}");
	assert_int_equal(nc_wire_rule_from_json(obj, &r, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "id must be an integer, not string");
	json_object_put(obj);

	obj = json_tokener_parse("{\"id\":4294967296,\"fault\":{\"kind\":\"drop\"}}");
	assert_int_equal(nc_wire_rule_from_json(obj, &r, err, sizeof(err)), -EINVAL);
	json_object_put(obj);

	obj = json_tokener_parse("{\"id\":3,\"fault\":{\"kind\":\"drop\"},\"matched\":-1}");
	assert_int_equal(nc_wire_rule_from_json(obj, &r, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "matched must not be negative");
	json_object_put(obj);

	obj = json_tokener_parse("{\"id\":3,\"fault\":{\"kind\":\"drop\"},\"state\":1}");
	assert_int_equal(nc_wire_rule_from_json(obj, &r, err, sizeof(err)), -EINVAL);
	json_object_put(obj);

	obj = json_tokener_parse("{\"id\":3,\"fault\":{\"kind\":\"drop\"},\"reason\":[]}");
	assert_int_equal(nc_wire_rule_from_json(obj, &r, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "reason must be a string, not array");
	json_object_put(obj);

	obj = json_tokener_parse("{\"id\":3,\"fault\":{\"kind\":\"delay\",\"netem\":{\"latency_ns\":\"x\"}}}");
	assert_int_equal(nc_wire_rule_from_json(obj, &r, err, sizeof(err)), -EINVAL);
	json_object_put(obj);

	obj = json_tokener_parse("[]");
	assert_int_equal(nc_wire_rule_from_json(obj, &r, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "rule must be an object, not array");
	json_object_put(obj);

	/* Tolerant of new fields, not of wrong known ones. */
	obj = json_tokener_parse("{\"id\":3,\"fault\":{\"kind\":\"drop\"},"
				 "\"target\":{\"ports\":[\"0\"]}}");
	assert_int_equal(nc_wire_rule_from_json(obj, &r, err, sizeof(err)), -EINVAL);
	json_object_put(obj);
}

static void test_change_round_trip(void **state)
{
	struct nc_change_req a, b;
	json_object *req = nc_request_new(NC_CMD_CHANGE), *copy;
	const char *text;

	memset(&a, 0, sizeof(a));
	nc_spec_init(&a.fault);
	a.id = 7;
	a.has_fault = true;
	a.fault.kind = NC_FAULT_DELAY;
	a.fault.netem.latency_ns = 300000000ull;
	a.fault.netem.jitter_ns = 10000000ull;
	a.fault.netem.dist = NC_NETEM_DIST_NORMAL;
	assert_int_equal(nc_change_to_json(&a, req), 0);
	text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	assert_null(strstr(text, "duration_ms")); /* not given: the end stays */
	assert_null(strstr(text, "dry_run"));
	assert_non_null(strstr(text, "\"id\":7"));
	assert_int_equal(nc_change_from_json(req, &b, err, sizeof(err)), 0);
	assert_int_equal(b.id, 7);
	assert_true(b.has_fault);
	assert_false(b.has_duration || b.dry_run);
	assert_int_equal(b.fault.kind, NC_FAULT_DELAY);
	assert_int_equal(b.fault.netem.latency_ns, 300000000ull);
	assert_int_equal(b.fault.netem.jitter_ns, 10000000ull);
	assert_int_equal(b.fault.netem.dist, NC_NETEM_DIST_NORMAL);
	json_object_put(req);

	a.has_duration = true;
	a.duration_ms = 90000;
	a.dry_run = true;
	req = nc_request_new(NC_CMD_CHANGE);
	assert_int_equal(nc_change_to_json(&a, req), 0);
	assert_int_equal(nc_change_from_json(req, &b, err, sizeof(err)), 0);
	assert_true(b.has_duration && b.dry_run);
	assert_int_equal(b.duration_ms, 90000);

	/* strict: no target, no unknown field, an id */
	assert_int_equal(json_object_deep_copy(req, &copy, NULL), 0);
	json_object_object_add(copy, "target", json_object_new_object());
	assert_int_equal(nc_change_from_json(copy, &b, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "unknown field 'target' in change");
	json_object_put(copy);
	json_object_object_del(req, "id");
	assert_int_equal(nc_change_from_json(req, &b, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "id"));
	json_object_object_add(req, "id", json_object_new_int64(0));
	assert_int_equal(nc_change_from_json(req, &b, err, sizeof(err)), -EINVAL);
	json_object_object_add(req, "id", json_object_new_string("7"));
	assert_int_equal(nc_change_from_json(req, &b, err, sizeof(err)), -EINVAL);
	json_object_object_add(req, "id", json_object_new_int64(7));
	/* a new end alone */
	json_object_object_del(req, "fault");
	assert_int_equal(nc_change_from_json(req, &b, err, sizeof(err)), 0);
	assert_true(b.has_duration && !b.has_fault);
	/* neither: refused */
	json_object_object_del(req, "duration_ms");
	assert_int_equal(nc_change_from_json(req, &b, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "change needs a 'fault', a 'duration_ms', or both");
	json_object_put(req);

	/* has_fault false: no "fault" on the wire */
	a.has_fault = false;
	req = nc_request_new(NC_CMD_CHANGE);
	assert_int_equal(nc_change_to_json(&a, req), 0);
	assert_false(json_object_object_get_ex(req, "fault", NULL));
	json_object_put(req);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_full),
		cmocka_unit_test(test_round_trip_each_kind),
		cmocka_unit_test(test_decode_documented_shape),
		cmocka_unit_test(test_decode_unknown_fields),
		cmocka_unit_test(test_decode_wrong_types),
		cmocka_unit_test(test_decode_bad_values),
		cmocka_unit_test(test_decode_limits),
		cmocka_unit_test(test_round_trip_netem),
		cmocka_unit_test(test_round_trip_netem_every_field),
		cmocka_unit_test(test_round_trip_docker),
		cmocka_unit_test(test_round_trip_groups),
		cmocka_unit_test(test_decode_documented_new_shape),
		cmocka_unit_test(test_decode_netem_strict),
		cmocka_unit_test(test_decode_docker_strict),
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_version),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_bad_json),
		cmocka_unit_test(test_parse_envelope),
		cmocka_unit_test(test_envelopes_built),
		cmocka_unit_test(test_wire_rule_round_trip),
		cmocka_unit_test(test_wire_rule_errors),
		cmocka_unit_test(test_change_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
