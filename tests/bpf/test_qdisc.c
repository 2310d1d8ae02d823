// SPDX-License-Identifier: GPL-2.0-only
/*
 * agent/qdisc.c against the running kernel. Every test gets two fresh
 * network namespaces joined by a veth pair and checks the result with
 * iproute2 (tc, ip, run in the namespace with nsenter) and real UDP traffic.
 *
 * On a kernel without sch_netem (this host): the probe says so with the
 * kernel's reason, rule_add fails with the sch_netem message and leaves
 * nothing behind, and the undo path (the probe forced to "available") puts
 * every kind of root set-up back exactly. On a kernel with netem (the VM:
 * tests/vm/run.sh -- build/tests/test_qdisc) also: delay of steered vs
 * unsteered flows, in-place change, several rules, ingress through the IFB
 * with a small BPF redirect, rate, loss, and exact restores after real
 * rules. Restores are checked on `tc -d qdisc/class/filter show` output,
 * counters masked. Needs root.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/pkt_sched.h>

#include "log.h"
#include "netem.h"
#include "netns.h"
#include "qdisc.h"

#define DEV_ADDR  "192.0.2.1"
#define PEER_ADDR "192.0.2.2"
#define ECHO_PORT 47100
#define MS	  1000000ull
#define MISSING_MSG                                                                     \
	"sch_netem is not available in this kernel: Specified qdisc kind is unknown " \
	"(load the sch_netem module or use a kernel with CONFIG_NET_SCH_NETEM)"

struct fixture {
	char ns[32], peer_ns[32];
	char dev[IF_NAMESIZE], peer[IF_NAMESIZE];
	struct nc_netns netns;
	int saved;	/* >= 0 while the test thread is in ns */
	int ifindex;	/* of dev, in ns */
	pid_t echo;	/* UDP echo server in peer_ns */
	int bpf_fd;	/* the classifier stand-in of the ingress test */
};

static struct {
	bool netem;		/* the kernel has sch_netem */
	char reason[256];	/* the probe's, when it has not */
	char skip[320];		/* every test is skipped */
	int seq;
} g;

/* ---- shell helpers ------------------------------------------------------ */

static int __attribute__((format(printf, 1, 2))) sh(const char *fmt, ...)
{
	char cmd[1024], wrapped[1100];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(wrapped, sizeof(wrapped), "{ %s; } >/dev/null 2>&1", cmd);
	rc = system(wrapped);
	return rc == -1 ? -1 : WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

/* sh() in the test namespace. */
static int __attribute__((format(printf, 2, 3))) in_ns(const struct fixture *f, const char *fmt, ...)
{
	char args[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	return sh("nsenter --net=/run/netns/%s sh -c '%s'", f->ns, args);
}

/* Output (stderr included) of a shell command run in the test namespace. */
static void __attribute__((format(printf, 4, 5)))
ns_output(const struct fixture *f, char *buf, size_t len, const char *fmt, ...)
{
	char cmd[1100], args[900];
	size_t n = 0;
	va_list ap;
	FILE *p;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "nsenter --net=/run/netns/%s sh -c '%s' 2>&1", f->ns, args);
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

/* "direct_packets_stat 12" -> "direct_packets_stat N": a counter. */
static void mask_counters(char *s)
{
	static const char *const words[] = { "direct_packets_stat " };
	size_t w;
	char *p;

	for (w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
		for (p = strstr(s, words[w]); p; p = strstr(p, words[w])) {
			char *num = p + strlen(words[w]), *end = num;

			while (*end >= '0' && *end <= '9')
				end++;
			if (end > num) {
				*num = 'N';
				memmove(num + 1, end, strlen(end) + 1);
			}
			p = num;
		}
	}
}

/* Everything tc shows of dev's root set-up, counters masked. */
static void tc_state(const struct fixture *f, const char *dev, char *buf, size_t len)
{
	ns_output(f, buf, len,
		  "tc -d qdisc show dev %s; echo --; tc -d qdisc show dev %s invisible; echo --; "
		  "tc -d class show dev %s; echo --; tc -d filter show dev %s; echo --; "
		  "tc -d filter show dev %s parent 1:1 2>/dev/null; "
		  "tc -d filter show dev %s ingress 2>/dev/null",
		  dev, dev, dev, dev, dev, dev);
	mask_counters(buf);
}

static void print_block(const char *title, const char *text)
{
	const char *p = text, *nl;

	printf("# %s:\n", title);
	while (*p) {
		nl = strchr(p, '\n');
		printf("#   %.*s\n", (int)(nl ? nl - p : (long)strlen(p)), p);
		if (!nl)
			break;
		p = nl + 1;
	}
}

static void assert_same_state(const char *what, const char *before, const char *after)
{
	if (strcmp(before, after)) {
		printf("# %s: tc output differs\n", what);
		print_block("before", before);
		print_block("after", after);
		fail_msg("%s: the root set-up was not restored exactly", what);
	}
}

/*
 * dev's set-up is back to before: read it until it is, for up to 2 s. A
 * deleted filter's actions are freed after an RCU grace period, so right
 * after a restore that re-created a filter with the same action index, tc
 * may still count the old binding ("ref 2 bind 2") on a loaded machine.
 */
static void assert_state_back(const struct fixture *f, const char *dev, const char *what,
			      const char *before, char *after, size_t len)
{
	for (int i = 0; i < 20; i++) {
		tc_state(f, dev, after, len);
		if (!strcmp(before, after))
			return;
		usleep(100000);
	}
	assert_same_state(what, before, after);
}

static bool link_exists(const struct fixture *f, const char *name)
{
	return in_ns(f, "ip link show dev %s", name) == 0;
}

/* ---- fixture ------------------------------------------------------------ */

/* Once, before the groups: which of them apply to this kernel. */
static void group_setup(void)
{
	nc_log_init(getenv("NC_TEST_VERBOSE") ? NC_LOG_DEBUG : NC_LOG_ERR);
	if (geteuid() != 0) {
		snprintf(g.skip, sizeof(g.skip), "needs root");
		return;
	}
	if (nc_qdisc_probe_netem(&g.netem, g.reason, sizeof(g.reason))) {
		snprintf(g.skip, sizeof(g.skip), "the netem probe failed: %s", g.reason);
		return;
	}
	printf("# sch_netem %s%s%s\n", g.netem ? "available" : "not available",
	       g.netem ? "" : ": ", g.reason);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];
	int id = getpid() % 100000;

	if (!f)
		return -1;
	*state = f;
	f->saved = -1;
	f->netns.fd = -1;
	f->bpf_fd = -1;
	if (g.skip[0])
		return 0;
	g.seq++;
	snprintf(f->ns, sizeof(f->ns), "ncq%d_%d", id, g.seq);
	snprintf(f->peer_ns, sizeof(f->peer_ns), "ncq%d_%dp", id, g.seq);
	snprintf(f->dev, sizeof(f->dev), "ncqa%d", id);
	snprintf(f->peer, sizeof(f->peer), "ncqb%d", id);
	sh("ip netns del %s; ip netns del %s", f->ns, f->peer_ns);
	if (sh("ip netns add %s && ip netns add %s", f->ns, f->peer_ns) ||
	    sh("ip -n %s link add %s type veth peer name %s netns %s", f->ns, f->dev, f->peer,
	       f->peer_ns) ||
	    sh("ip -n %s link set lo up && ip -n %s link set %s up && "
	       "ip -n %s addr add " DEV_ADDR "/24 dev %s",
	       f->ns, f->ns, f->dev, f->ns, f->dev) ||
	    sh("ip -n %s link set lo up && ip -n %s link set %s up && "
	       "ip -n %s addr add " PEER_ADDR "/24 dev %s",
	       f->peer_ns, f->peer_ns, f->peer, f->peer_ns, f->peer)) {
		fprintf(stderr, "# cannot build the test namespaces\n");
		return -1;
	}
	if (nc_netns_open(f->ns, &f->netns, err, sizeof(err))) {
		fprintf(stderr, "# %s\n", err);
		return -1;
	}
	if (nc_netns_enter(&f->netns, &f->saved))
		return -1;
	f->ifindex = (int)if_nametoindex(f->dev);
	return f->ifindex > 0 ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (!f)
		return 0;
	nc_qdisc_probe_override(-1);
	if (f->bpf_fd >= 0)
		close(f->bpf_fd);
	if (f->echo > 0) {
		kill(f->echo, SIGKILL);
		waitpid(f->echo, NULL, 0);
	}
	if (f->saved >= 0 && nc_netns_leave(f->saved))
		fprintf(stderr, "# could not leave the test namespace\n");
	nc_netns_close(&f->netns);
	if (f->ns[0])
		sh("ip netns del %s; ip netns del %s", f->ns, f->peer_ns);
	free(f);
	return 0;
}

#define SKIP_IF(cond, ...)                         \
	do {                                       \
		if (cond) {                        \
			printf("# SKIP ");         \
			printf(__VA_ARGS__);       \
			printf("\n");              \
			skip();                    \
		}                                  \
	} while (0)
#define SKIP_IF_NEEDED() SKIP_IF(g.skip[0], "%s", g.skip)

/* ---- traffic ------------------------------------------------------------ */

/* A UDP echo server in the peer namespace. */
static void start_echo(struct fixture *f)
{
	int ready[2];
	char c;
	pid_t pid;

	assert_int_equal(pipe(ready), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(ECHO_PORT) };
		char path[64], buf[2048];
		int nsfd, s;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		snprintf(path, sizeof(path), "/run/netns/%s", f->peer_ns);
		nsfd = open(path, O_RDONLY);
		if (nsfd < 0 || setns(nsfd, CLONE_NEWNET))
			_exit(1);
		s = socket(AF_INET, SOCK_DGRAM, 0);
		if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)))
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		for (;;) {
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t n = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);

			if (n > 0)
				sendto(s, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
		}
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	f->echo = pid;
}

/* A UDP socket of the test namespace connected to the echo server, from
 * local port lport (0: any), with skb->priority prio (0: none). */
static int flow(uint16_t lport, uint32_t prio)
{
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(lport) };
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(ECHO_PORT) };
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	int p = (int)prio;

	assert_true(s >= 0);
	inet_pton(AF_INET, PEER_ADDR, &to.sin_addr);
	/* SO_PRIORITY sets skb->priority, as the BPF classifier will */
	if (prio)
		assert_int_equal(setsockopt(s, SOL_SOCKET, SO_PRIORITY, &p, sizeof(p)), 0);
	assert_int_equal(bind(s, (struct sockaddr *)&me, sizeof(me)), 0);
	assert_int_equal(connect(s, (struct sockaddr *)&to, sizeof(to)), 0);
	return s;
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median RTT in ms of n echoes, one at a time; -1 if half were lost. */
static double rtt_ms(int s, int n)
{
	double rtts[32];
	int got = 0, i;

	for (i = 0; i < n && i < 32; i++) {
		uint64_t seq = ((uint64_t)getpid() << 32) | (uint64_t)(g.seq * 1000 + i), back;
		double t0 = now_ms(), left;
		struct pollfd pfd = { .fd = s, .events = POLLIN };

		if (send(s, &seq, sizeof(seq), 0) != sizeof(seq))
			continue;
		for (left = 2000; left > 0; left = 2000 - (now_ms() - t0)) {
			if (poll(&pfd, 1, (int)left) <= 0)
				break;
			if (recv(s, &back, sizeof(back), 0) == sizeof(back) && back == seq) {
				rtts[got++] = now_ms() - t0;
				break;
			}
		}
	}
	if (got * 2 < n)
		return -1;
	qsort(rtts, (size_t)got, sizeof(rtts[0]), cmp_double);
	return rtts[got / 2];
}

static void assert_rtt_near(const char *what, double rtt, double want_ms, double base)
{
	double lo = want_ms * 0.9, hi = want_ms * 1.1 + base;

	printf("# %s: RTT %.1f ms (want %.0f ms +-10%%)\n", what, rtt, want_ms);
	if (rtt < lo || rtt > hi)
		fail_msg("%s: RTT %.1f ms, want %.1f..%.1f", what, rtt, lo, hi);
}

static void assert_rtt_fast(const char *what, double rtt)
{
	printf("# %s: RTT %.2f ms (want < 10 ms)\n", what, rtt);
	if (rtt < 0 || rtt >= 10)
		fail_msg("%s: RTT %.2f ms, want < 10 ms", what, rtt);
}

/* Packets of a netem qdisc so far, from `tc -s`: the change test checks the
 * qdisc lives on (its counters keep counting). */
static long netem_packets(const struct fixture *f, const char *dev, uint32_t minor)
{
	char out[4096], *p;
	long pkts = -1;

	ns_output(f, out, sizeof(out), "tc -s qdisc show dev %s parent %x:%x", dev,
		  NC_QDISC_MAJOR, minor);
	p = strstr(out, " Sent ");
	if (p && sscanf(p, " Sent %*s bytes %ld pkt", &pkts) != 1)
		pkts = -1;
	return pkts;
}

/* ---- the probe and the error path ---------------------------------------- */

static void test_probe(void **state)
{
	struct fixture *f = *state;
	char before[4096], after[4096], reason[256];
	bool ok;

	SKIP_IF_NEEDED();
	ns_output(f, before, sizeof(before), "ip -o link show; tc qdisc show");
	assert_int_equal(nc_qdisc_probe_netem(&ok, reason, sizeof(reason)), 0);
	assert_int_equal(ok, g.netem);
	if (!ok) {
		assert_string_equal(reason, "Specified qdisc kind is unknown");
	} else {
		assert_string_equal(reason, "");
		assert_int_equal(nc_qdisc_probe_netem(&ok, reason, sizeof(reason)), 0);
		assert_true(ok); /* cached */
	}
	/* a throw-away namespace: nothing here changed */
	ns_output(f, after, sizeof(after), "ip -o link show; tc qdisc show");
	assert_string_equal(before, after);
	nc_qdisc_probe_override(0);
	assert_int_equal(nc_qdisc_probe_netem(&ok, reason, sizeof(reason)), 0);
	assert_false(ok);
	nc_qdisc_probe_override(-1);
}

static void test_rule_add_without_netem(void **state)
{
	struct fixture *f = *state;
	struct nc_netem_params p = { .latency_ns = 100 * MS };
	char before[8192], after[8192], err[512], ifb[IF_NAMESIZE];
	uint32_t classid = 0;
	int redirect = -1;

	SKIP_IF_NEEDED();
	assert_int_equal(in_ns(f, "tc qdisc add dev %s root tbf rate 10mbit burst 32k latency 50ms",
			       f->dev), 0);
	tc_state(f, f->dev, before, sizeof(before));
	nc_qdisc_ifb_name(f->ifindex, ifb);

	assert_int_equal(nc_qdisc_rule_add(f->ifindex, false, 1, &p, &classid, &redirect, err,
					   sizeof(err)), -EOPNOTSUPP);
	assert_string_equal(err, MISSING_MSG);
	printf("# %s\n", err);
	assert_int_equal(nc_qdisc_rule_add(f->ifindex, true, 1, &p, &classid, &redirect, err,
					   sizeof(err)), -EOPNOTSUPP);
	assert_string_equal(err, MISSING_MSG);
	assert_int_equal(classid, 0);
	assert_int_equal(redirect, -1);
	assert_state_back(f, f->dev, "failed rule_add", before, after, sizeof(after));
	assert_false(link_exists(f, ifb));
	/* nothing recorded either */
	assert_int_equal(nc_qdisc_rule_del(f->ifindex, false, 1), -ENOENT);
	assert_int_equal(nc_qdisc_rule_change(f->ifindex, true, 1, &p, err, sizeof(err)), -ENOENT);
}

/* The probe forced to "yes": the netem leaf fails after the tree is built,
 * and the undo must put every kind of set-up back. */
static void undo_case(struct fixture *f, const char *what, const char *setup_cmds)
{
	struct nc_netem_params p = { .latency_ns = 10 * MS };
	char before[8192], after[8192], err[512], ifb[IF_NAMESIZE];
	uint32_t classid;
	int redirect;

	in_ns(f, "tc qdisc del dev %s root", f->dev);
	if (setup_cmds[0] && in_ns(f, "D=%s; %s", f->dev, setup_cmds) != 0) {
		printf("# %s: set-up not supported by this kernel, skipped\n", what);
		return;
	}
	tc_state(f, f->dev, before, sizeof(before));
	assert_int_equal(nc_qdisc_rule_add(f->ifindex, false, 7, &p, &classid, &redirect, err,
					   sizeof(err)), -EOPNOTSUPP);
	assert_string_equal(err, MISSING_MSG);
	assert_state_back(f, f->dev, what, before, after, sizeof(after));
	nc_qdisc_ifb_name(f->ifindex, ifb);
	assert_int_equal(nc_qdisc_rule_add(f->ifindex, true, 7, &p, &classid, &redirect, err,
					   sizeof(err)), -EOPNOTSUPP);
	assert_false(link_exists(f, ifb));
	/* no steering filter, no clsact left either */
	assert_state_back(f, f->dev, what, before, after, sizeof(after));
	printf("# undo exact: %s\n", what);
}

/* act_mirred is loaded first: its autoload makes the kernel retry the
 * request, which uses up one of the u32 table numbers the kernel hands out,
 * and a restore cannot reproduce such a gap (see agent/qdisc.c). */
#define USER_HTB                                                                      \
	"modprobe -q act_mirred 2>/dev/null; "                                         \
	"tc qdisc add dev $D root handle 1: htb default 20 && "                        \
	"tc class add dev $D parent 1: classid 1:1 htb rate 100mbit && "               \
	"tc class add dev $D parent 1:1 classid 1:10 htb rate 50mbit ceil 100mbit && " \
	"tc class add dev $D parent 1:1 classid 1:20 htb rate 10mbit ceil 100mbit prio 2 && " \
	"tc qdisc add dev $D parent 1:10 handle 10: tbf rate 20mbit burst 20k latency 30ms && " \
	"tc qdisc add dev $D parent 1:20 handle 20: pfifo limit 55 && "                \
	"tc filter add dev $D parent 1: protocol ip prio 1 u32 match ip dport 80 0xffff flowid 1:10 && " \
	"tc filter add dev $D parent 1: protocol ip prio 2 u32 match ip src 10.0.0.0/8 flowid 1:20 " \
	"action mirred egress mirror dev lo && "                                       \
	"tc filter add dev $D parent 1:1 protocol ip prio 3 u32 match ip tos 0x10 0xff flowid 1:10"
#define USER_TBF   "tc qdisc add dev $D root tbf rate 10mbit burst 32k latency 50ms"
#define USER_FQCODEL "tc qdisc add dev $D root fq_codel limit 500 target 2ms interval 50ms noecn"
#define USER_PRIO  "tc qdisc add dev $D root handle 2: prio bands 4 && " \
	"tc qdisc add dev $D parent 2:3 handle 23: pfifo limit 9"

static void test_undo_restores_exactly(void **state)
{
	struct fixture *f = *state;

	SKIP_IF_NEEDED();
	nc_qdisc_probe_override(1);
	undo_case(f, "kernel default (noqueue)", "");
	undo_case(f, "user tbf root", USER_TBF);
	undo_case(f, "user htb tree with classes, leaves, u32 filters and an action", USER_HTB);
	undo_case(f, "user fq_codel with parameters", USER_FQCODEL);
	undo_case(f, "user prio with a leaf", USER_PRIO);
}

/* ---- snapshots (any kernel) ----------------------------------------------- */

/* Save dev, put a tree like ours on its root, restore, compare. */
static void snapshot_case(struct fixture *f, const char *dev, const char *what)
{
	char before[8192], after[8192], err[512];
	struct nc_qdisc_snapshot *s = NULL;
	int ifindex = (int)if_nametoindex(dev);
	bool exact = false;

	assert_true(ifindex > 0);
	tc_state(f, dev, before, sizeof(before));
	assert_int_equal(nc_qdisc_snapshot_take(ifindex, &s, err, sizeof(err)), 0);
	assert_int_equal(in_ns(f, "tc qdisc replace dev %s root handle %x: htb default 0 && "
			       "tc class add dev %s parent %x: classid %x:1 htb rate 1gbit",
			       dev, NC_QDISC_MAJOR, dev, NC_QDISC_MAJOR, NC_QDISC_MAJOR), 0);
	assert_int_equal(nc_qdisc_snapshot_restore(s, &exact, err, sizeof(err)), 0);
	assert_state_back(f, dev, what, before, after, sizeof(after));
	assert_true(exact);
	printf("# restore exact: %s%s\n", what,
	       nc_qdisc_snapshot_is_default(s) ? " (kernel default)" : "");
	nc_qdisc_snapshot_free(s);
}

static void test_snapshot_restore(void **state)
{
	struct fixture *f = *state;
	char mq[IF_NAMESIZE];

	SKIP_IF_NEEDED();
	snapshot_case(f, f->dev, "kernel default noqueue (veth)");
	assert_int_equal(in_ns(f, "D=%s; " USER_TBF, f->dev), 0);
	snapshot_case(f, f->dev, "user tbf root");
	in_ns(f, "tc qdisc del dev %s root", f->dev);
	assert_int_equal(in_ns(f, "D=%s; " USER_HTB, f->dev), 0);
	snapshot_case(f, f->dev, "user htb tree with classes, leaves, u32 filters and an action");
	{
		/* a cls_bpf filter whose program nothing but the filter holds:
		 * the snapshot must keep it alive while our tree is in place */
		const struct bpf_insn insns[] = {
			{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = -1 },
			{ .code = BPF_JMP | BPF_EXIT },
		};
		DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = f->ifindex,
				    .attach_point = BPF_TC_CUSTOM, .parent = TC_H_MAKE(1 << 16, 0));
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 7, .priority = 9);
		int fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "user_cls", "GPL", insns, 2, NULL);

		assert_true(fd >= 0);
		opts.prog_fd = fd;
		assert_int_equal(bpf_tc_attach(&hook, &opts), 0);
		close(fd);
		snapshot_case(f, f->dev, "user htb tree with a cls_bpf filter");
	}
	in_ns(f, "tc qdisc del dev %s root", f->dev);
	if (in_ns(f, "D=%s; " USER_FQCODEL, f->dev) == 0)
		snapshot_case(f, f->dev, "user fq_codel with parameters");
	else
		printf("# no fq_codel in this kernel: that case is skipped\n");
	in_ns(f, "tc qdisc del dev %s root", f->dev);

	/* A 4-queue IFB, up: mq with default children (fq_codel or pfifo_fast,
	 * whatever net.core.default_qdisc says) */
	snprintf(mq, sizeof(mq), "ncqm%d", getpid() % 100000);
	assert_int_equal(in_ns(f, "ip link add %s numtxqueues 4 type ifb && ip link set %s up",
			       mq, mq), 0);
	snapshot_case(f, mq, "kernel default mq with per-queue children (4-queue ifb)");
	/* a user's mq root with one child replaced */
	assert_int_equal(in_ns(f, "tc qdisc add dev %s root handle 1: mq && "
			       "tc qdisc replace dev %s parent 1:2 handle 12: pfifo limit 77",
			       mq, mq), 0);
	snapshot_case(f, mq, "user mq root with a replaced child");
	in_ns(f, "tc qdisc del dev %s root", mq);
}

static void test_snapshot_restore_leaves_foreign_root(void **state)
{
	struct fixture *f = *state;
	struct nc_qdisc_snapshot *s = NULL;
	char err[512], out[2048];
	bool exact = true;

	SKIP_IF_NEEDED();
	assert_int_equal(nc_qdisc_snapshot_take(f->ifindex, &s, err, sizeof(err)), 0);
	assert_true(nc_qdisc_snapshot_is_default(s));
	/* someone else's root now: not ours to replace */
	assert_int_equal(in_ns(f, "D=%s; " USER_TBF, f->dev), 0);
	assert_int_equal(nc_qdisc_snapshot_restore(s, &exact, err, sizeof(err)), -EBUSY);
	assert_false(exact);
	assert_non_null(strstr(err, "not netchaos's any more"));
	ns_output(f, out, sizeof(out), "tc qdisc show dev %s", f->dev);
	assert_non_null(strstr(out, "qdisc tbf "));
	nc_qdisc_snapshot_free(s);
}

static void test_cleanup_stale(void **state)
{
	struct fixture *f = *state;
	char before[8192], after[8192], ifb[IF_NAMESIZE];

	SKIP_IF_NEEDED();
	tc_state(f, f->dev, before, sizeof(before));
	assert_int_equal(nc_qdisc_cleanup_stale(f->ifindex, f->dev), 0);
	/* what a crashed agent leaves: our root (from a user tree, now lost)
	 * and our IFB */
	nc_qdisc_ifb_name(f->ifindex, ifb);
	assert_int_equal(in_ns(f, "tc qdisc replace dev %s root handle %x: htb default 0 && "
			       "tc class add dev %s parent %x: classid %x:3 htb rate 1gbit && "
			       "ip link add %s type ifb",
			       f->dev, NC_QDISC_MAJOR, f->dev, NC_QDISC_MAJOR, NC_QDISC_MAJOR, ifb),
			 0);
	assert_int_equal(nc_qdisc_cleanup_stale(f->ifindex, f->dev), 1);
	assert_state_back(f, f->dev, "stale tree removed", before, after, sizeof(after));
	assert_false(link_exists(f, ifb));
	assert_int_equal(nc_qdisc_cleanup_stale(f->ifindex, f->dev), 0);
	/* not ours: a user's htb with another handle, a non-IFB of that name */
	assert_int_equal(in_ns(f, "tc qdisc replace dev %s root handle 1: htb && "
			       "ip link add %s type veth peer name %sp",
			       f->dev, ifb, ifb), 0);
	assert_int_equal(nc_qdisc_cleanup_stale(f->ifindex, f->dev), 0);
	assert_true(link_exists(f, ifb));
	ns_output(f, after, sizeof(after), "tc qdisc show dev %s", f->dev);
	assert_non_null(strstr(after, "qdisc htb 1: root"));
}

static void test_bad_arguments(void **state)
{
	struct fixture *f = *state;
	struct nc_netem_params p = { .latency_ns = 10 * MS }, bad = { .jitter_ns = MS };
	char err[512];
	uint32_t classid;
	int redirect;

	SKIP_IF_NEEDED();
	assert_int_equal(nc_qdisc_rule_add(f->ifindex, false, 0, &p, &classid, &redirect, err,
					   sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "out of range"));
	assert_int_equal(nc_qdisc_rule_add(f->ifindex, false, NC_QDISC_MINOR_MAX + 1, &p,
					   &classid, &redirect, err, sizeof(err)), -EINVAL);
	assert_int_equal(nc_qdisc_rule_add(f->ifindex, false, 1, &bad, &classid, &redirect, err,
					   sizeof(err)), -EINVAL);
	assert_string_equal(err, "jitter needs a delay");
	assert_int_equal(nc_qdisc_rule_add(999999, false, 1, &p, &classid, &redirect, err,
					   sizeof(err)), -ENODEV);
	assert_string_equal(err, "interface 999999: no such interface");
	assert_int_equal(nc_qdisc_rule_del(f->ifindex, true, 1), -ENOENT);
}

/* ---- with netem ---------------------------------------------------------- */

static void test_egress_delay_change_del(void **state)
{
	struct fixture *f = *state;
	struct nc_netem_params p = { .latency_ns = 100 * MS };
	char before[8192], after[8192], err[512], out[4096];
	double base, rtt;
	uint32_t classid = 0;
	long pkts;
	int redirect = -1, steered, plain;

	SKIP_IF_NEEDED();
	start_echo(f);
	tc_state(f, f->dev, before, sizeof(before));
	plain = flow(0, 0);
	base = rtt_ms(plain, 5); /* also resolves ARP */
	printf("# base RTT %.2f ms\n", base);

	assert_int_equal(nc_qdisc_rule_add(f->ifindex, false, 1, &p, &classid, &redirect, err,
					   sizeof(err)), 0);
	assert_int_equal(classid, NC_QDISC_CLASSID(1));
	assert_int_equal(redirect, 0);
	ns_output(f, out, sizeof(out), "tc qdisc show dev %s; tc class show dev %s", f->dev,
		  f->dev);
	assert_non_null(strstr(out, "qdisc htb 4e43: root"));
	assert_non_null(strstr(out, "default 0"));
	assert_non_null(strstr(out, "qdisc netem 1: parent 4e43:1 limit 100000 delay 100ms"));
	assert_non_null(strstr(out, "class htb 4e43:1 root leaf 1:"));

	steered = flow(0, classid);
	rtt = rtt_ms(steered, 7);
	assert_rtt_near("egress steered, delay 100ms", rtt, 100, base);
	rtt = rtt_ms(plain, 7);
	assert_rtt_fast("egress unsteered, same interface", rtt);

	/* in place: the same qdisc goes on counting */
	pkts = netem_packets(f, f->dev, 1);
	assert_true(pkts >= 7);
	p.latency_ns = 50 * MS;
	assert_int_equal(nc_qdisc_rule_change(f->ifindex, false, 1, &p, err, sizeof(err)), 0);
	ns_output(f, out, sizeof(out), "tc qdisc show dev %s", f->dev);
	/* the default limit follows the delay: 50 ms x 1M packets/s */
	assert_non_null(strstr(out, "qdisc netem 1: parent 4e43:1 limit 50000 delay 50ms"));
	assert_true(netem_packets(f, f->dev, 1) >= pkts);
	rtt = rtt_ms(steered, 7);
	assert_rtt_near("egress steered after change to 50ms", rtt, 50, base);
	assert_true(netem_packets(f, f->dev, 1) >= pkts + 7);
	/* the change resets what it leaves out: add jitter+normal, then drop it */
	p.jitter_ns = 5 * MS;
	p.dist = NC_NETEM_DIST_NORMAL;
	p.loss = 1;
	assert_int_equal(nc_qdisc_rule_change(f->ifindex, false, 1, &p, err, sizeof(err)), 0);
	p = (struct nc_netem_params){ .latency_ns = 20 * MS };
	assert_int_equal(nc_qdisc_rule_change(f->ifindex, false, 1, &p, err, sizeof(err)), 0);
	ns_output(f, out, sizeof(out), "tc qdisc show dev %s parent 4e43:1", f->dev);
	assert_non_null(strstr(out, "delay 20ms"));
	assert_null(strstr(out, "loss"));
	assert_null(strstr(out, "5ms"));

	assert_int_equal(nc_qdisc_rule_del(f->ifindex, false, 1), 0);
	assert_state_back(f, f->dev, "default root after the last rule", before, after, sizeof(after));
	rtt = rtt_ms(steered, 5);
	assert_rtt_fast("formerly steered flow after rule_del", rtt);
	close(steered);
	close(plain);
}

static void test_two_rules(void **state)
{
	struct fixture *f = *state;
	struct nc_netem_params p1 = { .latency_ns = 100 * MS }, p2 = { .latency_ns = 60 * MS };
	char before[8192], after[8192], err[512];
	uint32_t c1, c2;
	int redirect, s1, s2, plain;
	double base;

	SKIP_IF_NEEDED();
	start_echo(f);
	/* a user's tbf root must come back after both rules */
	assert_int_equal(in_ns(f, "tc qdisc add dev %s root tbf rate 500mbit burst 256k latency 50ms",
			       f->dev), 0);
	tc_state(f, f->dev, before, sizeof(before));
	plain = flow(0, 0);
	base = rtt_ms(plain, 5);
	assert_int_equal(nc_qdisc_rule_add(f->ifindex, false, 1, &p1, &c1, &redirect, err,
					   sizeof(err)), 0);
	assert_int_equal(nc_qdisc_rule_add(f->ifindex, false, 2, &p2, &c2, &redirect, err,
					   sizeof(err)), 0);
	assert_int_equal(nc_qdisc_rule_add(f->ifindex, false, 2, &p2, &c2, &redirect, err,
					   sizeof(err)), -EEXIST);
	s1 = flow(0, c1);
	s2 = flow(0, c2);
	assert_rtt_near("rule 1 (100ms)", rtt_ms(s1, 7), 100, base);
	assert_rtt_near("rule 2 (60ms)", rtt_ms(s2, 7), 60, base);
	assert_rtt_fast("unsteered beside two rules", rtt_ms(plain, 5));
	assert_int_equal(nc_qdisc_rule_del(f->ifindex, false, 1), 0);
	assert_rtt_fast("rule 1's flow after its rule is gone", rtt_ms(s1, 5));
	assert_rtt_near("rule 2 still there", rtt_ms(s2, 7), 60, base);
	assert_int_equal(nc_qdisc_rule_del(f->ifindex, false, 2), 0);
	assert_state_back(f, f->dev, "user tbf root after the last rule", before, after, sizeof(after));
	close(s1);
	close(s2);
	close(plain);
}

/* A user's htb tree with filters, and an mq default, through real rules. */
static void test_restore_after_rules(void **state)
{
	struct fixture *f = *state;
	struct nc_netem_params p = { .latency_ns = 5 * MS };
	char before[8192], after[8192], err[512], mq[IF_NAMESIZE];
	uint32_t c;
	int redirect, mqidx;

	SKIP_IF_NEEDED();
	assert_int_equal(in_ns(f, "D=%s; " USER_HTB, f->dev), 0);
	tc_state(f, f->dev, before, sizeof(before));
	assert_int_equal(nc_qdisc_rule_add(f->ifindex, false, 9, &p, &c, &redirect, err,
					   sizeof(err)), 0);
	assert_int_equal(nc_qdisc_rule_del(f->ifindex, false, 9), 0);
	assert_state_back(f, f->dev, "user htb tree after a rule", before, after, sizeof(after));

	snprintf(mq, sizeof(mq), "ncqm%d", getpid() % 100000);
	assert_int_equal(in_ns(f, "ip link add %s numtxqueues 4 type ifb && ip link set %s up",
			       mq, mq), 0);
	mqidx = (int)if_nametoindex(mq);
	tc_state(f, mq, before, sizeof(before));
	assert_int_equal(nc_qdisc_rule_add(mqidx, false, 1, &p, &c, &redirect, err, sizeof(err)),
			 0);
	assert_int_equal(nc_qdisc_rule_del(mqidx, false, 1), 0);
	assert_state_back(f, mq, "mq default after a rule", before, after, sizeof(after));
	printf("# restore exact after real rules: user htb tree, mq default\n");
}

/*
 * What the classifier will do at ingress, in 11 instructions: UDP/IPv4 to
 * local port `port` gets skb->priority = classid; every packet goes on
 * (TC_ACT_UNSPEC), to the module's steering filter.
 */
static int load_steer_prog(uint16_t port, uint32_t classid)
{
#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
	struct bpf_insn insns[] = {
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_1, 0, 0),
		INSN(BPF_LD | BPF_ABS | BPF_H, 0, 0, 0, 12),	/* ethertype */
		INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_0, 0, 6, 0x0800),
		INSN(BPF_LD | BPF_ABS | BPF_B, 0, 0, 0, 23),	/* IP protocol */
		INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_0, 0, 4, IPPROTO_UDP),
		INSN(BPF_LD | BPF_ABS | BPF_H, 0, 0, 0, 36),	/* UDP dport */
		INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_0, 0, 2, port),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, (int32_t)classid),
		INSN(BPF_STX | BPF_MEM | BPF_W, BPF_REG_6, BPF_REG_2, offsetof(struct __sk_buff, priority), 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, -1),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
#undef INSN
	return bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "nc_test_steer", "GPL", insns,
			     sizeof(insns) / sizeof(insns[0]), NULL);
}

static void test_ingress_ifb(void **state)
{
	struct fixture *f = *state;
	struct nc_netem_params p = { .latency_ns = 80 * MS };
	char before[8192], after[8192], err[512], ifb[IF_NAMESIZE], out[4096];
	char root_before[1024], root_after[1024];
	uint32_t classid = 0;
	int redirect = 0, steered, plain;
	double base, rtt;

	SKIP_IF_NEEDED();
	start_echo(f);
	tc_state(f, f->dev, before, sizeof(before));
	ns_output(f, root_before, sizeof(root_before), "tc -d qdisc show dev %s root", f->dev);
	steered = flow(47201, 0);
	plain = flow(47202, 0);
	base = rtt_ms(plain, 5);

	assert_int_equal(nc_qdisc_rule_add(f->ifindex, true, 3, &p, &classid, &redirect, err,
					   sizeof(err)), 0);
	assert_int_equal(classid, NC_QDISC_CLASSID(3));
	nc_qdisc_ifb_name(f->ifindex, ifb);
	assert_int_equal(redirect, (int)if_nametoindex(ifb));
	ns_output(f, out, sizeof(out), "ip link show %s; tc qdisc show dev %s; "
		  "tc filter show dev %s ingress", ifb, ifb, f->dev);
	assert_non_null(strstr(out, ",UP"));
	assert_non_null(strstr(out, "qdisc netem 3: parent 4e43:3"));
	/* the steering filter, after the classifier's priority */
	assert_non_null(strstr(out, "pref 20035 bpf chain 0 handle 0x1 " NC_QDISC_STEER_PROG));
	assert_non_null(strstr(out, "mirred (Egress Redirect to device ncifb"));
	/* the interface's own root is untouched at ingress */
	ns_output(f, root_after, sizeof(root_after), "tc -d qdisc show dev %s root", f->dev);
	assert_string_equal(root_before, root_after);

	{
		DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = f->ifindex,
				    .attach_point = BPF_TC_INGRESS);
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1);

		f->bpf_fd = load_steer_prog(47201, classid);
		assert_true(f->bpf_fd >= 0);
		opts.prog_fd = f->bpf_fd;
		/* the module made the clsact */
		assert_int_equal(bpf_tc_hook_create(&hook), -EEXIST);
		assert_int_equal(bpf_tc_attach(&hook, &opts), 0);
	}
	rtt = rtt_ms(steered, 7);
	if (rtt < 0) {
		ns_output(f, out, sizeof(out), "ip -s link show dev %s; tc -s qdisc show dev %s; "
			  "tc -s filter show dev %s ingress", ifb, ifb, f->dev);
		print_block("nothing came back", out);
	}
	assert_rtt_near("ingress steered via IFB, delay 80ms", rtt, 80, base);
	assert_rtt_fast("ingress unsteered", rtt_ms(plain, 7));

	p.latency_ns = 40 * MS;
	assert_int_equal(nc_qdisc_rule_change(f->ifindex, true, 3, &p, err, sizeof(err)), 0);
	assert_rtt_near("ingress steered after change to 40ms", rtt_ms(steered, 7), 40, base);

	/* every packet steered to the IFB went through it: marked redirected
	 * by mirred, none dropped */
	ns_output(f, out, sizeof(out), "ip -s -j link show dev %s", ifb);
	if (!strstr(out, "\"rx\":{") || !strstr(strstr(out, "\"rx\":{"), "\"dropped\":0,")) {
		print_block("IFB counters", out);
		fail_msg("the IFB dropped packets");
	}

	/* the BPF rule goes first, then the qdisc rule */
	{
		DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = f->ifindex,
				    .attach_point = BPF_TC_INGRESS);
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1);

		assert_int_equal(bpf_tc_detach(&hook, &opts), 0);
	}
	assert_int_equal(nc_qdisc_rule_del(f->ifindex, true, 3), 0);
	assert_false(link_exists(f, ifb));
	/* filter, IFB and the clsact the module created: all gone */
	assert_state_back(f, f->dev, "interface after the ingress rule", before, after, sizeof(after));
	ns_output(f, out, sizeof(out), "tc qdisc show dev %s", f->dev);
	assert_null(strstr(out, "clsact"));
	close(steered);
	close(plain);
}

static void test_rate_and_loss(void **state)
{
	struct fixture *f = *state;
	struct nc_netem_params rate = { .rate_bps = 1000000 };
	struct nc_netem_params loss = { .loss = (uint32_t)(0.3 * UINT32_MAX) };
	char buf[1000] = { 0 }, err[512];
	double first = 0, last = 0, mbit;
	uint32_t c1, c2;
	int redirect, s, i, got = 0, sent = 0;
	struct pollfd pfd;

	SKIP_IF_NEEDED();
	start_echo(f);
	assert_int_equal(nc_qdisc_rule_add(f->ifindex, false, 1, &rate, &c1, &redirect, err,
					   sizeof(err)), 0);
	assert_int_equal(nc_qdisc_rule_add(f->ifindex, false, 2, &loss, &c2, &redirect, err,
					   sizeof(err)), 0);

	/* 60 x 1000 bytes of payload (1042 on the wire) at 1 Mbit/s; the
	 * echoes come back spaced by netem's serialization */
	s = flow(0, c1);
	rtt_ms(s, 1);
	for (i = 0; i < 60; i++)
		sent += send(s, buf, sizeof(buf), 0) == sizeof(buf);
	pfd = (struct pollfd){ .fd = s, .events = POLLIN };
	while (poll(&pfd, 1, 1500) > 0 && recv(s, buf, sizeof(buf), 0) > 0) {
		last = now_ms();
		if (!got++)
			first = last;
	}
	mbit = got > 1 ? (got - 1) * 1042.0 * 8 / ((last - first) * 1000) : 0;
	printf("# rate 1mbit: %d/%d echoes, %.3f Mbit/s\n", got, sent, mbit);
	assert_true(got >= 55);
	assert_true(mbit > 0.9 && mbit < 1.1);
	close(s);

	/* 30 % loss on 400 packets: 280 +- 40 come back */
	s = flow(0, c2);
	for (i = got = 0; i < 400; i++) {
		uint32_t v = (uint32_t)i;

		send(s, &v, sizeof(v), 0);
		if (i % 50 == 49)
			usleep(2000);
	}
	pfd = (struct pollfd){ .fd = s, .events = POLLIN };
	while (poll(&pfd, 1, 500) > 0 && recv(s, buf, sizeof(buf), 0) > 0)
		got++;
	printf("# loss 30%%: %d of 400 echoed (%.1f%% lost)\n", got, (400 - got) / 4.0);
	assert_true(got >= 240 && got <= 320);
	close(s);
	assert_int_equal(nc_qdisc_rule_del(f->ifindex, false, 2), 0);
	assert_int_equal(nc_qdisc_rule_del(f->ifindex, false, 1), 0);
}

static void test_cleanup_keeps_live_tree(void **state)
{
	struct fixture *f = *state;
	struct nc_netem_params p = { .latency_ns = 10 * MS };
	char before[8192], after[8192], err[512];
	uint32_t c;
	int redirect;

	SKIP_IF_NEEDED();
	tc_state(f, f->dev, before, sizeof(before));
	assert_int_equal(nc_qdisc_rule_add(f->ifindex, false, 4, &p, &c, &redirect, err,
					   sizeof(err)), 0);
	assert_int_equal(nc_qdisc_rule_add(f->ifindex, true, 4, &p, &c, &redirect, err,
					   sizeof(err)), 0);
	/* a tree of this process is not stale */
	assert_int_equal(nc_qdisc_cleanup_stale(f->ifindex, f->dev), 0);
	tc_state(f, f->dev, after, sizeof(after));
	assert_non_null(strstr(after, "qdisc netem 4: parent 4e43:4"));
	assert_int_equal(nc_qdisc_rule_del(f->ifindex, true, 4), 0);
	assert_int_equal(nc_qdisc_rule_del(f->ifindex, false, 4), 0);
	assert_state_back(f, f->dev, "after egress and ingress rules", before, after, sizeof(after));
}

/* A netchaosd that dies with rules in place, and the next one cleaning up. */
static void test_cleanup_after_crash(void **state)
{
	struct fixture *f = *state;
	char before[8192], after[8192], out[4096], ifb[IF_NAMESIZE];
	int status;
	pid_t pid;

	SKIP_IF_NEEDED();
	tc_state(f, f->dev, before, sizeof(before));
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct nc_netem_params p = { .latency_ns = 10 * MS };
		char err[512];
		uint32_t c;
		int r;

		if (nc_qdisc_rule_add(f->ifindex, false, 1, &p, &c, &r, err, sizeof(err)) ||
		    nc_qdisc_rule_add(f->ifindex, true, 1, &p, &c, &r, err, sizeof(err)))
			_exit(1);
		_exit(0); /* "crash": nothing undone */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	nc_qdisc_ifb_name(f->ifindex, ifb);
	assert_true(link_exists(f, ifb));
	/* this process has no such tree: another agent's is not taken over */
	{
		struct nc_netem_params p = { .latency_ns = 10 * MS };
		char err[512];
		uint32_t c;
		int r;

		assert_int_equal(nc_qdisc_rule_add(f->ifindex, false, 1, &p, &c, &r, err,
						   sizeof(err)), -EBUSY);
		assert_non_null(strstr(err, "cleanup_stale"));
		assert_int_equal(nc_qdisc_rule_add(f->ifindex, true, 1, &p, &c, &r, err,
						   sizeof(err)), -EBUSY);
	}
	assert_int_equal(nc_qdisc_cleanup_stale(f->ifindex, f->dev), 1);
	assert_false(link_exists(f, ifb));
	ns_output(f, out, sizeof(out), "tc filter show dev %s ingress", f->dev);
	assert_string_equal(out, "");
	/* the clsact the dead agent made stays (nc_attach_remove_stale's) */
	assert_int_equal(in_ns(f, "tc qdisc del dev %s clsact", f->dev), 0);
	assert_state_back(f, f->dev, "after cleaning up a crashed agent", before, after, sizeof(after));
	assert_int_equal(nc_qdisc_cleanup_stale(f->ifindex, f->dev), 0);
}

int main(void)
{
	/* Every kernel */
	const struct CMUnitTest common[] = {
		cmocka_unit_test_setup_teardown(test_probe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_restore_leaves_foreign_root, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cleanup_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
	};
	/* Kernels without sch_netem: the error path and the undo */
	const struct CMUnitTest without_netem[] = {
		cmocka_unit_test_setup_teardown(test_rule_add_without_netem, setup, teardown),
		cmocka_unit_test_setup_teardown(test_undo_restores_exactly, setup, teardown),
	};
	/* Kernels with sch_netem: traffic */
	const struct CMUnitTest with_netem[] = {
		cmocka_unit_test_setup_teardown(test_egress_delay_change_del, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_after_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ingress_ifb, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_and_loss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cleanup_keeps_live_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cleanup_after_crash, setup, teardown),
	};
	int failed;

	setvbuf(stdout, NULL, _IONBF, 0);
	group_setup();
	failed = cmocka_run_group_tests_name("qdisc", common, NULL, NULL);
	/* One TAP line for the group that does not apply: cmocka 1.1 prints a
	 * skipped test as "not ok ... # SKIP". */
	if (g.skip[0] || !g.netem)
		printf("ok - qdisc_netem: delay, change, several rules, ingress via IFB, rate, loss # SKIP %s\n",
		       g.skip[0] ? g.skip : "this kernel has no sch_netem (run it in tests/vm/run.sh)");
	else
		failed += cmocka_run_group_tests_name("qdisc_netem", with_netem, NULL, NULL);
	if (g.skip[0] || g.netem)
		printf("ok - qdisc_without_netem: the sch_netem error and the undo # SKIP %s\n",
		       g.skip[0] ? g.skip : "this kernel has sch_netem");
	else
		failed += cmocka_run_group_tests_name("qdisc_without_netem", without_netem, NULL,
						      NULL);
	return failed ? 1 : 0;
}
