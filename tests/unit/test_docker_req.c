// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of the request objects of agent/docker.c against a scripted
 * fake daemon (a thread on a Unix socket in a temporary directory): what is
 * sent, how answers split anyhow are read, streaming events, and every error
 * path's errno and message. No Docker needed. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "docker.h"

#define WEB_ID "4db5c5a7f84fc379adc4651caf0ac0fd0c681eee0cbb2f6bea72e9249b942937"

/* What the fake daemon does with one connection. */
struct script {
	const char *const *pieces; /* written one at a time, NULL-terminated */
	int gap_ms;		   /* pause before each piece */
	bool hold;		   /* keep the connection open at the end, until stop */
	char request[4096];	   /* what it received */
};

struct fake {
	char dir[64];
	char sock[128];
	int lfd;
	pthread_t thread;
	struct script *script;
	int stop_pipe[2];
};

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static void *fake_serve(void *arg)
{
	struct fake *f = arg;
	struct script *s = f->script;
	size_t got = 0;
	int fd = accept(f->lfd, NULL, NULL);

	if (fd < 0)
		return NULL;
	/* the request ends with an empty line (GET, no body) */
	while (got < sizeof(s->request) - 1 && !strstr(s->request, "\r\n\r\n")) {
		ssize_t n = read(fd, s->request + got, sizeof(s->request) - 1 - got);

		if (n <= 0)
			break;
		got += (size_t)n;
		s->request[got] = '\0';
	}
	for (const char *const *p = s->pieces; p && *p; p++) {
		if (s->gap_ms)
			sleep_ms(s->gap_ms);
		if (send(fd, *p, strlen(*p), MSG_NOSIGNAL) < 0) /* the client may be gone */
			break;
	}
	if (s->hold) {
		struct pollfd pfd = { .fd = f->stop_pipe[0], .events = POLLIN };

		poll(&pfd, 1, 10000);
	}
	close(fd);
	return NULL;
}

static struct fake *fake_start(struct script *s)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	assert_non_null(f);
	strcpy(f->dir, "/tmp/nc-docker-test.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->sock, sizeof(f->sock), "%s/docker.sock", f->dir);
	strcpy(sa.sun_path, f->sock);
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 4), 0);
	assert_int_equal(pipe(f->stop_pipe), 0);
	f->script = s;
	assert_int_equal(pthread_create(&f->thread, NULL, fake_serve, f), 0);
	return f;
}

static void fake_stop(struct fake *f)
{
	/* unblock accept() if nobody connected, and a held connection */
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	strcpy(sa.sun_path, f->sock);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		assert_int_equal(write(fd, "\r\n\r\n", 4), 4);
	assert_int_equal(write(f->stop_pipe[1], "x", 1), 1);
	pthread_join(f->thread, NULL);
	close(fd);
	close(f->lfd);
	close(f->stop_pipe[0]);
	close(f->stop_pipe[1]);
	unlink(f->sock);
	rmdir(f->dir);
	free(f);
}

static struct nc_docker dock_at(const char *sock)
{
	struct nc_docker d;
	char err[256];

	assert_int_equal(nc_docker_init(&d, sock, err, sizeof(err)), 0);
	return d;
}

/* One context for a request's callbacks (done and on_event share arg). */
struct rec {
	int calls; /* done */
	int status;
	int n; /* events */
	char actions[8][32];
	int stop_at; /* return -ECANCELED on this event (1-based); 0: never */
};

static void on_done(struct nc_docker_req *req, int status, void *arg)
{
	struct rec *rec = arg;

	rec->calls++;
	rec->status = status;
}

/* The agent's way: one epoll set, re-armed after every step. */
static int drive_epoll(struct nc_docker_req *req, int timeout_ms)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = nc_docker_req_poll_events(req) };
	int ret = -ETIMEDOUT;

	assert_true(ep >= 0);
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, nc_docker_req_fd(req), &ev), 0);
	for (int waited = 0; waited < timeout_ms; waited += 10) {
		struct epoll_event out;

		if (epoll_wait(ep, &out, 1, 10) != 1)
			continue;
		if (nc_docker_req_on_ready(req)) {
			ret = nc_docker_req_status(req);
			break;
		}
		ev.events = nc_docker_req_poll_events(req);
		assert_int_equal(epoll_ctl(ep, EPOLL_CTL_MOD, nc_docker_req_fd(req), &ev), 0);
	}
	epoll_ctl(ep, EPOLL_CTL_DEL, nc_docker_req_fd(req), NULL);
	close(ep);
	return ret;
}

/* ---- inspect ------------------------------------------------------------------ */

/* A complete answer with its Content-Length computed. */
static const char *cl_answer(char *buf, size_t len, const char *status, const char *body)
{
	snprintf(buf, len,
		 "HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
		 status, strlen(body), body);
	return buf;
}

static const char inspect_head[] = "HTTP/1.1 200 OK\r\n"
				   "Api-Version: 1.41\r\n"
				   "Content-Type: application/json\r\n"
				   "Server: Docker/20.10.24+dfsg1 (linux)\r\n"
				   "Transfer-Encoding: chunked\r\n\r\n";

static void test_inspect_epoll(void **state)
{
	/* the Pid is cut between two chunks */
	char first[512], second[64];
	const char *body_a = "{\"Id\":\"" WEB_ID "\",\"Name\":\"/nc-web\",\"State\":{\"Running\":true,"
			     "\"Pid\":1";
	const char *body_b = "234},\"HostConfig\":{\"NetworkMode\":\"host\"}}";
	const char *real[6];
	struct script s = { .gap_ms = 20 };
	struct rec rec = { 0 };
	struct nc_docker_container c;
	struct nc_docker d;
	struct nc_docker_req *req;
	struct fake *f;

	snprintf(first, sizeof(first), "%zx\r\n%s", strlen(body_a), body_a);
	snprintf(second, sizeof(second), "\r\n%zx\r\n", strlen(body_b));
	real[0] = inspect_head;
	real[1] = first;
	real[2] = second;
	real[3] = body_b;
	real[4] = "\r\n0\r\n\r\n";
	real[5] = NULL;
	s.pieces = real;
	f = fake_start(&s);
	d = dock_at(f->sock);

	req = nc_docker_req_new(&d, on_done, &rec);
	assert_non_null(req);
	assert_int_equal(nc_docker_req_inspect(req, "/nc-web", &c), 0);
	assert_int_equal(nc_docker_req_poll_events(req), EPOLLOUT);
	assert_int_equal(drive_epoll(req, 3000), 0);
	assert_int_equal(rec.calls, 1);
	assert_int_equal(rec.status, 0);
	assert_true(nc_docker_req_finished(req));
	assert_int_equal(nc_docker_req_poll_events(req), 0);
	/* a leading '/' is dropped from the URL; Host is required by Go's server */
	assert_non_null(strstr(s.request, "GET /containers/nc-web/json HTTP/1.1\r\n"));
	assert_non_null(strstr(s.request, "\r\nHost: "));
	assert_string_equal(c.id, WEB_ID);
	assert_string_equal(c.name, "nc-web");
	assert_int_equal(c.pid, 1234);
	assert_int_equal(c.netmode, NC_DOCKER_NET_HOST);
	/* finished requests stay finished */
	assert_int_equal(nc_docker_req_on_ready(req), 1);
	assert_int_equal(rec.calls, 1);
	nc_docker_req_free(req);
	fake_stop(f);
}

static void test_inspect_404(void **state)
{
	char answer[512];
	const char *pieces[] = {
		cl_answer(answer, sizeof(answer), "404 Not Found",
			  "{\"message\":\"No such container: nope\"}\n"),
		NULL,
	};
	struct script s = { .pieces = pieces };
	struct fake *f = fake_start(&s);
	struct nc_docker d = dock_at(f->sock);
	struct nc_docker_container c;
	char err[NC_DOCKER_ERR_MAX];

	assert_int_equal(nc_docker_inspect(&d, "nope", &c, 2000, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "no such container: nope");
	fake_stop(f);
}

static void test_inspect_invalid_name(void **state)
{
	struct nc_docker d = dock_at("/nonexistent/docker.sock");
	struct nc_docker_container c;
	char err[NC_DOCKER_ERR_MAX];
	static const char *const bad[] = { "", "/", "a/b", "../x", "a b", "a?b", "-x" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(nc_docker_inspect(&d, bad[i], &c, 100, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "invalid container name"));
	}
}

/* ---- reachability and broken answers ------------------------------------------- */

static void test_unreachable(void **state)
{
	char dir[] = "/tmp/nc-docker-test.XXXXXX", sock[128], err[NC_DOCKER_ERR_MAX], want[256];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct nc_docker_container c;
	struct nc_docker d;
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/docker.sock", dir);
	d = dock_at(sock);
	assert_int_equal(nc_docker_inspect(&d, "web", &c, 500, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "cannot reach Docker at %s: No such file or directory", sock);
	assert_string_equal(err, want);

	/* a stale socket file: nobody listens */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	strcpy(sa.sun_path, sock);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(nc_docker_inspect(&d, "web", &c, 500, err, sizeof(err)), -ECONNREFUSED);
	snprintf(want, sizeof(want), "cannot reach Docker at %s: Connection refused", sock);
	assert_string_equal(err, want);
	unlink(sock);
	rmdir(dir);
}

static void test_closed_without_answer(void **state)
{
	struct script s = { .pieces = NULL };
	struct fake *f = fake_start(&s);
	struct nc_docker d = dock_at(f->sock);
	struct nc_docker_container c;
	char err[NC_DOCKER_ERR_MAX];

	assert_int_equal(nc_docker_inspect(&d, "web", &c, 2000, err, sizeof(err)), -ECONNRESET);
	assert_non_null(strstr(err, "closed the connection without answering"));
	fake_stop(f);
}

static void test_malformed_answer(void **state)
{
	static const char *const garbage[] = { "SSH-2.0-OpenSSH_9.2\r\n\r\n", NULL };
	static const char *const cut[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"Id\":", NULL,
	};
	static const char *const not_json[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", NULL,
	};
	struct {
		const char *const *pieces;
		int err;
		const char *msg;
	} cases[] = {
		{ garbage, -EPROTO, "malformed HTTP answer from Docker" },
		{ cut, -EPROTO, "malformed HTTP answer from Docker" },
		{ not_json, -EPROTO, "invalid JSON from Docker" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct script s = { .pieces = cases[i].pieces };
		struct fake *f = fake_start(&s);
		struct nc_docker d = dock_at(f->sock);
		struct nc_docker_container c;
		char err[NC_DOCKER_ERR_MAX];

		assert_int_equal(nc_docker_inspect(&d, "web", &c, 2000, err, sizeof(err)),
				 cases[i].err);
		assert_non_null(strstr(err, cases[i].msg));
		fake_stop(f);
	}
}

static void test_timeout(void **state)
{
	struct script s = { .pieces = NULL, .hold = true };
	struct fake *f = fake_start(&s);
	struct nc_docker d = dock_at(f->sock);
	struct nc_docker_container c;
	char err[NC_DOCKER_ERR_MAX], want[256];
	struct timespec t0, t1;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(nc_docker_inspect(&d, "web", &c, 150, err, sizeof(err)), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	/* the fake holds the connection until fake_stop(): without the timeout
	 * the call would not return; the upper bound leaves room for a loaded
	 * machine under ASan (1 s was seen to be too tight) */
	assert_true(ms >= 150 && ms < 5000);
	snprintf(want, sizeof(want), "Docker at %s did not answer within 150 ms", f->sock);
	assert_string_equal(err, want);
	fake_stop(f);
}

/* ---- list ------------------------------------------------------------------------ */

static void test_list_service(void **state)
{
	char answer[512];
	const char *pieces[] = {
		cl_answer(answer, sizeof(answer), "200 OK",
			  "[{\"Id\":\"" WEB_ID "\",\"Names\":[\"/demo-web-1\"],"
			  "\"Labels\":{\"com.docker.compose.service\":\"web\"},"
			  "\"State\":\"running\"}]\n"),
		NULL,
	};
	struct script s = { .pieces = pieces };
	struct fake *f = fake_start(&s);
	struct nc_docker d = dock_at(f->sock);
	struct nc_docker_list l;
	char err[NC_DOCKER_ERR_MAX];

	assert_int_equal(nc_docker_list_service(&d, "web", &l, 2000, err, sizeof(err)), 0);
	assert_non_null(strstr(s.request, "GET /containers/json?filters=%7B%22label%22%3A%5B%22"
					  "com.docker.compose.service%3Dweb%22%5D%7D HTTP/1.1\r\n"));
	assert_int_equal(l.count, 1);
	assert_string_equal(l.items[0].name, "demo-web-1");
	assert_string_equal(l.items[0].service, "web");
	nc_docker_list_free(&l);
	fake_stop(f);
}

static void test_list_api_error(void **state)
{
	static const char *const pieces[] = {
		"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
		"Transfer-Encoding: chunked\r\n\r\n"
		"20\r\n{\"message\":\"invalid filter 'x'\"}\r\n0\r\n\r\n",
		NULL,
	};
	struct script s = { .pieces = pieces };
	struct fake *f = fake_start(&s);
	struct nc_docker d = dock_at(f->sock);
	const char *labels[] = { "x" };
	struct nc_docker_list l;
	char err[NC_DOCKER_ERR_MAX], want[256];

	assert_int_equal(nc_docker_list(&d, labels, 1, &l, 2000, err, sizeof(err)), -EIO);
	snprintf(want, sizeof(want), "Docker at %s: invalid filter 'x'", f->sock);
	assert_string_equal(err, want);
	assert_null(l.items);
	fake_stop(f);
}

/* ---- events ---------------------------------------------------------------------- */

#define EV(action, name)                                                                        \
	"{\"status\":\"" action "\",\"id\":\"" WEB_ID "\",\"Type\":\"container\",\"Action\":\"" \
	action "\",\"Actor\":{\"ID\":\"" WEB_ID "\",\"Attributes\":{\"name\":\"" name "\"}},"   \
	"\"time\":1,\"timeNano\":100}\n"

static int on_event(struct nc_docker_req *req, const struct nc_docker_event *ev, void *arg)
{
	struct rec *rec = arg;

	assert_string_equal(ev->id, WEB_ID);
	assert_string_equal(ev->name, "nc-web");
	if (rec->n < 8)
		snprintf(rec->actions[rec->n], sizeof(rec->actions[0]), "%s", ev->action);
	rec->n++;
	return rec->stop_at && rec->n >= rec->stop_at ? -ECANCELED : 0;
}

/* Chunk framing around a payload. */
static void chunk(char *out, size_t outlen, const char *payload)
{
	snprintf(out, outlen, "%zx\r\n%s\r\n", strlen(payload), payload);
}

static void test_events_stream(void **state)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
				   "Transfer-Encoding: chunked\r\n\r\n";
	static const char two[] = EV("die", "nc-web") EV("start", "nc-web");
	static const char net[] = "{\"Type\":\"network\",\"Action\":\"connect\",\"Actor\":"
				  "{\"ID\":\"abc\",\"Attributes\":{}}}\n";
	static const char restart[] = EV("restart", "nc-web");
	char c1[1024], c2[1024], c3[1024], c4[1024], c5[1024], half[1024];
	const char *pieces[8];
	struct script s = { .gap_ms = 30, .hold = true };
	struct rec rec = { .stop_at = 3 };
	struct nc_docker_req *req;
	struct nc_docker d;
	struct fake *f;
	size_t cut = 40;

	/* two events in one chunk; a non-container one; one split over chunks */
	chunk(c1, sizeof(c1), two);
	chunk(c2, sizeof(c2), net);
	memcpy(half, restart, cut);
	half[cut] = '\0';
	chunk(c3, sizeof(c3), half);
	chunk(c4, sizeof(c4), restart + cut);
	chunk(c5, sizeof(c5), EV("destroy", "nc-web"));
	pieces[0] = head;
	pieces[1] = c1;
	pieces[2] = c2;
	pieces[3] = c3;
	pieces[4] = c4;
	pieces[5] = c5;
	pieces[6] = NULL;
	s.pieces = pieces;
	f = fake_start(&s);
	d = dock_at(f->sock);

	req = nc_docker_req_new(&d, on_done, &rec);
	assert_non_null(req);
	assert_int_equal(nc_docker_req_events(req, NULL, 0, 0, on_event), 0);
	assert_false(nc_docker_req_streaming(req));
	/* subscription accepted as soon as the headers are in, before any event */
	assert_int_equal(nc_docker_req_wait(req, 2000, true), 0);
	assert_true(nc_docker_req_streaming(req));
	assert_int_equal(rec.n, 0);
	assert_non_null(strstr(s.request, "GET /events?filters=%7B%22type%22%3A%5B%22container"));

	assert_int_equal(drive_epoll(req, 3000), -ECANCELED);
	assert_int_equal(rec.n, 3);
	assert_string_equal(rec.actions[0], "die");
	assert_string_equal(rec.actions[1], "start");
	assert_string_equal(rec.actions[2], "restart");
	assert_int_equal(rec.calls, 1);
	assert_int_equal(rec.status, -ECANCELED);
	nc_docker_req_free(req);
	fake_stop(f);
}

static void test_events_daemon_gone(void **state)
{
	char fixed[1024];
	const char *real[3];
	struct script s = { 0 };
	struct rec rec = { 0 };
	struct nc_docker_req *req;
	struct nc_docker d;
	struct fake *f;

	chunk(fixed, sizeof(fixed), EV("start", "nc-web"));
	real[0] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
	real[1] = fixed;
	real[2] = NULL;
	s.pieces = real;
	f = fake_start(&s);
	d = dock_at(f->sock);
	req = nc_docker_req_new(&d, NULL, &rec);
	assert_int_equal(nc_docker_req_events(req, NULL, 0, 0, on_event), 0);
	assert_int_equal(nc_docker_req_wait(req, 2000, false), -ECONNRESET);
	assert_int_equal(rec.n, 1);
	assert_non_null(strstr(nc_docker_req_error(req), "closed the event stream"));
	nc_docker_req_free(req);
	fake_stop(f);
}

static void test_events_refused(void **state)
{
	char answer[512];
	const char *pieces[] = {
		cl_answer(answer, sizeof(answer), "400 Bad Request",
			  "{\"message\":\"Invalid filter 'event=bogus'\"}\n"),
		NULL,
	};
	struct script s = { .pieces = pieces };
	struct fake *f = fake_start(&s);
	struct nc_docker d = dock_at(f->sock);
	struct rec rec = { 0 };
	struct nc_docker_req *req = nc_docker_req_new(&d, NULL, &rec);

	assert_int_equal(nc_docker_req_events(req, NULL, 0, 0, on_event), 0);
	/* waiting for the subscription ends with the refusal */
	assert_int_equal(nc_docker_req_wait(req, 2000, true), -EINVAL);
	assert_non_null(strstr(nc_docker_req_error(req), "Invalid filter 'event=bogus'"));
	assert_int_equal(rec.n, 0);
	nc_docker_req_free(req);
	fake_stop(f);
}

static void test_free_while_running(void **state)
{
	struct script s = { .hold = true };
	struct fake *f = fake_start(&s);
	struct nc_docker d = dock_at(f->sock);
	struct rec rec = { 0 };
	struct nc_docker_req *req = nc_docker_req_new(&d, on_done, &rec);

	assert_int_equal(nc_docker_req_events(req, NULL, 0, 0, on_event), 0);
	assert_int_equal(nc_docker_req_wait(req, 100, true), -ETIMEDOUT);
	nc_docker_req_free(req); /* cancel: no callback */
	assert_int_equal(rec.calls, 0);
	fake_stop(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inspect_epoll),
		cmocka_unit_test(test_inspect_404),
		cmocka_unit_test(test_inspect_invalid_name),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_closed_without_answer),
		cmocka_unit_test(test_malformed_answer),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_list_service),
		cmocka_unit_test(test_list_api_error),
		cmocka_unit_test(test_events_stream),
		cmocka_unit_test(test_events_daemon_gone),
		cmocka_unit_test(test_events_refused),
		cmocka_unit_test(test_free_while_running),
	};

	return cmocka_run_group_tests_name("docker_req", tests, NULL, NULL);
}
