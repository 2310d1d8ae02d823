// SPDX-License-Identifier: GPL-2.0-only
/*
 * Namespaces, links and both ways of attaching (tc: clsact + cls_bpf; tcx
 * links) against the running kernel: every test gets two fresh network
 * namespaces joined by a veth pair, and checks the result with iproute2 (tc,
 * run in the namespace with nsenter), BPF_PROG_QUERY for tcx, and, for the
 * datapath, with real UDP traffic. Needs root; skips when BPF is unavailable,
 * and the tcx tests on a kernel without tcx (< 6.6: the VM tier's).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "attach.h"
#include "links.h"
#include "log.h"
#include "netns.h"

#define DEV_ADDR  "192.0.2.1"
#define PEER_ADDR "192.0.2.2"
#define UDP_PORT  47000
#define TIMING_ROUNDS 20

struct fixture {
	char ns[32], peer_ns[32];	/* /run/netns names */
	char dev[IF_NAMESIZE];		/* in ns */
	char peer[IF_NAMESIZE];		/* in peer_ns */
	char stale_entry[64];		/* a fake /run/netns file, if made */
	struct nc_netns netns;
	int saved;			/* >= 0 while the test thread is in ns */
	int ifindex;			/* of dev, in ns */
};

static struct {
	int pass, pass2, drop, foreign;
	char skip_reason[128];
} progs = { -1, -1, -1, -1, "" };

/* ---- shell helpers ---------------------------------------------------- */

static int __attribute__((format(printf, 2, 3))) sh(bool quiet, const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (quiet) {
		char wrapped[sizeof(cmd) + 32];

		snprintf(wrapped, sizeof(wrapped), "{ %s; } >/dev/null 2>&1", cmd);
		rc = system(wrapped);
	} else {
		rc = system(cmd);
	}
	return rc == -1 ? -1 : WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

/* Output of a command run in the test namespace (stderr included). */
static void __attribute__((format(printf, 4, 5)))
in_ns_output(const struct fixture *f, char *buf, size_t len, const char *fmt, ...)
{
	char cmd[1024], args[768];
	size_t n = 0;
	va_list ap;
	FILE *p;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "nsenter --net=/run/netns/%s %s 2>&1", f->ns, args);
	buf[0] = '\0';
	p = popen(cmd, "r");
	if (!p)
		return;
	while (n + 1 < len) {
		size_t got = fread(buf + n, 1, len - n - 1, p);

		if (!got)
			break;
		n += got;
	}
	buf[n] = '\0';
	pclose(p);
}

static bool has_qdisc(const struct fixture *f, const char *kind)
{
	char out[4096], needle[64];

	in_ns_output(f, out, sizeof(out), "tc qdisc show dev %s", f->dev);
	snprintf(needle, sizeof(needle), "qdisc %s ", kind);
	return strstr(out, needle) != NULL;
}

/* Lines of `tc filter show` for dir that carry a filter (not a chain head). */
static int count_filters(const struct fixture *f, const char *dir)
{
	char out[8192], *line, *save = NULL;
	int n = 0;

	in_ns_output(f, out, sizeof(out), "tc filter show dev %s %s", f->dev, dir);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		n += strstr(line, " handle ") != NULL;
	return n;
}

/* The program at our handle and priority on dir, "" when there is none. */
static const char *filter_prog_at_our_handle(const struct fixture *f, const char *dir)
{
	static char name[64];
	char out[8192], needle[32], *line, *save = NULL, *p;

	snprintf(needle, sizeof(needle), " handle %#x ", NC_TC_HANDLE);
	name[0] = '\0';
	in_ns_output(f, out, sizeof(out), "tc filter show dev %s %s", f->dev, dir);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strstr(line, needle) || !strstr(line, " pref 1 "))
			continue;
		p = strstr(line, " name ");
		if (p && sscanf(p, " name %63s", name) == 1)
			break;
	}
	return name;
}

/* ---- BPF programs ------------------------------------------------------- */

static int load_prog(const char *name, int verdict)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = verdict },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, name, "GPL", insns, 2, NULL);
}

static int group_setup(void **state)
{
	(void)state;
	nc_log_init(getenv("NC_TEST_VERBOSE") ? NC_LOG_DEBUG : NC_LOG_ERR);
	if (geteuid() != 0) {
		snprintf(progs.skip_reason, sizeof(progs.skip_reason), "needs root");
		return 0;
	}
	progs.pass = load_prog("nc_tc_test", -1);	/* TC_ACT_UNSPEC */
	progs.pass2 = load_prog("nc_tc_test2", -1);
	progs.drop = load_prog("nc_tc_drop", 2);	/* TC_ACT_SHOT */
	progs.foreign = load_prog("other_tool", -1);
	if (progs.pass < 0 || progs.pass2 < 0 || progs.drop < 0 || progs.foreign < 0)
		snprintf(progs.skip_reason, sizeof(progs.skip_reason),
			 "cannot load a SCHED_CLS program: %s", strerror(errno));
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (progs.pass >= 0)
		close(progs.pass);
	if (progs.pass2 >= 0)
		close(progs.pass2);
	if (progs.drop >= 0)
		close(progs.drop);
	if (progs.foreign >= 0)
		close(progs.foreign);
	return 0;
}

/* ---- per-test namespaces ----------------------------------------------- */

static int setup_ns(void **state)
{
	struct fixture *f;
	char err[256];
	int pid = getpid();

	f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	*state = f;
	f->saved = -1;
	f->netns.fd = -1;
	if (progs.skip_reason[0])
		return 0;

	snprintf(f->ns, sizeof(f->ns), "nct%d", pid);
	snprintf(f->peer_ns, sizeof(f->peer_ns), "nct%dp", pid);
	snprintf(f->dev, sizeof(f->dev), "ncta%d", pid);
	snprintf(f->peer, sizeof(f->peer), "nctb%d", pid);
	/* Leftovers of an earlier run killed with this pid. */
	sh(true, "ip netns del %s; ip netns del %s", f->ns, f->peer_ns);

	if (sh(false, "ip netns add %s && ip netns add %s", f->ns, f->peer_ns) ||
	    sh(false, "ip -n %s link add %s type veth peer name %s netns %s", f->ns, f->dev,
	       f->peer, f->peer_ns) ||
	    sh(false, "ip -n %s link set lo up && ip -n %s link set %s up && "
		      "ip -n %s addr add " DEV_ADDR "/24 dev %s",
	       f->ns, f->ns, f->dev, f->ns, f->dev) ||
	    sh(false, "ip -n %s link set %s up && ip -n %s addr add " PEER_ADDR "/24 dev %s",
	       f->peer_ns, f->peer, f->peer_ns, f->peer)) {
		fprintf(stderr, "# cannot build the test namespaces\n");
		return -1;
	}
	if (nc_netns_open(f->ns, &f->netns, err, sizeof(err))) {
		fprintf(stderr, "# %s\n", err);
		return -1;
	}
	return 0;
}

static int setup_entered(void **state)
{
	struct fixture *f;

	if (setup_ns(state))
		return -1;
	f = *state;
	if (progs.skip_reason[0])
		return 0;
	if (nc_netns_enter(&f->netns, &f->saved))
		return -1;
	f->ifindex = if_nametoindex(f->dev);
	return f->ifindex > 0 ? 0 : -1;
}

/* The tc tests: clsact and cls_bpf, whatever the kernel offers. */
static int setup_tc(void **state)
{
	nc_attach_set_mode(NC_ATTACH_TC);
	return setup_entered(state);
}

/* The tcx tests: skipped where the kernel has no tcx. */
static int setup_tcx(void **state)
{
	nc_attach_set_mode(NC_ATTACH_TCX);
	return setup_entered(state);
}

static int teardown_ns(void **state)
{
	struct fixture *f = *state;

	if (!f)
		return 0;
	if (f->saved >= 0 && nc_netns_leave(f->saved))
		fprintf(stderr, "# could not leave the test namespace\n");
	nc_netns_close(&f->netns);
	if (f->ns[0])
		sh(true, "ip netns del %s; ip netns del %s", f->ns, f->peer_ns);
	if (f->stale_entry[0])
		unlink(f->stale_entry);
	free(f);
	return 0;
}

#define SKIP_IF_NEEDED()                                                    \
	do {                                                                \
		if (progs.skip_reason[0]) {                                 \
			printf("# SKIP %s\n", progs.skip_reason);           \
			skip();                                             \
		}                                                           \
	} while (0)

/* Attach a program by hand, as another tool (or a crashed agent) would. */
static void attach_by_hand(int ifindex, enum bpf_tc_attach_point ap, int fd, __u32 handle,
			   __u32 prio)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = fd, .handle = handle,
			    .priority = prio);
	int err = bpf_tc_hook_create(&hook);

	assert_true(err == 0 || err == -EEXIST);
	hook.attach_point = ap;
	assert_int_equal(bpf_tc_attach(&hook, &opts), 0);
}

static ino_t current_netns_ino(void)
{
	struct stat st;

	if (stat("/proc/thread-self/ns/net", &st))
		return 0;
	return st.st_ino;
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1e3 + (t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* ---- nc_netns ----------------------------------------------------------- */

static void test_netns_open_by_name_and_path(void **state)
{
	struct fixture *f = *state;
	struct nc_netns by_path, own, own_null, bad;
	char err[256], want[512], path[128], longname[NC_NETNS_MAX + 8];
	int pid = getpid();

	SKIP_IF_NEEDED();
	/* setup_ns opened f->ns by name */
	assert_true(f->netns.fd >= 0);
	assert_string_equal(f->netns.name, f->ns);
	assert_true(fcntl(f->netns.fd, F_GETFD) & FD_CLOEXEC);

	snprintf(path, sizeof(path), "/run/netns/%s", f->ns);
	assert_int_equal(nc_netns_open(path, &by_path, err, sizeof(err)), 0);
	assert_true(nc_netns_same(&by_path, &f->netns));
	assert_string_equal(by_path.name, path);

	assert_int_equal(nc_netns_open("", &own, err, sizeof(err)), 0);
	assert_int_equal(nc_netns_open(NULL, &own_null, err, sizeof(err)), 0);
	assert_string_equal(own.name, "");
	assert_true(nc_netns_same(&own, &own_null));
	assert_false(nc_netns_same(&own, &f->netns));
	assert_true(own.ino == current_netns_ino());
	nc_netns_close(&own_null);
	nc_netns_close(&own);
	nc_netns_close(&by_path);
	assert_int_equal(by_path.fd, -1);

	/* unknown name */
	snprintf(path, sizeof(path), "ncnone%d", pid);
	assert_int_equal(nc_netns_open(path, &bad, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "network namespace '%s' not found (no /run/netns/%s)", path,
		 path);
	assert_string_equal(err, want);
	assert_int_equal(bad.fd, -1);

	/* unknown path */
	assert_int_equal(nc_netns_open("/nonexistent/netns", &bad, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "network namespace '/nonexistent/netns' not found");

	/* a regular file */
	snprintf(path, sizeof(path), "/tmp/nctfile%d", pid);
	assert_int_equal(sh(true, "echo x > %s", path), 0);
	assert_int_equal(nc_netns_open(path, &bad, err, sizeof(err)), -ENOENT);
	unlink(path);
	snprintf(want, sizeof(want), "'%s' is not a network namespace", path);
	assert_string_equal(err, want);

	/* a FIFO: a plain open() would block here forever */
	snprintf(path, sizeof(path), "/tmp/nctfifo%d", pid);
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(5);
	assert_int_equal(nc_netns_open(path, &bad, err, sizeof(err)), -ENOENT);
	alarm(0);
	unlink(path);
	assert_non_null(strstr(err, "is not a network namespace"));

	/* a namespace, but not a network one */
	assert_int_equal(nc_netns_open("/proc/self/ns/uts", &bad, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "'/proc/self/ns/uts' is not a network namespace");

	/* a /run/netns entry whose namespace mount is gone */
	snprintf(f->stale_entry, sizeof(f->stale_entry), "/run/netns/ncstale%d", pid);
	assert_int_equal(sh(true, "touch %s", f->stale_entry), 0);
	assert_int_equal(nc_netns_open(f->stale_entry + strlen("/run/netns/"), &bad, err,
				       sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "is not a network namespace (stale entry"));

	/* names that would escape /run/netns or overflow */
	assert_int_equal(nc_netns_open("..", &bad, err, sizeof(err)), -EINVAL);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(nc_netns_open(longname, &bad, err, sizeof(err)), -ENAMETOOLONG);
}

static void test_netns_enter_leave_and_links(void **state)
{
	struct fixture *f = *state;
	struct nc_link *links = NULL;
	bool tun = false, saw_lo = false, saw_dev = false, saw_tun = false;
	ino_t home;
	size_t n, i;
	int saved;

	SKIP_IF_NEEDED();
	tun = sh(true, "ip -n %s tuntap add mode tun name nctun0", f->ns) == 0;
	if (!tun)
		printf("# no tun device: the unsupported-link check is skipped\n");

	home = current_netns_ino();
	assert_int_equal(nc_netns_enter(&f->netns, &saved), 0);
	assert_true(current_netns_ino() == f->netns.ino);
	assert_true(fcntl(saved, F_GETFD) & FD_CLOEXEC);

	assert_int_equal(nc_links_list(&links, &n), 0);
	f->ifindex = if_nametoindex(f->dev);
	assert_int_equal(n, tun ? 3 : 2); /* lo, dev (the peer is elsewhere) */
	for (i = 0; i < n; i++) {
		const struct nc_link *l = &links[i];

		if (i)
			assert_true(links[i - 1].ifindex < l->ifindex);
		if (!strcmp(l->name, "lo")) {
			saw_lo = true;
			assert_int_equal(l->arptype, ARPHRD_LOOPBACK);
			assert_true(l->up);
			assert_true(nc_link_supported(l));
		} else if (!strcmp(l->name, f->dev)) {
			saw_dev = true;
			assert_int_equal(l->ifindex, f->ifindex);
			assert_int_equal(l->arptype, ARPHRD_ETHER);
			assert_true(l->up);
			assert_true(nc_link_supported(l));
		} else if (!strcmp(l->name, "nctun0")) {
			saw_tun = true;
			assert_int_equal(l->arptype, ARPHRD_NONE);
			assert_false(l->up);
			assert_false(nc_link_supported(l));
		}
	}
	free(links);
	assert_true(saw_lo && saw_dev && saw_tun == tun);

	assert_int_equal(nc_netns_leave(saved), 0);
	assert_true(current_netns_ino() == home);
}

/* ---- nc_attach / nc_detach ---------------------------------------------- */

static void test_attach_detach_owns_clsact(void **state)
{
	struct fixture *f = *state;
	struct nc_attachment a;
	struct timespec t0;
	double t_attach, t_detach;
	bool stale;

	SKIP_IF_NEEDED();
	assert_false(has_qdisc(f, "clsact"));

	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(nc_attach(f->ifindex, f->dev, progs.pass, progs.pass, &a), 0);
	t_attach = ms_since(&t0);
	assert_true(a.created_clsact && a.egress && a.ingress);
	assert_int_equal(a.ifindex, f->ifindex);
	assert_string_equal(a.ifname, f->dev);
	assert_true(has_qdisc(f, "clsact"));
	assert_string_equal(filter_prog_at_our_handle(f, "egress"), "nc_tc_test");
	assert_string_equal(filter_prog_at_our_handle(f, "ingress"), "nc_tc_test");
	assert_int_equal(count_filters(f, "egress"), 1);
	assert_int_equal(count_filters(f, "ingress"), 1);
	assert_int_equal(nc_attach_find_stale(f->ifindex, &stale), 0);
	assert_true(stale);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(nc_detach(&a), 0);
	t_detach = ms_since(&t0);
	assert_false(a.created_clsact || a.egress || a.ingress);
	assert_int_equal(count_filters(f, "egress"), 0);
	assert_int_equal(count_filters(f, "ingress"), 0);
	assert_false(has_qdisc(f, "clsact"));
	printf("# attach (creating clsact) %.2f ms, detach (removing it) %.2f ms\n", t_attach,
	       t_detach);

	/* a second detach has nothing left to do */
	assert_int_equal(nc_detach(&a), 0);
}

/* UDP from dev to the peer namespace: true when it arrives. */
static bool udp_delivered(struct fixture *f)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(UDP_PORT) };
	struct timeval tv = { .tv_sec = 0, .tv_usec = 500000 };
	struct nc_netns peer;
	char err[256], buf[8];
	int rx, tx, saved;
	ssize_t got;

	inet_pton(AF_INET, PEER_ADDR, &to.sin_addr);
	assert_int_equal(nc_netns_open(f->peer_ns, &peer, err, sizeof(err)), 0);
	assert_int_equal(nc_netns_enter(&peer, &saved), 0);
	rx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(rx >= 0);
	assert_int_equal(bind(rx, (struct sockaddr *)&to, sizeof(to)), 0);
	assert_int_equal(nc_netns_leave(saved), 0);
	nc_netns_close(&peer);
	assert_int_equal(setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);

	tx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(tx >= 0);
	assert_int_equal(sendto(tx, "ping", 4, 0, (struct sockaddr *)&to, sizeof(to)), 4);
	got = recv(rx, buf, sizeof(buf), 0);
	close(tx);
	close(rx);
	return got == 4;
}

static void test_attach_is_in_the_datapath(void **state)
{
	struct fixture *f = *state;
	struct nc_attachment a;

	SKIP_IF_NEEDED();
	assert_true(udp_delivered(f));
	assert_int_equal(nc_attach(f->ifindex, f->dev, progs.drop, progs.pass, &a), 0);
	assert_false(udp_delivered(f));
	assert_int_equal(nc_detach(&a), 0);
	assert_true(udp_delivered(f));
}

static void test_detach_keeps_clsact_it_did_not_create(void **state)
{
	struct fixture *f = *state;
	struct nc_attachment a;

	SKIP_IF_NEEDED();
	assert_int_equal(sh(false, "nsenter --net=/run/netns/%s tc qdisc add dev %s clsact",
			    f->ns, f->dev), 0);
	assert_int_equal(nc_attach(f->ifindex, f->dev, progs.pass, progs.pass, &a), 0);
	assert_false(a.created_clsact);
	assert_string_equal(filter_prog_at_our_handle(f, "egress"), "nc_tc_test");
	assert_string_equal(filter_prog_at_our_handle(f, "ingress"), "nc_tc_test");
	assert_int_equal(nc_detach(&a), 0);
	assert_int_equal(count_filters(f, "egress"), 0);
	assert_int_equal(count_filters(f, "ingress"), 0);
	assert_true(has_qdisc(f, "clsact"));
}

static void test_detach_keeps_clsact_with_other_filters(void **state)
{
	struct fixture *f = *state;
	struct nc_attachment a;

	SKIP_IF_NEEDED();
	assert_int_equal(nc_attach(f->ifindex, f->dev, progs.pass, progs.pass, &a), 0);
	assert_true(a.created_clsact);
	/* another tool attaches behind us while we are there */
	attach_by_hand(f->ifindex, BPF_TC_INGRESS, progs.foreign, 7, 200);
	assert_int_equal(nc_detach(&a), 0);
	assert_true(has_qdisc(f, "clsact"));
	assert_int_equal(count_filters(f, "egress"), 0);
	assert_int_equal(count_filters(f, "ingress"), 1);
	assert_string_equal(filter_prog_at_our_handle(f, "ingress"), "");
}

static void test_attach_refuses_foreign_filter_at_our_handle(void **state)
{
	struct fixture *f = *state;
	struct nc_attachment a;
	bool stale;

	SKIP_IF_NEEDED();
	attach_by_hand(f->ifindex, BPF_TC_INGRESS, progs.foreign, NC_TC_HANDLE, NC_TC_PRIORITY);
	/* egress goes in first, then ingress fails: egress must be undone */
	assert_int_equal(nc_attach(f->ifindex, f->dev, progs.pass, progs.pass, &a), -EBUSY);
	assert_false(a.created_clsact || a.egress || a.ingress);
	assert_int_equal(count_filters(f, "egress"), 0);
	assert_string_equal(filter_prog_at_our_handle(f, "ingress"), "other_tool");
	assert_true(has_qdisc(f, "clsact"));

	/* not ours, so not a leftover either */
	assert_int_equal(nc_attach_find_stale(f->ifindex, &stale), 0);
	assert_false(stale);
	assert_int_equal(nc_attach_remove_stale(f->ifindex, f->dev), 0);
	assert_string_equal(filter_prog_at_our_handle(f, "ingress"), "other_tool");
	assert_true(has_qdisc(f, "clsact"));
}

static void test_attach_failure_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	struct nc_attachment a;
	int not_a_prog;

	SKIP_IF_NEEDED();
	not_a_prog = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(not_a_prog >= 0);
	/* egress attaches, ingress fails: the egress filter and the clsact
	 * this call created must both go */
	assert_true(nc_attach(f->ifindex, f->dev, progs.pass, not_a_prog, &a) < 0);
	close(not_a_prog);
	assert_false(a.created_clsact || a.egress || a.ingress);
	assert_int_equal(count_filters(f, "egress"), 0);
	assert_int_equal(count_filters(f, "ingress"), 0);
	assert_false(has_qdisc(f, "clsact"));
}

static void test_attach_refuses_plain_ingress_qdisc(void **state)
{
	struct fixture *f = *state;
	struct nc_attachment a;

	SKIP_IF_NEEDED();
	/* Same slot as clsact, no egress hook: the kernel would file our
	 * egress filter under ingress without an error. */
	assert_int_equal(sh(false, "nsenter --net=/run/netns/%s tc qdisc add dev %s ingress",
			    f->ns, f->dev), 0);
	assert_int_equal(nc_attach(f->ifindex, f->dev, progs.pass, progs.pass, &a), -EBUSY);
	assert_true(has_qdisc(f, "ingress"));
	assert_int_equal(count_filters(f, "ingress"), 0);
}

static void test_attach_twice_replaces(void **state)
{
	struct fixture *f = *state;
	struct nc_attachment first, second;

	SKIP_IF_NEEDED();
	assert_int_equal(nc_attach(f->ifindex, f->dev, progs.pass, progs.pass, &first), 0);
	assert_true(first.created_clsact);
	/* an agent that lost track of the first attachment */
	assert_int_equal(nc_attach(f->ifindex, f->dev, progs.pass2, progs.pass2, &second), 0);
	assert_false(second.created_clsact);
	assert_true(second.egress && second.ingress);
	assert_string_equal(filter_prog_at_our_handle(f, "egress"), "nc_tc_test2");
	assert_string_equal(filter_prog_at_our_handle(f, "ingress"), "nc_tc_test2");
	assert_int_equal(count_filters(f, "egress"), 1);
	assert_int_equal(count_filters(f, "ingress"), 1);

	assert_int_equal(nc_detach(&second), 0);
	assert_int_equal(count_filters(f, "egress"), 0);
	assert_int_equal(count_filters(f, "ingress"), 0);
	assert_true(has_qdisc(f, "clsact"));
	/* the filters are gone already; the clsact is still the first's */
	assert_int_equal(nc_detach(&first), 0);
	assert_false(has_qdisc(f, "clsact"));
}

static void test_stale_find_and_remove(void **state)
{
	struct fixture *f = *state;
	struct nc_attachment crashed;
	bool stale = true;

	SKIP_IF_NEEDED();
	assert_int_equal(nc_attach_find_stale(f->ifindex, &stale), 0);
	assert_false(stale);
	assert_int_equal(nc_attach_remove_stale(f->ifindex, f->dev), 0);

	/* attach, then "crash": the attachment record is lost */
	assert_int_equal(nc_attach(f->ifindex, f->dev, progs.pass, progs.pass, &crashed), 0);
	assert_int_equal(nc_attach_find_stale(f->ifindex, &stale), 0);
	assert_true(stale);
	assert_int_equal(nc_attach_remove_stale(f->ifindex, f->dev), 0);
	assert_int_equal(nc_attach_find_stale(f->ifindex, &stale), 0);
	assert_false(stale);
	assert_int_equal(count_filters(f, "egress"), 0);
	assert_int_equal(count_filters(f, "ingress"), 0);
	assert_false(has_qdisc(f, "clsact"));

	/* only one direction left behind, next to another tool's filter */
	attach_by_hand(f->ifindex, BPF_TC_EGRESS, progs.pass, NC_TC_HANDLE, NC_TC_PRIORITY);
	attach_by_hand(f->ifindex, BPF_TC_EGRESS, progs.foreign, 7, 200);
	assert_int_equal(nc_attach_find_stale(f->ifindex, &stale), 0);
	assert_true(stale);
	assert_int_equal(nc_attach_remove_stale(f->ifindex, f->dev), 0);
	assert_string_equal(filter_prog_at_our_handle(f, "egress"), "");
	assert_int_equal(count_filters(f, "egress"), 1);
	assert_true(has_qdisc(f, "clsact"));
}

static void test_detach_after_interface_deleted(void **state)
{
	struct fixture *f = *state;
	struct nc_attachment a;
	bool stale;

	SKIP_IF_NEEDED();
	assert_int_equal(nc_attach(f->ifindex, f->dev, progs.pass, progs.pass, &a), 0);
	assert_int_equal(sh(false, "ip -n %s link del %s", f->ns, f->dev), 0);
	assert_int_equal(if_nametoindex(f->dev), 0);
	assert_int_equal(nc_detach(&a), 0);
	assert_false(a.created_clsact || a.egress || a.ingress);
	assert_int_equal(nc_attach_remove_stale(f->ifindex, f->dev), 0);
	assert_int_equal(nc_attach_find_stale(f->ifindex, &stale), -ENODEV);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void test_attach_detach_cycles(void **state)
{
	struct fixture *f = *state;
	double t_attach[TIMING_ROUNDS], t_detach[TIMING_ROUNDS];
	struct nc_attachment a;
	struct timespec t0;
	int i;

	SKIP_IF_NEEDED();
	for (i = 0; i < TIMING_ROUNDS; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		assert_int_equal(nc_attach(f->ifindex, f->dev, progs.pass, progs.pass, &a), 0);
		t_attach[i] = ms_since(&t0);
		assert_true(a.created_clsact);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		assert_int_equal(nc_detach(&a), 0);
		t_detach[i] = ms_since(&t0);
	}
	assert_false(has_qdisc(f, "clsact"));
	qsort(t_attach, TIMING_ROUNDS, sizeof(double), cmp_double);
	qsort(t_detach, TIMING_ROUNDS, sizeof(double), cmp_double);
	printf("# %d cycles: attach median %.2f ms (min %.2f, max %.2f), "
	       "detach median %.2f ms (min %.2f, max %.2f)\n",
	       TIMING_ROUNDS, t_attach[TIMING_ROUNDS / 2], t_attach[0],
	       t_attach[TIMING_ROUNDS - 1], t_detach[TIMING_ROUNDS / 2], t_detach[0],
	       t_detach[TIMING_ROUNDS - 1]);
}

/* ---- tcx ------------------------------------------------------------------ */

/* Programs tcx runs on ifindex in one direction (-EINVAL: no tcx here). */
static int tcx_count(int ifindex, int type)
{
	__u32 ids[16], cnt = 16, flags = 0;

	if (bpf_prog_query(ifindex, type, 0, &flags, ids, &cnt))
		return -errno;
	return (int)cnt;
}

#define SKIP_WITHOUT_TCX()                                                          \
	do {                                                                        \
		SKIP_IF_NEEDED();                                                   \
		if (tcx_count(f->ifindex, NC_BPF_TCX_EGRESS) == -EINVAL) {          \
			printf("# SKIP no tcx in kernel (needs 6.6)\n");            \
			skip();                                                     \
		}                                                                   \
	} while (0)

static void test_tcx_attach_detach(void **state)
{
	struct fixture *f = *state;
	struct nc_attachment a;

	SKIP_WITHOUT_TCX();
	assert_true(udp_delivered(f));
	assert_int_equal(nc_attach(f->ifindex, f->dev, progs.drop, progs.pass, &a), 0);
	assert_true(a.tcx && a.egress && a.ingress);
	assert_false(a.created_clsact);
	assert_string_equal(nc_attach_mode_name(), "tcx");
	/* no qdisc: nothing grafted on the device */
	assert_false(has_qdisc(f, "clsact"));
	assert_int_equal(tcx_count(f->ifindex, NC_BPF_TCX_EGRESS), 1);
	assert_int_equal(tcx_count(f->ifindex, NC_BPF_TCX_INGRESS), 1);
	assert_false(udp_delivered(f)); /* the egress program drops */
	assert_int_equal(nc_detach(&a), 0);
	assert_false(a.tcx || a.egress || a.ingress);
	assert_int_equal(tcx_count(f->ifindex, NC_BPF_TCX_EGRESS), 0);
	assert_int_equal(tcx_count(f->ifindex, NC_BPF_TCX_INGRESS), 0);
	assert_true(udp_delivered(f));
	assert_int_equal(nc_detach(&a), 0); /* nothing left to do */
}

/* Another tool's clsact filter still runs after our tcx program, and stays. */
static void test_tcx_leaves_other_filters_alone(void **state)
{
	struct fixture *f = *state;
	struct nc_attachment a;

	SKIP_WITHOUT_TCX();
	attach_by_hand(f->ifindex, BPF_TC_EGRESS, progs.drop, 7, 7);
	assert_false(udp_delivered(f));
	assert_int_equal(nc_attach(f->ifindex, f->dev, progs.pass, progs.pass, &a), 0);
	assert_true(a.tcx);
	assert_false(udp_delivered(f)); /* ours said "next": the filter still drops */
	assert_int_equal(nc_detach(&a), 0);
	assert_true(has_qdisc(f, "clsact"));
	assert_int_equal(count_filters(f, "egress"), 1);
}

static void test_tcx_attach_failure_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	struct nc_attachment a;
	int not_a_prog;

	SKIP_WITHOUT_TCX();
	not_a_prog = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(not_a_prog >= 0);
	assert_true(nc_attach(f->ifindex, f->dev, progs.pass, not_a_prog, &a) < 0);
	close(not_a_prog);
	assert_false(a.tcx || a.egress || a.ingress);
	assert_int_equal(tcx_count(f->ifindex, NC_BPF_TCX_EGRESS), 0);
	assert_int_equal(tcx_count(f->ifindex, NC_BPF_TCX_INGRESS), 0);
	assert_false(has_qdisc(f, "clsact"));
}

/* A process that dies with its links attached leaves nothing behind. */
static void test_tcx_links_die_with_the_process(void **state)
{
	struct fixture *f = *state;
	int status;
	pid_t pid;

	SKIP_WITHOUT_TCX();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct nc_attachment a;

		/* attached, and killed without detaching */
		if (nc_attach(f->ifindex, f->dev, progs.drop, progs.drop, &a) ||
		    tcx_count(f->ifindex, NC_BPF_TCX_EGRESS) != 1)
			_exit(1);
		raise(SIGKILL);
		_exit(2);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* link release is immediate on the last fd's close */
	assert_int_equal(tcx_count(f->ifindex, NC_BPF_TCX_EGRESS), 0);
	assert_int_equal(tcx_count(f->ifindex, NC_BPF_TCX_INGRESS), 0);
	assert_true(udp_delivered(f));
}

static void test_tcx_attach_detach_cycles(void **state)
{
	struct fixture *f = *state;
	double t_attach[TIMING_ROUNDS], t_detach[TIMING_ROUNDS];
	struct nc_attachment a;
	struct timespec t0;
	int i;

	SKIP_WITHOUT_TCX();
	for (i = 0; i < TIMING_ROUNDS; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		assert_int_equal(nc_attach(f->ifindex, f->dev, progs.pass, progs.pass, &a), 0);
		t_attach[i] = ms_since(&t0);
		assert_true(a.tcx);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		assert_int_equal(nc_detach(&a), 0);
		t_detach[i] = ms_since(&t0);
	}
	assert_int_equal(tcx_count(f->ifindex, NC_BPF_TCX_EGRESS), 0);
	qsort(t_attach, TIMING_ROUNDS, sizeof(double), cmp_double);
	qsort(t_detach, TIMING_ROUNDS, sizeof(double), cmp_double);
	printf("# tcx, %d cycles: attach median %.3f ms (max %.3f), detach median %.3f ms "
	       "(max %.3f)\n",
	       TIMING_ROUNDS, t_attach[TIMING_ROUNDS / 2], t_attach[TIMING_ROUNDS - 1],
	       t_detach[TIMING_ROUNDS / 2], t_detach[TIMING_ROUNDS - 1]);
}

/* auto: tcx where the kernel has it, else tc, and says which. */
static void test_auto_mode(void **state)
{
	struct fixture *f = *state;
	struct nc_attachment a;
	bool tcx;

	SKIP_IF_NEEDED();
	nc_attach_set_mode(NC_ATTACH_AUTO);
	assert_string_equal(nc_attach_mode_name(), "auto");
	tcx = tcx_count(f->ifindex, NC_BPF_TCX_EGRESS) != -EINVAL;
	assert_int_equal(nc_attach(f->ifindex, f->dev, progs.pass, progs.pass, &a), 0);
	assert_int_equal(a.tcx, tcx);
	assert_string_equal(nc_attach_mode_name(), tcx ? "tcx" : "tc");
	assert_int_equal(has_qdisc(f, "clsact"), !tcx);
	assert_int_equal(nc_detach(&a), 0);
	assert_false(has_qdisc(f, "clsact"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_netns_open_by_name_and_path, setup_ns,
						teardown_ns),
		cmocka_unit_test_setup_teardown(test_netns_enter_leave_and_links, setup_ns,
						teardown_ns),
		cmocka_unit_test_setup_teardown(test_attach_detach_owns_clsact, setup_tc,
						teardown_ns),
		cmocka_unit_test_setup_teardown(test_attach_is_in_the_datapath, setup_tc,
						teardown_ns),
		cmocka_unit_test_setup_teardown(test_detach_keeps_clsact_it_did_not_create,
						setup_tc, teardown_ns),
		cmocka_unit_test_setup_teardown(test_detach_keeps_clsact_with_other_filters,
						setup_tc, teardown_ns),
		cmocka_unit_test_setup_teardown(test_attach_refuses_foreign_filter_at_our_handle,
						setup_tc, teardown_ns),
		cmocka_unit_test_setup_teardown(test_attach_failure_leaves_nothing, setup_tc,
						teardown_ns),
		cmocka_unit_test_setup_teardown(test_attach_refuses_plain_ingress_qdisc,
						setup_tc, teardown_ns),
		cmocka_unit_test_setup_teardown(test_attach_twice_replaces, setup_tc,
						teardown_ns),
		cmocka_unit_test_setup_teardown(test_stale_find_and_remove, setup_tc,
						teardown_ns),
		cmocka_unit_test_setup_teardown(test_detach_after_interface_deleted,
						setup_tc, teardown_ns),
		cmocka_unit_test_setup_teardown(test_attach_detach_cycles, setup_tc,
						teardown_ns),
		cmocka_unit_test_setup_teardown(test_tcx_attach_detach, setup_tcx, teardown_ns),
		cmocka_unit_test_setup_teardown(test_tcx_leaves_other_filters_alone, setup_tcx,
						teardown_ns),
		cmocka_unit_test_setup_teardown(test_tcx_attach_failure_leaves_nothing, setup_tcx,
						teardown_ns),
		cmocka_unit_test_setup_teardown(test_tcx_links_die_with_the_process, setup_tcx,
						teardown_ns),
		cmocka_unit_test_setup_teardown(test_tcx_attach_detach_cycles, setup_tcx,
						teardown_ns),
		cmocka_unit_test_setup_teardown(test_auto_mode, setup_entered, teardown_ns),
	};

	setvbuf(stdout, NULL, _IONBF, 0); /* keep our "# " lines in order with cmocka's */
	return cmocka_run_group_tests_name("attach", tests, group_setup, group_teardown);
}
