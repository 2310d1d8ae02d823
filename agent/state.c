// SPDX-License-Identifier: GPL-2.0-only
/*
 * Leftovers of a dead agent: the record of namespaces touched, and the sweep
 * a starting agent makes through them. A filter of ours is only removed when
 * the agent that owns it is dead: its program's nc_global heartbeat is stale.
 * So two agents on one host (a test agent beside the real one) never remove
 * each other's faults.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "attach.h"
#include "datapath.h"
#include "links.h"
#include "log.h"
#include "netchaos/maps.h"
#include "netns.h"
#include "qdisc.h"
#include "state.h"

#define ALIVE_NS (500ull * 1000 * 1000) /* heartbeat is every 100 ms */

int nc_state_save(const char *file, const char *const *netns, size_t n)
{
	json_object *root = json_object_new_object(), *arr = json_object_new_array();
	char tmp[4096];
	FILE *f;
	int err = 0;

	if (!root || !arr) {
		json_object_put(root);
		json_object_put(arr);
		return -ENOMEM;
	}
	json_object_object_add(root, "v", json_object_new_int(1));
	json_object_object_add(root, "pid", json_object_new_int(getpid()));
	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, json_object_new_string(netns[i]));
	json_object_object_add(root, "netns", arr);

	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	f = fopen(tmp, "we");
	if (!f) {
		err = -errno;
		goto out;
	}
	fprintf(f, "%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
	if (fclose(f) || rename(tmp, file)) {
		err = -errno;
		unlink(tmp);
	}
out:
	json_object_put(root);
	if (err)
		pr_warn("cannot record state in %s: %s", file, strerror(-err));
	return err;
}

/* Up to max ids of our programs on ifindex: the tc filters at our
 * handle/priority and the tcx programs named NC_TC_PROG_PREFIX*. */
static size_t our_progs(int ifindex, __u32 *ids, size_t max)
{
	static const enum bpf_tc_attach_point points[] = { BPF_TC_EGRESS, BPF_TC_INGRESS };
	static const int tcx[] = { NC_BPF_TCX_EGRESS, NC_BPF_TCX_INGRESS };
	size_t n = 0;

	for (size_t i = 0; i < 2 && n < max; i++) {
		DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = points[i]);
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = NC_TC_HANDLE,
				    .priority = NC_TC_PRIORITY);

		if (!bpf_tc_query(&hook, &opts))
			ids[n++] = opts.prog_id;
	}
	for (size_t i = 0; i < 2; i++) {
		__u32 qids[16] = { 0 }, cnt = 16, flags = 0;

		if (bpf_prog_query(ifindex, tcx[i], 0, &flags, qids, &cnt))
			continue; /* no tcx in this kernel */
		for (__u32 k = 0; k < cnt && k < 16 && n < max; k++) {
			struct bpf_prog_info info = { 0 };
			__u32 len = sizeof(info);
			int fd = bpf_prog_get_fd_by_id(qids[k]);

			if (fd < 0)
				continue;
			if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
			    !strncmp(info.name, NC_TC_PROG_PREFIX, strlen(NC_TC_PROG_PREFIX)))
				ids[n++] = qids[k];
			close(fd);
		}
	}
	return n;
}

/* The heartbeat in the nc_global map of program prog_id, or 0. */
static uint64_t owner_heartbeat(__u32 prog_id, __u32 *map_id)
{
	struct bpf_prog_info info = { 0 };
	__u32 map_ids[16] = { 0 }, len = sizeof(info);
	uint64_t heartbeat = 0;
	int prog_fd;

	prog_fd = bpf_prog_get_fd_by_id(prog_id);
	if (prog_fd < 0)
		return 0;
	info.nr_map_ids = sizeof(map_ids) / sizeof(map_ids[0]);
	info.map_ids = (__u64)(unsigned long)map_ids;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		goto out;
	for (__u32 i = 0; i < info.nr_map_ids && i < 16; i++) {
		struct bpf_map_info minfo = { 0 };
		__u32 mlen = sizeof(minfo), zero = 0;
		struct nc_global g;
		int map_fd = bpf_map_get_fd_by_id(map_ids[i]);

		if (map_fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(map_fd, &minfo, &mlen) &&
		    !strcmp(minfo.name, "nc_global") && !bpf_map_lookup_elem(map_fd, &zero, &g)) {
			heartbeat = g.heartbeat_ns;
			*map_id = map_ids[i];
		}
		close(map_fd);
	}
out:
	close(prog_fd);
	return heartbeat;
}

/* Verdicts per owning agent (its nc_global map), so a sweep waits at most
 * once per agent, not once per interface. */
struct owner_cache {
	__u32 map_id[32];
	bool alive[32];
	size_t n;
};

/* A live agent beats every 100 ms. A recent beat may still be the last one
 * of an agent that just died (a supervisor restarting it at once), so wait
 * until it is ALIVE_NS old and see whether it moved. */
static bool owner_alive(const __u32 *progs, size_t n_progs, struct owner_cache *cache)
{
	for (size_t i = 0; i < n_progs; i++) {
		__u32 map_id = 0;
		uint64_t hb = owner_heartbeat(progs[i], &map_id);
		uint64_t now = nc_now_boottime_ns();
		bool alive = false;
		size_t k;

		if (!hb)
			continue;
		for (k = 0; k < cache->n; k++)
			if (cache->map_id[k] == map_id)
				break;
		if (k < cache->n) {
			alive = cache->alive[k];
		} else {
			if (now - hb < ALIVE_NS) {
				__u32 again;

				usleep((useconds_t)((hb + ALIVE_NS - now) / 1000 + 50000));
				alive = owner_heartbeat(progs[i], &again) != hb;
			}
			if (cache->n < 32) {
				cache->map_id[cache->n] = map_id;
				cache->alive[cache->n++] = alive;
			}
		}
		if (alive)
			return true;
	}
	return false;
}

/* Inside one namespace: sweep every interface. */
static int sweep_current(const char *nsname, struct owner_cache *cache)
{
	struct nc_link *links;
	size_t n;
	int cleaned = 0, err;

	err = nc_links_list(&links, &n);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		const struct nc_link *l = &links[i];
		__u32 progs[8];
		size_t n_progs;
		bool ours = false;
		int q;

		/* Our IFB devices are handled through the interface they serve. */
		if (!strncmp(l->name, NC_QDISC_IFB_PREFIX, strlen(NC_QDISC_IFB_PREFIX)))
			continue;
		if (nc_attach_find_stale(l->ifindex, &ours))
			continue;
		/* tc filters of a dead agent stay; tcx links die with it, so a
		 * tcx program of ours belongs to a running (maybe hung) agent */
		n_progs = our_progs(l->ifindex, progs, sizeof(progs) / sizeof(progs[0]));
		if (n_progs && owner_alive(progs, n_progs, cache)) {
			pr_info("%s/%s carries the classifier of another live agent: left alone",
				nsname, l->name);
			continue;
		}
		/* A live agent keeps its classifier wherever it has netem classes,
		 * so a netem tree without a live classifier is a dead agent's. */
		q = nc_qdisc_cleanup_stale(l->ifindex, l->name);
		if (q > 0)
			cleaned++;
		if (!ours)
			continue;
		err = nc_attach_remove_stale(l->ifindex, l->name);
		if (err) {
			pr_warn("cannot remove a previous agent's classifier from %s/%s: %s",
				nsname, l->name, strerror(-err));
			continue;
		}
		pr_info("removed a previous agent's classifier from %s/%s", nsname, l->name);
		if (q <= 0)
			cleaned++;
	}
	free(links);
	return cleaned;
}

static int sweep(const char *name_or_path, struct owner_cache *cache)
{
	struct nc_netns ns;
	char err[256];
	int saved, ret;

	if (nc_netns_open(name_or_path, &ns, err, sizeof(err))) {
		pr_debug("state: %s", err);
		return 0;
	}
	ret = nc_netns_enter(&ns, &saved);
	if (!ret) {
		ret = sweep_current(name_or_path[0] ? name_or_path : "host", cache);
		nc_netns_leave(saved);
	}
	nc_netns_close(&ns);
	return ret < 0 ? 0 : ret;
}

int nc_state_cleanup(const char *file)
{
	json_object *root = NULL, *arr;
	struct owner_cache cache = { .n = 0 };
	struct dirent *de;
	int total;
	DIR *d;

	/* Our own namespace first, then every named one, then the record. */
	total = sweep("", &cache);
	d = opendir("/run/netns");
	while (d && (de = readdir(d))) {
		if (de->d_name[0] != '.')
			total += sweep(de->d_name, &cache);
	}
	if (d)
		closedir(d);
	if (!access(file, R_OK))
		root = json_object_from_file(file);
	if (root && json_object_object_get_ex(root, "netns", &arr) &&
	    json_object_is_type(arr, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			const char *p = json_object_get_string(json_object_array_get_idx(arr, i));

			/* Named ones were swept above. */
			if (p && strchr(p, '/'))
				total += sweep(p, &cache);
		}
	}
	json_object_put(root);
	if (total)
		pr_info("cleaned up after a previous agent: %d interface(s)", total);
	return total;
}
