// SPDX-License-Identifier: GPL-2.0-only
/*
 * The netlink messages of agent/qdisc.c, parsed back attribute by attribute:
 * netem (struct tc_netem_qopt + TCA_NETEM_* with their units: ns, 64 ns
 * ticks, u32 probabilities, bytes/s), the attributes a change must send, the
 * loss models, rate64, ECN, the distribution table; the HTB root and class;
 * the ingress steering filter (cls_bpf + mirred).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include "netem.h"
#include "qdisc.h"

#define PCT(x) ((uint32_t)((double)(x) / 100.0 * UINT32_MAX + 0.5))
#define MS	1000000ull
#define IFX	7
#define CLASS	NC_QDISC_CLASSID(5)
#define LEAF	0x50000u

/* A netem message taken apart. */
struct parsed {
	struct nl_msg *msg;
	struct nlmsghdr *nlh;
	struct tcmsg *tcm;
	struct nlattr *tb[TCA_MAX + 1];
	struct tc_netem_qopt qopt;
	struct nlattr *nt[TCA_NETEM_MAX + 1];
};

static void parse_netem(struct parsed *m)
{
	struct nlattr *opt;
	int off = NLA_ALIGN(sizeof(struct tc_netem_qopt));

	m->nlh = nlmsg_hdr(m->msg);
	assert_int_equal(m->nlh->nlmsg_type, RTM_NEWQDISC);
	m->tcm = nlmsg_data(m->nlh);
	assert_int_equal(nlmsg_parse(m->nlh, sizeof(struct tcmsg), m->tb, TCA_MAX, NULL), 0);
	assert_non_null(m->tb[TCA_KIND]);
	assert_string_equal(nla_get_string(m->tb[TCA_KIND]), "netem");
	opt = m->tb[TCA_OPTIONS];
	assert_non_null(opt);
	/* the kernel's parse_attr(): the struct, then attributes */
	assert_true(nla_len(opt) >= off);
	memcpy(&m->qopt, nla_data(opt), sizeof(m->qopt));
	assert_int_equal(nla_parse(m->nt, TCA_NETEM_MAX, (struct nlattr *)((char *)nla_data(opt) + off),
				   nla_len(opt) - off, NULL),
			 0);
}

static void build(struct parsed *m, const struct nc_netem_params *p, unsigned int flags)
{
	memset(m, 0, sizeof(*m));
	assert_int_equal(nc_qdisc_netem_msg(IFX, CLASS, LEAF, p, flags, &m->msg), 0);
	parse_netem(m);
}

static void done(struct parsed *m)
{
	nlmsg_free(m->msg);
}

static const void *attr(const struct parsed *m, int type, size_t len)
{
	if (!m->nt[type])
		fail_msg("TCA_NETEM attribute %d missing", type);
	assert_int_equal(nla_len(m->nt[type]), len);
	return nla_data(m->nt[type]);
}

/* 8-byte attributes are only 4-byte aligned in a message */
static uint64_t attr64(const struct parsed *m, int type)
{
	uint64_t v;

	memcpy(&v, attr(m, type, sizeof(v)), sizeof(v));
	return v;
}

static void test_netem_delay_only(void **state)
{
	struct nc_netem_params p = { .latency_ns = 100 * MS };
	struct parsed m;

	build(&m, &p, 0);
	assert_int_equal(m.nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL | NLM_F_REPLACE),
			 NLM_F_CREATE | NLM_F_EXCL);
	assert_int_equal(m.tcm->tcm_ifindex, IFX);
	assert_int_equal(m.tcm->tcm_parent, CLASS);
	assert_int_equal(m.tcm->tcm_handle, LEAF);
	/* legacy fields in psched ticks of 64 ns */
	assert_int_equal(m.qopt.latency, 100 * MS / 64);
	assert_int_equal(m.qopt.jitter, 0);
	assert_int_equal(m.qopt.limit, nc_netem_default_limit(&p));
	assert_int_equal(m.qopt.limit, 100000);
	assert_int_equal(m.qopt.loss, 0);
	assert_int_equal(m.qopt.gap, 0);
	/* exact 64-bit ns */
	assert_int_equal(attr64(&m, TCA_NETEM_LATENCY64), 100 * MS);
	assert_int_equal(attr64(&m, TCA_NETEM_JITTER64), 0);
	/* nothing else on a create */
	assert_null(m.nt[TCA_NETEM_CORR]);
	assert_null(m.nt[TCA_NETEM_REORDER]);
	assert_null(m.nt[TCA_NETEM_CORRUPT]);
	assert_null(m.nt[TCA_NETEM_LOSS]);
	assert_null(m.nt[TCA_NETEM_RATE]);
	assert_null(m.nt[TCA_NETEM_RATE64]);
	assert_null(m.nt[TCA_NETEM_ECN]);
	assert_null(m.nt[TCA_NETEM_DELAY_DIST]);
	assert_null(m.nt[TCA_NETEM_SLOT]);
	done(&m);
}

static void test_netem_long_delay(void **state)
{
	/* beyond what u32 ticks hold (~274 s): the 64-bit attributes carry it */
	struct nc_netem_params p = { .latency_ns = 3000ull * 1000 * MS, .jitter_ns = 1 };
	struct parsed m;

	build(&m, &p, 0);
	assert_int_equal(m.qopt.latency, UINT32_MAX);
	assert_int_equal(m.qopt.jitter, 0);
	assert_int_equal(attr64(&m, TCA_NETEM_LATENCY64), 3000ull * 1000 * MS);
	assert_int_equal(attr64(&m, TCA_NETEM_JITTER64), 1);
	done(&m);
}

static void test_netem_everything(void **state)
{
	struct nc_netem_params p = {
		.latency_ns = 50 * MS,
		.jitter_ns = 5 * MS,
		.latency_corr = PCT(25),
		.dist = NC_NETEM_DIST_NORMAL,
		.loss = PCT(1),
		.loss_corr = PCT(10),
		.duplicate = PCT(2),
		.dup_corr = PCT(20),
		.reorder = PCT(30),
		.reorder_corr = PCT(40),
		.corrupt = PCT(0.5),
		.corrupt_corr = PCT(5),
		.rate_bps = 1000000,
		.packet_overhead = -4,
		.limit = 777,
		.ecn = true,
	};
	const struct tc_netem_corr *corr;
	const struct tc_netem_reorder *ro;
	const struct tc_netem_corrupt *co;
	const struct tc_netem_rate *rate;
	int16_t want[NC_NETEM_DIST_TABLE_LEN];
	struct parsed m;

	assert_int_equal(nc_netem_validate(&p, NULL, 0), 0);
	build(&m, &p, 0);
	assert_int_equal(m.qopt.latency, 50 * MS / 64);
	assert_int_equal(m.qopt.jitter, 5 * MS / 64);
	assert_int_equal(m.qopt.limit, 777);
	assert_int_equal(m.qopt.loss, PCT(1));
	assert_int_equal(m.qopt.duplicate, PCT(2));
	assert_int_equal(m.qopt.gap, 1); /* reorder without gap: 1, like tc */
	assert_int_equal(attr64(&m, TCA_NETEM_JITTER64), 5 * MS);
	corr = attr(&m, TCA_NETEM_CORR, sizeof(*corr));
	assert_int_equal(corr->delay_corr, PCT(25));
	assert_int_equal(corr->loss_corr, PCT(10));
	assert_int_equal(corr->dup_corr, PCT(20));
	ro = attr(&m, TCA_NETEM_REORDER, sizeof(*ro));
	assert_int_equal(ro->probability, PCT(30));
	assert_int_equal(ro->correlation, PCT(40));
	co = attr(&m, TCA_NETEM_CORRUPT, sizeof(*co));
	assert_int_equal(co->probability, PCT(0.5));
	assert_int_equal(co->correlation, PCT(5));
	rate = attr(&m, TCA_NETEM_RATE, sizeof(*rate));
	assert_int_equal(rate->rate, 125000); /* bytes per second */
	assert_int_equal(rate->packet_overhead, -4);
	assert_int_equal(rate->cell_size, 0);
	assert_null(m.nt[TCA_NETEM_RATE64]);
	assert_int_equal(*(const uint32_t *)attr(&m, TCA_NETEM_ECN, 4), 1);
	assert_null(m.nt[TCA_NETEM_LOSS]);
	/* the normal table, as lib/netem.c computes it */
	assert_int_equal(nc_netem_dist_table(NC_NETEM_DIST_NORMAL, want, NC_NETEM_DIST_TABLE_LEN),
			 NC_NETEM_DIST_TABLE_LEN);
	assert_memory_equal(attr(&m, TCA_NETEM_DELAY_DIST, sizeof(want)), want, sizeof(want));
	done(&m);
}

static void test_netem_gap_and_rate64(void **state)
{
	struct nc_netem_params p = {
		.latency_ns = 10 * MS,
		.reorder = PCT(25),
		.gap = 5,
		.rate_bps = 100000000000ull, /* 100 Gbit/s = 12.5e9 bytes/s > 2^32 */
	};
	const struct tc_netem_rate *rate;
	struct parsed m;

	build(&m, &p, 0);
	assert_int_equal(m.qopt.gap, 5);
	rate = attr(&m, TCA_NETEM_RATE, sizeof(*rate));
	assert_int_equal(rate->rate, UINT32_MAX);
	assert_int_equal(attr64(&m, TCA_NETEM_RATE64), 12500000000ull);
	/* just below 2^32 bytes/s: no RATE64 */
	done(&m);
	p.rate_bps = 8ull * UINT32_MAX;
	build(&m, &p, 0);
	rate = attr(&m, TCA_NETEM_RATE, sizeof(*rate));
	assert_int_equal(rate->rate, UINT32_MAX);
	assert_null(m.nt[TCA_NETEM_RATE64]);
	done(&m);
}

static void test_netem_loss_gi(void **state)
{
	uint32_t v[5] = { PCT(5), PCT(70), PCT(30), PCT(90), PCT(1) };
	struct nc_netem_params p = { .loss = 0, .ecn = true };
	struct nlattr *lb[NETEM_LOSS_MAX + 1];
	const struct tc_netem_gimodel *gi;
	struct parsed m;

	nc_netem_set_gimodel(&p, v, 5);
	build(&m, &p, 0);
	assert_int_equal(m.qopt.loss, 0);
	assert_non_null(m.nt[TCA_NETEM_LOSS]);
	assert_true(m.nt[TCA_NETEM_LOSS]->nla_type & NLA_F_NESTED);
	assert_int_equal(nla_parse_nested(lb, NETEM_LOSS_MAX, m.nt[TCA_NETEM_LOSS], NULL), 0);
	assert_null(lb[NETEM_LOSS_GE]);
	assert_non_null(lb[NETEM_LOSS_GI]);
	assert_int_equal(nla_len(lb[NETEM_LOSS_GI]), sizeof(*gi));
	gi = nla_data(lb[NETEM_LOSS_GI]);
	assert_int_equal(gi->p13, PCT(5));
	assert_int_equal(gi->p31, PCT(70));
	/* 70 % + 30 % rounded past 2^32 - 1: trimmed for the kernel's u32 sum */
	assert_int_equal(gi->p32, UINT32_MAX - PCT(70));
	assert_int_equal(gi->p23, PCT(90));
	assert_int_equal(gi->p14, PCT(1));
	assert_int_equal(*(const uint32_t *)attr(&m, TCA_NETEM_ECN, 4), 1);
	done(&m);
}

static void test_netem_loss_ge(void **state)
{
	uint32_t v[4] = { PCT(1), PCT(10), PCT(70), PCT(0.1) };
	struct nc_netem_params p = { 0 };
	struct nlattr *lb[NETEM_LOSS_MAX + 1];
	const struct tc_netem_gemodel *ge;
	struct parsed m;

	nc_netem_set_gemodel(&p, v, 4);
	build(&m, &p, 0);
	assert_int_equal(nla_parse_nested(lb, NETEM_LOSS_MAX, m.nt[TCA_NETEM_LOSS], NULL), 0);
	assert_null(lb[NETEM_LOSS_GI]);
	assert_non_null(lb[NETEM_LOSS_GE]);
	assert_int_equal(nla_len(lb[NETEM_LOSS_GE]), sizeof(*ge));
	ge = nla_data(lb[NETEM_LOSS_GE]);
	assert_int_equal(ge->p, PCT(1));
	assert_int_equal(ge->r, PCT(10));
	assert_int_equal(ge->h, UINT32_MAX - PCT(70)); /* the kernel's h is 1 - (1-h) */
	assert_int_equal(ge->k1, PCT(0.1));
	done(&m);
}

/* A change must reset what the new parameters leave out. */
static void test_netem_change_sends_everything(void **state)
{
	struct nc_netem_params p = { .latency_ns = 50 * MS };
	const struct tc_netem_corr *corr;
	const struct tc_netem_reorder *ro;
	const struct tc_netem_corrupt *co;
	const struct tc_netem_rate *rate;
	struct parsed m;

	build(&m, &p, NC_NETEM_MSG_CHANGE);
	assert_int_equal(m.nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL | NLM_F_REPLACE), 0);
	assert_int_equal(m.tcm->tcm_handle, LEAF);
	assert_int_equal(m.tcm->tcm_parent, CLASS);
	corr = attr(&m, TCA_NETEM_CORR, sizeof(*corr));
	assert_int_equal(corr->delay_corr | corr->loss_corr | corr->dup_corr, 0);
	ro = attr(&m, TCA_NETEM_REORDER, sizeof(*ro));
	assert_int_equal(ro->probability | ro->correlation, 0);
	co = attr(&m, TCA_NETEM_CORRUPT, sizeof(*co));
	assert_int_equal(co->probability | co->correlation, 0);
	rate = attr(&m, TCA_NETEM_RATE, sizeof(*rate));
	assert_int_equal(rate->rate, 0);
	assert_int_equal(*(const uint32_t *)attr(&m, TCA_NETEM_ECN, 4), 0);
	assert_null(m.nt[TCA_NETEM_DELAY_DIST]); /* none installed, none wanted */
	assert_null(m.nt[TCA_NETEM_LOSS]);	 /* absent = random loss model */
	done(&m);
}

static void test_netem_change_replaces_table(void **state)
{
	struct nc_netem_params p = { .latency_ns = 50 * MS, .jitter_ns = 10 * MS };
	int16_t uniform[NC_NETEM_DIST_TABLE_LEN], pareto[NC_NETEM_DIST_TABLE_LEN];
	struct parsed m;

	nc_netem_dist_table(NC_NETEM_DIST_UNIFORM, uniform, NC_NETEM_DIST_TABLE_LEN);
	nc_netem_dist_table(NC_NETEM_DIST_PARETO, pareto, NC_NETEM_DIST_TABLE_LEN);
	/* the live qdisc holds a table the new parameters do not want: a
	 * uniform one replaces it (tables cannot be removed) */
	build(&m, &p, NC_NETEM_MSG_CHANGE | NC_NETEM_MSG_HAS_TABLE);
	assert_memory_equal(attr(&m, TCA_NETEM_DELAY_DIST, sizeof(uniform)), uniform,
			    sizeof(uniform));
	done(&m);
	p.dist = NC_NETEM_DIST_PARETO;
	build(&m, &p, NC_NETEM_MSG_CHANGE | NC_NETEM_MSG_HAS_TABLE);
	assert_memory_equal(attr(&m, TCA_NETEM_DELAY_DIST, sizeof(pareto)), pareto,
			    sizeof(pareto));
	done(&m);
	/* an explicit uniform on a create needs no table: it is the kernel's */
	p.dist = NC_NETEM_DIST_UNIFORM;
	build(&m, &p, 0);
	assert_null(m.nt[TCA_NETEM_DELAY_DIST]);
	done(&m);
	/* HAS_TABLE means nothing on a create */
	p.dist = NC_NETEM_DIST_NONE;
	build(&m, &p, NC_NETEM_MSG_HAS_TABLE);
	assert_null(m.nt[TCA_NETEM_DELAY_DIST]);
	done(&m);
}

static void test_htb_root(void **state)
{
	struct nlattr *tb[TCA_MAX + 1], *ht[TCA_HTB_MAX + 1];
	const struct tc_htb_glob *g;
	struct nl_msg *msg;
	struct nlmsghdr *nlh;
	struct tcmsg *tcm;

	assert_int_equal(nc_qdisc_htb_root_msg(IFX, 1234, &msg), 0);
	nlh = nlmsg_hdr(msg);
	tcm = nlmsg_data(nlh);
	assert_int_equal(nlh->nlmsg_type, RTM_NEWQDISC);
	assert_int_equal(nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL | NLM_F_REPLACE),
			 NLM_F_CREATE | NLM_F_REPLACE);
	assert_int_equal(tcm->tcm_ifindex, IFX);
	assert_int_equal(tcm->tcm_parent, TC_H_ROOT);
	assert_int_equal(tcm->tcm_handle, NC_QDISC_MAJOR << 16);
	assert_int_equal(nlmsg_parse(nlh, sizeof(*tcm), tb, TCA_MAX, NULL), 0);
	assert_string_equal(nla_get_string(tb[TCA_KIND]), "htb");
	assert_int_equal(nla_parse_nested(ht, TCA_HTB_MAX, tb[TCA_OPTIONS], NULL), 0);
	assert_int_equal(nla_len(ht[TCA_HTB_INIT]), sizeof(*g));
	g = nla_data(ht[TCA_HTB_INIT]);
	assert_int_equal(g->version, 3);
	assert_int_equal(g->defcls, 0); /* unclassified: the direct queue */
	assert_int_equal(nla_get_u32(ht[TCA_HTB_DIRECT_QLEN]), 1234);
	nlmsg_free(msg);
}

static void check_class(uint64_t bps, bool want64)
{
	struct nlattr *tb[TCA_MAX + 1], *ht[TCA_HTB_MAX + 1];
	uint64_t bytes = bps / 8;
	const struct tc_htb_opt *o;
	struct nl_msg *msg;
	struct nlmsghdr *nlh;
	struct tcmsg *tcm;

	assert_int_equal(nc_qdisc_htb_class_msg(IFX, CLASS, bps, &msg), 0);
	nlh = nlmsg_hdr(msg);
	tcm = nlmsg_data(nlh);
	assert_int_equal(nlh->nlmsg_type, RTM_NEWTCLASS);
	assert_int_equal(nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL),
			 NLM_F_CREATE | NLM_F_EXCL);
	assert_int_equal(tcm->tcm_handle, CLASS);
	assert_int_equal(tcm->tcm_parent, NC_QDISC_MAJOR << 16);
	assert_int_equal(nlmsg_parse(nlh, sizeof(*tcm), tb, TCA_MAX, NULL), 0);
	assert_string_equal(nla_get_string(tb[TCA_KIND]), "htb");
	assert_int_equal(nla_parse_nested(ht, TCA_HTB_MAX, tb[TCA_OPTIONS], NULL), 0);
	assert_int_equal(nla_len(ht[TCA_HTB_PARMS]), sizeof(*o));
	o = nla_data(ht[TCA_HTB_PARMS]);
	assert_int_equal(o->rate.rate, want64 ? UINT32_MAX : bytes);
	assert_int_equal(o->ceil.rate, o->rate.rate);
	assert_int_equal(o->rate.linklayer, TC_LINKLAYER_ETHERNET);
	assert_true(o->quantum >= 1514);
	/* at least 1 ms of burst, in 64 ns ticks */
	assert_true(o->buffer >= 1000000 / 64 && o->cbuffer == o->buffer);
	if (want64) {
		assert_int_equal(nla_get_u64(ht[TCA_HTB_RATE64]), bytes);
		assert_int_equal(nla_get_u64(ht[TCA_HTB_CEIL64]), bytes);
	} else {
		assert_null(ht[TCA_HTB_RATE64]);
		assert_null(ht[TCA_HTB_CEIL64]);
	}
	nlmsg_free(msg);
}

static void test_htb_class(void **state)
{
	check_class(NC_QDISC_UNSHAPED_BPS, true);
	check_class(1000000, false);
	check_class(8ull * UINT32_MAX, false);
	assert_int_equal(NC_QDISC_CLASSID(5), 0x4e430005);
	assert_true(NC_QDISC_MINOR_MAX < NC_QDISC_MAJOR); /* leaf M: never hits our root */
}

static void test_steer_filter(void **state)
{
	struct nlattr *tb[TCA_MAX + 1], *bt[TCA_BPF_MAX + 1], *acts[3], *at[TCA_ACT_MAX + 1];
	struct nlattr *mt[TCA_MIRRED_MAX + 1];
	const struct tc_mirred *m;
	struct nl_msg *msg;
	struct nlmsghdr *nlh;
	struct tcmsg *tcm;

	assert_int_equal(nc_qdisc_steer_filter_msg(IFX, 42, 13, &msg), 0);
	nlh = nlmsg_hdr(msg);
	tcm = nlmsg_data(nlh);
	assert_int_equal(nlh->nlmsg_type, RTM_NEWTFILTER);
	assert_int_equal(nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL),
			 NLM_F_CREATE | NLM_F_EXCL);
	assert_int_equal(tcm->tcm_parent, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS));
	assert_int_equal(tcm->tcm_handle, NC_QDISC_STEER_HANDLE);
	assert_int_equal(TC_H_MAJ(tcm->tcm_info) >> 16, NC_QDISC_STEER_PRIO);
	assert_int_equal(TC_H_MIN(tcm->tcm_info), htons(ETH_P_ALL));
	assert_true(NC_QDISC_STEER_PRIO > 1); /* after the classifier (priority 1) */
	assert_int_equal(nlmsg_parse(nlh, sizeof(*tcm), tb, TCA_MAX, NULL), 0);
	assert_string_equal(nla_get_string(tb[TCA_KIND]), "bpf");
	assert_int_equal(nla_parse_nested(bt, TCA_BPF_MAX, tb[TCA_OPTIONS], NULL), 0);
	assert_int_equal(nla_get_u32(bt[TCA_BPF_FD]), 13);
	assert_string_equal(nla_get_string(bt[TCA_BPF_NAME]), NC_QDISC_STEER_PROG);
	/* not direct-action: the action does the redirect */
	assert_true(!bt[TCA_BPF_FLAGS] || !(nla_get_u32(bt[TCA_BPF_FLAGS]) & TCA_BPF_FLAG_ACT_DIRECT));
	assert_int_equal(nla_parse_nested(acts, 2, bt[TCA_BPF_ACT], NULL), 0);
	assert_non_null(acts[1]);
	assert_int_equal(nla_parse_nested(at, TCA_ACT_MAX, acts[1], NULL), 0);
	assert_string_equal(nla_get_string(at[TCA_ACT_KIND]), "mirred");
	assert_int_equal(nla_parse_nested(mt, TCA_MIRRED_MAX, at[TCA_ACT_OPTIONS], NULL), 0);
	assert_int_equal(nla_len(mt[TCA_MIRRED_PARMS]), sizeof(*m));
	m = nla_data(mt[TCA_MIRRED_PARMS]);
	assert_int_equal(m->eaction, TCA_EGRESS_REDIR);
	assert_int_equal(m->ifindex, 42);
	assert_int_equal(m->action, TC_ACT_STOLEN);
	nlmsg_free(msg);
}

static void test_ifb_name(void **state)
{
	char name[IF_NAMESIZE];

	nc_qdisc_ifb_name(12, name);
	assert_string_equal(name, "ncifb12");
	nc_qdisc_ifb_name(2147483647, name); /* the longest still fits */
	assert_string_equal(name, "ncifb2147483647");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_netem_delay_only),
		cmocka_unit_test(test_netem_long_delay),
		cmocka_unit_test(test_netem_everything),
		cmocka_unit_test(test_netem_gap_and_rate64),
		cmocka_unit_test(test_netem_loss_gi),
		cmocka_unit_test(test_netem_loss_ge),
		cmocka_unit_test(test_netem_change_sends_everything),
		cmocka_unit_test(test_netem_change_replaces_table),
		cmocka_unit_test(test_htb_root),
		cmocka_unit_test(test_htb_class),
		cmocka_unit_test(test_steer_filter),
		cmocka_unit_test(test_ifb_name),
	};

	return cmocka_run_group_tests_name("netem_msg", tests, NULL, NULL);
}
