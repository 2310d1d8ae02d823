// SPDX-License-Identifier: GPL-2.0-only
/*
 * The loaded BPF object. The first instance (scope 0, the agent's own network
 * namespace) creates the maps; every other scope loads the same programs again
 * with its scope id in .rodata, reusing the first instance's maps. Also the
 * map writers behind struct nc_map_ops, the heartbeat and counter reads.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath.h"
#include "log.h"
#include "netchaos.skel.h"

struct nc_datapath {
	struct netchaos_bpf *inst[NC_MAX_SCOPES]; /* [0] owns the maps */
	int ncpus;
	struct nc_counters *percpu; /* ncpus entries, scratch for counter I/O */
};

uint64_t nc_now_boottime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int load_instance(struct nc_datapath *dp, uint32_t scope, struct netchaos_bpf **out)
{
	struct netchaos_bpf *skel, *owner = dp->inst[0];
	int err;

	skel = netchaos_bpf__open();
	if (!skel) {
		err = -errno;
		pr_err("cannot open the BPF object: %s", strerror(-err));
		return err;
	}
	skel->rodata->nc_scope_id = scope;
	if (owner) {
		struct bpf_map *shared[] = { skel->maps.nc_match, skel->maps.nc_rules,
					     skel->maps.nc_counters, skel->maps.nc_scopes,
					     skel->maps.nc_ports, skel->maps.nc_global };
		struct bpf_map *theirs[] = { owner->maps.nc_match, owner->maps.nc_rules,
					     owner->maps.nc_counters, owner->maps.nc_scopes,
					     owner->maps.nc_ports, owner->maps.nc_global };

		for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++) {
			err = bpf_map__reuse_fd(shared[i], bpf_map__fd(theirs[i]));
			if (err) {
				pr_err("cannot share map %s: %s", bpf_map__name(shared[i]),
				       strerror(-err));
				goto err_destroy;
			}
		}
	}
	err = netchaos_bpf__load(skel);
	if (err) {
		pr_err("cannot load the BPF programs (scope %u): %s", scope, strerror(-err));
		goto err_destroy;
	}
	*out = skel;
	return 0;

err_destroy:
	netchaos_bpf__destroy(skel);
	return err;
}

int nc_datapath_open(struct nc_datapath **out)
{
	struct nc_datapath *dp;
	int err;

	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		pr_err("this kernel has no BTF (/sys/kernel/btf/vmlinux is missing): "
		       "netchaos needs a kernel built with CONFIG_DEBUG_INFO_BTF=y");
		return -EOPNOTSUPP;
	}
	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return -ENOMEM;
	dp->ncpus = libbpf_num_possible_cpus();
	if (dp->ncpus <= 0) {
		err = dp->ncpus ? dp->ncpus : -EINVAL;
		goto err_free;
	}
	dp->percpu = calloc((size_t)dp->ncpus, sizeof(*dp->percpu));
	if (!dp->percpu) {
		err = -ENOMEM;
		goto err_free;
	}
	err = load_instance(dp, 0, &dp->inst[0]);
	if (err)
		goto err_free;
	*out = dp;
	return 0;

err_free:
	free(dp->percpu);
	free(dp);
	return err;
}

void nc_datapath_close(struct nc_datapath *dp)
{
	if (!dp)
		return;
	/* Scopes first: they only borrow the maps of instance 0. */
	for (int i = NC_MAX_SCOPES - 1; i >= 0; i--)
		netchaos_bpf__destroy(dp->inst[i]);
	free(dp->percpu);
	free(dp);
}

int nc_datapath_scope_progs(struct nc_datapath *dp, uint32_t scope, int *egress_fd,
			    int *ingress_fd)
{
	int err;

	if (scope >= NC_MAX_SCOPES)
		return -EINVAL;
	if (!dp->inst[scope]) {
		err = load_instance(dp, scope, &dp->inst[scope]);
		if (err)
			return err;
	}
	*egress_fd = bpf_program__fd(dp->inst[scope]->progs.nc_tc_egress);
	*ingress_fd = bpf_program__fd(dp->inst[scope]->progs.nc_tc_ingress);
	return 0;
}

void nc_datapath_scope_release(struct nc_datapath *dp, uint32_t scope)
{
	/* Scope 0 owns the maps and stays for the agent's lifetime. */
	if (scope == 0 || scope >= NC_MAX_SCOPES)
		return;
	netchaos_bpf__destroy(dp->inst[scope]);
	dp->inst[scope] = NULL;
}

static int update(int fd, const void *key, const void *val)
{
	return bpf_map_update_elem(fd, key, val, BPF_ANY) ? -errno : 0;
}

static int dp_match_update(void *ctx, const struct nc_match_key *key,
			   const struct nc_match_val *val)
{
	struct nc_datapath *dp = ctx;

	return update(bpf_map__fd(dp->inst[0]->maps.nc_match), key, val);
}

static int dp_match_delete(void *ctx, const struct nc_match_key *key)
{
	struct nc_datapath *dp = ctx;
	int fd = bpf_map__fd(dp->inst[0]->maps.nc_match);

	if (bpf_map_delete_elem(fd, key) && errno != ENOENT)
		return -errno;
	return 0;
}

static int dp_rule_update(void *ctx, uint32_t slot, const struct nc_rule *rule)
{
	struct nc_datapath *dp = ctx;

	return update(bpf_map__fd(dp->inst[0]->maps.nc_rules), &slot, rule);
}

static int dp_rule_clear(void *ctx, uint32_t slot)
{
	struct nc_datapath *dp = ctx;
	struct nc_rule empty = { 0 };
	int err;

	err = update(bpf_map__fd(dp->inst[0]->maps.nc_rules), &slot, &empty);
	if (err)
		return err;
	memset(dp->percpu, 0, (size_t)dp->ncpus * sizeof(*dp->percpu));
	return update(bpf_map__fd(dp->inst[0]->maps.nc_counters), &slot, dp->percpu);
}

static int dp_scope_update(void *ctx, uint32_t scope, const struct nc_scope *val)
{
	struct nc_datapath *dp = ctx;

	return update(bpf_map__fd(dp->inst[0]->maps.nc_scopes), &scope, val);
}

static int dp_ports_update(void *ctx, uint32_t word, uint64_t bits)
{
	struct nc_datapath *dp = ctx;

	return update(bpf_map__fd(dp->inst[0]->maps.nc_ports), &word, &bits);
}

const struct nc_map_ops nc_datapath_map_ops = {
	.match_update = dp_match_update,
	.match_delete = dp_match_delete,
	.rule_update = dp_rule_update,
	.rule_clear = dp_rule_clear,
	.scope_update = dp_scope_update,
	.ports_update = dp_ports_update,
};

int nc_datapath_heartbeat(struct nc_datapath *dp, const struct nc_global *settings)
{
	struct nc_global g = *settings;
	uint32_t zero = 0;

	g.heartbeat_ns = nc_now_boottime_ns();
	return update(bpf_map__fd(dp->inst[0]->maps.nc_global), &zero, &g);
}

int nc_datapath_read_counters(struct nc_datapath *dp, uint32_t slot, struct nc_counters *sum)
{
	int fd = bpf_map__fd(dp->inst[0]->maps.nc_counters);

	if (bpf_map_lookup_elem(fd, &slot, dp->percpu))
		return -errno;
	memset(sum, 0, sizeof(*sum));
	for (int i = 0; i < dp->ncpus; i++) {
		sum->matched += dp->percpu[i].matched;
		sum->affected += dp->percpu[i].affected;
	}
	return 0;
}
