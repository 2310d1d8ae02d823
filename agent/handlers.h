/* SPDX-License-Identifier: GPL-2.0-only */
/* One handle_<cmd>() per protocol command, dispatched from a table. */
#ifndef NC_HANDLERS_H
#define NC_HANDLERS_H

#include <json-c/json.h>
#include <stdint.h>

#include "faults.h"
#include "server.h"

struct nc_containers;

struct nc_agent {
	struct nc_faults *faults;
	struct nc_containers *containers;
	struct nc_server *server; /* for deferred replies */
	struct nc_datapath *dp;
	const char *socket_path;
	const char *docker_sock; /* NULL: DOCKER_HOST or the default */
	uint64_t started_ns;
};

/* The rule object of add and list replies for one rule. */
json_object *nc_rule_json(const struct nc_fault_info *info);

/* nc_request_fn for the server; ctx = struct nc_agent *. */
json_object *nc_handle_request(json_object *req, const struct nc_peer *peer, void *ctx);

#endif
