// SPDX-License-Identifier: GPL-2.0-only
/*
 * ncb_null: attach an empty TC program (bench/ncb_null.bpf.c) with tcx links
 * to both directions of every interface of a network namespace, the way
 * netchaosd attaches its classifier for a rule without --iface, and hold them
 * until SIGTERM/SIGINT. The links die with the process.
 *
 * usage: ncb_null --netns NAME
 * Prints "attached=N" (links) once attached. Needs root and tcx (Linux 6.6+).
 */
#include <net/if.h>
#include <signal.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ncb.h"
#include "bench/ncb_null.skel.h"

/* enum bpf_attach_type values of tcx (uapi 6.6), which older headers lack */
#define NCB_TCX_INGRESS 46
#define NCB_TCX_EGRESS	47
#define MAX_LINKS	64

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct if_nameindex *ifs, *it;
	struct ncb_null_bpf *skel;
	int links[MAX_LINKS], n = 0, prog;
	sigset_t mask, old;

	if (argc != 3 || strcmp(argv[1], "--netns"))
		ncb_die("usage: ncb_null --netns NAME");
	ncb_enter_netns(argv[2]);
	skel = ncb_null_bpf__open_and_load();
	if (!skel)
		ncb_die("cannot load the empty program: %s", strerror(errno));
	prog = bpf_program__fd(skel->progs.ncb_null);
	ifs = if_nameindex();
	if (!ifs)
		ncb_die("if_nameindex: %s", strerror(errno));
	for (it = ifs; it->if_index; it++) {
		int types[] = { NCB_TCX_EGRESS, NCB_TCX_INGRESS };

		if (n + 2 > MAX_LINKS)
			ncb_die("more than %d interfaces in %s", MAX_LINKS / 2, argv[2]);

		for (int d = 0; d < 2; d++) {
			int fd = bpf_link_create(prog, (int)it->if_index, types[d], NULL);

			if (fd < 0)
				ncb_die("tcx attach to %s: %s", it->if_name, strerror(errno));
			links[n++] = fd;
		}
	}
	if_freenameindex(ifs);

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, &old);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("attached=%d\n", n);
	fflush(stdout);
	while (!stop)
		sigsuspend(&old);
	while (n)
		close(links[--n]);
	ncb_null_bpf__destroy(skel);
	return 0;
}
