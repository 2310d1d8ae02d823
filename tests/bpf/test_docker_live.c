// SPDX-License-Identifier: GPL-2.0-only
/* agent/docker.c against a real dockerd: inspect by name, id and prefix,
 * missing and stopped containers, host / container:X / none network modes
 * checked against the netns files themselves, label and service lists,
 * several requests on one epoll, and a restart seen through the events
 * stream. Containers are named nclive<pid>-* and removed at the end.
 *
 * The daemon: NC_DOCKER_SOCK if set; else the private one of
 * tests/docker/dockerd-up.sh (run from the source tree), started if needed
 * and then stopped again unless NC_DOCKER_KEEP=1. Skipped (TAP "ok ... #
 * SKIP") when not root or when this machine cannot run dockerd. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "docker.h"

#define IMAGE	   "netchaos-busybox:test"
#define TIMEOUT_MS 5000

extern char **environ;

#define UP_SCRIPT   "tests/docker/dockerd-up.sh"
#define DOWN_SCRIPT "tests/docker/dockerd-down.sh"
#define SKIP_EXIT   77 /* dockerd-up.sh: cannot run here */

static struct {
	bool ready;	     /* daemon reachable, containers created */
	bool started_daemon; /* we ran dockerd-up.sh: stop it at the end */
	struct nc_docker dock;
	char docker_cli[64];
	char prefix[32];
	char web_id[NC_DOCKER_ID_MAX];
	char skip_why[NC_DOCKER_ERR_MAX];
} live;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run the docker CLI against our daemon; the first line of its stdout into
 * out. Its stderr (warnings such as "IPv4 forwarding is disabled", which is
 * deliberate here) is shown only when it fails. */
static int docker_cli(char *out, size_t outlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int docker_cli(char *out, size_t outlen, const char *fmt, ...)
{
	char args[1024], cmd[1600], line[512] = "", errfile[] = "/tmp/nclive-err.XXXXXX";
	va_list ap;
	FILE *p;
	int status;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	int efd = mkstemp(errfile);

	if (efd < 0)
		return -errno;
	close(efd);
	/* only our own names and constants reach the shell */
	snprintf(cmd, sizeof(cmd), "%s --host unix://%s %s 2>%s", live.docker_cli,
		 live.dock.sock_path, args, errfile);
	p = popen(cmd, "r");
	if (!p) {
		unlink(errfile);
		return -errno;
	}
	if (fgets(line, sizeof(line), p))
		line[strcspn(line, "\n")] = '\0';
	while (fgetc(p) != EOF)
		;
	status = pclose(p);
	if (out)
		snprintf(out, outlen, "%s", line);
	if (status) {
		FILE *e = fopen(errfile, "r");

		printf("# `docker %s` failed\n", args);
		while (e && fgets(line, sizeof(line), e))
			printf("#   %s", line);
		if (e)
			fclose(e);
	}
	unlink(errfile);
	return status ? -EIO : 0;
}

/* setup() failed to create the containers: the tests cannot run */
static void skip_unless_ready(void)
{
	if (!live.ready)
		fail_msg("containers not created (see above)");
}

static ino_t netns_ino(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_ino;
}

static void inspect_ok(const char *ref, struct nc_docker_container *c)
{
	char err[NC_DOCKER_ERR_MAX];
	int ret = nc_docker_inspect(&live.dock, ref, c, TIMEOUT_MS, err, sizeof(err));

	if (ret)
		printf("# inspect %s: %s\n", ref, err);
	assert_int_equal(ret, 0);
}

static int setup(void **state)
{
	char out[256];
	int64_t t0;
	struct {
		const char *suffix;
		const char *opt;
		const char *opt_name; /* opt takes PREFIX + this, or NULL */
	} runs[] = {
		{ "web", "--label com.docker.compose.service=", "-svc" },
		{ "web2", "--label com.docker.compose.service=", "-svc" },
		{ "side", "--network container:", "-web" },
		{ "hostnet", "--network host", NULL },
		{ "nonet", "--network none", NULL },
	};

	snprintf(live.prefix, sizeof(live.prefix), "nclive%d", (int)getpid());
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		char opts[256];

		snprintf(opts, sizeof(opts), "%s%s%s", runs[i].opt,
			 runs[i].opt_name ? live.prefix : "", runs[i].opt_name ? runs[i].opt_name : "");
		t0 = now_ms();
		/* --init: PID 1 forwards the stop signal, so restart/rm take no 10 s */
		if (docker_cli(out, sizeof(out),
			       "run -d --init --pull=never --name %s-%s --label netchaos.test=%s %s "
			       IMAGE " sleep 3600",
			       live.prefix, runs[i].suffix, live.prefix, opts))
			return -1;
		printf("# docker run -d %s-%s: %lld ms\n", live.prefix, runs[i].suffix,
		       (long long)(now_ms() - t0));
		if (i == 0)
			snprintf(live.web_id, sizeof(live.web_id), "%.64s", out);
	}
	if (docker_cli(NULL, 0, "create --pull=never --name %s-stopped --label netchaos.test=%s "
			  IMAGE " true",
		       live.prefix, live.prefix))
		return -1;
	live.ready = true;
	return 0;
}

static int teardown(void **state)
{
	if (live.ready)
		docker_cli(NULL, 0, "rm -f %s-web %s-web2 %s-side %s-hostnet %s-nonet %s-stopped",
			   live.prefix, live.prefix, live.prefix, live.prefix, live.prefix,
			   live.prefix);
	return 0;
}

/* ---- inspect -------------------------------------------------------------------- */

static void test_inspect_by_name(void **state)
{
	struct nc_docker_container c;
	char name[64];

	skip_unless_ready();
	snprintf(name, sizeof(name), "%s-web", live.prefix);
	inspect_ok(name, &c);
	assert_string_equal(c.id, live.web_id);
	assert_string_equal(c.name, name);
	assert_true(c.running);
	assert_true(c.pid > 0);
	assert_int_equal(c.netmode, NC_DOCKER_NET_BRIDGE);
	snprintf(name, sizeof(name), "%s-svc", live.prefix);
	assert_string_equal(c.service, name);
	/* its own netns, the one Docker bind-mounted at SandboxKey */
	assert_true(netns_ino(c.netns_path) != netns_ino("/proc/self/ns/net"));
	assert_true(c.sandbox_key[0] != '\0');
	assert_true(netns_ino(c.netns_path) == netns_ino(c.sandbox_key));
}

static void test_inspect_by_slash_name_id_prefix(void **state)
{
	struct nc_docker_container c;
	char ref[NC_DOCKER_ID_MAX + 1];

	skip_unless_ready();
	snprintf(ref, sizeof(ref), "/%s-web", live.prefix);
	inspect_ok(ref, &c);
	assert_string_equal(c.id, live.web_id);

	inspect_ok(live.web_id, &c);
	assert_string_equal(c.id, live.web_id);

	snprintf(ref, sizeof(ref), "%.12s", live.web_id);
	inspect_ok(ref, &c);
	assert_string_equal(c.id, live.web_id);
}

static void test_inspect_unknown(void **state)
{
	struct nc_docker_container c;
	char err[NC_DOCKER_ERR_MAX], name[64], want[128];

	skip_unless_ready();
	snprintf(name, sizeof(name), "%s-nope", live.prefix);
	assert_int_equal(nc_docker_inspect(&live.dock, name, &c, TIMEOUT_MS, err, sizeof(err)),
			 -ENOENT);
	snprintf(want, sizeof(want), "no such container: %s", name);
	assert_string_equal(err, want);
}

static void test_inspect_stopped(void **state)
{
	struct nc_docker_container c;
	char name[64];

	skip_unless_ready();
	snprintf(name, sizeof(name), "%s-stopped", live.prefix);
	inspect_ok(name, &c);
	assert_false(c.running);
	assert_int_equal(c.pid, 0);
	assert_string_equal(c.netns_path, "");
}

static void test_network_host(void **state)
{
	struct nc_docker_container c;
	char name[64];

	skip_unless_ready();
	snprintf(name, sizeof(name), "%s-hostnet", live.prefix);
	inspect_ok(name, &c);
	assert_int_equal(c.netmode, NC_DOCKER_NET_HOST);
	assert_string_equal(c.network_mode, "host");
	/* the agent must refuse or warn: this is the host's own netns */
	assert_true(netns_ino(c.netns_path) == netns_ino("/proc/self/ns/net"));
}

static void test_network_container(void **state)
{
	struct nc_docker_container c, web;
	char name[64];

	skip_unless_ready();
	snprintf(name, sizeof(name), "%s-web", live.prefix);
	inspect_ok(name, &web);
	snprintf(name, sizeof(name), "%s-side", live.prefix);
	inspect_ok(name, &c);
	assert_int_equal(c.netmode, NC_DOCKER_NET_CONTAINER);
	assert_string_equal(c.netmode_target, live.web_id); /* Docker stores the id */
	assert_string_equal(c.sandbox_key, "");
	assert_true(netns_ino(c.netns_path) == netns_ino(web.netns_path));
}

static void test_network_none(void **state)
{
	struct nc_docker_container c;
	char name[64];

	skip_unless_ready();
	snprintf(name, sizeof(name), "%s-nonet", live.prefix);
	inspect_ok(name, &c);
	assert_int_equal(c.netmode, NC_DOCKER_NET_NONE);
	assert_true(netns_ino(c.netns_path) != netns_ino("/proc/self/ns/net"));
}

/* ---- lists ---------------------------------------------------------------------- */

static bool list_has(const struct nc_docker_list *l, const char *name)
{
	for (size_t i = 0; i < l->count; i++)
		if (!strcmp(l->items[i].name, name))
			return true;
	return false;
}

static void test_list_label_and_service(void **state)
{
	struct nc_docker_list l;
	char arg[128], label[128], name[64], err[NC_DOCKER_ERR_MAX];
	const char *labels[] = { label };

	skip_unless_ready();
	/* --label netchaos.test=P; running only: the never-started one is not listed */
	snprintf(arg, sizeof(arg), "netchaos.test=%s", live.prefix);
	assert_int_equal(nc_docker_label_filter(arg, label, sizeof(label)), 0);
	assert_int_equal(nc_docker_list(&live.dock, labels, 1, &l, TIMEOUT_MS, err, sizeof(err)), 0);
	assert_int_equal(l.count, 5);
	snprintf(name, sizeof(name), "%s-stopped", live.prefix);
	assert_false(list_has(&l, name));
	nc_docker_list_free(&l);

	snprintf(name, sizeof(name), "%s-svc", live.prefix);
	assert_int_equal(nc_docker_list_service(&live.dock, name, &l, TIMEOUT_MS, err, sizeof(err)),
			 0);
	assert_int_equal(l.count, 2);
	for (size_t i = 0; i < l.count; i++) {
		assert_string_equal(l.items[i].service, name);
		assert_true(l.items[i].running);
	}
	snprintf(name, sizeof(name), "%s-web2", live.prefix);
	assert_true(list_has(&l, name));
	nc_docker_list_free(&l);

	/* two label filters are ANDed */
	{
		char svc[128];
		const char *both[] = { label, svc };

		snprintf(svc, sizeof(svc), NC_DOCKER_SERVICE_LABEL "=%s-svc", live.prefix);
		assert_int_equal(nc_docker_list(&live.dock, both, 2, &l, TIMEOUT_MS, err,
						sizeof(err)),
				 0);
		assert_int_equal(l.count, 2);
		nc_docker_list_free(&l);
	}
}

/* ---- the agent's way: several requests in flight on one epoll ---------------------- */

static void count_done(struct nc_docker_req *req, int status, void *arg)
{
	int *left = arg;

	assert_int_equal(status, 0);
	(*left)--;
}

static void test_concurrent_requests(void **state)
{
	struct nc_docker_container c[3];
	struct nc_docker_list l;
	struct nc_docker_req *reqs[4];
	char names[3][64];
	int ep, left = 4;
	int64_t t0;

	skip_unless_ready();
	ep = epoll_create1(EPOLL_CLOEXEC);
	assert_true(ep >= 0);
	snprintf(names[0], sizeof(names[0]), "%s-web", live.prefix);
	snprintf(names[1], sizeof(names[1]), "%s-side", live.prefix);
	snprintf(names[2], sizeof(names[2]), "%s-stopped", live.prefix);
	t0 = now_ms();
	for (int i = 0; i < 4; i++) {
		struct epoll_event ev;

		reqs[i] = nc_docker_req_new(&live.dock, count_done, &left);
		assert_non_null(reqs[i]);
		if (i < 3)
			assert_int_equal(nc_docker_req_inspect(reqs[i], names[i], &c[i]), 0);
		else
			assert_int_equal(nc_docker_req_list(reqs[i], NULL, 0, &l), 0);
		ev.events = nc_docker_req_poll_events(reqs[i]);
		ev.data.ptr = reqs[i];
		assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, nc_docker_req_fd(reqs[i]), &ev), 0);
	}
	while (left && now_ms() - t0 < TIMEOUT_MS) {
		struct epoll_event evs[4];
		int n = epoll_wait(ep, evs, 4, 100);

		for (int i = 0; i < n; i++) {
			struct nc_docker_req *req = evs[i].data.ptr;
			struct epoll_event ev = { .data.ptr = req };

			if (nc_docker_req_on_ready(req)) {
				epoll_ctl(ep, EPOLL_CTL_DEL, nc_docker_req_fd(req), NULL);
				continue;
			}
			ev.events = nc_docker_req_poll_events(req);
			epoll_ctl(ep, EPOLL_CTL_MOD, nc_docker_req_fd(req), &ev);
		}
	}
	printf("# 3 inspects + 1 list in flight together: %lld ms\n", (long long)(now_ms() - t0));
	assert_int_equal(left, 0);
	assert_string_equal(c[0].id, live.web_id);
	assert_int_equal(c[1].netmode, NC_DOCKER_NET_CONTAINER);
	assert_int_equal(c[2].pid, 0);
	assert_true(l.count >= 5);
	nc_docker_list_free(&l);
	for (int i = 0; i < 4; i++)
		nc_docker_req_free(reqs[i]);
	close(ep);
}

/* ---- events ---------------------------------------------------------------------- */

struct restart_watch {
	char seen[8][32];
	int n;
	bool started;
};

static int watch_event(struct nc_docker_req *req, const struct nc_docker_event *ev, void *arg)
{
	struct restart_watch *w = arg;

	if (strcmp(ev->id, live.web_id))
		return 0;
	if (w->n < 8)
		snprintf(w->seen[w->n++], sizeof(w->seen[0]), "%s", ev->action);
	if (!strcmp(ev->action, "start")) {
		w->started = true;
		return -ECANCELED; /* seen what we waited for */
	}
	return 0;
}

static void test_events_restart(void **state)
{
	struct restart_watch w = { 0 };
	struct nc_docker_container before, after;
	struct nc_docker_req *req;
	char label[128], name[64], host[160];
	const char *labels[] = { label };
	char *argv[] = { live.docker_cli, "--host", host, "restart", "-t", "0", name, NULL };
	posix_spawn_file_actions_t quiet;
	int64_t t0, t_event, t_pid;
	pid_t cli;
	int status, ret;

	skip_unless_ready();
	snprintf(name, sizeof(name), "%s-web", live.prefix);
	snprintf(host, sizeof(host), "unix://%s", live.dock.sock_path);
	snprintf(label, sizeof(label), "netchaos.test=%s", live.prefix);
	inspect_ok(name, &before);

	req = nc_docker_req_new(&live.dock, NULL, &w);
	assert_non_null(req);
	assert_int_equal(nc_docker_req_events(req, labels, 1, 0, watch_event), 0);
	assert_int_equal(nc_docker_req_wait(req, TIMEOUT_MS, true), 0); /* subscribed */

	t0 = now_ms();
	/* the CLI runs beside our event loop, its output kept out of the TAP stream */
	posix_spawn_file_actions_init(&quiet);
	posix_spawn_file_actions_addopen(&quiet, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	assert_int_equal(posix_spawnp(&cli, live.docker_cli, &quiet, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&quiet);
	ret = nc_docker_req_wait(req, 2000, false);
	t_event = now_ms() - t0;
	if (ret != -ECANCELED)
		printf("# events: %d %s\n", ret, nc_docker_req_error(req));
	assert_int_equal(ret, -ECANCELED);
	assert_true(w.started);
	/* the old process died first */
	assert_true(w.n >= 2);
	assert_string_equal(w.seen[0], "die");
	assert_string_equal(w.seen[w.n - 1], "start");
	nc_docker_req_free(req);

	inspect_ok(name, &after);
	t_pid = now_ms() - t0;
	printf("# restart: start event after %lld ms, new pid %d (was %d) after %lld ms\n",
	       (long long)t_event, after.pid, before.pid, (long long)t_pid);
	assert_true(after.running);
	assert_true(after.pid > 0 && after.pid != before.pid);
	assert_true(t_pid < 2000);
	assert_int_equal(waitpid(cli, &status, 0), cli);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static bool daemon_answers(const char *sock)
{
	struct nc_docker_list l;
	char err[NC_DOCKER_ERR_MAX];

	if (nc_docker_init(&live.dock, sock, err, sizeof(err)) ||
	    nc_docker_list(&live.dock, NULL, 0, &l, TIMEOUT_MS, err, sizeof(err))) {
		snprintf(live.skip_why, sizeof(live.skip_why), "%s", err);
		return false;
	}
	nc_docker_list_free(&l);
	return true;
}

/* 0: live.dock answers; 1: skip (reason in skip_why); -1: broken. */
static int find_daemon(void)
{
	const char *sock = getenv("NC_DOCKER_SOCK");
	char path[256] = "";
	int64_t t0 = now_ms();
	FILE *p;
	int status;

	if (geteuid()) {
		snprintf(live.skip_why, sizeof(live.skip_why), "needs root");
		return 1;
	}
	if (sock && *sock)
		return daemon_answers(sock) ? 0 : -1;
	if (access(UP_SCRIPT, X_OK)) {
		snprintf(live.skip_why, sizeof(live.skip_why),
			 "NC_DOCKER_SOCK not set and no " UP_SCRIPT " here");
		return 1;
	}
	/* dockerd-up.sh reuses a daemon that answers; stop only one we started */
	p = popen("NC_DOCKER_PROBE=1 " UP_SCRIPT, "r");
	if (p && fgets(path, sizeof(path), p))
		path[strcspn(path, "\n")] = '\0';
	status = p ? pclose(p) : -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && path[0]) {
		printf("# private dockerd already up at %s\n", path);
		return daemon_answers(path) ? 0 : -1;
	}
	p = popen(UP_SCRIPT, "r");
	path[0] = '\0';
	if (p && fgets(path, sizeof(path), p))
		path[strcspn(path, "\n")] = '\0';
	status = p ? pclose(p) : -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == SKIP_EXIT) {
		snprintf(live.skip_why, sizeof(live.skip_why), "dockerd cannot run here");
		return 1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) || !path[0]) {
		snprintf(live.skip_why, sizeof(live.skip_why), UP_SCRIPT " failed");
		return -1;
	}
	live.started_daemon = true;
	printf("# private dockerd + image ready in %lld ms\n", (long long)(now_ms() - t0));
	return daemon_answers(path) ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inspect_by_name),
		cmocka_unit_test(test_inspect_by_slash_name_id_prefix),
		cmocka_unit_test(test_inspect_unknown),
		cmocka_unit_test(test_inspect_stopped),
		cmocka_unit_test(test_network_host),
		cmocka_unit_test(test_network_container),
		cmocka_unit_test(test_network_none),
		cmocka_unit_test(test_list_label_and_service),
		cmocka_unit_test(test_concurrent_requests),
		cmocka_unit_test(test_events_restart),
	};

	const size_t ntests = sizeof(tests) / sizeof(tests[0]);
	const char *cli = getenv("DOCKER");
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(live.docker_cli, sizeof(live.docker_cli), "%s", cli ? cli : "docker");
	ret = find_daemon();
	if (ret) {
		/* cmocka would print skips as "not ok": say it in plain TAP */
		printf("1..%zu\n", ntests);
		for (size_t i = 0; i < ntests; i++)
			printf("%s %zu - %s%s%s\n", ret > 0 ? "ok" : "not ok", i + 1, tests[i].name,
			       ret > 0 ? " # SKIP " : ": ", live.skip_why);
		return ret > 0 ? 0 : 1;
	}
	ret = cmocka_run_group_tests_name("docker_live", tests, setup, teardown);
	if (live.started_daemon) {
		const char *keep = getenv("NC_DOCKER_KEEP");

		if (keep && !strcmp(keep, "1"))
			printf("# NC_DOCKER_KEEP=1: private dockerd left running\n");
		else if (system(DOWN_SCRIPT " >/dev/null"))
			printf("# " DOWN_SCRIPT " failed\n");
	}
	return ret;
}
