// SPDX-License-Identifier: GPL-2.0-only
/*
 * Units users type (durations, percentages, ports, addresses, protocols,
 * directions, fault kinds): strict parsers that explain every rejection in
 * one line, and the printers that produce what the parsers accept.
 *
 * Numbers are parsed by hand rather than with strtod()/strtoul(): those
 * accept leading blanks, signs, hex, "inf" and the locale's decimal point,
 * none of which belongs in "--for 2m".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "errmsg.h"
#include "units.h"

#define MAX_FRAC_DIGITS 12 /* keeps int * 10^digits exact in a double */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * A decimal "123" or "1.25" at the start of s: integer part (at least one
 * digit), optional '.' with at least one digit. Returns the characters used,
 * 0 if s does not start with a number, -ERANGE if it has too many digits.
 */
int nc_parse_decimal(const char *s, uint64_t *ip, uint64_t *frac, unsigned int *fdigits)
{
	const char *p = s;
	unsigned int n = 0;

	*ip = *frac = 0;
	*fdigits = 0;
	if (!is_digit(*p))
		return 0;
	for (; is_digit(*p); p++) {
		if (++n > 15)
			return -ERANGE;
		*ip = *ip * 10 + (uint64_t)(*p - '0');
	}
	if (*p != '.')
		return (int)(p - s);
	if (!is_digit(p[1]))
		return 0;
	for (p++; is_digit(*p); p++) {
		if (++*fdigits > MAX_FRAC_DIGITS)
			return -ERANGE;
		*frac = *frac * 10 + (uint64_t)(*p - '0');
	}
	return (int)(p - s);
}

static uint64_t pow10_u64(unsigned int n)
{
	uint64_t r = 1;

	while (n--)
		r *= 10;
	return r;
}

/* ---- durations ---- */

static const struct {
	const char *name;
	uint64_t ms;
} duration_units[] = {
	/* Largest first: a compound duration must use them in this order. */
	{ "h", 3600 * 1000 },
	{ "m", 60 * 1000 },
	{ "s", 1000 },
	{ "ms", 1 },
};
#define N_DURATION_UNITS (sizeof(duration_units) / sizeof(duration_units[0]))

int nc_parse_duration_ms_err(const char *s, uint64_t *ms, char *err, size_t errlen)
{
	const char *p = s;
	size_t last_unit = 0;
	uint64_t total = 0;
	bool first = true;

	if (!s || !*s) {
		nc_set_err(err, errlen, "empty duration (use e.g. 500ms, 30s, 2m or 1h)");
		return -EINVAL;
	}
	while (*p) {
		uint64_t ip, frac, part, scale;
		unsigned int fd;
		size_t ulen, u;
		int n;

		n = nc_parse_decimal(p, &ip, &frac, &fd);
		if (n < 0) {
			nc_set_err(err, errlen, "duration '%s' has too many digits", s);
			return -EINVAL;
		}
		if (n == 0) {
			nc_set_err(err, errlen, "invalid duration '%s' (use e.g. 500ms, 30s, 2m or 1h)", s);
			return -EINVAL;
		}
		p += n;
		for (ulen = 0; p[ulen] >= 'a' && p[ulen] <= 'z'; ulen++)
			;
		if (ulen == 0) {
			if (*p)
				nc_set_err(err, errlen, "invalid duration '%s' (use e.g. 500ms, 30s, 2m or 1h)", s);
			else if (first)
				nc_set_err(err, errlen, "duration '%s' needs a unit: ms, s, m or h (e.g. %ss)",
					   s, s);
			else
				nc_set_err(err, errlen, "duration '%s' needs a unit after '%.*s' (ms, s, m or h)",
					   s, n, p - n);
			return -EINVAL;
		}
		for (u = 0; u < N_DURATION_UNITS; u++)
			if (strlen(duration_units[u].name) == ulen &&
			    !strncmp(p, duration_units[u].name, ulen))
				break;
		if (u == N_DURATION_UNITS) {
			nc_set_err(err, errlen, "unknown unit '%.*s' in duration '%s' (use ms, s, m or h)",
				   (int)ulen, p, s);
			return -EINVAL;
		}
		if (!first && u <= last_unit) {
			nc_set_err(err, errlen, "invalid duration '%s': units must go from largest to smallest, each once (e.g. 1h30m)", s);
			return -EINVAL;
		}
		p += ulen;

		/* Everything is exact: a 24h cap keeps the products far from overflow. */
		if (ip > NC_MAX_DURATION_MS) {
			nc_set_err(err, errlen, "duration '%s' is longer than the maximum of 24h", s);
			return -EINVAL;
		}
		scale = pow10_u64(fd);
		part = ip * duration_units[u].ms;
		if ((frac * duration_units[u].ms) % scale) {
			nc_set_err(err, errlen, "duration '%s' is not a whole number of milliseconds", s);
			return -EINVAL;
		}
		part += frac * duration_units[u].ms / scale;
		total += part;
		if (total > NC_MAX_DURATION_MS) {
			nc_set_err(err, errlen, "duration '%s' is longer than the maximum of 24h", s);
			return -EINVAL;
		}
		last_unit = u;
		first = false;
	}
	if (total == 0) {
		nc_set_err(err, errlen, "duration '%s' is zero; it must be at least 1ms", s);
		return -EINVAL;
	}
	*ms = total;
	return 0;
}

int nc_parse_duration_ms(const char *s, uint64_t *ms)
{
	return nc_parse_duration_ms_err(s, ms, NULL, 0);
}

void nc_format_duration(uint64_t ms, char *buf, size_t len)
{
	size_t pos = 0, u;

	if (!len)
		return;
	buf[0] = '\0';
	if (ms == 0) {
		snprintf(buf, len, "0s");
		return;
	}
	for (u = 0; u < N_DURATION_UNITS; u++) {
		uint64_t n = ms / duration_units[u].ms;
		int w;

		if (!n)
			continue;
		ms -= n * duration_units[u].ms;
		w = snprintf(buf + pos, len - pos, "%llu%s", (unsigned long long)n,
			     duration_units[u].name);
		if (w < 0 || (size_t)w >= len - pos)
			return; /* truncated, still terminated */
		pos += (size_t)w;
	}
}

/* ---- percentages ---- */

int nc_percent_to_prob(double percent, uint32_t *prob)
{
	double x;

	if (!(percent >= 0.0 && percent <= 100.0)) /* also catches NaN */
		return -ERANGE;
	x = percent / 100.0 * (double)UINT32_MAX;
	*prob = (uint32_t)(x + 0.5);
	return 0;
}

/* ip.frac as a double with a single rounding, as strtod() would do it. */
static double decimal_value(uint64_t ip, uint64_t frac, unsigned int fd)
{
	uint64_t scale = pow10_u64(fd);

	return (double)(ip * scale + frac) / (double)scale;
}

int nc_parse_percent_err(const char *s, uint32_t *prob, char *err, size_t errlen)
{
	uint64_t ip, frac;
	unsigned int fd;
	int n;

	if (!s || !*s) {
		nc_set_err(err, errlen, "empty percentage (use e.g. 30%% or 0.1%%)");
		return -EINVAL;
	}
	n = nc_parse_decimal(s, &ip, &frac, &fd);
	if (n < 0) {
		nc_set_err(err, errlen, "percentage '%s' has too many digits", s);
		return -EINVAL;
	}
	if (n > 0 && ip > 100) {
		nc_set_err(err, errlen, "percentage '%s' is out of range (0 to 100%%)", s);
		return -EINVAL;
	}
	if (n == 0 || (s[n] && strcmp(s + n, "%"))) {
		nc_set_err(err, errlen, "invalid percentage '%s' (use e.g. 30%% or 0.1%%)", s);
		return -EINVAL;
	}
	if (nc_percent_to_prob(decimal_value(ip, frac, fd), prob)) {
		nc_set_err(err, errlen, "percentage '%s' is out of range (0 to 100%%)", s);
		return -EINVAL;
	}
	return 0;
}

int nc_parse_percent(const char *s, uint32_t *prob)
{
	return nc_parse_percent_err(s, prob, NULL, 0);
}

double nc_prob_to_percent(uint32_t prob)
{
	return (double)prob * 100.0 / (double)UINT32_MAX;
}

void nc_format_percent_number(uint32_t prob, char *buf, size_t len)
{
	double p = nc_prob_to_percent(prob);
	char tmp[32];
	int prec;

	/* 12 decimals always round-trip: one step of prob is 2.3e-8 %. */
	for (prec = 0; prec <= MAX_FRAC_DIGITS; prec++) {
		uint64_t ip, frac;
		unsigned int fd;
		uint32_t back;

		snprintf(tmp, sizeof(tmp), "%.*f", prec, p);
		if (nc_parse_decimal(tmp, &ip, &frac, &fd) <= 0)
			continue;
		if (!nc_percent_to_prob(decimal_value(ip, frac, fd), &back) && back == prob)
			break;
	}
	snprintf(buf, len, "%s", tmp);
}

void nc_format_percent(uint32_t prob, char *buf, size_t len)
{
	char num[32];

	nc_format_percent_number(prob, num, sizeof(num));
	snprintf(buf, len, "%s%%", num);
}

/* ---- ports ---- */

/* 1..65535 from exactly the characters [s, s+n). */
static int parse_port_number(const char *s, size_t n, uint16_t *port)
{
	uint32_t v = 0;
	size_t i;

	if (n == 0 || n > 5)
		return n ? -ERANGE : -EINVAL;
	for (i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -EINVAL;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -ERANGE;
	*port = (uint16_t)v;
	return 0;
}

int nc_parse_port_range_err(const char *s, uint16_t *lo, uint16_t *hi, char *err, size_t errlen)
{
	const char *dash;
	uint16_t a, b;
	int ra, rb;

	if (!s || !*s) {
		nc_set_err(err, errlen, "empty port (use e.g. 80 or 1000-2000)");
		return -EINVAL;
	}
	dash = strchr(s, '-');
	if (!dash) {
		ra = parse_port_number(s, strlen(s), &a);
		rb = 0;
		b = a;
	} else {
		ra = parse_port_number(s, (size_t)(dash - s), &a);
		rb = parse_port_number(dash + 1, strlen(dash + 1), &b);
	}
	if (ra == -EINVAL || rb == -EINVAL) {
		nc_set_err(err, errlen, "invalid port '%s' (use e.g. 80 or 1000-2000)", s);
		return -EINVAL;
	}
	if (ra || rb) {
		nc_set_err(err, errlen, "port '%s' is out of range (1 to 65535)", s);
		return -EINVAL;
	}
	if (a > b) {
		nc_set_err(err, errlen, "port range '%s' is reversed: did you mean %u-%u?", s, b, a);
		return -EINVAL;
	}
	*lo = a;
	*hi = b;
	return 0;
}

int nc_parse_port_range(const char *s, uint16_t *lo, uint16_t *hi)
{
	return nc_parse_port_range_err(s, lo, hi, NULL, 0);
}

void nc_format_port(const struct nc_port_spec *p, char *buf, size_t len)
{
	if (p->lo == p->hi)
		snprintf(buf, len, "%u", p->lo);
	else
		snprintf(buf, len, "%u-%u", p->lo, p->hi);
}

/* ---- addresses ---- */

static unsigned int family_bits(uint8_t family)
{
	return family == 4 ? 32 : 128;
}

/* Zero every bit of addr beyond prefixlen; true if any was set. */
static bool clear_host_bits(uint8_t *addr, unsigned int bits, unsigned int prefixlen)
{
	bool had = false;
	unsigned int i;

	for (i = prefixlen; i < bits; i++) {
		uint8_t m = (uint8_t)(0x80u >> (i % 8));

		if (addr[i / 8] & m) {
			had = true;
			addr[i / 8] &= (uint8_t)~m;
		}
	}
	return had;
}

static void format_addr(const struct nc_cidr *c, char *buf, size_t len)
{
	char tmp[INET6_ADDRSTRLEN];

	if (!inet_ntop(c->family == 4 ? AF_INET : AF_INET6, c->addr, tmp, sizeof(tmp)))
		snprintf(tmp, sizeof(tmp), "?");
	snprintf(buf, len, "%s", tmp);
}

int nc_parse_cidr_err(const char *s, struct nc_cidr *out, char *err, size_t errlen)
{
	char addr[INET6_ADDRSTRLEN + 1], net[INET6_ADDRSTRLEN];
	struct nc_cidr c;
	const char *slash;
	unsigned int bits, plen = 0;
	size_t alen;

	if (!s || !*s) {
		nc_set_err(err, errlen, "empty address (use e.g. 10.0.0.1, 10.0.0.0/8 or fd00::/64)");
		return -EINVAL;
	}
	memset(&c, 0, sizeof(c));
	slash = strchr(s, '/');
	alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen >= sizeof(addr))
		goto bad_addr;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, c.addr) == 1)
		c.family = 4;
	else if (inet_pton(AF_INET6, addr, c.addr) == 1)
		c.family = 6;
	else
		goto bad_addr;
	bits = family_bits(c.family);

	if (!slash) {
		plen = bits;
	} else {
		const char *p = slash + 1;

		if (!*p || strlen(p) > 3)
			goto bad_len;
		for (; *p; p++) {
			if (!is_digit(*p))
				goto bad_len;
			plen = plen * 10 + (unsigned int)(*p - '0');
		}
		if (plen > bits)
			goto bad_len;
	}
	c.prefixlen = (uint8_t)plen;
	if (clear_host_bits(c.addr, bits, plen)) {
		format_addr(&c, net, sizeof(net));
		nc_set_err(err, errlen, "%s has host bits set; did you mean %s/%u?", s, net, plen);
		return -EINVAL;
	}
	*out = c;
	return 0;

bad_addr:
	nc_set_err(err, errlen, "invalid IP address '%s' (use e.g. 10.0.0.1, 10.0.0.0/8 or fd00::/64)", s);
	return -EINVAL;
bad_len:
	nc_set_err(err, errlen, "invalid prefix length in '%s' (0 to %u for IPv%u)", s, bits,
		   c.family);
	return -EINVAL;
}

int nc_parse_cidr(const char *s, struct nc_cidr *out)
{
	return nc_parse_cidr_err(s, out, NULL, 0);
}

int nc_cidr_check(const struct nc_cidr *c, char *err, size_t errlen)
{
	char a[INET6_ADDRSTRLEN], n[INET6_ADDRSTRLEN];
	struct nc_cidr net;
	unsigned int i;

	if (c->family != 4 && c->family != 6) {
		nc_set_err(err, errlen, "invalid address family %u (expected 4 or 6)", c->family);
		return -EINVAL;
	}
	if (c->prefixlen > family_bits(c->family)) {
		nc_set_err(err, errlen, "invalid prefix length %u for IPv%u", c->prefixlen, c->family);
		return -EINVAL;
	}
	for (i = 4; c->family == 4 && i < sizeof(c->addr); i++) {
		if (c->addr[i]) {
			nc_set_err(err, errlen, "IPv4 address with bytes set beyond the first 4");
			return -EINVAL;
		}
	}
	net = *c;
	if (clear_host_bits(net.addr, family_bits(c->family), c->prefixlen)) {
		format_addr(c, a, sizeof(a));
		format_addr(&net, n, sizeof(n));
		nc_set_err(err, errlen, "%s/%u has host bits set; did you mean %s/%u?", a,
			   c->prefixlen, n, c->prefixlen);
		return -EINVAL;
	}
	return 0;
}

void nc_format_cidr(const struct nc_cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	format_addr(c, a, sizeof(a));
	/* A host is printed the way users type it: without /32 or /128. */
	if (c->prefixlen == family_bits(c->family))
		snprintf(buf, len, "%s", a);
	else
		snprintf(buf, len, "%s/%u", a, c->prefixlen);
}

/* ---- names ---- */

static const struct {
	const char *name;
	uint8_t bit;
} proto_names[] = {
	{ "tcp", NC_PROTO_TCP },
	{ "udp", NC_PROTO_UDP },
	{ "icmp", NC_PROTO_ICMP },
	{ "icmpv6", NC_PROTO_ICMP }, /* one bit covers ICMP and ICMPv6 */
	{ "icmp6", NC_PROTO_ICMP },
};

int nc_parse_proto_err(const char *s, uint8_t *bit, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; s && i < sizeof(proto_names) / sizeof(proto_names[0]); i++) {
		if (!strcasecmp(s, proto_names[i].name)) {
			*bit = proto_names[i].bit;
			return 0;
		}
	}
	nc_set_err(err, errlen, "unknown protocol '%s' (expected tcp, udp or icmp)", s ? s : "");
	return -EINVAL;
}

int nc_parse_proto(const char *s, uint8_t *bit)
{
	return nc_parse_proto_err(s, bit, NULL, 0);
}

const char *nc_proto_name(uint8_t bit)
{
	switch (bit) {
	case NC_PROTO_TCP:
		return "tcp";
	case NC_PROTO_UDP:
		return "udp";
	case NC_PROTO_ICMP:
		return "icmp";
	}
	return "?";
}

int nc_parse_direction_err(const char *s, uint8_t *dir_mask, char *err, size_t errlen)
{
	if (s && !strcasecmp(s, "egress"))
		*dir_mask = NC_DIR_EGRESS;
	else if (s && !strcasecmp(s, "ingress"))
		*dir_mask = NC_DIR_INGRESS;
	else if (s && !strcasecmp(s, "both"))
		*dir_mask = NC_DIR_BOTH;
	else {
		nc_set_err(err, errlen, "unknown direction '%s' (expected egress, ingress or both)",
			   s ? s : "");
		return -EINVAL;
	}
	return 0;
}

int nc_parse_direction(const char *s, uint8_t *dir_mask)
{
	return nc_parse_direction_err(s, dir_mask, NULL, 0);
}

const char *nc_direction_name(uint8_t dir_mask)
{
	switch (dir_mask) {
	case NC_DIR_EGRESS:
		return "egress";
	case NC_DIR_INGRESS:
		return "ingress";
	case NC_DIR_BOTH:
		return "both";
	}
	return "none";
}

static const char *const fault_names[NC_FAULT__COUNT] = {
	[NC_FAULT_NONE] = "none",
	[NC_FAULT_DROP] = "drop",
	[NC_FAULT_LOSS] = "loss",
	[NC_FAULT_CORRUPT] = "corrupt",
	[NC_FAULT_PARTITION] = "partition",
	[NC_FAULT_DELAY] = "delay",
	[NC_FAULT_DUPLICATE] = "duplicate",
	[NC_FAULT_REORDER] = "reorder",
	[NC_FAULT_RATE] = "rate",
};
_Static_assert(NC_FAULT__COUNT == 9, "name every fault kind in fault_names[]");

int nc_parse_fault_kind_err(const char *s, enum nc_fault_kind *kind, char *err, size_t errlen)
{
	int k;

	for (k = NC_FAULT_NONE + 1; s && k < NC_FAULT__COUNT; k++) {
		if (!strcmp(s, fault_names[k])) {
			*kind = (enum nc_fault_kind)k;
			return 0;
		}
	}
	nc_set_err(err, errlen, "unknown fault '%s' (expected drop, loss, corrupt, partition, delay, duplicate, reorder or rate)",
		   s ? s : "");
	return -EINVAL;
}

int nc_parse_fault_kind(const char *s, enum nc_fault_kind *kind)
{
	return nc_parse_fault_kind_err(s, kind, NULL, 0);
}

const char *nc_fault_kind_name(enum nc_fault_kind kind)
{
	if ((int)kind < 0 || kind >= NC_FAULT__COUNT)
		return "unknown";
	return fault_names[kind];
}
