/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Rule table: turns fault specs into datapath map contents, with no kernel
 * in sight (the maps are written through struct nc_map_ops, so unit tests
 * pass fakes).
 *
 * It owns: rule slot allocation; the expansion of a spec into LPM match
 * entries (proto x port key x CIDR); the folding that makes the LPM correct
 * when entries overlap (an entry's value lists every live rule of its group
 * whose CIDR covers the entry's prefix, so longest-prefix match never hides
 * a broader rule); the per-scope lookup pattern bits; and the per-scope port
 * bitmaps (nc_ports: set before a port's first entry is written, cleared
 * after its last one is gone).
 *
 * Expansion policy: a port range of at most NC_EXPAND_PORTS_MAX ports becomes
 * exact-port keys; a wider one is keyed as "any port" and left to the rule's
 * post-check, which always carries every port spec. The key's port dimension
 * is the first narrow spec in the order EITHER (entered under SRC and DST
 * keys, flagged NC_RF_KEY_EITHER), DST, SRC.
 *
 * Every insert/remove is all-or-nothing: on error the maps hold what they
 * held before.
 */
#ifndef NC_RULE_TABLE_H
#define NC_RULE_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "netchaos/maps.h"
#include "netchaos/proto.h"

#define NC_EXPAND_PORTS_MAX	64
#define NC_RULE_MAX_ENTRIES	65536 /* match entries one rule may create */

struct nc_map_ops {
	int (*match_update)(void *ctx, const struct nc_match_key *key,
			    const struct nc_match_val *val);
	int (*match_delete)(void *ctx, const struct nc_match_key *key);
	int (*rule_update)(void *ctx, uint32_t slot, const struct nc_rule *rule);
	int (*rule_clear)(void *ctx, uint32_t slot); /* slot free, counters zeroed */
	int (*scope_update)(void *ctx, uint32_t scope, const struct nc_scope *scope_val);
	/* nc_ports[word] = bits (NC_PORT_WORD() numbering) */
	int (*ports_update)(void *ctx, uint32_t word, uint64_t bits);
};

struct nc_rule_table;

int nc_rule_table_new(const struct nc_map_ops *ops, void *ctx, struct nc_rule_table **out);
void nc_rule_table_free(struct nc_rule_table *t);

/*
 * Fill the datapath value of a rule from its spec (action, prob, direction,
 * proto mask, port post-checks, flags). The caller sets id, expires_ns and
 * the resolved interfaces (ifindex, n_ifindex), and classid for STEER.
 */
int nc_rule_from_spec(const struct nc_rule_spec *spec, struct nc_rule *out);

/* Number of match entries the spec expands to (for dry runs and limits). */
int nc_rule_table_count_entries(const struct nc_rule_spec *spec, size_t *count);

/* Insert a rule in `scope`: allocates a slot, writes the rule, its match
 * entries (folded) and the scope's patterns. -ENOSPC when slots run out (or
 * nc_match would exceed NC_MAX_MATCH_ENTRIES), -E2BIG when the spec expands
 * beyond NC_RULE_MAX_ENTRIES or an entry would stack more than NC_STACK_MAX
 * rules, -EINVAL for a bad scope or spec, or a callback's error. */
int nc_rule_table_insert(struct nc_rule_table *t, uint32_t scope, const struct nc_rule *rule,
			 const struct nc_rule_spec *spec, uint32_t *slot_out);

/* Remove the rule in `slot` and every trace of it in the maps. */
int nc_rule_table_remove(struct nc_rule_table *t, uint32_t slot);

/* Rewrite the value of the rule in `slot` in place (`change`): its keys stay,
 * so what decides them must stay too. -ENOENT for a free slot, -EINVAL if
 * rule differs from the slot's in scope-relevant fields (direction, protocols,
 * ports, interfaces), or the callback's error (the maps are then as before). */
int nc_rule_table_update(struct nc_rule_table *t, uint32_t slot, const struct nc_rule *rule);

size_t nc_rule_table_live(const struct nc_rule_table *t);

/* Match entries the table holds (what nc_match holds between calls). */
size_t nc_rule_table_match_entries(const struct nc_rule_table *t);

/* The rule in a live slot as written to nc_rules (the table sets or clears
 * NC_RF_KEY_EITHER to match its keys), or NULL. */
const struct nc_rule *nc_rule_table_rule(const struct nc_rule_table *t, uint32_t slot);

#endif
