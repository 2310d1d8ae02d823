/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Faults: the agent's live rules and everything they need in the kernel.
 * Resolves a spec's namespace and interfaces, attaches the classifier where
 * needed, inserts the rule, and undoes all of it on clear, expiry or exit.
 * Every add is all-or-nothing.
 */
#ifndef NC_FAULTS_H
#define NC_FAULTS_H

#include <stddef.h>
#include <stdint.h>

#include "datapath.h"
#include "netchaos/proto.h"

#define NC_FAULT_IFACES_STR 512

struct nc_faults;

struct nc_faults_limits {
	uint32_t max_rules;	  /* concurrent rules */
	uint64_t max_duration_ms; /* longest duration accepted */
	uint16_t protected_ports[NC_PROTECTED_PORTS]; /* refused without --force */
};

struct nc_fault_info {
	uint32_t id;
	struct nc_rule_spec spec;
	uint64_t remaining_ms;
	struct nc_counters counters;
	char interfaces[NC_FAULT_IFACES_STR]; /* "lo,veth0" */
	size_t entries;			      /* match entries in the kernel */
};

int nc_faults_new(struct nc_datapath *dp, const struct nc_faults_limits *limits,
		  struct nc_faults **out);
/* Keep a record of the namespaces in use in this file (see state.h). */
void nc_faults_set_state_file(struct nc_faults *f, const char *path);
/* Removes every rule and attachment, then frees. */
void nc_faults_free(struct nc_faults *f);

/* Apply spec. On success *info describes the new rule. With spec->dry_run,
 * resolves everything, fills *info (id 0) and changes nothing. */
int nc_faults_add(struct nc_faults *f, const struct nc_rule_spec *spec,
		  struct nc_fault_info *info, char *err, size_t errlen);
/*
 * Members: kernel rules that make up a rule of another module (containers.c:
 * one member per container namespace). A member is an ordinary rule in its
 * scope with an id of its own (from NC_FAULT_MEMBER_ID_BASE up, never shown
 * to users), owned by the user-visible id `owner` (from nc_faults_new_id()).
 * Members are not listed, not counted by nc_faults_count(), and do not
 * expire here: the owner removes them (nc_faults_remove()). The kernel still
 * ends each at its own expiry. nc_faults_remove_all() removes them too.
 */
#define NC_FAULT_MEMBER_ID_BASE 0x80000000u
int nc_faults_add_member(struct nc_faults *f, const struct nc_rule_spec *spec, uint32_t owner,
			 struct nc_fault_info *info, char *err, size_t errlen);
/* A user-visible rule id for a rule made of members. */
uint32_t nc_faults_new_id(struct nc_faults *f);
/* A snapshot of one rule or member. -ENOENT if none. */
int nc_faults_get(struct nc_faults *f, uint32_t id, struct nc_fault_info *info);
/*
 * New fault parameters for rule or member id (see struct nc_change_req): the
 * kind and the target stay; req->duration_ms, if given, ends it that long
 * from now. In place: its netem qdiscs are changed, not rebuilt (queued
 * packets stay, other traffic sees nothing), and its kernel rule rewritten.
 * All or nothing. With req->dry_run, checks and fills *info only.
 */
int nc_faults_change(struct nc_faults *f, uint32_t id, const struct nc_change_req *req,
		     struct nc_fault_info *info, char *err, size_t errlen);
/* -EINVAL and a reason if a rule may not last ms (--max-duration). */
int nc_faults_check_duration(const struct nc_faults *f, uint64_t ms, char *err, size_t errlen);
/* -ENOENT if no such rule. */
int nc_faults_remove(struct nc_faults *f, uint32_t id, const char *why);
/* Remove everything, members too; returns how many rules (not members)
 * were removed, their ids in ids. */
size_t nc_faults_remove_all(struct nc_faults *f, uint32_t *ids, size_t max_ids);
/* Snapshot of live rules (not members), ordered by id; *infos is malloc'ed. */
int nc_faults_list(struct nc_faults *f, struct nc_fault_info **infos, size_t *count);
/* Remove rules whose time is up; returns milliseconds until the next expiry
 * (UINT64_MAX if none). */
uint64_t nc_faults_expire(struct nc_faults *f);
size_t nc_faults_count(const struct nc_faults *f);

#endif
