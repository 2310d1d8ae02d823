// SPDX-License-Identifier: GPL-2.0-only
/*
 * ncb_client: talks to netchaosd over its Unix socket, the real control path
 * (newline-delimited JSON, include/netchaos/proto.h).
 *
 *   ncb_client load --sock S [--netns NS] --count N --port-base P
 *       Adds N drop rules on one connection, one at a time, on destination
 *       ports P..P+N-1, alternately TCP and UDP. Prints count, seconds and the
 *       request->reply time percentiles.
 *
 *   ncb_client clients --sock S [--netns NS] --clients K --seconds T --port-base P
 *       K connections (one thread each) that loop add -> clear of a rule of
 *       their own (ports P+k) for T seconds. Prints requests, requests/s and
 *       request->reply time percentiles.
 *
 *   ncb_client req --sock S --json LINE
 *       One request as given; prints the reply; exit status 0 iff "ok":true.
 *
 *   ncb_client list --sock S
 *       One list request. Prints the number of rules, the sum of their
 *       "matched" counters, the reply size and the request->reply time.
 *
 * Bounded: load stops at the first failure; clients stop after T (<= 600) s.
 */
#include <pthread.h>

#include "ncb.h"

/* rules outlive any benchmark run (bench-full's datapath section alone can
 * take 20 minutes); they end with the agent the suite stops at its end */
#define DURATION_MS (3ul * 3600 * 1000)
#define MAX_SAMPLES 2000000

struct shared {
	const char *sock, *netns;
	int port_base;
	double seconds;
	uint64_t start, end;
	pthread_mutex_t lock;
	double *samples; /* request->reply, microseconds */
	size_t n_samples;
	long requests, failures;
};

struct worker {
	struct shared *sh;
	int k;
	pthread_t th;
};

static void add_sample(struct shared *sh, double us)
{
	pthread_mutex_lock(&sh->lock);
	if (sh->n_samples < MAX_SAMPLES)
		sh->samples[sh->n_samples++] = us;
	pthread_mutex_unlock(&sh->lock);
}

static void print_stats(const char *what, double *v, size_t n)
{
	double sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += v[i];
	printf("%s_n=%zu %s_mean_us=%.1f %s_p50_us=%.1f %s_p99_us=%.1f %s_max_us=%.1f", what, n,
	       what, n ? sum / (double)n : 0.0, what, ncb_percentile(v, n, 50), what,
	       ncb_percentile(v, n, 99), what, ncb_percentile(v, n, 100));
}

static int cmd_load(struct shared *sh, long count)
{
	struct ncb_conn *c = malloc(sizeof(*c));
	char req[512];
	uint64_t t0, t1;
	long i;

	if (!c || ncb_connect(c, sh->sock))
		ncb_die("cannot connect to %s: %s", sh->sock, strerror(errno));
	t0 = ncb_now_ns();
	for (i = 0; i < count; i++) {
		uint64_t a = ncb_now_ns();
		const char *reply;

		ncb_add_req(req, sizeof(req), sh->netns, sh->port_base + (int)i,
			    i % 2 ? "udp" : "tcp", DURATION_MS);
		reply = ncb_request(c, req);
		if (!ncb_reply_ok(reply)) {
			fprintf(stderr, "add %ld failed: %s\n", i, reply ? reply : "(no reply)");
			break;
		}
		add_sample(sh, (double)(ncb_now_ns() - a) / 1e3);
	}
	t1 = ncb_now_ns();
	printf("added=%ld seconds=%.3f ", i, (double)(t1 - t0) / 1e9);
	print_stats("add", sh->samples, sh->n_samples);
	printf("\n");
	ncb_close(c);
	free(c);
	return i == count ? 0 : 1;
}

static void *client_main(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;
	struct ncb_conn *c = malloc(sizeof(*c));
	char req[512];
	long reqs = 0, fails = 0;

	if (!c || ncb_connect(c, sh->sock)) {
		fprintf(stderr, "client %d: cannot connect: %s\n", w->k, strerror(errno));
		pthread_mutex_lock(&sh->lock);
		sh->failures++;
		pthread_mutex_unlock(&sh->lock);
		free(c);
		return NULL;
	}
	while (ncb_now_ns() < sh->end) {
		uint64_t a = ncb_now_ns();
		const char *reply;
		long id;

		ncb_add_req(req, sizeof(req), sh->netns, sh->port_base + w->k, "udp", DURATION_MS);
		reply = ncb_request(c, req);
		reqs++;
		if (!ncb_reply_ok(reply)) {
			fails++;
			if (!reply)
				break;
			continue;
		}
		add_sample(sh, (double)(ncb_now_ns() - a) / 1e3);
		id = ncb_reply_id(reply);
		a = ncb_now_ns();
		snprintf(req, sizeof(req), "{\"v\":1,\"cmd\":\"clear\",\"id\":%ld}\n", id);
		reply = ncb_request(c, req);
		reqs++;
		if (!ncb_reply_ok(reply)) {
			fails++;
			if (!reply)
				break;
			continue;
		}
		add_sample(sh, (double)(ncb_now_ns() - a) / 1e3);
	}
	pthread_mutex_lock(&sh->lock);
	sh->requests += reqs;
	sh->failures += fails;
	pthread_mutex_unlock(&sh->lock);
	ncb_close(c);
	free(c);
	return NULL;
}

static int cmd_clients(struct shared *sh, int k)
{
	struct worker *w = calloc((size_t)k, sizeof(*w));
	double secs;

	if (!w)
		ncb_die("out of memory");
	sh->start = ncb_now_ns();
	sh->end = sh->start + (uint64_t)(sh->seconds * 1e9);
	for (int i = 0; i < k; i++) {
		w[i].sh = sh;
		w[i].k = i;
		if (pthread_create(&w[i].th, NULL, client_main, &w[i]))
			ncb_die("pthread_create");
	}
	for (int i = 0; i < k; i++)
		pthread_join(w[i].th, NULL);
	secs = (double)(ncb_now_ns() - sh->start) / 1e9;
	printf("clients=%d requests=%ld failures=%ld seconds=%.3f rps=%.0f ", k, sh->requests,
	       sh->failures, secs, (double)sh->requests / secs);
	print_stats("req", sh->samples, sh->n_samples);
	printf("\n");
	free(w);
	return sh->failures ? 1 : 0;
}

static int cmd_list(struct shared *sh)
{
	struct ncb_conn *c = malloc(sizeof(*c));
	unsigned long long matched = 0;
	const char *reply, *p;
	long rules = 0;
	uint64_t t0, t1;

	if (!c || ncb_connect(c, sh->sock))
		ncb_die("cannot connect to %s: %s", sh->sock, strerror(errno));
	t0 = ncb_now_ns();
	reply = ncb_request(c, "{\"v\":1,\"cmd\":\"list\"}\n");
	t1 = ncb_now_ns();
	if (!ncb_reply_ok(reply))
		ncb_die("list failed: %.200s", reply ? reply : "(no reply)");
	/* every rule object carries one "matched" counter */
	for (p = strstr(reply, "\"matched\":"); p; p = strstr(p + 1, "\"matched\":")) {
		rules++;
		matched += strtoull(p + 10, NULL, 10);
	}
	printf("rules=%ld matched=%llu bytes=%zu ms=%.1f\n", rules, matched, strlen(reply),
	       (double)(t1 - t0) / 1e6);
	ncb_close(c);
	free(c);
	return 0;
}

static int cmd_req(struct shared *sh, const char *json)
{
	struct ncb_conn *c = malloc(sizeof(*c));
	char line[8192];
	const char *reply;
	int ok;

	if (!c || ncb_connect(c, sh->sock))
		ncb_die("cannot connect to %s: %s", sh->sock, strerror(errno));
	snprintf(line, sizeof(line), "%s\n", json);
	reply = ncb_request(c, line);
	ok = ncb_reply_ok(reply);
	printf("%s\n", reply ? reply : "(no reply)");
	ncb_close(c);
	free(c);
	return ok ? 0 : 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: ncb_client load --sock S [--netns NS] --count N --port-base P\n"
			"       ncb_client clients --sock S [--netns NS] --clients K --seconds T "
			"--port-base P\n"
			"       ncb_client list --sock S\n"
			"       ncb_client req --sock S --json LINE\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct shared sh = { .port_base = 20000, .seconds = 1 };
	const char *json = NULL;
	long count = 0;
	int clients = 0;

	if (argc < 2)
		usage();
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			usage();
		if (!strcmp(a, "--sock"))
			sh.sock = v;
		else if (!strcmp(a, "--netns"))
			sh.netns = v;
		else if (!strcmp(a, "--count"))
			count = atol(v);
		else if (!strcmp(a, "--port-base"))
			sh.port_base = atoi(v);
		else if (!strcmp(a, "--clients"))
			clients = atoi(v);
		else if (!strcmp(a, "--seconds"))
			sh.seconds = atof(v);
		else if (!strcmp(a, "--json"))
			json = v;
		else
			usage();
		i++;
	}
	if (!sh.sock)
		usage();
	pthread_mutex_init(&sh.lock, NULL);
	sh.samples = malloc(MAX_SAMPLES * sizeof(double));
	if (!sh.samples)
		ncb_die("out of memory");
	if (!strcmp(argv[1], "load")) {
		if (count < 1 || count > 65535 || sh.port_base < 1 || sh.port_base + count > 65536)
			usage();
		return cmd_load(&sh, count);
	}
	if (!strcmp(argv[1], "list"))
		return cmd_list(&sh);
	if (!strcmp(argv[1], "req")) {
		if (!json)
			usage();
		return cmd_req(&sh, json);
	}
	if (!strcmp(argv[1], "clients")) {
		if (clients < 1 || clients > 1024 || sh.seconds <= 0 || sh.seconds > 600 ||
		    sh.port_base < 1 || sh.port_base + clients > 65536)
			usage();
		return cmd_clients(&sh, clients);
	}
	usage();
}
