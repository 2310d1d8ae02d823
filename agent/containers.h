/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Docker containers as fault targets. A container rule is one user-visible
 * rule made of members, one per container network namespace, each an
 * ordinary rule of faults.c in /proc/PID/ns/net (nc_faults_add_member()).
 * This module resolves names, ids, labels and compose services through the
 * Docker Engine API without blocking the agent (every request is driven by
 * the agent's epoll loop), follows the containers through Docker's event
 * stream (restart: re-applied in the new namespace; removal: the rule ends
 * and says why), and turns partition groups into per-container drop rules
 * whose peers are the other groups' addresses. See docs/design.md,
 * "Containers".
 */
#ifndef NC_CONTAINERS_H
#define NC_CONTAINERS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "faults.h"
#include "netchaos/proto.h"

#define NC_CONTAINERS_ADD_TIMEOUT_MS	5000  /* resolution of one add */
#define NC_CONTAINERS_ENDED_KEEP_MS	60000 /* list shows an ended rule this long */
#define NC_CONTAINERS_RETRY_MS		1000  /* event stream reconnect */

struct nc_containers;

struct nc_containers_config {
	const char *docker_sock; /* NULL: DOCKER_HOST if unix://, else the default */
	int epfd;		 /* the agent's loop */
	struct nc_faults *faults;
};

/* Never fails for want of Docker: it is only contacted when a rule needs it. */
int nc_containers_new(const struct nc_containers_config *cfg, struct nc_containers **out);
/* Ends every container rule (removing its members) and answers adds still
 * resolving with an error. */
void nc_containers_free(struct nc_containers *cs);

/* Does spec name containers (--container, --label, --service, or a group)? */
bool nc_containers_wanted(const struct nc_rule_spec *spec);

/* The reply of an add, owned by the callee. Never called from inside
 * nc_containers_add(). */
typedef void (*nc_containers_done_fn)(json_object *reply, void *arg);

/*
 * Start adding a container rule: resolve every container, then apply all of
 * it or nothing, then done(reply, arg). 0 when started; -errno with err when
 * it cannot start (bad spec, Docker not reachable): done is not called.
 */
int nc_containers_add(struct nc_containers *cs, const struct nc_rule_spec *spec,
		      nc_containers_done_fn done, void *arg, char *err, size_t errlen);

/* Add the rule objects of container rules (live and recently ended) to arr. */
int nc_containers_list(struct nc_containers *cs, json_object *arr);
/* End rule id. -ENOENT if it is not a container rule. */
int nc_containers_clear(struct nc_containers *cs, uint32_t id);
/* Is id a container rule (live or recently ended)? */
bool nc_containers_has(const struct nc_containers *cs, uint32_t id);
/* change for container rule req->id: every running member's kernel rules,
 * all or nothing, and the rule's spec for members re-applied later. On
 * success *rule is the rule object; errors with err. */
int nc_containers_change(struct nc_containers *cs, const struct nc_change_req *req,
			 json_object **rule, char *err, size_t errlen);
/* End every container rule; their ids into ids (up to max). Returns how many. */
size_t nc_containers_clear_all(struct nc_containers *cs, uint32_t *ids, size_t max);
/* Live container rules. */
size_t nc_containers_count(const struct nc_containers *cs);
/* Every agent tick: expiry, timeouts, event stream reconnects. */
void nc_containers_tick(struct nc_containers *cs);

/*
 * Pure part, exported for the unit tests: the kernel rules of one member of a
 * partition. The member is in group `group` of spec (n_groups >= 2);
 * peers[g] are the addresses of group g's members (containers' addresses,
 * the host's, the CIDRs given). Fills out[] with specs carrying at most
 * NC_RULE_MAX_CIDRS peers each, netns and duration left to the caller;
 * *n = 0 when the member has nothing to drop. -E2BIG beyond max specs.
 */
struct nc_peer_set {
	struct nc_cidr *cidrs;
	size_t n;
};
int nc_partition_member_specs(const struct nc_rule_spec *spec, unsigned int group,
			      const struct nc_peer_set *peers, struct nc_rule_spec *out,
			      size_t max, size_t *n);

#endif
