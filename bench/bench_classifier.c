// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench_classifier: per-packet cost of the netchaos TC classifier, measured by
 * the kernel with BPF_PROG_TEST_RUN in repeat mode.
 *
 * Loads the real datapath object (build/netchaos.skel.h), fills its maps the
 * way the agent lays out "drop --dport P --proto udp|tcp" rules (one LPM
 * entry per rule: scope 0, protocol, destination port; one rule slot each),
 * with 0, 1 or N rules on ports 20000.., alternately UDP and TCP, and runs
 * 64-byte Ethernet/IPv4 and Ethernet/IPv6 UDP frames through the egress and
 * ingress programs: one that matches a rule (the last UDP rule: the program
 * drops it), one that matches none (dport 9000: no rule names the port, so
 * the fast front ends it before the parse) and, from 2 rules on, a
 * "named-port" one (UDP to the first TCP rule's port: the LPM lookup runs and
 * finds no rule for UDP).
 *
 * usage: bench_classifier [--rules 1,10000] [--repeat 1000000] [--rounds 5]
 * Output CSV: rules,family,dir,case,verdict,ns_median,ns_min,ns_max
 * (ns = the kernel's average run time per packet of one repeat run; median,
 * min and max over the rounds). Needs root.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/udp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "netchaos/maps.h"
#include "netchaos.skel.h"

#define PORT_BASE  20000
#define NOMATCH    9000
#define PAYLOAD	   18 /* 14 + 20 + 8 + 18 = 60 bytes: a 64-byte frame with its FCS */
#define MAX_ROUNDS 101

struct frame {
	uint8_t buf[256];
	uint32_t len;
};

static uint64_t boottime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "bench_classifier: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

static uint16_t ip_csum(const void *hdr, size_t len)
{
	const uint8_t *p = hdr;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* A UDP frame from 198.18.0.1 / 2001:db8::1 to .2 / ::2, sport 40000. */
static void make_frame(struct frame *f, int family, uint16_t dport)
{
	struct ethhdr *eth = (struct ethhdr *)f->buf;
	struct udphdr *udp;
	size_t off = sizeof(*eth);

	memset(f, 0, sizeof(*f));
	memcpy(eth->h_dest, "\x02\x00\x00\x00\x00\x02", ETH_ALEN);
	memcpy(eth->h_source, "\x02\x00\x00\x00\x00\x01", ETH_ALEN);
	if (family == 4) {
		struct iphdr *ip = (struct iphdr *)(f->buf + off);

		eth->h_proto = htons(ETH_P_IP);
		ip->version = 4;
		ip->ihl = 5;
		ip->ttl = 64;
		ip->protocol = IPPROTO_UDP;
		ip->tot_len = htons(sizeof(*ip) + sizeof(*udp) + PAYLOAD);
		inet_pton(AF_INET, "198.18.0.1", &ip->saddr);
		inet_pton(AF_INET, "198.18.0.2", &ip->daddr);
		ip->check = ip_csum(ip, sizeof(*ip));
		off += sizeof(*ip);
	} else {
		struct ip6_hdr *ip6 = (struct ip6_hdr *)(f->buf + off);

		eth->h_proto = htons(ETH_P_IPV6);
		ip6->ip6_flow = htonl(6u << 28);
		ip6->ip6_hlim = 64;
		ip6->ip6_nxt = IPPROTO_UDP;
		ip6->ip6_plen = htons(sizeof(*udp) + PAYLOAD);
		inet_pton(AF_INET6, "2001:db8::1", &ip6->ip6_src);
		inet_pton(AF_INET6, "2001:db8::2", &ip6->ip6_dst);
		off += sizeof(*ip6);
	}
	udp = (struct udphdr *)(f->buf + off);
	udp->source = htons(40000);
	udp->dest = htons(dport);
	udp->len = htons(sizeof(*udp) + PAYLOAD);
	off += sizeof(*udp);
	memset(f->buf + off, 'x', PAYLOAD);
	f->len = (uint32_t)(off + PAYLOAD);
}

struct maps {
	int match, rules, counters, scopes, ports, global;
};

/* The nc_ports words of scope 0, DST, as the agent keeps them. */
static uint64_t port_words[NC_PORT_WORDS_PER_KIND];

static void write_port_words(const struct maps *m)
{
	for (uint32_t w = 0; w < NC_PORT_WORDS_PER_KIND; w++) {
		uint32_t word = NC_PORT_WORD(0, NC_PORT_DST, w * 64);

		if (bpf_map_update_elem(m->ports, &word, &port_words[w], BPF_ANY))
			die("write port word", errno);
	}
}

static void clear_rules(const struct maps *m, uint32_t n)
{
	struct nc_match_key key, next;
	struct nc_rule empty = { 0 };

	while (!bpf_map_get_next_key(m->match, NULL, &next)) {
		key = next;
		if (bpf_map_delete_elem(m->match, &key))
			die("delete match entry", errno);
	}
	for (uint32_t slot = 0; slot < n; slot++)
		if (bpf_map_update_elem(m->rules, &slot, &empty, BPF_ANY))
			die("clear rule slot", errno);
	memset(port_words, 0, sizeof(port_words));
	write_port_words(m);
}

/* Rule i: drop dport PORT_BASE+i, UDP for even i, TCP for odd i. */
static void load_rules(const struct maps *m, uint32_t n)
{
	uint64_t expires = boottime_ns() + 3600ull * 1000000000ull;
	struct nc_scope scope = { .patterns = n ? NC_PATTERN(1, NC_PORT_DST) : 0 };
	uint32_t zero = 0;

	for (uint32_t i = 0; i < n; i++) {
		uint16_t port = (uint16_t)(PORT_BASE + i);
		bool udp = !(i % 2);
		struct nc_rule r = {
			.expires_ns = expires,
			.id = i + 1,
			.action = NC_ACT_DROP,
			.dir_mask = NC_DIR_BOTH,
			.proto_mask = udp ? NC_PROTO_UDP : NC_PROTO_TCP,
			.n_ports = 1,
		};
		struct nc_match_key key = {
			.prefixlen = NC_KEY_FIXED_BITS,
			.scope = 0,
			.proto = udp ? IPPROTO_UDP : IPPROTO_TCP,
			.port_kind = NC_PORT_DST,
			.port = htons(port),
		};
		struct nc_match_val val = { .count = 1, .slot = { (uint16_t)i } };

		r.port_kind[0] = NC_PORT_DST;
		r.ports[0].lo = port;
		r.ports[0].hi = port;
		if (bpf_map_update_elem(m->rules, &i, &r, BPF_ANY))
			die("write rule", errno);
		if (bpf_map_update_elem(m->match, &key, &val, BPF_ANY))
			die("write match entry", errno);
		port_words[port / 64] |= NC_PORT_BIT(port);
	}
	write_port_words(m);
	if (bpf_map_update_elem(m->scopes, &zero, &scope, BPF_ANY))
		die("write scope", errno);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static void run_case(int prog, const struct frame *f, int repeat, int rounds, uint32_t n_rules,
		     int family, const char *dir, const char *what)
{
	uint32_t ns[MAX_ROUNDS];
	int verdict = 0;

	for (int r = 0; r < rounds; r++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->buf, .data_size_in = f->len,
			    .repeat = repeat);

		if (bpf_prog_test_run_opts(prog, &opts))
			die("BPF_PROG_TEST_RUN", errno);
		ns[r] = opts.duration;
		verdict = (int)opts.retval;
	}
	qsort(ns, (size_t)rounds, sizeof(ns[0]), cmp_u32);
	printf("%u,IPv%d,%s,%s,%s,%u,%u,%u\n", n_rules, family, dir, what,
	       verdict == TC_ACT_SHOT ? "drop" : verdict == TC_ACT_UNSPEC ? "pass" : "other",
	       ns[rounds / 2], ns[0], ns[rounds - 1]);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	const char *rules_list = "1,10000";
	int repeat = 1000000, rounds = 5;
	struct netchaos_bpf *skel;
	struct nc_global g = { 0 };
	uint32_t zero = 0, counts[16], n_counts = 0;
	struct maps m;
	int prog[2];
	char *list, *tok, *save = NULL;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--rules"))
			rules_list = argv[i + 1];
		else if (!strcmp(argv[i], "--repeat"))
			repeat = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--rounds"))
			rounds = atoi(argv[i + 1]);
	}
	if (repeat < 1 || rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: bench_classifier [--rules 1,10000] [--repeat N] "
				"[--rounds 1..%d]\n", MAX_ROUNDS);
		return 2;
	}
	/* Always a row without rules: the fixed cost of the hook. */
	counts[n_counts++] = 0;
	list = strdup(rules_list);
	for (tok = strtok_r(list, ",", &save); tok && n_counts < 16; tok = strtok_r(NULL, ",", &save)) {
		long v = strtol(tok, NULL, 10);

		if (v < 1 || v > NC_MAX_RULES) {
			fprintf(stderr, "bench_classifier: --rules: 1..%d\n", NC_MAX_RULES);
			return 2;
		}
		counts[n_counts++] = (uint32_t)v;
	}
	free(list);

	skel = netchaos_bpf__open_and_load();
	if (!skel)
		die("load the BPF object", errno);
	m.match = bpf_map__fd(skel->maps.nc_match);
	m.rules = bpf_map__fd(skel->maps.nc_rules);
	m.counters = bpf_map__fd(skel->maps.nc_counters);
	m.scopes = bpf_map__fd(skel->maps.nc_scopes);
	m.ports = bpf_map__fd(skel->maps.nc_ports);
	m.global = bpf_map__fd(skel->maps.nc_global);
	prog[0] = bpf_program__fd(skel->progs.nc_tc_egress);
	prog[1] = bpf_program__fd(skel->progs.nc_tc_ingress);

	/* As the agent runs it: a fresh heartbeat, a dead-man switch armed. */
	g.heartbeat_ns = boottime_ns();
	g.deadman_ns = 3600ull * 1000000000ull;
	g.seen_mark = 0x20000000u;
	if (bpf_map_update_elem(m.global, &zero, &g, BPF_ANY))
		die("write nc_global", errno);

	printf("rules,family,dir,case,verdict,ns_median,ns_min,ns_max\n");
	for (uint32_t c = 0; c < n_counts; c++) {
		uint32_t n = counts[c];
		/* the last UDP rule: the deepest entry the test set has */
		uint16_t match_port = (uint16_t)(PORT_BASE + (n ? ((n - 1) & ~1u) : 0));

		load_rules(&m, n);
		for (int family = 4; family <= 6; family += 2) {
			struct frame hit, miss, near;

			make_frame(&hit, family, match_port);
			make_frame(&miss, family, NOMATCH);
			/* UDP to the first TCP rule's port: named, so looked up, and no rule */
			make_frame(&near, family, (uint16_t)(PORT_BASE + 1));
			for (int d = 0; d < 2; d++) {
				const char *dir = d ? "ingress" : "egress";

				if (n)
					run_case(prog[d], &hit, repeat, rounds, n, family, dir, "match");
				run_case(prog[d], &miss, repeat, rounds, n, family, dir, "no-match");
				if (n >= 2)
					run_case(prog[d], &near, repeat, rounds, n, family, dir,
						 "named-port");
			}
		}
		clear_rules(&m, n);
	}
	netchaos_bpf__destroy(skel);
	return 0;
}
