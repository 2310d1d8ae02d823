// SPDX-License-Identifier: GPL-2.0-only
/*
 * Attachment of the classifier: tcx links where the kernel has them, else our
 * two cls_bpf filters at NC_TC_HANDLE/NC_TC_PRIORITY and the clsact qdisc
 * when we had to create it (attach.h). For tc, this file owns the rules for leaving other users of the hook alone: a qdisc is only
 * removed when we created it (or, for a crashed agent's leftovers, when ours
 * were the last filters on it) and nothing else is attached to it, and a
 * filter at our handle/priority is only replaced or removed when its program
 * is one of ours (name prefix NC_TC_PROG_PREFIX).
 *
 * libbpf reports the kernel's extended ack as a warning of its own; calls
 * whose failure is expected (clsact exists, nothing attached) would fill the
 * log with them, so libbpf's messages are captured around each call and the
 * kernel's reason is added to our own message when a failure is real.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/classifier.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/tc.h>

#include "attach.h"
#include "log.h"

#define ATTACH_KMSG_PREFIX "Kernel error message: "
#define ATTACH_KIND_LEN 16 /* TCA_KIND of a qdisc: IFNAMSIZ in the kernel */

static char attach_kmsg[256];	/* the kernel's reason for the last failure */
static enum nc_attach_mode attach_mode;
static libbpf_print_fn_t attach_saved_print;

static int attach_capture_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[sizeof(attach_kmsg) + 64];
	const char *text;
	size_t n;

	if (level != LIBBPF_WARN)
		return attach_saved_print ? attach_saved_print(level, fmt, ap) : 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	text = strstr(line, ATTACH_KMSG_PREFIX);
	text = text ? text + strlen(ATTACH_KMSG_PREFIX) : line;
	n = strcspn(text, "\n");
	if (n >= sizeof(attach_kmsg))
		n = sizeof(attach_kmsg) - 1;
	memcpy(attach_kmsg, text, n);
	attach_kmsg[n] = '\0';
	return 0;
}

static void attach_capture_begin(void)
{
	attach_kmsg[0] = '\0';
	attach_saved_print = libbpf_set_print(attach_capture_print);
}

static void attach_capture_end(void)
{
	libbpf_set_print(attach_saved_print);
}

/* " (kernel: ...)" or "", for appending to an error message */
static const char *attach_kernel_reason(void)
{
	static char buf[sizeof(attach_kmsg) + 16];

	if (!attach_kmsg[0])
		return "";
	snprintf(buf, sizeof(buf), " (kernel: %s)", attach_kmsg);
	return buf;
}

static const char *attach_dir_name(enum bpf_tc_attach_point ap)
{
	return ap == BPF_TC_EGRESS ? "egress" : "ingress";
}

static int attach_nlerr_to_errno(int nlerr)
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
	case NLE_INVAL:
		return -EINVAL;
	default:
		return -EIO;
	}
}

static int attach_nl_open(struct nl_sock **sk)
{
	int err;

	*sk = nl_socket_alloc();
	if (!*sk)
		return -ENOMEM;
	err = nl_connect(*sk, NETLINK_ROUTE);
	if (err < 0) {
		nl_socket_free(*sk);
		*sk = NULL;
		return attach_nlerr_to_errno(err);
	}
	return 0;
}

/* Any filter at all, of anyone, under the clsact of ifindex? */
static int attach_clsact_has_filters(int ifindex, bool *any)
{
	static const uint32_t parents[] = {
		TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS),
		TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS),
	};
	struct nl_cache *cache;
	struct nl_sock *sk;
	size_t i;
	int err;

	*any = false;
	err = attach_nl_open(&sk);
	if (err)
		return err;
	for (i = 0; i < sizeof(parents) / sizeof(parents[0]) && !*any; i++) {
		err = rtnl_cls_alloc_cache(sk, ifindex, parents[i], &cache);
		if (err < 0) {
			err = attach_nlerr_to_errno(err);
			break;
		}
		*any = nl_cache_nitems(cache) > 0;
		nl_cache_free(cache);
		err = 0;
	}
	nl_socket_free(sk);
	return err;
}

static int attach_kind_reply(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[TCA_MAX + 1];
	char *kind = arg;

	if (nlmsg_parse(nlmsg_hdr(msg), sizeof(struct tcmsg), tb, TCA_MAX, NULL) == 0 &&
	    tb[TCA_KIND])
		nla_strlcpy(kind, tb[TCA_KIND], ATTACH_KIND_LEN);
	return NL_OK;
}

/*
 * Kind of the qdisc in the slot clsact uses ("clsact", or "ingress" which
 * shares it). One RTM_GETQDISC for this interface, not a dump of every qdisc
 * of the namespace: this runs on every attach where the slot was taken.
 */
static int attach_ingress_slot_kind(int ifindex, char kind[ATTACH_KIND_LEN])
{
	struct tcmsg tcm = {
		.tcm_family = AF_UNSPEC,
		.tcm_ifindex = ifindex,
		.tcm_parent = TC_H_CLSACT,
	};
	struct nl_sock *sk;
	struct nl_msg *msg;
	int err;

	kind[0] = '\0';
	err = attach_nl_open(&sk);
	if (err)
		return err;
	/* Without NLM_F_ECHO the kernel only multicasts the answer to
	 * RTNLGRP_TC and the requester gets a bare ACK. */
	msg = nlmsg_alloc_simple(RTM_GETQDISC, NLM_F_ECHO);
	if (!msg) {
		err = -ENOMEM;
		goto free_sock;
	}
	err = nlmsg_append(msg, &tcm, sizeof(tcm), NLMSG_ALIGNTO);
	if (err < 0)
		goto free_msg;
	err = nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, attach_kind_reply, kind);
	if (err < 0)
		goto free_msg;
	err = nl_send_auto(sk, msg);
	if (err < 0)
		goto free_msg;
	err = nl_recvmsgs_default(sk);
free_msg:
	nlmsg_free(msg);
free_sock:
	nl_socket_free(sk);
	return err < 0 ? attach_nlerr_to_errno(err) : 0;
}

static int attach_clsact_create(int ifindex, const char *ifname, bool *created)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	char kind[ATTACH_KIND_LEN];
	int err;

	attach_capture_begin();
	err = bpf_tc_hook_create(&hook);
	attach_capture_end();
	*created = err == 0;
	if (err != -EEXIST) {
		if (err)
			pr_err("%s: cannot create clsact: %s%s", ifname, strerror(-err),
			       attach_kernel_reason());
		return err;
	}

	/*
	 * EEXIST also comes from a plain ingress qdisc in the same slot, and
	 * the kernel then files an "egress" filter under its ingress block
	 * without complaint: our egress program would run on ingress.
	 */
	err = attach_ingress_slot_kind(ifindex, kind);
	if (err) {
		pr_err("%s: cannot read the existing ingress-side qdisc: %s", ifname,
		       strerror(-err));
		return err;
	}
	if (strcmp(kind, "clsact") != 0) {
		pr_err("%s: has an '%s' qdisc where clsact is needed; remove it first", ifname,
		       kind[0] ? kind : "unknown");
		return -EBUSY;
	}
	return 0;
}

static int attach_clsact_destroy(int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	int err;

	attach_capture_begin();
	err = bpf_tc_hook_destroy(&hook);
	attach_capture_end();
	return err;
}

/*
 * Remove the clsact if nothing is attached to it any more. Someone may attach
 * between the check and the removal; no netlink call closes that window, and
 * it is as narrow as a tc command racing with us.
 */
static int attach_clsact_remove_if_empty(int ifindex, const char *ifname)
{
	char kind[ATTACH_KIND_LEN];
	bool any;
	int err;

	/* The destroy request names the slot, not the kind: never let it take
	 * a plain ingress qdisc (or one that replaced ours) with it. */
	err = attach_ingress_slot_kind(ifindex, kind);
	if (err == -ENODEV || err == -ENOENT || (!err && strcmp(kind, "clsact") != 0)) {
		pr_debug("%s: no clsact to remove", ifname);
		return 0;
	}
	err = err ?: attach_clsact_has_filters(ifindex, &any);
	if (err) {
		pr_warn("%s: cannot inspect clsact, keeping it: %s", ifname, strerror(-err));
		return err;
	}
	if (any) {
		pr_info("%s: other filters remain on clsact, keeping it", ifname);
		return 0;
	}
	err = attach_clsact_destroy(ifindex);
	if (err == -ENODEV || err == -EINVAL || err == -ENOENT) {
		pr_debug("%s: clsact already gone%s", ifname, attach_kernel_reason());
		return 0;
	}
	if (err)
		pr_err("%s: cannot remove clsact: %s%s", ifname, strerror(-err),
		       attach_kernel_reason());
	return err;
}

/*
 * Program id of the filter at our handle/priority on one direction: -ENOENT
 * when there is none (no clsact, no filter chain or no such filter).
 */
static int attach_query(int ifindex, enum bpf_tc_attach_point ap, __u32 *prog_id)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = ap);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = NC_TC_HANDLE,
			    .priority = NC_TC_PRIORITY);
	int err;

	attach_capture_begin();
	err = bpf_tc_query(&hook, &opts);
	attach_capture_end();
	/* The kernel says EINVAL for "no clsact" and "no chain at this priority". */
	if (err == -EINVAL)
		return -ENOENT;
	if (err)
		return err;
	*prog_id = opts.prog_id;
	return 0;
}

static int attach_prog_name(__u32 prog_id, char *name, size_t len)
{
	struct bpf_prog_info info;
	__u32 info_len = sizeof(info);
	int fd, err;

	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	err = bpf_obj_get_info_by_fd(fd, &info, &info_len);
	if (err)
		err = -errno;
	else
		snprintf(name, len, "%s", info.name);
	close(fd);
	return err;
}

enum attach_owner { ATTACH_NONE, ATTACH_OURS, ATTACH_FOREIGN };

/* Who owns the filter at our handle/priority on one direction. */
static int attach_owner_of(int ifindex, enum bpf_tc_attach_point ap, enum attach_owner *owner,
			   char *name, size_t len)
{
	__u32 prog_id = 0;
	int err;

	*owner = ATTACH_NONE;
	name[0] = '\0';
	err = attach_query(ifindex, ap, &prog_id);
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	err = attach_prog_name(prog_id, name, len);
	if (err == -ENOENT) /* detached and freed since the query */
		return 0;
	if (err)
		return err;
	*owner = strncmp(name, NC_TC_PROG_PREFIX, strlen(NC_TC_PROG_PREFIX)) ? ATTACH_FOREIGN :
									     ATTACH_OURS;
	return 0;
}

/*
 * Attach without NLM_F_REPLACE first, so a concurrent user of our
 * handle/priority is never overwritten blindly; replace only a filter whose
 * program is ours (a crashed agent's, or ours being re-attached).
 */
static int attach_one(int ifindex, const char *ifname, enum bpf_tc_attach_point ap, int prog_fd)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = ap);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .handle = NC_TC_HANDLE,
			    .priority = NC_TC_PRIORITY);
	enum attach_owner owner;
	char name[BPF_OBJ_NAME_LEN];
	int err;

	attach_capture_begin();
	err = bpf_tc_attach(&hook, &opts);
	attach_capture_end();
	if (err != -EEXIST)
		goto out;

	err = attach_owner_of(ifindex, ap, &owner, name, sizeof(name));
	if (err)
		goto out;
	if (owner == ATTACH_FOREIGN) {
		pr_err("%s: %s handle %#x priority %d is taken by program '%s', not ours",
		       ifname, attach_dir_name(ap), NC_TC_HANDLE, NC_TC_PRIORITY, name);
		return -EBUSY;
	}
	/* ATTACH_NONE: gone since; an exclusive attach would do, replace does too. */
	opts.flags = BPF_TC_F_REPLACE;
	opts.prog_id = 0;
	attach_capture_begin();
	err = bpf_tc_attach(&hook, &opts);
	attach_capture_end();
	if (!err && owner == ATTACH_OURS)
		pr_info("%s: replaced the %s filter of an earlier netchaos (%s)", ifname,
			attach_dir_name(ap), name);
out:
	if (err)
		pr_err("%s: cannot attach the %s filter: %s%s", ifname, attach_dir_name(ap),
		       strerror(-err), attach_kernel_reason());
	return err;
}

/* Our filter on one direction; 0 when it (or its interface) is gone already. */
static int attach_detach_one(int ifindex, const char *ifname, enum bpf_tc_attach_point ap)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = ap);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = NC_TC_HANDLE,
			    .priority = NC_TC_PRIORITY);
	int err;

	attach_capture_begin();
	err = bpf_tc_detach(&hook, &opts);
	attach_capture_end();
	/* ENODEV: interface deleted; EINVAL: clsact or filter chain deleted;
	 * ENOENT: filter deleted. Either way ours is no longer there. */
	if (err == -ENODEV || err == -EINVAL || err == -ENOENT) {
		pr_debug("%s: %s filter already gone: %s%s", ifname, attach_dir_name(ap),
			 strerror(-err), attach_kernel_reason());
		return 0;
	}
	if (err)
		pr_err("%s: cannot detach the %s filter: %s%s", ifname, attach_dir_name(ap),
		       strerror(-err), attach_kernel_reason());
	return err;
}

void nc_attach_set_mode(enum nc_attach_mode mode)
{
	attach_mode = mode;
}

const char *nc_attach_mode_name(void)
{
	return attach_mode == NC_ATTACH_TCX ? "tcx" : attach_mode == NC_ATTACH_TC ? "tc" : "auto";
}

int nc_attach_mode_parse(const char *s, enum nc_attach_mode *mode)
{
	if (!strcmp(s, "auto"))
		*mode = NC_ATTACH_AUTO;
	else if (!strcmp(s, "tcx"))
		*mode = NC_ATTACH_TCX;
	else if (!strcmp(s, "tc"))
		*mode = NC_ATTACH_TC;
	else
		return -EINVAL;
	return 0;
}

/* A kernel without tcx does not know its attach types: a query says EINVAL. */
static bool attach_tcx_supported(int ifindex)
{
	__u32 cnt = 0, flags = 0;

	return !bpf_prog_query(ifindex, NC_BPF_TCX_EGRESS, 0, &flags, NULL, &cnt) ||
	       errno != EINVAL;
}

bool nc_attach_has_tcx(void)
{
	return attach_tcx_supported(1);
}

/* Both directions as tcx links, or neither. */
static int attach_tcx(int ifindex, const char *ifname, int egress_fd, int ingress_fd,
		      struct nc_attachment *out)
{
	int fd;

	fd = bpf_link_create(egress_fd, ifindex, NC_BPF_TCX_EGRESS, NULL);
	if (fd < 0)
		return fd;
	out->egress_link = fd;
	fd = bpf_link_create(ingress_fd, ifindex, NC_BPF_TCX_INGRESS, NULL);
	if (fd < 0) {
		close(out->egress_link);
		out->egress_link = -1;
		return fd;
	}
	out->ingress_link = fd;
	out->egress = out->ingress = out->tcx = true;
	pr_debug("%s: attached (tcx)", ifname);
	return 0;
}

static int attach_tc(int ifindex, const char *ifname, int egress_fd, int ingress_fd,
		     struct nc_attachment *out)
{
	int err;

	err = attach_clsact_create(ifindex, ifname, &out->created_clsact);
	if (err)
		return err;

	err = attach_one(ifindex, ifname, BPF_TC_EGRESS, egress_fd);
	if (err)
		goto undo_clsact;
	out->egress = true;

	err = attach_one(ifindex, ifname, BPF_TC_INGRESS, ingress_fd);
	if (err)
		goto undo_egress;
	out->ingress = true;

	pr_debug("%s: attached (clsact %s)", ifname,
		 out->created_clsact ? "created" : "already there");
	return 0;

undo_egress:
	attach_detach_one(ifindex, ifname, BPF_TC_EGRESS);
	out->egress = false;
undo_clsact:
	if (out->created_clsact)
		attach_clsact_remove_if_empty(ifindex, ifname);
	out->created_clsact = false;
	return err;
}

int nc_attach(int ifindex, const char *ifname, int egress_fd, int ingress_fd,
	      struct nc_attachment *out)
{
	int err;

	memset(out, 0, sizeof(*out));
	out->ifindex = ifindex;
	out->egress_link = out->ingress_link = -1;
	snprintf(out->ifname, sizeof(out->ifname), "%s", ifname);

	/* auto settles on the first attach: tcx if the kernel has it and
	 * lets us, else tc for the agent's lifetime */
	if (attach_mode == NC_ATTACH_AUTO && !attach_tcx_supported(ifindex)) {
		pr_info("tcx is not available in this kernel: attaching with clsact and cls_bpf");
		attach_mode = NC_ATTACH_TC;
	}
	if (attach_mode != NC_ATTACH_TC) {
		err = attach_tcx(ifindex, ifname, egress_fd, ingress_fd, out);
		if (!err) {
			if (attach_mode == NC_ATTACH_AUTO)
				pr_info("attaching with tcx links (no qdisc)");
			attach_mode = NC_ATTACH_TCX;
			return 0;
		}
		if (attach_mode == NC_ATTACH_TCX) {
			pr_err("%s: cannot attach with tcx: %s", ifname, strerror(-err));
			return err;
		}
		pr_warn("%s: cannot attach with tcx (%s): using clsact and cls_bpf instead",
			ifname, strerror(-err));
		attach_mode = NC_ATTACH_TC;
	}
	return attach_tc(ifindex, ifname, egress_fd, ingress_fd, out);
}

int nc_detach(struct nc_attachment *a)
{
	int err, ret = 0;

	/* tcx: closing the link detaches; nothing else was created */
	if (a->tcx) {
		if (a->egress)
			close(a->egress_link);
		if (a->ingress)
			close(a->ingress_link);
		a->egress_link = a->ingress_link = -1;
		a->egress = a->ingress = a->tcx = false;
		return 0;
	}
	/* Keep going after a failure: leave as little behind as possible, and
	 * keep the flags of what is still in place so a retry can finish. */
	if (a->egress) {
		err = attach_detach_one(a->ifindex, a->ifname, BPF_TC_EGRESS);
		if (err)
			ret = err;
		else
			a->egress = false;
	}
	if (a->ingress) {
		err = attach_detach_one(a->ifindex, a->ifname, BPF_TC_INGRESS);
		if (err)
			ret = ret ?: err;
		else
			a->ingress = false;
	}
	if (a->created_clsact && !a->egress && !a->ingress) {
		err = attach_clsact_remove_if_empty(a->ifindex, a->ifname);
		if (err)
			ret = ret ?: err;
		else
			a->created_clsact = false;
	}
	return ret;
}

int nc_attach_find_stale(int ifindex, bool *has_ours)
{
	static const enum bpf_tc_attach_point dirs[] = { BPF_TC_EGRESS, BPF_TC_INGRESS };
	enum attach_owner owner;
	char name[BPF_OBJ_NAME_LEN];
	size_t i;
	int err;

	*has_ours = false;
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		err = attach_owner_of(ifindex, dirs[i], &owner, name, sizeof(name));
		if (err)
			return err;
		if (owner == ATTACH_OURS)
			*has_ours = true;
	}
	return 0;
}

int nc_attach_remove_stale(int ifindex, const char *ifname)
{
	static const enum bpf_tc_attach_point dirs[] = { BPF_TC_EGRESS, BPF_TC_INGRESS };
	enum attach_owner owner;
	char name[BPF_OBJ_NAME_LEN];
	bool removed = false;
	size_t i;
	int err, ret = 0;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		err = attach_owner_of(ifindex, dirs[i], &owner, name, sizeof(name));
		if (err == -ENODEV)
			return 0;
		if (err) {
			pr_err("%s: cannot inspect the %s hook: %s", ifname,
			       attach_dir_name(dirs[i]), strerror(-err));
			ret = ret ?: err;
			continue;
		}
		if (owner == ATTACH_FOREIGN)
			pr_warn("%s: %s handle %#x priority %d runs '%s', not ours: left alone",
				ifname, attach_dir_name(dirs[i]), NC_TC_HANDLE, NC_TC_PRIORITY,
				name);
		if (owner != ATTACH_OURS)
			continue;
		err = attach_detach_one(ifindex, ifname, dirs[i]);
		if (err) {
			ret = ret ?: err;
			continue;
		}
		removed = true;
		pr_info("%s: removed a leftover %s filter (%s)", ifname, attach_dir_name(dirs[i]),
			name);
	}
	/* Whoever created the clsact is unknown now; an empty one is only ours
	 * to remove when our leftovers were its content. */
	if (removed && !ret)
		ret = attach_clsact_remove_if_empty(ifindex, ifname);
	return ret;
}
