/* SPDX-License-Identifier: GPL-2.0-only */
/* One handle_<cmd>() per protocol command, dispatched from a table. */
#ifndef NC_HANDLERS_H
#define NC_HANDLERS_H

#include <json-c/json.h>
#include <stdint.h>

#include "faults.h"
#include "server.h"

struct nc_agent {
	struct nc_faults *faults;
	struct nc_datapath *dp;
	const char *socket_path;
	const char *docker_sock; /* NULL: DOCKER_HOST or the default */
	uint64_t started_ns;
};

/* nc_request_fn for the server; ctx = struct nc_agent *. */
json_object *nc_handle_request(json_object *req, const struct nc_peer *peer, void *ctx);

#endif
