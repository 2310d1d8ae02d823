/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * netem rules as qdiscs: per interface and direction, an HTB root
 * (NC_QDISC_MAJOR:) with one class and one netem leaf per rule, which the
 * classifier steers packets into by setting skb->priority to the class id.
 * At ingress the tree sits on an IFB device, and a filter of this module on
 * the interface's clsact ingress hook (priority NC_QDISC_STEER_PRIO, after
 * the classifier's) redirects every packet whose skb->priority names one of
 * our classes to it with act_mirred. The interface's previous root set-up is
 * saved and put back exactly when its last rule ends. agent/qdisc.c starts
 * with the long version.
 *
 * Contract with the classifier: for a netem rule it sets skb->priority =
 * *classid and returns TC_ACT_UNSPEC, at egress and at ingress alike; it
 * must not bpf_redirect() to the IFB itself: kernels before 6.x (Debian's
 * 6.1 measured) do not mark such packets redirected, and the IFB drops them
 * (rx_dropped).
 *
 * Everything works in the CURRENT network namespace (the caller enters it);
 * the module's state is keyed by (namespace, ifindex, direction). Functions
 * return 0 or -errno; err (may be NULL) gets a one-line reason.
 *
 * Order for the caller: add the qdisc rule first and only then the BPF rule
 * that steers to *classid; on removal, the BPF rule first, then
 * nc_qdisc_rule_del(), and every qdisc rule of an interface before
 * nc_detach() (our steering filter keeps a clsact in use). At start-up,
 * nc_qdisc_cleanup_stale() before nc_attach_remove_stale().
 */
#ifndef NC_QDISC_H
#define NC_QDISC_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netchaos/maps.h"
#include "netem.h"

struct nl_msg;

#define NC_QDISC_MAJOR		((unsigned int)NC_STEER_MAJOR) /* handle of our HTB roots */
#define NC_QDISC_MINOR_MAX	0x4000u	/* rule minors are 1..this (< NC_QDISC_MAJOR) */
#define NC_QDISC_IFB_PREFIX	"ncifb"	/* + ifindex: our IFB of that interface */
/* The ingress steering filter: cls_bpf at this priority and handle on the
 * clsact ingress hook, program NC_QDISC_STEER_PROG, action mirred. */
#define NC_QDISC_STEER_PRIO	0x4e43u
#define NC_QDISC_STEER_HANDLE	1u
#define NC_QDISC_STEER_PROG	"nc_ifb_steer"
/* Rate and ceil of every HTB class: far above any link, so HTB never shapes;
 * `rate` rules are shaped by netem itself. */
#define NC_QDISC_UNSHAPED_BPS	100000000000ull /* 100 Gbit/s */

/* skb->priority the classifier sets for the rule with this minor. */
#define NC_QDISC_CLASSID(minor)	((NC_QDISC_MAJOR << 16) | (minor))

/*
 * Whether this kernel has sch_netem, found without touching any real
 * interface: a netem qdisc is created on the loopback of a throw-away network
 * namespace (a forked child that unshares), or, when unsharing is not
 * permitted, on a temporary IFB device. *available and the kernel's reason
 * ("Specified qdisc kind is unknown") on success; -errno when the probe
 * itself could not run. A positive answer is cached.
 */
int nc_qdisc_probe_netem(bool *available, char *reason, size_t len);

/*
 * Add the netem qdisc of one rule, minor 1..NC_QDISC_MINOR_MAX (unique per
 * interface and direction). The first rule of an interface and direction
 * builds the tree: egress saves the interface's root set-up and replaces the
 * root; ingress creates the IFB NC_QDISC_IFB_PREFIX<ifindex> and the
 * steering filter (and a clsact qdisc if there is none, removed again when
 * it is empty). On return *classid is what the classifier writes to
 * skb->priority and *redirect_ifindex the IFB the steering filter redirects
 * to (0 at egress; for information, see the contract above). On failure
 * nothing is left behind. -EOPNOTSUPP when the kernel has no sch_netem, -EBUSY when
 * the interface carries a tree or IFB this process did not create (see
 * nc_qdisc_cleanup_stale), -EEXIST for a minor in use.
 */
int nc_qdisc_rule_add(int ifindex, bool ingress, uint32_t minor, const struct nc_netem_params *p,
		      uint32_t *classid, int *redirect_ifindex, char *err, size_t errlen);

/* New parameters for a rule, in place: a change of its netem qdisc, no
 * rebuild; packets already queued stay queued. -ENOENT for an unknown rule. */
int nc_qdisc_rule_change(int ifindex, bool ingress, uint32_t minor,
			 const struct nc_netem_params *p, char *err, size_t errlen);

/* Remove a rule's class and netem qdisc; the last rule of an interface and
 * direction restores the saved root set-up (egress) or removes the IFB
 * (ingress). An interface that has gone away counts as done. */
int nc_qdisc_rule_del(int ifindex, bool ingress, uint32_t minor);

/*
 * For a starting agent: remove what a crashed netchaosd left on ifindex: an
 * HTB root with handle NC_QDISC_MAJOR:, our ingress steering filter, and our
 * IFB of that interface (a clsact stays: nc_attach_remove_stale's business). What
 * the tree replaced cannot be known any more: the kernel's default root comes
 * back, and this is logged. Trees of this process are left alone. Returns 1
 * if anything was found and removed, 0 if nothing, -errno.
 */
int nc_qdisc_cleanup_stale(int ifindex, const char *ifname);

/* "ncifb<ifindex>" */
void nc_qdisc_ifb_name(int ifindex, char name[IF_NAMESIZE]);

/* ---- the root set-up of an interface, saved and put back ---- */

struct nc_qdisc_snapshot;

/* Save the root qdisc tree of ifindex: qdiscs, classes and their filters
 * (never clsact/ingress, which is not part of the root tree). */
int nc_qdisc_snapshot_take(int ifindex, struct nc_qdisc_snapshot **out, char *err,
			   size_t errlen);
/*
 * Put it back in place of our tree, which must still be the root
 * (-EBUSY if someone replaced it: then nothing is touched). A kernel default
 * root (handle 0:) comes back by deleting ours; a user's tree by replacing
 * ours with its root and replaying the rest, parents first, then the
 * filters. *exact (may be NULL) tells whether a fresh dump equals the
 * saved one; differences are logged.
 */
int nc_qdisc_snapshot_restore(const struct nc_qdisc_snapshot *s, bool *exact, char *err,
			      size_t errlen);
void nc_qdisc_snapshot_free(struct nc_qdisc_snapshot *s);
/* The saved root was the kernel's default (handle 0:). */
bool nc_qdisc_snapshot_is_default(const struct nc_qdisc_snapshot *s);

/* ---- message builders (pure; exported for the unit tests) ---- */

#define NC_NETEM_MSG_CHANGE	(1u << 0) /* in-place change: send every attribute */
#define NC_NETEM_MSG_HAS_TABLE	(1u << 1) /* the live qdisc holds a distribution table */

/*
 * RTM_NEWQDISC for a netem qdisc (create: NLM_F_CREATE | NLM_F_EXCL; change:
 * no flags). TCA_OPTIONS = struct tc_netem_qopt (limit, loss, gap,
 * duplicate, latency/jitter in 64 ns ticks capped at u32) + TCA_NETEM_*:
 * LATENCY64/JITTER64 (ns), CORR, REORDER, CORRUPT, LOSS (nested GI/GE),
 * RATE (+ RATE64 >= 2^32 bytes/s), ECN, DELAY_DIST. A change sends CORR,
 * REORDER, CORRUPT, RATE and ECN even when zero (the kernel keeps the old
 * values of absent ones) and, when the qdisc holds a table the new
 * parameters do not want, a uniform one (a table cannot be removed).
 * reorder without gap is sent with gap 1, like tc.
 */
int nc_qdisc_netem_msg(int ifindex, uint32_t parent, uint32_t handle,
		       const struct nc_netem_params *p, unsigned int flags, struct nl_msg **out);
/* RTM_NEWQDISC replacing the root with HTB NC_QDISC_MAJOR:, default class 0
 * (unclassified packets take HTB's unshaped direct queue) of direct_qlen. */
int nc_qdisc_htb_root_msg(int ifindex, uint32_t direct_qlen, struct nl_msg **out);
/* RTM_NEWTCLASS for HTB class classid under our root, rate = ceil = rate_bps
 * (bits/s; RATE64/CEIL64 above 2^32 bytes/s), 1 ms of burst. */
int nc_qdisc_htb_class_msg(int ifindex, uint32_t classid, uint64_t rate_bps,
			   struct nl_msg **out);

/* RTM_NEWTFILTER for the ingress steering filter of ifindex: cls_bpf (not
 * direct-action) running prog_fd, action mirred egress redirect to
 * ifb_ifindex. */
int nc_qdisc_steer_filter_msg(int ifindex, int ifb_ifindex, int prog_fd, struct nl_msg **out);

/* Tests: force what the netem probe answers (1 available, 0 not), so the
 * undo path of nc_qdisc_rule_add() can run on a kernel without netem; -1
 * (the default) probes for real. */
void nc_qdisc_probe_override(int available);

#endif
