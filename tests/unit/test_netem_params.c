// SPDX-License-Identifier: GPL-2.0-only
/*
 * lib/netem.c: rate and time units (tc's bit/byte units), the cross-field
 * rules of tc-netem(8) with the words each refusal must contain, the default
 * queue limit, tc's loss model defaults, the distribution tables (compared
 * with the ones iproute2 ships, when installed) and the description.
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
#include "units.h"

#define PCT(x) ((uint32_t)((double)(x) / 100.0 * UINT32_MAX + 0.5))
#define MS	1000000ull

static char err[256];

/* ---- rates ---- */

static uint64_t rate(const char *s)
{
	uint64_t v = 0;

	err[0] = '\0';
	if (nc_netem_parse_rate(s, &v, err, sizeof(err)))
		fail_msg("rate '%s' refused: %s", s, err);
	return v;
}

static void rate_bad(const char *s, const char *word)
{
	uint64_t v = 4242;

	err[0] = '\0';
	if (!nc_netem_parse_rate(s, &v, err, sizeof(err)))
		fail_msg("rate '%s' accepted as %llu", s, (unsigned long long)v);
	assert_int_equal(v, 4242);
	if (!strstr(err, word))
		fail_msg("error \"%s\" lacks \"%s\"", err, word);
	assert_null(strchr(err, '\n'));
}

static void test_rate_units(void **state)
{
	assert_int_equal(rate("1mbit"), 1000000);
	assert_int_equal(rate("100kbit"), 100000);
	assert_int_equal(rate("1gbit"), 1000000000);
	assert_int_equal(rate("2tbit"), 2000000000000ull);
	assert_int_equal(rate("800bit"), 800);
	assert_int_equal(rate("8bit"), 8);
	/* bps is BYTES per second, as in tc(8) */
	assert_int_equal(rate("10Mbps"), 80000000);
	assert_int_equal(rate("1kbps"), 8000);
	assert_int_equal(rate("1bps"), 8);
	/* binary prefixes */
	assert_int_equal(rate("1kibit"), 1024);
	assert_int_equal(rate("1Mibit"), 1048576);
	assert_int_equal(rate("1KiBps"), 8192);
	/* case-insensitive, like tc */
	assert_int_equal(rate("1MBIT"), 1000000);
	assert_int_equal(rate("1Gbit"), 1000000000);
	/* decimals */
	assert_int_equal(rate("1.5mbit"), 1500000);
	assert_int_equal(rate("0.5kbit"), 500);
	assert_int_equal(rate("2.5Mbps"), 20000000);
	assert_int_equal(rate("100tbit"), NC_NETEM_MAX_RATE_BPS);
}

static void test_rate_refused(void **state)
{
	rate_bad("", "empty");
	rate_bad("100", "needs a unit");
	rate_bad("10mbits", "unknown unit");
	rate_bad("10 mbit", "unknown unit");
	rate_bad("mbit", "invalid rate");
	rate_bad("-1mbit", "invalid rate");
	rate_bad("1.mbit", "invalid rate");
	rate_bad(" 1mbit", "invalid rate");
	rate_bad("7bit", "minimum");
	rate_bad("0mbit", "minimum");
	rate_bad("101tbit", "maximum");
	rate_bad("1000000000000000tbit", "too many digits");
}

static void test_rate_format(void **state)
{
	char buf[32];
	static const char *const round_trip[] = { "10Mbit", "1.5Mbit", "100Kbit", "1Gbit",
						  "800bit", "2.048Mbit", "1Tbit" };
	size_t i;

	for (i = 0; i < sizeof(round_trip) / sizeof(round_trip[0]); i++) {
		nc_netem_format_rate(rate(round_trip[i]), buf, sizeof(buf));
		assert_string_equal(buf, round_trip[i]);
	}
	nc_netem_format_rate(80000000, buf, sizeof(buf));
	assert_string_equal(buf, "80Mbit"); /* 10Mbps */
}

/* ---- times ---- */

static uint64_t tm(const char *s)
{
	uint64_t v = 0;

	err[0] = '\0';
	if (nc_netem_parse_time(s, &v, err, sizeof(err)))
		fail_msg("time '%s' refused: %s", s, err);
	return v;
}

static void tm_bad(const char *s, const char *word)
{
	uint64_t v = 4242;

	err[0] = '\0';
	if (!nc_netem_parse_time(s, &v, err, sizeof(err)))
		fail_msg("time '%s' accepted as %llu", s, (unsigned long long)v);
	assert_int_equal(v, 4242);
	if (!strstr(err, word))
		fail_msg("error \"%s\" lacks \"%s\"", err, word);
}

static void test_time_units(void **state)
{
	char buf[32];

	assert_int_equal(tm("100ms"), 100 * MS);
	assert_int_equal(tm("1.5ms"), 1500000);
	assert_int_equal(tm("250us"), 250000);
	assert_int_equal(tm("2s"), 2000000000);
	assert_int_equal(tm("800ns"), 800);
	assert_int_equal(tm("0ms"), 0);
	assert_int_equal(tm("0.001ms"), 1000);
	assert_int_equal(tm("3600s"), NC_NETEM_MAX_DELAY_NS);
	tm_bad("100", "needs a unit");
	tm_bad("100m", "unknown unit");
	tm_bad("2h", "unknown unit");
	tm_bad("0.5ns", "whole number of nanoseconds");
	tm_bad("3601s", "maximum");
	tm_bad("", "empty");
	tm_bad("ms", "invalid time");

	nc_netem_format_time(100 * MS, buf, sizeof(buf));
	assert_string_equal(buf, "100ms");
	nc_netem_format_time(1500000, buf, sizeof(buf));
	assert_string_equal(buf, "1.5ms");
	nc_netem_format_time(2000000000, buf, sizeof(buf));
	assert_string_equal(buf, "2s");
	nc_netem_format_time(250000, buf, sizeof(buf));
	assert_string_equal(buf, "250us");
	nc_netem_format_time(1, buf, sizeof(buf));
	assert_string_equal(buf, "1ns");
	nc_netem_format_time(0, buf, sizeof(buf));
	assert_string_equal(buf, "0ns");
}

/* ---- validation ---- */

static void valid(const struct nc_netem_params *p)
{
	err[0] = '\0';
	if (nc_netem_validate(p, err, sizeof(err)))
		fail_msg("refused: %s", err);
}

static void invalid(const struct nc_netem_params *p, const char *word)
{
	err[0] = '\0';
	assert_int_equal(nc_netem_validate(p, err, sizeof(err)), -EINVAL);
	if (!strstr(err, word))
		fail_msg("error \"%s\" lacks \"%s\"", err, word);
	assert_null(strchr(err, '\n'));
}

static void test_validate_accepts(void **state)
{
	struct nc_netem_params p = { .latency_ns = 100 * MS };
	uint32_t gi[] = { PCT(5) }, ge[] = { PCT(1), PCT(10), PCT(70), PCT(0.1) };

	valid(&p);
	p.jitter_ns = 10 * MS;
	p.latency_corr = PCT(25);
	p.dist = NC_NETEM_DIST_NORMAL;
	valid(&p);
	/* jitter above the delay is allowed, as in tc */
	p.jitter_ns = 200 * MS;
	valid(&p);
	p = (struct nc_netem_params){ .loss = PCT(1), .loss_corr = PCT(25), .ecn = true };
	valid(&p);
	p = (struct nc_netem_params){ .latency_ns = 10 * MS, .reorder = PCT(25),
				      .reorder_corr = PCT(50), .gap = 5 };
	valid(&p);
	p = (struct nc_netem_params){ .duplicate = PCT(1), .dup_corr = PCT(5),
				      .corrupt = PCT(0.1), .corrupt_corr = PCT(1) };
	valid(&p);
	p = (struct nc_netem_params){ .rate_bps = 1000000, .packet_overhead = -4, .limit = 50 };
	valid(&p);
	p = (struct nc_netem_params){ 0 };
	nc_netem_set_gimodel(&p, gi, 1);
	p.ecn = true;
	valid(&p);
	p = (struct nc_netem_params){ 0 };
	nc_netem_set_gemodel(&p, ge, 4);
	valid(&p);
	/* 1-k alone (loss in the good state) is a Bernoulli loss */
	p = (struct nc_netem_params){ .loss_model.model = NC_NETEM_LOSS_GE };
	p.loss_model.p[NC_GE_K1] = PCT(1);
	valid(&p);
}

static void test_validate_rules(void **state)
{
	struct nc_netem_params p;

	p = (struct nc_netem_params){ 0 };
	invalid(&p, "does nothing");
	p = (struct nc_netem_params){ .jitter_ns = MS };
	invalid(&p, "jitter needs a delay");
	p = (struct nc_netem_params){ .latency_ns = MS, .latency_corr = PCT(10) };
	invalid(&p, "delay correlation needs a jitter");
	p = (struct nc_netem_params){ .latency_ns = MS, .dist = NC_NETEM_DIST_PARETO };
	invalid(&p, "distribution pareto needs a delay and a jitter");
	p = (struct nc_netem_params){ .latency_ns = MS, .jitter_ns = MS, .dist = 42 };
	invalid(&p, "unknown delay distribution");
	p = (struct nc_netem_params){ .latency_ns = 3000 * 1000 * MS, .jitter_ns = 601000 * MS };
	invalid(&p, "maximum of 1h");
	p = (struct nc_netem_params){ .latency_ns = UINT64_MAX };
	invalid(&p, "maximum of 1h");
	p = (struct nc_netem_params){ .loss_corr = PCT(10), .latency_ns = MS };
	invalid(&p, "loss correlation needs");
	p = (struct nc_netem_params){ .loss = PCT(1), .loss_model.model = NC_NETEM_LOSS_GE };
	p.loss_model.p[NC_GE_K1] = PCT(1);
	invalid(&p, "either a random loss or a loss model");
	p = (struct nc_netem_params){ .loss_model.model = 9 };
	invalid(&p, "unknown loss model");
	p = (struct nc_netem_params){ .duplicate = 0, .dup_corr = PCT(1), .latency_ns = MS };
	invalid(&p, "duplicate correlation needs");
	p = (struct nc_netem_params){ .reorder = PCT(25) };
	invalid(&p, "reorder needs a delay");
	p = (struct nc_netem_params){ .latency_ns = MS, .reorder_corr = PCT(5) };
	invalid(&p, "reorder correlation needs");
	p = (struct nc_netem_params){ .latency_ns = MS, .gap = 5 };
	invalid(&p, "gap needs reorder");
	p = (struct nc_netem_params){ .latency_ns = MS, .corrupt_corr = PCT(5) };
	invalid(&p, "corrupt correlation needs");
	p = (struct nc_netem_params){ .latency_ns = MS, .ecn = true };
	invalid(&p, "ecn needs a loss");
	p = (struct nc_netem_params){ .rate_bps = 7 };
	invalid(&p, "rate must be between");
	p = (struct nc_netem_params){ .rate_bps = NC_NETEM_MAX_RATE_BPS + 1 };
	invalid(&p, "rate must be between");
	p = (struct nc_netem_params){ .latency_ns = MS, .packet_overhead = 4 };
	invalid(&p, "packet overhead needs a rate");
	p = (struct nc_netem_params){ .rate_bps = 1000000, .packet_overhead = -41 };
	invalid(&p, "out of range");
	p = (struct nc_netem_params){ .rate_bps = 1000000, .packet_overhead = 65536 };
	invalid(&p, "out of range");
}

static void test_validate_loss_models(void **state)
{
	struct nc_netem_params p = { .loss_model.model = NC_NETEM_LOSS_GI };
	uint32_t *m = p.loss_model.p;

	invalid(&p, "never loses a packet");
	m[NC_GI_P13] = PCT(60);
	m[NC_GI_P14] = PCT(50);
	invalid(&p, "p13 + p14");
	m[NC_GI_P14] = PCT(40);
	m[NC_GI_P31] = PCT(70);
	m[NC_GI_P32] = PCT(40);
	invalid(&p, "p31 + p32");
	/* 70 % + 30 % round to 2^32: the rounding of two percentages passes */
	m[NC_GI_P32] = PCT(30);
	assert_true((uint64_t)m[NC_GI_P31] + m[NC_GI_P32] > UINT32_MAX);
	valid(&p);
	m[NC_GI_P32] = PCT(30) + 2;
	invalid(&p, "p31 + p32");
	m[NC_GI_P32] = PCT(30);
	m[NC_GI_P13] = UINT32_MAX;
	m[NC_GI_P14] = 0;
	valid(&p);

	p = (struct nc_netem_params){ .loss_model.model = NC_NETEM_LOSS_GE };
	m[NC_GE_P] = PCT(1);
	m[NC_GE_H] = UINT32_MAX; /* nothing lost in the bad state */
	invalid(&p, "gemodel never loses");
	m[NC_GE_H] = 0;
	valid(&p);
}

static void test_loss_model_tc_defaults(void **state)
{
	struct nc_netem_params p = { 0 };
	uint32_t v[5] = { PCT(5), PCT(80), PCT(10), PCT(90), PCT(1) };

	/* "loss state 5%": p31 = 95 %, p32 = 0, p23 = 100 %, p14 = 0 */
	nc_netem_set_gimodel(&p, v, 1);
	assert_int_equal(p.loss_model.model, NC_NETEM_LOSS_GI);
	assert_int_equal(p.loss_model.p[NC_GI_P13], PCT(5));
	assert_int_equal(p.loss_model.p[NC_GI_P31], UINT32_MAX - PCT(5));
	assert_int_equal(p.loss_model.p[NC_GI_P32], 0);
	assert_int_equal(p.loss_model.p[NC_GI_P23], UINT32_MAX);
	assert_int_equal(p.loss_model.p[NC_GI_P14], 0);
	/* tc's order is P13 P31 P32 P23 P14; the kernel's struct has p14 first */
	nc_netem_set_gimodel(&p, v, 5);
	assert_int_equal(p.loss_model.p[NC_GI_P31], PCT(80));
	assert_int_equal(p.loss_model.p[NC_GI_P32], PCT(10));
	assert_int_equal(p.loss_model.p[NC_GI_P23], PCT(90));
	assert_int_equal(p.loss_model.p[NC_GI_P14], PCT(1));

	/* "loss gemodel 1%": r = 100 %, 1-h = 100 % (h = 0), 1-k = 0 */
	nc_netem_set_gemodel(&p, v, 1);
	assert_int_equal(p.loss_model.model, NC_NETEM_LOSS_GE);
	assert_int_equal(p.loss_model.p[NC_GE_P], PCT(5));
	assert_int_equal(p.loss_model.p[NC_GE_R], UINT32_MAX);
	assert_int_equal(p.loss_model.p[NC_GE_H], 0);
	assert_int_equal(p.loss_model.p[NC_GE_K1], 0);
	/* "loss gemodel 5% 80% 10% 90%": h = 1 - 10 % */
	nc_netem_set_gemodel(&p, v, 4);
	assert_int_equal(p.loss_model.p[NC_GE_R], PCT(80));
	assert_int_equal(p.loss_model.p[NC_GE_H], UINT32_MAX - PCT(10));
	assert_int_equal(p.loss_model.p[NC_GE_K1], PCT(90));
}

static void test_default_limit(void **state)
{
	struct nc_netem_params p = { .loss = PCT(1) };

	assert_int_equal(nc_netem_default_limit(&p), 10000);
	p.latency_ns = 5 * MS;
	assert_int_equal(nc_netem_default_limit(&p), 10000);
	p.latency_ns = 20 * MS;
	p.jitter_ns = 5 * MS;
	assert_int_equal(nc_netem_default_limit(&p), 25000);
	p.latency_ns = 20 * MS + 1; /* rounded up to the millisecond */
	assert_int_equal(nc_netem_default_limit(&p), 26000);
	p.latency_ns = 10000 * MS;
	assert_int_equal(nc_netem_default_limit(&p), 100000);
	/* tc's 1000 would drop 100 Mbit/s of 1500-byte packets delayed 150 ms */
	p = (struct nc_netem_params){ .latency_ns = 150 * MS };
	assert_true(nc_netem_default_limit(&p) >= 100000000 / 8 / 1500 * 150 / 1000);

	/* with a rate: a bottleneck's buffer, (delay + 100 ms) at the rate */
	p = (struct nc_netem_params){ .rate_bps = 1000000 };
	assert_int_equal(nc_netem_default_limit(&p), 64);
	p.rate_bps = 1000000000; /* 83333 pkt/s x 0.1 s */
	assert_int_equal(nc_netem_default_limit(&p), 8333);
	p.latency_ns = 100 * MS;
	assert_int_equal(nc_netem_default_limit(&p), 16666);
	p.rate_bps = 100000000000ull;
	assert_int_equal(nc_netem_default_limit(&p), 100000);
}

/* ---- distribution tables ---- */

static int read_dist(const char *path, int16_t *t, int max)
{
	char line[4096];
	FILE *f = fopen(path, "r");
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *s = line, *e;

		if (line[0] == '#')
			continue;
		for (;;) {
			long x = strtol(s, &e, 0);

			if (e == s || n >= max)
				break;
			t[n++] = (int16_t)x;
			s = e;
		}
	}
	fclose(f);
	return n;
}

static void test_dist_tables_match_iproute2(void **state)
{
	static const char *const dirs[] = { "/usr/lib/x86_64-linux-gnu/tc", "/usr/lib/tc",
					    "/usr/lib64/tc", "/usr/lib/aarch64-linux-gnu/tc" };
	static const int dists[] = { NC_NETEM_DIST_NORMAL, NC_NETEM_DIST_PARETO,
				     NC_NETEM_DIST_PARETONORMAL };
	int16_t ours[NC_NETEM_DIST_TABLE_LEN], theirs[8192];
	char path[256];
	size_t d, i;
	int compared = 0;

	for (d = 0; d < sizeof(dists) / sizeof(dists[0]); d++) {
		int n = -1, k;

		assert_int_equal(nc_netem_dist_table(dists[d], ours, NC_NETEM_DIST_TABLE_LEN),
				 NC_NETEM_DIST_TABLE_LEN);
		for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && n < 0; i++) {
			snprintf(path, sizeof(path), "%s/%s.dist", dirs[i],
				 nc_netem_dist_name(dists[d]));
			n = read_dist(path, theirs, 8192);
		}
		if (n < 0)
			continue;
		assert_int_equal(n, NC_NETEM_DIST_TABLE_LEN);
		for (k = 0; k < n; k++)
			if (ours[k] != theirs[k])
				fail_msg("%s entry %d: %d, iproute2 has %d", path, k, ours[k],
					 theirs[k]);
		compared++;
	}
	if (!compared) {
		printf("# SKIP iproute2's .dist files are not installed\n");
		skip();
	}
}

static void test_dist_tables_shape(void **state)
{
	int16_t t[NC_NETEM_DIST_TABLE_LEN];
	long sum = 0;
	int k;

	/* uniform: midpoints of [-8192, 8192), symmetric, increasing */
	assert_int_equal(nc_netem_dist_table(NC_NETEM_DIST_UNIFORM, t, NC_NETEM_DIST_TABLE_LEN),
			 NC_NETEM_DIST_TABLE_LEN);
	assert_int_equal(t[0], -8190);
	assert_int_equal(t[NC_NETEM_DIST_TABLE_LEN - 1], 8190);
	for (k = 0; k < NC_NETEM_DIST_TABLE_LEN; k++) {
		sum += t[k];
		if (k)
			assert_true(t[k] > t[k - 1]);
	}
	assert_int_equal(sum, 0);
	/* normal: increasing, centred, clamped to s16 at the low end */
	nc_netem_dist_table(NC_NETEM_DIST_NORMAL, t, NC_NETEM_DIST_TABLE_LEN);
	assert_int_equal(t[0], -32768);
	assert_true(t[2048] >= 0 && t[2048] < 10);
	for (k = 1; k < NC_NETEM_DIST_TABLE_LEN; k++)
		assert_true(t[k] >= t[k - 1]);
	/* too small a buffer, unknown kinds */
	assert_int_equal(nc_netem_dist_table(NC_NETEM_DIST_NORMAL, t, 100), -EINVAL);
	assert_int_equal(nc_netem_dist_table(NC_NETEM_DIST_NONE, t, NC_NETEM_DIST_TABLE_LEN),
			 -EINVAL);
}

static void test_dist_names(void **state)
{
	int d = -1;

	assert_int_equal(nc_netem_parse_dist("paretonormal", &d, err, sizeof(err)), 0);
	assert_int_equal(d, NC_NETEM_DIST_PARETONORMAL);
	assert_int_equal(nc_netem_parse_dist("uniform", &d, err, sizeof(err)), 0);
	assert_int_equal(d, NC_NETEM_DIST_UNIFORM);
	assert_int_equal(nc_netem_parse_dist("gauss", &d, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown distribution 'gauss'"));
	assert_string_equal(nc_netem_dist_name(NC_NETEM_DIST_NORMAL), "normal");
	assert_string_equal(nc_netem_dist_name(99), "unknown");
}

static void test_describe(void **state)
{
	struct nc_netem_params p = {
		.latency_ns = 100 * MS,
		.jitter_ns = 10 * MS,
		.latency_corr = PCT(25),
		.dist = NC_NETEM_DIST_NORMAL,
		.loss = PCT(1),
	};
	uint32_t ge[] = { PCT(1), PCT(10), PCT(70), PCT(0.1) };
	char buf[256];

	nc_netem_describe(&p, buf, sizeof(buf));
	assert_string_equal(buf, "delay 100ms 10ms 25% distribution normal loss 1%");
	p = (struct nc_netem_params){ .latency_ns = MS, .reorder = PCT(25), .gap = 5,
				      .rate_bps = 1500000, .packet_overhead = 4,
				      .limit = 500 };
	nc_netem_describe(&p, buf, sizeof(buf));
	assert_string_equal(buf, "delay 1ms reorder 25% gap 5 rate 1.5Mbit overhead 4 limit 500");
	p = (struct nc_netem_params){ .ecn = true };
	nc_netem_set_gemodel(&p, ge, 4);
	nc_netem_describe(&p, buf, sizeof(buf));
	assert_string_equal(buf, "loss gemodel p 1% r 10% 1-h 70% 1-k 0.1% ecn");
	/* truncation keeps a terminated string */
	nc_netem_describe(&p, buf, 8);
	assert_true(strlen(buf) < 8);
	assert_true(!strncmp(buf, "loss g", strlen(buf)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate_units),
		cmocka_unit_test(test_rate_refused),
		cmocka_unit_test(test_rate_format),
		cmocka_unit_test(test_time_units),
		cmocka_unit_test(test_validate_accepts),
		cmocka_unit_test(test_validate_rules),
		cmocka_unit_test(test_validate_loss_models),
		cmocka_unit_test(test_loss_model_tc_defaults),
		cmocka_unit_test(test_default_limit),
		cmocka_unit_test(test_dist_tables_match_iproute2),
		cmocka_unit_test(test_dist_tables_shape),
		cmocka_unit_test(test_dist_names),
		cmocka_unit_test(test_describe),
	};

	return cmocka_run_group_tests_name("netem_params", tests, NULL, NULL);
}
