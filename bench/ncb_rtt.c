// SPDX-License-Identifier: GPL-2.0-only
/*
 * ncb_rtt: round-trip time of UDP probes between two network namespaces.
 *
 * An echo responder (socket inside --to-ns) sends every probe back; the
 * prober (socket inside --from-ns) sends --count probes, one every
 * --interval-ms, each carrying its send time, and a receiver thread computes
 * each RTT when the echo comes back. Probes not back --wait-ms after the last
 * one was sent are lost. Bounded in count and time.
 *
 * Output: one RTT per line in microseconds ("rtt_us N"), then a summary line
 * "sent=N received=M".
 */
#include <pthread.h>
#include <sys/time.h>

#include "ncb.h"

struct probe {
	uint32_t seq;
	uint32_t pad;
	uint64_t sent_ns;
};

static int echo_fd, probe_fd;
static volatile int stop;
static double *rtts;
static uint8_t *seen;
static int count, received;

static void *echo_main(void *arg)
{
	struct sockaddr_storage from;
	char buf[2048];

	while (!stop) {
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(echo_fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);

		if (n > 0)
			sendto(echo_fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
	}
	return NULL;
}

static void *reply_main(void *arg)
{
	struct probe p;

	while (!stop) {
		ssize_t n = recv(probe_fd, &p, sizeof(p), 0);
		uint64_t now = ncb_now_ns();

		if (n != sizeof(p) || p.seq >= (uint32_t)count || seen[p.seq])
			continue;
		seen[p.seq] = 1;
		rtts[p.seq] = (double)(now - p.sent_ns) / 1e3;
		__atomic_fetch_add(&received, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: ncb_rtt --from-ns A --to-ns B --to ADDR --port P --count N\n"
			"               [--interval-ms I] [--wait-ms W]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *from_ns = NULL, *to_ns = NULL, *to = NULL;
	double interval_ms = 10;
	int port = 0, wait_ms = 2000, home;
	struct timeval tv = { .tv_sec = 0, .tv_usec = 20000 };
	struct ncb_addr dst;
	pthread_t et, rt;
	uint64_t next, end;

	for (int i = 1; i < argc; i += 2) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			usage();
		if (!strcmp(a, "--from-ns")) from_ns = v;
		else if (!strcmp(a, "--to-ns")) to_ns = v;
		else if (!strcmp(a, "--to")) to = v;
		else if (!strcmp(a, "--port")) port = atoi(v);
		else if (!strcmp(a, "--count")) count = atoi(v);
		else if (!strcmp(a, "--interval-ms")) interval_ms = atof(v);
		else if (!strcmp(a, "--wait-ms")) wait_ms = atoi(v);
		else usage();
	}
	if (!to || port <= 0 || port > 65535 || count < 1 || count > 100000 || interval_ms <= 0 ||
	    interval_ms > 10000 || wait_ms < 0 || wait_ms > 60000)
		usage();
	rtts = calloc((size_t)count, sizeof(*rtts));
	seen = calloc((size_t)count, 1);
	if (!rtts || !seen)
		ncb_die("out of memory");

	ncb_parse_addr(to, port, &dst);
	home = ncb_save_netns();
	ncb_enter_netns(to_ns);
	echo_fd = ncb_udp_bind(dst.family, port, 0);
	ncb_enter_netns(from_ns);
	probe_fd = socket(dst.family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (probe_fd < 0 || connect(probe_fd, (struct sockaddr *)&dst.ss, dst.len))
		ncb_die("probe socket: %s", strerror(errno));
	ncb_restore_netns(home);
	setsockopt(echo_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(probe_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (pthread_create(&et, NULL, echo_main, NULL) ||
	    pthread_create(&rt, NULL, reply_main, NULL))
		ncb_die("pthread_create");

	next = ncb_now_ns();
	for (int i = 0; i < count; i++) {
		struct probe p = { .seq = (uint32_t)i };

		ncb_sleep_until(next);
		p.sent_ns = ncb_now_ns();
		send(probe_fd, &p, sizeof(p), 0);
		next += (uint64_t)(interval_ms * 1e6);
	}
	end = ncb_now_ns() + (uint64_t)wait_ms * 1000000ull;
	while (__atomic_load_n(&received, __ATOMIC_ACQUIRE) < count && ncb_now_ns() < end)
		ncb_sleep_ns(1000000);
	stop = 1;
	pthread_join(et, NULL);
	pthread_join(rt, NULL);
	for (int i = 0; i < count; i++)
		if (seen[i])
			printf("rtt_us %.1f\n", rtts[i]);
	printf("sent=%d received=%d\n", count, received);
	return 0;
}
