// SPDX-License-Identifier: GPL-2.0-only
/*
 * Classifier tests: load the datapath skeleton, write its maps the way the
 * agent would, and run crafted Ethernet/IPv4/IPv6 packets through both TC
 * programs with BPF_PROG_TEST_RUN. Also prints the per-packet cost (TAP
 * comment lines). Needs root and a kernel with BTF; no namespaces.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <netinet/icmp6.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/ip_icmp.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "netchaos/maps.h"
#include "netchaos.skel.h"

#ifndef BPF_F_TEST_SKB_CHECKSUM_COMPLETE
#define BPF_F_TEST_SKB_CHECKSUM_COMPLETE (1U << 2)
#endif

#define PKT_MAX		2048
#define SEEN_MARK	0x00100000u
#define SLOTS_USED	64	/* tests only use slots below this */
#define PROB_MAX	UINT32_MAX
#define PROB(p)		((uint32_t)((p) * 4294967296.0))

#define DIR_EGRESS	0
#define DIR_INGRESS	1

struct fixture {
	struct netchaos_bpf *skel;
	int prog[2];	/* DIR_EGRESS, DIR_INGRESS */
	int match_fd, rules_fd, counters_fd, scopes_fd, ports_fd, global_fd;
	int ncpus;
	uint32_t port_words[512]; /* nc_ports words the test set, cleared by reset_maps */
	int n_port_words;
	bool csum_complete; /* kernel knows BPF_F_TEST_SKB_CHECKSUM_COMPLETE */
};

static struct fixture fx;

/* ---- packets ---------------------------------------------------------- */

struct pkt_spec {
	int family;		/* 4 or 6 */
	uint8_t proto;		/* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6, or other */
	const char *src, *dst;
	uint16_t sport, dport;
	size_t payload;		/* L4 payload bytes */
	uint16_t frag_off;	/* fragment offset in 8-byte units (the L4 bytes stay) */
	bool v6_ext;		/* IPv6: hop-by-hop + destination options headers */
	bool v6_frag;		/* IPv6: a fragment header */
	uint8_t v4_opts;	/* IPv4: 4-byte words of NOP options (ihl 5 + this) */
	uint16_t udp_csum_zero;	/* IPv4 UDP sent without checksum */
};

struct pkt {
	uint8_t align[2]; /* NET_IP_ALIGN: puts the IP header on a 4-byte boundary */
	uint8_t buf[PKT_MAX];
	size_t len;
	size_t l3_off, l4_off, payload_off, csum_off; /* csum_off 0: none */
};

static uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* One's-complement sum of the pseudo header of the packet's IP version. */
static uint32_t pseudo_sum(const struct pkt *p, uint8_t proto, uint32_t l4_len)
{
	uint32_t sum = 0;

	if (p->buf[p->l3_off] >> 4 == 4) {
		const struct iphdr *ip = (const void *)(p->buf + p->l3_off);

		sum = csum_add(sum, &ip->saddr, 8);
	} else {
		const struct ip6_hdr *ip6 = (const void *)(p->buf + p->l3_off);

		sum = csum_add(sum, &ip6->ip6_src, 32);
		sum += l4_len >> 16;
	}
	return sum + proto + (l4_len & 0xffff);
}

static bool is_v4(const struct pkt *p)
{
	return p->buf[p->l3_off] >> 4 == 4;
}

/* The L4 checksum of p as it stands is valid (a zero IPv4 UDP sum counts). */
static bool l4_csum_ok(const struct pkt *p, uint8_t proto)
{
	uint32_t l4_len = (uint32_t)(p->len - p->l4_off), sum;

	if (proto == IPPROTO_UDP && is_v4(p) && !p->buf[p->csum_off] && !p->buf[p->csum_off + 1])
		return true;
	sum = proto == IPPROTO_ICMP ? 0 : pseudo_sum(p, proto, l4_len);
	sum = csum_add(sum, p->buf + p->l4_off, l4_len);
	return csum_fold(sum) == 0xffff;
}

static bool ipv4_hdr_csum_ok(const struct pkt *p)
{
	return csum_fold(csum_add(0, p->buf + p->l3_off, (p->buf[p->l3_off] & 15u) * 4)) == 0xffff;
}

static void put_l4(struct pkt *p, const struct pkt_spec *s, size_t off)
{
	uint8_t *l4 = p->buf + off;
	size_t hlen = 8, i;

	p->l4_off = off;
	switch (s->proto) {
	case IPPROTO_TCP: {
		struct tcphdr *th = (void *)l4;

		hlen = sizeof(*th);
		th->source = htons(s->sport);
		th->dest = htons(s->dport);
		th->seq = htonl(1000);
		th->ack_seq = htonl(2000);
		th->doff = 5;
		th->ack = 1;
		th->psh = s->payload > 0;
		th->window = htons(512);
		p->csum_off = off + offsetof(struct tcphdr, check);
		break;
	}
	case IPPROTO_UDP: {
		struct udphdr *uh = (void *)l4;

		uh->source = htons(s->sport);
		uh->dest = htons(s->dport);
		uh->len = htons((uint16_t)(8 + s->payload));
		p->csum_off = off + offsetof(struct udphdr, check);
		break;
	}
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		struct icmphdr *ih = (void *)l4;

		ih->type = s->proto == IPPROTO_ICMP ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
		ih->un.echo.id = htons(7);
		ih->un.echo.sequence = htons(1);
		p->csum_off = off + offsetof(struct icmphdr, checksum);
		break;
	}
	default:
		hlen = 0;
		break;
	}
	p->payload_off = off + hlen;
	for (i = 0; i < s->payload; i++)
		p->buf[p->payload_off + i] = (uint8_t)(0x41 + i % 26);
	p->len = p->payload_off + s->payload;
}

static void fill_l4_csum(struct pkt *p, const struct pkt_spec *s)
{
	uint32_t l4_len = (uint32_t)(p->len - p->l4_off), sum;
	uint16_t c;

	if (!p->csum_off)
		return;
	if (s->proto == IPPROTO_UDP && s->udp_csum_zero)
		return;
	sum = s->proto == IPPROTO_ICMP ? 0 : pseudo_sum(p, s->proto, l4_len);
	c = htons((uint16_t)~csum_fold(csum_add(sum, p->buf + p->l4_off, l4_len)));
	if (s->proto == IPPROTO_UDP && !c)
		c = 0xffff;
	memcpy(p->buf + p->csum_off, &c, 2);
}

static void ext_hdr(uint8_t *h, uint8_t next)
{
	/* 8 bytes: next header, length 0, one PadN option of 4 bytes */
	h[0] = next;
	h[1] = 0;
	h[2] = 1;
	h[3] = 4;
}

static void build(struct pkt *p, const struct pkt_spec *s)
{
	struct ethhdr *eth = (void *)p->buf;
	size_t off = sizeof(*eth);

	memset(p, 0, sizeof(*p));
	memcpy(eth->h_dest, "\x02\x00\x00\x00\x00\x02", ETH_ALEN);
	memcpy(eth->h_source, "\x02\x00\x00\x00\x00\x01", ETH_ALEN);
	p->l3_off = off;

	if (s->family == 4) {
		struct iphdr *ip = (void *)(p->buf + off);

		eth->h_proto = htons(ETH_P_IP);
		ip->version = 4;
		ip->ihl = 5 + s->v4_opts;
		ip->ttl = 64;
		ip->id = htons(42);
		ip->protocol = s->proto;
		ip->frag_off = htons(s->frag_off);
		assert_int_equal(inet_pton(AF_INET, s->src, &ip->saddr), 1);
		assert_int_equal(inet_pton(AF_INET, s->dst, &ip->daddr), 1);
		/*
		 * A non-first fragment gets the same bytes as a first one, so a
		 * parser that read ports from it would find them.
		 */
		memset(ip + 1, 1 /* IPOPT_NOP */, s->v4_opts * 4u);
		put_l4(p, s, off + ip->ihl * 4u);
		ip->tot_len = htons((uint16_t)(p->len - off));
		ip->check = htons((uint16_t)~csum_fold(csum_add(0, ip, ip->ihl * 4u)));
	} else {
		struct ip6_hdr *ip6 = (void *)(p->buf + off);
		uint8_t *next = &ip6->ip6_nxt;
		size_t l4 = off + sizeof(*ip6);

		eth->h_proto = htons(ETH_P_IPV6);
		ip6->ip6_flow = htonl(6u << 28);
		ip6->ip6_hlim = 64;
		assert_int_equal(inet_pton(AF_INET6, s->src, &ip6->ip6_src), 1);
		assert_int_equal(inet_pton(AF_INET6, s->dst, &ip6->ip6_dst), 1);
		if (s->v6_ext) {
			*next = IPPROTO_HOPOPTS;
			next = p->buf + l4;
			l4 += 8;
			ext_hdr(next, 0);
			*next = IPPROTO_DSTOPTS;
			next = p->buf + l4;
			l4 += 8;
			ext_hdr(next, 0);
		}
		if (s->v6_frag) {
			struct ip6_frag *fh = (void *)(p->buf + l4);

			*next = IPPROTO_FRAGMENT;
			next = &fh->ip6f_nxt;
			fh->ip6f_offlg = htons((uint16_t)(s->frag_off << 3)) | IP6F_MORE_FRAG;
			fh->ip6f_ident = htonl(99);
			l4 += sizeof(*fh);
		}
		*next = s->proto;
		put_l4(p, s, l4);
		ip6->ip6_plen = htons((uint16_t)(p->len - off - sizeof(*ip6)));
	}
	fill_l4_csum(p, s);
}

/* ---- maps ------------------------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void set_global(uint64_t heartbeat_ns, uint64_t deadman_ns, uint32_t seen_mark)
{
	struct nc_global g = {
		.heartbeat_ns = heartbeat_ns,
		.deadman_ns = deadman_ns,
		.seen_mark = seen_mark,
	};
	uint32_t zero = 0;

	assert_int_equal(bpf_map_update_elem(fx.global_fd, &zero, &g, BPF_ANY), 0);
}

static void set_patterns(uint32_t scope, uint32_t patterns)
{
	struct nc_scope sc = { .patterns = patterns };

	assert_int_equal(bpf_map_update_elem(fx.scopes_fd, &scope, &sc, BPF_ANY), 0);
}

/* A live rule for both directions, every interface, any protocol. */
static struct nc_rule mk_rule(uint32_t id, uint8_t action, uint32_t prob)
{
	struct nc_rule r = {
		.expires_ns = now_ns() + 600ull * 1000000000ull,
		.id = id,
		.prob = prob,
		.action = action,
		.dir_mask = NC_DIR_BOTH,
	};

	return r;
}

static void rule_port(struct nc_rule *r, uint8_t kind, uint16_t lo, uint16_t hi)
{
	r->port_kind[r->n_ports] = kind;
	r->ports[r->n_ports].lo = lo;
	r->ports[r->n_ports].hi = hi;
	r->n_ports++;
}

static void put_rule(uint32_t slot, const struct nc_rule *r)
{
	assert_int_equal(bpf_map_update_elem(fx.rules_fd, &slot, r, BPF_ANY), 0);
}

/*
 * One match entry: proto (0 = any), port kind and port, an optional CIDR
 * ("10.0.0.0/8", NULL = no address), listing `n` slots.
 */
static void set_port_bit(uint32_t scope, uint8_t kind, uint16_t port, bool on)
{
	uint32_t word = NC_PORT_WORD(scope, kind, port);
	uint64_t bits;

	assert_int_equal(bpf_map_lookup_elem(fx.ports_fd, &word, &bits), 0);
	bits = on ? bits | NC_PORT_BIT(port) : bits & ~NC_PORT_BIT(port);
	assert_int_equal(bpf_map_update_elem(fx.ports_fd, &word, &bits, BPF_ANY), 0);
	for (int i = 0; on && i < fx.n_port_words; i++)
		if (fx.port_words[i] == word)
			return;
	if (on) {
		assert_true(fx.n_port_words < (int)(sizeof(fx.port_words) / sizeof(fx.port_words[0])));
		fx.port_words[fx.n_port_words++] = word;
	}
}

static void put_entry_scope(uint32_t scope, uint8_t proto, uint8_t kind, uint16_t port,
			    const char *cidr, const uint16_t *slots, int n)
{
	struct nc_match_key key = {
		.prefixlen = NC_KEY_FIXED_BITS,
		.scope = scope,
		.proto = proto,
		.port_kind = kind,
		.port = htons(port),
	};
	struct nc_match_val val = { .count = (uint16_t)n };
	int i;

	if (cidr) {
		char addr[INET6_ADDRSTRLEN];
		const char *slash = strchr(cidr, '/');

		assert_non_null(slash);
		snprintf(addr, sizeof(addr), "%.*s", (int)(slash - cidr), cidr);
		key.family = strchr(addr, ':') ? 6 : 4;
		assert_int_equal(inet_pton(key.family == 4 ? AF_INET : AF_INET6, addr, key.addr), 1);
		key.prefixlen = NC_KEY_PREFIX((uint32_t)atoi(slash + 1));
	}
	for (i = 0; i < n; i++)
		val.slot[i] = slots[i];
	/* as the agent does: the port bit before the entry */
	if (kind != NC_PORT_ANY)
		set_port_bit(scope, kind, port, true);
	assert_int_equal(bpf_map_update_elem(fx.match_fd, &key, &val, BPF_ANY), 0);
}

static void put_entry(uint8_t proto, uint8_t kind, uint16_t port, const char *cidr,
		      const uint16_t *slots, int n)
{
	put_entry_scope(0, proto, kind, port, cidr, slots, n);
}

static void put_entry1(uint8_t proto, uint8_t kind, uint16_t port, const char *cidr, uint16_t slot)
{
	put_entry(proto, kind, port, cidr, &slot, 1);
}

static struct nc_counters counters(uint32_t slot)
{
	struct nc_counters sum = { 0 }, *per_cpu;
	int i;

	per_cpu = calloc((size_t)fx.ncpus, sizeof(*per_cpu));
	assert_non_null(per_cpu);
	assert_int_equal(bpf_map_lookup_elem(fx.counters_fd, &slot, per_cpu), 0);
	for (i = 0; i < fx.ncpus; i++) {
		sum.matched += per_cpu[i].matched;
		sum.affected += per_cpu[i].affected;
	}
	free(per_cpu);
	return sum;
}

static void clear_match(void)
{
	struct nc_match_key key, next;
	uint64_t zero = 0;

	while (!bpf_map_get_next_key(fx.match_fd, NULL, &next)) {
		key = next;
		assert_int_equal(bpf_map_delete_elem(fx.match_fd, &key), 0);
	}
	while (fx.n_port_words > 0)
		assert_int_equal(bpf_map_update_elem(fx.ports_fd, &fx.port_words[--fx.n_port_words],
						     &zero, BPF_ANY), 0);
}

/* Every test starts from empty maps, a fresh heartbeat and no dead-man. */
static int reset_maps(void **state)
{
	struct nc_counters *zero_counters;
	struct nc_rule free_rule = { 0 };
	uint32_t slot, scope;

	clear_match();
	zero_counters = calloc((size_t)fx.ncpus, sizeof(*zero_counters));
	if (!zero_counters)
		return -1;
	for (slot = 0; slot < SLOTS_USED; slot++) {
		if (bpf_map_update_elem(fx.rules_fd, &slot, &free_rule, BPF_ANY) ||
		    bpf_map_update_elem(fx.counters_fd, &slot, zero_counters, BPF_ANY)) {
			free(zero_counters);
			return -1;
		}
	}
	free(zero_counters);
	for (scope = 0; scope < 2; scope++)
		set_patterns(scope, 0);
	set_global(now_ns(), 0, SEEN_MARK);
	return 0;
}

/* ---- running ---------------------------------------------------------- */

struct run {
	struct pkt out;
	struct __sk_buff ctx;	/* in: mark; out: mark, priority */
	uint32_t duration;	/* ns per run, as the kernel measured */
	int ret;		/* the program's verdict */
};

static int run_prog_ctx(int prog_fd, const struct pkt *in, const struct __sk_buff *ctx_in,
			int repeat, uint32_t flags, struct run *r)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	int err;

	memset(r, 0, sizeof(*r));
	r->ctx = *ctx_in;
	opts.data_in = in->buf;
	opts.data_size_in = (uint32_t)in->len;
	opts.data_out = r->out.buf;
	opts.data_size_out = sizeof(r->out.buf);
	opts.ctx_in = &r->ctx;
	opts.ctx_size_in = sizeof(r->ctx);
	opts.ctx_out = &r->ctx;
	opts.ctx_size_out = sizeof(r->ctx);
	opts.repeat = repeat;
	opts.flags = flags;
	err = bpf_prog_test_run_opts(prog_fd, &opts);
	if (err)
		return -errno;
	r->out.len = opts.data_size_out;
	r->out.l3_off = in->l3_off;
	r->out.l4_off = in->l4_off;
	r->out.payload_off = in->payload_off;
	r->out.csum_off = in->csum_off;
	r->duration = opts.duration;
	r->ret = (int)opts.retval;
	return 0;
}

static int run_prog_flags(int prog_fd, const struct pkt *in, uint32_t mark, int repeat,
			  uint32_t flags, struct run *r)
{
	struct __sk_buff ctx = { .mark = mark };

	return run_prog_ctx(prog_fd, in, &ctx, repeat, flags, r);
}

/* One run of `dir`'s program; returns the verdict. */
static int verdict_mark(int dir, const struct pkt *in, uint32_t mark, struct run *r)
{
	assert_int_equal(run_prog_flags(fx.prog[dir], in, mark, 1, 0, r), 0);
	return r->ret;
}

static int verdict(int dir, const struct pkt_spec *s)
{
	struct pkt p;
	struct run r;

	build(&p, s);
	return verdict_mark(dir, &p, 0, &r);
}

static const struct pkt_spec tcp4 = {
	.family = 4, .proto = IPPROTO_TCP, .src = "192.168.1.1", .dst = "10.1.2.3",
	.sport = 40000, .dport = 80, .payload = 64,
};

static const struct pkt_spec udp4 = {
	.family = 4, .proto = IPPROTO_UDP, .src = "192.168.1.1", .dst = "10.1.2.3",
	.sport = 40000, .dport = 53, .payload = 33,
};

static const struct pkt_spec icmp4 = {
	.family = 4, .proto = IPPROTO_ICMP, .src = "192.168.1.1", .dst = "10.1.2.3",
	.payload = 56,
};

static const struct pkt_spec tcp6 = {
	.family = 6, .proto = IPPROTO_TCP, .src = "fd00:2::1", .dst = "fd00:1::5",
	.sport = 40000, .dport = 80, .payload = 64,
};

static const struct pkt_spec udp6 = {
	.family = 6, .proto = IPPROTO_UDP, .src = "fd00:2::1", .dst = "fd00:1::5",
	.sport = 40000, .dport = 53, .payload = 31,
};

static const struct pkt_spec icmp6 = {
	.family = 6, .proto = IPPROTO_ICMPV6, .src = "fd00:2::1", .dst = "fd00:1::5",
	.payload = 56,
};

static struct pkt_spec with_ports(struct pkt_spec s, uint16_t sport, uint16_t dport)
{
	s.sport = sport;
	s.dport = dport;
	return s;
}

static struct pkt_spec with_addrs(struct pkt_spec s, const char *src, const char *dst)
{
	s.src = src;
	s.dst = dst;
	return s;
}

#define ASSERT_COUNTERS(slot, m, a)                                   \
	do {                                                          \
		struct nc_counters c_ = counters(slot);               \
		assert_int_equal(c_.matched, (m));                    \
		assert_int_equal(c_.affected, (a));                   \
	} while (0)

/* ---- tests: matching -------------------------------------------------- */

static void test_no_rules_passes(void **state)
{
	assert_int_equal(verdict(DIR_EGRESS, &tcp4), TC_ACT_UNSPEC);
	assert_int_equal(verdict(DIR_INGRESS, &tcp6), TC_ACT_UNSPEC);
}

static void test_non_ip_passes(void **state)
{
	struct nc_rule rule = mk_rule(1, NC_ACT_DROP, 0);
	struct pkt p;
	struct run r;

	put_rule(1, &rule);
	put_entry1(0, NC_PORT_ANY, 0, NULL, 1);
	set_patterns(0, NC_PATTERN(0, NC_PORT_ANY));
	build(&p, &tcp4);
	((struct ethhdr *)p.buf)->h_proto = htons(ETH_P_ARP);
	assert_int_equal(verdict_mark(DIR_EGRESS, &p, 0, &r), TC_ACT_UNSPEC);
}

static void test_dport_drop_and_counters(void **state)
{
	struct nc_rule r = mk_rule(1, NC_ACT_DROP, 0);

	rule_port(&r, NC_PORT_DST, 80, 80);
	r.proto_mask = NC_PROTO_TCP;
	put_rule(3, &r);
	put_entry1(IPPROTO_TCP, NC_PORT_DST, 80, NULL, 3);
	set_patterns(0, NC_PATTERN(1, NC_PORT_DST));

	assert_int_equal(verdict(DIR_EGRESS, &tcp4), TC_ACT_SHOT);
	assert_int_equal(verdict(DIR_EGRESS, &tcp6), TC_ACT_SHOT);
	ASSERT_COUNTERS(3, 2, 2);
}

static void test_port_and_proto_mismatch(void **state)
{
	struct nc_rule r = mk_rule(1, NC_ACT_DROP, 0);
	struct pkt_spec s;

	rule_port(&r, NC_PORT_DST, 80, 80);
	r.proto_mask = NC_PROTO_TCP;
	put_rule(3, &r);
	put_entry1(IPPROTO_TCP, NC_PORT_DST, 80, NULL, 3);
	set_patterns(0, NC_PATTERN(1, NC_PORT_DST));

	s = with_ports(tcp4, 40000, 81);
	assert_int_equal(verdict(DIR_EGRESS, &s), TC_ACT_UNSPEC);
	s = with_ports(tcp4, 80, 40000); /* 80 as source is not dport 80 */
	assert_int_equal(verdict(DIR_EGRESS, &s), TC_ACT_UNSPEC);
	s = with_ports(udp4, 40000, 80);
	assert_int_equal(verdict(DIR_EGRESS, &s), TC_ACT_UNSPEC);
	assert_int_equal(verdict(DIR_EGRESS, &icmp4), TC_ACT_UNSPEC);
	ASSERT_COUNTERS(3, 0, 0);
}

static void test_sport_match(void **state)
{
	struct nc_rule r = mk_rule(1, NC_ACT_DROP, 0);
	struct pkt_spec s;

	rule_port(&r, NC_PORT_SRC, 5353, 5353);
	put_rule(0, &r);
	put_entry1(0, NC_PORT_SRC, 5353, NULL, 0);
	set_patterns(0, NC_PATTERN(0, NC_PORT_SRC));

	s = with_ports(udp4, 5353, 9);
	assert_int_equal(verdict(DIR_EGRESS, &s), TC_ACT_SHOT);
	s = with_ports(tcp6, 5353, 9);
	assert_int_equal(verdict(DIR_INGRESS, &s), TC_ACT_SHOT);
	s = with_ports(udp4, 9, 5353);
	assert_int_equal(verdict(DIR_EGRESS, &s), TC_ACT_UNSPEC);
	ASSERT_COUNTERS(0, 2, 2);
}

/* nc_ports gates the port-keyed lookups: an entry whose port bit is clear
 * is not looked up, a set bit of another port does not open it, and
 * address-only (ANY) patterns do not depend on it. */
static void test_port_bitmap_gate(void **state)
{
	struct nc_rule dst = mk_rule(1, NC_ACT_DROP, 0), src = mk_rule(2, NC_ACT_DROP, 0);
	struct nc_rule any = mk_rule(3, NC_ACT_DROP, 0);
	struct pkt_spec s;

	rule_port(&dst, NC_PORT_DST, 80, 80);
	put_rule(1, &dst);
	put_entry1(0, NC_PORT_DST, 80, NULL, 1);
	rule_port(&src, NC_PORT_SRC, 5353, 5353);
	put_rule(2, &src);
	put_entry1(0, NC_PORT_SRC, 5353, NULL, 2);
	set_patterns(0, NC_PATTERN(0, NC_PORT_DST) | NC_PATTERN(0, NC_PORT_SRC));
	assert_int_equal(verdict(DIR_EGRESS, &tcp4), TC_ACT_SHOT);
	s = with_ports(udp6, 5353, 9);
	assert_int_equal(verdict(DIR_EGRESS, &s), TC_ACT_SHOT);

	set_port_bit(0, NC_PORT_DST, 80, false);
	set_port_bit(0, NC_PORT_DST, 81, true); /* same word, another bit */
	set_port_bit(0, NC_PORT_SRC, 80, true); /* same port, other kind */
	assert_int_equal(verdict(DIR_EGRESS, &tcp4), TC_ACT_UNSPEC);
	assert_int_equal(verdict(DIR_EGRESS, &tcp6), TC_ACT_UNSPEC);
	s = with_ports(udp6, 5353, 9);
	assert_int_equal(verdict(DIR_EGRESS, &s), TC_ACT_SHOT); /* SRC still open */
	set_port_bit(0, NC_PORT_SRC, 5353, false);
	assert_int_equal(verdict(DIR_EGRESS, &s), TC_ACT_UNSPEC);
	ASSERT_COUNTERS(1, 1, 1);
	ASSERT_COUNTERS(2, 2, 2);

	/* an address-only rule is looked up whatever the ports */
	put_rule(3, &any);
	put_entry1(0, NC_PORT_ANY, 0, "10.1.2.0/24", 3);
	set_patterns(0, NC_PATTERN(0, NC_PORT_ANY) | NC_PATTERN(0, NC_PORT_DST));
	assert_int_equal(verdict(DIR_EGRESS, &tcp4), TC_ACT_SHOT);
	ASSERT_COUNTERS(1, 1, 1);
	ASSERT_COUNTERS(3, 1, 1);
}

/* A drop rule in `slot` for destination port `port`, any protocol, the only
 * kind of pattern of scope 0: the fast front is on. */
static void put_dport_drop(uint32_t slot, uint16_t port)
{
	struct nc_rule r = mk_rule(slot, NC_ACT_DROP, 0);

	rule_port(&r, NC_PORT_DST, port, port);
	put_rule(slot, &r);
	put_entry1(0, NC_PORT_DST, port, NULL, (uint16_t)slot);
	set_patterns(0, NC_PATTERN(0, NC_PORT_DST));
}

/*
 * The fast front reads ports at fixed offsets only where they are: IPv4
 * options and IPv6 extension headers take the full parse, and the verdicts
 * are the same. NOP options put 0x0101 (port 257) where a fixed-offset read
 * would look for the ports.
 */
static void test_fast_front_fallbacks(void **state)
{
	struct pkt_spec s;

	put_dport_drop(1, 80);

	s = tcp4;
	s.v4_opts = 1;
	assert_int_equal(verdict(DIR_EGRESS, &s), TC_ACT_SHOT);
	s = with_ports(udp4, 40000, 80);
	s.v4_opts = 10; /* the longest header: 60 bytes */
	assert_int_equal(verdict(DIR_INGRESS, &s), TC_ACT_SHOT);
	s = with_ports(udp6, 40000, 80);
	s.v6_ext = true;
	assert_int_equal(verdict(DIR_EGRESS, &s), TC_ACT_SHOT);
	ASSERT_COUNTERS(1, 3, 3);

	/* the full parse does not read option bytes as ports either */
	put_dport_drop(2, 257);
	s = tcp4;
	s.dport = 81;
	s.v4_opts = 1;
	assert_int_equal(verdict(DIR_EGRESS, &s), TC_ACT_UNSPEC);
	s = with_ports(tcp4, 40000, 257);
	assert_int_equal(verdict(DIR_EGRESS, &s), TC_ACT_SHOT);
	ASSERT_COUNTERS(1, 3, 3);
	ASSERT_COUNTERS(2, 1, 1);
}

/*
 * What the fast front calls portless has no ports for the full parse either,
 * and what has ports is not called portless: a first fragment (MF set,
 * offset 0) and an IPv6 fragment header keep their ports.
 */
static void test_fast_front_portless(void **state)
{
	struct pkt_spec s;
	struct pkt p;
	struct run out;

	put_dport_drop(1, 80);
	build(&p, &tcp4);
	((struct iphdr *)(p.buf + p.l3_off))->frag_off = htons(IP_MF);
	assert_int_equal(verdict_mark(DIR_EGRESS, &p, 0, &out), TC_ACT_SHOT);
	s = tcp6;
	s.v6_frag = true;
	assert_int_equal(verdict(DIR_INGRESS, &s), TC_ACT_SHOT);
	ASSERT_COUNTERS(1, 2, 2);

	s = tcp4;
	s.frag_off = 100;
	assert_int_equal(verdict(DIR_EGRESS, &s), TC_ACT_UNSPEC);
	assert_int_equal(verdict(DIR_EGRESS, &icmp4), TC_ACT_UNSPEC);
	assert_int_equal(verdict(DIR_INGRESS, &icmp6), TC_ACT_UNSPEC);
	build(&p, &tcp4);
	((struct ethhdr *)p.buf)->h_proto = htons(ETH_P_ARP);
	assert_int_equal(verdict_mark(DIR_EGRESS, &p, 0, &out), TC_ACT_UNSPEC);
	ASSERT_COUNTERS(1, 2, 2);
}

/*
 * The ingress hook clears a steering class id that came from egress, also
 * for the packets the fast front lets go.
 */
static void test_ingress_clears_steer_class(void **state)
{
	struct __sk_buff ctx = { .priority = NC_STEER_MAJOR << 16 | 7 };
	struct pkt_spec s = with_ports(udp4, 40000, 9000);
	struct pkt p;
	struct run out;

	put_dport_drop(1, 80);
	build(&p, &s);

	assert_int_equal(run_prog_ctx(fx.prog[DIR_INGRESS], &p, &ctx, 1, 0, &out), 0);
	assert_int_equal(out.ret, TC_ACT_UNSPEC);
	assert_int_equal(out.ctx.priority, 0);
	assert_int_equal(run_prog_ctx(fx.prog[DIR_EGRESS], &p, &ctx, 1, 0, &out), 0);
	assert_int_equal(out.ctx.priority, NC_STEER_MAJOR << 16 | 7); /* egress: left alone */
	ctx.priority = 5; /* not ours */
	assert_int_equal(run_prog_ctx(fx.prog[DIR_INGRESS], &p, &ctx, 1, 0, &out), 0);
	assert_int_equal(out.ctx.priority, 5);
	ASSERT_COUNTERS(1, 0, 0);
}

/* Protocol key without ports: ICMP and ICMPv6 both key as IPPROTO_ICMP. */
static void test_proto_keys(void **state)
{
	struct nc_rule icmp = mk_rule(1, NC_ACT_DROP, 0), udp = mk_rule(2, NC_ACT_DROP, 0);

	icmp.proto_mask = NC_PROTO_ICMP;
	udp.proto_mask = NC_PROTO_UDP;
	put_rule(1, &icmp);
	put_rule(2, &udp);
	put_entry1(IPPROTO_ICMP, NC_PORT_ANY, 0, NULL, 1);
	put_entry1(IPPROTO_UDP, NC_PORT_ANY, 0, NULL, 2);
	set_patterns(0, NC_PATTERN(1, NC_PORT_ANY));

	assert_int_equal(verdict(DIR_EGRESS, &icmp4), TC_ACT_SHOT);
	assert_int_equal(verdict(DIR_INGRESS, &icmp6), TC_ACT_SHOT);
	assert_int_equal(verdict(DIR_EGRESS, &udp6), TC_ACT_SHOT);
	assert_int_equal(verdict(DIR_EGRESS, &tcp4), TC_ACT_UNSPEC);
	ASSERT_COUNTERS(1, 2, 2);
	ASSERT_COUNTERS(2, 1, 1);
}

/* A key without protocol, the protocol left to the post-check. */
static void test_proto_mask_postcheck(void **state)
{
	struct nc_rule r = mk_rule(1, NC_ACT_DROP, 0);

	r.proto_mask = NC_PROTO_TCP | NC_PROTO_ICMP;
	put_rule(1, &r);
	put_entry1(0, NC_PORT_ANY, 0, NULL, 1);
	set_patterns(0, NC_PATTERN(0, NC_PORT_ANY));

	assert_int_equal(verdict(DIR_EGRESS, &tcp4), TC_ACT_SHOT);
	assert_int_equal(verdict(DIR_EGRESS, &icmp6), TC_ACT_SHOT);
	assert_int_equal(verdict(DIR_EGRESS, &udp4), TC_ACT_UNSPEC);
	ASSERT_COUNTERS(1, 2, 2);
}

static void test_ipv4_cidr(void **state)
{
	struct nc_rule r = mk_rule(1, NC_ACT_DROP, 0);
	struct pkt_spec s;

	put_rule(1, &r);
	put_entry1(0, NC_PORT_ANY, 0, "10.1.0.0/16", 1);
	set_patterns(0, NC_PATTERN(0, NC_PORT_ANY));

	/* the peer is the destination at egress ... */
	assert_int_equal(verdict(DIR_EGRESS, &tcp4), TC_ACT_SHOT);
	s = with_addrs(tcp4, "192.168.1.1", "10.2.0.1");
	assert_int_equal(verdict(DIR_EGRESS, &s), TC_ACT_UNSPEC);
	s = with_addrs(tcp4, "10.1.9.9", "192.168.1.1");
	assert_int_equal(verdict(DIR_EGRESS, &s), TC_ACT_UNSPEC);
	/* ... and the source at ingress */
	assert_int_equal(verdict(DIR_INGRESS, &s), TC_ACT_SHOT);
	assert_int_equal(verdict(DIR_INGRESS, &tcp4), TC_ACT_UNSPEC);
	/* an IPv4 CIDR never matches IPv6 */
	assert_int_equal(verdict(DIR_EGRESS, &tcp6), TC_ACT_UNSPEC);
	ASSERT_COUNTERS(1, 2, 2);
}

static void test_ipv6_cidr(void **state)
{
	struct nc_rule r = mk_rule(1, NC_ACT_DROP, 0);
	struct pkt_spec s;

	put_rule(1, &r);
	put_entry1(IPPROTO_TCP, NC_PORT_DST, 80, "fd00:1::/64", 1);
	set_patterns(0, NC_PATTERN(1, NC_PORT_DST));

	assert_int_equal(verdict(DIR_EGRESS, &tcp6), TC_ACT_SHOT);
	s = with_addrs(tcp6, "fd00:2::1", "fd00:1:0:1::5");
	assert_int_equal(verdict(DIR_EGRESS, &s), TC_ACT_UNSPEC);
	s = with_addrs(tcp6, "fd00:1::77", "fd00:3::1");
	assert_int_equal(verdict(DIR_INGRESS, &s), TC_ACT_SHOT);
	assert_int_equal(verdict(DIR_INGRESS, &tcp6), TC_ACT_UNSPEC);
	assert_int_equal(verdict(DIR_EGRESS, &tcp4), TC_ACT_UNSPEC);
	ASSERT_COUNTERS(1, 2, 2);
}

/* A rule without addresses stops at the fixed bits: both families match. */
static void test_no_address_matches_both_families(void **state)
{
	struct nc_rule r = mk_rule(1, NC_ACT_DROP, 0);

	put_rule(1, &r);
	put_entry1(IPPROTO_TCP, NC_PORT_DST, 80, NULL, 1);
	set_patterns(0, NC_PATTERN(1, NC_PORT_DST));
	assert_int_equal(verdict(DIR_EGRESS, &tcp4), TC_ACT_SHOT);
	assert_int_equal(verdict(DIR_EGRESS, &tcp6), TC_ACT_SHOT);
}

static void test_direction(void **state)
{
	struct nc_rule r = mk_rule(1, NC_ACT_DROP, 0);

	r.dir_mask = NC_DIR_EGRESS;
	put_rule(1, &r);
	put_entry1(0, NC_PORT_ANY, 0, NULL, 1);
	set_patterns(0, NC_PATTERN(0, NC_PORT_ANY));
	assert_int_equal(verdict(DIR_EGRESS, &tcp4), TC_ACT_SHOT);
	assert_int_equal(verdict(DIR_INGRESS, &tcp4), TC_ACT_UNSPEC);

	r.dir_mask = NC_DIR_INGRESS;
	put_rule(1, &r);
	assert_int_equal(verdict(DIR_EGRESS, &tcp4), TC_ACT_UNSPEC);
	assert_int_equal(verdict(DIR_INGRESS, &tcp4), TC_ACT_SHOT);
	ASSERT_COUNTERS(1, 2, 2);
}

/* test_run puts the skb on lo (ifindex 1). */
static void test_ifindex_postcheck(void **state)
{
	struct nc_rule r = mk_rule(1, NC_ACT_DROP, 0);

	r.n_ifindex = 2;
	r.ifindex[0] = 4242;
	r.ifindex[1] = 1;
	put_rule(1, &r);
	put_entry1(0, NC_PORT_ANY, 0, NULL, 1);
	set_patterns(0, NC_PATTERN(0, NC_PORT_ANY));
	assert_int_equal(verdict(DIR_EGRESS, &tcp4), TC_ACT_SHOT);

	r.n_ifindex = 1; /* only 4242 */
	put_rule(1, &r);
	assert_int_equal(verdict(DIR_EGRESS, &tcp4), TC_ACT_UNSPEC);
	assert_int_equal(verdict(DIR_INGRESS, &tcp4), TC_ACT_UNSPEC);
	ASSERT_COUNTERS(1, 1, 1);
}

/* AND across port kinds, OR within one. */
static void test_port_postcheck(void **state)
{
	struct nc_rule r = mk_rule(1, NC_ACT_DROP, 0);
	struct pkt_spec s;

	rule_port(&r, NC_PORT_DST, 80, 80);
	rule_port(&r, NC_PORT_SRC, 1000, 2000);
	rule_port(&r, NC_PORT_SRC, 3000, 3000);
	put_rule(1, &r);
	put_entry1(IPPROTO_TCP, NC_PORT_DST, 80, NULL, 1);
	set_patterns(0, NC_PATTERN(1, NC_PORT_DST));

	s = with_ports(tcp4, 1500, 80);
	assert_int_equal(verdict(DIR_EGRESS, &s), TC_ACT_SHOT);
	s = with_ports(tcp4, 3000, 80);
	assert_int_equal(verdict(DIR_EGRESS, &s), TC_ACT_SHOT);
	s = with_ports(tcp4, 2500, 80);
	assert_int_equal(verdict(DIR_EGRESS, &s), TC_ACT_UNSPEC);
	s = with_ports(tcp4, 999, 80);
	assert_int_equal(verdict(DIR_EGRESS, &s), TC_ACT_UNSPEC);
	ASSERT_COUNTERS(1, 2, 2);
}

/* A wide port range keyed as "any port": only the post-check looks at ports. */
static void test_wide_range_any_key(void **state)
{
	struct nc_rule r = mk_rule(1, NC_ACT_DROP, 0);
	struct pkt_spec s;

	rule_port(&r, NC_PORT_EITHER, 30000, 40000);
	put_rule(1, &r);
	put_entry1(0, NC_PORT_ANY, 0, NULL, 1);
	set_patterns(0, NC_PATTERN(0, NC_PORT_ANY));

	s = with_ports(udp6, 35000, 53);
	assert_int_equal(verdict(DIR_EGRESS, &s), TC_ACT_SHOT);
	s = with_ports(udp6, 53, 35000);
	assert_int_equal(verdict(DIR_EGRESS, &s), TC_ACT_SHOT);
	s = with_ports(udp6, 53, 53);
	assert_int_equal(verdict(DIR_EGRESS, &s), TC_ACT_UNSPEC);
	/* no ports at all: a port post-check cannot hold */
	assert_int_equal(verdict(DIR_EGRESS, &icmp6), TC_ACT_UNSPEC);
	ASSERT_COUNTERS(1, 2, 2);
}

/* EITHER rules are entered under SRC and DST keys; a packet counts once. */
static void test_either_dedupe(void **state)
{
	struct nc_rule r = mk_rule(1, NC_ACT_LOSS, 0);
	struct pkt_spec s;
	struct pkt p;
	struct run out;

	rule_port(&r, NC_PORT_EITHER, 80, 80);
	rule_port(&r, NC_PORT_EITHER, 443, 443);
	r.flags = NC_RF_KEY_EITHER;
	put_rule(1, &r);
	put_entry1(0, NC_PORT_SRC, 80, NULL, 1);
	put_entry1(0, NC_PORT_SRC, 443, NULL, 1);
	put_entry1(0, NC_PORT_DST, 80, NULL, 1);
	put_entry1(0, NC_PORT_DST, 443, NULL, 1);
	set_patterns(0, NC_PATTERN(0, NC_PORT_SRC) | NC_PATTERN(0, NC_PORT_DST));

	s = with_ports(tcp4, 80, 80);
	build(&p, &s);
	assert_int_equal(verdict_mark(DIR_EGRESS, &p, 0, &out), TC_ACT_UNSPEC);
	ASSERT_COUNTERS(1, 1, 0);
	s = with_ports(tcp4, 40000, 80);
	build(&p, &s);
	verdict_mark(DIR_EGRESS, &p, 0, &out);
	ASSERT_COUNTERS(1, 2, 0);
	s = with_ports(tcp4, 80, 40000);
	build(&p, &s);
	verdict_mark(DIR_INGRESS, &p, 0, &out);
	ASSERT_COUNTERS(1, 3, 0);
	/* both ports in the rule's set, not equal: still once */
	s = with_ports(tcp4, 80, 443);
	build(&p, &s);
	verdict_mark(DIR_EGRESS, &p, 0, &out);
	ASSERT_COUNTERS(1, 4, 0);
	s = with_ports(tcp4, 40000, 40001);
	build(&p, &s);
	verdict_mark(DIR_EGRESS, &p, 0, &out);
	ASSERT_COUNTERS(1, 4, 0);
}

/* IPv6 extension headers are skipped; non-first fragments have no ports. */
static void test_ipv6_ext_and_fragments(void **state)
{
	struct nc_rule port_rule = mk_rule(1, NC_ACT_DROP, 0);
	struct nc_rule proto_rule = mk_rule(2, NC_ACT_DROP, 0);
	struct pkt_spec s;

	rule_port(&port_rule, NC_PORT_DST, 80, 80);
	put_rule(1, &port_rule);
	put_entry1(IPPROTO_TCP, NC_PORT_DST, 80, NULL, 1);
	set_patterns(0, NC_PATTERN(1, NC_PORT_DST));

	s = tcp6;
	s.v6_ext = true;
	assert_int_equal(verdict(DIR_EGRESS, &s), TC_ACT_SHOT);
	s.v6_frag = true; /* first fragment: ports present */
	assert_int_equal(verdict(DIR_EGRESS, &s), TC_ACT_SHOT);
	s.frag_off = 100;
	assert_int_equal(verdict(DIR_EGRESS, &s), TC_ACT_UNSPEC);
	s = tcp4;
	s.frag_off = 100;
	assert_int_equal(verdict(DIR_EGRESS, &s), TC_ACT_UNSPEC);
	ASSERT_COUNTERS(1, 2, 2);

	/* the protocol of a non-first fragment is still known */
	proto_rule.proto_mask = NC_PROTO_TCP;
	put_rule(2, &proto_rule);
	put_entry1(IPPROTO_TCP, NC_PORT_ANY, 0, NULL, 2);
	set_patterns(0, NC_PATTERN(1, NC_PORT_DST) | NC_PATTERN(1, NC_PORT_ANY));
	assert_int_equal(verdict(DIR_EGRESS, &s), TC_ACT_SHOT);
	s = tcp6;
	s.v6_ext = s.v6_frag = true;
	s.frag_off = 100;
	assert_int_equal(verdict(DIR_EGRESS, &s), TC_ACT_SHOT);
	ASSERT_COUNTERS(2, 2, 2);
	ASSERT_COUNTERS(1, 2, 2);
}

/* An entry of another scope is invisible to this scope's programs. */
static void test_scope_isolation(void **state)
{
	struct nc_rule r = mk_rule(1, NC_ACT_DROP, 0);
	struct netchaos_bpf *other;
	struct pkt p;
	struct run out;

	put_rule(1, &r);
	put_entry_scope(1, 0, NC_PORT_ANY, 0, NULL, (uint16_t[]){ 1 }, 1);
	set_patterns(0, NC_PATTERN(0, NC_PORT_ANY));
	set_patterns(1, NC_PATTERN(0, NC_PORT_ANY));
	assert_int_equal(verdict(DIR_EGRESS, &tcp4), TC_ACT_UNSPEC);

	/* a second load for scope 1 sharing the maps, as the agent does */
	other = netchaos_bpf__open();
	assert_non_null(other);
	other->rodata->nc_scope_id = 1;
	assert_int_equal(bpf_map__reuse_fd(other->maps.nc_match, fx.match_fd), 0);
	assert_int_equal(bpf_map__reuse_fd(other->maps.nc_rules, fx.rules_fd), 0);
	assert_int_equal(bpf_map__reuse_fd(other->maps.nc_counters, fx.counters_fd), 0);
	assert_int_equal(bpf_map__reuse_fd(other->maps.nc_scopes, fx.scopes_fd), 0);
	assert_int_equal(bpf_map__reuse_fd(other->maps.nc_ports, fx.ports_fd), 0);
	assert_int_equal(bpf_map__reuse_fd(other->maps.nc_global, fx.global_fd), 0);
	assert_int_equal(netchaos_bpf__load(other), 0);
	build(&p, &tcp4);
	assert_int_equal(run_prog_flags(bpf_program__fd(other->progs.nc_tc_egress), &p, 0, 1, 0,
					&out), 0);
	netchaos_bpf__destroy(other);
	assert_int_equal(out.ret, TC_ACT_SHOT);
	ASSERT_COUNTERS(1, 1, 1);
}

/* ---- tests: lifetime and gates ---------------------------------------- */

static void test_expired_rule(void **state)
{
	struct nc_rule r = mk_rule(1, NC_ACT_DROP, 0);

	r.expires_ns = now_ns() - 1;
	put_rule(1, &r);
	put_entry1(0, NC_PORT_ANY, 0, NULL, 1);
	set_patterns(0, NC_PATTERN(0, NC_PORT_ANY));
	assert_int_equal(verdict(DIR_EGRESS, &tcp4), TC_ACT_UNSPEC);
	ASSERT_COUNTERS(1, 0, 0);

	r.expires_ns = 0; /* free slot still listed by an entry */
	put_rule(1, &r);
	assert_int_equal(verdict(DIR_EGRESS, &tcp4), TC_ACT_UNSPEC);
	ASSERT_COUNTERS(1, 0, 0);
}

static void test_deadman(void **state)
{
	struct nc_rule r = mk_rule(1, NC_ACT_DROP, 0);
	uint64_t sec = 1000000000ull;

	put_rule(1, &r);
	put_entry1(0, NC_PORT_ANY, 0, NULL, 1);
	set_patterns(0, NC_PATTERN(0, NC_PORT_ANY));

	set_global(now_ns() - 10 * sec, 1 * sec, SEEN_MARK); /* agent gone */
	assert_int_equal(verdict(DIR_EGRESS, &tcp4), TC_ACT_UNSPEC);
	assert_int_equal(verdict(DIR_INGRESS, &tcp6), TC_ACT_UNSPEC);
	ASSERT_COUNTERS(1, 0, 0);

	set_global(now_ns() - 10 * sec, 0, SEEN_MARK); /* dead-man off */
	assert_int_equal(verdict(DIR_EGRESS, &tcp4), TC_ACT_SHOT);

	set_global(now_ns(), 1 * sec, SEEN_MARK); /* fresh heartbeat */
	assert_int_equal(verdict(DIR_EGRESS, &tcp4), TC_ACT_SHOT);
	ASSERT_COUNTERS(1, 2, 2);
}

static void test_seen_mark(void **state)
{
	struct nc_rule r = mk_rule(1, NC_ACT_LOSS, 0);
	struct pkt p;
	struct run out;

	put_rule(1, &r);
	put_entry1(0, NC_PORT_ANY, 0, NULL, 1);
	set_patterns(0, NC_PATTERN(0, NC_PORT_ANY));
	build(&p, &tcp4);

	/* matched (and let through): leaves with the mark, other bits kept */
	assert_int_equal(verdict_mark(DIR_EGRESS, &p, 0x5, &out), TC_ACT_UNSPEC);
	assert_int_equal(out.ctx.mark, 0x5 | SEEN_MARK);
	ASSERT_COUNTERS(1, 1, 0);

	/* already evaluated once on this host: left alone, even by a DROP */
	r.action = NC_ACT_DROP;
	put_rule(1, &r);
	assert_int_equal(verdict_mark(DIR_INGRESS, &p, SEEN_MARK | 0x5, &out), TC_ACT_UNSPEC);
	assert_int_equal(out.ctx.mark, SEEN_MARK | 0x5);
	ASSERT_COUNTERS(1, 1, 0);

	assert_int_equal(verdict_mark(DIR_EGRESS, &p, 0, &out), TC_ACT_SHOT);

	/* no match: the mark is not touched */
	clear_match();
	put_entry1(0, NC_PORT_ANY, 0, "10.99.0.0/16", 1);
	assert_int_equal(verdict_mark(DIR_EGRESS, &p, 0, &out), TC_ACT_UNSPEC);
	assert_int_equal(out.ctx.mark, 0);
}

/* ---- tests: actions --------------------------------------------------- */

/* Run the same packet `n` times (seen mark off, so each run is evaluated). */
static void run_repeat(int dir, const struct pkt_spec *s, int n)
{
	struct pkt p;
	struct run out;

	set_global(now_ns(), 0, 0);
	build(&p, s);
	assert_int_equal(run_prog_flags(fx.prog[dir], &p, 0, n, 0, &out), 0);
}

static void test_loss_probabilities(void **state)
{
	struct nc_rule r = mk_rule(1, NC_ACT_LOSS, 0);
	const int n = 20000;
	struct nc_counters c;
	double rate;

	put_entry1(0, NC_PORT_ANY, 0, NULL, 1);
	set_patterns(0, NC_PATTERN(0, NC_PORT_ANY));

	put_rule(1, &r);
	run_repeat(DIR_EGRESS, &udp4, n);
	ASSERT_COUNTERS(1, n, 0);
	assert_int_equal(verdict(DIR_EGRESS, &udp4), TC_ACT_UNSPEC);

	reset_maps(state);
	put_entry1(0, NC_PORT_ANY, 0, NULL, 1);
	set_patterns(0, NC_PATTERN(0, NC_PORT_ANY));
	r.prob = PROB_MAX;
	put_rule(1, &r);
	run_repeat(DIR_INGRESS, &udp4, n);
	ASSERT_COUNTERS(1, n, n);
	assert_int_equal(verdict(DIR_EGRESS, &udp4), TC_ACT_SHOT);

	reset_maps(state);
	put_entry1(0, NC_PORT_ANY, 0, NULL, 1);
	set_patterns(0, NC_PATTERN(0, NC_PORT_ANY));
	r.prob = PROB(0.30);
	put_rule(1, &r);
	run_repeat(DIR_EGRESS, &udp4, n);
	c = counters(1);
	rate = (double)c.affected / (double)n;
	printf("# loss 30%%: %llu of %d dropped (%.4f)\n", (unsigned long long)c.affected, n,
	       rate);
	assert_int_equal(c.matched, n);
	/* sigma = sqrt(0.3 * 0.7 / 20000) = 0.0032: 0.02 is > 6 sigma */
	assert_true(rate > 0.28 && rate < 0.32);
}

/* A /8 entry listing two slots applies both rules: 50% and 50% drop 75%. */
static void test_two_loss_rules_compose(void **state)
{
	struct nc_rule a = mk_rule(1, NC_ACT_LOSS, PROB(0.5)), b = mk_rule(2, NC_ACT_LOSS, PROB(0.5));
	const int n = 20000;
	struct nc_counters ca, cb;
	double rate;

	put_rule(4, &a);
	put_rule(5, &b);
	put_entry(0, NC_PORT_ANY, 0, "10.0.0.0/8", (uint16_t[]){ 4, 5 }, 2);
	set_patterns(0, NC_PATTERN(0, NC_PORT_ANY));
	run_repeat(DIR_EGRESS, &tcp4, n);
	ca = counters(4);
	cb = counters(5);
	/* the second rule sees what the first let through */
	assert_int_equal(ca.matched, n);
	assert_int_equal(cb.matched, n - ca.affected);
	rate = (double)(ca.affected + cb.affected) / (double)n;
	printf("# loss 50%% + 50%%: %.4f dropped\n", rate);
	assert_true(rate > 0.73 && rate < 0.77);
	assert_true(cb.affected > 0);
}

/* The walk stops at a drop: rules after it do not see the packet. */
static void test_drop_ends_walk(void **state)
{
	struct nc_rule d = mk_rule(1, NC_ACT_DROP, 0), l = mk_rule(2, NC_ACT_LOSS, 0);

	put_rule(1, &d);
	put_rule(2, &l);
	put_entry(0, NC_PORT_ANY, 0, NULL, (uint16_t[]){ 1, 2 }, 2);
	set_patterns(0, NC_PATTERN(0, NC_PORT_ANY));
	assert_int_equal(verdict(DIR_EGRESS, &tcp4), TC_ACT_SHOT);
	ASSERT_COUNTERS(1, 1, 1);
	ASSERT_COUNTERS(2, 0, 0);
}

static int bit_diff(const struct pkt *a, const struct pkt *b, size_t from, size_t to,
		    size_t skip, size_t *where)
{
	int bits = 0;
	size_t i;

	for (i = from; i < to; i++) {
		if (skip && (i == skip || i == skip + 1))
			continue;
		if (a->buf[i] != b->buf[i]) {
			bits += __builtin_popcount(a->buf[i] ^ b->buf[i]);
			*where = i;
		}
	}
	return bits;
}

/* Run a CORRUPT rule once on s; with checksum-complete too when the kernel can. */
static void corrupt_once(const struct pkt_spec *s, bool payload, struct pkt *in, struct run *out)
{
	struct nc_rule r = mk_rule(1, NC_ACT_CORRUPT, PROB_MAX);

	r.flags = payload ? NC_RF_PAYLOAD : 0;
	put_rule(1, &r);
	put_entry1(0, NC_PORT_ANY, 0, NULL, 1);
	set_patterns(0, NC_PATTERN(0, NC_PORT_ANY));
	build(in, s);
	if (fx.csum_complete) {
		/* the kernel fails the run (EBADMSG) if skb->csum went stale */
		assert_int_equal(run_prog_flags(fx.prog[DIR_INGRESS], in, 0, 1,
						BPF_F_TEST_SKB_CHECKSUM_COMPLETE, out), 0);
		assert_int_equal(out->ret, TC_ACT_UNSPEC);
	}
	assert_int_equal(verdict_mark(DIR_EGRESS, in, 0, out), TC_ACT_UNSPEC);
	assert_int_equal(out->out.len, in->len);
	assert_int_equal(out->ctx.mark, SEEN_MARK);
}

static void test_corrupt_checksum_ipv4(void **state)
{
	const struct pkt_spec *specs[] = { &tcp4, &udp4, &icmp4 };
	struct pkt in;
	struct run out;
	size_t i, where = 0;

	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		reset_maps(state);
		corrupt_once(specs[i], false, &in, &out);
		assert_true(ipv4_hdr_csum_ok(&in));
		assert_false(ipv4_hdr_csum_ok(&out.out));
		/* one bit, in the header checksum, nothing else */
		assert_int_equal(bit_diff(&in, &out.out, 0, in.len, 0, &where), 1);
		assert_true(where == in.l3_off + 10 || where == in.l3_off + 11);
		ASSERT_COUNTERS(1, fx.csum_complete ? 2 : 1, fx.csum_complete ? 2 : 1);
	}
}

static void test_corrupt_checksum_ipv6(void **state)
{
	const struct pkt_spec *specs[] = { &tcp6, &udp6, &icmp6 };
	struct pkt in;
	struct run out;
	size_t i;

	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		uint16_t plen_in, plen_out;

		reset_maps(state);
		corrupt_once(specs[i], false, &in, &out);
		memcpy(&plen_in, in.buf + in.l3_off + 4, 2);
		memcpy(&plen_out, out.out.buf + in.l3_off + 4, 2);
		/* longer than the packet: the receiver drops it as truncated */
		assert_true(ntohs(plen_out) > ntohs(plen_in));
		assert_memory_equal(in.buf + in.l3_off + 6, out.out.buf + in.l3_off + 6,
				    in.len - in.l3_off - 6);
	}
}

static void test_corrupt_payload(void **state)
{
	struct pkt_spec udp_nocsum = udp4;
	const struct pkt_spec *specs[] = { &tcp4, &udp4, &icmp4, &tcp6, &udp6, &icmp6,
					   &udp_nocsum };
	struct pkt in;
	struct run out;
	size_t i;
	int round;

	udp_nocsum.udp_csum_zero = 1;
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		/* a few rounds: the bit (and its byte's parity) is random */
		for (round = 0; round < 16; round++) {
			size_t where = 0;

			reset_maps(state);
			corrupt_once(specs[i], true, &in, &out);
			assert_true(l4_csum_ok(&in, specs[i]->proto));
			assert_int_equal(bit_diff(&in, &out.out, 0, in.len, in.csum_off, &where), 1);
			assert_true(where >= in.payload_off && where < in.len);
			assert_true(l4_csum_ok(&out.out, specs[i]->proto));
			if (specs[i]->family == 4)
				assert_true(ipv4_hdr_csum_ok(&out.out));
		}
	}
}

/* Payload mode leaves packets without payload (and fragments) alone. */
static void test_corrupt_payload_needs_payload(void **state)
{
	struct pkt_spec syn = tcp4, frag = udp4;
	struct pkt in;
	struct run out;

	syn.payload = 0;
	corrupt_once(&syn, true, &in, &out);
	assert_memory_equal(in.buf, out.out.buf, in.len);
	ASSERT_COUNTERS(1, fx.csum_complete ? 2 : 1, 0);

	reset_maps(state);
	frag.frag_off = 10;
	corrupt_once(&frag, true, &in, &out);
	assert_memory_equal(in.buf, out.out.buf, in.len);
	ASSERT_COUNTERS(1, fx.csum_complete ? 2 : 1, 0);
}

/* Two CORRUPT rules at 100%: one bit damaged, one rule affected. */
static void test_corrupt_once(void **state)
{
	struct nc_rule a = mk_rule(1, NC_ACT_CORRUPT, PROB_MAX), b = mk_rule(2, NC_ACT_CORRUPT, PROB_MAX);
	struct pkt in;
	struct run out;
	size_t where = 0;

	a.flags = b.flags = NC_RF_PAYLOAD;
	put_rule(1, &a);
	put_rule(2, &b);
	put_entry(0, NC_PORT_ANY, 0, NULL, (uint16_t[]){ 1, 2 }, 2);
	set_patterns(0, NC_PATTERN(0, NC_PORT_ANY));
	build(&in, &udp6);
	assert_int_equal(verdict_mark(DIR_EGRESS, &in, 0, &out), TC_ACT_UNSPEC);
	assert_int_equal(bit_diff(&in, &out.out, 0, in.len, in.csum_off, &where), 1);
	ASSERT_COUNTERS(1, 1, 1);
	ASSERT_COUNTERS(2, 1, 0);
}

/* Steering picks the newest (highest id) STEER rule; ingress redirects. */
static void test_steer(void **state)
{
	struct nc_rule old = mk_rule(5, NC_ACT_STEER, 0), new = mk_rule(9, NC_ACT_STEER, 0);
	struct pkt in;
	struct run out;

	old.classid = 0x10005;
	new.classid = 0x10009;
	new.redirect_ifindex = 1;
	put_rule(1, &new);
	put_rule(2, &old);
	put_entry(0, NC_PORT_ANY, 0, NULL, (uint16_t[]){ 1, 2 }, 2);
	set_patterns(0, NC_PATTERN(0, NC_PORT_ANY));
	build(&in, &tcp4);

	assert_int_equal(verdict_mark(DIR_EGRESS, &in, 0, &out), TC_ACT_UNSPEC);
	assert_int_equal(out.ctx.priority, 0x10009);
	assert_int_equal(verdict_mark(DIR_INGRESS, &in, 0, &out), TC_ACT_REDIRECT);
	assert_int_equal(out.ctx.priority, 0x10009);
	ASSERT_COUNTERS(1, 2, 2);
	ASSERT_COUNTERS(2, 2, 0);
}

/* ---- cost ------------------------------------------------------------- */

static uint32_t bench_one(int dir, const struct pkt_spec *s)
{
	uint32_t best = UINT32_MAX;
	struct pkt p;
	struct run out;
	int i;

	build(&p, s);
	/* best of 5: the minimum is the least disturbed by the host */
	for (i = 0; i < 5; i++) {
		assert_int_equal(run_prog_flags(fx.prog[dir], &p, 0, 100000, 0, &out), 0);
		if (out.duration < best)
			best = out.duration;
	}
	return best;
}

/* Prints ns per packet (BPF_PROG_TEST_RUN, repeat 100000); asserts nothing timing-related. */
static void test_bench(void **state)
{
	struct nc_rule r = mk_rule(1, NC_ACT_LOSS, 0);
	struct pkt_spec miss = with_ports(tcp4, 40000, 443), s;
	uint32_t port;

	set_global(now_ns(), 5ull * 1000000000ull, 0); /* seen mark off: every run matches */
	printf("# bench: empty scope, IPv4 TCP: %u ns\n", bench_one(DIR_EGRESS, &tcp4));

	rule_port(&r, NC_PORT_DST, 80, 80);
	put_rule(1, &r);
	put_entry1(IPPROTO_TCP, NC_PORT_DST, 80, NULL, 1);
	set_patterns(0, NC_PATTERN(1, NC_PORT_DST));
	printf("# bench: 1 rule (tcp dport 80), non-matching IPv4: %u ns\n",
	       bench_one(DIR_EGRESS, &miss));
	printf("# bench: 1 rule (tcp dport 80, loss 0%%), matching IPv4: %u ns\n",
	       bench_one(DIR_EGRESS, &tcp4));
	r.action = NC_ACT_DROP;
	put_rule(1, &r);
	printf("# bench: 1 rule (tcp dport 80, drop), matching IPv4: %u ns\n",
	       bench_one(DIR_EGRESS, &tcp4));
	r.action = NC_ACT_LOSS;
	put_rule(1, &r);

	/* 10,000 port entries: lookups cost the same */
	for (port = 1000; port < 11000; port++)
		put_entry1(IPPROTO_TCP, NC_PORT_DST, (uint16_t)port, NULL, 1);
	s = with_ports(tcp4, 40000, 20000);
	printf("# bench: 10001 entries, non-matching IPv4: %u ns\n", bench_one(DIR_EGRESS, &s));
	printf("# bench: 10001 entries, matching IPv4: %u ns\n", bench_one(DIR_EGRESS, &tcp4));
	s = with_ports(tcp6, 40000, 20000);
	printf("# bench: 10001 entries, non-matching IPv6: %u ns\n", bench_one(DIR_EGRESS, &s));

	/* every pattern in use: six lookups */
	set_patterns(0, 0x3f);
	put_entry1(0, NC_PORT_ANY, 0, "10.200.0.0/16", 1);
	printf("# bench: 6 patterns, non-matching IPv4: %u ns\n", bench_one(DIR_EGRESS, &miss));
}

/* ---- setup ------------------------------------------------------------ */

static int probe_csum_complete(void)
{
	struct pkt p;
	struct run out;

	build(&p, &(struct pkt_spec){ .family = 4, .proto = IPPROTO_UDP, .src = "10.0.0.1",
				      .dst = "10.0.0.2", .sport = 1, .dport = 2, .payload = 4 });
	return run_prog_flags(fx.prog[DIR_EGRESS], &p, 0, 1, BPF_F_TEST_SKB_CHECKSUM_COMPLETE,
			      &out) == 0;
}

static int group_setup(void **state)
{
	int err;

	fx.skel = netchaos_bpf__open();
	if (!fx.skel) {
		fprintf(stderr, "# open skeleton: %s\n", strerror(errno));
		return -1;
	}
	err = netchaos_bpf__load(fx.skel);
	if (err) {
		fprintf(stderr, "# load skeleton: %s (root? BTF?)\n", strerror(-err));
		netchaos_bpf__destroy(fx.skel);
		fx.skel = NULL;
		return -1;
	}
	fx.prog[DIR_EGRESS] = bpf_program__fd(fx.skel->progs.nc_tc_egress);
	fx.prog[DIR_INGRESS] = bpf_program__fd(fx.skel->progs.nc_tc_ingress);
	fx.match_fd = bpf_map__fd(fx.skel->maps.nc_match);
	fx.rules_fd = bpf_map__fd(fx.skel->maps.nc_rules);
	fx.counters_fd = bpf_map__fd(fx.skel->maps.nc_counters);
	fx.scopes_fd = bpf_map__fd(fx.skel->maps.nc_scopes);
	fx.ports_fd = bpf_map__fd(fx.skel->maps.nc_ports);
	fx.global_fd = bpf_map__fd(fx.skel->maps.nc_global);
	fx.ncpus = libbpf_num_possible_cpus();
	if (fx.ncpus <= 0) {
		netchaos_bpf__destroy(fx.skel);
		fx.skel = NULL;
		return -1;
	}
	fx.csum_complete = probe_csum_complete();
	if (!fx.csum_complete)
		printf("# kernel lacks BPF_F_TEST_SKB_CHECKSUM_COMPLETE: skb->csum not checked\n");
	return 0;
}

static int group_teardown(void **state)
{
	netchaos_bpf__destroy(fx.skel); /* NULL-safe */
	fx.skel = NULL;
	return 0;
}

#define T(fn) cmocka_unit_test_setup(fn, reset_maps)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_no_rules_passes),
		T(test_non_ip_passes),
		T(test_dport_drop_and_counters),
		T(test_port_and_proto_mismatch),
		T(test_sport_match),
		T(test_port_bitmap_gate),
		T(test_fast_front_fallbacks),
		T(test_fast_front_portless),
		T(test_ingress_clears_steer_class),
		T(test_proto_keys),
		T(test_proto_mask_postcheck),
		T(test_ipv4_cidr),
		T(test_ipv6_cidr),
		T(test_no_address_matches_both_families),
		T(test_direction),
		T(test_ifindex_postcheck),
		T(test_port_postcheck),
		T(test_wide_range_any_key),
		T(test_either_dedupe),
		T(test_ipv6_ext_and_fragments),
		T(test_scope_isolation),
		T(test_expired_rule),
		T(test_deadman),
		T(test_seen_mark),
		T(test_loss_probabilities),
		T(test_two_loss_rules_compose),
		T(test_drop_ends_walk),
		T(test_corrupt_checksum_ipv4),
		T(test_corrupt_checksum_ipv6),
		T(test_corrupt_payload),
		T(test_corrupt_payload_needs_payload),
		T(test_corrupt_once),
		T(test_steer),
		T(test_bench),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
