/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The datapath's maps, nothing else. Keys and values come from
 * include/netchaos/maps.h; the names are what the agent finds in the
 * skeleton. Every map but the counters is written only by the agent, so the
 * programs get them read-only (BPF_F_RDONLY_PROG): a datapath bug cannot
 * rewrite rules.
 */
#ifndef NC_MAPS_BPF_H
#define NC_MAPS_BPF_H

#include "nc_defs.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_RDONLY_PROG);
	__uint(max_entries, NC_MAX_MATCH_ENTRIES);
	__type(key, struct nc_match_key);
	__type(value, struct nc_match_val);
} nc_match SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_RDONLY_PROG);
	__uint(max_entries, NC_MAX_RULES);
	__type(key, __u32);
	__type(value, struct nc_rule);
} nc_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NC_MAX_RULES);
	__type(key, __u32);
	__type(value, struct nc_counters);
} nc_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_RDONLY_PROG);
	__uint(max_entries, NC_MAX_SCOPES);
	__type(key, __u32);
	__type(value, struct nc_scope);
} nc_scopes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_RDONLY_PROG);
	__uint(max_entries, NC_PORT_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} nc_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_RDONLY_PROG);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nc_global);
} nc_global SEC(".maps");

#endif /* NC_MAPS_BPF_H */
