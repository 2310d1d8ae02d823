// SPDX-License-Identifier: GPL-2.0-only
/*
 * Protocol command handlers. The table below is the list of commands the
 * agent speaks; each handler gets a request that passed nc_request_parse()
 * (size, JSON object, version, "cmd") and validates its own fields.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "attach.h"
#include "containers.h"
#include "doctor.h"
#include "handlers.h"
#include "qdisc.h"
#include "log.h"
#include "proto_json.h"
#include "spec.h"
#include "units.h"

#define NC_AGENT_VERSION "0.1.0"

struct command {
	const char *name;
	bool changes; /* needs root or the control group */
	json_object *(*handle)(struct nc_agent *a, json_object *req, const struct nc_peer *peer);
};

json_object *nc_rule_json(const struct nc_fault_info *info)
{
	json_object *obj = json_object_new_object(), *ifaces;
	char *list, *tok, *save = NULL;

	if (!obj)
		return NULL;
	json_object_object_add(obj, "id", json_object_new_int64(info->id));
	if (nc_spec_to_json(&info->spec, obj)) {
		json_object_put(obj);
		return NULL;
	}
	/* dry_run/force describe the request, not the rule. */
	json_object_object_del(obj, "dry_run");
	json_object_object_del(obj, "force");
	json_object_object_add(obj, "remaining_ms", json_object_new_int64((int64_t)info->remaining_ms));
	json_object_object_add(obj, "matched", json_object_new_uint64(info->counters.matched));
	json_object_object_add(obj, "affected", json_object_new_uint64(info->counters.affected));
	json_object_object_add(obj, "state", json_object_new_string("active"));
	json_object_object_add(obj, "entries", json_object_new_int64((int64_t)info->entries));
	ifaces = json_object_new_array();
	list = strdup(info->interfaces);
	for (tok = list ? strtok_r(list, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save))
		json_object_array_add(ifaces, json_object_new_string(tok));
	free(list);
	json_object_object_add(obj, "interfaces", ifaces);
	return obj;
}

/* A client's string quoted back in an error: printable ASCII only, short,
 * so the reply stays valid UTF-8 whatever was sent. */
static const char *quote_back(const char *in, char *out, size_t outlen)
{
	size_t i;

	for (i = 0; in[i] && i + 4 < outlen; i++)
		out[i] = in[i] >= 0x20 && in[i] < 0x7f ? in[i] : '?';
	if (in[i]) {
		out[i++] = '.';
		out[i++] = '.';
		out[i++] = '.';
	}
	out[i] = '\0';
	return out;
}

static json_object *handle_ping(struct nc_agent *a, json_object *req, const struct nc_peer *peer)
{
	return nc_reply_ok();
}

static void containers_added(json_object *reply, void *arg)
{
	nc_server_reply(arg, reply);
}

/* Resolving containers waits on Docker: the reply comes later. */
static json_object *add_containers(struct nc_agent *a, const struct nc_rule_spec *spec,
				   const struct nc_peer *peer)
{
	struct nc_deferred *d = nc_server_defer(a->server);
	char err[1024];
	int ret;

	if (!d)
		return nc_reply_error("out of memory");
	ret = nc_containers_add(a->containers, spec, containers_added, d, err, sizeof(err));
	if (ret) {
		pr_info("uid %u pid %d: add %s refused: %s", peer->uid, (int)peer->pid,
			nc_fault_kind_name(spec->kind), err);
		nc_server_reply(d, nc_reply_error("%s", err));
		return NULL;
	}
	pr_debug("uid %u pid %d: add %s: resolving containers", peer->uid, (int)peer->pid,
		 nc_fault_kind_name(spec->kind));
	return NULL;
}

static json_object *handle_add(struct nc_agent *a, json_object *req, const struct nc_peer *peer)
{
	struct nc_rule_spec spec;
	struct nc_fault_info info;
	json_object *reply, *rule;
	char err[512], target[512];
	json_object *copy = NULL;
	int ret;

	/* nc_spec_from_json is strict about unknown fields: hand it the
	 * request without the envelope. */
	if (json_object_deep_copy(req, &copy, NULL) || !copy)
		return nc_reply_error("out of memory");
	json_object_object_del(copy, "v");
	json_object_object_del(copy, "cmd");
	ret = nc_spec_from_json(copy, &spec, err, sizeof(err));
	json_object_put(copy);
	if (ret)
		return nc_reply_error("%s", err);
	if (nc_containers_wanted(&spec))
		return add_containers(a, &spec, peer);

	ret = nc_faults_add(a->faults, &spec, &info, err, sizeof(err));
	if (ret) {
		pr_info("uid %u pid %d: add %s refused: %s", peer->uid, (int)peer->pid,
			nc_fault_kind_name(spec.kind), err);
		return nc_reply_error("%s", err);
	}
	rule = nc_rule_json(&info);
	reply = nc_reply_ok();
	if (!rule || !reply) {
		json_object_put(rule);
		json_object_put(reply);
		return nc_reply_error("out of memory");
	}
	nc_spec_describe_target(&spec, target, sizeof(target));
	if (spec.dry_run) {
		json_object_object_add(reply, "dry_run", json_object_new_boolean(1));
		json_object_object_add(reply, "plan", rule);
	} else {
		pr_info("uid %u pid %d: rule %u %s on %s for %llu ms (interfaces %s)", peer->uid,
			(int)peer->pid, info.id, nc_fault_kind_name(spec.kind), target,
			(unsigned long long)spec.duration_ms, info.interfaces);
		json_object_object_add(reply, "rule", rule);
	}
	return reply;
}

static json_object *handle_change(struct nc_agent *a, json_object *req, const struct nc_peer *peer)
{
	struct nc_change_req ch;
	struct nc_fault_info info;
	json_object *reply, *rule = NULL;
	char err[512] = "", fault[NC_DESCRIBE_FAULT_MAX];
	int ret;

	ret = nc_change_from_json(req, &ch, err, sizeof(err));
	if (ret)
		return nc_reply_error("%s", err);
	if (ch.id >= NC_FAULT_MEMBER_ID_BASE)
		return nc_reply_error("no rule %u", ch.id);
	if (nc_containers_has(a->containers, ch.id)) {
		ret = nc_containers_change(a->containers, &ch, &rule, err, sizeof(err));
	} else {
		ret = nc_faults_change(a->faults, ch.id, &ch, &info, err, sizeof(err));
		if (!ret)
			rule = nc_rule_json(&info);
	}
	if (ret) {
		pr_info("uid %u pid %d: change of rule %u refused: %s", peer->uid, (int)peer->pid,
			ch.id, err);
		return nc_reply_error("%s", err);
	}
	reply = nc_reply_ok();
	if (!rule || !reply) {
		json_object_put(rule);
		json_object_put(reply);
		return nc_reply_error("out of memory");
	}
	if (ch.dry_run) {
		json_object_object_add(reply, "dry_run", json_object_new_boolean(1));
		json_object_object_add(reply, "plan", rule);
	} else {
		if (ch.has_fault)
			nc_spec_describe_fault(&ch.fault, fault, sizeof(fault));
		pr_info("uid %u pid %d: rule %u changed%s%s%s", peer->uid, (int)peer->pid, ch.id,
			ch.has_fault ? " to " : "", ch.has_fault ? fault : "",
			ch.has_duration ? " with a new end" : "");
		json_object_object_add(reply, "rule", rule);
	}
	return reply;
}

static int by_id(const void *a, const void *b)
{
	json_object *const *x = a, *const *y = b, *ix = NULL, *iy = NULL;
	int64_t u, v;

	json_object_object_get_ex(*x, "id", &ix);
	json_object_object_get_ex(*y, "id", &iy);
	u = json_object_get_int64(ix);
	v = json_object_get_int64(iy);
	return u < v ? -1 : u > v;
}

static json_object *handle_list(struct nc_agent *a, json_object *req, const struct nc_peer *peer)
{
	struct nc_fault_info *infos;
	json_object *reply, *arr;
	size_t n;

	if (nc_faults_list(a->faults, &infos, &n))
		return nc_reply_error("out of memory");
	reply = nc_reply_ok();
	arr = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, nc_rule_json(&infos[i]));
	free(infos);
	if (nc_containers_list(a->containers, arr)) {
		json_object_put(arr);
		json_object_put(reply);
		return nc_reply_error("out of memory");
	}
	json_object_array_sort(arr, by_id);
	json_object_object_add(reply, "rules", arr);
	return reply;
}

static int cmp_id(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Every rule: container rules first (they own members among the faults). */
static size_t remove_all(struct nc_agent *a, uint32_t *ids, size_t max)
{
	size_t n = nc_containers_clear_all(a->containers, ids, max);

	n += nc_faults_remove_all(a->faults, ids ? ids + (n < max ? n : max) : NULL,
				  n < max ? max - n : 0);
	if (ids)
		qsort(ids, n < max ? n : max, sizeof(*ids), cmp_id);
	return n;
}

static json_object *handle_clear(struct nc_agent *a, json_object *req, const struct nc_peer *peer)
{
	json_object *id = NULL, *all = NULL, *reply, *arr;

	json_object_object_foreach(req, key, val)
	{
		(void)val;
		if (strcmp(key, "v") && strcmp(key, "cmd") && strcmp(key, "id") &&
		    strcmp(key, "all")) {
			char quoted[64];

			return nc_reply_error("unknown field '%s' in clear",
					      quote_back(key, quoted, sizeof(quoted)));
		}
	}
	json_object_object_get_ex(req, "id", &id);
	json_object_object_get_ex(req, "all", &all);
	if (!!id == !!(all && json_object_get_boolean(all)))
		return nc_reply_error("clear needs a rule id or \"all\": true");
	if (all && !json_object_is_type(all, json_type_boolean))
		return nc_reply_error("\"all\" must be a boolean");

	reply = nc_reply_ok();
	arr = json_object_new_array();
	if (id) {
		int64_t v = json_object_get_int64(id);

		if (!json_object_is_type(id, json_type_int) || v <= 0 || v > UINT32_MAX) {
			json_object_put(arr);
			json_object_put(reply);
			return nc_reply_error("rule id must be a positive integer");
		}
		if (v >= NC_FAULT_MEMBER_ID_BASE ||
		    (nc_containers_clear(a->containers, (uint32_t)v) &&
		     nc_faults_remove(a->faults, (uint32_t)v, "cleared"))) {
			json_object_put(arr);
			json_object_put(reply);
			return nc_reply_error("no rule %lld", (long long)v);
		}
		json_object_array_add(arr, json_object_new_int64(v));
	} else {
		uint32_t *ids = calloc(NC_MAX_RULES, sizeof(*ids));
		size_t n = remove_all(a, ids, ids ? NC_MAX_RULES : 0);

		for (size_t i = 0; ids && i < n && i < NC_MAX_RULES; i++)
			json_object_array_add(arr, json_object_new_int64(ids[i]));
		free(ids);
	}
	pr_info("uid %u pid %d: cleared %zu rule(s)", peer->uid, (int)peer->pid,
		json_object_array_length(arr));
	json_object_object_add(reply, "cleared", arr);
	return reply;
}

static json_object *handle_status(struct nc_agent *a, json_object *req, const struct nc_peer *peer)
{
	json_object *reply = nc_reply_ok(), *agent, *kernel;
	struct utsname u;

	agent = json_object_new_object();
	json_object_object_add(agent, "version", json_object_new_string(NC_AGENT_VERSION));
	json_object_object_add(agent, "protocol", json_object_new_int(NC_PROTO_VERSION));
	json_object_object_add(agent, "pid", json_object_new_int(getpid()));
	json_object_object_add(agent, "socket", json_object_new_string(a->socket_path));
	json_object_object_add(agent, "uptime_s",
			       json_object_new_int64((int64_t)((nc_now_boottime_ns() - a->started_ns) /
							       1000000000ull)));
	json_object_object_add(agent, "rules", json_object_new_int64((int64_t)(nc_faults_count(a->faults) +
						      nc_containers_count(a->containers))));
	json_object_object_add(reply, "agent", agent);

	kernel = json_object_new_object();
	if (!uname(&u))
		json_object_object_add(kernel, "release", json_object_new_string(u.release));
	json_object_object_add(kernel, "btf", json_object_new_boolean(!access("/sys/kernel/btf/vmlinux", R_OK)));
	json_object_object_add(kernel, "bpf_faults", json_object_new_boolean(1));
	json_object_object_add(kernel, "attach", json_object_new_string(nc_attach_mode_name()));
	{
		char reason[256] = "";
		bool netem = false;

		if (!nc_qdisc_probe_netem(&netem, reason, sizeof(reason)))
			json_object_object_add(kernel, "netem", json_object_new_boolean(netem));
		if (!netem && reason[0])
			json_object_object_add(kernel, "netem_reason", json_object_new_string(reason));
	}
	json_object_object_add(reply, "kernel", kernel);
	return reply;
}

static json_object *handle_abort(struct nc_agent *a, json_object *req, const struct nc_peer *peer)
{
	uint32_t *ids = calloc(NC_MAX_RULES, sizeof(*ids));
	json_object *reply = nc_reply_ok(), *arr = json_object_new_array();
	uint64_t t0 = nc_now_boottime_ns();
	size_t n = remove_all(a, ids, ids ? NC_MAX_RULES : 0);

	for (size_t i = 0; ids && i < n && i < NC_MAX_RULES; i++)
		json_object_array_add(arr, json_object_new_int64(ids[i]));
	free(ids);
	pr_warn("uid %u pid %d: ABORT: removed %zu rule(s) in %.1f ms", peer->uid, (int)peer->pid,
		n, (double)(nc_now_boottime_ns() - t0) / 1e6);
	json_object_object_add(reply, "cleared", arr);
	return reply;
}

static json_object *handle_doctor(struct nc_agent *a, json_object *req, const struct nc_peer *peer)
{
	json_object *reply = nc_reply_ok();

	if (nc_doctor_run(a->dp, a->docker_sock, reply)) {
		json_object_put(reply);
		return nc_reply_error("out of memory");
	}
	return reply;
}

static const struct command commands[] = {
	{ NC_CMD_ABORT, true, handle_abort },
	{ NC_CMD_DOCTOR, false, handle_doctor },
	{ NC_CMD_PING, false, handle_ping },
	{ NC_CMD_ADD, true, handle_add },
	{ NC_CMD_LIST, false, handle_list },
	{ NC_CMD_CHANGE, true, handle_change },
	{ NC_CMD_CLEAR, true, handle_clear },
	{ NC_CMD_STATUS, false, handle_status },
};

json_object *nc_handle_request(json_object *req, const struct nc_peer *peer, void *ctx)
{
	struct nc_agent *a = ctx;
	json_object *cmd_obj;
	const char *cmd;

	if (!json_object_object_get_ex(req, "cmd", &cmd_obj))
		return nc_reply_error("request has no \"cmd\"");
	cmd = json_object_get_string(cmd_obj);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, cmd))
			continue;
		if (commands[i].changes && !peer->may_change) {
			pr_warn("uid %u pid %d: '%s' refused: not root or in the control group",
				peer->uid, (int)peer->pid, cmd);
			return nc_reply_error("permission denied: uid %u may not change faults "
					      "(root or the agent's control group only)",
					      peer->uid);
		}
		return commands[i].handle(a, req, peer);
	}
	{
		char quoted[64];

		return nc_reply_error("unknown command '%s'", quote_back(cmd, quoted, sizeof(quoted)));
	}
}
