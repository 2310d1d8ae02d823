// SPDX-License-Identifier: GPL-2.0-only
/*
 * ncb_flood: small-UDP packet rate between network namespaces, with A/B
 * interleaving built in.
 *
 * Each --pair FROM_NS,TO_NS,ADDR gets a receiver socket created inside TO_NS
 * and a sender socket inside FROM_NS (setns(2) per socket), so one process
 * drives every pair without coordination. The sender pushes datagrams of
 * --size payload bytes with sendmmsg() as fast as it can, pinned to --tx-cpu,
 * in --slices time slices of --slice-ms each, taking the pairs in turn
 * (A B A B ...): with a baseline pair and a contender pair, every contender
 * slice has a baseline slice a few milliseconds away, so slow drifts of the
 * machine (other jobs, frequency) hit both alike. The receivers, one thread
 * per pair pinned to --rx-cpu, count what arrives with recvmmsg().
 *
 * Bounded: at most --max-packets per pair and --slices x --slice-ms in all
 * (<= 60 s).
 *
 * Output: one line per pair (key=value): pair, sent, received, seconds (time
 * spent sending on that pair), tx_pps, rx_pps, send_errors.
 */
#include <getopt.h>
#include <pthread.h>
#include <sys/time.h>

#include "ncb.h"

#define MAX_PAIRS 8
#define BATCH	  64
#define RX_VLEN	  256
#define RX_BUF	  256

struct pair {
	char spec[512];
	const char *from_ns, *to_ns, *to;
	struct ncb_addr dst;
	int tx, rx, rx_cpu;
	volatile int stop;
	long sent, received, errors;
	uint64_t busy_ns;
	pthread_t th;
};

static void *rx_main(void *arg)
{
	struct pair *p = arg;
	static __thread char bufs[RX_VLEN][RX_BUF];
	struct mmsghdr msgs[RX_VLEN];
	struct iovec iov[RX_VLEN];

	ncb_pin_cpu(p->rx_cpu);
	for (int i = 0; i < RX_VLEN; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = RX_BUF;
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	while (!p->stop) {
		int n = recvmmsg(p->rx, msgs, RX_VLEN, MSG_WAITFORONE, NULL);

		if (n > 0)
			__atomic_fetch_add(&p->received, n, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: ncb_flood --pair FROM_NS,TO_NS,ADDR [--pair ...] --port P [--size BYTES]\n"
		"                 [--slices N] [--slice-ms MS] [--max-packets N] [--tx-cpu C]\n"
		"                 [--rx-cpu C]\n");
	exit(2);
}

static void split_pair(struct pair *p, const char *arg)
{
	char *a, *b;

	snprintf(p->spec, sizeof(p->spec), "%s", arg);
	a = strchr(p->spec, ',');
	b = a ? strchr(a + 1, ',') : NULL;
	if (!a || !b)
		usage();
	*a = *b = '\0';
	p->from_ns = p->spec;
	p->to_ns = a + 1;
	p->to = b + 1;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "pair", required_argument, NULL, 'P' },
		{ "port", required_argument, NULL, 'p' },
		{ "size", required_argument, NULL, 's' },
		{ "slices", required_argument, NULL, 'n' },
		{ "slice-ms", required_argument, NULL, 'l' },
		{ "max-packets", required_argument, NULL, 'm' },
		{ "tx-cpu", required_argument, NULL, 'T' },
		{ "rx-cpu", required_argument, NULL, 'R' },
		{ 0 },
	};
	static char payload[1500];
	static struct pair pairs[MAX_PAIRS];
	struct mmsghdr msgs[BATCH];
	struct iovec iov = { .iov_base = payload };
	int n_pairs = 0, port = 9000, size = 18, slices = 10, tx_cpu = 0, rx_cpu = 1, c, home;
	double slice_ms = 100;
	long max_packets = 50000000;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'P':
			if (n_pairs == MAX_PAIRS)
				usage();
			split_pair(&pairs[n_pairs++], optarg);
			break;
		case 'p': port = atoi(optarg); break;
		case 's': size = atoi(optarg); break;
		case 'n': slices = atoi(optarg); break;
		case 'l': slice_ms = atof(optarg); break;
		case 'm': max_packets = atol(optarg); break;
		case 'T': tx_cpu = atoi(optarg); break;
		case 'R': rx_cpu = atoi(optarg); break;
		default: usage();
		}
	}
	if (!n_pairs || port <= 0 || port > 65535 || size < 4 || size > 1400 || slices < 1 ||
	    slice_ms <= 0 || slices * slice_ms > 60000 || max_packets <= 0)
		usage();
	iov.iov_len = (size_t)size;
	memset(payload, 'x', sizeof(payload));
	for (int i = 0; i < BATCH; i++) {
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}

	home = ncb_save_netns();
	for (int i = 0; i < n_pairs; i++) {
		struct pair *p = &pairs[i];
		struct timeval tv = { .tv_sec = 0, .tv_usec = 20000 };

		ncb_parse_addr(p->to, port, &p->dst);
		ncb_enter_netns(p->to_ns);
		p->rx = ncb_udp_bind(p->dst.family, port, 8 << 20);
		setsockopt(p->rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		ncb_enter_netns(p->from_ns);
		p->tx = socket(p->dst.family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (p->tx < 0 || connect(p->tx, (struct sockaddr *)&p->dst.ss, p->dst.len))
			ncb_die("sender socket to %s port %d: %s", p->to, port, strerror(errno));
		p->rx_cpu = rx_cpu;
		if (pthread_create(&p->th, NULL, rx_main, p))
			ncb_die("pthread_create");
	}
	ncb_restore_netns(home);
	ncb_pin_cpu(tx_cpu);

	/* let the receivers reach recvmmsg() and ARP resolve, then start at 0 */
	for (int i = 0; i < n_pairs; i++) {
		struct pair *p = &pairs[i];

		for (int k = 0; k < 100 && !__atomic_load_n(&p->received, __ATOMIC_ACQUIRE); k++) {
			send(p->tx, payload, (size_t)size, 0);
			ncb_sleep_ns(10 * 1000000ull);
		}
		if (!__atomic_load_n(&p->received, __ATOMIC_ACQUIRE))
			ncb_die("no datagram reached %s in %s within 1 s", p->to, p->to_ns);
	}
	ncb_sleep_ns(10 * 1000000ull);
	for (int i = 0; i < n_pairs; i++)
		__atomic_store_n(&pairs[i].received, 0, __ATOMIC_RELEASE);

	for (int s = 0; s < slices; s++) {
		struct pair *p = &pairs[s % n_pairs];
		uint64_t t0 = ncb_now_ns(), end = t0 + (uint64_t)(slice_ms * 1e6), t;

		while ((t = ncb_now_ns()) < end && p->sent < max_packets) {
			long want = max_packets - p->sent;
			int n = sendmmsg(p->tx, msgs, (unsigned int)(want < BATCH ? want : BATCH), 0);

			if (n > 0)
				p->sent += n;
			else
				p->errors++;
		}
		p->busy_ns += ncb_now_ns() - t0;
	}
	ncb_sleep_ns(50 * 1000000ull); /* drain */
	for (int i = 0; i < n_pairs; i++) {
		pairs[i].stop = 1;
		pthread_join(pairs[i].th, NULL);
	}
	for (int i = 0; i < n_pairs; i++) {
		struct pair *p = &pairs[i];
		double secs = (double)p->busy_ns / 1e9;

		printf("pair=%d sent=%ld received=%ld seconds=%.6f tx_pps=%.0f rx_pps=%.0f "
		       "send_errors=%ld\n",
		       i, p->sent, p->received, secs, secs > 0 ? (double)p->sent / secs : 0.0,
		       secs > 0 ? (double)p->received / secs : 0.0, p->errors);
	}
	return 0;
}
