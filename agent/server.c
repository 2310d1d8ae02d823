// SPDX-License-Identifier: GPL-2.0-only
/*
 * Control socket server: accepts clients, frames newline-delimited requests,
 * checks the peer's credentials, hands each parsed request to the dispatcher
 * and queues the reply. Everything is non-blocking; per-client buffers are
 * bounded by NC_PROTO_MAX_MSG.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "netchaos/proto.h"
#include "proto_json.h"
#include "server.h"

struct client {
	struct nc_watch watch; /* first: the loop hands us this pointer */
	struct nc_server *srv;
	struct client *next;
	struct nc_peer peer;
	char *in;
	size_t in_len;
	char *out;
	size_t out_len, out_off;
	uint64_t deadline_ms; /* closed when idle past this */
	bool closing;	      /* close once the output is flushed */
	bool eof;	      /* the peer has sent everything */
	struct nc_deferred *deferred; /* a reply still to come: input waits */
	json_object *early;   /* deferred, then answered before the callback returned */
	bool paused;	      /* out of the epoll set while deferred */
};

struct nc_deferred {
	struct client *c; /* NULL once the client is gone */
};

struct nc_server {
	struct nc_watch watch;
	struct nc_server_config cfg;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int epfd;
	nc_request_fn fn;
	void *ctx;
	struct client *clients;
	unsigned int n_clients;
	struct client *current; /* whose request the callback is handling */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool peer_in_group(pid_t pid, gid_t group)
{
	char path[64], line[4096];
	bool found = false;
	FILE *f;

	/* Supplementary groups of the peer process, as the kernel saw them. */
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *tok, *save = NULL;

		if (strncmp(line, "Groups:", 7))
			continue;
		for (tok = strtok_r(line + 7, " \t\n", &save); tok;
		     tok = strtok_r(NULL, " \t\n", &save))
			if ((gid_t)strtoul(tok, NULL, 10) == group)
				found = true;
	}
	fclose(f);
	return found;
}

static void client_free(struct client *c)
{
	struct nc_server *s = c->srv;

	for (struct client **pos = &s->clients; *pos; pos = &(*pos)->next) {
		if (*pos == c) {
			*pos = c->next;
			break;
		}
	}
	if (c->deferred)
		c->deferred->c = NULL;
	nc_loop_del(s->epfd, &c->watch);
	close(c->watch.fd);
	json_object_put(c->early);
	free(c->in);
	free(c->out);
	free(c);
	s->n_clients--;
}

static int client_queue(struct client *c, json_object *reply)
{
	size_t len;
	char *line = nc_msg_serialize(reply, &len);
	char *grown;

	json_object_put(reply);
	if (!line)
		return -ENOMEM;
	grown = realloc(c->out, c->out_len + len);
	if (!grown) {
		free(line);
		return -ENOMEM;
	}
	memcpy(grown + c->out_len, line, len);
	c->out = grown;
	c->out_len += len;
	free(line);
	return 0;
}

/* Replies queued for a client beyond this: stop reading its requests until
 * it reads, so a client that never reads can neither grow the agent nor
 * keep it busy. */
#define CLIENT_OUT_MAX (256 * 1024)

static bool client_throttled(const struct client *c)
{
	return c->out_len - c->out_off > CLIENT_OUT_MAX;
}

static int client_flush(struct client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->watch.fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN)
				return c->deferred ? 0 :
					nc_loop_mod(c->srv->epfd, &c->watch,
						    client_throttled(c) ? EPOLLOUT : EPOLLIN | EPOLLOUT);
			return -errno;
		}
		c->out_off += (size_t)n;
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	if (c->deferred)
		return 0;
	if (c->closing)
		return -ECONNRESET;
	/* Requests held back while throttled: EPOLLOUT fires at once for them. */
	return nc_loop_mod(c->srv->epfd, &c->watch,
			   memchr(c->in, '\n', c->in_len) ? EPOLLIN | EPOLLOUT : EPOLLIN);
}

static void client_request(struct client *c, const char *buf, size_t len)
{
	struct nc_server *s = c->srv;
	char err[256];
	json_object *req = NULL, *reply;
	int ret;

	ret = nc_request_parse(buf, len, &req, err, sizeof(err));
	if (ret) {
		reply = nc_reply_error("%s", err);
	} else {
		s->current = c;
		reply = s->fn(req, &c->peer, s->ctx);
		s->current = NULL;
	}
	json_object_put(req);
	if (!reply && c->early) {
		reply = c->early;
		c->early = NULL;
	}
	if (!reply && c->deferred)
		return; /* nc_server_reply() answers */
	if (!reply)
		reply = nc_reply_error("out of memory");
	if (client_queue(c, reply))
		c->closing = true;
}

/* Handle every complete line in the input buffer. */
static void client_consume(struct client *c, bool eof)
{
	size_t start = 0;

	for (;;) {
		char *nl;
		size_t len;

		if (c->deferred)
			break; /* later requests wait for the deferred reply */
		if (client_throttled(c))
			break; /* the rest waits until the client reads */
		nl = memchr(c->in + start, '\n', c->in_len - start);
		if (!nl)
			break;
		len = (size_t)(nl - (c->in + start));
		if (len)
			client_request(c, c->in + start, len);
		start += len + 1;
	}
	if (eof && !c->deferred && start < c->in_len) {
		/* A last request without its newline (printf '...' | socat). */
		client_request(c, c->in + start, c->in_len - start);
		start = c->in_len;
	}
	memmove(c->in, c->in + start, c->in_len - start);
	c->in_len -= start;
	if (c->in_len >= NC_PROTO_MAX_MSG) {
		client_queue(c, nc_reply_error("request larger than %d bytes", NC_PROTO_MAX_MSG));
		c->in_len = 0;
		c->closing = true;
	}
	c->deadline_ms = now_ms() + c->srv->cfg.idle_ms;
}

/* Send what can be sent; close, or park a client waiting for a deferred
 * reply out of the loop (a hung-up peer would wake it forever). */
static void client_settle(struct client *c)
{
	if (client_flush(c)) {
		client_free(c);
		return;
	}
	if (c->deferred && !c->paused) {
		nc_loop_del(c->srv->epfd, &c->watch);
		c->paused = true;
	}
}

static void client_event(struct nc_watch *w, uint32_t events)
{
	struct client *c = (struct client *)w;
	bool eof = false;

	if ((events & EPOLLOUT) && !client_throttled(c) && c->in_len)
		client_consume(c, c->eof); /* requests held back while throttled */
	if (events & EPOLLIN) {
		while (!c->closing && c->in_len < NC_PROTO_MAX_MSG && !client_throttled(c)) {
			ssize_t n = recv(w->fd, c->in + c->in_len, NC_PROTO_MAX_MSG - c->in_len,
					 MSG_DONTWAIT);

			if (n > 0) {
				c->in_len += (size_t)n;
				continue;
			}
			if (n == 0 || (errno != EAGAIN && errno != EINTR))
				eof = true;
			break;
		}
		if (eof)
			c->eof = true;
		client_consume(c, eof);
		if (eof)
			c->closing = true;
	} else if (events & (EPOLLHUP | EPOLLERR)) {
		c->closing = true;
	}
	client_settle(c);
}

struct nc_deferred *nc_server_defer(struct nc_server *s)
{
	struct client *c = s->current;
	struct nc_deferred *d;

	if (!c || c->deferred)
		return NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->c = c;
	c->deferred = d;
	return d;
}

void nc_server_reply(struct nc_deferred *d, json_object *reply)
{
	struct client *c = d->c;

	free(d);
	if (!c) {
		json_object_put(reply);
		return;
	}
	c->deferred = NULL;
	if (c->srv->current == c) {
		/* still inside the request callback: client_request() sends it */
		c->early = reply;
		return;
	}
	if (c->paused) {
		c->paused = false;
		if (nc_loop_add(c->srv->epfd, &c->watch, EPOLLIN)) {
			json_object_put(reply);
			client_free(c);
			return;
		}
	}
	if (!reply)
		reply = nc_reply_error("out of memory");
	if (client_queue(c, reply))
		c->closing = true;
	client_consume(c, c->eof); /* requests that came in meanwhile */
	client_settle(c);
}

static void server_accept(struct nc_watch *w, uint32_t events)
{
	struct nc_server *s = (struct nc_server *)w;

	(void)events;
	for (;;) {
		struct ucred cred;
		socklen_t len = sizeof(cred);
		struct client *c;
		int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				pr_warn("accept: %s", strerror(errno));
			return;
		}
		if (s->n_clients >= s->cfg.max_clients ||
		    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len)) {
			pr_warn("refusing a client: %u clients connected", s->n_clients);
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (c)
			c->in = malloc(NC_PROTO_MAX_MSG);
		if (!c || !c->in) {
			if (c)
				free(c);
			close(fd);
			continue;
		}
		c->watch.fd = fd;
		c->watch.cb = client_event;
		c->srv = s;
		c->peer.pid = cred.pid;
		c->peer.uid = cred.uid;
		c->peer.gid = cred.gid;
		c->peer.may_change = cred.uid == 0 ||
				     (s->cfg.group != (gid_t)-1 &&
				      (cred.gid == s->cfg.group || peer_in_group(cred.pid, s->cfg.group)));
		c->deadline_ms = now_ms() + s->cfg.idle_ms;
		if (nc_loop_add(s->epfd, &c->watch, EPOLLIN)) {
			free(c->in);
			free(c);
			close(fd);
			continue;
		}
		c->next = s->clients;
		s->clients = c;
		s->n_clients++;
	}
}

static int make_parent_dir(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

int nc_server_open(const struct nc_server_config *cfg, int epfd, nc_request_fn fn, void *ctx,
		   struct nc_server **out)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct nc_server *s;
	int fd, err;

	if (strlen(cfg->path) >= sizeof(addr.sun_path)) {
		pr_err("socket path too long: %s", cfg->path);
		return -ENAMETOOLONG;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	snprintf(s->path, sizeof(s->path), "%s", cfg->path);
	s->epfd = epfd;
	s->fn = fn;
	s->ctx = ctx;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", cfg->path);

	err = make_parent_dir(cfg->path);
	if (err) {
		pr_err("cannot create the directory of %s: %s", cfg->path, strerror(-err));
		goto err_free;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		goto err_free;
	}
	/* A socket file left by a dead agent: take it over, but never steal
	 * the socket of a live one. */
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
		pr_err("another netchaosd is listening on %s", cfg->path);
		err = -EADDRINUSE;
		goto err_close;
	}
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		goto err_free;
	}
	unlink(cfg->path);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		err = -errno;
		pr_err("cannot bind %s: %s", cfg->path, strerror(-err));
		goto err_close;
	}
	/* Only root and the control group may talk to the agent at all. */
	if (chmod(cfg->path, cfg->group != (gid_t)-1 ? 0660 : 0600) ||
	    (cfg->group != (gid_t)-1 && chown(cfg->path, 0, cfg->group))) {
		err = -errno;
		pr_err("cannot set permissions on %s: %s", cfg->path, strerror(-err));
		goto err_unlink;
	}
	if (listen(fd, 512)) {
		err = -errno;
		goto err_unlink;
	}
	s->watch.fd = fd;
	s->watch.cb = server_accept;
	err = nc_loop_add(epfd, &s->watch, EPOLLIN);
	if (err)
		goto err_unlink;
	*out = s;
	return 0;

err_unlink:
	unlink(cfg->path);
err_close:
	close(fd);
err_free:
	free(s);
	return err;
}

void nc_server_tick(struct nc_server *s)
{
	uint64_t now = now_ms();
	struct client *c = s->clients;

	while (c) {
		struct client *next = c->next;

		if (now > c->deadline_ms && !c->deferred) {
			pr_debug("closing idle client pid %d", (int)c->peer.pid);
			client_free(c);
		}
		c = next;
	}
}

unsigned int nc_server_clients(const struct nc_server *s)
{
	return s->n_clients;
}

void nc_server_close(struct nc_server *s)
{
	if (!s)
		return;
	while (s->clients)
		client_free(s->clients);
	nc_loop_del(s->epfd, &s->watch);
	close(s->watch.fd);
	unlink(s->path);
	free(s);
}
