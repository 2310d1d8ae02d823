// SPDX-License-Identifier: GPL-2.0-only
/*
 * nc_hooks: the BPF programs that tcx links attach to the interfaces of the
 * current network namespace, one line each:
 *
 *   IFNAME tcx-ingress|tcx-egress PROG_ID PROG_NAME
 *
 * For the tests' leftover checks: `tc filter show` cannot see tcx links and
 * Debian 12's bpftool (7.1) cannot list them. Prints nothing on a kernel
 * without tcx. Exit status 0, or 1 if the interfaces cannot be listed.
 *
 * nc_hooks --has-tcx: exit 0 if this kernel has tcx, 1 if not.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "attach.h"

#define MAX_PROGS 64

static void show(const struct if_nameindex *ifc, int type, const char *dir)
{
	__u32 ids[MAX_PROGS], cnt = MAX_PROGS, flags = 0;

	if (bpf_prog_query((int)ifc->if_index, type, 0, &flags, ids, &cnt))
		return; /* no tcx in this kernel, or the interface went away */
	for (__u32 i = 0; i < cnt && i < MAX_PROGS; i++) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_prog_get_fd_by_id(ids[i]);

		memset(&info, 0, sizeof(info));
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
			info.name[0] = '\0';
		if (fd >= 0)
			close(fd);
		printf("%s %s %u %s\n", ifc->if_name, dir, ids[i], info.name[0] ? info.name : "?");
	}
}

int main(int argc, char **argv)
{
	struct if_nameindex *all;

	if (argc > 1 && !strcmp(argv[1], "--has-tcx")) {
		__u32 cnt = 0, flags = 0;

		/* a kernel without tcx does not know the attach type: EINVAL */
		return bpf_prog_query(1, NC_BPF_TCX_EGRESS, 0, &flags, NULL, &cnt) &&
		       errno == EINVAL;
	}
	all = if_nameindex();
	if (!all) {
		fprintf(stderr, "nc_hooks: cannot list interfaces: %s\n", strerror(errno));
		return 1;
	}
	for (struct if_nameindex *i = all; i->if_index; i++) {
		show(i, NC_BPF_TCX_INGRESS, "tcx-ingress");
		show(i, NC_BPF_TCX_EGRESS, "tcx-egress");
	}
	if_freenameindex(all);
	return 0;
}
