// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host checks for `chaosctl doctor`. Checks that must create things (a
 * clsact, an IFB) run in a forked child inside a new, empty network
 * namespace, so nothing on the host is touched even for a moment.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>
#include <netlink/route/link.h>

#include "attach.h"
#include "datapath.h"
#include "docker.h"
#include "doctor.h"
#include "qdisc.h"

static void add_check(json_object *arr, const char *name, bool ok, const char *detail,
		      const char *fix)
{
	json_object *c = json_object_new_object();

	json_object_object_add(c, "name", json_object_new_string(name));
	json_object_object_add(c, "ok", json_object_new_boolean(ok));
	json_object_object_add(c, "detail", json_object_new_string(detail));
	if (!ok && fix)
		json_object_object_add(c, "fix", json_object_new_string(fix));
	json_object_array_add(arr, c);
}

/* In a child, in a new network namespace: 0 = ok, else an errno. */
static int child_clsact(void)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = 1, .attach_point = BPF_TC_INGRESS);
	int err = bpf_tc_hook_create(&hook);

	return err == -EEXIST ? 0 : -err;
}

static int child_ifb(void)
{
	struct rtnl_link *link = rtnl_link_alloc();
	struct nl_sock *sk = nl_socket_alloc();
	int err = -ENOMEM;

	if (link && sk && !nl_connect(sk, NETLINK_ROUTE)) {
		rtnl_link_set_name(link, "ncdoctor0");
		err = rtnl_link_set_type(link, "ifb");
		if (!err)
			err = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
	}
	rtnl_link_put(link);
	nl_socket_free(sk);
	return err ? ENOENT : 0;
}

static int in_new_netns(int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return errno;
	if (pid == 0) {
		libbpf_set_print(NULL);
		if (unshare(CLONE_NEWNET))
			_exit(errno);
		_exit(fn());
	}
	if (waitpid(pid, &status, 0) < 0)
		return errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
}

int nc_doctor_run(struct nc_datapath *dp, const char *docker_sock, json_object *reply)
{
	json_object *arr = json_object_new_array();
	char detail[512], reason[256] = "", err[256];
	struct nc_docker d;
	struct statfs sfs;
	bool netem = false, tcx;
	int rc;

	(void)dp;
	if (!arr)
		return -ENOMEM;
	add_check(arr, "btf", !access("/sys/kernel/btf/vmlinux", R_OK),
		  "/sys/kernel/btf/vmlinux", "use a kernel built with CONFIG_DEBUG_INFO_BTF=y");
	add_check(arr, "bpf", true, "BPF programs loaded by this agent", NULL);

	rc = in_new_netns(child_clsact);
	snprintf(detail, sizeof(detail), "%s", rc ? strerror(rc) : "clsact qdisc can be created");
	add_check(arr, "clsact", !rc, detail,
		  "enable CONFIG_NET_SCH_INGRESS and CONFIG_NET_CLS_BPF (modules sch_ingress, cls_bpf)");

	/* not having tcx is no failure: clsact takes over, unless --attach tcx */
	tcx = nc_attach_has_tcx();
	snprintf(detail, sizeof(detail), "%s; the classifier is attached with %s",
		 tcx ? "tcx links available" : "no tcx in this kernel (Linux 6.6+)",
		 !strcmp(nc_attach_mode_name(), "auto") ? (tcx ? "tcx" : "tc (clsact + cls_bpf)") :
		 nc_attach_mode_name());
	add_check(arr, "tcx", tcx || strcmp(nc_attach_mode_name(), "tcx"), detail,
		  "use Linux 6.6 or later, or start netchaosd with --attach tc");

	rc = nc_qdisc_probe_netem(&netem, reason, sizeof(reason));
	snprintf(detail, sizeof(detail), "%s",
		 rc ? strerror(-rc) : netem ? "sch_netem available" : reason);
	add_check(arr, "sch_netem", !rc && netem, detail,
		  "load the sch_netem module (modprobe sch_netem; Debian/Ubuntu: "
		  "linux-modules-extra on some cloud kernels) or use a kernel with "
		  "CONFIG_NET_SCH_NETEM; delay, jitter, duplicate, reorder, rate and loss "
		  "models need it, drop/loss/corrupt/partition do not");

	rc = in_new_netns(child_ifb);
	snprintf(detail, sizeof(detail), "%s", rc ? "cannot create an ifb device" : "ifb devices can be created");
	add_check(arr, "ifb", !rc, detail,
		  "load the ifb module or enable CONFIG_IFB: netem faults at ingress need it");

	rc = statfs("/sys/fs/cgroup", &sfs);
	if (!rc && sfs.f_type != CGROUP2_SUPER_MAGIC)
		rc = statfs("/sys/fs/cgroup/unified", &sfs);
	add_check(arr, "cgroup2", !rc && sfs.f_type == CGROUP2_SUPER_MAGIC,
		  "cgroup v2 hierarchy", "mount cgroup2 (unified or hybrid hierarchy)");

	if (nc_docker_init(&d, docker_sock, err, sizeof(err))) {
		add_check(arr, "docker", false, err, "set --docker-socket or DOCKER_HOST=unix://PATH");
	} else {
		struct nc_docker_list list = { 0 };

		rc = nc_docker_list(&d, NULL, 0, &list, 2000, err, sizeof(err));
		if (!rc)
			snprintf(detail, sizeof(detail), "%s answers (%zu running containers)",
				 d.sock_path, list.count);
		else
			snprintf(detail, sizeof(detail), "%s", err);
		nc_docker_list_free(&list);
		add_check(arr, "docker", !rc, detail,
			  "start dockerd, or point --docker-socket / DOCKER_HOST at its socket "
			  "(only needed for container targets)");
	}
	json_object_object_add(reply, "checks", arr);
	return 0;
}
