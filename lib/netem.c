// SPDX-License-Identifier: GPL-2.0-only
/*
 * netem parameters (see netem.h): validation with the cross-field rules of
 * tc-netem(8), the units, the default queue limit, the distribution tables
 * and the tc-like description.
 *
 * The distribution tables are computed here rather than read from
 * iproute2's .dist files: the agent must not depend on iproute2 being
 * installed next to it. No libm either (the build links none): the normal
 * CDF is integrated as an ODE, the cube root is Newton's.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "errmsg.h"
#include "netem.h"
#include "units.h"

#define NSEC_PER_SEC	1000000000ull
#define NSEC_PER_MSEC	1000000ull
#define PCT100		UINT32_MAX	/* 100 % as a kernel probability */

/* ---- numbers ---- */


static uint64_t pow10_u64(unsigned int n)
{
	uint64_t r = 1;

	while (n--)
		r *= 10;
	return r;
}

/* ip.frac x scale, rounded to the nearest integer; false on overflow. */
static bool scale_decimal(uint64_t ip, uint64_t frac, unsigned int fd, uint64_t scale,
			  uint64_t *out, bool *exact)
{
	unsigned __int128 div = pow10_u64(fd);
	unsigned __int128 v = ((unsigned __int128)ip * div + frac) * scale;

	*exact = v % div == 0;
	v = (v + div / 2) / div;
	if (v > UINT64_MAX)
		return false;
	*out = (uint64_t)v;
	return true;
}

/* "<whole>.<rem>" with rem < unit printed to as many digits as unit has
 * zeros, trailing zeros dropped: exact, no floating point. */
static void format_scaled(uint64_t v, uint64_t unit, const char *name, char *buf, size_t len)
{
	uint64_t whole = v / unit, rem = v % unit;
	char frac[24];
	int digits = 0, n;
	uint64_t u;

	for (u = unit; u > 1; u /= 10)
		digits++;
	if (!rem) {
		snprintf(buf, len, "%llu%s", (unsigned long long)whole, name);
		return;
	}
	/* rem with leading zeros to digits places (unit <= 10^12) */
	for (n = digits; n > 0; n--, rem /= 10)
		frac[n - 1] = (char)('0' + rem % 10);
	for (n = digits; n > 0 && frac[n - 1] == '0'; n--)
		;
	frac[n] = '\0';
	snprintf(buf, len, "%llu.%s%s", (unsigned long long)whole, frac, name);
}

/* ---- rates ---- */

static const struct {
	const char *name;
	uint64_t bits; /* bits per second for one unit */
} rate_units[] = {
	{ "bit", 1 },
	{ "kbit", 1000ull },
	{ "mbit", 1000000ull },
	{ "gbit", 1000000000ull },
	{ "tbit", 1000000000000ull },
	{ "kibit", 1024ull },
	{ "mibit", 1024ull * 1024 },
	{ "gibit", 1024ull * 1024 * 1024 },
	{ "tibit", 1024ull * 1024 * 1024 * 1024 },
	/* tc's "bps" is bytes per second */
	{ "bps", 8 },
	{ "kbps", 8000ull },
	{ "mbps", 8000000ull },
	{ "gbps", 8000000000ull },
	{ "tbps", 8000000000000ull },
	{ "kibps", 8ull * 1024 },
	{ "mibps", 8ull * 1024 * 1024 },
	{ "gibps", 8ull * 1024 * 1024 * 1024 },
	{ "tibps", 8ull * 1024 * 1024 * 1024 * 1024 },
};

int nc_netem_parse_rate(const char *s, uint64_t *bits_per_s, char *err, size_t errlen)
{
	uint64_t ip, frac, v;
	unsigned int fd;
	bool exact;
	size_t u;
	int n;

	if (!s || !*s) {
		nc_set_err(err, errlen, "empty rate (use e.g. 1mbit, 100kbit or 10mbps)");
		return -EINVAL;
	}
	n = nc_parse_decimal(s, &ip, &frac, &fd);
	if (n < 0) {
		nc_set_err(err, errlen, "rate '%s' has too many digits", s);
		return -EINVAL;
	}
	if (n == 0) {
		nc_set_err(err, errlen, "invalid rate '%s' (use e.g. 1mbit, 100kbit or 10mbps)", s);
		return -EINVAL;
	}
	if (!s[n]) {
		nc_set_err(err, errlen, "rate '%s' needs a unit: bit, kbit, mbit, gbit (bits/s) or bps, kbps, mbps (bytes/s)",
			   s);
		return -EINVAL;
	}
	for (u = 0; u < sizeof(rate_units) / sizeof(rate_units[0]); u++)
		if (!strcasecmp(s + n, rate_units[u].name))
			break;
	if (u == sizeof(rate_units) / sizeof(rate_units[0])) {
		nc_set_err(err, errlen, "unknown unit '%s' in rate '%s' (use bit, kbit, mbit, gbit, tbit for bits/s or bps, kbps, mbps, gbps for bytes/s)",
			   s + n, s);
		return -EINVAL;
	}
	if (!scale_decimal(ip, frac, fd, rate_units[u].bits, &v, &exact) ||
	    v > NC_NETEM_MAX_RATE_BPS) {
		nc_set_err(err, errlen, "rate '%s' is above the maximum of 100tbit", s);
		return -EINVAL;
	}
	if (v < NC_NETEM_MIN_RATE_BPS) {
		nc_set_err(err, errlen, "rate '%s' is below the minimum of 8bit (1 byte per second)", s);
		return -EINVAL;
	}
	*bits_per_s = v;
	return 0;
}

void nc_netem_format_rate(uint64_t bits_per_s, char *buf, size_t len)
{
	static const struct {
		uint64_t unit;
		const char *name;
	} units[] = {
		{ 1000000000000ull, "Tbit" },
		{ 1000000000ull, "Gbit" },
		{ 1000000ull, "Mbit" },
		{ 1000ull, "Kbit" },
		{ 1, "bit" },
	};
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]) - 1; i++)
		if (bits_per_s >= units[i].unit)
			break;
	format_scaled(bits_per_s, units[i].unit, units[i].name, buf, len);
}

/* ---- times ---- */

static const struct {
	const char *name;
	uint64_t ns;
} time_units[] = {
	{ "s", NSEC_PER_SEC },
	{ "ms", NSEC_PER_MSEC },
	{ "us", 1000ull },
	{ "ns", 1 },
};

int nc_netem_parse_time(const char *s, uint64_t *ns, char *err, size_t errlen)
{
	uint64_t ip, frac, v;
	unsigned int fd;
	bool exact;
	size_t u;
	int n;

	if (!s || !*s) {
		nc_set_err(err, errlen, "empty time (use e.g. 100ms, 1.5ms or 250us)");
		return -EINVAL;
	}
	n = nc_parse_decimal(s, &ip, &frac, &fd);
	if (n < 0) {
		nc_set_err(err, errlen, "time '%s' has too many digits", s);
		return -EINVAL;
	}
	if (n == 0) {
		nc_set_err(err, errlen, "invalid time '%s' (use e.g. 100ms, 1.5ms or 250us)", s);
		return -EINVAL;
	}
	if (!s[n]) {
		nc_set_err(err, errlen, "time '%s' needs a unit: s, ms, us or ns (e.g. %sms)", s, s);
		return -EINVAL;
	}
	for (u = 0; u < sizeof(time_units) / sizeof(time_units[0]); u++)
		if (!strcmp(s + n, time_units[u].name))
			break;
	if (u == sizeof(time_units) / sizeof(time_units[0])) {
		nc_set_err(err, errlen, "unknown unit '%s' in time '%s' (use s, ms, us or ns)", s + n, s);
		return -EINVAL;
	}
	if (!scale_decimal(ip, frac, fd, time_units[u].ns, &v, &exact) ||
	    v > NC_NETEM_MAX_DELAY_NS) {
		nc_set_err(err, errlen, "time '%s' is longer than the maximum of 1h", s);
		return -EINVAL;
	}
	if (!exact) {
		nc_set_err(err, errlen, "time '%s' is not a whole number of nanoseconds", s);
		return -EINVAL;
	}
	*ns = v;
	return 0;
}

void nc_netem_format_time(uint64_t ns, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(time_units) / sizeof(time_units[0]) - 1; i++)
		if (ns >= time_units[i].ns)
			break;
	format_scaled(ns, time_units[i].ns, time_units[i].name, buf, len);
}

/* ---- loss models in tc's terms ---- */

void nc_netem_set_gimodel(struct nc_netem_params *p, const uint32_t *v, int n)
{
	uint32_t *m = p->loss_model.p;

	p->loss_model.model = NC_NETEM_LOSS_GI;
	m[NC_GI_P13] = n > 0 ? v[0] : 0;
	m[NC_GI_P31] = n > 1 ? v[1] : PCT100 - m[NC_GI_P13];
	m[NC_GI_P32] = n > 2 ? v[2] : 0;
	m[NC_GI_P23] = n > 3 ? v[3] : PCT100;
	m[NC_GI_P14] = n > 4 ? v[4] : 0;
}

void nc_netem_set_gemodel(struct nc_netem_params *p, const uint32_t *v, int n)
{
	uint32_t *m = p->loss_model.p;

	p->loss_model.model = NC_NETEM_LOSS_GE;
	m[NC_GE_P] = n > 0 ? v[0] : 0;
	m[NC_GE_R] = n > 1 ? v[1] : PCT100;
	m[NC_GE_H] = n > 2 ? PCT100 - v[2] : 0; /* tc gives 1-h */
	m[NC_GE_K1] = n > 3 ? v[3] : 0;
	m[4] = 0;
}

int nc_netem_loss_params(const struct nc_netem_params *p, uint32_t *v)
{
	const uint32_t *m = p->loss_model.p;
	struct nc_netem_params t;
	int n;

	if (p->loss_model.model == NC_NETEM_LOSS_GE) {
		v[0] = m[NC_GE_P];
		v[1] = m[NC_GE_R];
		v[2] = PCT100 - m[NC_GE_H];
		v[3] = m[NC_GE_K1];
		n = 4;
	} else if (p->loss_model.model == NC_NETEM_LOSS_GI) {
		v[0] = m[NC_GI_P13];
		v[1] = m[NC_GI_P31];
		v[2] = m[NC_GI_P32];
		v[3] = m[NC_GI_P23];
		v[4] = m[NC_GI_P14];
		n = 5;
	} else {
		return 0;
	}
	/* Drop the last value while the defaults give the same model. */
	while (n > 1) {
		memset(&t, 0, sizeof(t));
		if (p->loss_model.model == NC_NETEM_LOSS_GE)
			nc_netem_set_gemodel(&t, v, n - 1);
		else
			nc_netem_set_gimodel(&t, v, n - 1);
		if (memcmp(t.loss_model.p, m, sizeof(t.loss_model.p)))
			break;
		n--;
	}
	return n;
}

/* ---- distributions ---- */

static const char *const dist_names[NC_NETEM_DIST__COUNT] = {
	[NC_NETEM_DIST_NONE] = "none",
	[NC_NETEM_DIST_UNIFORM] = "uniform",
	[NC_NETEM_DIST_NORMAL] = "normal",
	[NC_NETEM_DIST_PARETO] = "pareto",
	[NC_NETEM_DIST_PARETONORMAL] = "paretonormal",
};

int nc_netem_parse_dist(const char *s, int *dist, char *err, size_t errlen)
{
	int d;

	for (d = 0; s && d < NC_NETEM_DIST__COUNT; d++) {
		if (!strcmp(s, dist_names[d])) {
			*dist = d;
			return 0;
		}
	}
	nc_set_err(err, errlen, "unknown distribution '%s' (expected uniform, normal, pareto or paretonormal)",
		   s ? s : "");
	return -EINVAL;
}

const char *nc_netem_dist_name(int dist)
{
	return dist >= 0 && dist < NC_NETEM_DIST__COUNT ? dist_names[dist] : "unknown";
}

#define DIST_SCALE	8192	/* NETEM_DIST_SCALE */
#define DIST_QUANTILES	16384	/* maketable's TABLESIZE; every 4th is kept */

/* Round half away from zero, clamped to int32 first. */
static int32_t round_clamp(double x, int32_t lo, int32_t hi)
{
	if (x <= lo)
		return lo;
	if (x >= hi)
		return hi;
	return (int32_t)(x < 0 ? x - 0.5 : x + 0.5);
}

/*
 * x of the normal quantile at each q[k] (increasing, all >= 0.5). The CDF P
 * and density f of N(0,1) obey P' = f, f' = -x f: integrate from x = 0 with
 * RK4 (global error ~1e-16 at this step) and solve inside each step with a
 * second-order Taylor expansion.
 */
static void normal_quantiles_upper(const double *q, double *x, size_t n)
{
	const double h = 1.0 / 8192;
	double P = 0.5, f = 0.3989422804014327; /* 1/sqrt(2 pi) */
	double t = 0;
	size_t k = 0;

	while (k < n) {
		double k1p = f, k1f = -t * f;
		double k2p = f + h / 2 * k1f, k2f = -(t + h / 2) * (f + h / 2 * k1f);
		double k3p = f + h / 2 * k2f, k3f = -(t + h / 2) * (f + h / 2 * k2f);
		double k4p = f + h * k3f, k4f = -(t + h) * (f + h * k3f);
		double P1 = P + h / 6 * (k1p + 2 * k2p + 2 * k3p + k4p);
		double f1 = f + h / 6 * (k1f + 2 * k2f + 2 * k3f + k4f);

		while (k < n && (q[k] < P1 || t > 8)) {
			double d = (q[k] - P) / f;

			/* P(t + d) ~ P + f d - t f d^2 / 2 */
			d = (q[k] - P) / (f - t * f * d / 2);
			x[k++] = t + d;
		}
		P = P1;
		f = f1;
		t += h;
	}
}

/*
 * maketable finds its x by sweeping [-10, 10] in steps of 0.00005: the last
 * point of that grid strictly below x.
 */
static double sweep_point(double x)
{
	double steps = (x + 10) / 0.00005;
	long m = (long)steps; /* steps > 0: truncation is floor */

	if ((double)m == steps)
		m--;
	return -10 + (double)m * 0.00005;
}

/*
 * maketable's normal table: entry k is the largest x of its grid whose
 * rounded CDF rint(16384 P(x)) is 4k, i.e. the grid point just below the
 * quantile (4k + 0.5) / 16384, times NETEM_DIST_SCALE. Unclamped:
 * paretonormal mixes before clamping.
 */
static void normal_table_raw(double *v)
{
	/* Quantile (4k + 0.5) / 16384 reaches 0.5 at k = 2048. */
	enum { UPPER = NC_NETEM_DIST_TABLE_LEN / 2 };
	static double q[NC_NETEM_DIST_TABLE_LEN], x[NC_NETEM_DIST_TABLE_LEN];
	size_t k, n = 0;

	/* The upper half directly, increasing; the lower half by symmetry,
	 * x(q) = -x(1 - q), where 1 - q increases as k decreases. */
	for (k = UPPER; k < NC_NETEM_DIST_TABLE_LEN; k++)
		q[n++] = (4.0 * k + 0.5) / DIST_QUANTILES;
	for (k = UPPER; k-- > 0;)
		q[n++] = 1.0 - (4.0 * k + 0.5) / DIST_QUANTILES;
	normal_quantiles_upper(q, x, NC_NETEM_DIST_TABLE_LEN - UPPER);
	normal_quantiles_upper(q + (NC_NETEM_DIST_TABLE_LEN - UPPER),
			       x + (NC_NETEM_DIST_TABLE_LEN - UPPER), UPPER);
	n = 0;
	for (k = UPPER; k < NC_NETEM_DIST_TABLE_LEN; k++)
		v[k] = sweep_point(x[n++]) * DIST_SCALE;
	for (k = UPPER; k-- > 0;)
		v[k] = sweep_point(-x[n++]) * DIST_SCALE;
}

static double cube_root(double d) /* 0 < d <= 1 */
{
	double y = 1, next;
	int i;

	/* From above the root, Newton's steps decrease monotonically. */
	for (i = 0; i < 200; i++) {
		next = (2 * y + d / (y * y)) / 3;
		if (next >= y)
			break;
		y = next;
	}
	return y;
}

/* maketable's pareto (a = 3) entry k: the inverse CDF at 1 - k/4096, centred
 * and scaled as tc's pareto.dist; only the upper end is clamped. */
static int32_t pareto_value(size_t k)
{
	double d = (double)(65536 - 16 * k) / 65536;
	double v = (1.0 / cube_root(d) - 1.5) * (4.0 / 3.0) * DIST_SCALE;

	return round_clamp(v, INT32_MIN, 32767);
}

int nc_netem_dist_table(int dist, int16_t *table, size_t n)
{
	static double normal[NC_NETEM_DIST_TABLE_LEN];
	size_t k;

	if (n < NC_NETEM_DIST_TABLE_LEN)
		return -EINVAL;
	switch (dist) {
	case NC_NETEM_DIST_UNIFORM:
		/* Midpoints of 4096 equal slices of [-1, 1) x NETEM_DIST_SCALE:
		 * the kernel's table lookup then spreads delay +- jitter evenly. */
		for (k = 0; k < NC_NETEM_DIST_TABLE_LEN; k++)
			table[k] = (int16_t)(-DIST_SCALE + 2 + 4 * (int)k);
		break;
	case NC_NETEM_DIST_NORMAL:
		normal_table_raw(normal);
		for (k = 0; k < NC_NETEM_DIST_TABLE_LEN; k++)
			table[k] = (int16_t)round_clamp(normal[k], INT16_MIN, INT16_MAX);
		break;
	case NC_NETEM_DIST_PARETO:
		for (k = 0; k < NC_NETEM_DIST_TABLE_LEN; k++)
			table[k] = (int16_t)pareto_value(k);
		break;
	case NC_NETEM_DIST_PARETONORMAL:
		/* 1/4 normal + 3/4 pareto, with C's truncating division. */
		normal_table_raw(normal);
		for (k = 0; k < NC_NETEM_DIST_TABLE_LEN; k++) {
			int32_t nv = round_clamp(normal[k], INT32_MIN, INT32_MAX);
			int32_t v = (nv + 3 * pareto_value(k)) / 4;

			table[k] = (int16_t)(v < INT16_MIN ? INT16_MIN : v > INT16_MAX ? INT16_MAX : v);
		}
		break;
	default:
		return -EINVAL;
	}
	return NC_NETEM_DIST_TABLE_LEN;
}

/* ---- limit ---- */

uint32_t nc_netem_default_limit(const struct nc_netem_params *p)
{
	uint64_t delay = p->latency_ns + p->jitter_ns, pkts;

	if (p->rate_bps) {
		/* bytes/s / 1500 x (delay + 100 ms) */
		unsigned __int128 b = (unsigned __int128)(p->rate_bps / 8) *
				      (delay + 100 * NSEC_PER_MSEC);

		pkts = (uint64_t)(b / (1500 * (unsigned __int128)NSEC_PER_SEC));
		return pkts < 64 ? 64 : pkts > 100000 ? 100000 : (uint32_t)pkts;
	}
	/* 1M packets/s = 1000 per millisecond of delay, rounded up */
	pkts = (delay + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC * 1000;
	return pkts < 10000 ? 10000 : pkts > 100000 ? 100000 : (uint32_t)pkts;
}

/* ---- validation ---- */

int nc_netem_validate(const struct nc_netem_params *p, char *err, size_t errlen)
{
	const uint32_t *m = p->loss_model.p;
	bool model = p->loss_model.model != NC_NETEM_LOSS_RANDOM;

	if (p->dist < 0 || p->dist >= NC_NETEM_DIST__COUNT) {
		nc_set_err(err, errlen, "unknown delay distribution %d", p->dist);
		return -EINVAL;
	}
	if (p->loss_model.model < 0 || p->loss_model.model >= NC_NETEM_LOSS__COUNT) {
		nc_set_err(err, errlen, "unknown loss model %d", p->loss_model.model);
		return -EINVAL;
	}
	if (p->latency_ns > NC_NETEM_MAX_DELAY_NS || p->jitter_ns > NC_NETEM_MAX_DELAY_NS ||
	    p->latency_ns + p->jitter_ns > NC_NETEM_MAX_DELAY_NS) {
		nc_set_err(err, errlen, "delay plus jitter is longer than the maximum of 1h");
		return -EINVAL;
	}
	if (p->jitter_ns && !p->latency_ns) {
		nc_set_err(err, errlen, "jitter needs a delay");
		return -EINVAL;
	}
	if (p->latency_corr && !p->jitter_ns) {
		nc_set_err(err, errlen, "delay correlation needs a jitter");
		return -EINVAL;
	}
	if (p->dist != NC_NETEM_DIST_NONE && !p->jitter_ns) {
		nc_set_err(err, errlen, "distribution %s needs a delay and a jitter",
			   nc_netem_dist_name(p->dist));
		return -EINVAL;
	}
	if (p->loss_corr && !p->loss) {
		nc_set_err(err, errlen, "loss correlation needs a random loss percentage");
		return -EINVAL;
	}
	if (model && p->loss) {
		nc_set_err(err, errlen, "give either a random loss or a loss model, not both");
		return -EINVAL;
	}
	if (p->loss_model.model == NC_NETEM_LOSS_GI) {
		/* The kernel draws one number against p14 then p13 (and p32 then
		 * p31): each pair must fit in 100 %, give or take the rounding of
		 * two percentages (the message builder trims that). */
		if ((uint64_t)m[NC_GI_P13] + m[NC_GI_P14] > (uint64_t)PCT100 + 2) {
			nc_set_err(err, errlen, "loss state: p13 + p14 must not exceed 100%%");
			return -EINVAL;
		}
		if ((uint64_t)m[NC_GI_P31] + m[NC_GI_P32] > (uint64_t)PCT100 + 2) {
			nc_set_err(err, errlen, "loss state: p31 + p32 must not exceed 100%%");
			return -EINVAL;
		}
		if (!m[NC_GI_P13] && !m[NC_GI_P14]) {
			nc_set_err(err, errlen, "loss state never loses a packet: p13 and p14 are both 0");
			return -EINVAL;
		}
	} else if (p->loss_model.model == NC_NETEM_LOSS_GE) {
		if (!m[NC_GE_K1] && (!m[NC_GE_P] || m[NC_GE_H] == PCT100)) {
			nc_set_err(err, errlen, "loss gemodel never loses a packet: give p > 0 with 1-h > 0, or 1-k > 0");
			return -EINVAL;
		}
	}
	if (p->dup_corr && !p->duplicate) {
		nc_set_err(err, errlen, "duplicate correlation needs a duplicate percentage");
		return -EINVAL;
	}
	if (p->reorder && !p->latency_ns) {
		nc_set_err(err, errlen, "reorder needs a delay (reordered packets are the ones sent without it)");
		return -EINVAL;
	}
	if (p->reorder_corr && !p->reorder) {
		nc_set_err(err, errlen, "reorder correlation needs a reorder percentage");
		return -EINVAL;
	}
	if (p->gap && !p->reorder) {
		nc_set_err(err, errlen, "gap needs reorder");
		return -EINVAL;
	}
	if (p->corrupt_corr && !p->corrupt) {
		nc_set_err(err, errlen, "corrupt correlation needs a corrupt percentage");
		return -EINVAL;
	}
	if (p->ecn && !p->loss && !model) {
		nc_set_err(err, errlen, "ecn needs a loss (random or a loss model): it marks the packets netem would drop");
		return -EINVAL;
	}
	if (p->rate_bps && (p->rate_bps < NC_NETEM_MIN_RATE_BPS ||
			    p->rate_bps > NC_NETEM_MAX_RATE_BPS)) {
		nc_set_err(err, errlen, "rate must be between 8bit and 100tbit");
		return -EINVAL;
	}
	if (p->packet_overhead && !p->rate_bps) {
		nc_set_err(err, errlen, "packet overhead needs a rate");
		return -EINVAL;
	}
	/* Below -40 the kernel's u64 length would wrap on the smallest packets. */
	if (p->packet_overhead < -40 || p->packet_overhead > 65535) {
		nc_set_err(err, errlen, "packet overhead %d is out of range (-40 to 65535 bytes)",
			   p->packet_overhead);
		return -EINVAL;
	}
	if (!p->latency_ns && !p->loss && !model && !p->duplicate && !p->corrupt &&
	    !p->rate_bps) {
		nc_set_err(err, errlen, "netem rule does nothing: give a delay, loss, duplicate, corrupt or rate");
		return -EINVAL;
	}
	return 0;
}

/* ---- description ---- */

struct sbuf {
	char *buf;
	size_t len, pos;
};

static void __attribute__((format(printf, 2, 3))) sb_add(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (sb->pos >= sb->len)
		return;
	va_start(ap, fmt);
	w = vsnprintf(sb->buf + sb->pos, sb->len - sb->pos, fmt, ap);
	va_end(ap);
	if (w > 0)
		sb->pos = sb->pos + (size_t)w < sb->len ? sb->pos + (size_t)w : sb->len;
}

static const char *pct(uint32_t prob, char *buf, size_t len)
{
	nc_format_percent(prob, buf, len);
	return buf;
}

void nc_netem_describe(const struct nc_netem_params *p, char *buf, size_t len)
{
	struct sbuf sb = { buf, len, 0 };
	const uint32_t *m = p->loss_model.p;
	char a[32], b[32], c[32], d[32], e[32];

	if (!len)
		return;
	buf[0] = '\0';
	if (p->latency_ns) {
		nc_netem_format_time(p->latency_ns, a, sizeof(a));
		sb_add(&sb, " delay %s", a);
		if (p->jitter_ns) {
			nc_netem_format_time(p->jitter_ns, a, sizeof(a));
			sb_add(&sb, " %s", a);
			if (p->latency_corr)
				sb_add(&sb, " %s", pct(p->latency_corr, a, sizeof(a)));
		}
		if (p->dist != NC_NETEM_DIST_NONE)
			sb_add(&sb, " distribution %s", nc_netem_dist_name(p->dist));
	}
	if (p->loss) {
		sb_add(&sb, " loss %s", pct(p->loss, a, sizeof(a)));
		if (p->loss_corr)
			sb_add(&sb, " %s", pct(p->loss_corr, a, sizeof(a)));
	}
	if (p->loss_model.model == NC_NETEM_LOSS_GI)
		sb_add(&sb, " loss state p13 %s p31 %s p32 %s p23 %s p14 %s",
		       pct(m[NC_GI_P13], a, sizeof(a)), pct(m[NC_GI_P31], b, sizeof(b)),
		       pct(m[NC_GI_P32], c, sizeof(c)), pct(m[NC_GI_P23], d, sizeof(d)),
		       pct(m[NC_GI_P14], e, sizeof(e)));
	else if (p->loss_model.model == NC_NETEM_LOSS_GE)
		sb_add(&sb, " loss gemodel p %s r %s 1-h %s 1-k %s", pct(m[NC_GE_P], a, sizeof(a)),
		       pct(m[NC_GE_R], b, sizeof(b)), pct(PCT100 - m[NC_GE_H], c, sizeof(c)),
		       pct(m[NC_GE_K1], d, sizeof(d)));
	if (p->ecn)
		sb_add(&sb, " ecn");
	if (p->duplicate) {
		sb_add(&sb, " duplicate %s", pct(p->duplicate, a, sizeof(a)));
		if (p->dup_corr)
			sb_add(&sb, " %s", pct(p->dup_corr, a, sizeof(a)));
	}
	if (p->reorder) {
		sb_add(&sb, " reorder %s", pct(p->reorder, a, sizeof(a)));
		if (p->reorder_corr)
			sb_add(&sb, " %s", pct(p->reorder_corr, a, sizeof(a)));
		if (p->gap > 1)
			sb_add(&sb, " gap %u", p->gap);
	}
	if (p->corrupt) {
		sb_add(&sb, " corrupt %s", pct(p->corrupt, a, sizeof(a)));
		if (p->corrupt_corr)
			sb_add(&sb, " %s", pct(p->corrupt_corr, a, sizeof(a)));
	}
	if (p->rate_bps) {
		nc_netem_format_rate(p->rate_bps, a, sizeof(a));
		sb_add(&sb, " rate %s", a);
		if (p->packet_overhead)
			sb_add(&sb, " overhead %d", p->packet_overhead);
	}
	if (p->limit)
		sb_add(&sb, " limit %u", p->limit);
	if (buf[0] == ' ')
		memmove(buf, buf + 1, strlen(buf));
}
