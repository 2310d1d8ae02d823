// SPDX-License-Identifier: GPL-2.0-only
/*
 * netem rules as qdiscs (qdisc.h has the API). Owns our HTB trees, their
 * classes and netem leaves, our IFB devices and ingress steering filters,
 * and the saved root set-up of every interface it took over.
 *
 * Design
 *
 * Egress. The first netem rule on an interface replaces its root qdisc with
 * an HTB tree this module owns: root NC_QDISC_MAJOR: with default class 0,
 * which no class has, so unclassified packets take HTB's direct queue:
 * unshaped, first served, at most direct_qlen = max(txqueuelen, 1000)
 * packets (what pfifo_fast would hold). Rule M gets class MAJOR:M with rate =
 * ceil = NC_QDISC_UNSHAPED_BPS (HTB never shapes) and a netem leaf with
 * handle M:. The BPF classifier steers a packet into it by setting
 * skb->priority = MAJOR:M in its clsact hook, which runs before the root
 * qdisc: HTB takes a priority naming one of its leaf classes as the class.
 * A `rate` rule is shaped by netem's own rate (TCA_NETEM_RATE), not by the
 * class: it composes with delay the way tc-netem users know, it models the
 * serialization delay of a link, and it changes in place with the rest.
 *
 * Ingress. An IFB device per interface, NC_QDISC_IFB_PREFIX<ifindex>,
 * created by this module (up, with the interface's MTU) with the same tree on
 * its root. The ingress program only sets the priority and lets the packet
 * go on (TC_ACT_UNSPEC); a filter of this module after it on the clsact
 * ingress hook (cls_bpf, not direct-action, priority NC_QDISC_STEER_PRIO)
 * matches packets whose priority names one of our classes and redirects them
 * with act_mirred. Why not bpf_redirect() from the classifier: an IFB drops
 * every packet not marked "redirected", and on 6.1 only act_mirred marks it
 * (measured: the packets pass our HTB and netem, then count as the IFB's
 * rx_dropped); newer kernels accept both. IFB hands packets back to the
 * interface's receive path with tc classification skipped, so they are not
 * matched twice. The filter, the IFB, and a clsact this module had to create
 * go with the last ingress rule of the interface.
 *
 * Changes. A rule's new parameters are an RTM_NEWQDISC without NLM_F_CREATE
 * on its netem leaf (a change): queued packets stay, nothing is rebuilt.
 * netem keeps the old value of every attribute a change leaves out, so a
 * change sends all of them, zeros included; a delay distribution table
 * cannot be removed at all, so a change away from one sends a uniform table.
 *
 * Queue limit. nc_netem_default_limit() (lib/netem.c): tc's default of 1000
 * packets silently drops a delayed high-rate flow (100 Mbit/s of 1500-byte
 * packets delayed by 150 ms is 1250 packets in the queue).
 *
 * Saving and restoring the root. Before the first egress rule takes over an
 * interface, its root tree is dumped: qdiscs, classes and the filters of
 * every qdisc and class, never the clsact/ingress qdisc (a separate slot
 * this module never touches). When the last rule ends:
 *   - a kernel default root (handle 0: noqueue, pfifo_fast, fq_codel, or mq
 *     with default children) comes back by deleting our root: the kernel
 *     attaches its default again, the same one as long as
 *     net.core.default_qdisc and the device's queues have not changed;
 *   - a user's tree (root handle != 0) comes back by replacing our root with
 *     the saved root, then replaying the other qdiscs and classes parents
 *     first (NLM_F_CREATE | NLM_F_EXCL, or a change for a class the kernel
 *     made itself, like an ETS band), then the filters; user qdiscs under a
 *     default root (e.g. one mq child replaced) are replayed the same way.
 * A fresh dump is then compared with the saved one (kinds, handles, parents,
 * options minus counters; filters by parent, priority, protocol, handle,
 * kind and chain) and a difference is logged. Known limits, all logged as
 * inexact: the kernel does not dump a netem distribution table or a size
 * table's data; u32 hash tables the kernel numbered itself (800: and up) are
 * recreated by the kernel, possibly under another number. cls_bpf filters
 * are replayed with their program, whose fd is held while our tree is in
 * place (the program would be freed with the filter otherwise). Only our
 * own root is ever replaced or deleted: if someone replaced it meanwhile,
 * theirs stays and nothing is restored.
 *
 * A crashed agent's tree (root MAJOR:) or IFB is found by handle and name;
 * what it replaced is unknown then, so nc_qdisc_cleanup_stale() lets the
 * kernel default come back and says so.
 *
 * Netlink. Qdisc, class and filter messages are built with libnl's core
 * message API (libnl-route's netem object knows only the legacy options, and
 * a replay must copy attributes verbatim); links use libnl-route to build
 * requests. Every request goes through qd_talk(), which sets NETLINK_EXT_ACK
 * and keeps the kernel's reason ("Specified qdisc kind is unknown") for the
 * error message, since libnl 3.7 has no extack API.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/if_ether.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/handlers.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/inet6.h>
#include <netlink/socket.h>

#include "errmsg.h"
#include "log.h"
#include "qdisc.h"

#define QD_KIND_LEN	 16	  /* TCA_KIND: IFNAMSIZ in the kernel */
#define QD_MSG_SIZE	 16384	  /* a netem message with a 8 KB table fits */
#define QD_HTB_QUANTUM	 65536	  /* DRR turn of a class: one GSO packet */
#define QD_MIN_DIRECT_QLEN 1000
#define QD_ROOT_HANDLE	 (NC_QDISC_MAJOR << 16)
#define QD_NETEM_MISSING_FMT                                                   \
	"sch_netem is not available in this kernel: %s (load the sch_netem " \
	"module or use a kernel with CONFIG_NET_SCH_NETEM)"

/* ------------------------------------------------------------------------ */
/* netlink plumbing                                                          */
/* ------------------------------------------------------------------------ */

struct qd_nl {
	struct nl_sock *sk;
	char kmsg[256]; /* the kernel's reason for the last refusal, or "" */
};

typedef int (*qd_dump_fn)(struct nlmsghdr *nlh, void *arg);

struct qd_req {
	struct qd_nl *nl;
	qd_dump_fn fn;
	void *arg;
	int error;
	bool done;
};

static int qd_nlerr(int nlerr)
{
	switch (abs(nlerr)) {
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_PERM:
		return -EPERM;
	case NLE_NODEV:
		return -ENODEV;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_EXIST:
		return -EEXIST;
	case NLE_INVAL:
		return -EINVAL;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_OPNOTSUPP:
		return -EOPNOTSUPP;
	case NLE_DUMP_INTR:
		return -EAGAIN;
	default:
		return -EIO;
	}
}

static void qd_nl_close(struct qd_nl *nl)
{
	if (nl->sk)
		nl_socket_free(nl->sk);
	nl->sk = NULL;
}

static int qd_nl_open(struct qd_nl *nl)
{
	int one = 1, fd, err;

	memset(nl, 0, sizeof(*nl));
	nl->sk = nl_socket_alloc();
	if (!nl->sk)
		return -ENOMEM;
	err = nl_connect(nl->sk, NETLINK_ROUTE);
	if (err < 0) {
		qd_nl_close(nl);
		return qd_nlerr(err);
	}
	/* qd_talk() asks for the ACK itself: dumps must not carry NLM_F_ACK. */
	nl_socket_disable_auto_ack(nl->sk);
	fd = nl_socket_get_fd(nl->sk);
	/* The kernel's reason with every error, without the request echoed
	 * back (it can be 8 KB). Kernels without them just ignore these. */
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	return 0;
}

/* NLMSGERR_ATTR_MSG of an error message, if the kernel sent one. */
static void qd_extack(const struct nlmsghdr *hdr, const struct nlmsgerr *e, char *buf,
		      size_t len)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t off, n;

	if (!(hdr->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	off = sizeof(*e);
	if (!(hdr->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	off = NLMSG_HDRLEN + NLMSG_ALIGN(off);
	if (off >= hdr->nlmsg_len)
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)hdr + off),
		      (int)(hdr->nlmsg_len - off), NULL) < 0 ||
	    !tb[NLMSGERR_ATTR_MSG])
		return;
	nla_strlcpy(buf, tb[NLMSGERR_ATTR_MSG], len);
	n = strlen(buf);
	while (n && (buf[n - 1] == '.' || buf[n - 1] == '\n'))
		buf[--n] = '\0';
}

static int qd_on_valid(struct nl_msg *msg, void *arg)
{
	struct qd_req *r = arg;
	int err;

	/* Keep reading after a failure of ours: the socket must be drained. */
	if (r->fn && !r->error) {
		err = r->fn(nlmsg_hdr(msg), r->arg);
		if (err < 0)
			r->error = err;
	}
	return NL_OK;
}

static int qd_on_done(struct nl_msg *msg, void *arg)
{
	struct qd_req *r = arg;

	r->done = true;
	return NL_STOP;
}

static int qd_on_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct qd_req *r = arg;
	/* libnl hands over the payload of the received message */
	const struct nlmsghdr *hdr = (const struct nlmsghdr *)((const char *)e - NLMSG_HDRLEN);

	r->error = e->error < 0 ? e->error : -EIO;
	r->done = true;
	qd_extack(hdr, e, r->nl->kmsg, sizeof(r->nl->kmsg));
	return NL_STOP;
}

/*
 * Send msg (consumed) and wait for the kernel's answer: the ACK of a request
 * (0 or the kernel's -errno, its reason in nl->kmsg) or the whole dump, each
 * message passed to fn.
 */
static int qd_talk(struct qd_nl *nl, struct nl_msg *msg, qd_dump_fn fn, void *arg)
{
	struct qd_req r = { .nl = nl, .fn = fn, .arg = arg };
	struct nl_cb *base, *cb;
	int err;

	nl->kmsg[0] = '\0';
	if ((nlmsg_hdr(msg)->nlmsg_flags & NLM_F_DUMP) != NLM_F_DUMP)
		nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_ACK;
	base = nl_socket_get_cb(nl->sk);
	cb = base ? nl_cb_clone(base) : NULL;
	if (base)
		nl_cb_put(base);
	if (!cb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, qd_on_valid, &r);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, qd_on_done, &r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, qd_on_done, &r);
	nl_cb_err(cb, NL_CB_CUSTOM, qd_on_error, &r);

	err = nl_send_auto(nl->sk, msg);
	nlmsg_free(msg);
	if (err < 0) {
		err = qd_nlerr(err);
		goto out;
	}
	while (!r.done) {
		err = nl_recvmsgs(nl->sk, cb);
		if (err < 0 && !r.done) {
			err = qd_nlerr(err);
			goto out;
		}
	}
	err = r.error;
out:
	nl_cb_put(cb);
	return err;
}

/* " (kernel: ...)" or "" */
static const char *qd_kreason(const struct qd_nl *nl)
{
	static char buf[sizeof(nl->kmsg) + 16];

	if (!nl->kmsg[0])
		return "";
	snprintf(buf, sizeof(buf), " (kernel: %s)", nl->kmsg);
	return buf;
}

/* ------------------------------------------------------------------------ */
/* message builders                                                          */
/* ------------------------------------------------------------------------ */

static struct nl_msg *qd_msg_new(int type, int flags, const struct tcmsg *tcm, size_t size)
{
	struct nl_msg *msg = size ? nlmsg_alloc_size(size) : nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!nlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, type, 0, flags) ||
	    nlmsg_append(msg, (void *)tcm, sizeof(*tcm), NLMSG_ALIGNTO) < 0) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* psched ticks (64 ns), which struct tc_netem_qopt and tc_htb_opt carry */
static uint32_t qd_ns_to_ticks(uint64_t ns)
{
	uint64_t t = ns >> 6;

	return t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

/* The table a netem message carries: a real distribution, or a uniform one
 * replacing a table the live qdisc holds but the parameters do not want. */
static int qd_netem_table_dist(const struct nc_netem_params *p, unsigned int flags)
{
	switch (p->dist) {
	case NC_NETEM_DIST_NORMAL:
	case NC_NETEM_DIST_PARETO:
	case NC_NETEM_DIST_PARETONORMAL:
		return p->dist;
	}
	if ((flags & NC_NETEM_MSG_CHANGE) && (flags & NC_NETEM_MSG_HAS_TABLE))
		return NC_NETEM_DIST_UNIFORM;
	return NC_NETEM_DIST_NONE;
}

int nc_qdisc_netem_msg(int ifindex, uint32_t parent, uint32_t handle,
		       const struct nc_netem_params *p, unsigned int flags, struct nl_msg **out)
{
	bool change = flags & NC_NETEM_MSG_CHANGE;
	bool model = p->loss_model.model != NC_NETEM_LOSS_RANDOM;
	struct tcmsg tcm = {
		.tcm_family = AF_UNSPEC,
		.tcm_ifindex = ifindex,
		.tcm_parent = parent,
		.tcm_handle = handle,
	};
	struct tc_netem_qopt qopt = {
		.latency = qd_ns_to_ticks(p->latency_ns),
		.jitter = qd_ns_to_ticks(p->jitter_ns),
		.limit = p->limit ? p->limit : nc_netem_default_limit(p),
		.loss = model ? 0 : p->loss,
		/* netem reorders only with a gap; tc's default is 1 */
		.gap = p->reorder && !p->gap ? 1 : p->gap,
		.duplicate = p->duplicate,
	};
	struct tc_netem_corr corr = { p->latency_corr, p->loss_corr, p->dup_corr };
	struct tc_netem_reorder reorder = { p->reorder, p->reorder_corr };
	struct tc_netem_corrupt corrupt = { p->corrupt, p->corrupt_corr };
	uint64_t rate_bytes = p->rate_bps / 8;
	struct tc_netem_rate rate = {
		.rate = rate_bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)rate_bytes,
		.packet_overhead = p->packet_overhead,
	};
	int16_t table[NC_NETEM_DIST_TABLE_LEN];
	int dist = qd_netem_table_dist(p, flags);
	struct nlattr *opts, *loss;
	struct nl_msg *msg;
	int err = -EMSGSIZE;

	*out = NULL;
	if (dist != NC_NETEM_DIST_NONE &&
	    nc_netem_dist_table(dist, table, NC_NETEM_DIST_TABLE_LEN) < 0)
		return -EINVAL;
	msg = qd_msg_new(RTM_NEWQDISC, change ? 0 : NLM_F_CREATE | NLM_F_EXCL, &tcm,
			 QD_MSG_SIZE);
	if (!msg)
		return -ENOMEM;
	if (nla_put_string(msg, TCA_KIND, "netem") < 0)
		goto fail;
	/* TCA_OPTIONS: the legacy struct first, then the attributes. */
	opts = nla_nest_start(msg, TCA_OPTIONS);
	if (!opts || nlmsg_append(msg, &qopt, sizeof(qopt), NLMSG_ALIGNTO) < 0)
		goto fail;
	/* Exact 64-bit times; the kernel prefers them to the ticks above. */
	if (nla_put_s64(msg, TCA_NETEM_LATENCY64, (int64_t)p->latency_ns) < 0 ||
	    nla_put_s64(msg, TCA_NETEM_JITTER64, (int64_t)p->jitter_ns) < 0)
		goto fail;
	if ((change || p->latency_corr || p->loss_corr || p->dup_corr) &&
	    nla_put(msg, TCA_NETEM_CORR, sizeof(corr), &corr) < 0)
		goto fail;
	if ((change || p->reorder) && nla_put(msg, TCA_NETEM_REORDER, sizeof(reorder), &reorder) < 0)
		goto fail;
	if ((change || p->corrupt) && nla_put(msg, TCA_NETEM_CORRUPT, sizeof(corrupt), &corrupt) < 0)
		goto fail;
	if (model) {
		loss = nla_nest_start(msg, TCA_NETEM_LOSS);
		if (!loss)
			goto fail;
		loss->nla_type |= NLA_F_NESTED;
		if (p->loss_model.model == NC_NETEM_LOSS_GI) {
			struct tc_netem_gimodel gi = {
				.p13 = p->loss_model.p[NC_GI_P13],
				.p31 = p->loss_model.p[NC_GI_P31],
				.p32 = p->loss_model.p[NC_GI_P32],
				.p14 = p->loss_model.p[NC_GI_P14],
				.p23 = p->loss_model.p[NC_GI_P23],
			};

			/* "70% 30%" rounds to one more than 100 %; the kernel
			 * adds them in 32 bits */
			if ((uint64_t)gi.p13 + gi.p14 > UINT32_MAX)
				gi.p14 = UINT32_MAX - gi.p13;
			if ((uint64_t)gi.p31 + gi.p32 > UINT32_MAX)
				gi.p32 = UINT32_MAX - gi.p31;
			if (nla_put(msg, NETEM_LOSS_GI, sizeof(gi), &gi) < 0)
				goto fail;
		} else {
			struct tc_netem_gemodel ge = {
				.p = p->loss_model.p[NC_GE_P],
				.r = p->loss_model.p[NC_GE_R],
				.h = p->loss_model.p[NC_GE_H],
				.k1 = p->loss_model.p[NC_GE_K1],
			};

			if (nla_put(msg, NETEM_LOSS_GE, sizeof(ge), &ge) < 0)
				goto fail;
		}
		if (nla_nest_end(msg, loss) < 0)
			goto fail;
	}
	if (change || p->rate_bps) {
		if (nla_put(msg, TCA_NETEM_RATE, sizeof(rate), &rate) < 0)
			goto fail;
		if (rate_bytes > UINT32_MAX && nla_put_u64(msg, TCA_NETEM_RATE64, rate_bytes) < 0)
			goto fail;
	}
	if ((change || p->ecn) && nla_put_u32(msg, TCA_NETEM_ECN, p->ecn) < 0)
		goto fail;
	if (dist != NC_NETEM_DIST_NONE &&
	    nla_put(msg, TCA_NETEM_DELAY_DIST, sizeof(table), table) < 0)
		goto fail;
	if (nla_nest_end(msg, opts) < 0)
		goto fail;
	*out = msg;
	return 0;
fail:
	nlmsg_free(msg);
	return err;
}

int nc_qdisc_htb_root_msg(int ifindex, uint32_t direct_qlen, struct nl_msg **out)
{
	struct tcmsg tcm = {
		.tcm_family = AF_UNSPEC,
		.tcm_ifindex = ifindex,
		.tcm_parent = TC_H_ROOT,
		.tcm_handle = QD_ROOT_HANDLE,
	};
	/* version 3 is what the kernel checks; defcls 0: no default class */
	struct tc_htb_glob glob = { .version = 3, .rate2quantum = 10, .defcls = 0 };
	struct nlattr *opts;
	struct nl_msg *msg;

	*out = NULL;
	msg = qd_msg_new(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE, &tcm, 0);
	if (!msg)
		return -ENOMEM;
	if (nla_put_string(msg, TCA_KIND, "htb") < 0 ||
	    !(opts = nla_nest_start(msg, TCA_OPTIONS)) ||
	    nla_put(msg, TCA_HTB_INIT, sizeof(glob), &glob) < 0 ||
	    nla_put_u32(msg, TCA_HTB_DIRECT_QLEN, direct_qlen) < 0 ||
	    nla_nest_end(msg, opts) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	*out = msg;
	return 0;
}

int nc_qdisc_htb_class_msg(int ifindex, uint32_t classid, uint64_t rate_bps,
			   struct nl_msg **out)
{
	struct tcmsg tcm = {
		.tcm_family = AF_UNSPEC,
		.tcm_ifindex = ifindex,
		.tcm_parent = QD_ROOT_HANDLE,
		.tcm_handle = classid,
	};
	uint64_t bytes = rate_bps / 8 ? rate_bps / 8 : 1;
	/* burst: 1 ms at the rate plus one full-size frame */
	uint32_t burst = qd_ns_to_ticks(1000000 + 1514ull * 1000000000 / bytes);
	struct tc_ratespec rs = {
		.linklayer = TC_LINKLAYER_ETHERNET,
		.rate = bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)bytes,
	};
	struct tc_htb_opt opt = {
		.rate = rs,
		.ceil = rs,
		.buffer = burst,
		.cbuffer = burst,
		.quantum = QD_HTB_QUANTUM,
	};
	struct nlattr *opts;
	struct nl_msg *msg;

	*out = NULL;
	msg = qd_msg_new(RTM_NEWTCLASS, NLM_F_CREATE | NLM_F_EXCL, &tcm, 0);
	if (!msg)
		return -ENOMEM;
	if (nla_put_string(msg, TCA_KIND, "htb") < 0 ||
	    !(opts = nla_nest_start(msg, TCA_OPTIONS)) ||
	    nla_put(msg, TCA_HTB_PARMS, sizeof(opt), &opt) < 0 ||
	    (bytes > UINT32_MAX && (nla_put_u64(msg, TCA_HTB_RATE64, bytes) < 0 ||
				    nla_put_u64(msg, TCA_HTB_CEIL64, bytes) < 0)) ||
	    nla_nest_end(msg, opts) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	*out = msg;
	return 0;
}

int nc_qdisc_steer_filter_msg(int ifindex, int ifb_ifindex, int prog_fd, struct nl_msg **out)
{
	struct tcmsg tcm = {
		.tcm_family = AF_UNSPEC,
		.tcm_ifindex = ifindex,
		.tcm_parent = TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS),
		.tcm_handle = NC_QDISC_STEER_HANDLE,
		.tcm_info = TC_H_MAKE((uint32_t)NC_QDISC_STEER_PRIO << 16, htons(ETH_P_ALL)),
	};
	/* tc's "mirred egress redirect dev IFB": mirred marks the packet
	 * redirected from ingress, which the IFB requires */
	struct tc_mirred mirred = {
		.action = TC_ACT_STOLEN,
		.eaction = TCA_EGRESS_REDIR,
		.ifindex = (uint32_t)ifb_ifindex,
	};
	struct nlattr *opts, *acts, *act, *aopts;
	struct nl_msg *msg;

	*out = NULL;
	msg = qd_msg_new(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL, &tcm, 0);
	if (!msg)
		return -ENOMEM;
	/* not direct-action: the program only says "match", the action acts */
	if (nla_put_string(msg, TCA_KIND, "bpf") < 0 ||
	    !(opts = nla_nest_start(msg, TCA_OPTIONS)) ||
	    nla_put_u32(msg, TCA_BPF_FD, (uint32_t)prog_fd) < 0 ||
	    nla_put_string(msg, TCA_BPF_NAME, NC_QDISC_STEER_PROG) < 0 ||
	    !(acts = nla_nest_start(msg, TCA_BPF_ACT)) ||
	    !(act = nla_nest_start(msg, 1)) ||
	    nla_put_string(msg, TCA_ACT_KIND, "mirred") < 0 ||
	    !(aopts = nla_nest_start(msg, TCA_ACT_OPTIONS)) ||
	    nla_put(msg, TCA_MIRRED_PARMS, sizeof(mirred), &mirred) < 0 ||
	    nla_nest_end(msg, aopts) < 0 || nla_nest_end(msg, act) < 0 ||
	    nla_nest_end(msg, acts) < 0 || nla_nest_end(msg, opts) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	*out = msg;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* links                                                                     */
/* ------------------------------------------------------------------------ */

struct qd_link {
	int ifindex;
	char name[IF_NAMESIZE];
	char kind[QD_KIND_LEN]; /* "ifb", "veth", "" for a device without one */
	unsigned int mtu, txqlen;
};

/* By ifindex (name NULL) or by name. -ENODEV when there is no such link. */
static int qd_link_get(struct qd_nl *nl, int ifindex, const char *name, struct qd_link *out)
{
	struct rtnl_link *link = NULL;
	const char *s;
	int err;

	memset(out, 0, sizeof(*out));
	err = rtnl_link_get_kernel(nl->sk, name ? 0 : ifindex, name, &link);
	if (err < 0) {
		err = qd_nlerr(err);
		return err == -ENOENT ? -ENODEV : err;
	}
	out->ifindex = rtnl_link_get_ifindex(link);
	snprintf(out->name, sizeof(out->name), "%s", rtnl_link_get_name(link) ?: "?");
	s = rtnl_link_get_type(link);
	snprintf(out->kind, sizeof(out->kind), "%s", s ? s : "");
	out->mtu = rtnl_link_get_mtu(link);
	out->txqlen = rtnl_link_get_txqlen(link);
	rtnl_link_put(link);
	return 0;
}

void nc_qdisc_ifb_name(int ifindex, char name[IF_NAMESIZE])
{
	snprintf(name, IF_NAMESIZE, NC_QDISC_IFB_PREFIX "%d", ifindex);
}

/*
 * An IFB named name, up, with this MTU (0: the default); its ifindex. Without
 * an IPv6 link-local address: the IFB would send its own MLD and router
 * solicitations, which it cannot (they count as its rx_dropped).
 */
static int qd_ifb_create(struct qd_nl *nl, const char *name, unsigned int mtu, bool up,
			 int *ifindex)
{
	struct rtnl_link *link;
	struct nl_msg *msg = NULL;
	struct qd_link got;
	bool v6 = true;
	int err;

	link = rtnl_link_alloc();
	if (!link)
		return -ENOMEM;
	rtnl_link_set_name(link, name);
	err = rtnl_link_set_type(link, "ifb");
	if (err < 0)
		goto out;
	if (mtu)
		rtnl_link_set_mtu(link, mtu);
	if (up)
		rtnl_link_set_flags(link, IFF_UP);
retry:
	if (v6 && rtnl_link_inet6_set_addr_gen_mode(link, IN6_ADDR_GEN_MODE_NONE) < 0)
		v6 = false;
	err = rtnl_link_build_add_request(link, NLM_F_CREATE | NLM_F_EXCL, &msg);
	if (err < 0)
		goto out;
	err = qd_talk(nl, msg, NULL, NULL);
	if (v6 && (err == -EAFNOSUPPORT || err == -EOPNOTSUPP)) {
		/* a kernel without IPv6: no address to avoid */
		rtnl_link_put(link);
		link = rtnl_link_alloc();
		if (!link)
			return -ENOMEM;
		rtnl_link_set_name(link, name);
		rtnl_link_set_type(link, "ifb");
		if (mtu)
			rtnl_link_set_mtu(link, mtu);
		if (up)
			rtnl_link_set_flags(link, IFF_UP);
		v6 = false;
		goto retry;
	}
	if (err)
		goto out_raw;
	err = qd_link_get(nl, 0, name, &got);
	if (!err)
		*ifindex = got.ifindex;
	goto out_raw;
out:
	err = qd_nlerr(err);
out_raw:
	rtnl_link_put(link);
	return err;
}

static int qd_link_delete(struct qd_nl *nl, int ifindex)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	struct nl_msg *msg;

	msg = nlmsg_alloc_simple(RTM_DELLINK, 0);
	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return qd_talk(nl, msg, NULL, NULL);
}

/* Our IFB of ifindex, if it exists and is an IFB: its ifindex, else 0. */
static int qd_ifb_find(struct qd_nl *nl, int ifindex, int *ifb_ifindex)
{
	char name[IF_NAMESIZE];
	struct qd_link l;
	int err;

	*ifb_ifindex = 0;
	nc_qdisc_ifb_name(ifindex, name);
	err = qd_link_get(nl, 0, name, &l);
	if (err == -ENODEV)
		return 0;
	if (err)
		return err;
	if (!strcmp(l.kind, "ifb"))
		*ifb_ifindex = l.ifindex;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* dumps and the snapshot                                                    */
/* ------------------------------------------------------------------------ */

enum qd_obj_type { QD_QDISC, QD_CLASS, QD_FILTER };

struct qd_obj {
	enum qd_obj_type type;
	struct nlmsghdr *nlh; /* the dumped message, copied */
	struct tcmsg *tcm;    /* inside nlh */
	struct nlattr *tb[TCA_MAX + 1];
	char kind[QD_KIND_LEN];
	int bpf_fd;	      /* cls_bpf: its program, held */
	bool done;	      /* replayed (or nothing to replay) */
};

struct nc_qdisc_snapshot {
	int ifindex;
	char ifname[IF_NAMESIZE];
	uint32_t root_handle; /* 0: the kernel's default root */
	struct qd_obj *objs;
	size_t n, cap;
};

struct qd_collect {
	struct nc_qdisc_snapshot *s;
	enum qd_obj_type type;
};

static const char *qd_type_name(enum qd_obj_type t)
{
	return t == QD_QDISC ? "qdisc" : t == QD_CLASS ? "class" : "filter";
}

/* "1:10", ":1", "root", like tc prints handles */
static const char *qd_handle_str(uint32_t h, char *buf, size_t len)
{
	if (h == TC_H_ROOT)
		snprintf(buf, len, "root");
	else if (!TC_H_MAJ(h))
		snprintf(buf, len, ":%x", TC_H_MIN(h));
	else if (!TC_H_MIN(h))
		snprintf(buf, len, "%x:", TC_H_MAJ(h) >> 16);
	else
		snprintf(buf, len, "%x:%x", TC_H_MAJ(h) >> 16, TC_H_MIN(h));
	return buf;
}

/* A qdisc or class by handle; a filter by parent, priority and handle. */
static const char *qd_obj_name(const struct qd_obj *o, char *buf, size_t len)
{
	char p[16];

	if (o->type != QD_FILTER)
		return qd_handle_str(o->tcm->tcm_handle, buf, len);
	snprintf(buf, len, "parent %s pref %u handle %#x",
		 qd_handle_str(o->tcm->tcm_parent, p, sizeof(p)), TC_H_MAJ(o->tcm->tcm_info) >> 16,
		 o->tcm->tcm_handle);
	return buf;
}

static int qd_obj_add(struct nc_qdisc_snapshot *s, enum qd_obj_type type,
		      const struct nlmsghdr *nlh)
{
	struct qd_obj *o;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct qd_obj *objs = realloc(s->objs, cap * sizeof(*objs));

		if (!objs)
			return -ENOMEM;
		s->objs = objs;
		s->cap = cap;
	}
	o = &s->objs[s->n];
	memset(o, 0, sizeof(*o));
	o->bpf_fd = -1;
	o->type = type;
	o->nlh = malloc(nlh->nlmsg_len);
	if (!o->nlh)
		return -ENOMEM;
	memcpy(o->nlh, nlh, nlh->nlmsg_len);
	o->tcm = nlmsg_data(o->nlh);
	if (nlmsg_parse(o->nlh, sizeof(struct tcmsg), o->tb, TCA_MAX, NULL) < 0 ||
	    !o->tb[TCA_KIND]) {
		free(o->nlh);
		return -EIO;
	}
	nla_strlcpy(o->kind, o->tb[TCA_KIND], sizeof(o->kind));
	s->n++;
	return 0;
}

static int qd_collect_one(struct nlmsghdr *nlh, void *arg)
{
	struct qd_collect *c = arg;
	const struct tcmsg *tcm = nlmsg_data(nlh);

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*tcm)) || tcm->tcm_ifindex != c->s->ifindex)
		return 0;
	/* The clsact/ingress slot (ffff:) is not part of the root tree. */
	if (c->type == QD_QDISC && (tcm->tcm_parent == TC_H_INGRESS ||
				    TC_H_MAJ(tcm->tcm_handle) == TC_H_MAJ(TC_H_INGRESS)))
		return 0;
	if (c->type == QD_CLASS && TC_H_MAJ(tcm->tcm_handle) == TC_H_MAJ(TC_H_INGRESS))
		return 0;
	return qd_obj_add(c->s, c->type, nlh);
}

static int qd_dump(struct qd_nl *nl, int type, int ifindex, uint32_t parent, qd_dump_fn fn,
		   void *arg)
{
	struct tcmsg tcm = {
		.tcm_family = AF_UNSPEC,
		.tcm_ifindex = ifindex,
		.tcm_parent = parent,
	};
	struct nl_msg *msg = qd_msg_new(type, NLM_F_DUMP, &tcm, 0);

	if (!msg)
		return -ENOMEM;
	return qd_talk(nl, msg, fn, arg);
}

/* cls_bpf: hold the program so it outlives the filter our tree replaces. */
static void qd_hold_bpf_prog(struct qd_obj *o)
{
	struct nlattr *tb[TCA_BPF_MAX + 1];

	if (strcmp(o->kind, "bpf") || !o->tb[TCA_OPTIONS] ||
	    nla_parse_nested(tb, TCA_BPF_MAX, o->tb[TCA_OPTIONS], NULL) < 0 || !tb[TCA_BPF_ID])
		return;
	o->bpf_fd = bpf_prog_get_fd_by_id(nla_get_u32(tb[TCA_BPF_ID]));
	if (o->bpf_fd < 0)
		pr_warn("filter %#x: cannot hold its BPF program: %s", o->tcm->tcm_handle,
			strerror(errno));
}

static void qd_snapshot_clear(struct nc_qdisc_snapshot *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->objs[i].nlh);
		if (s->objs[i].bpf_fd >= 0)
			close(s->objs[i].bpf_fd);
	}
	free(s->objs);
	s->objs = NULL;
	s->n = s->cap = 0;
}

void nc_qdisc_snapshot_free(struct nc_qdisc_snapshot *s)
{
	if (!s)
		return;
	qd_snapshot_clear(s);
	free(s);
}

bool nc_qdisc_snapshot_is_default(const struct nc_qdisc_snapshot *s)
{
	return s->root_handle == 0;
}

/* Every qdisc, class and filter of the root tree of s->ifindex into s. */
static int qd_snapshot_fill(struct qd_nl *nl, struct nc_qdisc_snapshot *s, bool hold_progs)
{
	struct qd_collect c = { .s = s };
	size_t i, nparents;
	int err;

	c.type = QD_QDISC;
	err = qd_dump(nl, RTM_GETQDISC, s->ifindex, 0, qd_collect_one, &c);
	if (err)
		return err;
	s->root_handle = 0;
	for (i = 0; i < s->n; i++)
		if (s->objs[i].tcm->tcm_parent == TC_H_ROOT)
			s->root_handle = s->objs[i].tcm->tcm_handle;
	c.type = QD_CLASS;
	err = qd_dump(nl, RTM_GETTCLASS, s->ifindex, 0, qd_collect_one, &c);
	if (err)
		return err;
	/* Filters hang off qdiscs (X:) and classes (X:Y). Default qdiscs
	 * (handle 0) take none a user could have added. */
	nparents = s->n;
	c.type = QD_FILTER;
	for (i = 0; i < nparents; i++) {
		uint32_t h = s->objs[i].tcm->tcm_handle;

		if (!TC_H_MAJ(h))
			continue;
		err = qd_dump(nl, RTM_GETTFILTER, s->ifindex, h, qd_collect_one, &c);
		if (err == -EINVAL || err == -EOPNOTSUPP || err == -ENOENT)
			err = 0; /* classless, or no filters there */
		if (err)
			return err;
	}
	for (i = nparents; hold_progs && i < s->n; i++)
		qd_hold_bpf_prog(&s->objs[i]);
	return 0;
}

static int qd_snapshot_take_nl(struct qd_nl *nl, int ifindex, struct nc_qdisc_snapshot **out,
			       char *err, size_t errlen)
{
	struct nc_qdisc_snapshot *s;
	struct qd_link link;
	int ret, tries;

	*out = NULL;
	ret = qd_link_get(nl, ifindex, NULL, &link);
	if (ret) {
		nc_set_err(err, errlen, "interface %d: %s", ifindex, strerror(-ret));
		return ret;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ifindex = ifindex;
	snprintf(s->ifname, sizeof(s->ifname), "%s", link.name);
	/* A dump interrupted by a concurrent change is retried. */
	for (tries = 0; tries < 3; tries++) {
		ret = qd_snapshot_fill(nl, s, true);
		if (ret != -EAGAIN)
			break;
		qd_snapshot_clear(s);
	}
	if (ret) {
		nc_set_err(err, errlen, "%s: cannot save the qdisc set-up: %s%s", s->ifname,
			   strerror(-ret), qd_kreason(nl));
		nc_qdisc_snapshot_free(s);
		return ret;
	}
	*out = s;
	return 0;
}

int nc_qdisc_snapshot_take(int ifindex, struct nc_qdisc_snapshot **out, char *err,
			   size_t errlen)
{
	struct qd_nl nl;
	int ret;

	ret = qd_nl_open(&nl);
	if (ret) {
		nc_set_err(err, errlen, "cannot open a netlink socket: %s", strerror(-ret));
		return ret;
	}
	ret = qd_snapshot_take_nl(&nl, ifindex, out, err, errlen);
	qd_nl_close(&nl);
	return ret;
}

/* The root qdisc of ifindex: handle and kind; handle 0 when there is none. */
struct qd_root {
	int ifindex;
	uint32_t handle;
	char kind[QD_KIND_LEN];
	bool found;
};

static int qd_root_one(struct nlmsghdr *nlh, void *arg)
{
	struct qd_root *r = arg;
	const struct tcmsg *tcm = nlmsg_data(nlh);
	struct nlattr *tb[TCA_MAX + 1];

	if (tcm->tcm_ifindex != r->ifindex || tcm->tcm_parent != TC_H_ROOT)
		return 0;
	r->found = true;
	r->handle = tcm->tcm_handle;
	if (nlmsg_parse(nlh, sizeof(*tcm), tb, TCA_MAX, NULL) == 0 && tb[TCA_KIND])
		nla_strlcpy(r->kind, tb[TCA_KIND], sizeof(r->kind));
	return 0;
}

static int qd_root_get(struct qd_nl *nl, int ifindex, struct qd_root *r)
{
	memset(r, 0, sizeof(*r));
	r->ifindex = ifindex;
	return qd_dump(nl, RTM_GETQDISC, ifindex, 0, qd_root_one, r);
}

static bool qd_root_is_ours(const struct qd_root *r)
{
	return r->found && r->handle == QD_ROOT_HANDLE && !strcmp(r->kind, "htb");
}

/* ---- replay ---- */

/* u32 handles: table id (12 bits), bucket (8), node (12). Table ids from
 * 0x800 up are the kernel's own numbering (every priority's root table). */
static bool qd_u32_auto_table(uint32_t handle)
{
	return (TC_U32_HTID(handle) >> 20) & 0x800;
}

static bool qd_u32_is_table(const struct qd_obj *o)
{
	struct nlattr *tb[TCA_U32_MAX + 1];

	return o->tb[TCA_OPTIONS] &&
	       nla_parse_nested(tb, TCA_U32_MAX, o->tb[TCA_OPTIONS], NULL) == 0 &&
	       tb[TCA_U32_DIVISOR];
}

/* The classifier's flags attribute, whose dump adds status bits. */
static int qd_filter_flags_attr(const struct qd_obj *o)
{
	static const struct {
		const char *kind;
		int attr;
	} flags[] = {
		{ "u32", TCA_U32_FLAGS },
		{ "flower", TCA_FLOWER_FLAGS },
		{ "matchall", TCA_MATCHALL_FLAGS },
		{ "bpf", TCA_BPF_FLAGS_GEN },
	};
	size_t i;

	for (i = 0; o->type == QD_FILTER && i < sizeof(flags) / sizeof(flags[0]); i++)
		if (!strcmp(o->kind, flags[i].kind))
			return flags[i].attr;
	return 0;
}

static bool qd_codel_time_attr(const char *kind, int type)
{
	if (!strcmp(kind, "fq_codel"))
		return type == TCA_FQ_CODEL_TARGET || type == TCA_FQ_CODEL_INTERVAL ||
		       type == TCA_FQ_CODEL_CE_THRESHOLD;
	return type == TCA_CODEL_TARGET || type == TCA_CODEL_INTERVAL ||
	       type == TCA_CODEL_CE_THRESHOLD;
}

/*
 * TCA_OPTIONS of a replayed object: verbatim, except where a dump is not
 * what the kernel takes: HTB dumps its version as 0x30011 and wants 3;
 * classifiers' flags carry status bits (not_in_hw) that are no input;
 * (fq_)codel's times come back 1 us short;
 * cls_bpf dumps its program's id and wants an fd (the one held); a u32 node
 * of a user's hash table names its table and bucket explicitly, as tc does.
 */
enum qd_u32_node { QD_U32_ASIS, QD_U32_ROOT, QD_U32_USER };

static int qd_put_options(struct nl_msg *msg, const struct qd_obj *o, enum qd_u32_node u32)
{
	const struct nlattr *src = o->tb[TCA_OPTIONS];
	bool bpf = o->type == QD_FILTER && o->bpf_fd >= 0;
	bool htb = o->type == QD_QDISC && !strcmp(o->kind, "htb");
	bool codel = o->type == QD_QDISC &&
		     (!strcmp(o->kind, "fq_codel") || !strcmp(o->kind, "codel"));
	int flags_attr = qd_filter_flags_attr(o);
	struct nlattr *nest, *a;
	int rem;

	if (!bpf && u32 == QD_U32_ASIS && !htb && !codel && !flags_attr)
		return nla_put(msg, src->nla_type, nla_len(src), nla_data(src));
	nest = nla_nest_start(msg, TCA_OPTIONS);
	if (!nest)
		return -EMSGSIZE;
	nla_for_each_nested(a, src, rem) {
		if (bpf && (nla_type(a) == TCA_BPF_ID || nla_type(a) == TCA_BPF_TAG ||
			    nla_type(a) == TCA_BPF_FD))
			continue;
		if (u32 != QD_U32_ASIS && nla_type(a) == TCA_U32_HASH)
			continue;
		if (codel && nla_len(a) == 4 && qd_codel_time_attr(o->kind, nla_type(a))) {
			/* codel keeps times in 1024 ns units and dumps them
			 * truncated to us: d + 1 us maps back onto the same unit */
			uint32_t us = nla_get_u32(a);

			if (nla_put_u32(msg, a->nla_type, us < UINT32_MAX ? us + 1 : us) < 0)
				return -EMSGSIZE;
			continue;
		}
		if (flags_attr && nla_type(a) == flags_attr && nla_len(a) == 4) {
			/* only the skip flags are input; in_hw/not_in_hw are status */
			if (nla_put_u32(msg, a->nla_type, nla_get_u32(a) &
				       (TCA_CLS_FLAGS_SKIP_HW | TCA_CLS_FLAGS_SKIP_SW)) < 0)
				return -EMSGSIZE;
			continue;
		}
		if (htb && nla_type(a) == TCA_HTB_INIT && nla_len(a) >= (int)sizeof(struct tc_htb_glob)) {
			struct tc_htb_glob g;

			memcpy(&g, nla_data(a), sizeof(g));
			if (g.version > 0xffff)
				g.version >>= 16;
			g.direct_pkts = 0;
			if (nla_put(msg, a->nla_type, sizeof(g), &g) < 0)
				return -EMSGSIZE;
			continue;
		}
		if (nla_put(msg, a->nla_type, nla_len(a), nla_data(a)) < 0)
			return -EMSGSIZE;
	}
	if (bpf && nla_put_u32(msg, TCA_BPF_FD, (uint32_t)o->bpf_fd) < 0)
		return -EMSGSIZE;
	if (u32 == QD_U32_USER &&
	    nla_put_u32(msg, TCA_U32_HASH, o->tcm->tcm_handle & 0xFFFFF000) < 0)
		return -EMSGSIZE;
	return nla_nest_end(msg, nest);
}

static int qd_replay_msg(const struct qd_obj *o, int flags, struct nl_msg **out)
{
	static const int types[] = { RTM_NEWQDISC, RTM_NEWTCLASS, RTM_NEWTFILTER };
	enum qd_u32_node u32 = QD_U32_ASIS;
	struct tcmsg tcm = *o->tcm;
	struct nl_msg *msg;
	int err = -EMSGSIZE;

	if (o->type == QD_FILTER && !strcmp(o->kind, "u32") && TC_U32_NODE(tcm.tcm_handle)) {
		/* A node of a kernel-numbered table goes into the new root
		 * table of its priority, whatever number that gets now (it
		 * depends on history: a module autoload retrying a request
		 * uses up a number), so neither handle nor TCA_U32_HASH may
		 * name the old one. */
		if (qd_u32_auto_table(tcm.tcm_handle)) {
			tcm.tcm_handle = TC_U32_NODE(tcm.tcm_handle);
			u32 = QD_U32_ROOT;
		} else {
			u32 = QD_U32_USER;
		}
	}
	msg = qd_msg_new(types[o->type], flags, &tcm, o->nlh->nlmsg_len + 256);
	if (!msg)
		return -ENOMEM;
	if (nla_put_string(msg, TCA_KIND, o->kind) < 0)
		goto fail;
	if (o->tb[TCA_OPTIONS] && qd_put_options(msg, o, u32) < 0)
		goto fail;
	if (o->type == QD_FILTER && o->tb[TCA_CHAIN] &&
	    nla_put_u32(msg, TCA_CHAIN, nla_get_u32(o->tb[TCA_CHAIN])) < 0)
		goto fail;
	if (o->type == QD_QDISC && o->tb[TCA_STAB]) {
		struct nlattr *st[TCA_STAB_MAX + 1];
		const struct tc_sizespec *sz;

		/* Dumps carry the size table's parameters, not its data: only
		 * a table without data (overhead, mpu) can be replayed. */
		if (nla_parse_nested(st, TCA_STAB_MAX, o->tb[TCA_STAB], NULL) == 0 &&
		    st[TCA_STAB_BASE] && nla_len(st[TCA_STAB_BASE]) >= (int)sizeof(*sz)) {
			sz = nla_data(st[TCA_STAB_BASE]);
			if (!sz->tsize && nla_put(msg, o->tb[TCA_STAB]->nla_type,
						  nla_len(o->tb[TCA_STAB]),
						  nla_data(o->tb[TCA_STAB])) < 0)
				goto fail;
		}
	}
	*out = msg;
	return 0;
fail:
	nlmsg_free(msg);
	return err;
}

static int qd_replay_one(struct qd_nl *nl, struct qd_obj *o, int flags)
{
	struct nl_msg *msg;
	int err;

	err = qd_replay_msg(o, flags, &msg);
	if (err)
		return err;
	return qd_talk(nl, msg, NULL, NULL);
}

/* Objects the kernel makes by itself are not replayed: default qdiscs
 * (handle 0), classes without options (mq's, prio's bands), the head of
 * every filter priority (handle 0), u32 root tables. */
static bool qd_obj_implicit(const struct qd_obj *o)
{
	switch (o->type) {
	case QD_QDISC:
		return !TC_H_MAJ(o->tcm->tcm_handle);
	case QD_CLASS:
		return !o->tb[TCA_OPTIONS];
	case QD_FILTER:
		return !o->tcm->tcm_handle ||
		       (!strcmp(o->kind, "u32") && qd_u32_auto_table(o->tcm->tcm_handle) &&
			qd_u32_is_table(o));
	}
	return false;
}

static const struct qd_obj *qd_find(const struct nc_qdisc_snapshot *s, enum qd_obj_type type,
				    uint32_t handle)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->objs[i].type == type && s->objs[i].tcm->tcm_handle == handle)
			return &s->objs[i];
	return NULL;
}

/* Is everything o hangs off in place? */
static bool qd_deps_done(const struct nc_qdisc_snapshot *s, const struct qd_obj *o)
{
	uint32_t parent = o->tcm->tcm_parent, major;
	const struct qd_obj *d;

	if (o->type == QD_FILTER)
		return true; /* filters go after every qdisc and class */
	major = o->type == QD_CLASS ? TC_H_MAJ(o->tcm->tcm_handle) : TC_H_MAJ(parent);
	if (o->type == QD_QDISC && parent == TC_H_ROOT)
		return true;
	if (major) {
		d = qd_find(s, QD_QDISC, major);
		if (d && !d->done)
			return false;
	}
	if (parent != TC_H_ROOT && TC_H_MIN(parent)) {
		d = qd_find(s, QD_CLASS, parent);
		if (d && !d->done)
			return false;
	}
	return true;
}

/* Replay every object of the given types whose parents are in place, until
 * none is left or no progress is made. Failures are logged and counted. */
static void qd_replay_pass(struct qd_nl *nl, struct nc_qdisc_snapshot *s, bool filters,
			   int *failed)
{
	char h[64];
	bool progress = true;
	size_t i;
	int err;

	while (progress) {
		progress = false;
		for (i = 0; i < s->n; i++) {
			struct qd_obj *o = &s->objs[i];

			if (o->done || (o->type == QD_FILTER) != filters || !qd_deps_done(s, o))
				continue;
			o->done = progress = true;
			switch (o->type) {
			case QD_QDISC:
				err = qd_replay_one(nl, o, NLM_F_CREATE | NLM_F_REPLACE);
				break;
			case QD_CLASS:
				err = qd_replay_one(nl, o, NLM_F_CREATE | NLM_F_EXCL);
				/* made by its qdisc (an ETS band...): change it */
				if (err == -EEXIST)
					err = qd_replay_one(nl, o, 0);
				break;
			default:
				err = qd_replay_one(nl, o, NLM_F_CREATE | NLM_F_EXCL);
				break;
			}
			if (err) {
				++*failed;
				pr_warn("%s: cannot restore %s %s %s: %s%s", s->ifname,
					qd_type_name(o->type), o->kind, qd_obj_name(o, h, sizeof(h)),
					strerror(-err), qd_kreason(nl));
			}
		}
	}
	for (i = 0; i < s->n; i++) {
		struct qd_obj *o = &s->objs[i];

		if (!o->done && (o->type == QD_FILTER) == filters) {
			o->done = true;
			++*failed;
			pr_warn("%s: cannot restore %s %s: its parent is missing", s->ifname,
				qd_type_name(o->type), qd_obj_name(o, h, sizeof(h)));
		}
	}
}

/* ---- comparison of two dumps ---- */

/* HTB's global options end with a packet counter. */
static bool qd_htb_glob_equal(const struct nlattr *a, const struct nlattr *b)
{
	struct nlattr *ta[TCA_HTB_MAX + 1], *tb[TCA_HTB_MAX + 1];
	int t;

	if (nla_parse_nested(ta, TCA_HTB_MAX, (struct nlattr *)a, NULL) < 0 ||
	    nla_parse_nested(tb, TCA_HTB_MAX, (struct nlattr *)b, NULL) < 0)
		return false;
	for (t = 1; t <= TCA_HTB_MAX; t++) {
		size_t n;

		if (!ta[t] != !tb[t])
			return false;
		if (!ta[t])
			continue;
		if (nla_len(ta[t]) != nla_len(tb[t]))
			return false;
		n = (size_t)nla_len(ta[t]);
		if (t == TCA_HTB_INIT && n >= offsetof(struct tc_htb_glob, direct_pkts))
			n = offsetof(struct tc_htb_glob, direct_pkts);
		if (memcmp(nla_data(ta[t]), nla_data(tb[t]), n))
			return false;
	}
	return true;
}

static bool qd_options_equal(const struct qd_obj *a, const struct qd_obj *b)
{
	const struct nlattr *oa = a->tb[TCA_OPTIONS], *ob = b->tb[TCA_OPTIONS];

	/* Filter options hold counters and timestamps (u32, actions). */
	if (a->type == QD_FILTER)
		return true;
	if (!oa || !ob)
		return !oa && !ob;
	if (a->type == QD_QDISC && !strcmp(a->kind, "htb"))
		return qd_htb_glob_equal(oa, ob);
	if (!strcmp(a->kind, "sfq")) /* its options end with statistics */
		return true;
	return nla_len(oa) == nla_len(ob) && !memcmp(nla_data(oa), nla_data(ob), nla_len(oa));
}

static bool qd_obj_same(const struct qd_obj *a, const struct qd_obj *b)
{
	if (a->type != b->type || a->tcm->tcm_handle != b->tcm->tcm_handle ||
	    a->tcm->tcm_parent != b->tcm->tcm_parent || strcmp(a->kind, b->kind))
		return false;
	if (a->type == QD_FILTER) {
		uint32_t ca = a->tb[TCA_CHAIN] ? nla_get_u32(a->tb[TCA_CHAIN]) : 0;
		uint32_t cb = b->tb[TCA_CHAIN] ? nla_get_u32(b->tb[TCA_CHAIN]) : 0;

		if (a->tcm->tcm_info != b->tcm->tcm_info || ca != cb)
			return false;
	}
	return true;
}

static void qd_debug_options(const char *what, const struct qd_obj *o)
{
	const struct nlattr *a;
	char hex[1024];
	size_t n = 0;
	int rem;

	hex[0] = '\0';
	if (o->tb[TCA_OPTIONS])
		nla_for_each_nested(a, o->tb[TCA_OPTIONS], rem)
			n += (size_t)snprintf(hex + n, n < sizeof(hex) ? sizeof(hex) - n : 0, " %u:%d",
					      nla_type(a), nla_len(a));
	pr_debug("%s options of %s %s:%s", what, qd_type_name(o->type), o->kind, hex);
}

/* Equal as far as a restore can tell; the first difference in why. */
static bool qd_snapshot_equal(const struct nc_qdisc_snapshot *want,
			      const struct nc_qdisc_snapshot *got, char *why, size_t len)
{
	char h[64];
	size_t i, j;

	for (i = 0; i < want->n; i++) {
		const struct qd_obj *w = &want->objs[i];

		for (j = 0; j < got->n; j++)
			if (qd_obj_same(w, &got->objs[j]))
				break;
		if (j == got->n) {
			snprintf(why, len, "%s %s %s is missing", qd_type_name(w->type), w->kind,
				 qd_obj_name(w, h, sizeof(h)));
			return false;
		}
		if (!qd_options_equal(w, &got->objs[j])) {
			qd_debug_options("saved", w);
			qd_debug_options("now", &got->objs[j]);
			snprintf(why, len, "%s %s %s has other parameters", qd_type_name(w->type),
				 w->kind, qd_obj_name(w, h, sizeof(h)));
			return false;
		}
	}
	if (got->n != want->n) {
		for (j = 0; j < got->n; j++) {
			for (i = 0; i < want->n; i++)
				if (qd_obj_same(&want->objs[i], &got->objs[j]))
					break;
			if (i == want->n)
				break;
		}
		if (j < got->n)
			snprintf(why, len, "%s %s %s was not there before",
				 qd_type_name(got->objs[j].type), got->objs[j].kind,
				 qd_obj_name(&got->objs[j], h, sizeof(h)));
		else
			snprintf(why, len, "%zu objects instead of %zu", got->n, want->n);
		return false;
	}
	return true;
}

static int qd_snapshot_restore_nl(struct qd_nl *nl, const struct nc_qdisc_snapshot *cs,
				  bool *exact, char *err, size_t errlen)
{
	/* Replay bookkeeping lives in the objects; the saved content does not
	 * change, so a snapshot can be restored again. */
	struct nc_qdisc_snapshot *s = (struct nc_qdisc_snapshot *)cs;
	struct nc_qdisc_snapshot now = { .ifindex = s->ifindex };
	struct qd_root root;
	char h[32], why[160];
	int ret, failed = 0;
	size_t i;

	if (exact)
		*exact = false;
	snprintf(now.ifname, sizeof(now.ifname), "%s", s->ifname);
	ret = qd_root_get(nl, s->ifindex, &root);
	if (ret) {
		nc_set_err(err, errlen, "%s: cannot read the root qdisc: %s%s", s->ifname,
			   strerror(-ret), qd_kreason(nl));
		return ret;
	}
	if (!qd_root_is_ours(&root)) {
		nc_set_err(err, errlen, "%s: the root qdisc is %s %s, not netchaos's any more: left alone",
			   s->ifname, root.found ? root.kind : "gone",
			   qd_handle_str(root.handle, h, sizeof(h)));
		return -EBUSY;
	}
	for (i = 0; i < s->n; i++)
		s->objs[i].done = qd_obj_implicit(&s->objs[i]);

	if (s->root_handle) {
		const struct qd_obj *ro = qd_find(s, QD_QDISC, s->root_handle);

		/* Replacing our root with theirs removes ours in one step. */
		ret = ro ? qd_replay_one(nl, (struct qd_obj *)ro, NLM_F_CREATE | NLM_F_REPLACE) :
			   -ENOENT;
		if (ret) {
			pr_err("%s: cannot restore the root qdisc %s %s: %s%s; the kernel default takes its place",
			       s->ifname, ro ? ro->kind : "?",
			       qd_handle_str(s->root_handle, h, sizeof(h)), strerror(-ret),
			       qd_kreason(nl));
			failed++;
		} else {
			((struct qd_obj *)ro)->done = true;
		}
	}
	if (!s->root_handle || failed) {
		struct tcmsg tcm = {
			.tcm_family = AF_UNSPEC,
			.tcm_ifindex = s->ifindex,
			.tcm_parent = TC_H_ROOT,
			.tcm_handle = QD_ROOT_HANDLE,
		};
		struct nl_msg *msg = qd_msg_new(RTM_DELQDISC, 0, &tcm, 0);

		ret = msg ? qd_talk(nl, msg, NULL, NULL) : -ENOMEM;
		if (ret) {
			nc_set_err(err, errlen, "%s: cannot remove the netchaos root qdisc: %s%s",
				   s->ifname, strerror(-ret), qd_kreason(nl));
			return ret;
		}
	}
	/* Leaf qdiscs hang off classes and classes off qdiscs: one pass. */
	qd_replay_pass(nl, s, false, &failed);
	qd_replay_pass(nl, s, true, &failed);

	ret = qd_snapshot_fill(nl, &now, false);
	if (ret) {
		pr_warn("%s: cannot check the restored qdiscs: %s", s->ifname, strerror(-ret));
	} else if (!qd_snapshot_equal(s, &now, why, sizeof(why))) {
		pr_warn("%s: the restored qdisc set-up differs from the saved one: %s", s->ifname,
			why);
	} else if (exact) {
		*exact = true;
	}
	qd_snapshot_clear(&now);
	if (failed)
		pr_warn("%s: %d qdisc objects could not be restored", s->ifname, failed);
	return 0;
}

int nc_qdisc_snapshot_restore(const struct nc_qdisc_snapshot *s, bool *exact, char *err,
			      size_t errlen)
{
	struct qd_nl nl;
	int ret;

	ret = qd_nl_open(&nl);
	if (ret) {
		nc_set_err(err, errlen, "cannot open a netlink socket: %s", strerror(-ret));
		return ret;
	}
	ret = qd_snapshot_restore_nl(&nl, s, exact, err, errlen);
	qd_nl_close(&nl);
	return ret;
}

/* ------------------------------------------------------------------------ */
/* the netem probe                                                           */
/* ------------------------------------------------------------------------ */

static int probe_forced = -1;
static bool probe_cached_ok;

void nc_qdisc_probe_override(int available)
{
	probe_forced = available < 0 ? -1 : !!available;
}

struct qd_probe_result {
	int err;	/* 0 or the kernel's -errno for the netem qdisc */
	int setup_err;	/* the probe could not run */
	char kmsg[256];
};

/* Create a netem qdisc as root of ifindex and report what the kernel said. */
static void qd_probe_here(int ifindex, struct qd_probe_result *res)
{
	struct nc_netem_params p = { .latency_ns = 1000000 };
	struct qd_nl nl;
	struct nl_msg *msg;
	int err;

	err = qd_nl_open(&nl);
	if (err) {
		res->setup_err = err;
		return;
	}
	err = nc_qdisc_netem_msg(ifindex, TC_H_ROOT, 0x10000, &p, 0, &msg);
	if (err) {
		res->setup_err = err;
	} else {
		res->err = qd_talk(&nl, msg, NULL, NULL);
		snprintf(res->kmsg, sizeof(res->kmsg), "%s", nl.kmsg);
	}
	qd_nl_close(&nl);
}

/* In a forked child that unshares its network namespace: its loopback is
 * the throw-away interface. */
static int qd_probe_in_netns(struct qd_probe_result *res)
{
	int fds[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -errno;
	}
	if (pid == 0) {
		struct qd_probe_result r = { 0 };

		close(fds[0]);
		if (unshare(CLONE_NEWNET))
			r.setup_err = -errno;
		else
			qd_probe_here(1, &r); /* lo is ifindex 1 in a new namespace */
		n = write(fds[1], &r, sizeof(r));
		_exit(n == (ssize_t)sizeof(r) ? 0 : 1);
	}
	close(fds[1]);
	do {
		n = read(fds[0], res, sizeof(*res));
	} while (n < 0 && errno == EINTR);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(*res))
		return -EIO;
	return res->setup_err;
}

/* Without CAP_SYS_ADMIN: a temporary IFB of our own in this namespace. */
static int qd_probe_on_ifb(struct qd_probe_result *res)
{
	char name[IF_NAMESIZE];
	struct qd_nl nl;
	int err, ifindex = 0;

	snprintf(name, sizeof(name), "ncprobe%d", (int)(getpid() % 100000));
	err = qd_nl_open(&nl);
	if (err)
		return err;
	err = qd_ifb_create(&nl, name, 0, false, &ifindex);
	if (!err) {
		qd_probe_here(ifindex, res);
		qd_link_delete(&nl, ifindex);
		err = res->setup_err;
	}
	qd_nl_close(&nl);
	return err;
}

int nc_qdisc_probe_netem(bool *available, char *reason, size_t len)
{
	struct qd_probe_result res = { 0 };
	int err;

	*available = false;
	if (reason && len)
		reason[0] = '\0';
	if (probe_forced >= 0) {
		*available = probe_forced;
		if (!probe_forced)
			nc_set_err(reason, len, "Specified qdisc kind is unknown (forced by a test)");
		return 0;
	}
	if (probe_cached_ok) {
		*available = true;
		return 0;
	}
	err = qd_probe_in_netns(&res);
	if (err == -EPERM || err == -EINVAL || err == -ENOSYS) {
		pr_debug("netem probe: cannot unshare a network namespace (%s), using an IFB",
			 strerror(-err));
		memset(&res, 0, sizeof(res));
		err = qd_probe_on_ifb(&res);
	}
	if (err)
		return err;
	if (res.err == -ENOENT) { /* no such qdisc kind */
		nc_set_err(reason, len, "%s", res.kmsg[0] ? res.kmsg : strerror(-res.err));
		return 0;
	}
	if (res.err) {
		nc_set_err(reason, len, "%s", res.kmsg[0] ? res.kmsg : strerror(-res.err));
		return res.err;
	}
	*available = probe_cached_ok = true;
	return 0;
}

/* 0 if netem can be used, else -EOPNOTSUPP (or the probe's error) and the
 * message for users. */
static int qd_netem_check(char *err, size_t errlen)
{
	char reason[256];
	bool ok;
	int ret;

	ret = nc_qdisc_probe_netem(&ok, reason, sizeof(reason));
	if (ret) {
		nc_set_err(err, errlen, "cannot find out whether this kernel has sch_netem: %s%s%s",
			   strerror(-ret), reason[0] ? ": " : "", reason);
		return ret;
	}
	if (!ok) {
		nc_set_err(err, errlen, QD_NETEM_MISSING_FMT, reason);
		return -EOPNOTSUPP;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* ingress steering: clsact filter -> mirred -> IFB                          */
/* ------------------------------------------------------------------------ */

static int qd_steer_fd = -1;

/* "skb->priority names one of our classes": -1 (match, the filter's class)
 * or 0 (no match), for a cls_bpf filter that is not direct-action. */
static int qd_steer_prog(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_LDX | BPF_MEM | BPF_W, .dst_reg = BPF_REG_0, .src_reg = BPF_REG_1,
		  .off = offsetof(struct __sk_buff, priority) },
		{ .code = BPF_ALU | BPF_RSH | BPF_K, .dst_reg = BPF_REG_0, .imm = 16 },
		{ .code = BPF_JMP | BPF_JNE | BPF_K, .dst_reg = BPF_REG_0, .off = 2,
		  .imm = NC_QDISC_MAJOR },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = -1 },
		{ .code = BPF_JMP | BPF_EXIT },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	if (qd_steer_fd < 0) {
		qd_steer_fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, NC_QDISC_STEER_PROG, "GPL",
					    insns, sizeof(insns) / sizeof(insns[0]), NULL);
		if (qd_steer_fd < 0)
			return -errno;
	}
	return qd_steer_fd;
}

/* The clsact qdisc of ifindex (or a plain ingress qdisc in its slot, whose
 * hook works the same for us); *created when this call made it. */
static int qd_clsact_ensure(struct qd_nl *nl, int ifindex, bool *created)
{
	struct tcmsg tcm = {
		.tcm_family = AF_UNSPEC,
		.tcm_ifindex = ifindex,
		.tcm_parent = TC_H_CLSACT,
		.tcm_handle = TC_H_MAKE(TC_H_CLSACT, 0),
	};
	struct nl_msg *msg = qd_msg_new(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, &tcm, 0);
	int err;

	*created = false;
	if (!msg)
		return -ENOMEM;
	if (nla_put_string(msg, TCA_KIND, "clsact") < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	err = qd_talk(nl, msg, NULL, NULL);
	if (!err)
		*created = true;
	return err == -EEXIST ? 0 : err;
}

static int qd_count_one(struct nlmsghdr *nlh, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

/* Remove a clsact we created, once nothing at all is attached to it. */
static void qd_clsact_release(struct qd_nl *nl, int ifindex, const char *ifname)
{
	struct tcmsg tcm = {
		.tcm_family = AF_UNSPEC,
		.tcm_ifindex = ifindex,
		.tcm_parent = TC_H_CLSACT,
		.tcm_handle = TC_H_MAKE(TC_H_CLSACT, 0),
	};
	struct nl_msg *msg;
	int n = 0, err;

	err = qd_dump(nl, RTM_GETTFILTER, ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS),
		      qd_count_one, &n);
	if (!err)
		err = qd_dump(nl, RTM_GETTFILTER, ifindex,
			      TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS), qd_count_one, &n);
	if (err || n) {
		pr_debug("%s: clsact kept (%s)", ifname, err ? strerror(-err) : "in use");
		return;
	}
	msg = qd_msg_new(RTM_DELQDISC, 0, &tcm, 0);
	err = msg ? qd_talk(nl, msg, NULL, NULL) : -ENOMEM;
	if (err && err != -ENODEV && err != -EINVAL && err != -ENOENT)
		pr_warn("%s: cannot remove the clsact qdisc it created: %s%s", ifname,
			strerror(-err), qd_kreason(nl));
}

static int qd_steer_add(struct qd_nl *nl, int ifindex, int ifb_ifindex)
{
	struct nl_msg *msg;
	int fd, err;

	fd = qd_steer_prog();
	if (fd < 0)
		return fd;
	err = nc_qdisc_steer_filter_msg(ifindex, ifb_ifindex, fd, &msg);
	if (err)
		return err;
	return qd_talk(nl, msg, NULL, NULL);
}

static int qd_steer_del(struct qd_nl *nl, int ifindex)
{
	struct tcmsg tcm = {
		.tcm_family = AF_UNSPEC,
		.tcm_ifindex = ifindex,
		.tcm_parent = TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS),
		.tcm_handle = NC_QDISC_STEER_HANDLE,
		.tcm_info = TC_H_MAKE((uint32_t)NC_QDISC_STEER_PRIO << 16, htons(ETH_P_ALL)),
	};
	struct nl_msg *msg = qd_msg_new(RTM_DELTFILTER, 0, &tcm, 0);
	int err;

	if (!msg)
		return -ENOMEM;
	if (nla_put_string(msg, TCA_KIND, "bpf") < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	err = qd_talk(nl, msg, NULL, NULL);
	/* gone with the interface, the clsact or by hand */
	return err == -ENODEV || err == -ENOENT || err == -EINVAL ? 0 : err;
}

/* Our steering filter on ifindex, told apart by priority, handle, kind
 * and program name. */
struct qd_steer_find {
	int ifindex;
	bool found;
};

static int qd_steer_find_one(struct nlmsghdr *nlh, void *arg)
{
	struct qd_steer_find *f = arg;
	const struct tcmsg *tcm = nlmsg_data(nlh);
	struct nlattr *tb[TCA_MAX + 1], *bt[TCA_BPF_MAX + 1];
	char name[32];

	if (tcm->tcm_ifindex != f->ifindex || tcm->tcm_handle != NC_QDISC_STEER_HANDLE ||
	    TC_H_MAJ(tcm->tcm_info) >> 16 != NC_QDISC_STEER_PRIO ||
	    nlmsg_parse(nlh, sizeof(*tcm), tb, TCA_MAX, NULL) < 0 || !tb[TCA_KIND] ||
	    strcmp(nla_get_string(tb[TCA_KIND]), "bpf") || !tb[TCA_OPTIONS] ||
	    nla_parse_nested(bt, TCA_BPF_MAX, tb[TCA_OPTIONS], NULL) < 0 || !bt[TCA_BPF_NAME])
		return 0;
	nla_strlcpy(name, bt[TCA_BPF_NAME], sizeof(name));
	/* the kernel shows "name:[id]" */
	if (!strncmp(name, NC_QDISC_STEER_PROG, strlen(NC_QDISC_STEER_PROG)))
		f->found = true;
	return 0;
}

static int qd_steer_find(struct qd_nl *nl, int ifindex, bool *found)
{
	struct qd_steer_find f = { .ifindex = ifindex };
	int err;

	err = qd_dump(nl, RTM_GETTFILTER, ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS),
		      qd_steer_find_one, &f);
	*found = f.found;
	/* no clsact, no ingress qdisc: nothing there */
	return err == -EINVAL || err == -ENOENT || err == -ENODEV ? 0 : err;
}

/* ------------------------------------------------------------------------ */
/* rules                                                                     */
/* ------------------------------------------------------------------------ */

struct qd_rule {
	uint32_t minor;
	struct nc_netem_params params;
	bool has_table; /* its netem qdisc holds a distribution table */
	struct qd_rule *next;
};

struct qd_tree {
	dev_t ns_dev;		/* network namespace */
	ino_t ns_ino;
	int ifindex;		/* the interface of the rules */
	bool ingress;
	int dev_ifindex;	/* where the tree is: ifindex, or our IFB */
	char ifname[IF_NAMESIZE];
	char dev_name[IF_NAMESIZE];
	struct nc_qdisc_snapshot *saved; /* egress: what to restore */
	bool created_clsact;	/* ingress: the steering filter needed one */
	struct qd_rule *rules;
	unsigned int nrules;
	struct qd_tree *next;
};

static struct qd_tree *qd_trees;

static int qd_current_ns(dev_t *dev, ino_t *ino)
{
	struct stat st;

	if (stat("/proc/thread-self/ns/net", &st))
		return -errno;
	*dev = st.st_dev;
	*ino = st.st_ino;
	return 0;
}

static struct qd_tree *qd_tree_find(int ifindex, bool ingress)
{
	struct qd_tree *t;
	dev_t dev;
	ino_t ino;

	if (qd_current_ns(&dev, &ino))
		return NULL;
	for (t = qd_trees; t; t = t->next)
		if (t->ns_dev == dev && t->ns_ino == ino && t->ifindex == ifindex &&
		    t->ingress == ingress)
			return t;
	return NULL;
}

static struct qd_rule *qd_rule_find(const struct qd_tree *t, uint32_t minor)
{
	struct qd_rule *r;

	for (r = t ? t->rules : NULL; r; r = r->next)
		if (r->minor == minor)
			return r;
	return NULL;
}

static void qd_tree_unlink(struct qd_tree *t)
{
	struct qd_tree **pp;

	for (pp = &qd_trees; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			return;
		}
	}
}

static void qd_tree_free(struct qd_tree *t)
{
	struct qd_rule *r, *next;

	for (r = t->rules; r; r = next) {
		next = r->next;
		free(r);
	}
	nc_qdisc_snapshot_free(t->saved);
	free(t);
}

static const char *qd_dir(bool ingress)
{
	return ingress ? "ingress" : "egress";
}

static uint32_t qd_direct_qlen(const struct qd_link *l)
{
	return l->txqlen > QD_MIN_DIRECT_QLEN ? l->txqlen : QD_MIN_DIRECT_QLEN;
}

/* Egress: save the root set-up of the interface, then replace the root. */
static int qd_tree_build_egress(struct qd_nl *nl, struct qd_tree *t, const struct qd_link *l,
				char *err, size_t errlen)
{
	struct nl_msg *msg;
	struct qd_root root;
	char h[32];
	int ret;

	ret = qd_root_get(nl, l->ifindex, &root);
	if (ret) {
		nc_set_err(err, errlen, "%s: cannot read the root qdisc: %s%s", l->name,
			   strerror(-ret), qd_kreason(nl));
		return ret;
	}
	if (root.found && root.handle == QD_ROOT_HANDLE) {
		nc_set_err(err, errlen, "%s: its root qdisc %s %s was left by another or a crashed netchaosd (cleanup_stale removes it)",
			   l->name, root.kind, qd_handle_str(root.handle, h, sizeof(h)));
		return -EBUSY;
	}
	ret = qd_snapshot_take_nl(nl, l->ifindex, &t->saved, err, errlen);
	if (ret)
		return ret;
	ret = nc_qdisc_htb_root_msg(l->ifindex, qd_direct_qlen(l), &msg);
	if (!ret)
		ret = qd_talk(nl, msg, NULL, NULL);
	if (ret) {
		nc_set_err(err, errlen, "%s: cannot replace the root qdisc with htb %x:: %s%s",
			   l->name, NC_QDISC_MAJOR, strerror(-ret), qd_kreason(nl));
		nc_qdisc_snapshot_free(t->saved);
		t->saved = NULL;
		return ret;
	}
	t->dev_ifindex = l->ifindex;
	snprintf(t->dev_name, sizeof(t->dev_name), "%s", l->name);
	pr_info("%s: root qdisc %s %s saved and replaced by htb %x: for netem rules", l->name,
		root.found ? root.kind : "none", qd_handle_str(root.handle, h, sizeof(h)),
		NC_QDISC_MAJOR);
	return 0;
}

/* Ingress: our IFB with the tree on its root. */
static int qd_tree_build_ingress(struct qd_nl *nl, struct qd_tree *t, const struct qd_link *l,
				 char *err, size_t errlen)
{
	struct qd_link ifb;
	struct nl_msg *msg;
	int ret, ifb_ifindex = 0;

	nc_qdisc_ifb_name(l->ifindex, t->dev_name);
	if (qd_link_get(nl, 0, t->dev_name, &ifb) == 0) {
		nc_set_err(err, errlen, "%s: a device %s already exists: left by another or a crashed netchaosd? (cleanup_stale removes it)",
			   l->name, t->dev_name);
		return -EBUSY;
	}
	ret = qd_ifb_create(nl, t->dev_name, l->mtu, true, &ifb_ifindex);
	if (ret) {
		nc_set_err(err, errlen, "%s: cannot create the IFB device %s for ingress netem: %s%s",
			   l->name, t->dev_name, strerror(-ret), qd_kreason(nl));
		return ret;
	}
	ret = qd_link_get(nl, ifb_ifindex, NULL, &ifb);
	if (!ret)
		ret = nc_qdisc_htb_root_msg(ifb_ifindex, qd_direct_qlen(&ifb), &msg);
	if (!ret)
		ret = qd_talk(nl, msg, NULL, NULL);
	if (ret) {
		nc_set_err(err, errlen, "%s: cannot put htb %x: on %s: %s%s", l->name,
			   NC_QDISC_MAJOR, t->dev_name, strerror(-ret), qd_kreason(nl));
		goto del_ifb;
	}
	ret = qd_clsact_ensure(nl, l->ifindex, &t->created_clsact);
	if (ret) {
		nc_set_err(err, errlen, "%s: cannot create a clsact qdisc for the ingress steering filter: %s%s",
			   l->name, strerror(-ret), qd_kreason(nl));
		goto del_ifb;
	}
	ret = qd_steer_add(nl, l->ifindex, ifb_ifindex);
	if (ret) {
		if (ret == -EEXIST) {
			nc_set_err(err, errlen, "%s: ingress filter priority %u handle %u is taken: left by another or a crashed netchaosd? (cleanup_stale removes it)",
				   l->name, NC_QDISC_STEER_PRIO, NC_QDISC_STEER_HANDLE);
			ret = -EBUSY;
		} else {
			nc_set_err(err, errlen, "%s: cannot add the ingress filter steering to %s: %s%s",
				   l->name, t->dev_name, strerror(-ret), qd_kreason(nl));
		}
		goto release_clsact;
	}
	t->dev_ifindex = ifb_ifindex;
	pr_info("%s: created %s and its steering filter for ingress netem rules", l->name,
		t->dev_name);
	return 0;

release_clsact:
	if (t->created_clsact)
		qd_clsact_release(nl, l->ifindex, l->name);
	t->created_clsact = false;
del_ifb:
	qd_link_delete(nl, ifb_ifindex);
	return ret;
}

/* Take the tree down: restore the saved root, or remove the IFB. */
static int qd_tree_undo(struct qd_nl *nl, struct qd_tree *t)
{
	char err[256];
	bool exact = false;
	int ret;

	if (t->ingress) {
		/* the filter first: no redirect to a vanishing IFB */
		ret = qd_steer_del(nl, t->ifindex);
		if (ret) {
			pr_err("%s: cannot remove the ingress steering filter: %s%s", t->ifname,
			       strerror(-ret), qd_kreason(nl));
			return ret;
		}
		ret = qd_link_delete(nl, t->dev_ifindex);
		if (ret == -ENODEV)
			ret = 0;
		if (ret) {
			pr_err("%s: cannot remove %s: %s%s", t->ifname, t->dev_name,
			       strerror(-ret), qd_kreason(nl));
			return ret;
		}
		if (t->created_clsact)
			qd_clsact_release(nl, t->ifindex, t->ifname);
		pr_info("%s: removed %s and its steering filter", t->ifname, t->dev_name);
		return 0;
	}
	ret = qd_snapshot_restore_nl(nl, t->saved, &exact, err, sizeof(err));
	if (ret == -ENODEV || ret == -EBUSY) {
		/* gone with its interface, or replaced by someone: nothing of
		 * ours is left to take down */
		pr_warn("%s", err);
		return 0;
	}
	if (ret) {
		pr_err("%s", err);
		return ret;
	}
	pr_info("%s: root qdisc set-up restored%s", t->ifname,
		exact ? "" : " (not exactly: see above)");
	return 0;
}

static int qd_class_del(struct qd_nl *nl, int ifindex, uint32_t classid)
{
	struct tcmsg tcm = {
		.tcm_family = AF_UNSPEC,
		.tcm_ifindex = ifindex,
		.tcm_parent = QD_ROOT_HANDLE,
		.tcm_handle = classid,
	};
	struct nl_msg *msg = qd_msg_new(RTM_DELTCLASS, 0, &tcm, 0);

	return msg ? qd_talk(nl, msg, NULL, NULL) : -ENOMEM;
}

int nc_qdisc_rule_add(int ifindex, bool ingress, uint32_t minor, const struct nc_netem_params *p,
		      uint32_t *classid, int *redirect_ifindex, char *err, size_t errlen)
{
	uint32_t cid = NC_QDISC_CLASSID(minor);
	struct qd_tree *t, *built = NULL;
	struct nl_msg *msg;
	struct qd_rule *r;
	struct qd_link l;
	struct qd_nl nl;
	char what[32];
	int ret;

	if (!minor || minor > NC_QDISC_MINOR_MAX) {
		nc_set_err(err, errlen, "netem rule minor %u is out of range (1 to %u)", minor,
			   NC_QDISC_MINOR_MAX);
		return -EINVAL;
	}
	ret = nc_netem_validate(p, err, errlen);
	if (ret)
		return ret;
	t = qd_tree_find(ifindex, ingress);
	if (qd_rule_find(t, minor)) {
		nc_set_err(err, errlen, "%s: %s netem class %x:%x is in use", t->ifname,
			   qd_dir(ingress), NC_QDISC_MAJOR, minor);
		return -EEXIST;
	}
	ret = qd_nl_open(&nl);
	if (ret) {
		nc_set_err(err, errlen, "cannot open a netlink socket: %s", strerror(-ret));
		return ret;
	}
	ret = qd_link_get(&nl, ifindex, NULL, &l);
	if (ret) {
		nc_set_err(err, errlen, "interface %d: %s", ifindex,
			   ret == -ENODEV ? "no such interface" : strerror(-ret));
		goto out;
	}
	if (!t) {
		/* Find out before anything is touched. */
		ret = qd_netem_check(err, errlen);
		if (ret)
			goto out;
		t = built = calloc(1, sizeof(*t));
		if (!t) {
			ret = -ENOMEM;
			goto out;
		}
		ret = qd_current_ns(&t->ns_dev, &t->ns_ino);
		if (ret)
			goto free_tree;
		t->ifindex = ifindex;
		t->ingress = ingress;
		snprintf(t->ifname, sizeof(t->ifname), "%s", l.name);
		ret = ingress ? qd_tree_build_ingress(&nl, t, &l, err, errlen) :
				qd_tree_build_egress(&nl, t, &l, err, errlen);
		if (ret)
			goto free_tree;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		ret = -ENOMEM;
		goto undo_tree;
	}
	r->minor = minor;
	r->params = *p;
	snprintf(what, sizeof(what), "%x:%x", NC_QDISC_MAJOR, minor);

	ret = nc_qdisc_htb_class_msg(t->dev_ifindex, cid, NC_QDISC_UNSHAPED_BPS, &msg);
	if (!ret)
		ret = qd_talk(&nl, msg, NULL, NULL);
	if (ret) {
		nc_set_err(err, errlen, "%s: cannot add htb class %s on %s: %s%s", l.name, what,
			   t->dev_name, strerror(-ret), qd_kreason(&nl));
		goto free_rule;
	}
	ret = nc_qdisc_netem_msg(t->dev_ifindex, cid, minor << 16, p, 0, &msg);
	if (!ret)
		ret = qd_talk(&nl, msg, NULL, NULL);
	if (ret == -ENOENT && strstr(nl.kmsg, "kind is unknown")) {
		nc_set_err(err, errlen, QD_NETEM_MISSING_FMT, nl.kmsg);
		ret = -EOPNOTSUPP;
		goto del_class;
	}
	if (ret) {
		nc_set_err(err, errlen, "%s: cannot add the netem qdisc of class %s on %s: %s%s",
			   l.name, what, t->dev_name, strerror(-ret), qd_kreason(&nl));
		goto del_class;
	}
	r->has_table = qd_netem_table_dist(p, 0) != NC_NETEM_DIST_NONE;
	r->next = t->rules;
	t->rules = r;
	t->nrules++;
	if (built) {
		built->next = qd_trees;
		qd_trees = built;
	}
	*classid = cid;
	*redirect_ifindex = ingress ? t->dev_ifindex : 0;
	pr_debug("%s: %s netem class %s on %s", l.name, qd_dir(ingress), what, t->dev_name);
	qd_nl_close(&nl);
	return 0;

del_class:
	/* A tree built for this rule goes as a whole. */
	if (!built)
		qd_class_del(&nl, t->dev_ifindex, cid);
free_rule:
	free(r);
undo_tree:
	if (built)
		qd_tree_undo(&nl, built);
free_tree:
	if (built)
		qd_tree_free(built);
out:
	qd_nl_close(&nl);
	return ret;
}

int nc_qdisc_rule_change(int ifindex, bool ingress, uint32_t minor,
			 const struct nc_netem_params *p, char *err, size_t errlen)
{
	struct qd_tree *t = qd_tree_find(ifindex, ingress);
	struct qd_rule *r = qd_rule_find(t, minor);
	unsigned int flags = NC_NETEM_MSG_CHANGE;
	struct nl_msg *msg;
	struct qd_nl nl;
	int ret;

	if (!r) {
		nc_set_err(err, errlen, "interface %d has no %s netem rule %u", ifindex,
			   qd_dir(ingress), minor);
		return -ENOENT;
	}
	ret = nc_netem_validate(p, err, errlen);
	if (ret)
		return ret;
	ret = qd_nl_open(&nl);
	if (ret) {
		nc_set_err(err, errlen, "cannot open a netlink socket: %s", strerror(-ret));
		return ret;
	}
	if (r->has_table)
		flags |= NC_NETEM_MSG_HAS_TABLE;
	ret = nc_qdisc_netem_msg(t->dev_ifindex, NC_QDISC_CLASSID(minor), minor << 16, p, flags,
				 &msg);
	if (!ret)
		ret = qd_talk(&nl, msg, NULL, NULL);
	if (ret) {
		nc_set_err(err, errlen, "%s: cannot change the netem qdisc %x: on %s: %s%s",
			   t->ifname, minor, t->dev_name, strerror(-ret), qd_kreason(&nl));
	} else {
		r->has_table = r->has_table || qd_netem_table_dist(p, flags) != NC_NETEM_DIST_NONE;
		r->params = *p;
	}
	qd_nl_close(&nl);
	return ret;
}

int nc_qdisc_rule_del(int ifindex, bool ingress, uint32_t minor)
{
	struct qd_tree *t = qd_tree_find(ifindex, ingress);
	struct qd_rule *r = qd_rule_find(t, minor), **pp;
	struct qd_nl nl;
	int ret;

	if (!r)
		return -ENOENT;
	ret = qd_nl_open(&nl);
	if (ret)
		return ret;
	if (t->nrules > 1) {
		ret = qd_class_del(&nl, t->dev_ifindex, NC_QDISC_CLASSID(minor));
		if (ret == -ENODEV || ret == -ENOENT) {
			ret = 0; /* gone with its interface, or by hand */
		} else if (ret) {
			pr_err("%s: cannot remove netem class %x:%x from %s: %s%s", t->ifname,
			       NC_QDISC_MAJOR, minor, t->dev_name, strerror(-ret),
			       qd_kreason(&nl));
			goto out;
		}
		for (pp = &t->rules; *pp != r; pp = &(*pp)->next)
			;
		*pp = r->next;
		free(r);
		t->nrules--;
		goto out;
	}
	ret = qd_tree_undo(&nl, t);
	if (ret)
		goto out;
	qd_tree_unlink(t);
	qd_tree_free(t);
out:
	qd_nl_close(&nl);
	return ret;
}

int nc_qdisc_cleanup_stale(int ifindex, const char *ifname)
{
	struct qd_root root;
	struct qd_nl nl;
	int ret, ifb = 0, found = 0;
	char name[IF_NAMESIZE];

	ret = qd_nl_open(&nl);
	if (ret)
		return ret;
	if (!qd_tree_find(ifindex, false)) {
		ret = qd_root_get(&nl, ifindex, &root);
		if (ret == -ENODEV)
			ret = 0;
		if (ret)
			goto out;
		if (qd_root_is_ours(&root)) {
			struct tcmsg tcm = {
				.tcm_family = AF_UNSPEC,
				.tcm_ifindex = ifindex,
				.tcm_parent = TC_H_ROOT,
				.tcm_handle = QD_ROOT_HANDLE,
			};
			struct nl_msg *msg = qd_msg_new(RTM_DELQDISC, 0, &tcm, 0);

			ret = msg ? qd_talk(&nl, msg, NULL, NULL) : -ENOMEM;
			if (ret) {
				pr_err("%s: cannot remove the stale netchaos root qdisc: %s%s",
				       ifname, strerror(-ret), qd_kreason(&nl));
				goto out;
			}
			pr_warn("%s: removed the netem qdisc tree of an earlier netchaosd; what it replaced is unknown, so the kernel's default root qdisc is back",
				ifname);
			found = 1;
		}
	}
	if (!qd_tree_find(ifindex, true)) {
		bool steer;

		ret = qd_steer_find(&nl, ifindex, &steer);
		if (!ret && steer)
			ret = qd_steer_del(&nl, ifindex);
		if (ret) {
			pr_err("%s: cannot remove the stale ingress steering filter: %s%s", ifname,
			       strerror(-ret), qd_kreason(&nl));
			goto out;
		}
		if (steer) {
			pr_warn("%s: removed the ingress steering filter of an earlier netchaosd",
				ifname);
			found = 1;
		}
		ret = qd_ifb_find(&nl, ifindex, &ifb);
		if (ret)
			goto out;
		if (ifb) {
			nc_qdisc_ifb_name(ifindex, name);
			ret = qd_link_delete(&nl, ifb);
			if (ret && ret != -ENODEV) {
				pr_err("%s: cannot remove the stale %s: %s%s", ifname, name,
				       strerror(-ret), qd_kreason(&nl));
				goto out;
			}
			pr_warn("%s: removed %s, left by an earlier netchaosd", ifname, name);
			found = 1;
		}
	}
	ret = found;
out:
	qd_nl_close(&nl);
	return ret;
}
