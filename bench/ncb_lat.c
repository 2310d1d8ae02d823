// SPDX-License-Identifier: GPL-2.0-only
/*
 * ncb_lat: how long a fault takes to act on traffic, and to stop acting,
 * measured from the traffic itself.
 *
 * A steady UDP stream (one datagram every --interval-us, each carrying its
 * sequence number) flows from --from-ns to --to-ns; the sender notes the
 * send time of every datagram and the receiver which ones arrived. For each
 * run:
 *
 *   t0 = now; run the apply command(s) (fork+exec, like a user or a peer
 *   tool would) or send an add request on a persistent agent connection;
 *   the first datagram sent at or after t0 that never arrives is where the
 *   fault acted: apply latency = its send time - t0.
 *   After --hold-ms, t2 = now; run the remove command(s); the first datagram
 *   that arrives again: removal latency = its send time - t2.
 *
 * The resolution is the stream's interval (the actual send intervals are
 * reported). A run whose traffic comes back before the removal started
 * (a leak), or whose edges are not seen within --timeout-ms, is reported as
 * failed (ok=0), with what the receiver saw on stderr.
 *
 * usage: ncb_lat --from-ns A --to-ns B --to ADDR --port P [--runs N]
 *                [--interval-us U] [--hold-ms H] [--pause-ms P] [--timeout-ms T]
 *                [--max-seconds S] [--rt 1|0]
 *                ( --sock PATH [--rule-netns NS]
 *                | -- +apply CMD ARGS... [+apply ...] +remove CMD ARGS... [+remove ...] )
 * "{id}" in a remove command is replaced by the first number printed by the
 * first apply command (chaosctl prints "rule N: ...").
 *
 * Output: CSV
 *   run,ok,apply_cmd_us,apply_effect_us,remove_cmd_us,remove_effect_us,
 *   lost_before_fault,lost_after_recovery
 * then "# interval_us ...". cmd = the command's own run time, or the
 * request->reply time on the socket. The fault "acts" at the first of
 * RUN_LEN datagrams lost in a row; shorter gaps between t0 and that point,
 * and within SETTLE_NS after the traffic is back, are counted as collateral
 * loss (lost_before_fault, lost_after_recovery).
 */
#include <ctype.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "ncb.h"

extern char **environ;

#define MAX_CMDS 8
#define MAX_ARGS 64
#define CONFIRM_NS (3 * 1000000ull) /* only judge datagrams sent this long ago */
#define RUN_LEN	   100		       /* this many missing in a row (10 ms): the fault acts */
#define SETTLE_NS  (30 * 1000000ull)   /* after recovery: collateral loss window */

struct cmd {
	char *argv[MAX_ARGS + 1];
	int argc;
};

struct stream {
	int tx, rx;
	uint64_t interval_ns;
	uint64_t *ts;	 /* send time of seq */
	uint8_t *got;	 /* seq arrived */
	uint32_t cap;
	uint32_t sent;	 /* seqs [0, sent) have ts set */
	int64_t hi;	 /* highest seq received, -1 */
	int stop, overflow;
};

static struct stream st;

/* The stream threads sleep almost all the time; real-time priority keeps
 * their timestamps honest while chaosctl, the agent or tc compete for CPU. */
static int use_rt; /* off: RT wake-ups at 10 kHz slow the agent being measured */

static void realtime(void)
{
	struct sched_param sp = { .sched_priority = 10 };

	if (use_rt)
		pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
}

static void *tx_main(void *arg)
{
	uint64_t next = ncb_now_ns();
	uint32_t seq = 0;

	realtime();
	while (!__atomic_load_n(&st.stop, __ATOMIC_ACQUIRE)) {
		uint64_t now;

		if (seq >= st.cap) {
			__atomic_store_n(&st.overflow, 1, __ATOMIC_RELEASE);
			break;
		}
		now = ncb_now_ns();
		__atomic_store_n(&st.ts[seq], now, __ATOMIC_RELAXED);
		if (send(st.tx, &seq, sizeof(seq), 0) < 0 && errno != ENOBUFS && errno != EAGAIN &&
		    errno != ECONNREFUSED && errno != EPERM /* netfilter drop */)
			ncb_die("stream send: %s", strerror(errno));
		seq++;
		__atomic_store_n(&st.sent, seq, __ATOMIC_RELEASE);
		next += st.interval_ns;
		if (next < now)
			next = now; /* late: no catch-up burst */
		ncb_sleep_until(next);
	}
	return NULL;
}

static void *rx_main(void *arg)
{
	uint32_t seq;

	realtime();
	while (!__atomic_load_n(&st.stop, __ATOMIC_ACQUIRE)) {
		ssize_t n = recv(st.rx, &seq, sizeof(seq), 0);

		if (n != sizeof(seq) || seq >= st.cap)
			continue;
		__atomic_store_n(&st.got[seq], 1, __ATOMIC_RELAXED);
		if ((int64_t)seq > __atomic_load_n(&st.hi, __ATOMIC_RELAXED))
			__atomic_store_n(&st.hi, (int64_t)seq, __ATOMIC_RELEASE);
	}
	return NULL;
}

static uint64_t ts_of(uint32_t s)
{
	return __atomic_load_n(&st.ts[s], __ATOMIC_RELAXED);
}

static bool got(uint32_t s)
{
	return __atomic_load_n(&st.got[s], __ATOMIC_RELAXED);
}

/* Run one command; its stdout goes to out (if given) or /dev/null. */
static int run_cmd(const struct cmd *c, char *out, size_t outlen)
{
	posix_spawn_file_actions_t fa;
	int pfd[2] = { -1, -1 }, status, err;
	size_t len = 0;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	if (out) {
		if (pipe2(pfd, O_CLOEXEC))
			ncb_die("pipe: %s", strerror(errno));
		posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	} else {
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	}
	err = posix_spawnp(&pid, c->argv[0], &fa, NULL, c->argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (out)
		close(pfd[1]);
	if (err) {
		if (out)
			close(pfd[0]);
		fprintf(stderr, "cannot run %s: %s\n", c->argv[0], strerror(err));
		return -1;
	}
	if (out) {
		ssize_t n;

		while ((n = read(pfd[0], out + len, outlen - 1 - len)) > 0 && len + 1 < outlen)
			len += (size_t)n;
		out[len] = '\0';
		close(pfd[0]);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "%s exited with status %d\n", c->argv[0],
			WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return -1;
	}
	return 0;
}

/* One run's edges, printed at the end when every datagram has settled. */
struct result {
	bool ok;
	double apply_cmd_us, remove_cmd_us, apply_effect_us, remove_effect_us;
	uint32_t first, lost, back, settle_end;
};

struct plan {
	struct cmd apply[MAX_CMDS], remove[MAX_CMDS];
	int n_apply, n_remove;
	const char *sock, *rule_netns;
	int port;
	struct ncb_conn *conn;
	long id;
	char idstr[32];
};

static int do_apply(struct plan *p)
{
	char out[4096];

	if (p->sock) {
		char req[512];
		const char *reply;

		ncb_add_req(req, sizeof(req), p->rule_netns, p->port, "udp", 60000);
		reply = ncb_request(p->conn, req);
		if (!ncb_reply_ok(reply)) {
			fprintf(stderr, "add failed: %s\n", reply ? reply : "(no reply)");
			return -1;
		}
		p->id = ncb_reply_id(reply);
		return 0;
	}
	for (int i = 0; i < p->n_apply; i++) {
		if (run_cmd(&p->apply[i], i ? NULL : out, sizeof(out)))
			return -1;
		if (!i) {
			const char *d = out;

			while (*d && !isdigit((unsigned char)*d))
				d++;
			snprintf(p->idstr, sizeof(p->idstr), "%ld", *d ? strtol(d, NULL, 10) : -1L);
		}
	}
	return 0;
}

static int do_remove(struct plan *p)
{
	if (p->sock) {
		char req[128];
		const char *reply;

		snprintf(req, sizeof(req), "{\"v\":1,\"cmd\":\"clear\",\"id\":%ld}\n", p->id);
		reply = ncb_request(p->conn, req);
		if (!ncb_reply_ok(reply)) {
			fprintf(stderr, "clear failed: %s\n", reply ? reply : "(no reply)");
			return -1;
		}
		return 0;
	}
	for (int i = 0; i < p->n_remove; i++) {
		struct cmd c = p->remove[i];

		for (int k = 0; k < c.argc; k++)
			if (!strcmp(c.argv[k], "{id}"))
				c.argv[k] = p->idstr;
		if (run_cmd(&c, NULL, 0))
			return -1;
	}
	return 0;
}

/*
 * Where the fault acted: the first seq of the first run of RUN_LEN missing
 * datagrams sent at or after t0, all sent at least CONFIRM_NS ago (so a late
 * receiver is not taken for a loss). A shorter gap is collateral loss (e.g.
 * a qdisc being grafted), not the fault. Returns -1 while not (yet) seen.
 */
static int64_t find_loss(uint64_t t0, uint32_t *scan)
{
	uint32_t sent = __atomic_load_n(&st.sent, __ATOMIC_ACQUIRE);
	uint64_t limit;

	if (!sent)
		return -1;
	limit = ts_of(sent - 1) - CONFIRM_NS;
	for (uint32_t s = *scan; s < sent && ts_of(s) <= limit; s++) {
		if (ts_of(s) < t0 || got(s)) {
			*scan = s + 1;
			continue;
		}
		if (s + 1 - *scan >= RUN_LEN)
			return *scan;
	}
	return -1;
}

/* The first seq after `lost` that arrived, or -1. */
static int64_t find_recovery(uint32_t lost)
{
	int64_t hi = __atomic_load_n(&st.hi, __ATOMIC_ACQUIRE);

	for (int64_t s = lost + 1; s <= hi; s++)
		if (got((uint32_t)s))
			return s;
	return -1;
}

/* Missing seqs in [from, to). */
static unsigned int count_lost(uint32_t from, uint32_t to)
{
	unsigned int n = 0;

	for (uint32_t s = from; s < to; s++)
		n += !got(s);
	return n;
}

/* What the receiver saw from seq `from` on: run lengths, R = received, L = lost. */
static void dump_runs(int run, const char *why, uint64_t t0)
{
	uint32_t sent = __atomic_load_n(&st.sent, __ATOMIC_ACQUIRE), s = 0;
	int printed = 0;

	while (s < sent && ts_of(s) < t0)
		s++;
	s = s > 20 ? s - 20 : 0;
	fprintf(stderr, "run %d: %s; from seq %u (t0%+.3f ms):", run, why, s,
		((double)ts_of(s) - (double)t0) / 1e6);
	while (s < sent && printed < 40) {
		bool g = got(s);
		uint32_t n = 0;

		while (s < sent && got(s) == g) {
			s++;
			n++;
		}
		fprintf(stderr, " %c%u", g ? 'R' : 'L', n);
		printed++;
	}
	fprintf(stderr, "\n");
}

static void usage(void)
{
	fprintf(stderr, "usage: ncb_lat --from-ns A --to-ns B --to ADDR --port P [--runs N]\n"
			"  [--interval-us U] [--hold-ms H] [--pause-ms P] [--timeout-ms T]\n"
			"  [--max-seconds S] [--rt 1|0] (--sock PATH [--rule-netns NS] |\n"
			"  -- +apply CMD ARGS... [+apply ...] +remove CMD ARGS... [+remove ...])\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *from_ns = NULL, *to_ns = NULL, *to = NULL;
	int runs = 20, interval_us = 100, hold_ms = 10, pause_ms = 20, timeout_ms = 2000;
	double max_seconds = 120;
	struct plan p = { .port = 0, .id = -1 };
	struct result *res;
	struct ncb_addr dst;
	pthread_t txt, rxt;
	int i, home, failed = 0;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (!v)
			usage();
		if (!strcmp(a, "--from-ns")) from_ns = v;
		else if (!strcmp(a, "--to-ns")) to_ns = v;
		else if (!strcmp(a, "--to")) to = v;
		else if (!strcmp(a, "--port")) p.port = atoi(v);
		else if (!strcmp(a, "--runs")) runs = atoi(v);
		else if (!strcmp(a, "--interval-us")) interval_us = atoi(v);
		else if (!strcmp(a, "--hold-ms")) hold_ms = atoi(v);
		else if (!strcmp(a, "--pause-ms")) pause_ms = atoi(v);
		else if (!strcmp(a, "--timeout-ms")) timeout_ms = atoi(v);
		else if (!strcmp(a, "--max-seconds")) max_seconds = atof(v);
		else if (!strcmp(a, "--sock")) p.sock = v;
		else if (!strcmp(a, "--rt")) use_rt = atoi(v);
		else if (!strcmp(a, "--rule-netns")) p.rule_netns = v;
		else usage();
		i++;
	}
	for (struct cmd *cur = NULL; i < argc; i++) {
		if (!strcmp(argv[i], "+apply") || !strcmp(argv[i], "+remove")) {
			bool ap = argv[i][1] == 'a';
			int *n = ap ? &p.n_apply : &p.n_remove;

			if (*n >= MAX_CMDS)
				usage();
			cur = ap ? &p.apply[(*n)++] : &p.remove[(*n)++];
			continue;
		}
		if (!cur || cur->argc >= MAX_ARGS)
			usage();
		cur->argv[cur->argc++] = argv[i];
	}
	if (!to || p.port <= 0 || p.port > 65535 || runs < 1 || runs > 100000 ||
	    interval_us < 10 || hold_ms < 0 || pause_ms < 0 || timeout_ms < 10 ||
	    max_seconds <= 0 || max_seconds > 3600)
		usage();
	if (!p.sock && (!p.n_apply || !p.n_remove))
		usage();
	if (p.sock) {
		p.conn = malloc(sizeof(*p.conn));
		if (!p.conn || ncb_connect(p.conn, p.sock))
			ncb_die("cannot connect to %s", p.sock);
	}

	st.interval_ns = (uint64_t)interval_us * 1000;
	st.cap = (uint32_t)(max_seconds * 1e6 / interval_us) + 1;
	st.ts = calloc(st.cap, sizeof(*st.ts));
	st.got = calloc(st.cap, 1);
	st.hi = -1;
	if (!st.ts || !st.got)
		ncb_die("out of memory");

	ncb_parse_addr(to, p.port, &dst);
	home = ncb_save_netns();
	ncb_enter_netns(to_ns);
	st.rx = ncb_udp_bind(dst.family, p.port, 4 << 20);
	{
		struct timeval tv = { .tv_sec = 0, .tv_usec = 20000 };

		setsockopt(st.rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	ncb_enter_netns(from_ns);
	st.tx = socket(dst.family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (st.tx < 0 || connect(st.tx, (struct sockaddr *)&dst.ss, dst.len))
		ncb_die("stream socket: %s", strerror(errno));
	ncb_restore_netns(home);

	if (pthread_create(&rxt, NULL, rx_main, NULL) || pthread_create(&txt, NULL, tx_main, NULL))
		ncb_die("pthread_create");
	/* the stream must flow before the first run */
	for (i = 0; i < 200 && __atomic_load_n(&st.hi, __ATOMIC_ACQUIRE) < 50; i++)
		ncb_sleep_ns(5 * 1000000ull);
	if (__atomic_load_n(&st.hi, __ATOMIC_ACQUIRE) < 50)
		ncb_die("the stream does not reach the receiver");

	srand((unsigned int)ncb_now_ns());
	res = calloc((size_t)runs, sizeof(*res));
	if (!res)
		ncb_die("out of memory");
	for (int run = 0; run < runs; run++) {
		uint64_t t0, t1, t2, t3, deadline;
		int64_t lost = -1, back = -1;
		uint32_t scan, first, settle_end;
		bool ok = true;

		ncb_sleep_ns((uint64_t)(pause_ms + (pause_ms ? rand() % pause_ms : 0)) * 1000000ull);
		if (__atomic_load_n(&st.overflow, __ATOMIC_ACQUIRE))
			ncb_die("--max-seconds reached after %d runs", run);
		scan = __atomic_load_n(&st.sent, __ATOMIC_ACQUIRE);
		scan = scan > 10 ? scan - 10 : 0;
		t0 = ncb_now_ns();
		first = scan;
		if (do_apply(&p))
			ok = false;
		t1 = ncb_now_ns();
		deadline = t0 + (uint64_t)timeout_ms * 1000000ull;
		while (ok && (lost = find_loss(t0, &scan)) < 0 && ncb_now_ns() < deadline)
			ncb_sleep_ns(100000);
		if (lost < 0)
			ok = false;
		ncb_sleep_ns((uint64_t)hold_ms * 1000000ull);
		t2 = ncb_now_ns();
		if (do_remove(&p))
			ok = false;
		t3 = ncb_now_ns();
		deadline = t2 + (uint64_t)timeout_ms * 1000000ull;
		while (ok && (back = find_recovery((uint32_t)lost)) < 0 && ncb_now_ns() < deadline)
			ncb_sleep_ns(100000);
		if (back < 0 || ts_of((uint32_t)back) < t2)
			ok = false; /* never back, or traffic leaked through the fault */
		res[run].apply_cmd_us = (double)(t1 - t0) / 1e3;
		res[run].remove_cmd_us = (double)(t3 - t2) / 1e3;
		if (!ok) {
			dump_runs(run, lost < 0 ? "no loss seen" : back < 0 ? "traffic not back" : "leak", t0);
			failed++;
			/* let a stuck fault go before the next run */
			ncb_sleep_ns(50 * 1000000ull);
			continue;
		}
		res[run].ok = true;
		res[run].apply_effect_us = (double)(ts_of((uint32_t)lost) - t0) / 1e3;
		res[run].remove_effect_us = ((double)ts_of((uint32_t)back) - (double)t2) / 1e3;
		/* collateral: gaps before the fault acted and right after it went;
		 * counted at the end, once every datagram has had time to arrive */
		ncb_sleep_ns(SETTLE_NS + CONFIRM_NS);
		while (first < (uint32_t)lost && ts_of(first) < t0)
			first++;
		for (settle_end = (uint32_t)back;
		     settle_end < __atomic_load_n(&st.sent, __ATOMIC_ACQUIRE) &&
		     ts_of(settle_end) < ts_of((uint32_t)back) + SETTLE_NS;
		     settle_end++)
			;
		res[run].first = first;
		res[run].lost = (uint32_t)lost;
		res[run].back = (uint32_t)back;
		res[run].settle_end = settle_end;
	}

	ncb_sleep_ns(100 * 1000000ull); /* the last datagrams arrive */
	__atomic_store_n(&st.stop, 1, __ATOMIC_RELEASE);
	pthread_join(txt, NULL);
	pthread_join(rxt, NULL);
	printf("run,ok,apply_cmd_us,apply_effect_us,remove_cmd_us,remove_effect_us,"
	       "lost_before_fault,lost_after_recovery\n");
	for (int run = 0; run < runs; run++) {
		const struct result *r = &res[run];

		if (!r->ok) {
			printf("%d,0,%.1f,,%.1f,,,\n", run, r->apply_cmd_us, r->remove_cmd_us);
			continue;
		}
		printf("%d,1,%.1f,%.1f,%.1f,%.1f,%u,%u\n", run, r->apply_cmd_us, r->apply_effect_us,
		       r->remove_cmd_us, r->remove_effect_us, count_lost(r->first, r->lost),
		       count_lost(r->back, r->settle_end));
	}
	{
		uint32_t n = __atomic_load_n(&st.sent, __ATOMIC_ACQUIRE);
		double *gap = malloc(n * sizeof(double));
		size_t k = 0;

		for (uint32_t s = 1; gap && s < n; s++)
			gap[k++] = (double)(st.ts[s] - st.ts[s - 1]) / 1e3;
		printf("# interval_us p50=%.1f p99=%.1f max=%.1f packets=%u failed_runs=%d\n",
		       ncb_percentile(gap, k, 50), ncb_percentile(gap, k, 99),
		       ncb_percentile(gap, k, 100), n, failed);
		free(gap);
	}
	if (p.conn)
		ncb_close(p.conn);
	return 0;
}
