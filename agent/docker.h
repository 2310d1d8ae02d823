/* SPDX-License-Identifier: GPL-2.0-only */
/* Docker Engine API client over the daemon's Unix socket: inspect a
 * container, list containers by label, follow container events. Requests are
 * non-blocking objects the agent drives from its epoll loop; synchronous
 * helpers with a timeout are built on them. The JSON -> struct parsers are
 * exported so they can be tested without a daemon. */
#ifndef NC_DOCKER_H
#define NC_DOCKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/un.h>

#define NC_DOCKER_DEFAULT_SOCK	"/var/run/docker.sock"
#define NC_DOCKER_SERVICE_LABEL "com.docker.compose.service"
#define NC_DOCKER_ID_MAX	65  /* 64 hex digits + NUL */
#define NC_DOCKER_NAME_MAX	256
#define NC_DOCKER_ERR_MAX	512
#define NC_DOCKER_MAX_ADDRS	8    /* addresses kept per container */
#define NC_DOCKER_ADDR_MAX	46   /* INET6_ADDRSTRLEN */
#define NC_DOCKER_LABELS_MAX	8192 /* all "k=v" labels of a container */

/* Which socket to talk to. */
struct nc_docker {
	char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* Resolve the socket: sock_opt (a path or unix://PATH) if given, else
 * docker_host (the value of DOCKER_HOST, may be NULL) if it is unix://PATH,
 * else NC_DOCKER_DEFAULT_SOCK. A non-unix DOCKER_HOST is -EPROTONOSUPPORT, a
 * path too long for sun_path -ENAMETOOLONG, each with a message in err. */
int nc_docker_resolve_sock(const char *sock_opt, const char *docker_host, char *out,
			   size_t outlen, char *err, size_t errlen);
/* nc_docker_resolve_sock() with getenv("DOCKER_HOST"). */
int nc_docker_init(struct nc_docker *d, const char *sock_opt, char *err, size_t errlen);

enum nc_docker_netmode {
	NC_DOCKER_NET_BRIDGE,	 /* "bridge" or "default": own netns on docker0 */
	NC_DOCKER_NET_HOST,	 /* the host's netns: faults would hit the host */
	NC_DOCKER_NET_CONTAINER, /* "container:X": X's netns (netmode_target) */
	NC_DOCKER_NET_NONE,	 /* own netns, loopback only */
	NC_DOCKER_NET_CUSTOM,	 /* a user-defined network: own netns */
};

struct nc_docker_container {
	char id[NC_DOCKER_ID_MAX];
	char name[NC_DOCKER_NAME_MAX]; /* without Docker's leading '/' */
	pid_t pid;		       /* State.Pid: 0 when not running */
	bool running;
	char network_mode[NC_DOCKER_NAME_MAX + 16]; /* HostConfig.NetworkMode as is */
	enum nc_docker_netmode netmode;
	char netmode_target[NC_DOCKER_NAME_MAX]; /* X of container:X, else "" */
	char service[NC_DOCKER_NAME_MAX];	 /* com.docker.compose.service, or "" */
	char sandbox_key[512];			 /* NetworkSettings.SandboxKey, may be "" */
	char netns_path[32];			 /* /proc/PID/ns/net, "" when pid is 0 */
	/* IPAddress and GlobalIPv6Address of every network it is attached to
	 * (none for host and container:X modes), in Docker's order */
	char addrs[NC_DOCKER_MAX_ADDRS][NC_DOCKER_ADDR_MAX];
	unsigned int n_addrs;
	/* Config.Labels as "k=v\0k=v\0\0"; labels_truncated if they did not fit */
	char labels[NC_DOCKER_LABELS_MAX];
	bool labels_truncated;
};

/* Does c carry the label filter ("k=v", or "k" for presence), as Docker's
 * own label filter matches? */
bool nc_docker_has_label(const struct nc_docker_container *c, const char *filter);

struct nc_docker_summary {
	char id[NC_DOCKER_ID_MAX];
	char name[NC_DOCKER_NAME_MAX];
	char service[NC_DOCKER_NAME_MAX];
	bool running; /* State == "running" */
};

struct nc_docker_list {
	struct nc_docker_summary *items; /* malloc'ed, nc_docker_list_free() */
	size_t count;
};

struct nc_docker_event {
	char id[NC_DOCKER_ID_MAX];
	char action[32]; /* start, restart, die, destroy, ... */
	char name[NC_DOCKER_NAME_MAX];
	char service[NC_DOCKER_NAME_MAX];
	int exit_code;	   /* die: the exit code, else -1 */
	int64_t time_nano; /* daemon's clock */
};

void nc_docker_list_free(struct nc_docker_list *l);

/* --label k=v or k (presence), validated into out ("k=v"). */
int nc_docker_label_filter(const char *arg, char *out, size_t outlen);
/* --service NAME -> "com.docker.compose.service=NAME". */
int nc_docker_service_filter(const char *service, char *out, size_t outlen);

/* Pure parsers of response bodies (tested with captured samples). -EPROTO with
 * a message in err when the JSON is not what the Engine API documents. */
int nc_docker_parse_inspect(const char *body, size_t len, struct nc_docker_container *out,
			    char *err, size_t errlen);
int nc_docker_parse_list(const char *body, size_t len, struct nc_docker_list *out, char *err,
			 size_t errlen);
/* One line of the /events stream: 0 and *out filled for a container event,
 * 1 for an event of another type (skip it), -EPROTO if not valid JSON. */
int nc_docker_parse_event(const char *line, size_t len, struct nc_docker_event *out, char *err,
			  size_t errlen);
/* An error answer: the "message" of the JSON body (or "HTTP <status>") into
 * err; returns the matching -errno (404 -ENOENT, 400 -EINVAL, 409 -EBUSY,
 * 5xx -EIO, else -EPROTO). */
int nc_docker_api_error(int status, const char *body, size_t len, char *err, size_t errlen);
/* Query strings: "filters=<url-encoded JSON>" for labels (and event types for
 * /events). Exported for the tests. */
int nc_docker_list_query(const char *const *labels, size_t nlabels, char *out, size_t outlen);
int nc_docker_events_query(const char *const *labels, size_t nlabels, int64_t since_ns,
			   char *out, size_t outlen);

/*
 * Non-blocking requests.
 *
 *	req = nc_docker_req_new(&d, on_done, ctx);
 *	err = nc_docker_req_inspect(req, "web", &c);	// or _list, _events
 *	if (err) { log nc_docker_req_error(req); nc_docker_req_free(req); }
 *	epoll_ctl(ep, EPOLL_CTL_ADD, nc_docker_req_fd(req), {nc_docker_req_poll_events(req)})
 *	on readiness: if (nc_docker_req_on_ready(req) == 0)
 *		epoll_ctl(MOD, nc_docker_req_poll_events(req));	// still running
 *
 * When the request finishes, on_ready calls done(req, status, arg) and
 * returns 1; status is 0 or -errno with nc_docker_req_error(req) saying why
 * ("cannot reach Docker at PATH: ...", "no such container: X", the daemon's
 * message). The fd stays open until nc_docker_req_free(): remove it from
 * epoll before freeing. done may free req. Outputs passed to a start function
 * must stay valid until the request finishes or is freed.
 */
struct nc_docker_req;

typedef void (*nc_docker_done_fn)(struct nc_docker_req *req, int status, void *arg);
/* Return 0 to go on, -errno to end the stream with that status (e.g.
 * -ECANCELED when the caller has seen what it waited for). Must not free req. */
typedef int (*nc_docker_event_fn)(struct nc_docker_req *req, const struct nc_docker_event *ev,
				  void *arg);

/* NULL on ENOMEM. done may be NULL (e.g. with nc_docker_req_wait()). */
struct nc_docker_req *nc_docker_req_new(const struct nc_docker *d, nc_docker_done_fn done,
					void *arg);
/* Free at any time (cancels a running request, closes its fd); NULL is fine. */
void nc_docker_req_free(struct nc_docker_req *req);

/* Start functions: connect and queue the request. -errno with the message in
 * nc_docker_req_error() if it could not start (done is then not called). */
/* GET /containers/{name_or_id}/json: full id, name with or without '/', or a
 * unique id prefix. 404 -> -ENOENT "no such container: X"; an ambiguous
 * prefix gets Docker's "Multiple IDs found with provided prefix: X" (HTTP 500
 * from 20.10 -> -EIO, 400 from later daemons -> -EINVAL). */
int nc_docker_req_inspect(struct nc_docker_req *req, const char *name_or_id,
			  struct nc_docker_container *out);
/* GET /containers/json?filters={"label":[...]}: running containers carrying
 * every label filter ("k=v" or "k"); nlabels 0 lists every running one. */
int nc_docker_req_list(struct nc_docker_req *req, const char *const *labels, size_t nlabels,
		       struct nc_docker_list *out);
/* GET /events for container start/restart/die/destroy (and only containers
 * with these labels, if any), from since_ns (0: from now). on_event gets each
 * event as it arrives; the request runs until the daemon closes it (status
 * -ECONNRESET), on_event returns an error, or it is freed. Subscribe before
 * listing so that no start falls between the two; reconnecting (with since_ns
 * of the last event seen) is the caller's job. */
int nc_docker_req_events(struct nc_docker_req *req, const char *const *labels, size_t nlabels,
			 int64_t since_ns, nc_docker_event_fn on_event);

int nc_docker_req_fd(const struct nc_docker_req *req);
/* EPOLLIN or EPOLLOUT: what the request waits for now; 0 once finished. */
uint32_t nc_docker_req_poll_events(const struct nc_docker_req *req);
/* Advance after the fd polled ready (any of IN/OUT/ERR/HUP): 0 still running,
 * 1 finished (done called, req may be freed by it). Never blocks. */
int nc_docker_req_on_ready(struct nc_docker_req *req);
bool nc_docker_req_finished(const struct nc_docker_req *req);
/* Events: the daemon accepted the subscription (events from now on arrive). */
bool nc_docker_req_streaming(const struct nc_docker_req *req);
int nc_docker_req_status(const struct nc_docker_req *req);
const char *nc_docker_req_error(const struct nc_docker_req *req);

/* Drive req with poll(2) until it finishes (or, streaming_only, until an
 * events subscription is accepted): its status, or -ETIMEDOUT after
 * timeout_ms (the request is left running; free or wait again). Blocks: for
 * start-up and tests, not the event loop. req's done must not free it. */
int nc_docker_req_wait(struct nc_docker_req *req, int timeout_ms, bool streaming_only);

/* Synchronous helpers: one request each, bounded by timeout_ms. */
int nc_docker_inspect(const struct nc_docker *d, const char *name_or_id,
		      struct nc_docker_container *out, int timeout_ms, char *err, size_t errlen);
int nc_docker_list(const struct nc_docker *d, const char *const *labels, size_t nlabels,
		   struct nc_docker_list *out, int timeout_ms, char *err, size_t errlen);
/* Running containers of compose service NAME. */
int nc_docker_list_service(const struct nc_docker *d, const char *service,
			   struct nc_docker_list *out, int timeout_ms, char *err, size_t errlen);

#endif
