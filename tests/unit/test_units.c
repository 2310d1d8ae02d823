// SPDX-License-Identifier: GPL-2.0-only
/*
 * lib/units.c and lib/errmsg.c: every parser on good input, edge values and
 * the rejections (with the words the messages must contain), and that the
 * printers produce what the parsers read back.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "errmsg.h"
#include "units.h"

static char err[256];

/* The parser must refuse s, with a message containing each of the words. */
#define assert_err_contains(...) check_err(__VA_ARGS__, NULL)
static void check_err(const char *first, ...)
{
	const char *word;
	va_list ap;

	va_start(ap, first);
	for (word = first; word; word = va_arg(ap, const char *)) {
		if (!strstr(err, word))
			fail_msg("error \"%s\" lacks \"%s\"", err, word);
	}
	va_end(ap);
	assert_null(strchr(err, '\n'));
}

/* ---- durations ---- */

static uint64_t dur(const char *s)
{
	uint64_t ms = 0;

	err[0] = '\0';
	if (nc_parse_duration_ms_err(s, &ms, err, sizeof(err)))
		fail_msg("duration '%s' refused: %s", s, err);
	return ms;
}

static void dur_bad(const char *s)
{
	uint64_t ms = 12345;

	err[0] = '\0';
	if (!nc_parse_duration_ms_err(s, &ms, err, sizeof(err)))
		fail_msg("duration '%s' accepted as %llu", s, (unsigned long long)ms);
	assert_int_equal(ms, 12345); /* untouched on error */
	assert_true(err[0]);
	assert_int_equal(nc_parse_duration_ms(s, &ms), -EINVAL);
}

static void test_duration_units(void **state)
{
	assert_int_equal(dur("500ms"), 500);
	assert_int_equal(dur("1ms"), 1);
	assert_int_equal(dur("30s"), 30000);
	assert_int_equal(dur("2m"), 120000);
	assert_int_equal(dur("1h"), 3600000);
	assert_int_equal(dur("24h"), NC_MAX_DURATION_MS);
	assert_int_equal(dur("1440m"), NC_MAX_DURATION_MS);
	assert_int_equal(dur("007s"), 7000);
}

static void test_duration_decimals(void **state)
{
	assert_int_equal(dur("1.5s"), 1500);
	assert_int_equal(dur("0.5m"), 30000);
	assert_int_equal(dur("0.25h"), 900000);
	assert_int_equal(dur("0.001s"), 1);
	assert_int_equal(dur("2.0s"), 2000);
	assert_int_equal(dur("1.000000000000s"), 1000);
	assert_int_equal(dur("23.999h"), 86396400);
}

static void test_duration_compound(void **state)
{
	assert_int_equal(dur("1m30s"), 90000);
	assert_int_equal(dur("1h30m"), 5400000);
	assert_int_equal(dur("1h2m3s4ms"), 3723004);
	assert_int_equal(dur("1m0.5s"), 60500);
	assert_int_equal(dur("23h59m59s999ms"), NC_MAX_DURATION_MS - 1);
}

static void test_duration_errors(void **state)
{
	dur_bad("5");
	assert_err_contains("'5'", "unit", "5s");
	dur_bad("1m30");
	assert_err_contains("'1m30'", "unit", "'30'");
	dur_bad("0s");
	assert_err_contains("'0s'", "1ms");
	dur_bad("0ms");
	dur_bad("0.0h");
	dur_bad("25h");
	assert_err_contains("'25h'", "24h");
	dur_bad("24h1ms");
	assert_err_contains("24h");
	dur_bad("86400001ms");
	dur_bad("99999999999999h");
	dur_bad("1.5ms");
	assert_err_contains("'1.5ms'", "whole number of milliseconds");
	dur_bad("0.0001s");
	dur_bad("5sec");
	assert_err_contains("'sec'", "'5sec'");
	dur_bad("5x");
	assert_err_contains("'x'");
	dur_bad("5S"); /* units are lower case */
	dur_bad("");
	assert_err_contains("empty");
	dur_bad("s");
	dur_bad("abc");
	dur_bad("-5s");
	dur_bad("+5s");
	dur_bad(" 5s");
	dur_bad("5s ");
	dur_bad("5 s");
	dur_bad("1.s");
	dur_bad(".5s");
	dur_bad("1e3ms");
	dur_bad("0x10s");
	dur_bad("30s1m");
	assert_err_contains("largest to smallest");
	dur_bad("1m1m");
	dur_bad("1s500ms500ms");
	dur_bad("1.1234567890123s"); /* too many decimals */
}

static void test_duration_format(void **state)
{
	static const uint64_t values[] = { 1, 999, 1000, 1001, 59999, 60000, 90000, 3599999,
					   3600000, 3723004, 5400000, NC_MAX_DURATION_MS };
	char buf[32];
	size_t i;

	nc_format_duration(0, buf, sizeof(buf));
	assert_string_equal(buf, "0s");
	nc_format_duration(500, buf, sizeof(buf));
	assert_string_equal(buf, "500ms");
	nc_format_duration(90000, buf, sizeof(buf));
	assert_string_equal(buf, "1m30s");
	nc_format_duration(3600000, buf, sizeof(buf));
	assert_string_equal(buf, "1h");
	nc_format_duration(3723004, buf, sizeof(buf));
	assert_string_equal(buf, "1h2m3s4ms");
	nc_format_duration(NC_MAX_DURATION_MS, buf, sizeof(buf));
	assert_string_equal(buf, "24h");
	nc_format_duration(49ull * 3600 * 1000, buf, sizeof(buf)); /* beyond the cap: still printed */
	assert_string_equal(buf, "49h");

	/* What is printed parses back to the same value. */
	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		nc_format_duration(values[i], buf, sizeof(buf));
		assert_int_equal(dur(buf), values[i]);
	}

	/* A short buffer is cut, never overrun. */
	memset(buf, 'X', sizeof(buf));
	nc_format_duration(3723004, buf, 5);
	assert_true(strlen(buf) < 5);
	assert_int_equal(buf[5], 'X');
}

/* ---- percentages ---- */

static uint32_t pct(const char *s)
{
	uint32_t prob = 0;

	err[0] = '\0';
	if (nc_parse_percent_err(s, &prob, err, sizeof(err)))
		fail_msg("percentage '%s' refused: %s", s, err);
	return prob;
}

static void pct_bad(const char *s)
{
	uint32_t prob = 777;

	err[0] = '\0';
	if (!nc_parse_percent_err(s, &prob, err, sizeof(err)))
		fail_msg("percentage '%s' accepted as %u", s, prob);
	assert_int_equal(prob, 777);
	assert_true(err[0]);
	assert_int_equal(nc_parse_percent(s, &prob), -EINVAL);
}

static void test_percent_values(void **state)
{
	/* round(p / 100 * UINT32_MAX) */
	assert_int_equal(pct("30%"), 1288490189u); /* 1288490188.5 rounds up */
	assert_int_equal(pct("30"), 1288490189u);
	assert_int_equal(pct("0.1%"), 4294967u);
	assert_int_equal(pct("50%"), 2147483648u);
	assert_int_equal(pct("100%"), UINT32_MAX);
	assert_int_equal(pct("100"), UINT32_MAX);
	assert_int_equal(pct("100.000"), UINT32_MAX);
	assert_int_equal(pct("0%"), 0);
	assert_int_equal(pct("0"), 0);
	assert_int_equal(pct("0.0000001%"), 4u);
	assert_int_equal(pct("1%"), 42949673u);
	assert_int_equal(pct("12.5%"), 536870912u);
	assert_int_equal(pct("030%"), 1288490189u);
}

static void test_percent_errors(void **state)
{
	pct_bad("130%");
	assert_err_contains("'130%'", "out of range");
	pct_bad("100.1%");
	assert_err_contains("'100.1%'", "out of range");
	pct_bad("101");
	pct_bad("1000%");
	pct_bad("-1%");
	assert_err_contains("'-1%'");
	pct_bad("");
	assert_err_contains("empty");
	pct_bad("%");
	pct_bad("abc");
	pct_bad("30%%");
	pct_bad("30 %");
	pct_bad(" 30%");
	pct_bad("30% ");
	pct_bad("30.%");
	pct_bad(".5%");
	pct_bad("1e2");
	pct_bad("0x10");
	pct_bad("inf");
	pct_bad("nan");
	pct_bad("30,5%");
	pct_bad("0.1234567890123%");
	assert_err_contains("digits");
}

static void test_percent_to_prob(void **state)
{
	uint32_t prob = 1;

	assert_int_equal(nc_percent_to_prob(0.0, &prob), 0);
	assert_int_equal(prob, 0);
	assert_int_equal(nc_percent_to_prob(100.0, &prob), 0);
	assert_int_equal(prob, UINT32_MAX);
	assert_int_equal(nc_percent_to_prob(30.0, &prob), 0);
	assert_int_equal(prob, 1288490189u);
	prob = 5;
	assert_int_equal(nc_percent_to_prob(-0.001, &prob), -ERANGE);
	assert_int_equal(nc_percent_to_prob(100.0001, &prob), -ERANGE);
	assert_int_equal(nc_percent_to_prob(NAN, &prob), -ERANGE);
	assert_int_equal(nc_percent_to_prob(INFINITY, &prob), -ERANGE);
	assert_int_equal(prob, 5);
}

static void test_percent_format(void **state)
{
	char buf[32];
	uint64_t p;

	nc_format_percent(pct("30%"), buf, sizeof(buf));
	assert_string_equal(buf, "30%");
	nc_format_percent(pct("0.1%"), buf, sizeof(buf));
	assert_string_equal(buf, "0.1%");
	nc_format_percent(pct("12.5"), buf, sizeof(buf));
	assert_string_equal(buf, "12.5%");
	nc_format_percent(UINT32_MAX, buf, sizeof(buf));
	assert_string_equal(buf, "100%");
	nc_format_percent(0, buf, sizeof(buf));
	assert_string_equal(buf, "0%");
	nc_format_percent_number(pct("33.333%"), buf, sizeof(buf));
	assert_string_equal(buf, "33.333");
	nc_format_percent_number(pct("0.0001%"), buf, sizeof(buf));
	assert_string_equal(buf, "0.0001");
	assert_true(nc_prob_to_percent(UINT32_MAX) == 100.0);
	assert_true(nc_prob_to_percent(0) == 0.0);

	/* Every probability prints as a number that reads back exactly. */
	for (p = 0; p <= UINT32_MAX; p += 0x10001) {
		uint32_t back;

		nc_format_percent((uint32_t)p, buf, sizeof(buf));
		assert_int_equal(nc_parse_percent(buf, &back), 0);
		assert_int_equal(back, (uint32_t)p);
	}
	for (p = 0; p < 300; p++) { /* the smallest ones need the most digits */
		uint32_t back;

		nc_format_percent((uint32_t)p, buf, sizeof(buf));
		assert_int_equal(nc_parse_percent(buf, &back), 0);
		assert_int_equal(back, (uint32_t)p);
	}
}

/* ---- ports ---- */

static void port_ok(const char *s, uint16_t lo, uint16_t hi)
{
	uint16_t a = 0, b = 0;

	err[0] = '\0';
	if (nc_parse_port_range_err(s, &a, &b, err, sizeof(err)))
		fail_msg("port '%s' refused: %s", s, err);
	assert_int_equal(a, lo);
	assert_int_equal(b, hi);
}

static void port_bad(const char *s)
{
	uint16_t a = 7, b = 7;

	err[0] = '\0';
	if (!nc_parse_port_range_err(s, &a, &b, err, sizeof(err)))
		fail_msg("port '%s' accepted as %u-%u", s, a, b);
	assert_int_equal(a, 7);
	assert_int_equal(b, 7);
	assert_int_equal(nc_parse_port_range(s, &a, &b), -EINVAL);
}

static void test_ports(void **state)
{
	port_ok("80", 80, 80);
	port_ok("1", 1, 1);
	port_ok("65535", 65535, 65535);
	port_ok("1000-2000", 1000, 2000);
	port_ok("1-65535", 1, 65535);
	port_ok("80-80", 80, 80);
	port_ok("00080", 80, 80);

	port_bad("0");
	assert_err_contains("'0'", "1 to 65535");
	port_bad("70000");
	assert_err_contains("'70000'", "1 to 65535");
	port_bad("65536");
	port_bad("0-10");
	port_bad("1-65536");
	port_bad("123456");
	port_bad("2000-1000");
	assert_err_contains("'2000-1000'", "1000-2000");
	port_bad("");
	assert_err_contains("empty");
	port_bad("-");
	port_bad("80-");
	port_bad("-80");
	port_bad("80-90-100");
	port_bad("abc");
	assert_err_contains("'abc'");
	port_bad("http");
	port_bad("80 ");
	port_bad(" 80");
	port_bad("+80");
	port_bad("8O");
	port_bad("80,443"); /* lists are the CLI's business */
}

static void test_port_format(void **state)
{
	struct nc_port_spec p = { .kind = NC_PORT_EITHER, .lo = 80, .hi = 80 };
	char buf[16];

	nc_format_port(&p, buf, sizeof(buf));
	assert_string_equal(buf, "80");
	p.hi = 90;
	nc_format_port(&p, buf, sizeof(buf));
	assert_string_equal(buf, "80-90");
	p.lo = 1;
	p.hi = 65535;
	nc_format_port(&p, buf, sizeof(buf));
	assert_string_equal(buf, "1-65535");
}

/* ---- addresses ---- */

static struct nc_cidr cidr(const char *s)
{
	struct nc_cidr c;

	err[0] = '\0';
	if (nc_parse_cidr_err(s, &c, err, sizeof(err)))
		fail_msg("address '%s' refused: %s", s, err);
	return c;
}

static void cidr_bad(const char *s)
{
	struct nc_cidr c = { .family = 9 };

	err[0] = '\0';
	if (!nc_parse_cidr_err(s, &c, err, sizeof(err)))
		fail_msg("address '%s' accepted", s);
	assert_int_equal(c.family, 9);
	assert_int_equal(nc_parse_cidr(s, &c), -EINVAL);
}

static void test_cidr_v4(void **state)
{
	static const uint8_t zero[12];
	struct nc_cidr c;

	c = cidr("10.0.0.1");
	assert_int_equal(c.family, 4);
	assert_int_equal(c.prefixlen, 32);
	assert_memory_equal(c.addr, "\x0a\x00\x00\x01", 4);
	assert_memory_equal(c.addr + 4, zero, 12);
	assert_memory_equal(c.pad, "\0\0", 2);

	c = cidr("10.0.0.0/8");
	assert_int_equal(c.family, 4);
	assert_int_equal(c.prefixlen, 8);
	assert_memory_equal(c.addr, "\x0a\x00\x00\x00", 4);

	c = cidr("192.168.1.128/25");
	assert_int_equal(c.prefixlen, 25);
	c = cidr("0.0.0.0/0");
	assert_int_equal(c.prefixlen, 0);
	c = cidr("10.1.2.3/32");
	assert_int_equal(c.prefixlen, 32);
}

static void test_cidr_v6(void **state)
{
	struct nc_cidr c;

	c = cidr("fd00::/64");
	assert_int_equal(c.family, 6);
	assert_int_equal(c.prefixlen, 64);
	assert_int_equal(c.addr[0], 0xfd);
	assert_int_equal(c.addr[15], 0);

	c = cidr("::1");
	assert_int_equal(c.family, 6);
	assert_int_equal(c.prefixlen, 128);
	assert_int_equal(c.addr[15], 1);

	c = cidr("2001:db8::/32");
	assert_int_equal(c.prefixlen, 32);
	c = cidr("::/0");
	assert_int_equal(c.prefixlen, 0);
	c = cidr("::ffff:10.0.0.1"); /* v4-mapped stays IPv6 */
	assert_int_equal(c.family, 6);
	c = cidr("FD00::/8");
	assert_int_equal(c.addr[0], 0xfd);
}

static void test_cidr_host_bits(void **state)
{
	cidr_bad("10.1.2.3/24");
	assert_string_equal(err, "10.1.2.3/24 has host bits set; did you mean 10.1.2.0/24?");
	cidr_bad("10.0.0.1/8");
	assert_string_equal(err, "10.0.0.1/8 has host bits set; did you mean 10.0.0.0/8?");
	cidr_bad("192.168.1.129/25");
	assert_string_equal(err, "192.168.1.129/25 has host bits set; did you mean 192.168.1.128/25?");
	cidr_bad("fd00::1/64");
	assert_string_equal(err, "fd00::1/64 has host bits set; did you mean fd00::/64?");
	cidr_bad("2001:db8:ffff::/33");
	assert_string_equal(err, "2001:db8:ffff::/33 has host bits set; did you mean 2001:db8:8000::/33?");
	cidr_bad("1.2.3.4/0");
	assert_string_equal(err, "1.2.3.4/0 has host bits set; did you mean 0.0.0.0/0?");
}

static void test_cidr_errors(void **state)
{
	cidr_bad("10.0.0.0/33");
	assert_err_contains("'10.0.0.0/33'", "0 to 32");
	cidr_bad("fd00::/129");
	assert_err_contains("'fd00::/129'", "0 to 128");
	cidr_bad("10.0.0.300");
	assert_err_contains("'10.0.0.300'");
	cidr_bad("10.0.0.0/");
	cidr_bad("10.0.0.0/abc");
	cidr_bad("10.0.0.0/-1");
	cidr_bad("10.0.0.0/+8");
	cidr_bad("10.0.0.0/0008");
	cidr_bad("10.0.0.0/8/9");
	cidr_bad("10.0.0");
	cidr_bad("10.0.0.1.2");
	cidr_bad("foo");
	cidr_bad("");
	assert_err_contains("empty");
	cidr_bad("/8");
	cidr_bad(" 10.0.0.1");
	cidr_bad("10.0.0.1 ");
	cidr_bad("fe80::1%eth0");
	cidr_bad("fd00:::1");
	cidr_bad("010.0.0.1"); /* inet_pton refuses octal-looking octets */
	cidr_bad("1234567890123456789012345678901234567890123456789012345678901234567890");
}

static void test_cidr_check(void **state)
{
	struct nc_cidr c = cidr("10.1.2.0/24");

	assert_int_equal(nc_cidr_check(&c, err, sizeof(err)), 0);
	c.addr[3] = 3;
	assert_int_equal(nc_cidr_check(&c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "10.1.2.3/24 has host bits set; did you mean 10.1.2.0/24?");

	c = cidr("10.1.2.0/24");
	c.addr[8] = 1; /* IPv4 lives in the first 4 bytes only */
	assert_int_equal(nc_cidr_check(&c, err, sizeof(err)), -EINVAL);
	c = cidr("10.1.2.0/24");
	c.prefixlen = 33;
	assert_int_equal(nc_cidr_check(&c, err, sizeof(err)), -EINVAL);
	c.family = 5;
	assert_int_equal(nc_cidr_check(&c, err, sizeof(err)), -EINVAL);
	assert_err_contains("family");

	c = cidr("fd00::/64");
	assert_int_equal(nc_cidr_check(&c, NULL, 0), 0);
	c.addr[15] = 1;
	assert_int_equal(nc_cidr_check(&c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "fd00::1/64 has host bits set; did you mean fd00::/64?");
	c.prefixlen = 129;
	assert_int_equal(nc_cidr_check(&c, err, sizeof(err)), -EINVAL);
}

static void test_cidr_format(void **state)
{
	static const char *const round_trip[] = { "10.0.0.1", "10.0.0.0/8", "0.0.0.0/0",
						  "fd00::/64", "::1", "2001:db8::/32",
						  "192.168.1.128/25" };
	struct nc_cidr c;
	char buf[64];
	size_t i;

	for (i = 0; i < sizeof(round_trip) / sizeof(round_trip[0]); i++) {
		c = cidr(round_trip[i]);
		nc_format_cidr(&c, buf, sizeof(buf));
		assert_string_equal(buf, round_trip[i]);
	}
	c = cidr("10.0.0.1/32"); /* a host prints as users type it */
	nc_format_cidr(&c, buf, sizeof(buf));
	assert_string_equal(buf, "10.0.0.1");
	c = cidr("FD00:0:0::/64");
	nc_format_cidr(&c, buf, sizeof(buf));
	assert_string_equal(buf, "fd00::/64");
}

/* ---- names ---- */

static void test_proto(void **state)
{
	uint8_t bit = 0;

	assert_int_equal(nc_parse_proto("tcp", &bit), 0);
	assert_int_equal(bit, NC_PROTO_TCP);
	assert_int_equal(nc_parse_proto("udp", &bit), 0);
	assert_int_equal(bit, NC_PROTO_UDP);
	assert_int_equal(nc_parse_proto("icmp", &bit), 0);
	assert_int_equal(bit, NC_PROTO_ICMP);
	assert_int_equal(nc_parse_proto("icmpv6", &bit), 0);
	assert_int_equal(bit, NC_PROTO_ICMP);
	assert_int_equal(nc_parse_proto("TCP", &bit), 0);
	assert_int_equal(bit, NC_PROTO_TCP);

	bit = 0;
	assert_int_equal(nc_parse_proto_err("sctp", &bit, err, sizeof(err)), -EINVAL);
	assert_err_contains("'sctp'", "tcp, udp or icmp");
	assert_int_equal(nc_parse_proto("", &bit), -EINVAL);
	assert_int_equal(nc_parse_proto("tcp ", &bit), -EINVAL);
	assert_int_equal(nc_parse_proto("6", &bit), -EINVAL);
	assert_int_equal(nc_parse_proto(NULL, &bit), -EINVAL);
	assert_int_equal(bit, 0);

	assert_string_equal(nc_proto_name(NC_PROTO_TCP), "tcp");
	assert_string_equal(nc_proto_name(NC_PROTO_UDP), "udp");
	assert_string_equal(nc_proto_name(NC_PROTO_ICMP), "icmp");
	assert_string_equal(nc_proto_name(NC_PROTO_TCP | NC_PROTO_UDP), "?");
}

static void test_direction(void **state)
{
	uint8_t d = 0;

	assert_int_equal(nc_parse_direction("egress", &d), 0);
	assert_int_equal(d, NC_DIR_EGRESS);
	assert_int_equal(nc_parse_direction("ingress", &d), 0);
	assert_int_equal(d, NC_DIR_INGRESS);
	assert_int_equal(nc_parse_direction("both", &d), 0);
	assert_int_equal(d, NC_DIR_BOTH);
	assert_int_equal(nc_parse_direction("Ingress", &d), 0);
	assert_int_equal(d, NC_DIR_INGRESS);

	d = 0;
	assert_int_equal(nc_parse_direction_err("up", &d, err, sizeof(err)), -EINVAL);
	assert_err_contains("'up'", "egress, ingress or both");
	assert_int_equal(nc_parse_direction("", &d), -EINVAL);
	assert_int_equal(nc_parse_direction("in", &d), -EINVAL);
	assert_int_equal(d, 0);

	assert_string_equal(nc_direction_name(NC_DIR_EGRESS), "egress");
	assert_string_equal(nc_direction_name(NC_DIR_INGRESS), "ingress");
	assert_string_equal(nc_direction_name(NC_DIR_BOTH), "both");
	assert_string_equal(nc_direction_name(0), "none");
}

static void test_fault_kind(void **state)
{
	enum nc_fault_kind k = NC_FAULT_NONE;

	assert_int_equal(nc_parse_fault_kind("drop", &k), 0);
	assert_int_equal(k, NC_FAULT_DROP);
	assert_int_equal(nc_parse_fault_kind("loss", &k), 0);
	assert_int_equal(k, NC_FAULT_LOSS);
	assert_int_equal(nc_parse_fault_kind("corrupt", &k), 0);
	assert_int_equal(k, NC_FAULT_CORRUPT);
	assert_int_equal(nc_parse_fault_kind("partition", &k), 0);
	assert_int_equal(k, NC_FAULT_PARTITION);

	assert_int_equal(nc_parse_fault_kind("delay", &k), 0);
	assert_int_equal(k, NC_FAULT_DELAY);
	assert_int_equal(nc_parse_fault_kind("duplicate", &k), 0);
	assert_int_equal(k, NC_FAULT_DUPLICATE);
	assert_int_equal(nc_parse_fault_kind("reorder", &k), 0);
	assert_int_equal(k, NC_FAULT_REORDER);
	assert_int_equal(nc_parse_fault_kind("rate", &k), 0);
	assert_int_equal(k, NC_FAULT_RATE);

	k = NC_FAULT_NONE;
	assert_int_equal(nc_parse_fault_kind_err("jitter", &k, err, sizeof(err)), -EINVAL);
	assert_err_contains("'jitter'", "delay, duplicate, reorder or rate");
	assert_int_equal(nc_parse_fault_kind("Delay", &k), -EINVAL);
	assert_int_equal(nc_parse_fault_kind("none", &k), -EINVAL);
	assert_int_equal(nc_parse_fault_kind("", &k), -EINVAL);
	assert_int_equal(k, NC_FAULT_NONE);

	assert_string_equal(nc_fault_kind_name(NC_FAULT_DROP), "drop");
	assert_string_equal(nc_fault_kind_name(NC_FAULT_LOSS), "loss");
	assert_string_equal(nc_fault_kind_name(NC_FAULT_CORRUPT), "corrupt");
	assert_string_equal(nc_fault_kind_name(NC_FAULT_PARTITION), "partition");
	assert_string_equal(nc_fault_kind_name(NC_FAULT_DELAY), "delay");
	assert_string_equal(nc_fault_kind_name(NC_FAULT_DUPLICATE), "duplicate");
	assert_string_equal(nc_fault_kind_name(NC_FAULT_REORDER), "reorder");
	assert_string_equal(nc_fault_kind_name(NC_FAULT_RATE), "rate");
	assert_string_equal(nc_fault_kind_name(NC_FAULT_NONE), "none");
	/* every name reads back as its kind */
	for (int i = NC_FAULT_NONE + 1; i < NC_FAULT__COUNT; i++) {
		assert_int_equal(nc_parse_fault_kind(nc_fault_kind_name((enum nc_fault_kind)i), &k), 0);
		assert_int_equal(k, i);
	}
	assert_string_equal(nc_fault_kind_name(NC_FAULT__COUNT), "unknown");
	assert_string_equal(nc_fault_kind_name((enum nc_fault_kind)-1), "unknown");
}

/* ---- error buffers ---- */

static void test_errmsg(void **state)
{
	char small[8];
	uint64_t ms;

	nc_set_err(err, sizeof(err), "bad value '%s'", "a\nb\tc");
	assert_string_equal(err, "bad value 'a?b?c'");
	nc_set_err(NULL, 0, "ignored %d", 1); /* must not crash */
	nc_set_err(small, sizeof(small), "%s", "much too long for it");
	assert_string_equal(small, "much to");

	nc_set_err(err, sizeof(err), "port 0 is out of range");
	nc_prefix_err(err, sizeof(err), "--port");
	assert_string_equal(err, "--port: port 0 is out of range");
	nc_set_err(small, sizeof(small), "abc");
	nc_prefix_err(small, sizeof(small), "--port");
	assert_int_equal(strlen(small), sizeof(small) - 1);

	/* A user's value with a newline cannot split the message. */
	assert_int_equal(nc_parse_duration_ms_err("5\nrm -rf", &ms, err, sizeof(err)), -EINVAL);
	assert_null(strchr(err, '\n'));
	/* NULL err is fine for every parser. */
	assert_int_equal(nc_parse_duration_ms_err("5", &ms, NULL, 0), -EINVAL);
	assert_int_equal(nc_parse_cidr_err("10.1.2.3/24", &(struct nc_cidr){ 0 }, NULL, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_units),
		cmocka_unit_test(test_duration_decimals),
		cmocka_unit_test(test_duration_compound),
		cmocka_unit_test(test_duration_errors),
		cmocka_unit_test(test_duration_format),
		cmocka_unit_test(test_percent_values),
		cmocka_unit_test(test_percent_errors),
		cmocka_unit_test(test_percent_to_prob),
		cmocka_unit_test(test_percent_format),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_port_format),
		cmocka_unit_test(test_cidr_v4),
		cmocka_unit_test(test_cidr_v6),
		cmocka_unit_test(test_cidr_host_bits),
		cmocka_unit_test(test_cidr_errors),
		cmocka_unit_test(test_cidr_check),
		cmocka_unit_test(test_cidr_format),
		cmocka_unit_test(test_proto),
		cmocka_unit_test(test_direction),
		cmocka_unit_test(test_fault_kind),
		cmocka_unit_test(test_errmsg),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
