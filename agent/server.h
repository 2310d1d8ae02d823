/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The control socket: a Unix stream socket speaking the protocol of
 * include/netchaos/proto.h. Non-blocking and bounded: a request is at most
 * NC_PROTO_MAX_MSG bytes, a client that sends nothing or half a request is
 * dropped after a timeout, and no client can hold up another.
 */
#ifndef NC_SERVER_H
#define NC_SERVER_H

#include <json-c/json.h>
#include <stdbool.h>
#include <sys/types.h>

struct nc_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	bool may_change; /* root, or a member of the control group */
};

/* Returns the reply (owned by the caller) for one parsed request. */
typedef json_object *(*nc_request_fn)(json_object *req, const struct nc_peer *peer, void *ctx);

struct nc_server_config {
	const char *path;
	gid_t group;	       /* (gid_t)-1: root only may change faults */
	unsigned int max_clients;
	unsigned int idle_ms;  /* a connection with no complete request */
};

struct nc_server;

int nc_server_open(const struct nc_server_config *cfg, int epfd, nc_request_fn fn, void *ctx,
		   struct nc_server **out);
/*
 * Deferred replies, for requests that wait on something else (Docker): the
 * request callback calls nc_server_defer() and returns NULL; the reply goes
 * out later through nc_server_reply(). Meanwhile the client's later requests
 * wait (replies stay in request order) and it is not closed as idle, even if
 * it has half-closed its side. NULL when not inside a callback or on ENOMEM.
 */
struct nc_deferred;
struct nc_deferred *nc_server_defer(struct nc_server *s);
/* Queue the reply (owned by the server from here on) and free d; if the
 * client has gone away meanwhile, the reply is dropped. May be called from
 * the very callback that deferred (an early failure): that reply is sent as
 * if the callback had returned it. */
void nc_server_reply(struct nc_deferred *d, json_object *reply);

/* Close idle clients; call periodically. */
void nc_server_tick(struct nc_server *s);
void nc_server_close(struct nc_server *s);
unsigned int nc_server_clients(const struct nc_server *s);

#endif
