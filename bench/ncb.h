/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Small helpers shared by the benchmark tools (bench/ncb_*.c): clocks,
 * entering a named network namespace, CPU pinning, addresses, percentiles and
 * a minimal line client for the agent's Unix socket. Header-only on purpose:
 * each tool is one .c file plus this.
 */
#ifndef NCB_H
#define NCB_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static inline void ncb_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static inline void ncb_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("error: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static inline uint64_t ncb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void ncb_sleep_until(uint64_t t_ns)
{
	struct timespec ts = { .tv_sec = (time_t)(t_ns / 1000000000ull),
			       .tv_nsec = (long)(t_ns % 1000000000ull) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static inline void ncb_sleep_ns(uint64_t ns)
{
	ncb_sleep_until(ncb_now_ns() + ns);
}

/* Enter the network namespace /run/netns/NAME (or a path) for this thread;
 * NULL or "" stays. */
static inline void ncb_enter_netns(const char *name)
{
	char path[512];
	int fd;

	if (!name || !*name)
		return;
	if (strchr(name, '/'))
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		ncb_die("open %s: %s", path, strerror(errno));
	if (setns(fd, CLONE_NEWNET))
		ncb_die("setns %s: %s", path, strerror(errno));
	close(fd);
}

/* The caller's own namespace, to come back to after creating sockets. */
static inline int ncb_save_netns(void)
{
	int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		ncb_die("open /proc/thread-self/ns/net: %s", strerror(errno));
	return fd;
}

static inline void ncb_restore_netns(int fd)
{
	if (setns(fd, CLONE_NEWNET))
		ncb_die("setns back: %s", strerror(errno));
	close(fd);
}

static inline void ncb_pin_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		fprintf(stderr, "warning: cannot pin to CPU %d: %s\n", cpu, strerror(errno));
}

struct ncb_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	int family;
};

static inline void ncb_parse_addr(const char *s, int port, struct ncb_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &((struct sockaddr_in *)&a->ss)->sin_addr) == 1) {
		struct sockaddr_in *in = (struct sockaddr_in *)&a->ss;

		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		a->len = sizeof(*in);
		a->family = AF_INET;
	} else if (inet_pton(AF_INET6, s, &((struct sockaddr_in6 *)&a->ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		a->len = sizeof(*in6);
		a->family = AF_INET6;
	} else {
		ncb_die("not an IP address: %s", s);
	}
}

/* A UDP socket bound to the wildcard address of `family` and `port`. */
static inline int ncb_udp_bind(int family, int port, int rcvbuf)
{
	struct ncb_addr any;
	int fd, one = 1;

	ncb_parse_addr(family == AF_INET6 ? "::" : "0.0.0.0", port, &any);
	fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		ncb_die("socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)&any.ss, any.len))
		ncb_die("bind port %d: %s", port, strerror(errno));
	return fd;
}

static inline int ncb_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile (p in 0..100) of v[0..n), sorted in place. */
static inline double ncb_percentile(double *v, size_t n, double p)
{
	size_t rank;

	if (!n)
		return 0.0 / 0.0;
	qsort(v, n, sizeof(*v), ncb_cmp_double);
	rank = (size_t)((p / 100.0) * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

/* ---- the agent's socket: one JSON request per line, one reply per line ---- */

struct ncb_conn {
	int fd;
	char buf[1 << 16]; /* bytes read, not yet returned */
	size_t len;
	char *line;	   /* the last reply line */
	size_t cap;
};

static inline int ncb_connect(struct ncb_conn *c, const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	memset(c, 0, sizeof(*c));
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (connect(c->fd, (struct sockaddr *)&sun, sizeof(sun))) {
		int err = -errno;

		close(c->fd);
		c->fd = -1;
		return err;
	}
	return 0;
}

static inline void ncb_close(struct ncb_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->line);
	c->line = NULL;
	c->cap = 0;
}

/* Append n bytes to the reply line being assembled. */
static inline int ncb_line_add(struct ncb_conn *c, size_t *ll, const char *p, size_t n)
{
	if (*ll + n + 1 > c->cap) {
		size_t cap = (*ll + n + 1) * 2;
		char *g = realloc(c->line, cap);

		if (!g)
			return -1;
		c->line = g;
		c->cap = cap;
	}
	memcpy(c->line + *ll, p, n);
	*ll += n;
	c->line[*ll] = '\0';
	return 0;
}

/*
 * Send one request line and read one reply line. Returns the reply
 * (NUL-terminated, without the newline; valid until the next call) or NULL.
 */
static inline const char *ncb_request(struct ncb_conn *c, const char *req)
{
	size_t n = strlen(req), off = 0, ll = 0;

	while (off < n) {
		ssize_t w = send(c->fd, req + off, n - off, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return NULL;
		}
		off += (size_t)w;
	}
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		size_t take = nl ? (size_t)(nl - c->buf) : c->len;
		ssize_t r;

		if (ncb_line_add(c, &ll, c->buf, take))
			return NULL;
		if (nl) {
			c->len -= take + 1;
			memmove(c->buf, nl + 1, c->len);
			return c->line;
		}
		c->len = 0;
		r = recv(c->fd, c->buf, sizeof(c->buf), 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return NULL;
		c->len = (size_t)r;
	}
}

static inline bool ncb_reply_ok(const char *reply)
{
	return reply && strstr(reply, "\"ok\":true");
}

/* The first "id":N of a reply (the rule's id in an add reply), or -1. */
static inline long ncb_reply_id(const char *reply)
{
	const char *p = reply ? strstr(reply, "\"id\":") : NULL;

	return p ? strtol(p + 5, NULL, 10) : -1;
}

/* An add request: drop traffic to dport `port` of protocol `proto`. */
static inline void ncb_add_req(char *buf, size_t len, const char *netns, int port,
			       const char *proto, unsigned long duration_ms)
{
	snprintf(buf, len,
		 "{\"v\":1,\"cmd\":\"add\",\"fault\":{\"kind\":\"drop\"},"
		 "\"target\":{\"dports\":[\"%d\"],\"protos\":[\"%s\"]%s%s%s},"
		 "\"duration_ms\":%lu}\n",
		 port, proto, netns && *netns ? ",\"netns\":\"" : "", netns ? netns : "",
		 netns && *netns ? "\"" : "", duration_ms);
}

#endif /* NCB_H */
