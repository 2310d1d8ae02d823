// SPDX-License-Identifier: GPL-2.0-only
/*
 * netchaosd: options, start-up, the event loop, and an orderly shutdown that
 * leaves the host's networking exactly as it was.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "attach.h"
#include "containers.h"
#include "datapath.h"
#include "faults.h"
#include "handlers.h"
#include "log.h"
#include "loop.h"
#include "server.h"
#include "state.h"
#include "units.h"

#define TICK_MS 100

struct options {
	const char *socket;
	const char *group;
	const char *state_file;
	const char *docker_sock;
	uint32_t max_rules;
	uint64_t max_duration_ms;
	uint64_t deadman_ms;
	uint32_t seen_mark;
	uint16_t protected_ports[NC_PROTECTED_PORTS];
	size_t n_protected;
	bool protect_given;
	int log_level;
};

struct agent_loop {
	struct nc_global global; /* what the heartbeat writes */
	struct nc_watch sig;
	struct nc_watch tick;
	struct nc_agent agent;
	struct nc_server *server;
	const struct options *opt;
	bool stop;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: netchaosd [OPTIONS]\n"
		"Kernel-level network chaos agent. Runs in the foreground, logs to stderr.\n\n"
		"  -s, --socket PATH        control socket (default %s)\n"
		"  -g, --group NAME         group allowed to change faults besides root\n"
		"      --state-file PATH    record of namespaces in use, for cleanup after\n"
		"                           a crash (default: state.json beside the socket)\n"
		"      --docker-socket PATH Docker Engine API socket (default: DOCKER_HOST\n"
		"                           if unix://, else /var/run/docker.sock)\n"
		"      --max-rules N        concurrent rules (default 1000)\n"
		"      --max-duration DUR   longest rule duration accepted (default 24h)\n"
		"      --deadman DUR        faults stop this long after the agent stops\n"
		"                           answering its heartbeat (default 1.5s; 0 = off)\n"
		"      --seen-mark HEX      skb->mark bit marking packets already faulted\n"
		"                           once on this host (default 0x20000000)\n"
		"      --protect-port N     never fault port N (source or destination) unless\n"
		"                           a rule says --force; repeatable, up to 8\n"
		"                           (default: 22; 0 protects nothing)\n"
		"      --attach MODE        how the classifier hooks in: tcx (BPF links,\n"
		"                           Linux >= 6.6), tc (clsact + cls_bpf), or auto\n"
		"                           (default: tcx when the kernel has it)\n"
		"  -v, --verbose            debug logging\n"
		"  -h, --help               this help\n",
		NC_DEFAULT_SOCKET);
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "group", required_argument, NULL, 'g' },
		{ "state-file", required_argument, NULL, 'S' },
		{ "docker-socket", required_argument, NULL, 'K' },
		{ "max-rules", required_argument, NULL, 'R' },
		{ "max-duration", required_argument, NULL, 'D' },
		{ "deadman", required_argument, NULL, 'd' },
		{ "seen-mark", required_argument, NULL, 'm' },
		{ "protect-port", required_argument, NULL, 'P' },
		{ "attach", required_argument, NULL, 'A' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "s:g:vh", longopts, NULL)) != -1) {
		char *end;
		unsigned long v;

		switch (c) {
		case 's':
			o->socket = optarg;
			break;
		case 'g':
			o->group = optarg;
			break;
		case 'S':
			o->state_file = optarg;
			break;
		case 'K':
			o->docker_sock = optarg;
			break;
		case 'A': {
			enum nc_attach_mode mode;

			if (nc_attach_mode_parse(optarg, &mode)) {
				fprintf(stderr, "netchaosd: --attach takes auto, tcx or tc, not '%s'\n",
					optarg);
				return -EINVAL;
			}
			if (mode == NC_ATTACH_TCX && !nc_attach_has_tcx()) {
				fprintf(stderr, "netchaosd: --attach tcx: this kernel has no tcx (Linux "
						"6.6 or later); use --attach tc or auto\n");
				return -EINVAL;
			}
			nc_attach_set_mode(mode);
			break;
		}
		case 'R':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || v == 0 || v > NC_MAX_RULES) {
				fprintf(stderr, "netchaosd: --max-rules must be 1..%d\n", NC_MAX_RULES);
				return -EINVAL;
			}
			o->max_rules = (uint32_t)v;
			break;
		case 'D':
			if (nc_parse_duration_ms(optarg, &o->max_duration_ms)) {
				fprintf(stderr, "netchaosd: bad --max-duration '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case 'd':
			if (!strcmp(optarg, "0")) {
				o->deadman_ms = 0;
			} else if (nc_parse_duration_ms(optarg, &o->deadman_ms) ||
				   o->deadman_ms < 3 * TICK_MS) {
				fprintf(stderr, "netchaosd: bad --deadman '%s' (0, or at least %dms)\n",
					optarg, 3 * TICK_MS);
				return -EINVAL;
			}
			break;
		case 'm':
			errno = 0;
			v = strtoul(optarg, &end, 0);
			if (errno || *end || v > UINT32_MAX || (v & (v - 1))) {
				fprintf(stderr, "netchaosd: --seen-mark must be a single bit, or 0\n");
				return -EINVAL;
			}
			o->seen_mark = (uint32_t)v;
			break;
		case 'P':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || v > 65535 || (v && o->n_protected >= NC_PROTECTED_PORTS)) {
				fprintf(stderr, "netchaosd: --protect-port takes a port 0..65535, "
						"at most %d times\n", NC_PROTECTED_PORTS);
				return -EINVAL;
			}
			o->protect_given = true;
			if (v)
				o->protected_ports[o->n_protected++] = (uint16_t)v;
			break;
		case 'v':
			o->log_level = NC_LOG_DEBUG;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "netchaosd: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

static void on_signal(struct nc_watch *w, uint32_t events)
{
	struct agent_loop *l = (struct agent_loop *)((char *)w - offsetof(struct agent_loop, sig));
	struct signalfd_siginfo si;

	(void)events;
	while (read(w->fd, &si, sizeof(si)) == sizeof(si)) {
		pr_info("signal %u: stopping", si.ssi_signo);
		l->stop = true;
	}
}

static void on_tick(struct nc_watch *w, uint32_t events)
{
	struct agent_loop *l = (struct agent_loop *)((char *)w - offsetof(struct agent_loop, tick));
	uint64_t expirations;
	int err;

	(void)events;
	if (read(w->fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		pr_warn("timerfd: %s", strerror(errno));
	err = nc_datapath_heartbeat(l->agent.dp, &l->global);
	if (err)
		pr_warn("heartbeat: %s", strerror(-err));
	nc_containers_tick(l->agent.containers);
	nc_faults_expire(l->agent.faults);
	nc_server_tick(l->server);
}

static int setup_fds(int epfd, struct agent_loop *l)
{
	struct itimerspec its = {
		.it_interval = { .tv_nsec = TICK_MS * 1000000L },
		.it_value = { .tv_nsec = TICK_MS * 1000000L },
	};
	sigset_t mask;
	int err;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGQUIT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL))
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	l->sig.fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (l->sig.fd < 0)
		return -errno;
	l->sig.cb = on_signal;
	l->tick.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->tick.fd < 0)
		return -errno;
	l->tick.cb = on_tick;
	if (timerfd_settime(l->tick.fd, 0, &its, NULL))
		return -errno;
	err = nc_loop_add(epfd, &l->sig, EPOLLIN);
	if (!err)
		err = nc_loop_add(epfd, &l->tick, EPOLLIN);
	return err;
}

int main(int argc, char **argv)
{
	struct options opt = {
		.socket = NC_DEFAULT_SOCKET,
		.max_rules = 1000,
		.max_duration_ms = NC_MAX_DURATION_MS,
		.deadman_ms = 1500,
		.seen_mark = 0x20000000,
		.log_level = NC_LOG_INFO,
	};
	struct agent_loop l = { .opt = &opt, .sig.fd = -1, .tick.fd = -1 };
	struct nc_server_config scfg = { .group = (gid_t)-1, .max_clients = 1024, .idle_ms = 10000 };
	struct nc_faults_limits limits;
	int epfd = -1, err, status = 1;
	char state_path[4096];

	if (parse_options(argc, argv, &opt))
		return 2;
	nc_log_init(opt.log_level);
	if (getenv("NETCHAOS_SOCKET") && !strcmp(opt.socket, NC_DEFAULT_SOCKET))
		opt.socket = getenv("NETCHAOS_SOCKET");
	if (opt.group) {
		struct group *g = getgrnam(opt.group);

		if (!g) {
			pr_err("no group '%s'", opt.group);
			return 2;
		}
		scfg.group = g->gr_gid;
	}
	scfg.path = opt.socket;
	limits.max_rules = opt.max_rules;
	limits.max_duration_ms = opt.max_duration_ms;

	if (!opt.state_file) {
		const char *slash = strrchr(opt.socket, '/');

		snprintf(state_path, sizeof(state_path), "%.*s%sstate.json",
			 slash ? (int)(slash - opt.socket) : 0, opt.socket, slash ? "/" : "");
		opt.state_file = state_path;
	}

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0) {
		pr_err("epoll: %s", strerror(errno));
		return 1;
	}
	err = setup_fds(epfd, &l);
	if (err) {
		pr_err("cannot set up signals and timers: %s", strerror(-err));
		goto out;
	}
	err = nc_datapath_open(&l.agent.dp);
	if (err)
		goto out;
	if (!opt.protect_given)
		opt.protected_ports[opt.n_protected++] = 22;
	l.global.deadman_ns = opt.deadman_ms * 1000000ull;
	l.global.seen_mark = opt.seen_mark;
	memcpy(l.global.protected_ports, opt.protected_ports, sizeof(opt.protected_ports));
	memcpy(limits.protected_ports, opt.protected_ports, sizeof(opt.protected_ports));
	err = nc_datapath_heartbeat(l.agent.dp, &l.global);
	if (err) {
		pr_err("cannot write the agent heartbeat: %s", strerror(-err));
		goto out;
	}
	/* Sweep up after a previous agent that died without cleaning up. */
	nc_state_cleanup(opt.state_file);
	err = nc_faults_new(l.agent.dp, &limits, &l.agent.faults);
	if (err)
		goto out;
	nc_faults_set_state_file(l.agent.faults, opt.state_file);
	l.agent.socket_path = opt.socket;
	l.agent.docker_sock = opt.docker_sock;
	l.agent.started_ns = nc_now_boottime_ns();
	{
		struct nc_containers_config ccfg = {
			.docker_sock = opt.docker_sock,
			.epfd = epfd,
			.faults = l.agent.faults,
		};

		err = nc_containers_new(&ccfg, &l.agent.containers);
		if (err)
			goto out;
	}
	err = nc_server_open(&scfg, epfd, nc_handle_request, &l.agent, &l.server);
	if (err)
		goto out;
	l.agent.server = l.server;
	pr_info("listening on %s (pid %d, dead-man %llu ms)", opt.socket, (int)getpid(),
		(unsigned long long)opt.deadman_ms);

	while (!l.stop) {
		struct epoll_event evs[64];
		int n = epoll_wait(epfd, evs, 64, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			pr_err("epoll_wait: %s", strerror(errno));
			goto out;
		}
		for (int i = 0; i < n && !l.stop; i++) {
			struct nc_watch *w = evs[i].data.ptr;

			w->cb(w, evs[i].events);
		}
	}
	status = 0;
out:
	if (l.agent.containers) {
		size_t n = nc_containers_count(l.agent.containers);

		nc_containers_free(l.agent.containers); /* answers adds still resolving */
		if (n)
			pr_info("removed %zu container rule(s)", n);
	}
	nc_server_close(l.server);
	if (l.agent.faults) {
		size_t n = nc_faults_count(l.agent.faults);

		nc_faults_free(l.agent.faults);
		if (n)
			pr_info("removed %zu rule(s) and their attachments", n);
	}
	nc_datapath_close(l.agent.dp);
	if (status == 0)
		unlink(opt.state_file);
	if (l.sig.fd >= 0)
		close(l.sig.fd);
	if (l.tick.fd >= 0)
		close(l.tick.fd);
	close(epfd);
	if (!status)
		pr_info("stopped; networking restored");
	return status;
}
